//! Reading radiomics tables into a [`Dataset`]: the first step of the data flow.
//!
//! This module owns everything between a CSV file on disk and a numeric `n x d` matrix with a
//! 0/1 label per row: reading the bytes (UTF-8, optional BOM, CRLF or LF, `,` `;` or tab as the
//! delimiter), choosing the feature columns (by PyRadiomics' naming pattern or by user globs,
//! never by position or count), mapping label values such as stages to two classes, joining a
//! second, clinical table on the patient id, and reporting every problem as an [`Error`] that
//! names the file, line and column and says what to do. It leaves scaling, resampling and
//! everything that learns from the numbers to later modules.
//!
//! Rows whose label is missing or not mapped to a class are not errors: real clinical tables
//! have them (Lung1 has one patient with stage `NA`), so they are left out and listed in the
//! [`LoadSummary`], which the command-line tool prints. Malformed cells are errors, because a
//! silently dropped or zero-filled feature would change the result without anyone noticing.
//! Missing cells (empty, `nan`, `NA`, infinities) are errors too unless [`Missing`] says
//! otherwise; feature columns that cannot inform a model (constant, or with no value at all)
//! are dropped and listed in the summary, which prints them as a warning.
//!
//! Files are streamed, one row at a time, by a small RFC 4180 reader written here (it counts
//! lines exactly, names the column of a bad byte, and never holds more than one row of text),
//! so a table of any size costs its feature matrix, 8 bytes a used cell, plus each row's id.
//!
//! # Limitations
//! - A feature column that is constant within a training fold but not over the whole table is
//!   kept; the scaler maps it to 0 on that fold's training rows (see
//!   [`Scaler`](crate::preprocess::Scaler)).
//! - A decimal comma is read only in tables delimited by `;` or tab, and only in a cell with one
//!   comma and no point: `1.234,5` (a point for thousands) is refused, not guessed.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::matrix::Matrix;

/// The feature classes PyRadiomics computes; the middle part of `<imageType>_<class>_<Feature>`.
const PYRADIOMICS_CLASSES: [&str; 8] =
    ["shape", "shape2D", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"];

/// The id column used when [`LoadOptions::id`] is not given and the header has it.
const DEFAULT_ID: &str = "PatientID";

/// How to read a table. `LoadOptions::default()` reads a PyRadiomics table with a `PatientID`
/// column; a label must still be named for [`load`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// Globs (`*` any run of characters, `?` one character) naming the feature columns, e.g.
    /// `["original_*", "wavelet-LLH_*"]`. Every pattern must match at least one column, so a
    /// typo is reported rather than silently giving fewer features. `None` selects the columns
    /// whose names follow PyRadiomics' pattern (see [`is_pyradiomics_feature`]).
    pub features: Option<Vec<String>>,
    /// The id column. `None` uses `PatientID` if the header has it and otherwise numbers the
    /// rows `row<line>` by their line in the file (a pandas index column, unnamed, is ignored).
    pub id: Option<String>,
    /// The label column, in the feature table or in the clinical file. If both files have it,
    /// the clinical file's column is used: that is what passing a clinical file asks for.
    pub label: Option<String>,
    /// Label values mapped to class 1, compared after trimming and ignoring case.
    pub positive: Vec<String>,
    /// Label values mapped to class 0. With both lists empty the label column must hold 0/1.
    pub negative: Vec<String>,
    /// A second CSV joined to the feature table on the id column.
    pub clinical: Option<PathBuf>,
    /// The id column of the clinical file; `None` uses the feature table's id column name.
    pub clinical_id: Option<String>,
    /// The field delimiter of both files; `None` detects `,`, `;` or tab from each header line.
    pub delimiter: Option<u8>,
    /// What to do with missing feature cells (empty, `nan`, `NA`, `inf`, ...).
    pub missing: Missing,
    /// Keep feature columns that are constant (or entirely missing) over the rows used, instead
    /// of dropping them with a warning. For applying a saved model to new rows, which needs
    /// every column it was trained on whatever their spread in those rows (a single row is
    /// constant in every column).
    pub keep_constant: bool,
}

/// What [`load`] does with a feature cell that has no usable value: empty, a missing-value mark
/// (`nan`, `NA`, `N/A`, `#N/A`, `null`, `none`, any case) or an infinity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Missing {
    /// Refuse the table, naming the first such cell (the default: nothing changes unseen).
    #[default]
    Error,
    /// Leave out every row with a missing feature cell; each is listed in the summary.
    DropRows,
    /// Drop every feature column with a missing cell; each is listed in the summary.
    DropColumns,
    /// Keep the cells as NaN in the matrix; [`Scaler`](crate::preprocess::Scaler) replaces them
    /// with the median of the training rows it is fitted on, so no test row informs the value.
    Median,
}

/// A labelled table: one row a patient, one column a feature, rows in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Patient ids, one per row.
    pub ids: Vec<String>,
    /// Feature names, one per column of `x`.
    pub names: Vec<String>,
    /// Feature values (n x d).
    pub x: Matrix,
    /// Class per row, 0 or 1.
    pub y: Vec<usize>,
    /// Display names of class 0 and class 1, e.g. `"I,II"` and `"IIIa,IIIb"`, or `"0"`, `"1"`.
    pub classes: [String; 2],
}

impl Dataset {
    /// Number of rows (patients).
    pub fn n(&self) -> usize {
        self.x.rows()
    }

    /// Number of features.
    pub fn d(&self) -> usize {
        self.x.cols()
    }

    /// Rows of class 0 and of class 1.
    pub fn class_counts(&self) -> [usize; 2] {
        class_counts(&self.y)
    }

    /// The same rows with only the features at `idx`, in that order.
    pub fn select_features(&self, idx: &[usize]) -> Dataset {
        Dataset {
            ids: self.ids.clone(),
            names: idx.iter().map(|&j| self.names[j].clone()).collect(),
            x: self.x.select_cols(idx),
            y: self.y.clone(),
            classes: self.classes.clone(),
        }
    }

    /// The rows at `idx`, in that order (indices may repeat), with all features.
    pub fn select_rows(&self, idx: &[usize]) -> Dataset {
        Dataset {
            ids: idx.iter().map(|&i| self.ids[i].clone()).collect(),
            names: self.names.clone(),
            x: self.x.select_rows(idx),
            y: idx.iter().map(|&i| self.y[i]).collect(),
            classes: self.classes.clone(),
        }
    }

    /// The column of the feature called `name`, if there is one.
    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// A row of the feature table that was read but not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftOut {
    /// The row's id.
    pub id: String,
    /// The row's 1-based line in the feature table.
    pub line: u64,
    /// Why, e.g. `label missing` or `no row in clinical file`.
    pub reason: String,
}

/// What [`load`] did, for the user to check: which rows and columns it used and which not.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadSummary {
    /// The feature table, then the clinical file if one was joined.
    pub files: Vec<PathBuf>,
    /// Data rows read from the feature table.
    pub rows_read: usize,
    /// Rows read but not used, in file order.
    pub left_out: Vec<LeftOut>,
    /// Columns of the feature table that are not features (the id and label included).
    pub ignored_columns: Vec<String>,
    /// Number of feature columns used.
    pub features: usize,
    /// Rows of class 0 and class 1 used.
    pub class_counts: [usize; 2],
    /// Display names of class 0 and class 1, as in [`Dataset::classes`].
    pub classes: [String; 2],
    /// Feature columns dropped, and why: constant over the rows used, every cell missing, or
    /// (with [`Missing::DropColumns`]) some cell missing.
    pub dropped_features: Vec<(String, String)>,
    /// Missing cells left in the matrix as NaN for imputation ([`Missing::Median`]).
    pub missing_cells: usize,
}

impl LoadSummary {
    /// A few lines for stderr saying what was read, used, left out and ignored.
    pub fn describe(&self) -> String {
        const MAX_LISTED: usize = 10;
        let mut s = String::new();

        let files: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        let _ = write!(s, "read {} rows from {}", self.rows_read, files.first().map_or("", |f| f));
        if files.len() > 1 {
            let _ = write!(s, ", joined with {} on the id", files[1..].join(", "));
        }
        s.push('\n');

        let used = self.class_counts[0] + self.class_counts[1];
        // A 0/1 label column names its classes "0" and "1": nothing to add then.
        let name = |k: usize| {
            let n = &self.classes[k];
            if *n == k.to_string() { String::new() } else { format!(" ({n})") }
        };
        let _ = writeln!(
            s,
            "using {used} rows: {} of class 0{}, {} of class 1{}",
            self.class_counts[0],
            name(0),
            self.class_counts[1],
            name(1)
        );

        if !self.left_out.is_empty() {
            let _ = writeln!(
                s,
                "left out {} {}:",
                self.left_out.len(),
                plural(self.left_out.len(), "row")
            );
            for l in self.left_out.iter().take(MAX_LISTED) {
                let _ = writeln!(s, "  {} (line {}): {}", l.id, l.line, l.reason);
            }
            if self.left_out.len() > MAX_LISTED {
                let _ = writeln!(s, "  ... and {} more", self.left_out.len() - MAX_LISTED);
            }
        }

        if !self.dropped_features.is_empty() {
            let n = self.dropped_features.len();
            let _ = write!(s, "warning: dropped {n} feature {}:", plural(n, "column"));
            for (name, why) in self.dropped_features.iter().take(MAX_LISTED) {
                let _ = write!(s, "\n  {name}: {why}");
            }
            if n > MAX_LISTED {
                let _ = write!(s, "\n  ... and {} more", n - MAX_LISTED);
            }
            s.push('\n');
        }
        if self.missing_cells > 0 {
            let _ = writeln!(
                s,
                "{} missing {} will be imputed with the median of the training rows",
                self.missing_cells,
                plural(self.missing_cells, "cell")
            );
        }

        let _ = write!(s, "using {} {}", self.features, plural(self.features, "feature"));
        if !self.ignored_columns.is_empty() {
            let n = self.ignored_columns.len();
            let shown: Vec<&str> =
                self.ignored_columns.iter().take(MAX_LISTED).map(String::as_str).collect();
            let _ = write!(s, "; ignored {n} {}: {}", plural(n, "column"), shown.join(", "));
            if n > MAX_LISTED {
                let _ = write!(s, ", ... and {} more", n - MAX_LISTED);
            }
        }
        s.push('\n');
        s
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}

fn class_counts(y: &[usize]) -> [usize; 2] {
    let mut c = [0, 0];
    for &v in y {
        c[v.min(1)] += 1;
    }
    c
}

/// Whether `name` follows PyRadiomics' feature naming, `<imageType>_<class>_<Feature>`.
///
/// The image type is a token of ASCII letters, digits, `-` and `.` starting with a letter
/// (`original`, `wavelet-LLH`, `log-sigma-1-0-mm-3D`, `lbp-3D-m1`, ...) other than
/// `diagnostics`; the class is one of PyRadiomics' feature classes; the feature is
/// alphanumeric. Matching the pattern rather than taking "every numeric column" is what keeps
/// clinical columns (age, survival time) and extraction diagnostics out of the features.
pub fn is_pyradiomics_feature(name: &str) -> bool {
    let mut parts = name.split('_');
    let (Some(image), Some(class), Some(feature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };

    let image_ok = image.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && image.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && image != "diagnostics";
    let feature_ok = !feature.is_empty() && feature.chars().all(|c| c.is_ascii_alphanumeric());

    image_ok && PYRADIOMICS_CLASSES.contains(&class) && feature_ok
}

/// Whether `name` matches the glob `pattern`: `*` matches any run of characters (also none),
/// `?` exactly one, every other character itself (case matters, as in PyRadiomics' names).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();

    // Greedy matching with one backtrack point: the last `*` seen and where in `s` it started.
    // Backtracking to the last star only is enough: once the text after an earlier star has
    // been matched up to a later star, that later star can absorb whatever the earlier one
    // might have absorbed instead.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

// ---------------------------------------------------------------------------------------------
// Reading a CSV file
// ---------------------------------------------------------------------------------------------

/// The longest row the reader accepts, quoted line breaks included. Generous (a single 100 MB
/// cell reads), yet it stops a file without line breaks (or with an unclosed quote) from
/// growing one row without bound.
pub const MAX_ROW_BYTES: usize = 256 << 20;

/// Where the reader is inside a row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// Inside a field that did not start with a quote.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: the closing quote, or the first of `""`.
    QuoteInQuoted,
    /// After a quoted field's closing quote and blanks, before the delimiter.
    AfterQuoted,
}

/// A streaming CSV reader: one row in memory at a time, each with the exact 1-based line of
/// the file it starts on (blank lines counted, as an editor shows them).
///
/// Fields follow RFC 4180: a field starting with `"` (blanks before it allowed) is quoted, may
/// hold delimiters and line breaks, writes a quote as `""`, and must end at its closing quote
/// (blanks allowed before the delimiter); a quote inside an unquoted field is an ordinary
/// character. Line ends may be LF or CRLF. A line holding only blanks is not a row. Every row
/// must be UTF-8; a byte order mark before the header is skipped.
struct CsvReader<R> {
    input: R,
    path: PathBuf,
    delimiter: u8,
    /// Physical lines consumed so far.
    line: u64,
    /// The current physical line, terminator included; `pending` if not yet parsed.
    raw: Vec<u8>,
    pending: bool,
    /// Unescaped bytes of the row being read, then (validated) its text.
    buf: Vec<u8>,
    text: String,
    /// End offset in `text` of each field.
    ends: Vec<usize>,
    /// The header, once read.
    header: Header,
}

/// The column names of a table and where they are.
struct Header {
    path: PathBuf,
    names: Vec<String>,
    line: u64,
}

impl Header {
    fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|h| h == name)
    }

    /// The display name of column `j`: its name, or its position if it has none (a pandas
    /// index column is written with an empty name).
    fn display_name(&self, j: usize) -> String {
        match self.names.get(j) {
            Some(n) if !n.is_empty() => n.clone(),
            _ => format!("(unnamed column {})", j + 1),
        }
    }

    fn cell_error(&self, line: u64, col: usize, msg: String) -> Error {
        Error::input(msg).in_file(&self.path).at_line(line).in_column(self.display_name(col))
    }
}

/// Open `path` for reading, with a message saying what to do when that fails.
fn open_file(path: &Path) -> Result<std::fs::File> {
    let fail = |msg: String| Error::input(msg).in_file(path);
    let file = std::fs::File::open(path).map_err(|e| {
        fail(match e.kind() {
            std::io::ErrorKind::NotFound => "file not found; check the path".to_string(),
            std::io::ErrorKind::PermissionDenied => {
                "permission denied reading the file; check its permissions".to_string()
            }
            _ => format!("cannot read the file ({e}); check that it is a readable file"),
        })
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(fail("this is a folder, not a file; give the path of the CSV file".into()));
    }
    Ok(file)
}

impl<R: BufRead> CsvReader<R> {
    /// Start reading `input` (named `path` in messages) and read its header line. `None`
    /// detects the delimiter from the header line (see [`detect_delimiter`]).
    fn new(input: R, path: &Path, delimiter: Option<u8>) -> Result<CsvReader<R>> {
        let header = Header { path: path.to_path_buf(), names: Vec::new(), line: 0 };
        let mut r = CsvReader {
            input,
            path: path.to_path_buf(),
            delimiter: b',',
            line: 0,
            raw: Vec::new(),
            pending: false,
            buf: Vec::new(),
            text: String::new(),
            ends: Vec::new(),
            header,
        };

        // The first line that is not blank is the header; the delimiter is detected from it.
        loop {
            if !r.read_line()? {
                return Err(Error::input(
                    "the file is empty; expected a header line naming the columns, then one row \
                     a patient",
                )
                .in_file(path)
                .at_line(1));
            }
            if r.line == 1 && r.raw.starts_with(b"\xEF\xBB\xBF") {
                // Spreadsheet programs often start a "CSV UTF-8" export with a byte order mark;
                // it is not part of the first column's name.
                r.raw.drain(..3);
            }
            if !is_blank(&r.raw) {
                break;
            }
        }
        r.delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&r.raw));
        r.pending = true;

        let line = r.next_row()?.unwrap_or(1);
        let names: Vec<String> = (0..r.len()).map(|j| r.field(j).trim().to_string()).collect();
        check_unique_names(&names, path, line)?;
        r.header.names = names;
        r.header.line = line;
        Ok(r)
    }

    /// Read the next physical line into `raw`; `false` at the end of the input.
    fn read_line(&mut self) -> Result<bool> {
        self.raw.clear();
        let limit = (MAX_ROW_BYTES + 2) as u64;
        let n = (&mut self.input).take(limit).read_until(b'\n', &mut self.raw).map_err(|e| {
            Error::input(format!("cannot read the file ({e})"))
                .in_file(&self.path)
                .at_line(self.line + 1)
        })?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.raw.len() > MAX_ROW_BYTES && !self.raw.ends_with(b"\n") {
            return Err(self.too_long(self.line));
        }
        Ok(true)
    }

    fn too_long(&self, line: u64) -> Error {
        Error::input(format!(
            "the row starting here is longer than {} MiB; check that this is a CSV table with \
             one row a line, and that every quoted field has its closing quote",
            MAX_ROW_BYTES >> 20
        ))
        .in_file(&self.path)
        .at_line(line)
    }

    fn syntax_error(&self, line: u64, column: usize, msg: &str) -> Error {
        Error::input(format!("{msg} (at character {column} of the line)"))
            .in_file(&self.path)
            .at_line(line)
    }

    /// Read the next row; `Ok(Some(line))` gives the line it starts on, its fields are then
    /// [`CsvReader::field`]`(0..len)`. `Ok(None)` at the end of the input.
    fn next_row(&mut self) -> Result<Option<u64>> {
        self.buf = std::mem::take(&mut self.text).into_bytes();
        self.buf.clear();
        self.ends.clear();

        let delim = self.delimiter;
        let mut state = State::FieldStart;
        let mut field_start = 0;
        let mut start_line = None;
        let mut quote_line = 0;
        loop {
            if self.pending {
                self.pending = false;
            } else if !self.read_line()? {
                match start_line {
                    None => return Ok(None),
                    // Only a quoted field can carry a row past the end of a line.
                    Some(_) => {
                        return Err(Error::input(
                            "a quoted field opened on this line is never closed; add the \
                             closing quote (inside quotes, write a quote as \"\")",
                        )
                        .in_file(&self.path)
                        .at_line(quote_line));
                    }
                }
            }
            if start_line.is_none() {
                if is_blank(&self.raw) {
                    continue;
                }
                start_line = Some(self.line);
            }

            let line = self.line;
            let mut body: &[u8] = &self.raw;
            let mut terminator: &[u8] = b"";
            if let Some(b) = body.strip_suffix(b"\n") {
                body = b;
                terminator = b"\n";
                if let Some(b) = body.strip_suffix(b"\r") {
                    body = b;
                    terminator = b"\r\n";
                }
            }

            for (i, &b) in body.iter().enumerate() {
                match state {
                    State::FieldStart | State::Unquoted if b == delim => {
                        self.ends.push(self.buf.len());
                        field_start = self.buf.len();
                        state = State::FieldStart;
                    }
                    State::FieldStart | State::Unquoted if b == b'\r' => {
                        return Err(self.syntax_error(
                            line,
                            i + 1,
                            "a carriage return without a line feed (old Mac line ends, or a \
                             stray control character); save the file with LF or CRLF line ends",
                        ));
                    }
                    State::FieldStart | State::Unquoted
                        if b == b'"'
                            && self.buf[field_start..].iter().all(u8::is_ascii_whitespace) =>
                    {
                        self.buf.truncate(field_start);
                        state = State::Quoted;
                        quote_line = line;
                    }
                    State::FieldStart | State::Unquoted => {
                        self.buf.push(b);
                        state = State::Unquoted;
                    }
                    State::Quoted if b == b'"' => state = State::QuoteInQuoted,
                    State::Quoted => self.buf.push(b),
                    State::QuoteInQuoted if b == b'"' => {
                        self.buf.push(b'"');
                        state = State::Quoted;
                    }
                    State::QuoteInQuoted | State::AfterQuoted if b == delim => {
                        self.ends.push(self.buf.len());
                        field_start = self.buf.len();
                        state = State::FieldStart;
                    }
                    State::QuoteInQuoted | State::AfterQuoted if b == b' ' || b == b'\t' => {
                        state = State::AfterQuoted;
                    }
                    State::QuoteInQuoted | State::AfterQuoted => {
                        return Err(self.syntax_error(
                            line,
                            i + 1,
                            "text after the closing quote of a quoted field; a quoted field \
                             must end at its closing quote, and a quote inside it is written \
                             as \"\"",
                        ));
                    }
                }
            }
            if self.buf.len() > MAX_ROW_BYTES {
                return Err(self.too_long(start_line.unwrap_or(line)));
            }
            if state == State::Quoted {
                // A line break inside quotes belongs to the field.
                self.buf.extend_from_slice(terminator);
                continue;
            }
            self.ends.push(self.buf.len());
            break;
        }

        // The fields' bytes are stored end to end without their delimiters, so the whole row
        // can be valid UTF-8 while a field boundary splits a character (bytes of one character
        // on both sides of a delimiter): both are checked.
        let start = start_line.unwrap_or(self.line);
        let bad_at = match String::from_utf8(std::mem::take(&mut self.buf)) {
            Ok(text) => {
                self.text = text;
                match self.ends.iter().position(|&end| !self.text.is_char_boundary(end)) {
                    None => return Ok(Some(start)),
                    Some(j) => {
                        let end = self.ends[j];
                        let first = (0..end).rev().find(|&i| self.text.is_char_boundary(i));
                        (first.unwrap_or(0), self.text.as_bytes()[first.unwrap_or(0)])
                    }
                }
            }
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let byte = e.as_bytes()[at];
                self.text = String::new();
                (at, byte)
            }
        };
        let (at, byte) = bad_at;
        let col = self.ends.partition_point(|&end| end <= at);
        let place = if self.header.names.is_empty() {
            "the header".to_string()
        } else {
            format!("column '{}'", self.header.display_name(col))
        };
        Err(Error::input(format!(
            "the file is not UTF-8 text (byte 0x{byte:02X} in {place}); save it as UTF-8 \
             (\"CSV UTF-8\")"
        ))
        .in_file(&self.path)
        .at_line(start))
    }

    /// Number of fields of the current row.
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `j` of the current row, untrimmed.
    fn field(&self, j: usize) -> &str {
        let start = if j == 0 { 0 } else { self.ends[j - 1] };
        &self.text[start..self.ends[j]]
    }

    /// Appends the feature cells `cols` of the current row (read from `line`) to `x`: a number,
    /// or `NaN` for a missing cell, which also sets `has_missing[k]` for column `cols[k]`.
    /// Returns the first column with a missing cell. A cell that is not a number, or a missing
    /// one under [`Missing::Error`], is an error naming the line and column.
    fn push_cells(
        &self,
        line: u64,
        cols: &[usize],
        missing: Missing,
        x: &mut Vec<f64>,
        has_missing: &mut [bool],
    ) -> Result<Option<usize>> {
        // With any other delimiter, a decimal comma is allowed (see `parse_cell`).
        let decimal_comma = self.delimiter != b',';
        let mut first_missing = None;
        for (k, &j) in cols.iter().enumerate() {
            match parse_cell(self.field(j), decimal_comma) {
                Cell::Value(v) => x.push(v),
                Cell::Missing(what) => {
                    if missing == Missing::Error {
                        return Err(self.header.cell_error(line, j, missing_message(&what)));
                    }
                    first_missing.get_or_insert(j);
                    has_missing[k] = true;
                    x.push(f64::NAN);
                }
                Cell::Bad(msg) => return Err(self.header.cell_error(line, j, msg)),
            }
        }
        Ok(first_missing)
    }

    /// The next data row, checked to have as many fields as the header.
    fn next_data_row(&mut self) -> Result<Option<u64>> {
        let Some(line) = self.next_row()? else { return Ok(None) };
        if self.len() != self.header.names.len() {
            return Err(Error::input(format!(
                "expected {} fields as in the header, found {}; look for a missing or extra \
                 delimiter, or a delimiter inside an unquoted value",
                self.header.names.len(),
                self.len()
            ))
            .in_file(&self.path)
            .at_line(line));
        }
        Ok(Some(line))
    }
}

/// One row of [`read_records`]: its 1-based line and its fields.
pub type Record = (u64, Vec<String>);

/// A small comma-separated file read whole: its header names and every row's fields (trimmed)
/// with the row's 1-based line, each row checked to have as many fields as the header. For the
/// tool's own outputs read back (e.g. a ranking), through the same reader as feature tables.
pub fn read_records(path: &Path) -> Result<(Vec<String>, Vec<Record>)> {
    let file = std::io::BufReader::new(open_file(path)?);
    let mut r = CsvReader::new(file, path, Some(b','))?;
    let mut rows = Vec::new();
    while let Some(line) = r.next_data_row()? {
        rows.push((line, (0..r.len()).map(|j| r.field(j).trim().to_string()).collect()));
    }
    Ok((r.header.names.clone(), rows))
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The delimiter of a table, guessed from its header line: whichever of `,` `;` tab occurs most
/// often outside quotes (`,` on a tie or when none occurs). European spreadsheet exports use `;`
/// because `,` is their decimal mark.
fn detect_delimiter(header_line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &c in header_line {
        match c {
            b'"' => quoted = !quoted,
            b'\n' => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for k in 1..3 {
        if counts[k] > counts[best] {
            best = k;
        }
    }
    candidates[best]
}

fn check_unique_names(names: &[String], path: &Path, line: u64) -> Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (j, name) in names.iter().enumerate() {
        if let Some(&first) = seen.get(name.as_str()) {
            let err = if name.is_empty() {
                Error::input(format!(
                    "columns {} and {} both have no name; give every column but a leading \
                     index column a name",
                    first + 1,
                    j + 1
                ))
            } else {
                Error::input(format!(
                    "column name appears twice, as columns {} and {}; rename or drop one",
                    first + 1,
                    j + 1
                ))
                .in_column(name.clone())
            };
            return Err(err.in_file(path).at_line(line));
        }
        seen.insert(name, j);
    }
    Ok(())
}

/// At most 40 characters of `s`, for messages: a 100 MB cell must not become a 100 MB line.
fn shown(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes)", &s[..cut], s.len()),
    }
}

// ---------------------------------------------------------------------------------------------
// Columns: ids, features, "did you mean"
// ---------------------------------------------------------------------------------------------

/// Where row ids come from.
#[derive(Clone, Copy)]
enum IdSource {
    Column(usize),
    /// `row<line>`, for tables without an id column.
    LineNumber,
}

/// The column called `name`, or an error suggesting the closest names.
fn named_column(header: &Header, name: &str, option: &str) -> Result<usize> {
    header.column(name).ok_or_else(|| {
        Error::input(format!(
            "no id column of this name in the header; {}; pass {option} with the name of the \
             column identifying patients",
            closest_names(&header.names, name)
        ))
        .in_file(&header.path)
        .at_line(header.line)
        .in_column(name)
    })
}

fn id_source(header: &Header, id: Option<&str>, option: &str) -> Result<IdSource> {
    match id {
        Some(name) => named_column(header, name, option).map(IdSource::Column),
        None => Ok(header.column(DEFAULT_ID).map_or(IdSource::LineNumber, IdSource::Column)),
    }
}

/// Ids already seen, to refuse a second row of the same patient.
#[derive(Default)]
struct IdCheck {
    seen: HashMap<String, u64>,
}

impl IdCheck {
    /// The trimmed id in column `col` on `line`, checked to be non-empty and new.
    fn check(&mut self, header: &Header, line: u64, col: usize, raw: &str) -> Result<String> {
        let id = raw.trim();
        if id.is_empty() {
            return Err(header.cell_error(
                line,
                col,
                "the id is empty; every row needs an id (or remove the row)".to_string(),
            ));
        }
        if let Some(&first) = self.seen.get(id) {
            return Err(header.cell_error(
                line,
                col,
                format!(
                    "id '{}' is on line {first} and again on line {line}; ids must be unique, \
                     one row a patient; if the table has several rows per patient (e.g. one per \
                     ROI), filter it to one row each first",
                    shown(id)
                ),
            ));
        }
        self.seen.insert(id.to_string(), line);
        Ok(id.to_string())
    }
}

/// The feature columns of `header` in header order, never one of `exclude` (id, label).
fn feature_columns(
    header: &Header,
    globs: Option<&[String]>,
    exclude: &[usize],
) -> Result<Vec<usize>> {
    let candidates = (0..header.names.len()).filter(|j| !exclude.contains(j));
    let err = |msg: String| Error::input(msg).in_file(&header.path).at_line(header.line);

    match globs {
        None => {
            let cols: Vec<usize> =
                candidates.filter(|&j| is_pyradiomics_feature(&header.names[j])).collect();
            if cols.is_empty() {
                return Err(err(
                    "no column is named like a PyRadiomics feature (<imageType>_<class>_<Feature>, \
                     e.g. original_firstorder_Mean); name the feature columns with --features, \
                     e.g. --features 'f_*'"
                        .to_string(),
                ));
            }
            Ok(cols)
        }
        Some(globs) => {
            if globs.is_empty() {
                return Err(Error::usage(
                    "the list of feature patterns is empty; give at least one, e.g. 'original_*'",
                ));
            }
            let candidates: Vec<usize> = candidates.collect();
            for g in globs {
                if !candidates.iter().any(|&j| glob_match(g, &header.names[j])) {
                    return Err(err(format!(
                        "feature pattern '{g}' matches no column; {}; fix the pattern given \
                         with --features ('*' matches any run of characters, '?' one)",
                        closest_names(&header.names, g)
                    )));
                }
            }
            Ok(candidates
                .into_iter()
                .filter(|&j| globs.iter().any(|g| glob_match(g, &header.names[j])))
                .collect())
        }
    }
}

/// "closest column names: 'a', 'b', 'c'", by edit distance ignoring case.
fn closest_names(names: &[String], target: &str) -> String {
    let target = target.to_lowercase();
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| (edit_distance(&n.to_lowercase(), &target), n.as_str()))
        .collect();
    if scored.is_empty() {
        return "the header has no named columns".to_string();
    }
    scored.sort();
    let shown: Vec<String> =
        scored.iter().take(3).map(|(_, n)| format!("'{}'", shown(n))).collect();
    format!("closest column names: {}", shown.join(", "))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

// ---------------------------------------------------------------------------------------------
// Feature cells
// ---------------------------------------------------------------------------------------------

/// Spellings of a missing value (compared ignoring ASCII case), besides an empty cell:
/// PyRadiomics and pandas write `nan`, R writes `NA`, spreadsheets `#N/A`.
const MISSING_MARKS: [&str; 7] = ["nan", "-nan", "na", "n/a", "#n/a", "null", "none"];

/// What a feature cell holds.
#[derive(Debug, PartialEq)]
enum Cell {
    Value(f64),
    /// No usable value: empty, a missing-value mark, NaN or an infinity; the text says which.
    Missing(String),
    /// Not a number: the message says what is wrong.
    Bad(String),
}

/// Parse one feature cell. With `decimal_comma` (the delimiter is not `,`), one `,` and no `.`
/// is a decimal comma: `1,5` is 1.5, as European spreadsheets write it.
fn parse_cell(raw: &str, decimal_comma: bool) -> Cell {
    let v = raw.trim();
    if v.is_empty() {
        return Cell::Missing("the cell is empty".to_string());
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => return Cell::Value(x),
        Ok(x) if x.is_nan() => {
            return Cell::Missing(format!("'{}' marks a missing value", shown(v)));
        }
        Ok(_) => return Cell::Missing(format!("'{}' is not a finite number", shown(v))),
        Err(_) => {}
    }
    if MISSING_MARKS.iter().any(|m| m.eq_ignore_ascii_case(v)) {
        return Cell::Missing(format!("'{v}' marks a missing value"));
    }
    let one_comma = v.bytes().filter(|&b| b == b',').count() == 1 && !v.contains('.');
    if one_comma && v.len() < 64 {
        let dotted = v.replacen(',', ".", 1);
        if dotted.parse::<f64>().is_ok() {
            if decimal_comma {
                return parse_cell(&dotted, false);
            }
            return Cell::Bad(format!(
                "'{v}' is not a number: it looks like a decimal comma in a table delimited by \
                 ','; write decimals with '.', or save the table with ';' as the delimiter"
            ));
        }
    }
    Cell::Bad(format!(
        "'{}' is not a number; feature cells must be numbers like 0.25 or 1e-3",
        shown(v)
    ))
}

/// The message for a missing cell under [`Missing::Error`].
fn missing_message(what: &str) -> String {
    format!(
        "{what}; PyRadiomics writes nan for features it could not compute; fix the value, leave \
         the column out of --features, or pass --missing drop-rows, drop-columns or median"
    )
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

/// How label values become classes.
enum LabelMap {
    /// The column holds 0/1 already.
    Binary,
    /// Values (trimmed, lower case) of class 1 and class 0.
    Lists { positive: Vec<String>, negative: Vec<String> },
}

/// What a label value means.
enum Mapped {
    Class(usize),
    LeftOut(String),
    /// Not a 0/1 value in a column that must hold 0/1.
    Invalid,
}

impl LabelMap {
    fn new(positive: &[String], negative: &[String]) -> Result<(LabelMap, [String; 2])> {
        let clean = |v: &[String]| -> Vec<String> {
            v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        };
        let (pos, neg) = (clean(positive), clean(negative));

        match (pos.is_empty(), neg.is_empty()) {
            (true, true) => return Ok((LabelMap::Binary, ["0".to_string(), "1".to_string()])),
            (false, false) => {}
            _ => {
                return Err(Error::usage(
                    "--positive and --negative go together: give the label values of class 1 \
                     and those of class 0 (e.g. --positive IIIa,IIIb --negative I,II)",
                ));
            }
        }
        for p in &pos {
            if neg.iter().any(|n| n.to_lowercase() == p.to_lowercase()) {
                return Err(Error::usage(format!(
                    "label value '{p}' is in both --positive and --negative; each value must \
                     map to one class"
                )));
            }
        }

        let classes = [neg.join(","), pos.join(",")];
        let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect();
        Ok((LabelMap::Lists { positive: lower(&pos), negative: lower(&neg) }, classes))
    }

    fn map(&self, raw: &str) -> Mapped {
        let v = raw.trim();
        if v.is_empty() {
            return Mapped::LeftOut("label missing".to_string());
        }
        match self {
            LabelMap::Lists { positive, negative } => {
                let lower = v.to_lowercase();
                if positive.contains(&lower) {
                    Mapped::Class(1)
                } else if negative.contains(&lower) {
                    Mapped::Class(0)
                } else {
                    Mapped::LeftOut(format!("label '{v}' not in --positive/--negative"))
                }
            }
            LabelMap::Binary => {
                if ["na", "nan", "n/a"].contains(&v.to_lowercase().as_str()) {
                    return Mapped::LeftOut(format!("label '{v}' marks a missing value"));
                }
                match v.parse::<f64>() {
                    Ok(0.0) => Mapped::Class(0),
                    Ok(1.0) => Mapped::Class(1),
                    _ => Mapped::Invalid,
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// The clinical file, reduced to what the join needs: per id, its line and its label cell.
struct Clinical {
    header: Header,
    /// The label column, unless the clinical file lacks it (or it is the id column).
    label_col: Option<usize>,
    rows: HashMap<String, (u64, String)>,
    /// The first id, for the message when no id matches.
    first_id: String,
    id_name: String,
}

impl Clinical {
    fn read(path: &Path, delimiter: Option<u8>, id_name: &str, label: &str) -> Result<Clinical> {
        let input = std::io::BufReader::with_capacity(READ_BUFFER, open_file(path)?);
        let mut r = CsvReader::new(input, path, delimiter)?;
        let id_col = named_column(&r.header, id_name, "--clinical-id")?;
        let label_col = r.header.column(label).filter(|&j| j != id_col);

        let mut ids = IdCheck::default();
        let mut rows = HashMap::new();
        let mut first_id = None;
        while let Some(line) = r.next_data_row()? {
            let id = ids.check(&r.header, line, id_col, r.field(id_col))?;
            let cell = label_col.map(|j| r.field(j).to_string()).unwrap_or_default();
            first_id.get_or_insert_with(|| id.clone());
            rows.insert(id, (line, cell));
        }
        let Some(first_id) = first_id else {
            return Err(no_rows(&r.header));
        };
        let id_name = r.header.names[id_col].clone();
        Ok(Clinical { header: r.header, label_col, rows, first_id, id_name })
    }
}

fn no_rows(header: &Header) -> Error {
    Error::input("the file has a header line but no data rows; expected one row a patient")
        .in_file(&header.path)
        .at_line(header.line)
}

/// Bytes read from the file at a time.
const READ_BUFFER: usize = 1 << 16;

/// Read a labelled table for training or evaluation.
///
/// Reads `path` (and [`LoadOptions::clinical`], joined on the id), picks the feature columns,
/// maps labels to classes 0 and 1, and leaves out rows whose label is missing or unmapped or
/// whose id the clinical file lacks. Rows keep their file order. Missing feature cells are
/// handled as [`LoadOptions::missing`] says; feature columns that are constant over the rows
/// used (after dropping), or have no value at all, are dropped and listed in
/// [`LoadSummary::dropped_features`] unless [`LoadOptions::keep_constant`] is set.
///
/// The table is streamed: memory is the feature matrix (8 bytes a used cell), one row of text
/// and each row's id, whatever the file's size.
///
/// # Errors
/// [`ErrorKind::Input`](crate::ErrorKind::Input) for unreadable or malformed files, located by
/// file, line and column; [`ErrorKind::Usage`](crate::ErrorKind::Usage) for contradictory
/// options; [`ErrorKind::Data`](crate::ErrorKind::Data) when fewer than two classes or no
/// feature remain.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<(Dataset, LoadSummary)> {
    check_label_options(opts)?;
    load_from_reader(open_file(path)?, path, opts)
}

fn check_label_options(opts: &LoadOptions) -> Result<(&str, LabelMap, [String; 2])> {
    let label =
        opts.label.as_deref().map(str::trim).filter(|l| !l.is_empty()).ok_or_else(|| {
            Error::usage(
                "no label column given; pass --label with the column holding the class (e.g. \
             --label advanced, or --label Overall.Stage with --positive and --negative)",
            )
        })?;
    let (label_map, classes) = LabelMap::new(&opts.positive, &opts.negative)?;
    Ok((label, label_map, classes))
}

/// [`load`] with the feature table read from `input` (named `path` in messages and in the
/// summary), e.g. a decompressing reader or bytes in memory. The clinical file, if any, is
/// still read from [`LoadOptions::clinical`].
///
/// # Errors
/// As [`load`].
pub fn load_from_reader(
    input: impl Read,
    path: &Path,
    opts: &LoadOptions,
) -> Result<(Dataset, LoadSummary)> {
    let (label, label_map, classes) = check_label_options(opts)?;
    let input = std::io::BufReader::with_capacity(READ_BUFFER, input);
    let mut r = CsvReader::new(input, path, opts.delimiter)?;
    let id_src = id_source(&r.header, opts.id.as_deref(), "--id")?;

    // The clinical file, indexed by id, if there is one.
    let clinical = match &opts.clinical {
        None => None,
        Some(cpath) => {
            let IdSource::Column(id_col) = id_src else {
                return Err(Error::usage(format!(
                    "joining a clinical file needs an id column in {}, and it has no \
                     '{DEFAULT_ID}' column; pass --id with the column identifying patients",
                    path.display()
                )));
            };
            let cid_name = opts.clinical_id.as_deref().unwrap_or(&r.header.names[id_col]);
            Some(Clinical::read(cpath, opts.delimiter, cid_name, label)?)
        }
    };

    // Where the label lives: the clinical file if it has the column, else the feature table.
    let clinical_label = clinical.as_ref().and_then(|c| c.label_col);
    let table_label = r.header.column(label);
    if clinical_label.is_none() && table_label.is_none() {
        {
            let mut names = r.header.names.clone();
            let mut files = path.display().to_string();
            if let Some(c) = &clinical {
                names.extend(c.header.names.iter().cloned());
                files = format!("{files} nor in {}", c.header.path.display());
            }
            return Err(Error::input(format!(
                "label column not found in {files}; {}; pass --label with one of the header's \
                 names",
                closest_names(&names, label)
            ))
            .in_column(label));
        }
    }
    // Used only where the clinical file has no label column, and then the table has one.
    let label_col = table_label.unwrap_or(0);

    // Columns: features are never the id or a label column of this table.
    let mut exclude = Vec::new();
    if let IdSource::Column(j) = id_src {
        exclude.push(j);
    }
    exclude.extend(table_label);
    let cols = feature_columns(&r.header, opts.features.as_deref(), &exclude)?;
    let ignored_columns: Vec<String> = (0..r.header.names.len())
        .filter(|j| !cols.contains(j))
        .map(|j| r.header.display_name(j))
        .collect();

    // Stream the rows: map the label, then parse the cells of the rows that are used.
    let mut id_check = IdCheck::default();
    let mut ids = Vec::new();
    let mut y = Vec::new();
    let mut x: Vec<f64> = Vec::new();
    let mut left_out = Vec::new();
    let mut has_missing = vec![false; cols.len()];
    let (mut rows_read, mut matched, mut missing_cells) = (0usize, 0usize, 0usize);
    let mut first_id = None;
    while let Some(line) = r.next_data_row()? {
        rows_read += 1;
        let id = match id_src {
            IdSource::Column(c) => id_check.check(&r.header, line, c, r.field(c))?,
            IdSource::LineNumber => format!("row{line}"),
        };
        first_id.get_or_insert_with(|| id.clone());

        // The label cell and where it is, for messages.
        let (raw, header, at_line, col) = match &clinical {
            Some(c) => match c.rows.get(&id) {
                None => {
                    left_out.push(left(&id, line, "no row in clinical file"));
                    continue;
                }
                Some((cline, cell)) => match c.label_col {
                    Some(lc) => (cell.as_str(), &c.header, *cline, lc),
                    None => (r.field(label_col), &r.header, line, label_col),
                },
            },
            None => (r.field(label_col), &r.header, line, label_col),
        };
        matched += 1;

        let class = match label_map.map(raw) {
            Mapped::Class(c) => c,
            Mapped::LeftOut(reason) => {
                left_out.push(left(&id, line, &reason));
                continue;
            }
            Mapped::Invalid => {
                return Err(header.cell_error(
                    at_line,
                    col,
                    format!(
                        "label '{}' is not 0 or 1; to map other values (such as stages) to the \
                         two classes, pass --positive and --negative (e.g. --positive IIIa,IIIb \
                         --negative I,II)",
                        shown(raw.trim())
                    ),
                ));
            }
        };

        let row_start = x.len();
        let first_missing = r.push_cells(line, &cols, opts.missing, &mut x, &mut has_missing)?;
        if let (Some(j), Missing::DropRows) = (first_missing, opts.missing) {
            x.truncate(row_start);
            let reason = format!("missing value in column '{}'", r.header.display_name(j));
            left_out.push(left(&id, line, &reason));
            continue;
        }
        missing_cells += x[row_start..].iter().filter(|v| v.is_nan()).count();
        ids.push(id);
        y.push(class);
    }
    if rows_read == 0 {
        return Err(no_rows(&r.header));
    }

    if let (Some(c), 0) = (&clinical, matched) {
        return Err(Error::input(format!(
            "no id of the feature table matches an id in column '{}' of {} (e.g. '{}' here, \
             '{}' there); both id columns must hold the same patient ids",
            c.id_name,
            c.header.path.display(),
            shown(first_id.as_deref().unwrap_or("")),
            shown(&c.first_id)
        ))
        .in_file(path));
    }

    let counts = class_counts(&y);
    if counts[0] == 0 || counts[1] == 0 {
        return Err(Error::data(format!(
            "fewer than two classes after label mapping: {} rows of class 0 ({}), {} of class 1 \
             ({}), {} left out; check --label, --positive and --negative",
            counts[0],
            classes[0],
            counts[1],
            classes[1],
            left_out.len()
        ))
        .in_file(path));
    }

    // Columns that cannot inform a model: dropped, with the reason, never divided by zero.
    let n = y.len();
    let d = cols.len();
    let mut keep = Vec::with_capacity(d);
    let mut dropped_features = Vec::new();
    for k in 0..d {
        let name = r.header.names[cols[k]].clone();
        if opts.missing == Missing::DropColumns && has_missing[k] {
            dropped_features.push((name, "missing values (--missing drop-columns)".to_string()));
            continue;
        }
        if opts.keep_constant {
            keep.push(k);
            continue;
        }
        let mut values = (0..n).map(|i| x[i * d + k]).filter(|v| !v.is_nan());
        match values.next() {
            None => dropped_features.push((name, "every cell is missing".to_string())),
            Some(first) if values.all(|v| v == first) => {
                dropped_features.push((name, format!("constant: every value is {first}")));
            }
            Some(_) => keep.push(k),
        }
    }
    if keep.is_empty() {
        return Err(Error::data(format!(
            "no feature column is left: {}; check --features and --missing",
            dropped_features
                .iter()
                .take(5)
                .map(|(n, why)| format!("'{}' ({why})", shown(n)))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .in_file(path));
    }
    if keep.len() < d {
        compact_columns(&mut x, n, d, &keep);
        missing_cells = x.iter().filter(|v| v.is_nan()).count();
    }

    let names: Vec<String> = keep.iter().map(|&k| r.header.names[cols[k]].clone()).collect();
    let mut files = vec![path.to_path_buf()];
    files.extend(opts.clinical.iter().cloned());
    let summary = LoadSummary {
        files,
        rows_read,
        left_out,
        ignored_columns,
        features: keep.len(),
        class_counts: counts,
        classes: classes.clone(),
        dropped_features,
        missing_cells,
    };
    let x = Matrix::from_row_major(n, keep.len(), x);
    Ok((Dataset { ids, names, x, y, classes }, summary))
}

/// Keep columns `keep` (ascending) of the row-major n x d buffer `x`, in place: every value
/// moves to an index no larger than its own, so a forward pass never overwrites one still to
/// be read, and no second matrix is allocated.
fn compact_columns(x: &mut Vec<f64>, n: usize, d: usize, keep: &[usize]) {
    let dk = keep.len();
    for i in 0..n {
        for (kk, &k) in keep.iter().enumerate() {
            x[i * dk + kk] = x[i * d + k];
        }
    }
    x.truncate(n * dk);
    x.shrink_to_fit();
}

fn left(id: &str, line: u64, reason: &str) -> LeftOut {
    LeftOut { id: shown(id), line, reason: reason.to_string() }
}

/// Read a table of new patients to predict: ids, feature matrix and feature names.
///
/// The label is never read, so a table without one works. With `required` (a model's feature
/// names), the result has exactly those columns in that order, whatever `opts.features` says;
/// without it, features are chosen as in [`load`]. Missing cells follow `opts.missing`:
/// `error` refuses them, `drop-rows` leaves those rows out (their ids too), `median` keeps them
/// as NaN for the model's scaler to impute; `drop-columns` is refused when `required` is given,
/// since the model needs every column. Constant columns are kept: nothing is fitted here.
///
/// # Errors
/// As [`load`] for the file itself; [`ErrorKind::Input`](crate::ErrorKind::Input) listing every
/// required column the table lacks.
pub fn load_unlabelled(
    path: &Path,
    opts: &LoadOptions,
    required: Option<&[String]>,
) -> Result<(Vec<String>, Matrix, Vec<String>)> {
    let input = std::io::BufReader::with_capacity(READ_BUFFER, open_file(path)?);
    let mut r = CsvReader::new(input, path, opts.delimiter)?;
    let id_src = id_source(&r.header, opts.id.as_deref(), "--id")?;

    let cols = match required {
        Some(names) => {
            if opts.missing == Missing::DropColumns {
                return Err(Error::usage(
                    "--missing drop-columns cannot be used with a model, which needs every \
                     feature it was trained on; use error, drop-rows or median",
                ));
            }
            let mut cols = Vec::with_capacity(names.len());
            let mut missing = Vec::new();
            for name in names {
                match r.header.column(name) {
                    Some(j) => cols.push(j),
                    None => missing.push(format!("'{}'", shown(name))),
                }
            }
            if !missing.is_empty() {
                return Err(Error::input(format!(
                    "{} of the {} required feature columns are missing: {}; the table must \
                     hold every feature the model was trained on, under the same names",
                    missing.len(),
                    names.len(),
                    missing.join(", ")
                ))
                .in_file(path)
                .at_line(r.header.line));
            }
            cols
        }
        None => {
            let mut exclude = Vec::new();
            if let IdSource::Column(j) = id_src {
                exclude.push(j);
            }
            exclude.extend(opts.label.as_deref().and_then(|l| r.header.column(l.trim())));
            feature_columns(&r.header, opts.features.as_deref(), &exclude)?
        }
    };

    let mut id_check = IdCheck::default();
    let mut ids = Vec::new();
    let mut x = Vec::new();
    let mut has_missing = vec![false; cols.len()];
    let mut rows_read = 0usize;
    while let Some(line) = r.next_data_row()? {
        rows_read += 1;
        let id = match id_src {
            IdSource::Column(c) => id_check.check(&r.header, line, c, r.field(c))?,
            IdSource::LineNumber => format!("row{line}"),
        };
        let row_start = x.len();
        let first_missing = r.push_cells(line, &cols, opts.missing, &mut x, &mut has_missing)?;
        if first_missing.is_some() && opts.missing == Missing::DropRows {
            x.truncate(row_start);
            continue;
        }
        ids.push(id);
    }
    if rows_read == 0 {
        return Err(no_rows(&r.header));
    }

    let n = ids.len();
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    if opts.missing == Missing::DropColumns {
        keep.retain(|&k| !has_missing[k]);
        if keep.is_empty() {
            return Err(Error::data("every feature column has missing values").in_file(path));
        }
        compact_columns(&mut x, n, cols.len(), &keep);
    }
    let names = keep.iter().map(|&k| r.header.names[cols[k]].clone()).collect();
    Ok((ids, Matrix::from_row_major(n, keep.len(), x), names))
}

/// Hooks for the fuzz targets (`fuzz/`) and the tests that replay their findings, not part of
/// the supported API.
#[doc(hidden)]
pub mod fuzz {
    use super::{LoadOptions, Missing};

    /// The options the table-reader fuzz target reads an input with, from the input's first
    /// byte, so that one corpus explores all of them: bits 0-1 the missing-value policy, 2 an
    /// explicit `*` feature pattern, 3 an `id` column, 4 label mapping, 5 keeping constant
    /// columns, 6-7 the delimiter (detected, `;`, tab, detected).
    pub fn table_options(pick: u8) -> LoadOptions {
        let missing = [Missing::Error, Missing::DropRows, Missing::DropColumns, Missing::Median];
        LoadOptions {
            label: Some("y".into()),
            features: if pick & 4 == 0 { Some(vec!["*".into()]) } else { None },
            id: if pick & 8 == 0 { None } else { Some("id".into()) },
            positive: if pick & 16 == 0 { vec![] } else { vec!["IIIa".into(), "b".into()] },
            negative: if pick & 16 == 0 { vec![] } else { vec!["I".into(), "a".into()] },
            delimiter: [None, Some(b';'), Some(b'\t'), None][usize::from(pick >> 6)],
            missing: missing[usize::from(pick & 3)],
            keep_constant: pick & 32 != 0,
            ..LoadOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyradiomics_names() {
        for ok in [
            "original_shape_Elongation",
            "wavelet-LLH_glcm_Contrast",
            "log-sigma-1-0-mm-3D_firstorder_Mean",
            "lbp-3D-m1_gldm_DependenceEntropy",
            "squareroot_ngtdm_Busyness",
            "original_shape2D_Perimeter",
            "original_firstorder_10Percentile",
        ] {
            assert!(is_pyradiomics_feature(ok), "{ok}");
        }
        for bad in [
            "diagnostics_Versions_PyRadiomics",
            "diagnostics_Image-original_Mean",
            "PatientID",
            "age",
            "Overall.Stage",
            "original_shape",
            "original_texture_Contrast",
            "original_glcm_Sum_Average",
            "_glcm_Contrast",
            "original_glcm_",
            "original_GLCM_Contrast",
        ] {
            assert!(!is_pyradiomics_feature(bad), "{bad}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("original_*", "original_glcm_Contrast"));
        assert!(!glob_match("original_*", "wavelet-LLH_glcm_Contrast"));
        assert!(glob_match("wavelet-???_glcm_*", "wavelet-LLH_glcm_Contrast"));
        assert!(!glob_match("wavelet-??_glcm_*", "wavelet-LLH_glcm_Contrast"));
        assert!(glob_match("*_glcm_*", "log-sigma-1-0-mm-3D_glcm_Idm"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("*a*b", "xxaxxbxxc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("?", ""));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(glob_match("**x", "abx"));
    }

    #[test]
    fn delimiter_detection_ignores_quoted() {
        assert_eq!(detect_delimiter(b"a;b;c\n1;2;3"), b';');
        assert_eq!(detect_delimiter(b"\"a;b;c\",d\n"), b',');
        assert_eq!(detect_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(detect_delimiter(b"a\n"), b',');
    }

    #[test]
    fn feature_cells() {
        assert_eq!(parse_cell(" 1e-3 ", false), Cell::Value(1e-3));
        assert_eq!(parse_cell("-2.5E+2", false), Cell::Value(-250.0));
        assert_eq!(parse_cell("1,5", true), Cell::Value(1.5));
        assert_eq!(parse_cell("-1,5e-3", true), Cell::Value(-1.5e-3));
        for missing in ["nan", "NaN", "NA", "n/a", "#N/A", "", "  ", "inf", "-Infinity", "null"] {
            assert!(matches!(parse_cell(missing, false), Cell::Missing(_)), "{missing:?}");
        }
        let bad = |v: &str, comma: bool| match parse_cell(v, comma) {
            Cell::Bad(msg) => msg,
            other => panic!("{v}: {other:?}"),
        };
        assert!(bad("1,5", false).contains("decimal comma"));
        assert!(bad("1.234,5", true).contains("'1.234,5' is not a number"));
        assert!(bad("abc", false).contains("'abc'"));
        let long = "x".repeat(1000);
        assert!(bad(&long, false).len() < 200, "a long cell is cut in the message");
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
