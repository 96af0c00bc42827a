//! The HTML report and its SVG figures: well-formed XML with the expected elements, a page that
//! names every figure and references nothing outside itself, byte-stable output (a golden file,
//! and equal bytes across thread counts), and `verify` telling a faithful folder from a
//! tampered one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glrfe::data::{LeftOut, LoadSummary};
use glrfe::eval::{self, Metrics};
use glrfe::json::Value;
use glrfe::matrix::Matrix;
use glrfe::report::plots::{self, Bar, CurvePanel, CurvePoint, RocCurve};
use glrfe::report::{Figure, ProtocolMetrics, Report, Table, stats};

const TABLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/synthetic/radiomics_synthetic.csv");
const FAST: &[&str] =
    &["--label", "stage", "--epochs", "15", "--step", "0.3", "--keep", "10", "--quiet"];

// ---------------------------------------------------------------------------------------------
// A small XML well-formedness check

/// Check that `doc` is one well-formed XML element (after an optional `<?xml ...?>`
/// declaration): tags nest and close, attribute values are quoted and not repeated, text and
/// values hold no raw `<` and only known entities. Returns how often each element occurs.
fn check_xml(doc: &str) -> Result<BTreeMap<String, usize>, String> {
    let mut s = doc.trim_start();
    if let Some(rest) = s.strip_prefix("<?xml") {
        let end = rest.find("?>").ok_or("unterminated XML declaration")?;
        s = rest[end + 2..].trim_start();
    }
    let mut counts = BTreeMap::new();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        if b[i] != b'<' {
            let end = s[i..].find('<').map_or(s.len(), |k| i + k);
            let text = &s[i..end];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            check_entities(text)?;
            i = end;
            continue;
        }
        let end = s[i..].find('>').map(|k| i + k).ok_or("unterminated tag")?;
        let tag = &s[i + 1..end];
        i = end + 1;
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("</{name}> closes nothing"))?;
            if open != name.trim() {
                return Err(format!("<{open}> closed by </{name}>"));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
        let name = &body[..name_end];
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
        {
            return Err(format!("bad element name in <{tag}>"));
        }
        let mut seen = Vec::new();
        let mut rest = body[name_end..].trim_start();
        while !rest.is_empty() {
            let eq = rest.find('=').ok_or(format!("attribute without value in <{tag}>"))?;
            let attr = rest[..eq].trim();
            if seen.contains(&attr) {
                return Err(format!("attribute {attr} twice in <{name}>"));
            }
            seen.push(attr);
            let after = &rest[eq + 1..];
            let v = after.strip_prefix('"').ok_or(format!("unquoted {attr} in <{name}>"))?;
            let close = v.find('"').ok_or(format!("unterminated {attr} in <{name}>"))?;
            let value = &v[..close];
            if value.contains('<') {
                return Err(format!("'<' in {attr} of <{name}>"));
            }
            check_entities(value)?;
            rest = v[close + 1..].trim_start();
        }
        *counts.entry(name.to_string()).or_insert(0) += 1;
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name.to_string());
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> never closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(counts)
}

fn check_entities(text: &str) -> Result<(), String> {
    for (k, _) in text.match_indices('&') {
        let rest = &text[k..];
        let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|e| rest.starts_with(e));
        if !ok {
            return Err(format!("bare '&' in {text:?}"));
        }
    }
    Ok(())
}

#[test]
fn the_xml_check_rejects_what_it_should() {
    assert!(check_xml("<svg><g/></svg>").is_ok());
    for bad in [
        "<svg><g></svg>",
        "<svg a=\"1\" a=\"2\"/>",
        "<svg a=1/>",
        "<svg>a & b</svg>",
        "<svg/><svg/>",
        "<svg><text>1 < 2</text></svg>",
    ] {
        assert!(check_xml(bad).is_err(), "{bad}");
    }
}

/// Occurrences of `needle` in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

// ---------------------------------------------------------------------------------------------
// Figures from the library

fn small_roc() -> (Vec<RocCurve>, RocCurve) {
    let y = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0];
    let p = [0.1, 0.4, 0.4, 0.4, 0.9, 0.2, 0.9, 0.7, 0.3, 0.3, 0.8, 0.05];
    let folds: Vec<RocCurve> = (0..3)
        .map(|f| {
            let (fy, fp): (Vec<usize>, Vec<f64>) = (f * 4..f * 4 + 4).map(|i| (y[i], p[i])).unzip();
            RocCurve {
                label: format!("fold {}", f + 1),
                points: stats::roc_points(&fy, &fp),
                auc: eval::roc_auc(&fy, &fp),
            }
        })
        .collect();
    let pooled = RocCurve {
        label: "pooled".into(),
        points: stats::roc_points(&y, &p),
        auc: eval::roc_auc(&y, &p),
    };
    (folds, pooled)
}

#[test]
fn every_figure_is_well_formed_with_its_elements() {
    let (folds, pooled) = small_roc();
    let roc = plots::roc_curves("ROC", &folds, &pooled).standalone();
    let c = check_xml(&roc).unwrap();
    assert_eq!(c["polyline"], 4, "three folds and the pooled curve");
    assert_eq!(c["svg"], 1);
    assert_eq!(c["title"], 1);
    assert!(roc.contains(&format!("pooled: AUC {:.3}", pooled.auc)));

    let cm = plots::confusion_matrix("CM", [[5, 2], [1, 7]], &["class 0".into(), "class 1".into()]);
    let cm = cm.standalone();
    check_xml(&cm).unwrap();
    for n in ["5", "2", "1", "7"] {
        assert!(cm.contains(&format!(">{n}</text>")), "count {n}");
    }
    assert!(cm.contains("71.4% of the row") && cm.contains("87.5% of the row"));

    let names: Vec<String> = ["a_x", "b_y", "c_z", "d<&>"].iter().map(|s| s.to_string()).collect();
    let rows: Vec<Vec<f64>> = (0..30)
        .map(|i| {
            let t = i as f64;
            vec![t.sin(), t.cos(), 2.0 * t.sin() + 0.1 * t.cos(), (0.5 * t).sin()]
        })
        .collect();
    let x = Matrix::from_rows(&rows);
    let hm = plots::clustered_heatmap("r", &names, &x, &[true, false, false, false]).standalone();
    let c = check_xml(&hm).unwrap();
    assert!(hm.contains("d&lt;&amp;&gt;"), "names are escaped");
    assert!(hm.contains("font-weight=\"bold\">a_x</text>"), "marked feature in bold");
    // 16 cells, each with its r written, and the colour bar's 40 steps.
    assert!(c["rect"] >= 16 + 40);
    assert_eq!(count(&hm, "font-size=\"10.00\""), 16);
    // r of columns 0 and 3, computed here by the textbook formula, is among the cells (above and below the diagonal).
    let (a, d) = (x.col(0), x.col(3));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, md) = (mean(&a), mean(&d));
    let sxy: f64 = a.iter().zip(&d).map(|(p, q)| (p - ma) * (q - md)).sum();
    let sxx: f64 = a.iter().map(|p| (p - ma) * (p - ma)).sum();
    let syy: f64 = d.iter().map(|q| (q - md) * (q - md)).sum();
    let r03 = format!(">{:.2}</text>", sxy / (sxx * syy).sqrt());
    assert!(count(&hm, &r03) >= 2, "{r03}");

    let cols: Vec<Vec<f64>> = (0..2).map(|j| x.col(j)).collect();
    let y: Vec<usize> = (0..30).map(|i| i % 2).collect();
    let cd =
        plots::class_distributions("d", &names[..2], &cols, &y, &["early".into(), "late".into()]);
    let cd = cd.standalone();
    let c = check_xml(&cd).unwrap();
    assert_eq!(c["polyline"], 4, "two classes in each of two panels");
    assert!(
        cd.contains("early (n = 15)") && cd.contains(">a_x</text>") && cd.contains(">b_y</text>")
    );

    let panels = vec![
        CurvePanel {
            y_label: "loss".into(),
            spread_label: String::new(),
            points: (3..8)
                .map(|k| CurvePoint { x: k as f64, mean: 1.0 / k as f64, spread: None })
                .collect(),
        },
        CurvePanel {
            y_label: "importance".into(),
            spread_label: "± 1 sd".into(),
            points: (3..8)
                .map(|k| CurvePoint { x: k as f64, mean: 0.5, spread: Some((0.4, 0.6)) })
                .collect(),
        },
    ];
    let ec = plots::elimination_curve("e", &panels, 3, "features").standalone();
    let c = check_xml(&ec).unwrap();
    assert_eq!(c["polyline"], 2);
    assert_eq!(count(&ec, "<polygon"), 2, "the spread band and its legend swatch");
    assert_eq!(count(&ec, ">K = 3 kept</text>"), 2);

    let bars: Vec<Bar> = (0..3)
        .map(|k| Bar {
            label: format!("f{k}"),
            value: k as f64 + 0.5,
            whisker: Some((k as f64, k as f64 + 1.0)),
        })
        .collect();
    let sf = plots::selection_frequency("kept", &names[..3], &[vec![1, 0], vec![0, 2], vec![0]]);
    let sf = sf.standalone();
    check_xml(&sf).unwrap();
    let at = |s: &str| sf.find(&format!(">{s}</text>")).unwrap_or_else(|| panic!("{s}"));
    assert!(at("a_x") < at("b_y") && at("b_y") < at("c_z"), "most often kept first");
    assert!(at("1.00") < at("0.33"), "frequencies written");
    assert_eq!(count(&sf, "fill=\"#0072B2\""), 3);

    let bc = plots::bar_chart("b", &bars, "value", None, 2).standalone();
    check_xml(&bc).unwrap();
    assert_eq!(count(&bc, "fill=\"#0072B2\""), 3, "one bar each");
    assert!(bc.contains(">f2</text>") && bc.contains(">2.50</text>"));
}

#[test]
fn a_small_figure_matches_its_golden_file_byte_for_byte() {
    let (folds, pooled) = small_roc();
    let svg = plots::roc_curves("ROC curves of a twelve-row example", &folds, &pooled).standalone();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/roc_small.svg");
    if std::env::var_os("GLRFE_BLESS").is_some() {
        fs::write(&golden, &svg).unwrap();
    }
    let want =
        fs::read_to_string(&golden).expect("tests/golden/roc_small.svg (GLRFE_BLESS=1 writes it)");
    assert!(
        svg == want,
        "the ROC figure's bytes changed; if intended, re-bless with GLRFE_BLESS=1"
    );
}

fn summary() -> LoadSummary {
    LoadSummary {
        files: vec![PathBuf::from("features.csv"), PathBuf::from("clinical.csv")],
        rows_read: 12,
        left_out: vec![LeftOut { id: "P9".into(), line: 10, reason: "label missing".into() }],
        ignored_columns: vec!["PatientID".into(), "stage".into()],
        features: 4,
        class_counts: [5, 6],
        classes: ["I,II".into(), "IIIa,IIIb".into()],
        dropped_features: vec![(
            "original_shape_Flat".into(),
            "constant over the rows used".into(),
        )],
        missing_cells: 0,
    }
}

fn provenance() -> Value {
    let input = |f: &str, h: &str| Value::object().field("file", f).field("sha256", h).build();
    Value::object()
        .field("tool", "glrfe")
        .field("version", "0.1.0")
        .field("command", "evaluate")
        .field(
            "arguments",
            Value::from(vec![
                "evaluate".to_string(),
                "features.csv".into(),
                "--label".into(),
                "a b".into(),
            ]),
        )
        .field("seed", 42usize)
        .field("settings", Value::object().field("folds", "3").build())
        .field(
            "inputs",
            Value::from(vec![input("features.csv", "ab12"), input("clinical.csv", "cd34")]),
        )
        .build()
}

#[test]
fn the_page_names_every_figure_and_references_nothing_outside() {
    let (folds, pooled) = small_roc();
    let per_fold: Vec<Metrics> = (0..3)
        .map(|f| Metrics::compute(&[0, 1, 1, 0], &[0.2 + 0.1 * f as f64, 0.7, 0.4, 0.6]))
        .collect();
    let protocol = |name: &str, optimistic| ProtocolMetrics {
        name: name.into(),
        optimistic,
        folds: 3,
        summary: eval::summarize_metrics(&per_fold),
        pooled: Some(per_fold[0]),
    };
    let mut r = Report::new("A <test> report");
    r.summary("the result").data(&summary(), &provenance());
    r.section("Metrics").metrics("m", &[protocol("nested", false), protocol("published", true)]);
    r.figure(Figure::new("roc", "ROC & more", plots::roc_curves("ROC", &folds, &pooled)));
    r.figure(Figure::new(
        "confusion",
        "CM",
        plots::confusion_matrix("CM", [[1, 2], [3, 4]], &["0".into(), "1".into()]),
    ));
    let mut t = Table::new("selectors", &["selector", "AUC"]);
    t.row(&["GL-RFE", "0.81"]);
    r.comparison("Side by side.", t);
    r.provenance(&provenance());

    let files = r.files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["report.html", "roc.svg", "confusion.svg"]);
    let html = &files[0].1;
    for f in r.figures() {
        assert!(html.contains(&format!("{}.svg", f.name)), "{} not named", f.name);
        assert!(html.contains(&format!("id=\"fig-{}\"", f.name)));
    }
    for (name, svg) in &files[1..] {
        check_xml(svg).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_no_external_references(html);
    assert_eq!(count(html, "<svg "), 2, "figures are inline");
    for inline in html.split("<svg ").skip(1) {
        let end = inline.find("</svg>").unwrap() + "</svg>".len();
        check_xml(&format!("<svg {}", &inline[..end])).unwrap();
    }
    assert!(html.contains("<title>A &lt;test&gt; report</title>"));
    assert!(html.contains("ab12") && html.contains("cd34"), "input hashes");
    assert!(html.contains("label missing") && html.contains("P9"), "rows left out and why");
    assert!(html.contains("class 1 (IIIa,IIIb)"), "class names");
    assert!(html.contains("glrfe evaluate features.csv --label &#39;a b&#39;"), "command line");
    assert!(html.contains("published (OPTIMISTIC)") && html.contains("class=\"optimistic\""));
    assert!(html.contains("<th>selector</th>") && html.contains("Comparison"));
    // The interval column holds the corrected t interval of the AUCs.
    let auc = eval::summarize_metrics(&per_fold)[8].1;
    let (lo, hi) = stats::cv_interval(&auc, 3).unwrap();
    assert!(html.contains(&format!("[{lo:.3}, {hi:.3}]")), "AUC interval");
}

fn assert_no_external_references(html: &str) {
    let lower = html.to_lowercase();
    for bad in
        ["http:", "https:", "<script", "src=", "url(", "@import", "<link", "<iframe", "xmlns"]
    {
        assert!(!lower.contains(bad), "the page contains {bad}");
    }
    for (k, _) in lower.match_indices("href=\"") {
        assert!(lower[k + 6..].starts_with('#'), "a link out of the page");
    }
}

// ---------------------------------------------------------------------------------------------
// Through the binary

fn glrfe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glrfe")).args(args).output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file of a folder by name, with its bytes.
fn folder(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn select_and_evaluate_write_stable_reports_that_verify_checks() {
    let dir = scratch("cli");
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("select-t{threads}"));
        let args = [&["select", TABLE, "--threads", threads, "--out", out.to_str().unwrap()], FAST]
            .concat();
        let o = glrfe(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(o.stderr.is_empty(), "--quiet and no terminal: nothing on stderr");
        runs.push(folder(&out));
    }
    let (a, b) = (&runs[0], &runs[1]);
    let svgs: Vec<&String> = a.keys().filter(|n| n.ends_with(".svg")).collect();
    let expected = [
        "correlation-all.svg",
        "correlation-kept.svg",
        "distributions.svg",
        "elimination.svg",
        "importance.svg",
    ];
    assert_eq!(svgs, expected);
    for (name, bytes) in a {
        if name != "timings.json" {
            assert!(b.get(name) == Some(bytes), "{name} differs between 1 and 2 threads");
        }
    }
    let html = text(&a["report.html"]);
    assert_no_external_references(&html);
    for s in &svgs {
        assert!(html.contains(s.as_str()), "{s} not named in the page");
        check_xml(&text(&a[s.as_str()])).unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    let kept: Vec<String> = text(&a["ranking.csv"])
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some(""))
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(kept.len(), 10);
    let dist = text(&a["distributions.svg"]);
    for k in &kept {
        assert!(html.contains(k.as_str()) && dist.contains(&format!(">{k}</text>")), "{k}");
    }

    // verify: a faithful folder passes, a tampered one fails and names the file.
    let sel = dir.join("select-t1");
    let o = glrfe(&["verify", "--out", sel.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains(&format!("verified: all {} result files match", a.len() - 1)));
    let tampered = dir.join("tampered");
    fs::create_dir_all(&tampered).unwrap();
    for (name, bytes) in a {
        let mut bytes = bytes.clone();
        if name == "importance.svg" {
            let k = bytes.len() / 2;
            bytes[k] = if bytes[k] == b'1' { b'2' } else { b'1' };
        }
        fs::write(tampered.join(name), bytes).unwrap();
    }
    let o = glrfe(&["verify", "--out", tampered.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(
        out.contains("DIFFERS  importance.svg") && out.contains("same     ranking.csv"),
        "{out}"
    );

    // evaluate on the features select kept, from the same file: labelled optimistic.
    let ev = dir.join("evaluate");
    let ranking = sel.join("ranking.csv");
    let o = glrfe(
        &[
            &[
                "evaluate",
                TABLE,
                "--use",
                ranking.to_str().unwrap(),
                "--folds",
                "3",
                "--out",
                ev.to_str().unwrap(),
            ],
            &["--label", "stage", "--epochs", "15", "--quiet"][..],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let files = folder(&ev);
    let html = text(&files["report.html"]);
    assert_no_external_references(&html);
    for s in [
        "roc.svg",
        "confusion.svg",
        "correlation-all.svg",
        "correlation-used.svg",
        "distributions.svg",
    ] {
        assert!(html.contains(s), "{s}");
        check_xml(&text(&files[s])).unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    assert!(html.contains("OPTIMISTIC: the features were chosen by"));
    let doc = glrfe::json::parse(&text(&files["evaluation.json"])).unwrap();
    let cm: Vec<usize> = doc
        .get("pooled")
        .and_then(|p| p.get("confusion"))
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_usize().unwrap()))
        .collect();
    let confusion = text(&files["confusion.svg"]);
    for n in cm {
        assert!(confusion.contains(&format!(">{n}</text>")), "count {n} drawn");
    }
    let roc = check_xml(&text(&files["roc.svg"])).unwrap();
    assert_eq!(roc["polyline"], 3 + 1, "three folds and pooled");
    let auc = doc.get("summary").and_then(|s| s.get("roc_auc")).unwrap();
    let iv = auc.get("interval95").and_then(Value::as_array).unwrap();
    assert!(iv[0].as_f64().unwrap() < auc.get("mean").and_then(Value::as_f64).unwrap());
}
