// Welford's running statistics per subpixel, for one tile of the sensor and a batch of frames:
// of each subpixel's value, and of its residual against its same-channel neighbours. The batch
// arithmetic is that of src/stats/batch.rs, line for line, so both backends give the same numbers.
//
// NEIGHBOUR_DISTANCE, WORKGROUP_SIZE, SUBPIXELS_PER_INVOCATION, HIGH_WORD (2^32) and
// RESIDUAL_SCALE (the doubled residual's scale, 1/2) are defined by the Rust code that loads this
// file (src/stats/gpu/accumulator.rs, `shader_source`), which prepends them.
//
// A tile is a band of whole rows. `batch` holds `frames` frames of the band plus a halo of up to
// NEIGHBOUR_DISTANCE rows above and below (`halo_row` is the first row uploaded), each
// `stride_words` words long, samples packed little-endian: four 8-bit samples per word, or two
// 16-bit samples per word.
//
// The two series are the value `x` and twice the residual, `2x - (left + right + up + down -
// lowest - highest)`: twice `x` minus the median of the four same-channel neighbours at
// NEIGHBOUR_DISTANCE (mirrored at the frame's borders), an integer. Each invocation owns
// SUBPIXELS_PER_INVOCATION consecutive subpixels (one vec4 of each state array). Over the batch it
// sums, exactly in integers, `d = v - k` and `d * d` for each series, `k` being the series' value in
// the batch's first frame (the squares in two 32-bit words); then it folds the sums into the
// state once with Chan et al.'s formula, and adds to `below` the batch's frames in which the
// residual is negative (the subpixel read below its neighbours). The state arrays are padded to
// whole vec4s; the padding lanes are never read back. Every subpixel has seen `count` frames
// before this batch.

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
    shifted: u32,      // 1: the value means are kept relative to `shift` (16-bit frames)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> batch: array<u32>;
@group(0) @binding(2) var<storage, read_write> mean: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> m2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> res_mean: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> res_m2: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> below: array<vec4<f32>>;
// Each subpixel's value in the first frame, which its value mean is kept relative to when
// `shifted` (`value_shift` of src/stats/batch.rs); set by the first batch.
@group(0) @binding(15) var<storage, read_write> shift: array<vec4<f32>>;

// Sample `idx` (counted from the first uploaded row) of frame `frame`.
fn sample(frame: u32, idx: u32) -> i32 {
    let base = frame * p.stride_words;
    if (p.bits == 8u) {
        return i32(extractBits(batch[base + idx / 4u], (idx % 4u) * 8u, 8u));
    }
    return i32(extractBits(batch[base + idx / 2u], (idx % 2u) * 16u, 16u));
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

fn doubled_residual(x: i32, l: i32, r: i32, u: i32, b: i32) -> i32 {
    let lo = min(min(l, r), min(u, b));
    let hi = max(max(l, r), max(u, b));
    return 2 * x - (l + r + u + b - lo - hi);
}

// The value and the doubled residual of four subpixels in frame `f`.
struct Series {
    x: vec4<i32>,
    r: vec4<i32>,
}

fn series(f: u32, t0: Taps, t1: Taps, t2: Taps, t3: Taps) -> Series {
    var s: Series;
    s.x = vec4<i32>(sample(f, t0.x), sample(f, t1.x), sample(f, t2.x), sample(f, t3.x));
    s.r = vec4<i32>(
        doubled_residual(s.x.x, sample(f, t0.l), sample(f, t0.r), sample(f, t0.u), sample(f, t0.b)),
        doubled_residual(s.x.y, sample(f, t1.l), sample(f, t1.r), sample(f, t1.u), sample(f, t1.b)),
        doubled_residual(s.x.z, sample(f, t2.l), sample(f, t2.r), sample(f, t2.u), sample(f, t2.b)),
        doubled_residual(s.x.w, sample(f, t3.l), sample(f, t3.r), sample(f, t3.u), sample(f, t3.b)),
    );
    return s;
}

// A sum of squares in two 32-bit words per lane.
struct Wide {
    hi: vec4<u32>,
    lo: vec4<u32>,
}

// `acc + d * d`, exact: with |d| = a * 2^16 + b, d * d = a * a * 2^32 + a * b * 2^17 + b * b.
fn add_square(acc: Wide, d: vec4<i32>) -> Wide {
    let u = vec4<u32>(abs(d));
    let a = u >> vec4<u32>(16u);
    let b = u & vec4<u32>(0xffffu);
    let cross = a * b;
    let low = b * b;
    let mid = cross << vec4<u32>(17u);
    let lo = acc.lo + low;
    let lo2 = lo + mid;
    let one = vec4<u32>(1u);
    let zero = vec4<u32>(0u);
    var w: Wide;
    w.hi = acc.hi + a * a + (cross >> vec4<u32>(15u)) + select(zero, one, lo < low)
        + select(zero, one, lo2 < mid);
    w.lo = lo2;
    return w;
}

// `wide_to_f32` of src/stats/batch.rs.
fn wide_to_f32(w: Wide) -> vec4<f32> {
    return vec4<f32>(w.hi) * HIGH_WORD + vec4<f32>(w.lo);
}

// Running mean and M2 of four subpixels.
struct Moments {
    mean: vec4<f32>,
    m2: vec4<f32>,
}

// `Fold::apply` of src/stats/batch.rs.
fn fold(m: Moments, shift: vec4<i32>, sum_i: vec4<i32>, squares: vec4<f32>, scale: f32) -> Moments {
    let frames = f32(p.frames);
    let inv_batch = 1.0 / f32(p.frames);
    let weight = f32(p.frames) / f32(p.count + p.frames);
    let sum = vec4<f32>(sum_i);
    let batch_mean = (vec4<f32>(shift) + sum * inv_batch) * scale;
    let batch_m2 = max(squares - sum * sum * inv_batch, vec4<f32>(0.0)) * (scale * scale);
    let delta = batch_mean - m.mean;
    var out: Moments;
    out.mean = m.mean + delta * weight;
    out.m2 = m.m2 + (batch_m2 + delta * (batch_mean - out.mean) * frames);
    return out;
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
    let k = series(0u, t0, t1, t2, t3);
    var s = vec4<i32>(0);
    var sr = vec4<i32>(0);
    var sq: Wide;
    var sqr: Wide;
    var under = select(vec4<u32>(0u), vec4<u32>(1u), k.r < vec4<i32>(0));
    for (var f = 1u; f < p.frames; f = f + 1u) {
        let v = series(f, t0, t1, t2, t3);
        let d = v.x - k.x;
        s = s + d;
        sq = add_square(sq, d);
        let e = v.r - k.r;
        sr = sr + e;
        sqr = add_square(sqr, e);
        under = under + select(vec4<u32>(0u), vec4<u32>(1u), v.r < vec4<i32>(0));
    }
    var base = vec4<i32>(0);
    if (p.shifted == 1u) {
        if (p.count == 0u) {
            shift[q] = vec4<f32>(k.x);
        }
        base = vec4<i32>(shift[q]);
    }
    let value = fold(Moments(mean[q], m2[q]), k.x - base, s, wide_to_f32(sq), 1.0);
    let residual = fold(Moments(res_mean[q], res_m2[q]), k.r, sr, wide_to_f32(sqr), RESIDUAL_SCALE);
    mean[q] = value.mean;
    m2[q] = value.m2;
    res_mean[q] = residual.mean;
    res_m2[q] = residual.m2;
    below[q] = below[q] + vec4<f32>(under);
}

// The dark-current sums (src/stats/dark.rs) of DARK_POSITIONS_PER_INVOCATION positions (pixels:
// `channels` consecutive subpixels; RAW photosites) per invocation, over the frames of the batch
// that have an exposure (bit f of `mask`). A position is clipped in a frame that may clip (bit f
// of `clips`) when one of its channels reads at or above `clip` with a residual of at least
// `floor`: the frame is counted in `dark_clipped` and adds nothing else. In the others each channel's residual in linear light —
// the doubled residual times RESIDUAL_SCALE, or with a table (sRGB samples) `dark_table[x] -
// dark_table[middle + s]`, `s` the sum of the neighbours' middle two — raised to `-floor` when
// below it, adds times frame f's weight `weights[k * FRAME_VEC4S + f / 4][f % 4]` to the linear
// sum k (per channel, then the channels in order), and the square of the channels' sum of it
// times the weight of sum LINEAR_DARK_SUMS to that sum (src/stats/dark.rs, `DarkSetup::weights`):
// the order of src/stats/cpu.
struct DarkParams {
    clip: u32,         // a sample at or above this is clipped
    mask: u32,         // bit f: frame f of the batch has an exposure
    positions: u32,    // positions in this tile
    row_threads: u32,  // invocations per dispatch row of the dark pass
    clips: u32,        // bit f: frame f may be counted as clipped
    floor: f32,        // the residual's floor
    table: u32,        // 1: the residual is read through dark_table
    middle: u32,       // where dark_table's sums of two start
    weights: array<vec4<f32>, DARK_SUMS * FRAME_VEC4S>,
}

@group(0) @binding(7) var<uniform> dp: DarkParams;
// The sums in src/stats/dark.rs' order (DARK_SUM_NAMES), then the clipped frames, then the table.
@group(0) @binding(8) var<storage, read_write> dark_sum: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> dark_weighted: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> dark_misfit_sum: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read_write> dark_misfit_weighted: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> dark_misfit_squares: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> dark_clipped: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> dark_table: array<f32>;

// Frame f's weight in dark sum k.
fn dark_weight(k: u32, f: u32) -> f32 {
    return dp.weights[k * FRAME_VEC4S + f / 4u][f % 4u];
}

// The residual in linear light of samples `x` whose doubled residual is `r`.
fn dark_residual(x: vec4<i32>, r: vec4<i32>) -> vec4<f32> {
    if (dp.table == 0u) {
        return vec4<f32>(r) * RESIDUAL_SCALE;
    }
    let s = vec4<u32>(2 * x - r) + vec4<u32>(dp.middle);
    let v = vec4<u32>(x);
    return vec4<f32>(dark_table[v.x], dark_table[v.y], dark_table[v.z], dark_table[v.w])
        - vec4<f32>(dark_table[s.x], dark_table[s.y], dark_table[s.z], dark_table[s.w]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn dark(@builtin(global_invocation_id) gid: vec3<u32>) {
    let q = gid.x + gid.y * dp.row_threads;
    let first = DARK_POSITIONS_PER_INVOCATION * q;
    if (first >= dp.positions) {
        return;
    }
    let ch = p.channels;
    let clip = vec4<i32>(i32(dp.clip));
    let low = vec4<f32>(-dp.floor);
    // Per linear sum and channel.
    var sums = array<array<vec4<f32>, MAX_DARK_CHANNELS>, LINEAR_DARK_SUMS>();
    var squares = vec4<f32>(0.0);
    var cut_frames = vec4<f32>(0.0);
    for (var f = 0u; f < p.frames; f = f + 1u) {
        if (((dp.mask >> f) & 1u) == 0u) {
            continue;
        }
        var kept = array<vec4<f32>, MAX_DARK_CHANNELS>();
        var cut = vec4<bool>(false);
        let may_clip = ((dp.clips >> f) & 1u) == 1u;
        for (var c = 0u; c < ch; c = c + 1u) {
            let s = series(f, taps(first * ch + c), taps((first + 1u) * ch + c),
                taps((first + 2u) * ch + c), taps((first + 3u) * ch + c));
            let residual = dark_residual(s.x, s.r);
            cut = cut | ((s.x >= clip) & (residual >= -low) & vec4<bool>(may_clip));
            kept[c] = max(residual, low);
        }
        var summed = vec4<f32>(0.0);
        for (var c = 0u; c < ch; c = c + 1u) {
            let k = select(kept[c], vec4<f32>(0.0), cut);
            for (var j = 0u; j < LINEAR_DARK_SUMS; j = j + 1u) {
                sums[j][c] = sums[j][c] + k * dark_weight(j, f);
            }
            summed = summed + k;
        }
        squares = squares + summed * summed * dark_weight(LINEAR_DARK_SUMS, f);
        cut_frames = cut_frames + select(vec4<f32>(0.0), vec4<f32>(1.0), cut);
    }
    var total = array<vec4<f32>, LINEAR_DARK_SUMS>();
    for (var k = 0u; k < LINEAR_DARK_SUMS; k = k + 1u) {
        for (var c = 0u; c < ch; c = c + 1u) {
            total[k] = total[k] + sums[k][c];
        }
    }
    dark_sum[q] = dark_sum[q] + total[0];
    dark_weighted[q] = dark_weighted[q] + total[1];
    dark_misfit_sum[q] = dark_misfit_sum[q] + total[2];
    dark_misfit_weighted[q] = dark_misfit_weighted[q] + total[3];
    dark_misfit_squares[q] = dark_misfit_squares[q] + squares;
    dark_clipped[q] = dark_clipped[q] + cut_frames;
}
