//! The CSV report: the lowest-`M2` list, one subpixel a row.

use crate::detect::Candidate;
use crate::input::Shape;

/// The CSV exporter.
pub struct Csv;

impl super::Exporter for Csv {
    fn render(&self, report: &crate::model::ScanReport) -> Vec<u8> {
        render(&report.shape, &report.lowest).into_bytes()
    }
}

/// Header and one row per candidate: `rank,x,y,channel,channel_name,m2,variance,mean`.
pub fn render(shape: &Shape, lowest: &[Candidate]) -> String {
    let mut s = String::from("rank,x,y,channel,channel_name,m2,variance,mean\n");
    for (i, c) in lowest.iter().enumerate() {
        s += &format!(
            "{},{},{},{},{},{},{},{}\n",
            i + 1,
            c.x,
            c.y,
            c.channel,
            shape.colour(c.x, c.y, c.channel),
            c.m2,
            c.variance,
            c.mean
        );
    }
    s
}
