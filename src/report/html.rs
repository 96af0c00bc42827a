//! The HTML page: one self-contained file with its style sheet inline, figures as inline SVG,
//! no scripts, and no reference to anything outside itself (not even a link to the figure files
//! beside it), so it can be mailed, archived or printed as is.

use std::fmt::Write as _;

use super::svg::escape;
use super::{Block, Report, Table};

/// Style for screen and print: a readable column, tables with rules, figures scaled to the
/// column, and page breaks kept out of figures and tables.
const STYLE: &str = "
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; color: #222; line-height: 1.45;
       max-width: 1080px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #0072B2; padding-bottom: 0.2em; margin-top: 2em; }
p.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.92em; }
th, td { border: 1px solid #BBB; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #EEF3F8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono, span.mono { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 0.9em;
       word-break: break-all; }
th.optimistic, td.optimistic { background: #FBEDE3; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.3em; }
.note { border-left: 5px solid #D55E00; background: #FBEDE3; padding: 0.6em 1em; margin: 1em 0; }
.summary { border-left: 5px solid #0072B2; background: #EEF3F8; padding: 0.6em 1em; margin: 1em 0; }
pre { background: #F4F4F4; padding: 0.6em; white-space: pre-wrap; word-break: break-all; }
figure { margin: 1.2em 0 2em; }
figure svg { max-width: 100%; height: auto; border: 1px solid #EEE; }
figcaption { font-size: 0.92em; color: #333; margin-top: 0.4em; }
nav ol { columns: 2; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  figure, table, .note, .summary { break-inside: avoid; }
  h2 { break-after: avoid; }
  figure svg { border: none; }
}
";

/// The whole page.
pub fn page(report: &Report) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(s, "<title>{}</title>", escape(&report.title));
    let _ = writeln!(s, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(s, "<h1>{}</h1>", escape(&report.title));
    if !report.subtitle.is_empty() {
        let _ = writeln!(s, "<p class=\"sub\">{}</p>", escape(&report.subtitle));
    }

    // Contents: every section, and every figure with its file name.
    s.push_str("<nav>\n<ol>\n");
    let mut section = 0;
    for b in &report.blocks {
        if let Block::Heading(h) = b {
            section += 1;
            let _ = writeln!(s, "<li><a href=\"#s{section}\">{}</a></li>", escape(h));
        }
    }
    s.push_str("</ol>\n</nav>\n");

    let mut section = 0;
    for b in &report.blocks {
        match b {
            Block::Heading(h) => {
                section += 1;
                let _ = writeln!(s, "<h2 id=\"s{section}\">{}</h2>", escape(h));
            }
            Block::Paragraph(t) => {
                let _ = writeln!(s, "<p>{}</p>", escape(t));
            }
            Block::Summary(t) => {
                let _ = writeln!(s, "<div class=\"summary\">{}</div>", escape(t));
            }
            Block::Note(t) => {
                let _ = writeln!(s, "<div class=\"note\">{}</div>", escape(t));
            }
            Block::Pre(t) => {
                let _ = writeln!(s, "<pre>{}</pre>", escape(t));
            }
            Block::Table(t) => s.push_str(&table(t)),
            Block::Figure(k) => {
                let f = &report.figures[*k];
                let _ = writeln!(s, "<figure id=\"fig-{}\">", escape(&f.name));
                s.push_str(&f.svg.inline());
                let _ = writeln!(
                    s,
                    "<figcaption><b>Figure {}.</b> {} <i>(Also saved as {}.svg.)</i></figcaption>",
                    k + 1,
                    escape(&f.caption),
                    escape(&f.name)
                );
                s.push_str("</figure>\n");
            }
        }
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// A table: caption, header row, body rows; a cell that starts with a digit, a sign or a dot
/// and holds no letters but `e` is right-aligned as a number.
pub fn table(t: &Table) -> String {
    let mut s = String::from("<table>\n");
    if !t.caption.is_empty() {
        let _ = writeln!(s, "<caption>{}</caption>", escape(&t.caption));
    }
    if !t.header.is_empty() {
        s.push_str("<thead>");
        if !t.header_groups.is_empty() {
            s.push_str("<tr>");
            for (label, span, shaded) in &t.header_groups {
                let class = if *shaded { " class=\"optimistic\"" } else { "" };
                let _ = write!(s, "<th colspan=\"{span}\"{class}>{}</th>", escape(label));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("<tr>");
        for (j, h) in t.header.iter().enumerate() {
            let class = if t.highlight_columns.contains(&j) { " class=\"optimistic\"" } else { "" };
            let _ = write!(s, "<th{class}>{}</th>", escape(h));
        }
        s.push_str("</tr></thead>\n");
    }
    s.push_str("<tbody>\n");
    for row in &t.rows {
        s.push_str("<tr>");
        for (j, c) in row.iter().enumerate() {
            let mut classes = Vec::new();
            if looks_numeric(c) {
                classes.push("num");
            }
            if t.mono_columns.contains(&j) {
                classes.push("mono");
            }
            if t.highlight_columns.contains(&j) {
                classes.push("optimistic");
            }
            let class = if classes.is_empty() {
                String::new()
            } else {
                format!(" class=\"{}\"", classes.join(" "))
            };
            let _ = write!(s, "<td{class}>{}</td>", escape(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    if !t.note.is_empty() {
        let _ = writeln!(s, "<p><small>{}</small></p>", escape(&t.note));
    }
    s
}

fn looks_numeric(c: &str) -> bool {
    let c = c.trim();
    !c.is_empty()
        && c.chars().next().is_some_and(|ch| ch.is_ascii_digit() || "+-−.[".contains(ch))
        && c.chars().all(|ch| ch.is_ascii_digit() || " +-−.,±–()[]%e".contains(ch))
        && c.chars().any(|ch| ch.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_told_from_words() {
        for n in ["0.812", "-1.5", "0.80 ± 0.03", "[0.71, 0.90]", "12 (3.5%)", "1e-3"] {
            assert!(looks_numeric(n), "{n}");
        }
        for w in ["", "accuracy", "n/a", "-", "original_shape_Sphericity", "e"] {
            assert!(!looks_numeric(w), "{w}");
        }
    }
}
