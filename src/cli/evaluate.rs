//! `glrfe evaluate`: stratified k-fold cross-validation of the network on chosen features.

use super::args::{Command, Parsed};
use super::*;
use glrfe::report::plots::{self, RocCurve};
use glrfe::report::{Figure, ProtocolMetrics, Report, Table, metric_label, stats};

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
    const HEADER: [&str; 4] = ["rank", "feature", "eliminated_in_round", "importance"];
    let (header, rows) = glrfe::data::read_records(path)?;
    if header != HEADER {
        return Err(Error::input(format!(
            "not a ranking written by 'glrfe select' (header {})",
            HEADER.join(",")
        ))
        .in_file(path)
        .at_line(1));
    }
    let kept: Vec<String> =
        rows.into_iter().filter(|(_, r)| r[2].is_empty()).map(|(_, r)| r[1].clone()).collect();
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
    ctx.progress.stage(&format!("{folds}-fold cross-validation x {repeats}"));
    let on_fold = |done: usize, total: usize| ctx.progress.update("fold", done, total);
    let report =
        pipeline::cross_validate(&data, &features, &cfg, folds, repeats, ctx.seed, Some(&on_fold))?;
    let table = metrics_table(&report);
    let provenance = ctx.provenance(args, &summary)?;
    let seen = selected_on_same_rows(args, &provenance);
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
            let mut o = Value::object().field("mean", s.mean).field("sd", s.sd).field("n", s.n);
            if let Some((lo, hi)) = stats::cv_interval(s, folds) {
                o = o.field("interval95", vec![lo, hi]);
            }
            summary_json = summary_json.field(*name, o.build());
        }
        let doc = Value::object()
            .field("provenance", provenance.clone())
            .field("features_chosen_on_these_rows", seen)
            .field(
                "interval95_method",
                "mean +- t(J-1) sd sqrt(1/J + 1/(k-1)), J folds in all, k per repeat \
                 (Nadeau and Bengio's corrected resampled t)",
            )
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
        let page = html_report(
            ctx,
            &data,
            &summary,
            &provenance,
            &features,
            &report,
            folds,
            repeats,
            seen,
        );
        for (name, text) in page.files() {
            out.write(&name, &text)?;
        }
        out.write("timings.json", &ctx.timings("evaluate"))?;
        out.finish()?;
    }
    let warning = if seen {
        "OPTIMISTIC: these features were chosen by 'glrfe select' on these same rows, so every \
         test fold helped choose them; 'glrfe assess' gives the honest estimate\n"
    } else {
        ""
    };
    stdout_text(&format!(
        "{warning}{}-fold cross-validation x {} repeat(s), {} features, {} rows\n{table}",
        folds,
        repeats,
        features.len(),
        data.n()
    ))
}

/// Whether the `--use` ranking was selected on the very same input files: its folder's
/// `selection.json` records the same input SHA-256s. Then every test fold was seen by the
/// selection, and the numbers are optimistic.
fn selected_on_same_rows(args: &Parsed, provenance: &Value) -> bool {
    let Some(ranking) = args.get("use") else { return false };
    let Some(dir) = Path::new(ranking).parent() else { return false };
    let Ok(text) = std::fs::read_to_string(dir.join("selection.json")) else { return false };
    let Ok(doc) = glrfe::json::parse(&text) else { return false };
    let hashes = |p: Option<&Value>| -> Vec<String> {
        p.and_then(|p| p.get("inputs"))
            .and_then(Value::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(|i| i.get("sha256").and_then(Value::as_str).map(String::from))
            .collect()
    };
    let theirs = hashes(doc.get("provenance"));
    !theirs.is_empty() && theirs == hashes(Some(provenance))
}

#[allow(clippy::too_many_arguments)]
fn html_report(
    ctx: &Context,
    data: &Dataset,
    summary: &LoadSummary,
    provenance: &Value,
    features: &[usize],
    cv: &CvReport,
    folds: usize,
    repeats: usize,
    optimistic: bool,
) -> Report {
    let mut r = Report::new(&format!("Cross-validation on {}", super::select::table_name(ctx)));
    r.subtitle(&format!(
        "glrfe {} evaluate: {folds}-fold stratified cross-validation x {repeats} repeat(s) of \
         the network on {} features, {} rows, seed {}.",
        env!("CARGO_PKG_VERSION"),
        features.len(),
        data.n(),
        ctx.seed
    ));
    let get = |name: &str| cv.summary.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
    let describe = |name: &str| -> String {
        match get(name) {
            Some(s) => {
                let iv = stats::cv_interval(&s, folds)
                    .map(|(a, b)| format!(" (95% interval {:.3} to {:.3})", a, b))
                    .unwrap_or_default();
                format!("{} {:.3} ± {:.3}{iv}", metric_label(name), s.mean, s.sd)
            }
            None => String::new(),
        }
    };
    r.summary(&format!(
        "Over the {} test folds: {}; {}. Pooled over all out-of-fold predictions: ROC AUC {:.3}, \
         balanced accuracy {:.3}.",
        cv.folds.len(),
        describe("roc_auc"),
        describe("balanced_accuracy"),
        cv.pooled.roc_auc,
        cv.pooled.balanced_accuracy
    ));
    if optimistic {
        r.note(
            "OPTIMISTIC: the features were chosen by 'glrfe select' on these same input files \
             (its selection.json records the same SHA-256), so the selection saw every test \
             fold. The numbers below overstate performance on new patients; the nested \
             protocol, with selection inside each training fold, is the honest estimate.",
        );
    } else if args_chose_features(features, data) {
        r.paragraph(
            "The features were chosen before this run. If they were chosen on these same rows, \
             the numbers below are optimistic: only selection inside each training fold (the \
             nested protocol) gives an honest estimate.",
        );
    }
    r.data(summary, provenance);

    r.section("Metrics");
    r.paragraph(
        "Scaler, SMOTE balancing and network are fitted on each training fold alone; the test \
         fold is scored once, by a network that never saw it.",
    );
    let name = if optimistic { "k-fold CV (features chosen on all rows)" } else { "k-fold CV" };
    r.metrics("Cross-validated metrics", &[ProtocolMetrics::from_cv(name, optimistic, cv, folds)]);
    let mut t = Table::new(
        "Per fold",
        &[
            "repeat",
            "fold",
            "test rows",
            "class 1 rows",
            "ROC AUC",
            "balanced accuracy",
            "accuracy",
            "recall",
            "precision",
        ],
    );
    for f in &cv.folds {
        let pos = f.y.iter().filter(|&&c| c == 1).count();
        let m = &f.metrics;
        t.row(&[
            (f.repeat + 1).to_string(),
            (f.fold + 1).to_string(),
            f.y.len().to_string(),
            pos.to_string(),
            format!("{:.3}", m.roc_auc),
            format!("{:.3}", m.balanced_accuracy),
            format!("{:.3}", m.accuracy),
            format!("{:.3}", m.recall),
            format!("{:.3}", m.precision),
        ]);
    }
    r.table(t);

    roc_and_confusion(&mut r, data, cv, repeats);
    super::select::feature_sections(&mut r, data, features, "used");
    r.provenance(provenance);
    r
}

/// The ROC curves of every test fold and of the pooled out-of-fold predictions, and the pooled
/// confusion matrix.
pub(super) fn roc_and_confusion(r: &mut Report, data: &Dataset, cv: &CvReport, repeats: usize) {
    let curves: Vec<RocCurve> = cv
        .folds
        .iter()
        .map(|f| RocCurve {
            label: if repeats > 1 {
                format!("repeat {} fold {}", f.repeat + 1, f.fold + 1)
            } else {
                format!("fold {}", f.fold + 1)
            },
            points: stats::roc_points(&f.y, &f.p),
            auc: f.metrics.roc_auc,
        })
        .collect();
    let (py, pp): (Vec<usize>, Vec<f64>) =
        cv.folds.iter().flat_map(|f| f.y.iter().copied().zip(f.p.iter().copied())).unzip();
    let pooled = RocCurve {
        label: "pooled".into(),
        points: stats::roc_points(&py, &pp),
        auc: cv.pooled.roc_auc,
    };
    r.figure(Figure::new(
        "roc",
        "ROC curves of each test fold (thin) and of all out-of-fold predictions pooled (thick): \
         the true positive rate against the false positive rate as the threshold on P(class 1) \
         falls from 1 to 0. The dashed diagonal is a model that guesses.",
        plots::roc_curves("ROC curves: each test fold and pooled", &curves, &pooled),
    ));
    let labels = super::select::class_labels(data);
    r.figure(Figure::new(
        "confusion",
        "Confusion matrix of all out-of-fold predictions pooled, at the threshold \
         P(class 1) >= 0.5: rows are the true class, columns the predicted one; shading and \
         percentages are shares of the row.",
        plots::confusion_matrix(
            "Confusion matrix (pooled over folds)",
            cv.pooled.confusion,
            &labels,
        ),
    ));
}

/// Whether a subset of the table's features was chosen (rather than all of them).
fn args_chose_features(features: &[usize], data: &Dataset) -> bool {
    features.len() < data.d()
}
