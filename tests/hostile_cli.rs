//! The `glrfe` binary on hostile input and failing runs: exit codes 0, 1 and 2, one-line errors
//! naming file and line, no output left behind by a failed run, no output over an input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn glrfe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glrfe")).args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile_cli").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Names in `dir`, sorted (hidden staging folders included).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    v.sort();
    v
}

/// A small two-class table: `rows` rows, `positives` of class 1, three informative features.
fn table(dir: &Path, name: &str, rows: usize, positives: usize, hole: bool) -> PathBuf {
    let mut s = String::from("PatientID,f1,f2,f3,y\n");
    for i in 0..rows {
        let c = usize::from(i < positives);
        let v = |k: usize| (i * 7 + k * 13) % 10 + 10 * c;
        let f1 = if hole && i == 3 { "nan".to_string() } else { v(1).to_string() };
        s.push_str(&format!("P{i},{f1},{},{},{c}\n", v(2), v(3)));
    }
    let p = dir.join(name);
    fs::write(&p, s).unwrap();
    p
}

const FAST: &[&str] =
    &["--label", "y", "--features", "f*", "--epochs", "3", "--hidden", "4", "--quiet"];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    [head, FAST, tail].concat()
}

/// Flags for `explain`, which trains nothing.
const DATA: &[&str] = &["--label", "y", "--features", "f*", "--quiet"];

/// Assert exit code 2 and a one-line `glrfe: error:` message containing every `wanted`.
fn assert_input_error(o: &Output, wanted: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty(), "no result on stdout");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("glrfe: error: "), "{err}");
    for w in wanted {
        assert!(err.contains(w), "wanted '{w}' in: {err}");
    }
}

#[test]
fn success_is_exit_code_0() {
    let dir = scratch("ok");
    let t = table(&dir, "t.csv", 40, 20, false);
    let out = dir.join("res");
    let o = glrfe(&args(&["evaluate", t.to_str().unwrap()], &["--out", out.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("evaluation.json").exists());
}

#[test]
fn every_bad_table_is_exit_code_2_with_file_and_line_and_writes_nothing() {
    let dir = scratch("bad_tables");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        fs::write(&p, bytes).unwrap();
        p
    };
    let cases: Vec<(PathBuf, Vec<String>)> = vec![
        (dir.join("absent.csv"), vec!["absent.csv: file not found".into()]),
        (write("empty.csv", b""), vec!["empty.csv:1: the file is empty".into()]),
        (
            write("header.csv", b"PatientID,f1,y\n"),
            vec!["header.csv:1:".into(), "no data rows".into()],
        ),
        (
            write("ragged.csv", b"PatientID,f1,y\nA,1,0\nB,2\n"),
            vec!["ragged.csv:3:".into(), "expected 3 fields".into()],
        ),
        (
            write("dupname.csv", b"PatientID,f1,f1,y\nA,1,2,0\n"),
            vec!["dupname.csv:1: column 'f1'".into()],
        ),
        (
            write("dupid.csv", b"PatientID,f1,y\nA,1,0\nA,2,1\n"),
            vec!["dupid.csv:3: column 'PatientID'".into()],
        ),
        (
            write("latin1.csv", b"PatientID,f1,y\nA,1,0\nB\xe9,2,1\n"),
            vec!["latin1.csv:3:".into(), "UTF-8".into()],
        ),
        (
            write("nan.csv", b"PatientID,f1,y\nA,1,0\nB,nan,1\n"),
            vec!["nan.csv:3: column 'f1'".into(), "--missing".into()],
        ),
        (
            write("quote.csv", b"PatientID,f1,y\nA,1,0\nB,\"2,1\n"),
            vec!["quote.csv:3:".into(), "never closed".into()],
        ),
        (
            write("oneclass.csv", b"PatientID,f1,y\nA,1,1\nB,2,1\n"),
            vec!["oneclass.csv:".into(), "fewer than two classes".into()],
        ),
    ];
    for (path, wanted) in cases {
        let out = dir.join("out");
        let o =
            glrfe(&args(&["evaluate", path.to_str().unwrap()], &["--out", out.to_str().unwrap()]));
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        assert_input_error(&o, &wanted);
        assert!(!out.exists(), "{}: no output folder", path.display());
        assert!(
            listing(&dir).iter().all(|n| !n.starts_with('.')),
            "no staging left: {:?}",
            listing(&dir)
        );
    }
}

#[test]
fn too_few_minority_rows_name_the_folds() {
    let dir = scratch("minority");
    let t = table(&dir, "three.csv", 30, 3, false);
    let o = glrfe(&args(&["evaluate", t.to_str().unwrap()], &[]));
    assert_input_error(&o, &["class 1 has 3 rows, fewer than the 5 folds", "--folds"]);

    // Six positives: each training part of 5 folds holds 4 or 5, fewer than SMOTE's k + 1 = 6.
    let t = table(&dir, "six.csv", 30, 6, false);
    let o = glrfe(&args(&["evaluate", t.to_str().unwrap()], &["--threads", "2"]));
    assert_input_error(&o, &["repeat 1, fold 1: ", "SMOTE needs at least k+1 = 6", "--smote-k"]);
    // The first fold in order, whichever thread failed first.
    let again = glrfe(&args(&["evaluate", t.to_str().unwrap()], &["--threads", "1"]));
    assert_eq!(stderr(&again), stderr(&o));
}

#[test]
fn diverged_training_is_exit_code_1_names_fold_and_epoch_and_leaves_nothing() {
    let dir = scratch("diverged");
    let t = table(&dir, "t.csv", 40, 20, false);
    // A missing parent chain: a failed run must not even create the parents.
    let out = dir.join("a").join("b").join("res");
    let o = glrfe(&args(
        &["evaluate", t.to_str().unwrap()],
        &["--lr", "1e300", "--out", out.to_str().unwrap()],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("fold "), "{err}");
    assert!(err.contains("training diverged at epoch "), "{err}");
    assert!(err.contains("lower the learning rate"), "{err}");
    assert_eq!(listing(&dir), ["t.csv"], "nothing but the input is left");

    let o = glrfe(&args(&["select", t.to_str().unwrap()], &["--lr", "1e300", "--keep", "1"]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("round 1, member 0: training diverged at epoch "), "{err}");
}

#[test]
fn existing_out_is_refused_without_force_and_replaced_whole_with_it() {
    let dir = scratch("force");
    let t = table(&dir, "t.csv", 40, 20, false);
    let out = dir.join("res");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("stale.txt"), "old").unwrap();
    let run = |extra: &[&str]| {
        glrfe(&args(
            &["evaluate", t.to_str().unwrap()],
            &[&["--out", out.to_str().unwrap()], extra].concat(),
        ))
    };
    assert_input_error(&run(&[]), &["already exists", "--force"]);
    assert!(out.join("stale.txt").exists());

    let o = run(&["--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!out.join("stale.txt").exists());
    assert!(out.join("evaluation.json").exists());
    assert_eq!(listing(&dir), ["res", "t.csv"], "no staging or replaced folder left");

    // A failed run with --force keeps the old result.
    let o = run(&["--force", "--lr", "1e300"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out.join("evaluation.json").exists());
    assert_eq!(listing(&dir), ["res", "t.csv"]);
}

#[test]
fn no_command_writes_over_its_inputs_whatever_the_spelling() {
    let dir = scratch("inputs");
    let sub = dir.join("data");
    fs::create_dir_all(&sub).unwrap();
    let t = table(&sub, "t.csv", 40, 20, false);
    let before = fs::read(&t).unwrap();
    let odd = format!("{}/../data/./t.csv", sub.display());
    #[cfg(unix)]
    std::os::unix::fs::symlink(&t, dir.join("link.csv")).unwrap();

    for model in [t.to_str().unwrap(), odd.as_str(), dir.join("link.csv").to_str().unwrap()] {
        let o = glrfe(&args(&["train", t.to_str().unwrap()], &["--model", model]));
        assert_input_error(&o, &["--model", "is the input file"]);
    }
    // --out on the input's folder with --force would delete the table.
    let o = glrfe(&args(&["evaluate", &odd], &["--out", sub.to_str().unwrap(), "--force"]));
    assert_input_error(&o, &["holds the input file"]);
    // --out naming the input file itself.
    let o = glrfe(&args(&["evaluate", t.to_str().unwrap()], &["--out", &odd, "--force"]));
    assert_input_error(&o, &["not a folder"]);
    assert_eq!(fs::read(&t).unwrap(), before, "the input is untouched");
}

#[test]
fn explain_imputes_only_with_a_model_that_records_medians() {
    let dir = scratch("explain");
    let t = table(&dir, "t.csv", 40, 20, false);
    let holes = table(&dir, "holes.csv", 40, 20, true);
    let model = dir.join("m.json");
    let o = glrfe(&args(&["train", t.to_str().unwrap()], &["--model", model.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let explain = |m: &Path, extra: &[&str]| {
        let head = ["explain", holes.to_str().unwrap(), "--model", m.to_str().unwrap()];
        glrfe(&[&head[..], DATA, extra].concat())
    };
    // The default --missing error names the cell.
    assert_input_error(&explain(&model, &[]), &["holes.csv:5: column 'f1'"]);
    let o = explain(&model, &["--missing", "median"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 41);
    assert!(!out.contains("NaN"), "imputed, so every number is finite");

    // The same model without its medians (as older files are): refused, naming the feature.
    let text = fs::read_to_string(&model).unwrap();
    let doc = glrfe::json::parse(&text).unwrap();
    let Some(glrfe::json::Value::Object(fields)) = doc.get("scaler").cloned() else { panic!() };
    let scaler =
        glrfe::json::Value::Object(fields.into_iter().filter(|(k, _)| k != "median").collect());
    let Some(top) = doc.as_object() else { panic!() };
    let stripped = glrfe::json::Value::Object(
        top.iter()
            .map(|(k, v)| (k.clone(), if k == "scaler" { scaler.clone() } else { v.clone() }))
            .collect(),
    );
    let old = dir.join("old.json");
    fs::write(&old, stripped.to_pretty()).unwrap();
    assert_input_error(
        &explain(&old, &["--missing", "median"]),
        &["holes.csv", "no value for 'f1'", "records no training medians"],
    );
}

#[test]
fn bad_flags_are_exit_code_2() {
    let dir = scratch("flags");
    let t = table(&dir, "t.csv", 40, 20, false);
    let t = t.to_str().unwrap();
    assert_input_error(
        &glrfe(&args(&["evaluate", t], &["--missing", "zero"])),
        &["--missing 'zero'"],
    );
    assert_input_error(&glrfe(&args(&["evaluate", t], &["--delimiter", ";;"])), &["--delimiter"]);
    assert_input_error(&glrfe(&args(&["evaluate", t], &["--delimiter", "\""])), &["--delimiter"]);
    assert_input_error(&glrfe(&["evaluate"]), &["needs a TABLE"]);
    let broken_model = dir.join("broken.json");
    fs::write(&broken_model, "{\"format\": \"glrfe-model\", \"version\": 9}").unwrap();
    assert_input_error(
        &glrfe(&[&["explain", t, "--model", broken_model.to_str().unwrap()][..], DATA].concat()),
        &["broken.json: not a valid glrfe model file: version 9"],
    );
}
