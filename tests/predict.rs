//! `glrfe predict`: the train -> predict round trip against the in-memory pipeline, refusal of
//! tables that lack model features, the label column left unread, and range warnings.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glrfe::data::{self, LoadOptions};
use glrfe::nn::TrainConfig;
use glrfe::pipeline::{self, PipelineConfig};
use glrfe::select::Balance;

const TABLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/synthetic/radiomics_synthetic.csv");
const FEATURES: [&str; 3] =
    ["original_shape_MeshVolume", "original_firstorder_Mean", "original_glcm_Contrast"];

fn glrfe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glrfe")).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("predict-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Train a 3-feature model with 20 epochs into `dir/model.json`.
fn train(dir: &Path) -> PathBuf {
    let model = dir.join("model.json");
    let features = FEATURES.join(",");
    let o = glrfe(&[
        "train",
        TABLE,
        "--label",
        "stage",
        "--use-features",
        &features,
        "--epochs",
        "20",
        "--seed",
        "7",
        "--model",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    model
}

/// Rows of predict's CSV: (id, p_positive, predicted).
fn parse(out: &str) -> Vec<(String, f64, u8)> {
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("id,p_positive,predicted"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].to_string(), f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

/// The table with column `name` transformed cell by cell (`None` drops the column). The
/// synthetic table has no quoted fields, so splitting on commas is exact.
fn edit_column(name: &str, f: impl Fn(usize, &str) -> Option<String>) -> String {
    let src = fs::read_to_string(TABLE).unwrap();
    let mut lines = src.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = header.iter().position(|h| *h == name).unwrap();
    let mut out = String::new();
    let mut push = |cells: Vec<String>| {
        out.push_str(&cells.join(","));
        out.push('\n');
    };
    let keep = f(0, name).is_some();
    push(
        header
            .iter()
            .enumerate()
            .filter(|(k, _)| keep || *k != j)
            .map(|(_, h)| h.to_string())
            .collect(),
    );
    for (i, l) in lines.enumerate() {
        let mut cells: Vec<String> = l.split(',').map(String::from).collect();
        match f(i + 1, &cells[j]) {
            Some(v) => cells[j] = v,
            None => {
                cells.remove(j);
            }
        }
        push(cells);
    }
    out
}

#[test]
fn predictions_equal_the_in_memory_pipeline() {
    let dir = scratch("roundtrip");
    let model = train(&dir);
    let o = glrfe(&["predict", "--model", model.to_str().unwrap(), TABLE, "--quiet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rows = parse(&text(&o.stdout));

    // The same fit in memory: train's defaults with --epochs 20 and seed 7, all rows.
    let (ds, _) = data::load(
        Path::new(TABLE),
        &LoadOptions { label: Some("stage".into()), ..LoadOptions::default() },
    )
    .unwrap();
    let cols: Vec<usize> = FEATURES.iter().map(|f| ds.feature_index(f).unwrap()).collect();
    let cfg = PipelineConfig::new(
        Balance::Smote { k: 5 },
        None,
        TrainConfig { epochs: 20, ..TrainConfig::default() },
    );
    let fitted = pipeline::fit(&ds.x, &ds.y, &cols, &cfg, 7, &[], None).unwrap();
    let p = fitted.predict_proba(&ds.x);

    assert_eq!(rows.len(), ds.n());
    for ((id, got, class), (want_id, want)) in rows.iter().zip(ds.ids.iter().zip(&p)) {
        assert_eq!(id, want_id);
        // Shortest round-trip printing: equal text means equal bits.
        assert_eq!(got.to_bits(), want.to_bits(), "row {id}: {got} vs {want}");
        assert_eq!(*class, u8::from(*want >= 0.5), "row {id}");
    }
    assert!(rows.iter().any(|r| r.2 == 0) && rows.iter().any(|r| r.2 == 1));
}

#[test]
fn the_label_column_is_never_read() {
    let dir = scratch("label");
    let model = train(&dir);
    let m = model.to_str().unwrap();
    let base = glrfe(&["predict", "--model", m, TABLE, "--quiet"]);
    assert!(base.status.success(), "{}", text(&base.stderr));

    let garbled = dir.join("garbled.csv");
    fs::write(
        &garbled,
        edit_column("stage", |i, _| Some(if i == 0 { "stage".into() } else { format!("x{i}") })),
    )
    .unwrap();
    let dropped = dir.join("dropped.csv");
    fs::write(&dropped, edit_column("stage", |_, _| None)).unwrap();
    for t in [&garbled, &dropped] {
        let o = glrfe(&["predict", "--model", m, t.to_str().unwrap(), "--quiet"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(o.stdout, base.stdout, "{}", t.display());
    }
}

#[test]
fn a_table_without_model_features_is_refused_with_the_list() {
    let dir = scratch("missing");
    let model = train(&dir);
    let t = dir.join("no-mean.csv");
    fs::write(&t, edit_column("original_firstorder_Mean", |_, _| None)).unwrap();
    let o = glrfe(&["predict", "--model", model.to_str().unwrap(), t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(err.contains("'original_firstorder_Mean'") && err.contains("no-mean.csv"), "{err}");
    assert!(!err.contains("'original_shape_MeshVolume'"), "{err}");
}

#[test]
fn values_outside_the_training_range_are_warned_about_by_row_and_feature() {
    let dir = scratch("range");
    let model = train(&dir);
    let t = dir.join("far.csv");
    // Row 3's contrast far above anything in training; every other value is a training value.
    fs::write(
        &t,
        edit_column("original_glcm_Contrast", |i, v| {
            Some(if i == 3 { "1e9".into() } else { v.into() })
        }),
    )
    .unwrap();
    let o = glrfe(&["predict", "--model", model.to_str().unwrap(), t.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("row 3 (id SYN-003): original_glcm_Contrast = 1000000000"),
        "{err}"
    );
    assert_eq!(parse(&text(&o.stdout)).len(), 420, "every row is still scored");

    // A model file without the recorded range: a note, no check.
    let mut doc = glrfe::json::parse(&fs::read_to_string(&model).unwrap()).unwrap();
    if let glrfe::json::Value::Object(fields) = &mut doc {
        for (k, v) in fields.iter_mut() {
            if k == "training" {
                *v = glrfe::json::Value::object().build();
            }
        }
    }
    let bare = dir.join("bare.json");
    fs::write(&bare, doc.to_pretty()).unwrap();
    let o = glrfe(&["predict", "--model", bare.to_str().unwrap(), t.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("records no training range") && !err.contains("warning"), "{err}");
}

#[test]
fn a_train_results_folder_verifies_wherever_the_model_was_written() {
    let dir = scratch("verify");
    let out = dir.join("out");
    let features = FEATURES.join(",");
    let model = dir.join("elsewhere.json");
    let args = ["train", TABLE, "--label", "stage", "--use-features", &features, "--epochs", "5"];
    let o = glrfe(
        &[
            &args[..],
            &["--model", model.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(fs::read(&model).unwrap(), fs::read(out.join("model.json")).unwrap());
    let o = glrfe(&["verify", "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "verified: all 1 result files match byte for byte (timings.json not compared)\n"
    );
}
