//! The human-readable report of a run: one self-contained HTML page and each of its figures as
//! an SVG file.
//!
//! A [`Report`] is built section by section by the command that ran: the data it read
//! ([`Report::data`]), how it ran ([`Report::provenance`]), the metrics ([`Report::metrics`],
//! one or two protocols side by side), figures drawn by [`plots`], free paragraphs and tables
//! (e.g. a comparison of selectors). [`Report::files`] then gives every file to write. The
//! report computes no results of its own beyond what a figure needs (correlations, ROC points,
//! histograms, intervals), so it can be wired into any command.
//!
//! Output is byte-stable: numbers are written with fixed decimals, nothing depends on time,
//! paths other than those recorded in the provenance, or thread count.

pub mod cluster;
mod html;
pub mod plots;
pub mod stats;
pub mod svg;

use std::collections::BTreeMap;

use crate::data::LoadSummary;
use crate::eval::{Metrics, Summary};
use crate::json::Value;
use crate::pipeline::CvReport;
use svg::{Svg, fixed};

/// A figure: the file stem it is saved under (`<name>.svg`), what the caption says, the drawing.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub caption: String,
    pub svg: Svg,
}

impl Figure {
    pub fn new(name: &str, caption: &str, svg: Svg) -> Figure {
        Figure { name: name.to_string(), caption: caption.to_string(), svg }
    }
}

/// A table of text cells. Cells that read as numbers are right-aligned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// A line under the table, e.g. how intervals were computed.
    pub note: String,
    /// Columns shown in a monospaced font (hashes, paths).
    pub mono_columns: Vec<usize>,
    /// Columns shaded as optimistic (e.g. a protocol whose selection saw the test rows).
    pub highlight_columns: Vec<usize>,
    /// An optional header row above `header`: (label, columns spanned, shaded), spans summing
    /// to the number of columns.
    pub header_groups: Vec<(String, usize, bool)>,
}

impl Table {
    pub fn new(caption: &str, header: &[&str]) -> Table {
        Table {
            caption: caption.to_string(),
            header: header.iter().map(|h| h.to_string()).collect(),
            ..Table::default()
        }
    }

    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> &mut Table {
        self.rows.push(cells.iter().map(|c| c.as_ref().to_string()).collect());
        self
    }
}

/// One element of the page, in order.
#[derive(Clone, Debug)]
enum Block {
    Heading(String),
    Paragraph(String),
    /// The key result, in a shaded box.
    Summary(String),
    /// A warning, e.g. that a number is optimistic.
    Note(String),
    Pre(String),
    Table(Table),
    /// Index into `figures`.
    Figure(usize),
}

/// The cross-validated metrics of one protocol, for [`Report::metrics`].
#[derive(Clone, Debug)]
pub struct ProtocolMetrics {
    /// Column heading, e.g. "nested (honest)" or "published (optimistic)".
    pub name: String,
    /// Whether the protocol let the test rows shape the model (selection or oversampling before
    /// the split); its columns are shaded and labelled.
    pub optimistic: bool,
    /// Folds per repeat, for the interval's overlap correction.
    pub folds: usize,
    /// Mean and sd over folds, in `Metrics::NAMES` order.
    pub summary: Vec<(&'static str, Summary)>,
    /// Metrics of all out-of-fold predictions pooled.
    pub pooled: Option<Metrics>,
}

impl ProtocolMetrics {
    /// The metrics of a cross-validation with `folds` folds per repeat.
    pub fn from_cv(name: &str, optimistic: bool, cv: &CvReport, folds: usize) -> ProtocolMetrics {
        ProtocolMetrics {
            name: name.to_string(),
            optimistic,
            folds,
            summary: cv.summary.clone(),
            pooled: Some(cv.pooled),
        }
    }
}

/// A metric's name as a reader knows it.
pub fn metric_label(name: &str) -> &str {
    match name {
        "accuracy" => "accuracy",
        "precision" => "precision (class 1)",
        "recall" => "recall / sensitivity (class 1)",
        "f1" => "F1 (class 1)",
        "macro_precision" => "macro precision",
        "macro_recall" => "macro recall",
        "macro_f1" => "macro F1",
        "balanced_accuracy" => "balanced accuracy",
        "roc_auc" => "ROC AUC",
        other => other,
    }
}

/// `class k` or `class k: name` when the class has a name other than its number.
pub fn class_label(k: usize, name: &str) -> String {
    if name == k.to_string() { format!("class {k}") } else { format!("class {k} ({name})") }
}

/// The SHA-256 of each input recorded in a provenance object (`inputs[].sha256`), by file name.
fn input_hashes(provenance: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for i in provenance.get("inputs").and_then(Value::as_array).unwrap_or(&[]) {
        if let (Some(f), Some(h)) =
            (i.get("file").and_then(Value::as_str), i.get("sha256").and_then(Value::as_str))
        {
            out.insert(f.to_string(), h.to_string());
        }
    }
    out
}

/// A JSON value as table text: strings bare, numbers in shortest form, the rest as JSON.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_compact(),
    }
}

/// Quote a command-line argument for a POSIX shell when it needs it.
fn shell_word(a: &str) -> String {
    let plain =
        !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain { a.to_string() } else { format!("'{}'", a.replace('\'', "'\\''")) }
}

/// A report being built: sections of text, tables and figures, in order.
#[derive(Clone, Debug)]
pub struct Report {
    title: String,
    subtitle: String,
    blocks: Vec<Block>,
    figures: Vec<Figure>,
}

impl Report {
    pub fn new(title: &str) -> Report {
        Report {
            title: title.to_string(),
            subtitle: String::new(),
            blocks: Vec::new(),
            figures: Vec::new(),
        }
    }

    /// A line under the title saying what the page is.
    pub fn subtitle(&mut self, text: &str) -> &mut Report {
        self.subtitle = text.to_string();
        self
    }

    /// Start a new section (listed in the page's contents).
    pub fn section(&mut self, title: &str) -> &mut Report {
        self.blocks.push(Block::Heading(title.to_string()));
        self
    }

    pub fn paragraph(&mut self, text: &str) -> &mut Report {
        self.blocks.push(Block::Paragraph(text.to_string()));
        self
    }

    /// The key result in a shaded box.
    pub fn summary(&mut self, text: &str) -> &mut Report {
        self.blocks.push(Block::Summary(text.to_string()));
        self
    }

    /// A warning box.
    pub fn note(&mut self, text: &str) -> &mut Report {
        self.blocks.push(Block::Note(text.to_string()));
        self
    }

    /// Preformatted text (a command line, a listing).
    pub fn preformatted(&mut self, text: &str) -> &mut Report {
        self.blocks.push(Block::Pre(text.to_string()));
        self
    }

    pub fn table(&mut self, table: Table) -> &mut Report {
        self.blocks.push(Block::Table(table));
        self
    }

    /// A figure, drawn here and also saved as `<name>.svg`. Names must be unique.
    pub fn figure(&mut self, figure: Figure) -> &mut Report {
        assert!(
            self.figures.iter().all(|f| f.name != figure.name),
            "figure name '{}' used twice",
            figure.name
        );
        self.blocks.push(Block::Figure(self.figures.len()));
        self.figures.push(figure);
        self
    }

    /// A section comparing runs (e.g. selectors side by side): the hook for `compare`.
    pub fn comparison(&mut self, intro: &str, table: Table) -> &mut Report {
        self.section("Comparison");
        if !intro.is_empty() {
            self.paragraph(intro);
        }
        self.table(table)
    }

    /// The "Data" section: input files with their SHA-256 (from the run's `provenance`), rows
    /// read, used and left out (with the reasons), class counts, features and ignored columns.
    pub fn data(&mut self, summary: &LoadSummary, provenance: &Value) -> &mut Report {
        const MAX_LEFT_OUT: usize = 50;
        self.section("Data");
        let hashes = input_hashes(provenance);
        let mut files = Table::new("Input files", &["role", "file", "SHA-256"]);
        files.mono_columns = vec![1, 2];
        for (k, f) in summary.files.iter().enumerate() {
            let name = f.display().to_string();
            let role = if k == 0 { "feature table" } else { "clinical table (joined on the id)" };
            let hash = hashes.get(&name).cloned().unwrap_or_else(|| "not recorded".into());
            files.row(&[role.to_string(), name, hash]);
        }
        self.table(files);

        let used = summary.class_counts[0] + summary.class_counts[1];
        let mut counts = Table::new("Rows and columns", &["", "count"]);
        counts
            .row(&["rows read from the feature table".to_string(), summary.rows_read.to_string()]);
        counts.row(&["rows used".to_string(), used.to_string()]);
        for k in 0..2 {
            let share = 100.0 * summary.class_counts[k] as f64 / used.max(1) as f64;
            counts.row(&[
                format!(
                    "  of {}{}",
                    class_label(k, &summary.classes[k]),
                    if k == 1 { ", the positive class" } else { "" }
                ),
                format!("{} ({}%)", summary.class_counts[k], fixed(share, 1)),
            ]);
        }
        counts.row(&["rows left out".to_string(), summary.left_out.len().to_string()]);
        counts.row(&["feature columns used".to_string(), summary.features.to_string()]);
        counts.row(&[
            "feature columns dropped".to_string(),
            summary.dropped_features.len().to_string(),
        ]);
        if summary.missing_cells > 0 {
            counts.row(&[
                "missing cells imputed (training medians)".to_string(),
                summary.missing_cells.to_string(),
            ]);
        }
        counts.row(&[
            "other columns, ignored".to_string(),
            summary.ignored_columns.len().to_string(),
        ]);
        self.table(counts);

        if !summary.left_out.is_empty() {
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for l in &summary.left_out {
                *reasons.entry(l.reason.as_str()).or_default() += 1;
            }
            let mut why = Table::new("Why rows were left out", &["reason", "rows"]);
            for (r, n) in &reasons {
                why.row(&[r.to_string(), n.to_string()]);
            }
            self.table(why);
            let mut rows = Table::new("Rows left out", &["id", "line", "reason"]);
            for l in summary.left_out.iter().take(MAX_LEFT_OUT) {
                rows.row(&[l.id.clone(), l.line.to_string(), l.reason.clone()]);
            }
            if summary.left_out.len() > MAX_LEFT_OUT {
                rows.note =
                    format!("The first {MAX_LEFT_OUT} of {} are listed.", summary.left_out.len());
            }
            self.table(rows);
        }
        if !summary.dropped_features.is_empty() {
            let mut dropped = Table::new("Feature columns dropped", &["feature", "why"]);
            for (f, why) in &summary.dropped_features {
                dropped.row(&[f.clone(), why.clone()]);
            }
            self.table(dropped);
        }
        if !summary.ignored_columns.is_empty() {
            self.paragraph(&format!(
                "Ignored columns (not features: the id, the label, clinical and diagnostic \
                 columns): {}.",
                summary.ignored_columns.join(", ")
            ));
        }
        self
    }

    /// The "How this was run" section: tool and version, command line, seed, every setting,
    /// from the run's provenance object (as written into its result JSON).
    pub fn provenance(&mut self, provenance: &Value) -> &mut Report {
        self.section("How this was run");
        let get = |k: &str| provenance.get(k).map(value_text).unwrap_or_default();
        let mut args = vec!["glrfe".to_string()];
        for a in provenance.get("arguments").and_then(Value::as_array).unwrap_or(&[]) {
            args.push(shell_word(&value_text(a)));
        }
        self.paragraph(
            "The command line below, run from the same folder with the same tool version, \
             repeats this run byte for byte (glrfe verify --out FOLDER checks that). \
             Thread count and output folder are left out: they do not change results.",
        );
        self.preformatted(&args.join(" "));
        let mut t = Table::new("Run", &["", "value"]);
        t.row(&["tool".to_string(), format!("{} {}", get("tool"), get("version"))]);
        t.row(&["command".to_string(), get("command")]);
        t.row(&["master seed".to_string(), get("seed")]);
        self.table(t);
        if let Some(settings) = provenance.get("settings").and_then(Value::as_object) {
            let mut t = Table::new("Settings (defaults filled in)", &["option", "value"]);
            for (k, v) in settings {
                t.row(&[format!("--{k}"), value_text(v)]);
            }
            self.table(t);
        }
        self
    }

    /// The metrics table: per protocol, mean ± sd over folds, a 95% interval for the mean
    /// ([`stats::cv_interval`]) and the pooled value. Optimistic protocols are shaded and say
    /// so in their heading; with one, a warning precedes the table.
    pub fn metrics(&mut self, caption: &str, protocols: &[ProtocolMetrics]) -> &mut Report {
        let mut header = vec!["metric".to_string()];
        let mut groups = vec![(String::new(), 1, false)];
        let mut highlight = Vec::new();
        for p in protocols {
            let tag = if p.optimistic { " (OPTIMISTIC)" } else { "" };
            groups.push((format!("{}{tag}", p.name), 3, p.optimistic));
            for part in ["mean ± sd", "95% interval", "pooled"] {
                if p.optimistic {
                    highlight.push(header.len());
                }
                header.push(part.to_string());
            }
        }
        let mut t = Table {
            caption: caption.to_string(),
            header,
            highlight_columns: highlight,
            header_groups: groups,
            ..Table::default()
        };
        for (m, name) in Metrics::NAMES.iter().enumerate() {
            let mut row = vec![metric_label(name).to_string()];
            for p in protocols {
                let s = p.summary.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
                row.push(
                    s.map_or("-".into(), |s| format!("{} ± {}", fixed(s.mean, 3), fixed(s.sd, 3))),
                );
                row.push(
                    s.and_then(|s| stats::cv_interval(&s, p.folds))
                        .map_or("-".into(), |(a, b)| format!("[{}, {}]", fixed(a, 3), fixed(b, 3))),
                );
                row.push(p.pooled.map_or("-".into(), |pm| fixed(pm.values()[m], 3)));
            }
            t.rows.push(row);
        }
        t.note = "mean ± sd: over the test folds (sd with divisor n - 1). 95% interval: \
                  mean ± t(J-1) · sd · sqrt(1/J + 1/(k-1)) for J folds in all and k folds per \
                  repeat (Nadeau and Bengio's correction for overlapping training sets; not \
                  clipped to [0, 1]). pooled: the metric of all out-of-fold predictions at once. \
                  Class 1 is the positive class; a row is predicted positive when \
                  P(class 1) >= 0.5."
            .to_string();
        if protocols.iter().any(|p| p.optimistic) {
            self.note(
                "Shaded columns are OPTIMISTIC: the rows later used for testing took part in \
                 choosing the features (and, in the published protocol, in oversampling), so \
                 these numbers overstate how the model does on new patients.",
            );
        }
        self.table(t)
    }

    /// The figures added so far, in order.
    pub fn figures(&self) -> &[Figure] {
        &self.figures
    }

    /// The page.
    pub fn to_html(&self) -> String {
        html::page(self)
    }

    /// Every file of the report: `report.html`, then `<name>.svg` for each figure.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut out = vec![("report.html".to_string(), self.to_html())];
        for f in &self.figures {
            out.push((format!("{}.svg", f.name), f.svg.standalone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_quote_what_a_shell_would_split() {
        assert_eq!(shell_word("--keep"), "--keep");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("*_glcm_*"), "'*_glcm_*'");
        assert_eq!(shell_word(""), "''");
    }
}
