//! Same-colour neighbours: where the subpixels that a subpixel is compared with sit in a frame,
//! for each sample layout, and the robust estimate drawn from them (the median of four).
//!
//! Every part of the pipeline that looks at neighbours — both statistics backends (the shader gets
//! [`NEIGHBOUR_DISTANCE`] from here), detection, the crops and the simulated camera — asks this
//! module. A sensor layout is one [`Layout`] case: [`Geometry::same_colour`] is the only place
//! that says where the same colour is, and [`Geometry::class`] which subpixels share statistics.
//! (X-Trans, whose nearest same-colour photosites are not on a square grid, is not a case yet:
//! RAW decoding refuses it.)

use crate::input::levels::{tile_position, BAYER_PERIOD};
use crate::input::{Frame, Sample, Samples, Shape};

/// Distance, in pixels, of the neighbours a subpixel is compared with. At that distance a defect
/// smeared by demosaicking and JPEG (a 3×3 blob) does not raise its own estimate, and on a Bayer
/// mosaic the four are the nearest photosites of the same colour.
pub const NEIGHBOUR_DISTANCE: usize = 2;

/// How the samples of a frame are laid out, which decides where the same colour is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Whole pixels of one (grey) or three (RGB) interleaved samples: every pixel has every
    /// channel, so the same colour is the same channel of the pixels `d` columns or rows away.
    Interleaved,
    /// One plane of photosites under a Bayer colour filter (a camera RAW frame): the same colour
    /// repeats every 2 photosites across and down, so it is the photosite an even number of
    /// columns or rows away — at [`NEIGHBOUR_DISTANCE`], the nearest four of that colour.
    Bayer,
}

/// Where a subpixel's same-colour neighbours are: the frame's geometry in subpixels.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    layout: Layout,
    width: usize,
    height: usize,
    channels: usize,
    row: usize,
}

impl Geometry {
    /// The geometry of frames of `shape`.
    pub fn of(shape: Shape) -> Self {
        let (width, height, channels) = (
            shape.width as usize,
            shape.height as usize,
            shape.channels as usize,
        );
        let layout = if shape.cfa.is_some() {
            Layout::Bayer
        } else {
            Layout::Interleaved
        };
        Geometry {
            layout,
            width,
            height,
            channels,
            row: width * channels,
        }
    }

    /// `(x, y, channel)` of subpixel `i`.
    #[inline(always)]
    fn split(&self, i: usize) -> (usize, usize, usize) {
        let (y, rem) = (i / self.row, i % self.row);
        (rem / self.channels, y, rem % self.channels)
    }

    /// The subpixel of the same colour as `(x, y, c)` nearest to `dx` columns and `dy` rows away,
    /// mirrored at the borders ([`reflect`]).
    #[inline(always)]
    pub fn same_colour(&self, x: usize, y: usize, c: usize, dx: isize, dy: isize) -> usize {
        match self.layout {
            Layout::Interleaved => {
                let xx = reflect(x as isize + dx, self.width);
                let yy = reflect(y as isize + dy, self.height);
                yy * self.row + xx * self.channels + c
            }
            Layout::Bayer => {
                // Whole tiles away; mirroring at a border keeps the parity (see `reflect`).
                let period = BAYER_PERIOD as isize;
                debug_assert!(dx % period == 0 && dy % period == 0);
                let xx = reflect(x as isize + dx, self.width);
                let yy = reflect(y as isize + dy, self.height);
                yy * self.row + xx
            }
        }
    }

    /// True when every sample is one photosite as the sensor read it (a RAW frame), not a
    /// demosaicked mixture of several.
    pub fn photosites(&self) -> bool {
        self.layout == Layout::Bayer
    }

    /// How many classes of subpixels [`Geometry::class`] tells apart.
    pub fn classes(&self) -> usize {
        match self.layout {
            Layout::Interleaved => self.channels,
            Layout::Bayer => (BAYER_PERIOD * BAYER_PERIOD) as usize,
        }
    }

    /// The class of the subpixel `k` samples into row `y`: subpixels of one class record the
    /// same colour the same way (a channel; a position of the Bayer tile, so the two greens are
    /// two classes), and their statistics are compared with each other.
    #[inline(always)]
    pub fn class(&self, k: usize, y: usize) -> usize {
        match self.layout {
            Layout::Interleaved => k % self.channels,
            Layout::Bayer => tile_position(k as u32, y as u32),
        }
    }

    /// The classes of row `y`'s subpixels in order, [`Geometry::class`] without a division per
    /// subpixel: along a row they repeat with a period that divides [`Geometry::classes`] (the
    /// channels; the Bayer tile's width).
    pub fn row_classes(&self, y: usize) -> RowClasses {
        let period = self.classes();
        assert!(period <= MAX_CLASSES, "{period} classes");
        RowClasses {
            cycle: std::array::from_fn(|k| if k < period { self.class(k, y) } else { 0 }),
            period,
            at: 0,
            left: self.row,
        }
    }

    /// The class of subpixel `i` (see [`Geometry::class`]).
    #[inline(always)]
    pub fn class_of(&self, i: usize) -> usize {
        self.class(i % self.row, i / self.row)
    }

    /// `value` at subpixel `i`'s four same-colour neighbours `distance` pixels left, right,
    /// above and below (mirrored at the borders), in that order.
    #[inline(always)]
    pub fn ring(&self, i: usize, distance: usize, value: impl Fn(usize) -> f32) -> [f32; 4] {
        self.ring_indices(i, distance).map(value)
    }

    /// The subpixels [`Geometry::ring`] reads: `distance` pixels left, right, above and below
    /// subpixel `i`, mirrored at the borders.
    #[inline(always)]
    pub fn ring_indices(&self, i: usize, distance: usize) -> [usize; 4] {
        let (x, y, c) = self.split(i);
        let d = distance as isize;
        [
            self.same_colour(x, y, c, -d, 0),
            self.same_colour(x, y, c, d, 0),
            self.same_colour(x, y, c, 0, -d),
            self.same_colour(x, y, c, 0, d),
        ]
    }

    /// The median of [`Geometry::ring`]: the robust estimate from the four neighbours.
    #[inline(always)]
    pub fn ring_median(&self, i: usize, distance: usize, value: impl Fn(usize) -> f32) -> f32 {
        let [a, b, c, d] = self.ring(i, distance, value);
        median4(a, b, c, d)
    }

    /// Like [`Geometry::ring_median`], but near the borders the four come from subpixels whose
    /// own neighbours were mirrored the same way: within `margin` pixels of the top or bottom
    /// border they are `distance` and `2 × distance` pixels left and right in the same row;
    /// within `margin` of the left or right border, above and below in the same column (a
    /// corner takes the row). Statistics of the residual are comparable among such peers only.
    #[inline(always)]
    pub fn peer_median(
        &self,
        i: usize,
        distance: usize,
        margin: usize,
        value: impl Fn(usize) -> f32,
    ) -> f32 {
        let (x, y, c) = self.split(i);
        let d = distance as isize;
        let near = |v: usize, n: usize| v < margin || v + margin >= n;
        let at = |dx: isize, dy: isize| value(self.same_colour(x, y, c, dx, dy));
        if near(y, self.height) {
            median4(at(-d, 0), at(d, 0), at(-2 * d, 0), at(2 * d, 0))
        } else if near(x, self.width) {
            median4(at(0, -d), at(0, d), at(0, -2 * d), at(0, 2 * d))
        } else {
            self.ring_median(i, distance, value)
        }
    }

    /// Interleaved channels per pixel (1 for a RAW mosaic).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// True when the `lanes` subpixels from `base` all have their four neighbours at
    /// [`NEIGHBOUR_DISTANCE`] inside the frame without mirroring, in the same row, so they sit at
    /// the fixed offsets [`Geometry::neighbour_offsets`] gives.
    #[inline(always)]
    pub fn interior_run(&self, base: usize, lanes: usize) -> bool {
        let d = NEIGHBOUR_DISTANCE;
        let last = base + lanes - 1;
        let (y0, y1) = (base / self.row, last / self.row);
        let (x0, x1) = (
            (base % self.row) / self.channels,
            (last % self.row) / self.channels,
        );
        y0 == y1 && y0 >= d && y0 + d < self.height && x0 >= d && x1 + d < self.width
    }

    /// For an interior subpixel, the index distance to its left/right and to its up/down
    /// neighbours at [`NEIGHBOUR_DISTANCE`].
    #[inline(always)]
    pub fn neighbour_offsets(&self) -> (usize, usize) {
        match self.layout {
            Layout::Interleaved | Layout::Bayer => (
                NEIGHBOUR_DISTANCE * self.channels,
                NEIGHBOUR_DISTANCE * self.row,
            ),
        }
    }
}

/// The most classes a layout has (the Bayer tile's four positions; three channels).
const MAX_CLASSES: usize = 4;

/// The iterator [`Geometry::row_classes`] returns.
#[derive(Clone, Debug)]
pub struct RowClasses {
    cycle: [usize; MAX_CLASSES],
    period: usize,
    at: usize,
    left: usize,
}

impl Iterator for RowClasses {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let c = self.cycle[self.at];
        self.at = if self.at + 1 == self.period {
            0
        } else {
            self.at + 1
        };
        Some(c)
    }
}

/// `v` reflected into `0..n` (`-2` → `2`, `n + 1` → `n − 3`), then clamped for tiny frames.
#[inline(always)]
pub fn reflect(v: isize, n: usize) -> usize {
    let last = n as isize - 1;
    let r = if v < 0 {
        -v
    } else if v > last {
        2 * last - v
    } else {
        v
    };
    r.clamp(0, last) as usize
}

/// The robust estimate of four neighbour values: the mean of the middle two (their median).
/// Exact in f32 for integer samples, so every backend gets the same number.
#[inline(always)]
pub fn median4(a: f32, b: f32, c: f32, d: f32) -> f32 {
    let sum = a + b + c + d;
    let lo = a.min(b).min(c.min(d));
    let hi = a.max(b).max(c.max(d));
    (sum - lo - hi) * 0.5
}

/// The neighbour estimate of subpixel `i` of a frame: the median of the same colour at distance
/// [`NEIGHBOUR_DISTANCE`] left, right, above and below (mirrored at the borders).
#[inline(always)]
pub fn neighbour_estimate<T: Sample>(frame: &[T], g: Geometry, i: usize) -> f32 {
    g.ring_median(i, NEIGHBOUR_DISTANCE, |j| frame[j].to_f32())
}

/// [`neighbour_estimate`] of subpixel `i` of any frame.
pub fn neighbour_estimate_frame(frame: &Frame, i: usize) -> f64 {
    let g = Geometry::of(frame.shape());
    match frame.samples() {
        Samples::U8(v) => neighbour_estimate(v, g, i) as f64,
        Samples::U16(v) => neighbour_estimate(v, g, i) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_mirrors_without_repeating_the_edge() {
        assert_eq!(reflect(-2, 10), 2);
        assert_eq!(reflect(11, 10), 7);
        assert_eq!(reflect(5, 10), 5);
        assert_eq!(reflect(-3, 2), 1);
    }

    /// The classes of a row, walked without division, are those of `class`, for odd widths too.
    #[test]
    fn row_classes_are_the_classes_of_the_row() {
        use crate::input::Cfa;
        for shape in [
            Shape::raw(11, 3, Cfa::parse("GRBG").unwrap()).unwrap(),
            Shape::new(7, 3, 3, 8).unwrap(),
            Shape::new(5, 2, 1, 16).unwrap(),
        ] {
            let g = Geometry::of(shape);
            for y in 0..shape.height as usize {
                let walked: Vec<usize> = g.row_classes(y).collect();
                let direct: Vec<usize> = (0..g.row).map(|k| g.class(k, y)).collect();
                assert_eq!(walked, direct, "{}", shape.describe());
            }
        }
    }

    #[test]
    fn bayer_neighbours_have_the_photosite_colour_even_at_the_borders() {
        use crate::input::Cfa;
        let cfa = Cfa::parse("GRBG").unwrap();
        let shape = Shape::raw(11, 9, cfa).unwrap();
        let g = Geometry::of(shape);
        assert_eq!(g.classes(), 4);
        for y in 0..9usize {
            for x in 0..11usize {
                let i = y * 11 + x;
                assert_eq!(g.class_of(i), tile_position(x as u32, y as u32));
                for d in [2isize, 4, 8] {
                    for (dx, dy) in [(-d, 0), (d, 0), (0, -d), (0, d)] {
                        let j = g.same_colour(x, y, 0, dx, dy);
                        let (jx, jy) = ((j % 11) as u32, (j / 11) as u32);
                        assert_eq!(
                            cfa.colour_at(jx, jy),
                            cfa.colour_at(x as u32, y as u32),
                            "({x},{y}) {dx},{dy}"
                        );
                        assert_eq!(g.class_of(j), g.class_of(i));
                    }
                }
            }
        }
    }

    #[test]
    fn interior_runs_stop_short_of_every_border() {
        let g = Geometry::of(Shape::new(20, 10, 3, 8).unwrap());
        let row = 60;
        assert!(g.interior_run(2 * row + 2 * 3, 16));
        assert!(!g.interior_run(row + 2 * 3, 16), "row 1 reaches the top");
        assert!(
            !g.interior_run(2 * row + 3, 16),
            "column 1 reaches the left"
        );
        assert!(
            !g.interior_run(2 * row + 50, 16),
            "crosses into the next row"
        );
        assert!(
            !g.interior_run(8 * row + 2 * 3, 16),
            "row 8 reaches the bottom"
        );
        assert_eq!(g.neighbour_offsets(), (6, 120));
    }
}
