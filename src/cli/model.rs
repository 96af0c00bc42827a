//! `glrfe train` writes a model file; `glrfe explain` reads one and prints each row's loss
//! gradients with respect to the raw inputs.

use super::args::{Command, Parsed};
use super::evaluate::{chosen_features, metrics_json};
use super::*;

pub fn train_command() -> Command {
    Command {
        name: "train",
        usage: "glrfe train TABLE --model FILE [--use RANKING.csv | --use-features A,B]",
        about: "Fit scaler, balancing and network on all rows and write a model file.",
        groups: vec![
            ("Model", MODEL_OUT),
            ("Data", DATA),
            ("Features", &EVALUATION[2..]),
            ("Network", NETWORK),
            ("Run", COMMON),
        ],
    }
}

pub fn explain_command() -> Command {
    Command {
        name: "explain",
        usage: "glrfe explain --model FILE TABLE [options]",
        about: "For each row print id,label,loss,p_positive and dLoss/dx for every model \
                    feature, with respect to the raw (unscaled) value.",
        groups: vec![("Model", MODEL_IN), ("Data", DATA), ("Run", COMMON)],
    }
}

pub fn train(ctx: &Context, args: &Parsed) -> Result<()> {
    let model_path =
        PathBuf::from(args.get("model").ok_or_else(|| Error::usage("'train' needs --model FILE"))?);
    output::refuse_inputs(&model_path, "--model", &output::input_paths(args, false))?;
    let cfg = PipelineConfig {
        balance: balance(args)?,
        selection: None,
        train: train_config(args)?,
        classifier: Default::default(),
    };
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    let features = chosen_features(ctx, &data, args)?;
    let fitted = pipeline::fit(&data.x, &data.y, &features, &cfg, ctx.seed, &[], None)?;
    let p = fitted.predict_proba(&data.x);
    let training = Value::object()
        .field("provenance", ctx.provenance(args, &summary)?)
        .field("train_loss", fitted.train_loss)
        .field("training_rows_metrics", metrics_json(&Metrics::compute(&data.y, &p)))
        .field("feature_range", feature_range(&data.x, &fitted.features))
        .build();
    let model = ModelFile {
        features: fitted.features.iter().map(|&j| data.names[j].clone()).collect(),
        classes: data.classes.clone(),
        scaler: fitted.scaler,
        mlp: fitted.model,
        training,
    };
    let text = model.to_json().to_pretty();
    if let Some(out) = out {
        out.write("model.json", &text)?;
        out.write("timings.json", &ctx.timings("train"))?;
        out.finish()?;
    }
    output::write_file_atomically(&model_path, &text)?;
    ctx.note(&format!(
        "model with {} features written to {}",
        model.features.len(),
        model_path.display()
    ));
    Ok(())
}

/// The raw minimum and maximum over the training rows of each model feature, in model input
/// order: `{"min": [...], "max": [...]}`, for `predict` to flag values outside them.
fn feature_range(x: &glrfe::Matrix, features: &[usize]) -> Value {
    let mut min = Vec::with_capacity(features.len());
    let mut max = Vec::with_capacity(features.len());
    for &j in features {
        let col = x.col(j);
        min.push(col.iter().copied().fold(f64::INFINITY, f64::min));
        max.push(col.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    Value::object().field("min", min).field("max", max).build()
}

pub(super) fn read_model(args: &Parsed) -> Result<ModelFile> {
    let path =
        PathBuf::from(args.get("model").ok_or_else(|| Error::usage("--model FILE is required"))?);
    ModelFile::read(&path)
}

pub fn explain(ctx: &Context, args: &Parsed) -> Result<()> {
    let model = read_model(args)?;
    let out = out_dir(args)?;
    let (data, _) = load(ctx, args)?;
    let idx: Vec<usize> =
        model.features.iter().map(|n| data.feature_index(n)).collect::<Option<_>>().ok_or_else(
            || {
                let missing: Vec<&str> = model
                    .features
                    .iter()
                    .filter(|n| data.feature_index(n).is_none())
                    .map(String::as_str)
                    .collect();
                Error::input(format!("the table lacks model features: {}", missing.join(", ")))
                    .in_file(&ctx.table)
            },
        )?;
    let x = data.x.select_cols(&idx);
    let xs = model.transform(&x).map_err(|e| e.in_file(&ctx.table))?;
    let grads = model.mlp.row_input_gradients(&xs, &data.y);
    let p = model.mlp.predict_proba(&xs);
    let mut s = String::from("id,label,loss,p_positive");
    for f in &model.features {
        s.push(',');
        s.push_str(&csv_field(f));
    }
    s.push('\n');
    for (i, p) in p.iter().enumerate() {
        let row = xs.select_rows(&[i]);
        let loss = model.mlp.loss(&row, &data.y[i..=i], None);
        s.push_str(&format!("{},{},{loss},{p}", csv_field(&data.ids[i]), data.y[i]));
        // dL/dx = dL/dx' / std for the scaled input x' = (x - mean) / std.
        for (g, sd) in grads.row(i).iter().zip(&model.scaler.std) {
            s.push_str(&format!(",{}", g / sd));
        }
        s.push('\n');
    }
    if let Some(out) = out {
        out.write("explain.csv", &s)?;
        out.finish()?;
    }
    stdout_text(&s)
}
