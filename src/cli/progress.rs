//! Progress on stderr: one line rewritten in place, only when stderr is a terminal and the user
//! did not ask for `--quiet`. Nothing here ever reaches stdout or a result file.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    start: Instant,
    /// When the line was last drawn, to redraw at most a few times a second.
    last: Mutex<Option<Instant>>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            start: Instant::now(),
            last: Mutex::new(None),
        }
    }

    /// Show that `done` of `total` units of `stage` are finished.
    pub fn update(&self, stage: &str, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if done < total && last.is_some_and(|t| now - t < Duration::from_millis(200)) {
            return;
        }
        *last = Some(now);
        let elapsed = (now - self.start).as_secs_f64();
        let left = if done > 0 && done < total {
            format!(", about {:.0} s left", elapsed * (total - done) as f64 / done as f64)
        } else {
            String::new()
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{stage}: {done}/{total}, {elapsed:.1} s{left}");
        if done >= total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}
