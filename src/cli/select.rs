//! `glrfe select`: GL-RFE (or another method, `--method`) on all given rows, the ranking on
//! stdout.

use super::args::{Command, Flag, Parsed};
use super::*;
use glrfe::select::{Selection, Selector};
use std::sync::Arc;

const METHOD: &[Flag] = &[
    opt(
        "method",
        "NAME",
        Some("glrfe"),
        "selection method (see 'glrfe compare --help' for the list)",
    ),
    opt("decorrelate", "R", None, "first drop one of each feature pair with |Pearson r| > R"),
];

/// The selector of `--method`, wrapped in the correlation filter when `--decorrelate` is given.
pub fn method_selector(name: &str, cfg: &GlrfeConfig, args: &Parsed) -> Result<Arc<dyn Selector>> {
    let sel = glrfe::baselines::selector(name, cfg)?;
    Ok(match args.parse::<f64>("decorrelate")? {
        None => sel,
        Some(threshold) => {
            Arc::new(glrfe::decorrelate::Decorrelated { threshold, keep: cfg.keep, inner: sel })
        }
    })
}

pub fn command() -> Command {
    Command {
        name: "select",
        usage: "glrfe select TABLE [options]",
        about: "Rank every feature by GL-RFE (or --method) on all given rows; prints \
                    rank,feature,eliminated_in_round,importance as CSV.",
        groups: vec![
            ("Data", DATA),
            ("Method", METHOD),
            ("Selection", SELECTION),
            ("Network", NETWORK),
            ("Run", COMMON),
        ],
    }
}

fn ranking_csv(data: &Dataset, sel: &Selection) -> String {
    let mut s = String::from("rank,feature,eliminated_in_round,importance\n");
    for r in &sel.ranking {
        let round = r.eliminated_in_round.map(|k| k.to_string()).unwrap_or_default();
        s.push_str(&format!(
            "{},{},{},{}\n",
            r.rank,
            csv_field(&data.names[r.feature]),
            round,
            r.importance
        ));
    }
    s
}

fn selection_json(data: &Dataset, sel: &Selection) -> Value {
    let names =
        |idx: &[usize]| Value::from(idx.iter().map(|&j| data.names[j].clone()).collect::<Vec<_>>());
    let rounds: Vec<Value> = sel
        .rounds
        .iter()
        .map(|r| {
            let mut o = Value::object()
                .field("round", r.round)
                .field("features_in", r.features.len())
                .field("train_loss", r.train_loss)
                .field("eliminated", names(&r.eliminated))
                .field(
                    "importance",
                    Value::from(
                        r.features
                            .iter()
                            .zip(&r.importance)
                            .map(|(&f, &v)| {
                                Value::object()
                                    .field("feature", data.names[f].clone())
                                    .field("importance", v)
                                    .build()
                            })
                            .collect::<Vec<_>>(),
                    ),
                );
            if !r.candidate_loss.is_empty() {
                o = o.field("validation_loss", r.validation_loss).field(
                    "candidate_loss",
                    Value::from(
                        r.candidate_loss
                            .iter()
                            .map(|&(f, l)| {
                                Value::object()
                                    .field("feature", data.names[f].clone())
                                    .field("loss", l)
                                    .build()
                            })
                            .collect::<Vec<_>>(),
                    ),
                );
            }
            o.build()
        })
        .collect();
    Value::object().field("kept", names(&sel.kept)).field("rounds", Value::from(rounds)).build()
}
pub fn run(ctx: &Context, args: &Parsed) -> Result<()> {
    let cfg = glrfe_config(args)?;
    let method = args.get("method").unwrap_or("glrfe");
    let selector = method_selector(method, &cfg, args)?;
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    let on_round = |done: usize, total: usize| ctx.progress.update("rounds", done, total);
    let sel = selector.select(&data.x, &data.y, ctx.seed, &[], Some(&on_round))?;
    let csv = ranking_csv(&data, &sel);
    if let Some(out) = out {
        let mut doc = Value::object()
            .field("provenance", ctx.provenance(args, &summary)?)
            .field("method", method)
            .field("selection", selection_json(&data, &sel));
        if let Some(threshold) = args.parse::<f64>("decorrelate")? {
            let dropped = glrfe::decorrelate::find_correlated(&data.x, threshold);
            doc = doc.field("decorrelation", super::compare::dropped_json(&data, &dropped));
        }
        let doc = doc.build();
        out.write("ranking.csv", &csv)?;
        out.write("selection.json", &doc.to_pretty())?;
        out.write("timings.json", &ctx.timings("select"))?;
        out.finish()?;
    }
    stdout_text(&csv)
}
