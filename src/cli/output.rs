//! Result folders and files written all at once, and never over an input.
//!
//! A run writes its files into a hidden staging folder (`.NAME.partial-PID`) beside the target,
//! or in the nearest folder that exists when the target's parents do not yet, and renames it
//! into place only when every file is complete; missing parent folders are created at that
//! moment, not before. So a run that fails or is interrupted never leaves a folder that looks
//! finished, nor empty parents: a failure drops the [`OutDir`], which removes the staging
//! folder. Only a process killed outright (SIGKILL, power loss) can leave the hidden staging
//! folder behind. An existing target is refused unless `--force` is given; with `--force` the
//! old folder is moved aside, the new one moved in, then the old one removed, so at every moment
//! one complete result is in place.
//!
//! No output may be, or replace a folder holding, a file the command reads: paths are compared
//! as files (device and inode on Unix) and through their canonical form, so `./t.csv`,
//! `dir/../t.csv` and a symbolic link to `t.csv` all count as `t.csv`.

use std::fs;
use std::path::{Path, PathBuf};

use super::args::Parsed;
use glrfe::{Error, Result};

pub struct OutDir {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
}

impl OutDir {
    /// Check that `target` may be written without touching any of `inputs`, and create the
    /// staging folder.
    pub fn create(target: &Path, force: bool, inputs: &[PathBuf]) -> Result<OutDir> {
        if target.exists() {
            if !force {
                return Err(Error::usage(format!(
                    "output folder {} already exists: choose another --out or add --force",
                    target.display()
                )));
            }
            if !target.is_dir() {
                return Err(Error::usage(format!(
                    "--out {} exists and is not a folder; --force replaces result folders only",
                    target.display()
                )));
            }
        }
        refuse_inputs(target, "--out", inputs)?;

        let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.ok_or_else(|| Error::usage("--out must name a folder"))?;
        let parent = parent_of(target);
        let home = nearest_existing(&parent);
        let staging = home.join(format!(".{name}.partial-{}", std::process::id()));
        fs::create_dir(&staging)
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
        let fail = |what: &str, e: std::io::Error| {
            Error::output(format!("cannot {what} {}: {e}", self.target.display()))
        };
        let parent = parent_of(&self.target);
        let created = missing_ancestors(&parent);
        fs::create_dir_all(&parent).map_err(|e| fail("create the parent folder of", e))?;

        let old = if self.force && self.target.exists() {
            let name = self.target.file_name().map(|n| n.to_string_lossy().into_owned());
            let old =
                parent.join(format!(".{}.old-{}", name.unwrap_or_default(), std::process::id()));
            fs::rename(&self.target, &old).map_err(|e| fail("move aside", e))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            if let Some(old) = &old {
                let _ = fs::rename(old, &self.target);
            }
            for dir in created.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            return Err(fail("move results into", e));
        }
        if let Some(old) = old {
            fs::remove_dir_all(&old).map_err(|e| {
                Error::output(format!("cannot remove the replaced results {}: {e}", old.display()))
            })?;
        }
        Ok(())
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
    let dir = parent_of(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    fs::write(&tmp, contents).and_then(|_| fs::rename(&tmp, path)).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::output(format!("cannot write {}: {e}", path.display()))
    })
}

/// The files a command reads, from its arguments: TABLE, `--clinical`, `--use`, and `--model`
/// when `model_is_input` or when the file exists (an existing model inside an `--out` folder
/// that `--force` would replace is protected either way).
pub fn input_paths(args: &Parsed, model_is_input: bool) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = args.positionals.iter().map(PathBuf::from).collect();
    paths.extend(["clinical", "use"].iter().filter_map(|f| args.get(f)).map(PathBuf::from));
    if let Some(m) = args.get("model").map(PathBuf::from)
        && (model_is_input || m.exists())
    {
        paths.push(m);
    }
    paths
}

/// Refuse an output `target` (given with `flag`) that is one of `inputs`, or a folder holding
/// one of them.
pub fn refuse_inputs(target: &Path, flag: &str, inputs: &[PathBuf]) -> Result<()> {
    let target_canon = canonical(target);
    for input in inputs {
        if same_file(target, input) || canonical(input) == target_canon {
            return Err(Error::usage(format!(
                "{flag} {} is the input file {}; write results to another path",
                target.display(),
                input.display()
            )));
        }
        if target.is_dir() && canonical(input).starts_with(&target_canon) {
            return Err(Error::usage(format!(
                "{flag} {} holds the input file {}, which replacing the folder would delete; \
                 choose another {flag}",
                target.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// Whether `a` and `b` name one existing file (hard links and symbolic links included).
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(ma), Ok(mb)) => {
            use std::os::unix::fs::MetadataExt;
            ma.dev() == mb.dev() && ma.ino() == mb.ino()
        }
        _ => false,
    }
}

/// The canonical form of `path`, which need not exist: its nearest existing ancestor
/// canonicalized, with the rest appended.
fn canonical(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            return rest.iter().rev().fold(c, |acc: PathBuf, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(p), Some(name)) => {
                rest.push(name.to_os_string());
                existing = p;
            }
            _ => return absolute,
        }
    }
}

/// The folder `path` is in (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
}

/// `dir` or its nearest ancestor that exists.
fn nearest_existing(dir: &Path) -> PathBuf {
    let mut d = dir;
    while !d.is_dir() {
        match d.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => d = p,
            None => return PathBuf::from("."),
        }
    }
    d.to_path_buf()
}

/// The ancestors of `dir` (itself included) that do not exist, outermost first.
fn missing_ancestors(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    out.reverse();
    out
}
