//! The page's commands: for each export format, the command line that writes it from the JSON
//! report and the way the target tool applies it.

use std::fmt::Write;

use super::data::Section;
use super::escape;

/// For each export format, the command that writes it and the one that applies it.
pub(super) fn commands(s: &mut String, c: &Section, report_name: &str) {
    let report = shell_word(report_name);
    let camera = c
        .report
        .camera
        .as_ref()
        .map(|c| format!(" --camera {}", shell_word(&c.model)))
        .unwrap_or_default();
    let name = c
        .report
        .camera
        .as_ref()
        .map(|c| format!("{} {}", c.make, c.model))
        .unwrap_or_else(|| "Make Model".into());
    let rows: [(&str, String, String); 6] = [
        (
            "dcraw, LibRaw, rawpy",
            format!("hotpixels export --format dcraw {report}{camera} -o bad.txt"),
            "dcraw -P bad.txt -D -4 -T photo.CR2".into(),
        ),
        (
            "RawTherapee",
            format!(
                "hotpixels export --format rawtherapee {report}{camera} -o {}",
                shell_word(&format!("{name}.badpixels"))
            ),
            "copy it to the folder of Preferences › Image Processing › Dark frame".into(),
        ),
        (
            "Siril",
            format!("hotpixels export --format siril {report}{camera} -o bad.lst"),
            "calibrate light_ -cc=bpm bad.lst".into(),
        ),
        (
            "darktable (DNG opcode)",
            format!("hotpixels repair --map {report}{camera} photos/ --out fixed/"),
            "open the repaired DNG files: their FixBadPixelsList opcode names the photosites"
                .into(),
        ),
        (
            "astropy, ccdproc (FITS mask)",
            format!("hotpixels export --format mask {report}{camera} -o mask.fits"),
            "CCDData(data, mask=fits.getdata(\"mask.fits\") != 0)".into(),
        ),
        (
            "spreadsheets (CSV)",
            format!("hotpixels export --format csv {report}{camera} -o defects.csv"),
            "one row per pixel, with kind, score, dark rate and visible-from".into(),
        ),
    ];
    s.push_str(
        "<h3>Use the list in your tools</h3><table class=\"commands\"><thead><tr><th>tool</th>\
         <th>write it</th><th>apply it</th></tr></thead><tbody>",
    );
    for (tool, write_it, apply) in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td><code class=\"export\">{}</code></td><td>{}</td></tr>",
            escape(tool),
            escape(&write_it),
            escape(&apply)
        );
    }
    s.push_str("</tbody></table>\n");
}

/// `word` as one shell word: quoted when it holds anything but letters, digits and `._/-`.
pub(super) fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
    {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_with_spaces_or_quotes_is_one_shell_word() {
        assert_eq!(shell_word("report.json"), "report.json");
        assert_eq!(shell_word("My report.json"), "'My report.json'");
        assert_eq!(shell_word("it's.json"), "'it'\\''s.json'");
    }
}
