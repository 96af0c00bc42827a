//! `glrfe compare` and `glrfe select --method` as a user runs them: one table, result files that
//! agree with each other and with independent recomputation, byte-identical results on one and
//! two threads, and clear errors.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glrfe::baselines::comparison::corrected_interval;
use glrfe::stability;

const TABLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/synthetic/radiomics_synthetic.csv");

fn glrfe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glrfe")).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Quick settings: 3 folds, short training, few GL-RFE rounds.
const FAST: &[&str] = &[
    "--label", "stage", "--epochs", "15", "--step", "0.3", "--keep", "10", "--folds", "3",
    "--quiet",
];

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect())
        .collect()
}

#[test]
fn compare_prints_one_row_per_method_and_is_thread_independent() {
    let dir = scratch("compare-threads");
    let methods = "glrfe,anova,lasso,random";
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("t{threads}"));
        let mut args = vec!["compare", TABLE, "--methods", methods, "--threads", threads];
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(FAST);
        let o = glrfe(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let stdout = text(&o.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        // Caption, header, four methods in the order asked.
        assert_eq!(lines.len(), 6, "{stdout}");
        assert!(lines[1].starts_with("method") && lines[1].contains("ROC AUC [95% CI]"));
        for (line, m) in lines[2..].iter().zip(["glrfe", "anova", "lasso", "random"]) {
            assert!(line.starts_with(m), "{line}");
            assert!(line.split_whitespace().nth(1) == Some("10"), "K column: {line}");
        }
        outs.push(out);
    }
    for file in ["comparison.csv", "comparison.md", "folds.csv", "comparison.json", "report.html"] {
        let a = fs::read(outs[0].join(file)).unwrap();
        let b = fs::read(outs[1].join(file)).unwrap();
        assert!(a == b, "{file} differs between 1 and 2 threads");
    }
    for file in ["timings.json", "auc-by-method.svg", "stability-by-method.svg"] {
        assert!(outs[0].join(file).exists(), "{file} missing");
    }
    let timings = fs::read_to_string(outs[0].join("timings.json")).unwrap();
    assert!(timings.contains("selection_seconds_per_fold_lasso"), "{timings}");
    let md = fs::read_to_string(outs[0].join("comparison.md")).unwrap();
    // Header, separator and four methods.
    assert_eq!(md.lines().filter(|l| l.starts_with("| ")).count(), 6, "{md}");
}

#[test]
fn the_summary_agrees_with_the_per_fold_results() {
    let dir = scratch("compare-summary");
    let out = dir.join("r");
    let mut args =
        vec!["compare", TABLE, "--methods", "anova,mrmr", "--out", out.to_str().unwrap()];
    args.extend(FAST);
    let o = glrfe(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let folds = csv_rows(&out.join("folds.csv"));
    let summary = csv_rows(&out.join("comparison.csv"));
    let names: Vec<String> = text(&fs::read(TABLE).unwrap())
        .lines()
        .next()
        .unwrap()
        .split(',')
        .skip(2)
        .map(String::from)
        .collect();
    assert_eq!(names.len(), 106);
    for row in &summary {
        let mine: Vec<_> = folds.iter().filter(|f| f["method"] == row["method"]).collect();
        assert_eq!(mine.len(), 3);
        let auc: Vec<f64> = mine.iter().map(|f| f["roc_auc"].parse().unwrap()).collect();
        let mean = auc.iter().sum::<f64>() / 3.0;
        let got: f64 = row["roc_auc_mean"].parse().unwrap();
        assert!((got - mean).abs() < 1e-15, "{got} vs {mean}");
        // Corrected resampled t: t_{0.975, 2} = 4.302652729749464, n_test/n_train = 1/2.
        let var = auc.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / 2.0;
        let half = 4.302652729749464 * ((1.0 / 3.0 + 0.5) * var).sqrt();
        let lower: f64 = row["roc_auc_lower"].parse().unwrap();
        assert!((lower - (mean - half)).abs() < 1e-12, "{lower} vs {}", mean - half);
        // Stability of the kept sets written per fold.
        let subsets: Vec<Vec<usize>> = mine
            .iter()
            .map(|f| {
                f["kept"].split(';').map(|n| names.iter().position(|m| m == n).unwrap()).collect()
            })
            .collect();
        assert!(subsets.iter().all(|s| s.len() == 10));
        let st = stability::nogueira(&subsets, 106).unwrap();
        let got: f64 = row["stability"].parse().unwrap();
        assert!((got - st.estimate).abs() < 1e-15);
    }
}

#[test]
fn the_logistic_final_model_changes_the_scores_not_the_selection() {
    let dir = scratch("compare-classifier");
    let mut kept = Vec::new();
    let mut auc = Vec::new();
    for c in ["mlp", "logistic"] {
        let out = dir.join(c);
        let mut args = vec!["compare", TABLE, "--methods", "anova", "--classifier", c];
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(FAST);
        let o = glrfe(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let folds = csv_rows(&out.join("folds.csv"));
        kept.push(folds.iter().map(|f| f["kept"].clone()).collect::<Vec<_>>());
        auc.push(folds.iter().map(|f| f["roc_auc"].clone()).collect::<Vec<_>>());
    }
    assert_eq!(kept[0], kept[1]);
    assert_ne!(auc[0], auc[1]);
}

#[test]
fn bad_methods_and_classifiers_are_usage_errors() {
    for (flag, value, needle) in [
        ("--methods", "anova,nonsense", "unknown method 'nonsense'"),
        ("--methods", "anova,anova", "twice"),
        ("--classifier", "svm", "use mlp or logistic"),
    ] {
        let mut args = vec!["compare", TABLE, flag, value];
        args.extend(FAST);
        let o = glrfe(&args);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(text(&o.stderr).contains(needle), "{}", text(&o.stderr));
        assert!(o.stdout.is_empty());
    }
    let o = glrfe(&["select", TABLE, "--label", "stage", "--method", "svm", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn select_method_anova_prints_the_f_statistic_as_importance() {
    let o = glrfe(&["select", TABLE, "--label", "stage", "--method", "anova", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let mut rdr = csv::Reader::from_reader(stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 106);
    let reference =
        csv_rows(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sklearn/f_classif.csv"));
    let exact: BTreeMap<&str, f64> = reference
        .iter()
        .filter(|r| r["table"] == "synthetic")
        .map(|r| (r["feature"].as_str(), r["F_exact"].parse().unwrap()))
        .collect();
    let mut previous = f64::INFINITY;
    for (i, r) in rows.iter().enumerate() {
        let f: f64 = r[3].parse().unwrap();
        assert!(((f - exact[&r[1]]) / exact[&r[1]]).abs() < 1e-9, "{}", &r[1]);
        assert!(f <= previous, "not sorted by F at rank {}", i + 1);
        previous = f;
        assert_eq!(r[2].is_empty(), i < 15, "only the top 15 (the default --keep) are kept");
    }
}

#[test]
fn select_decorrelate_records_what_it_dropped() {
    let dir = scratch("select-decorrelate");
    let out = dir.join("r");
    let o = glrfe(&[
        "select",
        TABLE,
        "--label",
        "stage",
        "--method",
        "anova",
        "--decorrelate",
        "0.9",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let json =
        glrfe::json::parse(&fs::read_to_string(out.join("selection.json")).unwrap()).unwrap();
    let dropped = json.get("decorrelation").unwrap().as_array().unwrap();
    // The synthetic table's redundant copies (e.g. VoxelVolume of MeshVolume) are correlated.
    assert!(dropped.len() >= 5, "{}", dropped.len());
    for d in dropped {
        assert!(d.get("r").unwrap().as_f64().unwrap().abs() > 0.9);
        assert!(
            d.get("mean_abs_r").unwrap().as_f64().unwrap()
                >= d.get("partner_mean_abs_r").unwrap().as_f64().unwrap()
        );
    }
    let ranking = fs::read_to_string(out.join("ranking.csv")).unwrap();
    let tail: Vec<&str> = ranking.lines().rev().take(dropped.len()).collect();
    for line in tail {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!((cells[2], cells[3]), ("1", "NaN"), "{line}");
    }
}

#[test]
fn corrected_interval_widens_the_naive_one() {
    // Values 0.6, 0.7, 0.8: mean 0.7, s^2 = 0.01; 5-fold gives n_test/n_train = 1/4.
    let i = corrected_interval(&[0.6, 0.7, 0.8, f64::NAN], 0.25);
    assert_eq!(i.n, 3);
    let half = 4.302652729749464 * ((1.0 / 3.0 + 0.25) * 0.01_f64).sqrt();
    assert!((i.mean - 0.7).abs() < 1e-15);
    assert!((i.upper - (0.7 + half)).abs() < 1e-12 && (i.lower - (0.7 - half)).abs() < 1e-12);
    assert!(corrected_interval(&[0.5], 0.25).lower.is_nan());
}

/// Class weights reach every model a comparison fits: the logistic final model and the
/// permutation selector's network. Without them, `--balance class-weight` would silently
/// give the unbalanced results.
#[test]
fn class_weights_reach_the_logistic_model_and_the_permutation_network() {
    let dir = scratch("class-weights");
    let run = |name: &str, balance: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec!["compare", TABLE, "--label", "stage", "--keep", "5", "--folds", "3"];
        args.extend(["--epochs", "5", "--hidden", "8", "--quiet", "--balance", balance]);
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend_from_slice(extra);
        let o = glrfe(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // Per-fold metrics and kept features: deterministic, unlike stdout's timing column.
        fs::read_to_string(out.join("folds.csv")).unwrap()
    };
    let logistic = ["--methods", "anova", "--classifier", "logistic"];
    assert_ne!(run("l0", "none", &logistic), run("l1", "class-weight", &logistic));
    let permutation = ["--methods", "permutation"];
    assert_ne!(run("p0", "none", &permutation), run("p1", "class-weight", &permutation));
}
