// Welford's running statistics per subpixel, for one tile of the sensor and a batch of frames:
// of each subpixel's value, and of its residual against its same-channel neighbours.
//
// NEIGHBOUR_DISTANCE, WORKGROUP_SIZE and SUBPIXELS_PER_INVOCATION are defined by the Rust code
// that loads this file (src/stats/gpu/accumulator.rs, `shader_source`), which prepends them.
//
// A tile is a band of whole rows. `batch` holds `frames` frames of the band plus a halo of up to
// NEIGHBOUR_DISTANCE rows above and below (`halo_row` is the first row uploaded), each
// `stride_words` words long, samples packed little-endian: four 8-bit samples per word, or two
// 16-bit samples per word.
//
// The residual is `x - median(left, right, up, down)`, the four same-channel neighbours at
// NEIGHBOUR_DISTANCE (mirrored at the frame's borders), the median of four being the mean of the
// middle two. Each invocation owns SUBPIXELS_PER_INVOCATION consecutive subpixels (one vec4 of each
// state array); the state is read once, updated for every frame of the batch in order, and written
// back once. The state arrays are padded to whole vec4s; the padding lanes are never read back.
// Every subpixel has seen `count` frames before this batch.

struct Params {
    len: u32,          // subpixels in this tile
    frames: u32,       // frames in this batch
    count: u32,        // frames every subpixel saw before this batch
    stride_words: u32, // words between one frame's samples and the next's
    bits: u32,         // 8 or 16
    row_threads: u32,  // invocations per dispatch row (workgroups in x * workgroup size)
    width: u32,        // frame width in pixels
    height: u32,       // frame height in rows
    channels: u32,     // interleaved channels
    first_row: u32,    // the tile's first row in the frame
    halo_row: u32,     // the first row uploaded (first_row minus the halo above)
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> batch: array<u32>;
@group(0) @binding(2) var<storage, read_write> mean: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> m2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> res_mean: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> res_m2: array<vec4<f32>>;

// Sample `idx` (counted from the first uploaded row) of frame `frame`.
fn sample(frame: u32, idx: u32) -> f32 {
    let base = frame * p.stride_words;
    if (p.bits == 8u) {
        return f32(extractBits(batch[base + idx / 4u], (idx % 4u) * 8u, 8u));
    }
    return f32(extractBits(batch[base + idx / 2u], (idx % 2u) * 16u, 16u));
}

// `v` mirrored into 0..n-1, then clamped for tiny frames.
fn reflect(v: i32, n: u32) -> u32 {
    let last = i32(n) - 1;
    var r = v;
    if (r < 0) {
        r = -r;
    } else if (r > last) {
        r = 2 * last - r;
    }
    return u32(clamp(r, 0, last));
}

// Upload-relative indices of a subpixel (x) and its four neighbours (l, r, u, b).
struct Taps {
    x: u32,
    l: u32,
    r: u32,
    u: u32,
    b: u32,
}

fn taps(i: u32) -> Taps {
    var t: Taps;
    if (i >= p.len) {
        return t; // padding lane: reads sample 0, never read back
    }
    let row = p.width * p.channels;
    let y = p.first_row + i / row;
    let rem = i % row;
    let x = rem / p.channels;
    let c = rem % p.channels;
    let xl = reflect(i32(x) - NEIGHBOUR_DISTANCE, p.width);
    let xr = reflect(i32(x) + NEIGHBOUR_DISTANCE, p.width);
    let yu = reflect(i32(y) - NEIGHBOUR_DISTANCE, p.height);
    let yb = reflect(i32(y) + NEIGHBOUR_DISTANCE, p.height);
    let ly = (y - p.halo_row) * row;
    t.x = ly + x * p.channels + c;
    t.l = ly + xl * p.channels + c;
    t.r = ly + xr * p.channels + c;
    t.u = (yu - p.halo_row) * row + x * p.channels + c;
    t.b = (yb - p.halo_row) * row + x * p.channels + c;
    return t;
}

fn median4(a: f32, b: f32, c: f32, d: f32) -> f32 {
    let sum = a + b + c + d;
    let lo = min(min(a, b), min(c, d));
    let hi = max(max(a, b), max(c, d));
    return (sum - lo - hi) * 0.5;
}

fn value(f: u32, t: Taps) -> f32 {
    return sample(f, t.x);
}

fn residual(f: u32, t: Taps) -> f32 {
    let x = sample(f, t.x);
    return x - median4(sample(f, t.l), sample(f, t.r), sample(f, t.u), sample(f, t.b));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let q = gid.x + gid.y * p.row_threads;
    let first = SUBPIXELS_PER_INVOCATION * q;
    if (first >= p.len) {
        return;
    }
    let t0 = taps(first);
    let t1 = taps(first + 1u);
    let t2 = taps(first + 2u);
    let t3 = taps(first + 3u);
    var mu = mean[q];
    var s = m2[q];
    var rmu = res_mean[q];
    var rs = res_m2[q];
    for (var f = 0u; f < p.frames; f = f + 1u) {
        let x = vec4<f32>(value(f, t0), value(f, t1), value(f, t2), value(f, t3));
        let r = vec4<f32>(residual(f, t0), residual(f, t1), residual(f, t2), residual(f, t3));
        let inv = vec4<f32>(1.0 / f32(p.count + f + 1u));
        let d = x - mu;
        mu = mu + d * inv;
        s = s + d * (x - mu);
        let dr = r - rmu;
        rmu = rmu + dr * inv;
        rs = rs + dr * (r - rmu);
    }
    mean[q] = mu;
    m2[q] = s;
    res_mean[q] = rmu;
    res_m2[q] = rs;
}
