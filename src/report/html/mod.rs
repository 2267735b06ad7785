//! The `html` format: a scan's answer as one self-contained page a photographer opens from disk —
//! per camera body the summary, the sensor map, the defects table (sortable, filterable), an
//! exposure control giving the `--at` command line, the details of the strongest defects (crops
//! before and after repair, timeline) and the commands that take the list into other tools. No
//! request leaves the file: style and script are inline, images are `data:` URIs, and the page's
//! content security policy forbids anything else.

mod commands;
pub mod data;
mod defects;
pub mod page;
pub mod pictures;

pub use data::Section;
pub use pictures::Pictures;

use super::Exporter;
use crate::model::ScanReport;
use crate::report::readback::ReadLimits;

/// The report name the export commands of a page name when the page does not know the JSON
/// report's file.
pub const REPORT_PLACEHOLDER: &str = "report.json";

/// The HTML exporter of one scan (one camera body).
pub struct Html;

impl Exporter for Html {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        render_scans(&[report], REPORT_PLACEHOLDER).into_bytes()
    }
}

/// The page of finished scans, one section per camera body, with their pictures; the export
/// commands name `report_name`.
pub fn render_scans(reports: &[&ScanReport], report_name: &str) -> String {
    let sections: Vec<Section> = reports
        .iter()
        .map(|r| {
            Section::of(super::json::group_value(r), Pictures::of_scan(r))
                .expect("a scan's report reads as a page")
        })
        .collect();
    page::render(&sections, report_name)
}

/// The page of a saved JSON report or library document (`text`, named `report_name`), without
/// pictures: checked as every report read back is ([`crate::report::readback`]).
pub fn render_json(text: &str, report_name: &str, limits: &ReadLimits) -> Result<String, String> {
    let doc = crate::report::json::parse(text)?;
    // The same checks as export and repair: versions, shapes, counts, coordinates.
    let sections = crate::report::list::DefectList::checked_reports(doc, limits)?
        .into_iter()
        .map(|(r, _)| Section::of(r, Pictures::default()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page::render(&sections, report_name))
}

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `bytes` in standard base64 with padding (RFC 4648), for `data:` URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_rfc_4648() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
    }

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
