//! The `glrfe` command: parses arguments, calls the library, prints results on stdout and
//! everything else on stderr. Exit codes: 0 success, 1 a run that failed (e.g. training
//! diverged, results could not be written), 2 bad usage or bad input.

mod cli;

fn main() {
    std::process::exit(cli::run(std::env::args().skip(1).collect()));
}
