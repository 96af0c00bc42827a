//! `glrfe evaluate`: stratified k-fold cross-validation of the network on chosen features.

use super::args::{Command, Parsed};
use super::*;

pub fn command() -> Command {
    Command {
        name: "evaluate",
        usage: "glrfe evaluate TABLE [--use RANKING.csv | --use-features A,B] [options]",
        about: "Stratified k-fold cross-validation of the network on all features or on a \
                    chosen set; scaling and SMOTE are fitted inside each training fold.",
        groups: vec![
            ("Data", DATA),
            ("Evaluation", EVALUATION),
            ("Network", NETWORK),
            ("Run", COMMON),
        ],
    }
}

/// The columns to use: from `--use RANKING.csv` (its kept rows), `--use-features`, or all.
pub fn chosen_features(ctx: &Context, data: &Dataset, args: &Parsed) -> Result<Vec<usize>> {
    let names: Vec<String> = match (args.get("use"), args.get("use-features")) {
        (Some(_), Some(_)) => {
            return Err(Error::usage("give either --use or --use-features, not both"));
        }
        (Some(path), None) => kept_from_ranking(Path::new(path))?,
        (None, Some(_)) => args.list("use-features"),
        (None, None) => return Ok((0..data.d()).collect()),
    };
    if names.is_empty() {
        return Err(Error::usage("no features chosen"));
    }
    let missing: Vec<&str> =
        names.iter().filter(|n| data.feature_index(n).is_none()).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(Error::input(format!(
            "the table has no feature column {}; check --features and the names",
            missing.join(", ")
        ))
        .in_file(&ctx.table));
    }
    let mut idx = Vec::new();
    for n in &names {
        let j = data.feature_index(n).expect("checked above");
        if idx.contains(&j) {
            return Err(Error::usage(format!("feature '{n}' is chosen twice")));
        }
        idx.push(j);
    }
    Ok(idx)
}

/// The kept features of a ranking CSV written by `select`: rows with an empty
/// `eliminated_in_round`, in rank order.
fn kept_from_ranking(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("cannot read the ranking: {e}")).in_file(path))?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("rank,feature,eliminated_in_round,importance") {
        return Err(Error::input(
            "not a ranking written by 'glrfe select' (header rank,feature,eliminated_in_round,importance)",
        )
        .in_file(path)
        .at_line(1));
    }
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut kept = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec =
            rec.map_err(|e| Error::input(format!("{e}")).in_file(path).at_line(i as u64 + 2))?;
        if rec.len() != 4 {
            return Err(Error::input(format!("expected 4 fields, found {}", rec.len()))
                .in_file(path)
                .at_line(i as u64 + 2));
        }
        if rec[2].trim().is_empty() {
            kept.push(rec[1].to_string());
        }
    }
    if kept.is_empty() {
        return Err(Error::input("the ranking marks no feature as kept").in_file(path));
    }
    Ok(kept)
}

fn metrics_table(report: &CvReport) -> String {
    let mut s = format!("{:<18} {:>8} {:>8} {:>8}\n", "metric", "mean", "sd", "pooled");
    let pooled = report.pooled.values();
    for ((name, summary), p) in report.summary.iter().zip(pooled) {
        s.push_str(&format!("{name:<18} {:>8.4} {:>8.4} {p:>8.4}\n", summary.mean, summary.sd));
    }
    let c = report.pooled.confusion;
    s.push_str(&format!(
        "confusion (pooled, rows = true class 0/1): [[{}, {}], [{}, {}]]\n",
        c[0][0], c[0][1], c[1][0], c[1][1]
    ));
    s
}

pub fn metrics_json(m: &Metrics) -> Value {
    let mut o = Value::object();
    for (name, v) in Metrics::NAMES.iter().zip(m.values()) {
        o = o.field(*name, v);
    }
    let c = m.confusion;
    o.field(
        "confusion",
        Value::from(vec![
            Value::from(vec![c[0][0] as f64, c[0][1] as f64]),
            Value::from(vec![c[1][0] as f64, c[1][1] as f64]),
        ]),
    )
    .build()
}

pub fn run(ctx: &Context, args: &Parsed) -> Result<()> {
    let cfg = PipelineConfig {
        balance: balance(args)?,
        selection: None,
        train: train_config(args)?,
        classifier: Default::default(),
    };
    let folds: usize = args.value("folds")?;
    let repeats: usize = args.value("repeats")?;
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    let features = chosen_features(ctx, &data, args)?;
    let on_fold = |done: usize, total: usize| ctx.progress.update("folds", done, total);
    let report =
        pipeline::cross_validate(&data, &features, &cfg, folds, repeats, ctx.seed, Some(&on_fold))?;
    let table = metrics_table(&report);
    if let Some(out) = out {
        let mut per_fold = String::from("repeat,fold");
        for n in Metrics::NAMES {
            per_fold.push_str(&format!(",{n}"));
        }
        per_fold.push('\n');
        let mut predictions = String::from("id,repeat,fold,label,p_positive\n");
        for f in &report.folds {
            per_fold.push_str(&format!("{},{}", f.repeat + 1, f.fold + 1));
            for v in f.metrics.values() {
                per_fold.push_str(&format!(",{v}"));
            }
            per_fold.push('\n');
            for ((&i, &y), &p) in f.test.iter().zip(&f.y).zip(&f.p) {
                predictions.push_str(&format!(
                    "{},{},{},{y},{p}\n",
                    csv_field(&data.ids[i]),
                    f.repeat + 1,
                    f.fold + 1
                ));
            }
        }
        let mut summary_json = Value::object();
        for (name, s) in &report.summary {
            summary_json = summary_json.field(
                *name,
                Value::object().field("mean", s.mean).field("sd", s.sd).field("n", s.n).build(),
            );
        }
        let doc = Value::object()
            .field("provenance", ctx.provenance(args, &summary)?)
            .field(
                "features",
                Value::from(features.iter().map(|&j| data.names[j].clone()).collect::<Vec<_>>()),
            )
            .field("folds", folds)
            .field("repeats", repeats)
            .field("summary", summary_json.build())
            .field("pooled", metrics_json(&report.pooled))
            .field(
                "per_fold",
                Value::from(
                    report.folds.iter().map(|f| metrics_json(&f.metrics)).collect::<Vec<_>>(),
                ),
            )
            .build();
        out.write("evaluation.json", &doc.to_pretty())?;
        out.write("folds.csv", &per_fold)?;
        out.write("predictions.csv", &predictions)?;
        out.write("timings.json", &ctx.timings("evaluate"))?;
        out.finish()?;
    }
    stdout_text(&format!(
        "{}-fold cross-validation x {} repeat(s), {} features, {} rows\n{table}",
        folds,
        repeats,
        features.len(),
        data.n()
    ))
}
