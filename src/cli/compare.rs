//! `glrfe compare`: every chosen selection method inside the same outer folds, with the same K
//! and final classifier; one table on stdout, CSV and Markdown under `--out`.

use super::args::{Command, Flag, Parsed};
use super::*;
use glrfe::baselines::METHODS;
use glrfe::baselines::comparison::{self, Comparison, Interval};
use glrfe::decorrelate::{self, Dropped};
use glrfe::pipeline::Classifier;
use glrfe::report::plots::{self, Bar};
use glrfe::report::{Figure, Report, Table};
use std::sync::Arc;

const COMPARE: &[Flag] = &[
    opt(
        "methods",
        "A,B,..|all",
        Some("all"),
        "methods to compare, of: glrfe, grad-x-input, anova, mutual-info, lasso, rfe-logistic, mrmr, permutation, forest, random",
    ),
    opt(
        "classifier",
        "mlp|logistic",
        Some("mlp"),
        "final model fitted on each method's kept features",
    ),
    opt(
        "decorrelate",
        "R",
        None,
        "first drop one of each feature pair with |Pearson r| > R (per fold)",
    ),
    opt("folds", "K", Some("5"), "stratified outer folds"),
    opt("repeats", "R", Some("1"), "reshuffled repeats of the outer folds"),
    opt("select-epochs", "N", None, "epochs of the networks selection trains (default: --epochs)"),
    opt(
        "select-weight-decay",
        "W",
        None,
        "weight decay of those networks (default: --weight-decay)",
    ),
];

pub fn command() -> Command {
    Command {
        name: "compare",
        usage: "glrfe compare TABLE [--methods a,b,..] [options]",
        about: "Compare selection methods inside the same outer folds, with the same K and final \
                classifier; prints one table (accuracy, precision, recall, F1, ROC AUC with a \
                95% interval, selection stability, selection time).",
        groups: vec![
            ("Data", DATA),
            ("Comparison", COMPARE),
            ("Selection", SELECTION),
            ("Network", NETWORK),
            ("Run", COMMON),
        ],
    }
}

fn method_names(args: &Parsed) -> Result<Vec<String>> {
    let list = args.list("methods");
    if list.is_empty() || list.iter().any(|m| m == "all") {
        return Ok(METHODS.iter().map(|m| m.to_string()).collect());
    }
    let mut names: Vec<String> = Vec::new();
    for m in list {
        if !METHODS.contains(&m.as_str()) {
            return Err(Error::usage(format!(
                "--methods: unknown method '{m}'; choose from {}",
                METHODS.join(", ")
            )));
        }
        if names.contains(&m) {
            return Err(Error::usage(format!("--methods names '{m}' twice")));
        }
        names.push(m);
    }
    Ok(names)
}

fn interval_text(i: &Interval) -> String {
    format!("{:.3} [{:.3}, {:.3}]", i.mean, i.lower, i.upper)
}

fn stability_text(c: &comparison::MethodSummary) -> String {
    match c.stability {
        Some(s) => format!("{:.3} [{:.3}, {:.3}]", s.estimate, s.lower, s.upper),
        None => "-".to_string(),
    }
}

const HEADER: [&str; 9] = [
    "method",
    "K",
    "accuracy",
    "precision",
    "recall",
    "F1",
    "ROC AUC [95% CI]",
    "stability [95% CI]",
    "select s/fold",
];

fn rows(c: &Comparison) -> Vec<[String; 9]> {
    c.methods
        .iter()
        .map(|m| {
            [
                m.name.clone(),
                m.keep.to_string(),
                format!("{:.3}", m.accuracy.mean),
                format!("{:.3}", m.precision.mean),
                format!("{:.3}", m.recall.mean),
                format!("{:.3}", m.f1.mean),
                interval_text(&m.roc_auc),
                stability_text(m),
                format!("{:.2}", m.seconds),
            ]
        })
        .collect()
}

fn text_table(c: &Comparison) -> String {
    let rows = rows(c);
    let mut width = HEADER.map(str::len);
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if i == 0 {
                    format!("{s:<w$}", w = width[i])
                } else {
                    format!("{s:>w$}", w = width[i])
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut s = line(&HEADER.map(String::from));
    for r in &rows {
        s.push_str(&line(r));
    }
    s
}

/// The columns of result files: all but the last, selection time, which varies from run to
/// run and lives in timings.json, so that the rest compares byte for byte.
const STABLE_COLUMNS: usize = HEADER.len() - 1;

fn markdown_table(c: &Comparison, caption: &str) -> String {
    let header = &HEADER[..STABLE_COLUMNS];
    let mut s = format!("{caption}\n\n| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        s.push_str(if i == 0 { " --- |" } else { " ---: |" });
    }
    s.push('\n');
    for r in rows(c) {
        s.push_str(&format!("| {} |\n", r[..STABLE_COLUMNS].join(" | ")));
    }
    s
}

/// Everything but selection time, so that this file compares byte for byte between runs.
fn comparison_csv(c: &Comparison) -> String {
    let mut s = String::from("method,K");
    for m in ["accuracy", "precision", "recall", "f1", "roc_auc"] {
        s.push_str(&format!(",{m}_mean,{m}_lower,{m}_upper"));
    }
    s.push_str(",folds,stability,stability_lower,stability_upper\n");
    for m in &c.methods {
        s.push_str(&format!("{},{}", m.name, m.keep));
        for i in [&m.accuracy, &m.precision, &m.recall, &m.f1, &m.roc_auc] {
            s.push_str(&format!(",{},{},{}", i.mean, i.lower, i.upper));
        }
        s.push_str(&format!(",{}", m.roc_auc.n));
        match m.stability {
            Some(st) => s.push_str(&format!(",{},{},{}\n", st.estimate, st.lower, st.upper)),
            None => s.push_str(",,,\n"),
        }
    }
    s
}

fn folds_csv(c: &Comparison, data: &Dataset) -> String {
    let mut s = String::from("method,repeat,fold");
    for n in Metrics::NAMES {
        s.push_str(&format!(",{n}"));
    }
    s.push_str(",kept\n");
    for f in &c.folds {
        s.push_str(&format!("{},{},{}", c.methods[f.method].name, f.repeat + 1, f.fold + 1));
        for v in f.metrics.values() {
            s.push_str(&format!(",{v}"));
        }
        let kept: Vec<&str> = f.kept.iter().map(|&j| data.names[j].as_str()).collect();
        s.push_str(&format!(",{}\n", csv_field(&kept.join(";"))));
    }
    s
}

/// What the correlation filter dropped, as JSON.
pub fn dropped_json(data: &Dataset, dropped: &[Dropped]) -> Value {
    Value::from(
        dropped
            .iter()
            .map(|g| {
                Value::object()
                    .field("dropped", data.names[g.feature].clone())
                    .field("partner", data.names[g.partner].clone())
                    .field("r", g.r)
                    .field("mean_abs_r", g.mean_abs_r)
                    .field("partner_mean_abs_r", g.partner_mean_abs_r)
                    .build()
            })
            .collect::<Vec<_>>(),
    )
}

pub fn run(ctx: &Context, args: &Parsed) -> Result<()> {
    let mut cfg = glrfe_config(args)?;
    let final_model = PipelineConfig {
        balance: cfg.balance,
        selection: None,
        train: cfg.train.clone(),
        classifier: match args.get("classifier") {
            Some("mlp") => Classifier::Mlp,
            Some("logistic") => Classifier::Logistic,
            other => {
                return Err(Error::usage(format!(
                    "--classifier '{}': use mlp or logistic",
                    other.unwrap_or("")
                )));
            }
        },
    };
    if let Some(e) = args.parse::<usize>("select-epochs")? {
        cfg.train.epochs = e;
    }
    if let Some(w) = args.parse::<f64>("select-weight-decay")? {
        cfg.train.weight_decay = w;
    }
    let names = method_names(args)?;
    let decorrelate_at = args.parse::<f64>("decorrelate")?;
    let selectors: Vec<Arc<dyn glrfe::select::Selector>> = names
        .iter()
        .map(|n| super::select::method_selector(n, &cfg, args))
        .collect::<Result<_>>()?;
    let folds: usize = args.value("folds")?;
    let repeats: usize = args.value("repeats")?;
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;

    let fold_list = glrfe::eval::stratified_folds(&data.y, folds, repeats, ctx.seed)?;
    let on_task = |done: usize, total: usize| ctx.progress.update("method x fold", done, total);
    let result = comparison::compare(
        &data,
        &selectors,
        cfg.keep,
        &final_model,
        &fold_list,
        ctx.seed,
        Some(&on_task),
    )?;
    let decorrelated = match decorrelate_at {
        Some(r) => format!("; decorrelated at |r| > {r} per fold"),
        None => String::new(),
    };
    let caption = format!(
        "{} rows, {} features; {}-fold x {} repeat(s); final model {}{decorrelated}; 95% \
         intervals: corrected resampled t over the {} test folds; stability: Nogueira et al. \
         over the folds' kept sets",
        data.n(),
        data.d(),
        folds,
        repeats,
        args.get("classifier").unwrap_or("mlp"),
        folds * repeats
    );
    let table = text_table(&result);
    if let Some(out) = out {
        let mut doc = Value::object()
            .field("provenance", ctx.provenance(args, &summary)?)
            .field("methods", Value::from(names.clone()));
        if let Some(threshold) = decorrelate_at {
            // The filter is deterministic, so running it again on each fold's training rows
            // gives exactly what the wrapped selectors saw.
            let per_fold: Vec<Value> = fold_list
                .iter()
                .map(|f| {
                    let dropped =
                        decorrelate::find_correlated(&data.x.select_rows(&f.train), threshold);
                    Value::object()
                        .field("repeat", f.repeat + 1)
                        .field("fold", f.fold + 1)
                        .field("dropped", dropped_json(&data, &dropped))
                        .build()
                })
                .collect();
            doc = doc.field("decorrelation", Value::from(per_fold));
        }
        out.write("comparison.csv", &comparison_csv(&result))?;
        out.write("comparison.md", &markdown_table(&result, &caption))?;
        out.write("folds.csv", &folds_csv(&result, &data))?;
        out.write("comparison.json", &doc.build().to_pretty())?;
        let provenance = ctx.provenance(args, &summary)?;
        for (name, text) in html_report(ctx, &summary, &provenance, &result, &caption).files() {
            out.write(&name, &text)?;
        }
        let per_method = result
            .methods
            .iter()
            .map(|m| (format!("selection_seconds_per_fold_{}", m.name), m.seconds))
            .collect();
        out.write("timings.json", &ctx.timings_with("compare", per_method))?;
        out.finish()?;
    }
    stdout_text(&format!("{caption}\n{table}"))
}

/// The HTML report of a comparison: the table, the AUC of every method with its interval, and
/// how often each method's folds agreed on what to keep.
fn html_report(
    ctx: &Context,
    summary: &LoadSummary,
    provenance: &Value,
    c: &Comparison,
    caption: &str,
) -> Report {
    let mut r = Report::new(&format!("Selectors compared on {}", super::select::table_name(ctx)));
    r.subtitle(&format!(
        "glrfe {} compare: every method selects inside the same outer training folds, the same \
         final model is trained on its kept features and scored on the untouched test fold; \
         seed {}.",
        env!("CARGO_PKG_VERSION"),
        ctx.seed
    ));
    if let Some(best) = c.methods.iter().max_by(|a, b| a.roc_auc.mean.total_cmp(&b.roc_auc.mean)) {
        let random = c.methods.iter().find(|m| m.name == "random");
        r.summary(&format!(
            "Highest mean ROC AUC: {} with {}{}. Intervals overlapping each other mean the \
             data cannot tell those methods apart.",
            best.name,
            interval_text(&best.roc_auc),
            random.map_or(String::new(), |m| format!(
                "; a random choice of {} features scores {}",
                m.keep,
                interval_text(&m.roc_auc)
            ))
        ));
    }
    r.data(summary, provenance);
    let mut t = Table::new("Nested comparison of the selectors", &HEADER[..STABLE_COLUMNS]);
    for row in rows(c) {
        t.row(&row[..STABLE_COLUMNS]);
    }
    t.note = caption.to_string();
    r.comparison(
        "Every row is honest: selection, scaling, balancing and the final model were fitted on \
         each outer training part alone.",
        t,
    );
    let bars: Vec<Bar> = c
        .methods
        .iter()
        .map(|m| Bar {
            label: m.name.clone(),
            value: m.roc_auc.mean,
            whisker: Some((m.roc_auc.lower, m.roc_auc.upper)),
        })
        .collect();
    r.figure(Figure::new(
        "auc-by-method",
        "Mean ROC AUC over the outer test folds of every method, with its 95% interval as \
         whiskers (corrected resampled t); 0.5 is chance.",
        plots::bar_chart("ROC AUC by selection method", &bars, "ROC AUC", Some((0.0, 1.0)), 3),
    ));
    let stab: Vec<Bar> = c
        .methods
        .iter()
        .map(|m| Bar {
            label: m.name.clone(),
            value: m.stability.map_or(f64::NAN, |s| s.estimate),
            whisker: m.stability.map(|s| (s.lower, s.upper)),
        })
        .collect();
    r.figure(Figure::new(
        "stability-by-method",
        "Selection stability of every method across the folds (Nogueira et al.; 1 = every fold \
         kept the same features, 0 = what random subsets would give), with its 95% interval.",
        plots::bar_chart("Selection stability by method", &stab, "stability", Some((-0.2, 1.0)), 3),
    ));
    r.provenance(provenance);
    r
}
