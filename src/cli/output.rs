//! Result folders written all at once.
//!
//! A run writes its files into a hidden staging folder beside the target and renames it into
//! place only when every file is complete, so an interrupted or failed run never leaves a folder
//! that looks finished. An existing target is refused unless `--force` is given.

use std::fs;
use std::path::{Path, PathBuf};

use glrfe::{Error, Result};

pub struct OutDir {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
}

impl OutDir {
    /// Check that `target` may be written and create the staging folder.
    pub fn create(target: &Path, force: bool) -> Result<OutDir> {
        if target.exists() && !force {
            return Err(Error::usage(format!(
                "output folder {} already exists: choose another --out or add --force",
                target.display()
            )));
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.ok_or_else(|| Error::usage("--out must name a folder"))?;
        let parent =
            target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|e| {
            Error::output(format!("cannot create the folder {}: {e}", parent.display()))
        })?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        fs::create_dir_all(&staging)
            .map_err(|e| Error::output(format!("cannot create {}: {e}", staging.display())))?;
        Ok(OutDir { target: target.to_path_buf(), staging, force })
    }

    /// Write one file of the result.
    pub fn write(&self, name: &str, contents: &str) -> Result<()> {
        let path = self.staging.join(name);
        fs::write(&path, contents).map_err(|e| {
            Error::output(format!("cannot write {}: {e}", self.target.join(name).display()))
        })
    }

    /// Move the complete result into place.
    pub fn finish(self) -> Result<()> {
        if self.force && self.target.exists() {
            fs::remove_dir_all(&self.target).map_err(|e| {
                Error::output(format!("cannot replace {}: {e}", self.target.display()))
            })?;
        }
        fs::rename(&self.staging, &self.target).map_err(|e| {
            Error::output(format!("cannot move results into {}: {e}", self.target.display()))
        })
    }
}

impl Drop for OutDir {
    /// A run that stops before `finish` leaves nothing behind.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

/// Write `contents` to `path` through a temporary file in the same folder and a rename, so the
/// file is either absent, its old version, or complete.
pub fn write_file_atomically(path: &Path, contents: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    fs::write(&tmp, contents).and_then(|_| fs::rename(&tmp, path)).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::output(format!("cannot write {}: {e}", path.display()))
    })
}
