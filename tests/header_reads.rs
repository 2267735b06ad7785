//! Discovery reads files' headers, not their images: a JPEG's frame header and EXIF from its
//! first segments (the image decoder and the EXIF reader would read it whole), a PNG's EXIF by
//! seeking past its image data; a RAW file's EXIF from its first megabyte
//! ([`hotpixels::input::exif::EXIF_PREFIX`]) where it lies there (a camera's file, the simulated
//! camera's DNG), from the whole file where it does not (a writer that puts the image data
//! first); a DNG of a layout already read is not decoded again, while another layout, or a file
//! cut short, is still told apart. One test in its own process: it counts the bytes this process
//! reads.

mod common;

use std::path::Path;

use hotpixels::input::discover;
use hotpixels::input::exif::Exposure;
use hotpixels::input::exif::{read_identity, Camera, EXIF_PREFIX};
use hotpixels::synth::{
    exif_block, write_frame_jpeg, write_frame_png, write_set, Chroma, SetFormat, SetSpec,
};
use hotpixels::Shape;

/// The Canon EOS 30D CR2 Debian's `rawtran-doc` ships (`.ci/run` installs it).
const CANON_CR2: &str = "/usr/share/doc/rawtran/IMG_5952.CR2";

/// Bytes this process has read from files so far (`rchar` of `/proc/self/io`).
fn bytes_read() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// The identity of `path` and the bytes read to learn it.
fn read_counting(path: &Path) -> (hotpixels::input::exif::Identity, u64) {
    let before = bytes_read();
    let id = read_identity(path);
    (id, bytes_read() - before)
}

#[test]
fn discovery_reads_headers_not_whole_files() {
    let cr2 = Path::new(CANON_CR2);
    assert!(
        cr2.exists(),
        "{CANON_CR2} is missing: install Debian's rawtran-doc (.ci/run does)"
    );
    let size = std::fs::metadata(cr2).unwrap().len();
    assert!(size > 4 * EXIF_PREFIX, "the CR2 is larger than the prefix");
    let (id, read) = read_counting(cr2);
    assert_eq!(
        id.camera.as_ref().map(Camera::body).as_deref(),
        Some("Canon EOS 30D")
    );
    assert!(id.taken.is_some() && id.exposure.is_known(), "{id:?}");
    assert!(
        read <= EXIF_PREFIX + 64 * 1024,
        "{read} bytes read of a {size}-byte file"
    );

    // The simulated camera's DNG, written as cameras write theirs: from the first megabyte too,
    // what the camera wrote.
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        width: 1600,
        height: 1200,
        frames: 1,
        format: SetFormat::Dng,
        exposures: true,
        camera: Some(Camera::from_exif(
            "Simulated",
            "Camera 1",
            Some("42".into()),
        )),
        ..Default::default()
    };
    let truth = write_set(&spec, dir.path()).unwrap();
    let dng = dir.path().join(&truth.files[0]);
    let size = std::fs::metadata(&dng).unwrap().len();
    assert!(size > 2 * EXIF_PREFIX);
    let (id, read) = read_counting(&dng);
    assert!(
        read <= EXIF_PREFIX + 64 * 1024,
        "{read} bytes read of a {size}-byte file"
    );
    assert_eq!(id.camera, truth.camera);
    assert_eq!(id.taken, truth.taken.first().copied());
    let (seconds, iso) = truth.exposures[0];
    assert_eq!(id.exposure.iso, Some(iso));
    let read_seconds = id.exposure.seconds.unwrap();
    assert!(
        (read_seconds - seconds).abs() <= 1e-6 * seconds,
        "{read_seconds} s, {seconds} s written"
    );

    // A TIFF file whose writer put the image data first and its directory after: read whole.
    let tiff_path = dir.path().join("data-first.tif");
    let (w, h) = (1200u32, 1000u32);
    {
        let file = std::fs::File::create(&tiff_path).unwrap();
        let mut encoder = tiff::encoder::TiffEncoder::new(file).unwrap();
        let mut image = encoder
            .new_image::<tiff::encoder::colortype::Gray16>(w, h)
            .unwrap();
        image
            .encoder()
            .write_tag(tiff::tags::Tag::Make, "Simulated")
            .unwrap();
        image
            .encoder()
            .write_tag(tiff::tags::Tag::Model, "Camera 2")
            .unwrap();
        image.write_data(&vec![512u16; (w * h) as usize]).unwrap();
    }
    let size = std::fs::metadata(&tiff_path).unwrap().len();
    assert!(size > 2 * EXIF_PREFIX);
    let (id, read) = read_counting(&tiff_path);
    assert!(read >= size, "{read} bytes read of a {size}-byte file");
    assert_eq!(
        id.camera.as_ref().map(Camera::body).as_deref(),
        Some("Simulated Camera 2")
    );

    // DNG files of one layout: the second discovery of such files decodes none of them, reading
    // their first megabytes only (the first read one whole at least, to learn the layout).
    let dngs = |frames: usize, width: u32, height: u32, seed: u64| {
        let dir = tempfile::tempdir().unwrap();
        let spec = SetSpec {
            width,
            height,
            frames,
            format: SetFormat::Dng,
            seed,
            ..Default::default()
        };
        let truth = write_set(&spec, dir.path()).unwrap();
        (dir, truth.files)
    };
    let (first, _) = dngs(3, 1600, 1200, 1);
    let (second, files) = dngs(4, 1600, 1200, 2);
    let pattern = |dir: &Path| format!("{}/*.dng", dir.display());
    discover(&[pattern(first.path())]).unwrap();
    let before = bytes_read();
    let found = discover(&[pattern(second.path())]).unwrap();
    let read = bytes_read() - before;
    assert_eq!(found.files.len(), 4);
    let size = std::fs::metadata(second.path().join(&files[0]))
        .unwrap()
        .len();
    assert!(size > 3 * EXIF_PREFIX);
    assert!(
        read <= 4 * (2 * EXIF_PREFIX + 64 * 1024),
        "{read} bytes read to discover 4 files of {size} bytes"
    );

    // Beside them, DNG files of another size and a copy cut short: each told apart.
    let (other, other_files) = dngs(2, 640, 480, 3);
    for name in &other_files {
        std::fs::copy(
            other.path().join(name),
            second.path().join(format!("small_{name}")),
        )
        .unwrap();
    }
    let whole = std::fs::read(second.path().join(&files[0])).unwrap();
    std::fs::write(second.path().join("cut.dng"), &whole[..whole.len() / 2]).unwrap();
    let found = discover(&[pattern(second.path())]).unwrap();
    assert_eq!(found.files.len(), 4);
    assert!(found.shape.unwrap().describe().starts_with("1600x1200"));
    let reasons: Vec<String> = found
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.path.display(), s.reason))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.contains("small_") && r.contains("640x480"))
            .count(),
        2,
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("cut.dng") && r.contains("cut short")),
        "{reasons:?}"
    );

    // JPEG files, with EXIF (a camera's) and without (an export that dropped it): discovery reads
    // their first segments, not the whole file as the image decoder and the EXIF reader do.
    let jpegs = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        width: 1600,
        height: 1200,
        frames: 2,
        format: SetFormat::Jpeg,
        exposures: true,
        ..Default::default()
    };
    let truth = write_set(&spec, jpegs.path()).unwrap();
    let with_exif = jpegs.path().join(&truth.files[0]);
    let without = jpegs.path().join("no_exif.jpg");
    let frame =
        hotpixels::input::decode_file(&with_exif, Shape::new(1600, 1200, 3, 8).unwrap()).unwrap();
    write_frame_jpeg(&frame, &without, 95, Chroma::Sub422).unwrap();
    std::fs::remove_file(jpegs.path().join(&truth.files[1])).unwrap();
    let sizes: u64 = [&with_exif, &without]
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(sizes > 1 << 20, "{sizes} bytes");
    let before = bytes_read();
    let found = discover(&[format!("{}/*.jpg", jpegs.path().display())]).unwrap();
    let (id, _) = read_counting(&with_exif);
    let (none, _) = read_counting(&without);
    let read = bytes_read() - before;
    assert_eq!(found.files.len(), 2, "{:?}", found.skipped);
    assert_eq!(found.shape.unwrap().describe(), "1600x1200 RGB 8-bit");
    assert!(
        read <= 4 * JPEG_HEADER_READ,
        "{read} bytes read to discover 2 JPEG files of {sizes} bytes"
    );
    assert_eq!(id.exposure.iso, Some(truth.exposures[0].1));
    assert!(
        none.camera.is_none() && !none.exposure.is_known(),
        "{none:?}"
    );

    // A PNG whose EXIF chunk follows its image data: found by seeking past the data.
    let png = jpegs.path().join("exif_last.png");
    write_frame_png(&frame, &png).unwrap();
    let mut bytes = std::fs::read(&png).unwrap();
    let exposure = Exposure {
        seconds: Some(1.0 / 250.0),
        iso: Some(1600),
    };
    let iend = bytes.len() - 12;
    bytes.splice(
        iend..iend,
        common::png_chunk(b"eXIf", &exif_block(None, None, exposure)),
    );
    std::fs::write(&png, &bytes).unwrap();
    let (id, read) = read_counting(&png);
    assert_eq!(id.exposure.iso, Some(1600), "{id:?}");
    assert!(
        read <= JPEG_HEADER_READ,
        "{read} bytes read of a {}-byte PNG",
        bytes.len()
    );
    assert!(bytes.len() as u64 > 4 * JPEG_HEADER_READ);
}

/// Bytes a JPEG's header and EXIF take to read at most here: a few buffered reads.
const JPEG_HEADER_READ: u64 = 64 * 1024;
