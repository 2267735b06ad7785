//! Which defects repair a file: a report's list when it holds one camera, else — a photo
//! library's document, one list per camera body — the list of the body the file names in its
//! EXIF. A file of a camera the report has no list for is left out with that reason.

use std::path::Path;

use crate::detect::dark::AtExposure;
use crate::detect::Kind;
use crate::input::exif::{group_name, read_camera, Camera};
use crate::report::list::DefectList;
use crate::report::readback::ReadLimits;

/// The defect lists a repair draws on, one per camera of a report.
#[derive(Clone, Debug)]
pub struct RepairMaps {
    lists: Vec<DefectList>,
}

impl RepairMaps {
    /// The lists of a JSON report or library document (`text`), within `limits`; with `camera`,
    /// only the group whose name contains it ([`crate::report::json::one_report`]).
    pub fn from_json(
        text: &str,
        camera: Option<&str>,
        limits: &ReadLimits,
    ) -> Result<Self, String> {
        let lists = match camera {
            Some(_) => vec![DefectList::from_json_within(text, camera, limits)?],
            None => DefectList::all_from_json(text, limits)?,
        };
        if lists.is_empty() {
            return Err("a library document without a camera".into());
        }
        Ok(RepairMaps { lists })
    }

    /// Keeps in every list only the defects of `kinds`.
    pub fn retain_kinds(&mut self, kinds: &[Kind]) {
        for list in &mut self.lists {
            list.retain_kinds(kinds);
        }
    }

    /// Keeps in every list only the defects that show at `at`.
    pub fn retain_shown_at(&mut self, at: &AtExposure) {
        for list in &mut self.lists {
            list.retain_shown_at(at);
        }
    }

    /// The lists, one per camera.
    pub fn lists(&self) -> &[DefectList] {
        &self.lists
    }

    /// The list that repairs `file`, whose camera is read from its EXIF ([`RepairMaps::for_camera`]).
    pub fn for_file(&self, file: &Path) -> Result<&DefectList, String> {
        self.for_camera(read_camera(file).as_ref())
    }

    /// The list for a file taken with `camera` (`None`: the file names none): the list of the
    /// same body — make and model, and serial number when both name one —; the one list of a
    /// report that names no camera; or, for a file naming none, the list of a library's files
    /// that named none, or the one list there is. Otherwise the reason it has none: another
    /// camera's, or several bodies it could be.
    pub fn for_camera(&self, camera: Option<&Camera>) -> Result<&DefectList, String> {
        let only = match &self.lists[..] {
            [one] => Some(one),
            _ => None,
        };
        let Some(camera) = camera else {
            return only
                .or_else(|| self.lists.iter().find(|l| l.camera.is_none()))
                .ok_or_else(|| {
                    format!(
                        "names no camera, and the report lists the defects of {} cameras ({}); choose one with --camera",
                        self.lists.len(),
                        self.names()
                    )
                });
        };
        let same = |c: &Camera| {
            c.make == camera.make
                && c.model == camera.model
                && (c.serial.is_none() || camera.serial.is_none() || c.serial == camera.serial)
        };
        let matching: Vec<&DefectList> = self
            .lists
            .iter()
            .filter(|l| l.camera.as_ref().is_some_and(same))
            .collect();
        match (&matching[..], only) {
            ([list], _) => Ok(list),
            ([], Some(list)) if list.camera.is_none() => Ok(list),
            ([], _) => Err(format!(
                "taken with {}, which the report has no defects for ({})",
                camera.body(),
                self.names()
            )),
            (several, _) => Err(format!(
                "taken with {}, which names no serial number to tell {} apart",
                camera.body(),
                several
                    .iter()
                    .map(|l| group_name(l.camera.as_ref()))
                    .collect::<Vec<_>>()
                    .join(" from ")
            )),
        }
    }

    /// The cameras the lists are of, as the report names them.
    fn names(&self) -> String {
        self.lists
            .iter()
            .map(|l| group_name(l.camera.as_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Shape;

    fn list(camera: Option<Camera>) -> DefectList {
        DefectList {
            shape: Shape::new(8, 8, 3, 8).unwrap(),
            camera,
            pixels: Vec::new(),
        }
    }

    fn body(model: &str, serial: Option<&str>) -> Camera {
        Camera {
            make: "Canon".into(),
            model: model.into(),
            serial: serial.map(Into::into),
        }
    }

    #[test]
    fn each_file_gets_its_own_bodys_list_and_a_stranger_none() {
        let r6a = body("EOS R6", Some("0123"));
        let r6b = body("EOS R6", Some("0456"));
        let maps = RepairMaps {
            lists: vec![list(Some(r6a.clone())), list(Some(r6b.clone())), list(None)],
        };
        let camera_of = |c: Option<&Camera>| maps.for_camera(c).map(|l| l.camera.clone());
        assert_eq!(camera_of(Some(&r6a)), Ok(Some(r6a.clone())));
        assert_eq!(camera_of(Some(&r6b)), Ok(Some(r6b.clone())));
        assert_eq!(camera_of(None), Ok(None), "the files that named none");
        let stranger = camera_of(Some(&body("EOS 30D", None))).unwrap_err();
        assert_eq!(
            stranger,
            "taken with Canon EOS 30D, which the report has no defects for (Canon EOS R6 (serial 0123), Canon EOS R6 (serial 0456), no camera)"
        );
        let unsure = camera_of(Some(&body("EOS R6", None))).unwrap_err();
        assert!(unsure.contains("no serial number to tell"), "{unsure}");
    }

    #[test]
    fn a_report_of_one_camera_repairs_that_camera_and_files_naming_none() {
        let r6 = body("EOS R6", Some("0123"));
        let maps = RepairMaps {
            lists: vec![list(Some(r6.clone()))],
        };
        assert!(maps.for_camera(Some(&r6)).is_ok());
        assert!(maps.for_camera(None).is_ok(), "cannot tell: repaired");
        assert!(maps.for_camera(Some(&body("EOS 30D", None))).is_err());
        // A report that names no camera repairs every file.
        let unnamed = RepairMaps {
            lists: vec![list(None)],
        };
        assert!(unnamed.for_camera(Some(&r6)).is_ok());
    }
}
