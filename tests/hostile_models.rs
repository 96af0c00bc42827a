//! Hostile model files: every malformed document is refused with a message saying what is
//! wrong, never a panic or a huge allocation; generated models round-trip; seeded mutations of
//! them are all refused; fuzz regressions.

use std::fs;
use std::path::{Path, PathBuf};

use glrfe::ErrorKind;
use glrfe::json::{self, Value};
use glrfe::matrix::Matrix;
use glrfe::model::{MAX_FILE_BYTES, ModelFile};
use glrfe::rng::Stream;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile_models");
    fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A valid model document: `widths[0]` features, hidden layers, 2 outputs, numbers from `rng`.
fn model_doc(widths: &[usize], rng: &mut Stream, median: bool) -> Value {
    let d = widths[0];
    let nums =
        |n: usize, rng: &mut Stream| Value::from((0..n).map(|_| rng.normal()).collect::<Vec<_>>());
    let mut layers = Vec::new();
    for w in widths.windows(2) {
        let rows: Vec<Value> = (0..w[1]).map(|_| nums(w[0], rng)).collect();
        layers.push(
            Value::object()
                .field("weight", Value::from(rows))
                .field("bias", nums(w[1], rng))
                .build(),
        );
    }
    let mut scaler = Value::object()
        .field("mean", nums(d, rng))
        .field("std", Value::from((0..d).map(|_| 0.5 + rng.uniform()).collect::<Vec<_>>()));
    if median {
        scaler = scaler.field("median", nums(d, rng));
    }
    Value::object()
        .field("format", "glrfe-model")
        .field("version", 1usize)
        .field("features", Value::from((0..d).map(|j| format!("f{j}")).collect::<Vec<_>>()))
        .field("classes", Value::from(vec!["I,II".to_string(), "III".to_string()]))
        .field("scaler", scaler.build())
        .field("activation", "relu")
        .field("layers", Value::from(layers))
        .field("training", Value::object().field("seed", 42usize).build())
        .build()
}

fn refuse(text: &str, wanted: &str) {
    match ModelFile::from_json_text(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Input, "{e}");
            assert!(e.message().contains(wanted), "wanted '{wanted}' in: {e}");
        }
    }
}

/// `doc` with the value at `path` (object keys and array indices) replaced by `f(old)`;
/// `f` returning `None` removes it.
fn edit(doc: &Value, path: &[&str], f: &dyn Fn(&Value) -> Option<Value>) -> Value {
    let Some((first, rest)) = path.split_first() else { return f(doc).unwrap_or(Value::Null) };
    match doc {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter_map(|(k, v)| {
                    if k != first {
                        return Some((k.clone(), v.clone()));
                    }
                    if rest.is_empty() {
                        f(v).map(|nv| (k.clone(), nv))
                    } else {
                        Some((k.clone(), edit(v, rest, f)))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => {
            let i: usize = first.parse().unwrap();
            let mut out = Vec::new();
            for (k, v) in items.iter().enumerate() {
                if k != i {
                    out.push(v.clone());
                } else if rest.is_empty() {
                    out.extend(f(v));
                } else {
                    out.push(edit(v, rest, f));
                }
            }
            Value::Array(out)
        }
        other => other.clone(),
    }
}

fn set(doc: &Value, path: &[&str], v: Value) -> String {
    edit(doc, path, &|_| Some(v.clone())).to_compact()
}

fn remove(doc: &Value, path: &[&str]) -> String {
    edit(doc, path, &|_| None).to_compact()
}

#[test]
fn a_valid_model_reads_scores_and_round_trips_bit_for_bit() {
    let mut rng = Stream::derive(5, "model-doc", &[]);
    let doc = model_doc(&[3, 4, 2], &mut rng, true);
    let m = ModelFile::from_json_text(&doc.to_pretty()).unwrap();
    assert_eq!(m.features, ["f0", "f1", "f2"]);
    assert_eq!(ModelFile::from_json_text(&m.to_json().to_pretty()).unwrap().to_json(), m.to_json());
    // With medians, a missing cell is imputed; the result equals the row with the median.
    let median = m.scaler.median.clone().unwrap();
    let with_nan = Matrix::from_rows(&[vec![f64::NAN, 1.0, 2.0]]);
    let filled = Matrix::from_rows(&[vec![median[0], 1.0, 2.0]]);
    assert_eq!(m.predict_proba(&with_nan).unwrap(), m.predict_proba(&filled).unwrap());
}

#[test]
fn a_model_without_medians_refuses_missing_cells_by_name() {
    let mut rng = Stream::derive(5, "model-doc", &[1]);
    let m = ModelFile::from_json_text(&model_doc(&[3, 2], &mut rng, false).to_compact()).unwrap();
    assert!(m.scaler.median.is_none());
    let e = m.predict_proba(&Matrix::from_rows(&[vec![1.0, 2.0, 3.0], vec![1.0, f64::NAN, 3.0]]));
    let e = e.unwrap_err();
    assert!(e.message().contains("row 2 has no value for 'f1'"), "{e}");
    assert!(e.message().contains("records no training medians"), "{e}");
    let e = m.predict_proba(&Matrix::from_rows(&[vec![1.0, 2.0]])).unwrap_err();
    assert!(e.message().contains("2 columns but the model takes 3"), "{e}");
}

#[test]
fn each_kind_of_broken_model_is_refused_with_its_reason() {
    let mut rng = Stream::derive(5, "model-doc", &[2]);
    let doc = model_doc(&[3, 4, 2], &mut rng, true);
    let cases: Vec<(String, &str)> = vec![
        (set(&doc, &["format"], "sklearn".into()), "format is 'sklearn'"),
        (remove(&doc, &["format"]), "no \"format\" field"),
        (set(&doc, &["version"], Value::from(2usize)), "version 2 is not supported"),
        (set(&doc, &["version"], Value::from(1.5)), "no integer \"version\""),
        (set(&doc, &["activation"], "tanh".into()), "activation 'tanh'"),
        (set(&doc, &["classes"], Value::from(vec!["a".to_string()])), "exactly two classes"),
        (set(&doc, &["features", "1"], "f0".into()), "'f0' is listed twice"),
        (set(&doc, &["features"], Value::Array(vec![])), "\"features\" is empty"),
        (remove(&doc, &["features", "2"]), "2 features"),
        (remove(&doc, &["scaler", "std", "0"]), "2 standard deviations for 3 features"),
        (remove(&doc, &["scaler", "median", "0"]), "2 medians for 3 features"),
        (set(&doc, &["scaler", "std", "1"], Value::from(0.0)), "scaler.std[1] is not positive"),
        (set(&doc, &["scaler", "mean", "2"], Value::Null), "scaler.mean[2] is not a finite"),
        (set(&doc, &["scaler", "median", "0"], "1".into()), "scaler.median[0] is not a finite"),
        (remove(&doc, &["layers", "0", "weight", "3", "1"]), "rows differ in length"),
        (remove(&doc, &["layers", "0", "bias", "0"]), "4 weight rows and 3 biases"),
        (remove(&doc, &["layers", "1"]), "two outputs"),
        (remove(&doc, &["layers", "0"]), "the first layer takes 4 inputs but 3 features"),
        (set(&doc, &["layers"], Value::Array(vec![])), "\"layers\" is empty"),
        (
            set(&doc, &["layers", "1", "weight", "0", "0"], Value::Null),
            "weight[0][0] is not a finite",
        ),
        (set(&doc, &["layers", "0", "weight"], Value::Array(vec![])), "0 weight rows"),
        (remove(&doc, &["layers", "1", "weight", "0", "3"]), "rows differ in length"),
    ];
    for (text, wanted) in &cases {
        refuse(text, wanted);
    }

    // Shapes that do not chain: a middle layer of 5 inputs after 4 outputs.
    let chain = model_doc(&[3, 4, 2], &mut rng, true);
    let mut rng2 = Stream::derive(5, "other", &[]);
    let wide = model_doc(&[5, 2], &mut rng2, false);
    let text = edit(&chain, &["layers", "1"], &|_| {
        wide.get("layers").unwrap().as_array().map(|a| a[0].clone())
    })
    .to_compact();
    refuse(&text, "shapes must chain");

    // Not JSON, not an object, numbers JSON cannot hold, nesting deeper than the parser allows.
    refuse("", "invalid JSON at line 1, column 1");
    refuse("[1, 2]", "not a JSON object");
    refuse(&doc.to_compact().replacen("\"std\":[", "\"std\":[1e400,", 1), "out of the range");
    refuse(&"[".repeat(1_000_000), "invalid JSON");
    refuse(
        &doc.to_compact().replace("\"version\":1", "\"version\":1,\"version\":1"),
        "invalid JSON",
    );
}

#[test]
fn files_too_large_or_not_text_are_refused_before_parsing() {
    // A sparse file one byte over the limit: refused from its size, without reading it.
    let big = scratch("huge.json");
    let f = fs::File::create(&big).unwrap();
    f.set_len(MAX_FILE_BYTES + 1).unwrap();
    let e = ModelFile::read(&big).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input);
    assert!(e.message().contains("larger than 256 MiB"), "{e}");
    assert_eq!(e.file(), Some(big.display().to_string().as_str()));
    fs::remove_file(&big).unwrap();

    let latin = scratch("latin1.json");
    fs::write(&latin, b"{\"format\": \"glrfe-mod\xe8le\"}").unwrap();
    let e = ModelFile::read(&latin).unwrap_err();
    assert!(e.message().contains("not UTF-8"), "{e}");

    let e = ModelFile::read(&scratch("absent.json")).unwrap_err();
    assert!(e.message().contains("cannot read the model file"), "{e}");
    let e = ModelFile::read(&scratch("")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input, "a folder: {e}");
}

/// One structural mutation that must make any valid document invalid, chosen by `k`.
fn break_doc(doc: &Value, widths: &[usize], k: usize, rng: &mut Stream) -> String {
    let layers = widths.len() - 1;
    let l = rng.below(layers).to_string();
    let l_in = widths[l.parse::<usize>().unwrap()];
    let l_out = widths[l.parse::<usize>().unwrap() + 1];
    let row = rng.below(l_out).to_string();
    let col = rng.below(l_in).to_string();
    let j = rng.below(widths[0]).to_string();
    let junk = [Value::Null, Value::from("x"), Value::Bool(true), Value::Array(vec![])];
    let junk = junk[rng.below(4)].clone();
    match k % 12 {
        0 => remove(doc, &["layers", &l, "weight", &row, &col]),
        1 => remove(doc, &["layers", &l, "bias", &row]),
        2 => set(doc, &["layers", &l, "weight", &row, &col], junk),
        3 => set(doc, &["layers", &l, "bias", &row], junk),
        4 => remove(doc, &["features", &j]),
        5 => set(doc, &["scaler", ["mean", "std"][rng.below(2)], &j], junk),
        6 => set(doc, &["scaler", "std", &j], Value::from(-rng.uniform())),
        7 => remove(
            doc,
            &[["format", "version", "features", "classes", "scaler", "activation", "layers"]
                [rng.below(7)]],
        ),
        8 => set(doc, &["version"], Value::from(2 + rng.below(1000))),
        9 => remove(doc, &["layers", &l, "weight", &row]),
        10 => {
            let t = doc.to_compact();
            let cut = rng.below(t.len());
            t[..cut].to_string()
        }
        _ if widths[0] == 1 => set(doc, &["features"], Value::from(vec!["f0".to_string(); 2])),
        _ => {
            let other = format!("f{}", (j.parse::<usize>().unwrap() + 1) % widths[0]);
            set(doc, &["features", &j], Value::from(other))
        }
    }
}

#[test]
fn property_generated_models_load_and_every_mutation_is_refused() {
    for case in 0..300u64 {
        let mut rng = Stream::derive(21, "model-property", &[case]);
        let depth = 1 + rng.below(3);
        let mut widths = vec![1 + rng.below(6)];
        widths.extend((1..depth).map(|_| 1 + rng.below(6)));
        widths.push(2);
        let median = rng.below(2) == 0;
        let doc = model_doc(&widths, &mut rng, median);
        let m = ModelFile::from_json_text(&doc.to_pretty())
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        let x = Matrix::from_rows(&[vec![0.25; widths[0]]]);
        assert!(m.predict_proba(&x).unwrap()[0].is_finite());

        let k = rng.below(12);
        let broken = break_doc(&doc, &widths, k, &mut rng);
        if ModelFile::from_json_text(&broken).is_ok() {
            panic!("case {case}, mutation {k} accepted: {broken}");
        }
    }
}

#[test]
fn property_random_byte_edits_never_panic() {
    let mut rng = Stream::derive(22, "model-bytes", &[]);
    for _ in 0..500 {
        let doc = model_doc(&[2, 3, 2], &mut rng, true).to_compact().into_bytes();
        let mut b = doc.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(b.len());
            match rng.below(3) {
                0 => {
                    b.remove(at);
                }
                1 => b.insert(at, b"{}[],:\"0-e.\\u"[rng.below(13)]),
                _ => b[at] = rng.bits() as u8,
            }
        }
        if let Ok(text) = std::str::from_utf8(&b)
            && let Ok(m) = ModelFile::from_json_text(text)
        {
            let x = Matrix::from_rows(&[vec![0.5; m.features.len()]]);
            let _ = m.predict_proba(&x).unwrap();
        }
    }
    // The JSON parser alone on the same kind of input.
    for _ in 0..500 {
        let n = rng.below(64);
        let t: String = (0..n)
            .map(|_| {
                "{}[],:\"0123456789-+.eE\\u tnrfalsenull"[..].chars().nth(rng.below(36)).unwrap()
            })
            .collect();
        let _ = json::parse(&t);
    }
}

/// Every input under tests/data/fuzz/model_reader/ (crashes cargo-fuzz found, kept after the
/// fix) and the fuzz seeds, run as the fuzz target runs them; see
/// fuzz/fuzz_targets/model_reader.rs.
#[test]
fn fuzz_regressions_are_errors_or_models() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in ["tests/data/fuzz/model_reader", "fuzz/seeds/model_reader"] {
        let Ok(entries) = fs::read_dir(root.join(dir)) else { continue };
        for entry in entries {
            let bytes = fs::read(entry.unwrap().path()).unwrap();
            n += 1;
            let Ok(text) = std::str::from_utf8(&bytes) else { continue };
            if let Ok(m) = ModelFile::from_json_text(text) {
                let x = Matrix::from_rows(&[vec![0.5; m.features.len()]]);
                m.predict_proba(&x).unwrap();
                ModelFile::from_json_text(&m.to_json().to_pretty()).unwrap();
            }
        }
    }
    assert!(n >= 3, "the seeds at least");
}
