//! The `glrfe` binary as a user runs it: determinism across thread counts, result folders,
//! exit codes and error messages, and the train -> explain round trip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TABLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/synthetic/radiomics_synthetic.csv");

fn glrfe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glrfe")).args(args).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// A fresh, empty scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Quick settings: the point of these tests is behaviour, not accuracy.
const FAST: &[&str] =
    &["--label", "stage", "--epochs", "15", "--step", "0.3", "--keep", "10", "--quiet"];

#[test]
fn select_is_byte_identical_on_one_and_two_threads() {
    let dir = scratch("determinism");
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("t{threads}"));
        let mut args = vec!["select", TABLE, "--threads", threads, "--ensemble", "3"];
        args.extend(["--candidates", "4", "--out", out.to_str().unwrap()]);
        args.extend(FAST);
        let o = glrfe(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        runs.push((stdout(&o), out));
    }
    assert_eq!(runs[0].0, runs[1].0, "stdout differs between 1 and 2 threads");
    for file in ["ranking.csv", "selection.json"] {
        let a = fs::read(runs[0].1.join(file)).unwrap();
        let b = fs::read(runs[1].1.join(file)).unwrap();
        assert!(a == b, "{file} differs between 1 and 2 threads");
    }
    assert!(runs[0].1.join("timings.json").exists());
    assert_eq!(fs::read_to_string(runs[0].1.join("ranking.csv")).unwrap(), runs[0].0);
}

#[test]
fn select_prints_a_ranking_of_every_feature() {
    let o = glrfe(&[&["select", TABLE][..], FAST].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("rank,feature,eliminated_in_round,importance"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(String::from).collect()).collect();
    assert_eq!(rows.len(), 106);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (i + 1).to_string());
        assert!(r[3].parse::<f64>().unwrap() >= 0.0);
    }
    // The kept ten come first, then eliminated features from the last round back to the first.
    assert!(rows[..10].iter().all(|r| r[2].is_empty()));
    let rounds: Vec<usize> = rows[10..].iter().map(|r| r[2].parse().unwrap()).collect();
    assert!(rounds.windows(2).all(|w| w[0] >= w[1]), "{rounds:?}");
    let mut names: Vec<&String> = rows.iter().map(|r| &r[1]).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 106);
}

#[test]
fn evaluate_uses_the_kept_features_of_a_ranking() {
    let dir = scratch("evaluate");
    let sel = dir.join("sel");
    let o = glrfe(&[&["select", TABLE, "--out", sel.to_str().unwrap()][..], FAST].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let ranking = sel.join("ranking.csv");
    let ev = dir.join("ev");
    let o = glrfe(&[
        "evaluate",
        TABLE,
        "--label",
        "stage",
        "--use",
        ranking.to_str().unwrap(),
        "--epochs",
        "30",
        "--quiet",
        "--out",
        ev.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("10 features, 420 rows"), "{text}");
    // The ranking's selection.json records the same input: the numbers are flagged optimistic.
    assert!(text.starts_with("OPTIMISTIC: these features were chosen"), "{text}");
    let auc: f64 = text
        .lines()
        .find(|l| l.starts_with("roc_auc"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("a roc_auc line");
    assert!(auc > 0.6, "mean AUC {auc} on a table with signal");
    let predictions = fs::read_to_string(ev.join("predictions.csv")).unwrap();
    assert_eq!(predictions.lines().count(), 421, "one out-of-fold prediction per row");
    let folds = fs::read_to_string(ev.join("folds.csv")).unwrap();
    assert_eq!(folds.lines().count(), 6);
}

#[test]
fn existing_output_folder_is_refused_without_force() {
    let dir = scratch("refuse");
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("keep.txt"), "precious").unwrap();
    let o = glrfe(&[&["select", TABLE, "--out", out.to_str().unwrap()][..], FAST].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(fs::read_to_string(out.join("keep.txt")).unwrap(), "precious");
    let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no staging folder is left behind");
}

#[test]
fn bad_input_exits_2_with_the_file_named_and_writes_nothing() {
    let dir = scratch("bad-input");
    let missing = dir.join("nope.csv");
    let out = dir.join("out");
    let o = glrfe(&[
        "select",
        missing.to_str().unwrap(),
        "--label",
        "stage",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.starts_with("glrfe: error: ") && err.contains("nope.csv"), "{err}");
    assert!(!out.exists());
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "nothing written");

    let o = glrfe(&["select", TABLE, "--label", "stage", "--keep", "many"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--keep"), "{}", stderr(&o));
    let o = glrfe(&["select", TABLE, "--label", "stage", "--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown option '--frobnicate'"));
    let o = glrfe(&["select", "--help"]);
    assert!(o.status.success() && stdout(&o).contains("--keep K"));
}

#[test]
fn train_then_explain_gives_raw_input_gradients() {
    let dir = scratch("explain");
    let model = dir.join("model.json");
    let o = glrfe(&[
        "train",
        TABLE,
        "--label",
        "stage",
        "--use-features",
        "original_shape_MeshVolume,original_firstorder_Mean,original_glcm_Contrast",
        "--epochs",
        "20",
        "--model",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&model).unwrap();
    assert!(text.contains("\"format\": \"glrfe-model\""));
    let o = glrfe(&[
        "explain",
        "--model",
        model.to_str().unwrap(),
        TABLE,
        "--label",
        "stage",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,label,loss,p_positive,original_shape_MeshVolume,original_firstorder_Mean,original_glcm_Contrast"
        )
    );
    let rows: Vec<Vec<f64>> =
        lines.map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 420);
    for r in &rows {
        let (label, loss, p) = (r[0], r[1], r[2]);
        // The loss is the cross-entropy of the row's own label.
        let expected = if label == 1.0 { -p.ln() } else { -(1.0 - p).ln() };
        assert!((loss - expected).abs() < 1e-9 * expected.max(1.0), "{loss} vs {expected}");
    }

    // Each gradient column is dL/dx for the raw value: compare with central differences of the
    // model's loss in raw units, stepping each feature by a small fraction of its scale.
    let model = glrfe::model::ModelFile::from_json_text(&text).unwrap();
    let opts = glrfe::data::LoadOptions { label: Some("stage".into()), ..Default::default() };
    let (data, _) = glrfe::data::load(Path::new(TABLE), &opts).unwrap();
    let cols: Vec<usize> = model.features.iter().map(|f| data.feature_index(f).unwrap()).collect();
    let raw = data.x.select_cols(&cols);
    let loss_at = |x: &glrfe::Matrix, i: usize| {
        model.mlp.loss(&model.scaler.transform(&x.select_rows(&[i])), &data.y[i..=i], None)
    };
    for i in [0, 17, 311] {
        for j in 0..cols.len() {
            let h = 1e-5 * model.scaler.std[j];
            let (mut up, mut down) = (raw.clone(), raw.clone());
            up.set(i, j, raw.get(i, j) + h);
            down.set(i, j, raw.get(i, j) - h);
            let numeric = (loss_at(&up, i) - loss_at(&down, i)) / (2.0 * h);
            let analytic = rows[i][3 + j];
            let scale = analytic.abs().max(numeric.abs()).max(1e-12 / model.scaler.std[j]);
            assert!(
                (analytic - numeric).abs() / scale < 1e-5,
                "row {i} feature {j}: {analytic} vs {numeric}"
            );
        }
    }
}

#[test]
fn a_ranking_that_is_not_one_is_refused_with_its_line() {
    let dir = scratch("bad-ranking");
    let ranking = dir.join("ranking.csv");
    fs::write(&ranking, "feature,score\noriginal_glcm_Id,1\n").unwrap();
    let o = glrfe(&["evaluate", TABLE, "--label", "stage", "--use", ranking.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("ranking.csv:1:") && err.contains("not a ranking"), "{err}");
    fs::write(&ranking, "rank,feature,eliminated_in_round,importance\n1,a,,0.5\n2,b\n").unwrap();
    let o = glrfe(&["evaluate", TABLE, "--label", "stage", "--use", ranking.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ranking.csv:3:"), "{}", stderr(&o));
}
