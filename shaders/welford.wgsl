// Welford's running statistics per subpixel, for one tile of the sensor and a batch of frames.
//
// Each invocation owns four consecutive subpixels (one vec4 of state). `batch` holds `frames`
// frames of this tile, each `stride_words` words long, samples packed little-endian: four 8-bit
// samples per word, or two 16-bit samples per word. The state (`n`, `mean`, `m2`) is read once,
// updated for every frame of the batch in order, and written back once. The state arrays are
// padded to a multiple of four subpixels; the padding lanes are never read back.

struct Params {
    len: u32,          // subpixels in this tile
    frames: u32,       // frames in this batch
    stride_words: u32, // words between one frame's samples and the next's
    bits: u32,         // 8 or 16
    row_threads: u32,  // invocations per dispatch row (workgroups in x * workgroup size)
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> batch: array<u32>;
@group(0) @binding(2) var<storage, read_write> n: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> mean: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> m2: array<vec4<f32>>;

// Samples 4q .. 4q+3 of frame `frame`.
fn samples(frame: u32, q: u32) -> vec4<f32> {
    let base = frame * p.stride_words;
    if (p.bits == 8u) {
        let w = batch[base + q];
        return vec4<f32>(vec4<u32>(
            extractBits(w, 0u, 8u),
            extractBits(w, 8u, 8u),
            extractBits(w, 16u, 8u),
            extractBits(w, 24u, 8u),
        ));
    }
    let w0 = batch[base + 2u * q];
    let w1 = batch[base + 2u * q + 1u];
    return vec4<f32>(vec4<u32>(
        extractBits(w0, 0u, 16u),
        extractBits(w0, 16u, 16u),
        extractBits(w1, 0u, 16u),
        extractBits(w1, 16u, 16u),
    ));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let q = gid.x + gid.y * p.row_threads;
    if (q * 4u >= p.len) {
        return;
    }
    var count = n[q];
    var mu = mean[q];
    var s = m2[q];
    for (var f = 0u; f < p.frames; f = f + 1u) {
        let x = samples(f, q);
        count = count + vec4<u32>(1u);
        let d = x - mu;
        mu = mu + d * (vec4<f32>(1.0) / vec4<f32>(count));
        s = s + d * (x - mu);
    }
    n[q] = count;
    mean[q] = mu;
    m2[q] = s;
}
