//! Helpers shared by the table-reading tests: scratch CSV files and checks of where an input
//! error points.

use std::path::{Path, PathBuf};

use glrfe::data::{self, LoadOptions};
use glrfe::{Error, ErrorKind};

/// Write `bytes` to `name` in the scratch folder `dir` of this test binary.
pub fn temp_csv(dir: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The error loading `path` must give.
pub fn load_err(path: &Path, opts: &LoadOptions) -> Error {
    match data::load(path, opts) {
        Ok(_) => panic!("loading {} should fail", path.display()),
        Err(e) => e,
    }
}

/// Assert an error's kind, file, line and column (`None`: must be absent), and that its
/// message is one line.
pub fn assert_located(
    e: &Error,
    kind: ErrorKind,
    path: &Path,
    line: Option<u64>,
    col: Option<&str>,
) {
    assert_eq!(e.kind(), kind, "{e}");
    assert_eq!(e.file(), Some(path.display().to_string().as_str()), "{e}");
    assert_eq!(e.line(), line, "{e}");
    assert_eq!(e.column(), col, "{e}");
    assert!(!e.to_string().contains('\n'), "one line: {e}");
}
