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

use std::collections::HashMap;
use std::fmt::Write as _;
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
        let _ = writeln!(
            s,
            "using {used} rows: {} of class 0 ({}), {} of class 1 ({})",
            self.class_counts[0], self.classes[0], self.class_counts[1], self.classes[1]
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

/// One data row of a file, with the line it starts on.
struct Record {
    line: u64,
    fields: Vec<String>,
}

/// A whole CSV file, header checked, every row with as many fields as the header.
struct Table {
    path: PathBuf,
    header: Vec<String>,
    header_line: u64,
    rows: Vec<Record>,
}

impl Table {
    /// Read and check `path`: readable, UTF-8, not empty, unique column names, no ragged rows,
    /// at least one data row.
    fn read(path: &Path, delimiter: Option<u8>) -> Result<Table> {
        let bytes = std::fs::read(path).map_err(|e| {
            let msg = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found; check the path".to_string(),
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied reading the file; check its permissions".to_string()
                }
                _ => format!("cannot read the file ({e}); check that it is a readable file"),
            };
            Error::input(msg).in_file(path)
        })?;

        // Spreadsheet programs often start a "CSV UTF-8" export with a byte order mark; it is
        // not part of the first column's name.
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let text = std::str::from_utf8(body).map_err(|e| {
            let at = e.valid_up_to();
            let line = body[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            Error::input(format!(
                "the file is not UTF-8 text (byte 0x{:02X}); save it as UTF-8 (\"CSV UTF-8\")",
                body[at]
            ))
            .in_file(path)
            .at_line(line)
        })?;

        if text.trim().is_empty() {
            return Err(Error::input(
                "the file is empty; expected a header line naming the columns, then one row a \
                 patient",
            )
            .in_file(path)
            .at_line(1));
        }

        // The csv reader's own line count leaves out blank lines, and a record's byte offset
        // points before the blank lines that precede it. So lines are counted here: skip line
        // breaks from the offset, then the line is one more than the newlines before.
        let newlines: Vec<usize> =
            text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i).collect();
        let line_of = |byte: u64| {
            let start = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
            let skip = text.as_bytes()[start..].iter().take_while(|&&b| b == b'\n' || b == b'\r');
            let first = start + skip.count();
            newlines.partition_point(|&i| i < first) as u64 + 1
        };

        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(text));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());

        let mut header: Option<(Vec<String>, u64)> = None;
        let mut rows = Vec::new();
        for result in reader.records() {
            let record = result.map_err(|e| {
                let mut err =
                    Error::input(format!("cannot parse the file as CSV ({e})")).in_file(path);
                if let Some(pos) = e.position() {
                    err = err.at_line(line_of(pos.byte()));
                }
                err
            })?;
            let line = record.position().map_or(0, |p| line_of(p.byte()));

            // A line of blanks only is not a row (empty lines the csv reader skips itself).
            if record.len() == 1 && record[0].trim().is_empty() {
                continue;
            }

            match &header {
                None => {
                    let names: Vec<String> = record.iter().map(|f| f.trim().to_string()).collect();
                    check_unique_names(&names, path, line)?;
                    header = Some((names, line));
                }
                Some((names, _)) => {
                    if record.len() != names.len() {
                        return Err(Error::input(format!(
                            "expected {} fields as in the header, found {}; look for a missing \
                             or extra delimiter, or a delimiter inside an unquoted value",
                            names.len(),
                            record.len()
                        ))
                        .in_file(path)
                        .at_line(line));
                    }
                    rows.push(Record { line, fields: record.iter().map(str::to_string).collect() });
                }
            }
        }

        let Some((header, header_line)) = header else {
            return Err(Error::input("the file is empty; expected a header line, then data rows")
                .in_file(path)
                .at_line(1));
        };
        if rows.is_empty() {
            return Err(Error::input(
                "the file has a header line but no data rows; expected one row a patient",
            )
            .in_file(path)
            .at_line(header_line));
        }
        Ok(Table { path: path.to_path_buf(), header, header_line, rows })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The display name of column `j`: its name, or its position if it has none (a pandas
    /// index column is written with an empty name).
    fn display_name(&self, j: usize) -> String {
        if self.header[j].is_empty() {
            format!("(unnamed column {})", j + 1)
        } else {
            self.header[j].clone()
        }
    }

    fn cell_error(&self, row: &Record, col: usize, msg: String) -> Error {
        Error::input(msg).in_file(&self.path).at_line(row.line).in_column(self.display_name(col))
    }
}

/// The delimiter of a table, guessed from its header line: whichever of `,` `;` tab occurs most
/// often outside quotes (`,` on a tie or when none occurs). European spreadsheet exports use `;`
/// because `,` is their decimal mark.
fn detect_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
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

fn id_source(table: &Table, id: Option<&str>, option: &str) -> Result<IdSource> {
    match id {
        Some(name) => table.column(name).map(IdSource::Column).ok_or_else(|| {
            Error::input(format!(
                "no id column of this name in the header; {}; pass {option} with the name of \
                 the column identifying patients",
                closest_names(&table.header, name)
            ))
            .in_file(&table.path)
            .at_line(table.header_line)
            .in_column(name)
        }),
        None => Ok(table.column(DEFAULT_ID).map_or(IdSource::LineNumber, IdSource::Column)),
    }
}

/// The id of every row, in file order; ids must be non-empty and unique.
fn row_ids(table: &Table, source: IdSource) -> Result<Vec<String>> {
    let IdSource::Column(col) = source else {
        return Ok(table.rows.iter().map(|r| format!("row{}", r.line)).collect());
    };

    let mut seen: HashMap<&str, u64> = HashMap::new();
    let mut ids = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let id = row.fields[col].trim();
        if id.is_empty() {
            return Err(table.cell_error(
                row,
                col,
                "the id is empty; every row needs an id (or remove the row)".to_string(),
            ));
        }
        if let Some(&first) = seen.get(id) {
            return Err(table.cell_error(
                row,
                col,
                format!(
                    "id '{id}' is on line {first} and again on line {}; ids must be unique, one \
                     row a patient; if the table has several rows per patient (e.g. one per \
                     ROI), filter it to one row each first",
                    row.line
                ),
            ));
        }
        seen.insert(id, row.line);
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// The feature columns of `table` in header order, never one of `exclude` (id, label).
fn feature_columns(
    table: &Table,
    globs: Option<&[String]>,
    exclude: &[usize],
) -> Result<Vec<usize>> {
    let candidates = (0..table.header.len()).filter(|j| !exclude.contains(j));
    let err = |msg: String| Error::input(msg).in_file(&table.path).at_line(table.header_line);

    match globs {
        None => {
            let cols: Vec<usize> =
                candidates.filter(|&j| is_pyradiomics_feature(&table.header[j])).collect();
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
                if !candidates.iter().any(|&j| glob_match(g, &table.header[j])) {
                    return Err(err(format!(
                        "feature pattern '{g}' matches no column; {}; fix the pattern given \
                         with --features ('*' matches any run of characters, '?' one)",
                        closest_names(&table.header, g)
                    )));
                }
            }
            Ok(candidates
                .into_iter()
                .filter(|&j| globs.iter().any(|g| glob_match(g, &table.header[j])))
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
    let shown: Vec<String> = scored.iter().take(3).map(|(_, n)| format!("'{n}'")).collect();
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

/// Parse one feature cell. NaN, infinities and empty cells are refused: PyRadiomics writes
/// `nan` when it cannot compute a feature, and a model cannot learn from or score such a row.
fn parse_feature(raw: &str) -> std::result::Result<f64, String> {
    const NAN_HINT: &str = "PyRadiomics writes nan for features it could not compute; fix the \
                            value or drop the column (leave it out of --features)";
    let v = raw.trim();
    if v.is_empty() {
        return Err(format!("the cell is empty; {NAN_HINT}"));
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(format!("'{v}' is not a finite number; {NAN_HINT}")),
        Err(_) => {
            let mut msg =
                format!("'{v}' is not a number; feature cells must be numbers like 0.25 or 1e-3");
            if v.contains(',') && v.replace(',', ".").parse::<f64>().is_ok() {
                msg.push_str(" (it looks like a decimal comma; write decimals with '.')");
            }
            Err(msg)
        }
    }
}

/// The feature matrix of `rows` (indices into `table.rows`) over `cols`.
fn feature_matrix(table: &Table, rows: &[usize], cols: &[usize]) -> Result<Matrix> {
    let mut data = Vec::with_capacity(rows.len() * cols.len());
    for &r in rows {
        let row = &table.rows[r];
        for &j in cols {
            let x = parse_feature(&row.fields[j]).map_err(|msg| table.cell_error(row, j, msg))?;
            data.push(x);
        }
    }
    Ok(Matrix::from_row_major(rows.len(), cols.len(), data))
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

/// Read a labelled table for training or evaluation.
///
/// Reads `path` (and [`LoadOptions::clinical`], joined on the id), picks the feature columns,
/// maps labels to classes 0 and 1, and leaves out rows whose label is missing or unmapped or
/// whose id the clinical file lacks. Rows keep their file order.
///
/// # Errors
/// [`ErrorKind::Input`](crate::ErrorKind::Input) for unreadable or malformed files, located by
/// file, line and column; [`ErrorKind::Usage`](crate::ErrorKind::Usage) for contradictory
/// options; [`ErrorKind::Data`](crate::ErrorKind::Data) when fewer than two classes remain.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<(Dataset, LoadSummary)> {
    let label =
        opts.label.as_deref().map(str::trim).filter(|l| !l.is_empty()).ok_or_else(|| {
            Error::usage(
                "no label column given; pass --label with the column holding the class (e.g. \
             --label advanced, or --label Overall.Stage with --positive and --negative)",
            )
        })?;
    let (label_map, classes) = LabelMap::new(&opts.positive, &opts.negative)?;

    let table = Table::read(path, opts.delimiter)?;
    let id_src = id_source(&table, opts.id.as_deref(), "--id")?;
    let ids = row_ids(&table, id_src)?;

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
            let ctable = Table::read(cpath, opts.delimiter)?;
            let cid_name = opts.clinical_id.as_deref().unwrap_or(&table.header[id_col]);
            let cid_src = id_source(&ctable, Some(cid_name), "--clinical-id")?;
            let cids = row_ids(&ctable, cid_src)?;
            let index: HashMap<String, usize> =
                cids.into_iter().enumerate().map(|(i, id)| (id, i)).collect();
            Some((ctable, cid_src, index))
        }
    };

    // Where the label lives: the clinical file if it has the column, else the feature table.
    let clinical_label = clinical.as_ref().and_then(|(c, src, _)| {
        c.column(label).filter(|&j| !matches!(src, IdSource::Column(k) if *k == j))
    });
    let table_label = table.column(label);
    if clinical_label.is_none() && table_label.is_none() {
        let mut names = table.header.clone();
        let mut files = path.display().to_string();
        if let Some((c, _, _)) = &clinical {
            names.extend(c.header.iter().cloned());
            files = format!("{files} nor in {}", c.path.display());
        }
        return Err(Error::input(format!(
            "label column not found in {files}; {}; pass --label with one of the header's names",
            closest_names(&names, label)
        ))
        .in_column(label));
    }

    // Map every row's label, or say why the row is left out.
    let mut kept = Vec::new();
    let mut y = Vec::new();
    let mut left_out = Vec::new();
    let mut matched = 0usize;
    for (r, row) in table.rows.iter().enumerate() {
        let (src_table, src_row, col) = match (&clinical, clinical_label) {
            (Some((ctable, _, index)), Some(lc)) => match index.get(&ids[r]) {
                Some(&ci) => (ctable, &ctable.rows[ci], lc),
                None => {
                    left_out.push(left(&ids[r], row.line, "no row in clinical file"));
                    continue;
                }
            },
            (Some((_, _, index)), None) => {
                if !index.contains_key(&ids[r]) {
                    left_out.push(left(&ids[r], row.line, "no row in clinical file"));
                    continue;
                }
                (&table, row, table_label.unwrap_or_default())
            }
            (None, _) => (&table, row, table_label.unwrap_or_default()),
        };
        matched += 1;

        match label_map.map(&src_row.fields[col]) {
            Mapped::Class(c) => {
                kept.push(r);
                y.push(c);
            }
            Mapped::LeftOut(reason) => left_out.push(left(&ids[r], row.line, &reason)),
            Mapped::Invalid => {
                return Err(src_table.cell_error(
                    src_row,
                    col,
                    format!(
                        "label '{}' is not 0 or 1; to map other values (such as stages) to the \
                         two classes, pass --positive and --negative (e.g. --positive IIIa,IIIb \
                         --negative I,II)",
                        src_row.fields[col].trim()
                    ),
                ));
            }
        }
    }

    if let (Some((ctable, cid_src, _)), 0) = (&clinical, matched) {
        let cid_name = match cid_src {
            IdSource::Column(j) => ctable.header[*j].clone(),
            IdSource::LineNumber => String::new(),
        };
        let cexample = match cid_src {
            IdSource::Column(j) => ctable.rows[0].fields[*j].trim().to_string(),
            IdSource::LineNumber => String::new(),
        };
        return Err(Error::input(format!(
            "no id of the feature table matches an id in column '{cid_name}' of {} (e.g. '{}' \
             here, '{cexample}' there); both id columns must hold the same patient ids",
            ctable.path.display(),
            ids[0]
        ))
        .in_file(path));
    }

    // Columns: features are never the id or a label column of this table.
    let mut exclude = Vec::new();
    if let IdSource::Column(j) = id_src {
        exclude.push(j);
    }
    exclude.extend(table_label);
    let cols = feature_columns(&table, opts.features.as_deref(), &exclude)?;
    let ignored_columns: Vec<String> = (0..table.header.len())
        .filter(|j| !cols.contains(j))
        .map(|j| table.display_name(j))
        .collect();

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

    let x = feature_matrix(&table, &kept, &cols)?;
    let names: Vec<String> = cols.iter().map(|&j| table.header[j].clone()).collect();

    let mut files = vec![path.to_path_buf()];
    files.extend(opts.clinical.iter().cloned());
    let summary = LoadSummary {
        files,
        rows_read: table.rows.len(),
        left_out,
        ignored_columns,
        features: cols.len(),
        class_counts: counts,
        classes: classes.clone(),
    };
    let ids = kept.iter().map(|&r| ids[r].clone()).collect();
    Ok((Dataset { ids, names, x, y, classes }, summary))
}

fn left(id: &str, line: u64, reason: &str) -> LeftOut {
    LeftOut { id: id.to_string(), line, reason: reason.to_string() }
}

/// Read a table of new patients to predict: ids, feature matrix and feature names.
///
/// The label is never read, so a table without one works. With `required` (a model's feature
/// names), the result has exactly those columns in that order, whatever `opts.features` says;
/// without it, features are chosen as in [`load`]. Every row is used and every feature cell
/// must be a finite number.
///
/// # Errors
/// As [`load`] for the file itself; [`ErrorKind::Input`](crate::ErrorKind::Input) listing every
/// required column the table lacks.
pub fn load_unlabelled(
    path: &Path,
    opts: &LoadOptions,
    required: Option<&[String]>,
) -> Result<(Vec<String>, Matrix, Vec<String>)> {
    let table = Table::read(path, opts.delimiter)?;
    let id_src = id_source(&table, opts.id.as_deref(), "--id")?;
    let ids = row_ids(&table, id_src)?;

    let cols = match required {
        Some(names) => {
            let mut cols = Vec::with_capacity(names.len());
            let mut missing = Vec::new();
            for name in names {
                match table.column(name) {
                    Some(j) => cols.push(j),
                    None => missing.push(format!("'{name}'")),
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
                .at_line(table.header_line));
            }
            cols
        }
        None => {
            let mut exclude = Vec::new();
            if let IdSource::Column(j) = id_src {
                exclude.push(j);
            }
            exclude.extend(opts.label.as_deref().and_then(|l| table.column(l.trim())));
            feature_columns(&table, opts.features.as_deref(), &exclude)?
        }
    };

    let all: Vec<usize> = (0..table.rows.len()).collect();
    let x = feature_matrix(&table, &all, &cols)?;
    let names = cols.iter().map(|&j| table.header[j].clone()).collect();
    Ok((ids, x, names))
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
        assert_eq!(detect_delimiter("a;b;c\n1;2;3"), b';');
        assert_eq!(detect_delimiter("\"a;b;c\",d\n"), b',');
        assert_eq!(detect_delimiter("a\tb\n"), b'\t');
        assert_eq!(detect_delimiter("a\n"), b',');
    }

    #[test]
    fn feature_cells() {
        assert_eq!(parse_feature(" 1e-3 "), Ok(1e-3));
        assert_eq!(parse_feature("-2.5E+2"), Ok(-250.0));
        assert!(parse_feature("nan").unwrap_err().contains("PyRadiomics writes nan"));
        assert!(parse_feature("inf").is_err());
        assert!(parse_feature("").unwrap_err().contains("empty"));
        assert!(parse_feature("1,5").unwrap_err().contains("decimal comma"));
        assert!(parse_feature("abc").unwrap_err().contains("'abc'"));
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
