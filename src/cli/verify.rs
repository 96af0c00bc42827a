//! `glrfe verify --out DIR`: re-run what a results folder describes and compare every result
//! byte.
//!
//! The folder's result JSON records the command and its result-changing arguments
//! (`provenance.arguments`, see `result_arguments`) and the SHA-256 of each input. Verify first
//! checks that the inputs still hash the same, then runs this same binary with those arguments
//! into a temporary folder and compares every file of the two folders except `timings.json`.
//! A mismatch, a changed input or a failed re-run exits with 1.

use std::collections::BTreeSet;
use std::process::Stdio;

use super::args::{Command, Flag, Parsed, opt, switch};
use super::*;

const VERIFY: &[Flag] = &[
    opt("out", "DIR", None, "the results folder to check; required"),
    opt("threads", "N", None, "worker threads of the re-run (default: all cores)"),
    switch("quiet", "print only the verdict"),
];

/// Files whose bytes may differ between identical runs.
const NOT_COMPARED: &[&str] = &["timings.json"];

pub fn command() -> Command {
    Command {
        name: "verify",
        usage: "glrfe verify --out DIR",
        about: "Re-run the command a results folder records, into a temporary folder, and \
                report whether every result file matches byte for byte (timings.json \
                excepted). Run it from the folder the original run was started in.",
        groups: vec![("Run", VERIFY)],
    }
}

/// The provenance recorded in the folder: from the first JSON file (in name order) that has a
/// `provenance` object, or a model file's `training.provenance`.
fn find_provenance(dir: &Path) -> Result<(String, Value)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::input(format!("cannot read the results folder: {e}")).in_file(dir))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".json") && !NOT_COMPARED.contains(&n.as_str()))
        .collect();
    names.sort();
    for n in names {
        let path = dir.join(&n);
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(doc) = glrfe::json::parse(&text) else { continue };
        let p =
            doc.get("provenance").or_else(|| doc.get("training").and_then(|t| t.get("provenance")));
        if let Some(p) = p.filter(|p| p.get("arguments").is_some()) {
            return Ok((n, p.clone()));
        }
    }
    Err(Error::input(
        "no result JSON with a recorded provenance (selection.json, evaluation.json, model.json, ...)",
    )
    .in_file(dir))
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let entries = std::fs::read_dir(dir.join(&rel))
            .map_err(|e| Error::output(format!("cannot read {}: {e}", dir.join(&rel).display())))?;
        for e in entries {
            let e = e.map_err(|e| Error::output(format!("cannot read {}: {e}", dir.display())))?;
            let path = rel.join(e.file_name());
            if e.path().is_dir() {
                stack.push(path);
            } else {
                out.insert(path);
            }
        }
    }
    Ok(out)
}

/// Where two byte strings first differ, as "line L, byte B".
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let line = a[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    format!("first difference at line {line}, byte {}", at + 1)
}

/// Removes the temporary folder however verify ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(ctx: &Context, args: &Parsed) -> Result<()> {
    let dir =
        PathBuf::from(args.get("out").ok_or_else(|| Error::usage("'verify' needs --out DIR"))?);
    if !ctx.table.as_os_str().is_empty() {
        return Err(Error::usage(
            "'verify' takes no TABLE: it re-reads the inputs the folder records",
        ));
    }
    let (source, prov) = find_provenance(&dir)?;
    let arguments: Vec<String> = prov
        .get("arguments")
        .and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(|a| a.as_str().map(String::from))
        .collect();
    let command = arguments.first().cloned().unwrap_or_default();
    if command.is_empty() || command == "verify" {
        return Err(Error::input(format!("{source} records no command to re-run")).in_file(&dir));
    }
    let mut report = format!("re-running: glrfe {}\n", arguments.join(" "));

    // The inputs must be the same bytes, or there is nothing to verify.
    for i in prov.get("inputs").and_then(Value::as_array).unwrap_or(&[]) {
        let (Some(f), Some(want)) =
            (i.get("file").and_then(Value::as_str), i.get("sha256").and_then(Value::as_str))
        else {
            continue;
        };
        let now = glrfe::sha256::file_sha256_hex(Path::new(f)).map_err(|e| {
            Error::run(format!(
                "cannot read the input {f} ({e}); run verify from the folder the original run \
                 was started in"
            ))
        })?;
        if now != want {
            return Err(Error::run(format!(
                "the input {f} has changed since the run: SHA-256 {now}, recorded {want}"
            )));
        }
        report.push_str(&format!("input unchanged: {f} (SHA-256 {now})\n"));
    }

    // Re-run into a temporary folder.
    let tmp = TempDir(std::env::temp_dir().join(format!("glrfe-verify-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tmp.0);
    std::fs::create_dir_all(&tmp.0)
        .map_err(|e| Error::output(format!("cannot create {}: {e}", tmp.0.display())))?;
    let rerun_out = tmp.0.join("out");
    let mut argv = arguments.clone();
    if command == "train" {
        // train's --model path is not recorded (it does not change the model); it must be given.
        argv.extend(["--model".to_string(), tmp.0.join("model.json").display().to_string()]);
    }
    argv.extend(["--out".to_string(), rerun_out.display().to_string(), "--quiet".to_string()]);
    if let Some(t) = args.get("threads") {
        argv.extend(["--threads".to_string(), t.to_string()]);
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::run(format!("cannot find the glrfe binary to re-run: {e}")))?;
    let child = std::process::Command::new(exe)
        .args(&argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::run(format!("cannot start the re-run: {e}")))?;
    if !child.status.success() {
        return Err(Error::run(format!(
            "the re-run failed: {}",
            String::from_utf8_lossy(&child.stderr).trim()
        )));
    }

    // Compare every file both ways.
    let skip = |p: &PathBuf| NOT_COMPARED.iter().any(|n| p.as_os_str() == *n);
    let old: BTreeSet<PathBuf> = files_under(&dir)?.into_iter().filter(|p| !skip(p)).collect();
    let new: BTreeSet<PathBuf> =
        files_under(&rerun_out)?.into_iter().filter(|p| !skip(p)).collect();
    let mut bad = 0usize;
    for p in old.union(&new) {
        let line = match (old.contains(p), new.contains(p)) {
            (true, true) => {
                let a = std::fs::read(dir.join(p))
                    .map_err(|e| Error::input(format!("cannot read: {e}")).in_file(dir.join(p)))?;
                let b = std::fs::read(rerun_out.join(p)).map_err(|e| {
                    Error::output(format!("cannot read the re-run's {}: {e}", p.display()))
                })?;
                if a == b {
                    format!("same     {}", p.display())
                } else {
                    bad += 1;
                    format!("DIFFERS  {} ({})", p.display(), first_difference(&a, &b))
                }
            }
            (true, false) => {
                bad += 1;
                format!("DIFFERS  {} (the re-run did not write it)", p.display())
            }
            _ => {
                bad += 1;
                format!("DIFFERS  {} (only the re-run wrote it)", p.display())
            }
        };
        report.push_str(&line);
        report.push('\n');
    }
    let total = old.union(&new).count();
    let verdict = if bad == 0 {
        format!(
            "verified: all {total} result files match byte for byte (timings.json not compared)\n"
        )
    } else {
        format!("NOT verified: {bad} of {total} result files differ\n")
    };
    if ctx.quiet {
        stdout_text(&verdict)?;
    } else {
        stdout_text(&format!("{report}{verdict}"))?;
    }
    if bad == 0 { Ok(()) } else { Err(Error::run(format!("{bad} of {total} result files differ"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_counts_lines_and_bytes() {
        assert_eq!(
            first_difference(b"ab\ncd\n", b"ab\ncx\n"),
            "first difference at line 2, byte 5"
        );
        assert_eq!(first_difference(b"ab", b"abc"), "first difference at line 1, byte 3");
    }
}
