//! Progress on stderr: one line rewritten in place, only when stderr is a terminal and the user
//! did not ask for `--quiet`. Nothing here ever reaches stdout or a result file.
//!
//! A command announces a stage ([`Progress::stage`], e.g. "GL-RFE on 106 features") and then
//! reports units of it as they finish ([`Progress::update`], e.g. round 12 of 92); the line
//! shows the stage, the unit count, the time since the stage began and an estimate of the time
//! left, taken as the mean time per finished unit so far times the units left.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    state: Mutex<State>,
}

struct State {
    stage: String,
    since: Instant,
    /// When the line was last drawn, to redraw at most a few times a second.
    last: Option<Instant>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            state: Mutex::new(State { stage: String::new(), since: Instant::now(), last: None }),
        }
    }

    /// Begin a stage; its clock starts now.
    pub fn stage(&self, name: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.stage = name.to_string();
        st.since = Instant::now();
        st.last = None;
    }

    /// Show that `done` of `total` `unit`s of the current stage are finished.
    pub fn update(&self, unit: &str, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if done < total && st.last.is_some_and(|t| now - t < Duration::from_millis(200)) {
            return;
        }
        st.last = Some(now);
        let text = line(&st.stage, unit, done, total, (now - st.since).as_secs_f64());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        if done >= total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// `m:ss` (or `h:mm:ss`) for a duration in seconds.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The progress line: `stage: unit done/total, elapsed m:ss, about m:ss left`.
fn line(stage: &str, unit: &str, done: usize, total: usize, elapsed: f64) -> String {
    let prefix = if stage.is_empty() { String::new() } else { format!("{stage}: ") };
    let mut s = format!("{prefix}{unit} {done}/{total}, elapsed {}", clock(elapsed));
    if done > 0 && done < total {
        let left = elapsed / done as f64 * (total - done) as f64;
        s.push_str(&format!(", about {} left", clock(left)));
    } else if done >= total {
        s.push_str(", done");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_stage_count_elapsed_and_left() {
        assert_eq!(
            line("GL-RFE on 106 features", "round", 10, 40, 25.0),
            "GL-RFE on 106 features: round 10/40, elapsed 0:25, about 1:15 left"
        );
        assert_eq!(line("", "fold", 5, 5, 3725.0), "fold 5/5, elapsed 1:02:05, done");
        assert_eq!(line("x", "fold", 0, 5, 1.0), "x: fold 0/5, elapsed 0:01");
    }
}
