//! Photo libraries: sets from the simulated camera naming their camera body and capture times,
//! read back from JPEG EXIF and DNG tags.

use hotpixels::input::exif::{read_identity, Camera, CaptureTime};
use hotpixels::synth::sensor::{write_set, SetFormat, SetSpec};

/// A camera named as the files carry it.
fn body(make: &str, model: &str, serial: Option<&str>) -> Camera {
    Camera {
        make: make.into(),
        model: model.into(),
        serial: serial.map(str::to_string),
    }
}

/// A small set of `frames` frames from `camera`, shot over ten days from 2024-03-01.
fn spec(format: SetFormat, frames: usize, camera: Camera, seed: u64) -> SetSpec {
    SetSpec {
        width: 160,
        height: 120,
        frames,
        format,
        hot: 3,
        warm: 0,
        stuck: 0,
        dead: 0,
        pairs: 0,
        late_hot: 1,
        seed,
        camera: Some(camera),
        start: CaptureTime::parse("2024-03-01 09:00").unwrap(),
        period: 10 * 86_400,
        ..Default::default()
    }
}

#[test]
fn synthetic_files_name_their_camera_and_capture_time() {
    for format in [SetFormat::Jpeg, SetFormat::Dng] {
        let dir = tempfile::tempdir().unwrap();
        let camera = body("NIKON CORPORATION", "NIKON Z 6", Some("3004711"));
        let truth = write_set(&spec(format, 5, camera, 3), dir.path()).unwrap();
        for (i, name) in truth.files.iter().enumerate() {
            let id = read_identity(&dir.path().join(name));
            assert_eq!(
                id.camera,
                Some(Camera::from_exif("Nikon", "Z 6", Some("3004711".into()))),
                "{format:?} {name}"
            );
            assert_eq!(id.taken, Some(truth.taken[i]), "{format:?} {name}");
        }
        assert_eq!(truth.taken[0].to_string(), "2024-03-01 09:00:00");
        assert_eq!(truth.taken[4].to_string(), "2024-03-11 09:00:00");
        let late: Vec<_> = truth.defects.iter().filter(|d| d.onset.is_some()).collect();
        assert_eq!(late.len(), 1, "one late hot photosite");
        assert_eq!(late[0].onset, Some(4), "at 80 % of 5 frames");
    }
}

#[test]
fn a_late_defect_is_bad_only_from_its_onset() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        dark: true,
        ..spec(SetFormat::Dng, 10, body("Canon", "EOS R6", None), 5)
    };
    let truth = write_set(&spec, dir.path()).unwrap();
    let late = truth.defects.iter().find(|d| d.onset.is_some()).unwrap();
    assert_eq!(late.onset, Some(8));
    let discovery = hotpixels::input::discover(&[dir.path().display().to_string()]).unwrap();
    let shape = discovery.shape.unwrap();
    for (i, name) in truth.files.iter().enumerate() {
        let frame = hotpixels::input::decode_file(&dir.path().join(name), shape).unwrap();
        // Dark frames read the black level plus noise; a hot photosite reads far above it.
        let v = frame.value(shape.index(late.x, late.y, 0));
        let bright = v > f64::from(hotpixels::synth::sensor::RAW_BLACK) + 500.0;
        assert_eq!(bright, i >= 8, "frame {i}: the late photosite reads {v}");
    }
}
