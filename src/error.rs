//! The one error type of glrfe.
//!
//! Every failure the library can report is an [`Error`]: a [`ErrorKind`] saying what class of
//! problem it is (and so which exit code the command-line tool uses), a message saying what is
//! wrong and what to do, and optional context locating it in an input file (file, 1-based line,
//! column name). Messages are lower case and carry no trailing full stop, so that the binary can
//! print them after a `glrfe: error: ` prefix.

use std::fmt;
use std::path::Path;

/// What class of problem an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The command line or the settings are invalid (exit code 2).
    Usage,
    /// An input file is missing, unreadable or malformed (exit code 2).
    Input,
    /// The data are readable but cannot support the requested run, e.g. one class only or fewer
    /// rows than folds (exit code 2).
    Data,
    /// A run started and failed, e.g. training diverged (exit code 1).
    Run,
    /// Writing results failed (exit code 1).
    Output,
}

impl ErrorKind {
    /// The process exit code the command-line tool uses for this kind of error.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage | ErrorKind::Input | ErrorKind::Data => 2,
            ErrorKind::Run | ErrorKind::Output => 1,
        }
    }
}

/// An error with structured context.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    file: Option<String>,
    line: Option<u64>,
    column: Option<String>,
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A new error of `kind` with `message` and no location.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), file: None, line: None, column: None }
    }

    /// Bad usage or settings.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }

    /// A malformed input file.
    pub fn input(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Input, message)
    }

    /// Data that cannot support the run.
    pub fn data(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Data, message)
    }

    /// A run that failed.
    pub fn run(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Run, message)
    }

    /// A failure to write results.
    pub fn output(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Output, message)
    }

    /// Attach the file the error was found in.
    pub fn in_file(mut self, path: impl AsRef<Path>) -> Error {
        self.file = Some(path.as_ref().display().to_string());
        self
    }

    /// Attach the 1-based line of the file the error was found on.
    pub fn at_line(mut self, line: u64) -> Error {
        self.line = Some(line);
        self
    }

    /// Attach the name of the column the error was found in.
    pub fn in_column(mut self, column: impl Into<String>) -> Error {
        self.column = Some(column.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    pub fn line(&self) -> Option<u64> {
        self.line
    }

    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }
}

impl fmt::Display for Error {
    /// `file:line: column 'name': message`, with whichever parts are known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": ")?;
        } else if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(column) = &self.column {
            write!(f, "column '{column}': ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_column() {
        let e = Error::input("'abc' is not a number").in_file("t.csv").at_line(7).in_column("f1");
        assert_eq!(e.to_string(), "t.csv:7: column 'f1': 'abc' is not a number");
        assert_eq!(e.kind().exit_code(), 2);
        assert_eq!(Error::run("diverged").to_string(), "diverged");
        assert_eq!(Error::run("x").kind().exit_code(), 1);
    }
}
