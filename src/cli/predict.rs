//! `glrfe predict`: score new rows with a model file. Prints `id,p_positive,predicted` as CSV;
//! warns on stderr about values outside the range the model was trained on.
//!
//! The table needs every model feature under the same name (other columns, the label among
//! them, are never read); a table that lacks some is refused with the list of those missing.

use super::args::{Command, Flag, Parsed, opt, switch};
use super::*;

const PREDICT_DATA: &[Flag] = &[
    opt("id", "COL", None, "id column (default: PatientID when present)"),
    opt("delimiter", "CHAR", None, "field delimiter: ',' ';' or 'tab' (default: detected)"),
];

const PREDICT_RUN: &[Flag] = &[
    opt("out", "DIR", None, "also write predictions.csv into this new folder"),
    switch("force", "replace an existing --out folder"),
    switch("quiet", "no notes on stderr (warnings about values are still given)"),
];

/// Values outside the training range listed one by one before the rest are only counted.
const MAX_LISTED: usize = 20;

pub fn command() -> Command {
    Command {
        name: "predict",
        usage: "glrfe predict --model FILE TABLE [options]",
        about: "Score every row of TABLE with a model file written by train; prints \
                id,p_positive,predicted as CSV (predicted = 1 when p_positive >= 0.5). The \
                label column, if any, is never read.",
        groups: vec![("Model", MODEL_IN), ("Data", PREDICT_DATA), ("Run", PREDICT_RUN)],
    }
}

/// The training range `(min, max)` of each model feature, when the model file records it.
fn training_range(model: &ModelFile) -> Option<Vec<(f64, f64)>> {
    let r = model.training.get("feature_range")?;
    let nums =
        |k: &str| -> Option<Vec<f64>> { r.get(k)?.as_array()?.iter().map(Value::as_f64).collect() };
    let (min, max) = (nums("min")?, nums("max")?);
    (min.len() == model.features.len() && max.len() == model.features.len())
        .then(|| min.into_iter().zip(max).collect())
}

/// One warning line per value outside its feature's training range (the first `MAX_LISTED`),
/// then a count of the rest. Row numbers are 1-based data rows.
fn range_warnings(
    ids: &[String],
    x: &glrfe::Matrix,
    features: &[String],
    range: &[(f64, f64)],
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut count = 0usize;
    let mut rows = 0usize;
    for (i, id) in ids.iter().enumerate().take(x.rows()) {
        let mut row_has = false;
        for (j, (&v, &(lo, hi))) in x.row(i).iter().zip(range).enumerate() {
            if v < lo || v > hi {
                count += 1;
                row_has = true;
                if lines.len() < MAX_LISTED {
                    lines.push(format!(
                        "glrfe: warning: row {} (id {}): {} = {v} is outside the training \
                         range [{lo}, {hi}]",
                        i + 1,
                        id,
                        features[j]
                    ));
                }
            }
        }
        rows += usize::from(row_has);
    }
    if count > MAX_LISTED {
        lines.push(format!(
            "glrfe: warning: ... {} more; {count} values in {rows} rows are outside the \
             training range in all",
            count - MAX_LISTED
        ));
    }
    lines
}

pub fn run(ctx: &Context, args: &Parsed) -> Result<()> {
    let model = super::model::read_model(args)?;
    let out = out_dir(args)?;
    let opts = load_options(args)?;
    let (ids, x, _) = data::load_unlabelled(&ctx.table, &opts, Some(&model.features))?;
    ctx.note(&format!(
        "scoring {} rows with a model of {} features; class 1 = {}, class 0 = {}",
        ids.len(),
        model.features.len(),
        model.classes[1],
        model.classes[0]
    ));
    match training_range(&model) {
        Some(range) => {
            for w in range_warnings(&ids, &x, &model.features, &range) {
                eprintln!("{w}");
            }
        }
        None => ctx.note(
            "note: the model file records no training range (training.feature_range), so \
             values are not checked against it",
        ),
    }
    let p = model.predict_proba(&x).map_err(|e| e.in_file(&ctx.table))?;
    let mut s = String::from("id,p_positive,predicted\n");
    for (id, p) in ids.iter().zip(&p) {
        s.push_str(&format!("{},{p},{}\n", csv_field(id), u8::from(*p >= 0.5)));
    }
    if let Some(out) = out {
        out.write("predictions.csv", &s)?;
        out.finish()?;
    }
    stdout_text(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_range_are_named_by_row_and_feature() {
        let x = glrfe::Matrix::from_rows(&[vec![1.0, 5.0], vec![0.5, 2.0], vec![2.0, 9.0]]);
        let ids = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let names = vec!["f".to_string(), "g".to_string()];
        let w = range_warnings(&ids, &x, &names, &[(1.0, 2.0), (2.0, 8.0)]);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("row 2 (id b): f = 0.5") && w[0].contains("[1, 2]"), "{}", w[0]);
        assert!(w[1].contains("row 3 (id c): g = 9"), "{}", w[1]);
    }
}
