// Welford's running statistics per subpixel, for one tile of the sensor and a batch of frames.
//
// `batch` holds `frames` frames of this tile, each `stride_words` words long, samples packed
// little-endian: four 8-bit or two 16-bit samples per word. The state (`n`, `mean`, `m2`) is
// read once, updated for every frame of the batch in order, and written back once.

struct Params {
    len: u32,          // subpixels in this tile
    frames: u32,       // frames in this batch
    stride_words: u32, // words between one frame's samples and the next's
    bits: u32,         // 8 or 16
    row_threads: u32,  // threads per dispatch row (workgroups in x * workgroup size)
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> batch: array<u32>;
@group(0) @binding(2) var<storage, read_write> n: array<u32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;

fn sample(frame: u32, i: u32) -> f32 {
    let base = frame * p.stride_words;
    if (p.bits == 8u) {
        let word = batch[base + (i >> 2u)];
        return f32(extractBits(word, (i & 3u) * 8u, 8u));
    }
    let word = batch[base + (i >> 1u)];
    return f32(extractBits(word, (i & 1u) * 16u, 16u));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * p.row_threads;
    if (i >= p.len) {
        return;
    }
    var count = n[i];
    var mu = mean[i];
    var s = m2[i];
    for (var f = 0u; f < p.frames; f = f + 1u) {
        let x = sample(f, i);
        count = count + 1u;
        let d = x - mu;
        mu = mu + d * (1.0 / f32(count));
        s = s + d * (x - mu);
    }
    n[i] = count;
    mean[i] = mu;
    m2[i] = s;
}
