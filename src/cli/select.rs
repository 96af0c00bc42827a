//! `glrfe select`: GL-RFE (or another method, `--method`) on all given rows, the ranking on
//! stdout.

use super::args::{Command, Flag, Parsed};
use super::*;
use glrfe::report::plots::{self, Bar, CurvePanel, CurvePoint};
use glrfe::report::{Figure, Report, Table, class_label, stats};
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
/// The table's file name, for titles.
pub(super) fn table_name(ctx: &Context) -> String {
    ctx.table
        .file_name()
        .map_or_else(|| ctx.table.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The class labels of the figures' legends.
pub(super) fn class_labels(data: &Dataset) -> [String; 2] {
    [class_label(0, &data.classes[0]), class_label(1, &data.classes[1])]
}

/// Sections on the chosen features' values: correlation heat maps (of every feature with the
/// chosen ones marked, and of the chosen ones alone) and their class-wise distributions.
pub(super) fn feature_sections(report: &mut Report, data: &Dataset, chosen: &[usize], what: &str) {
    /// Distributions are drawn for at most this many features (the first ones given).
    const MAX_DISTRIBUTIONS: usize = 30;
    let names = |idx: &[usize]| idx.iter().map(|&j| data.names[j].clone()).collect::<Vec<_>>();
    report.section("Correlations between features");
    report.paragraph(&format!(
        "Pearson correlation over the {} rows used. Rows and columns are ordered by \
         agglomerative hierarchical clustering with average linkage (UPGMA) on the distance \
         1 - |r|, so that groups of correlated features sit together as blocks along the \
         diagonal. Strongly correlated features carry much the same information: a selection \
         may keep any one of a block.",
        data.n()
    ));
    if chosen.len() < data.d() {
        let marked: Vec<bool> = (0..data.d()).map(|j| chosen.contains(&j)).collect();
        let svg = plots::clustered_heatmap(
            &format!("Correlation of all {} features ({what} in bold, marked)", data.d()),
            &data.names,
            &data.x,
            &marked,
        );
        report.figure(Figure::new(
            "correlation-all",
            &format!(
                "Correlation heat map of all {} features; {what} features are in bold with a \
                 black mark. Blue = negative, red = positive correlation. The SVG file is vector \
                 graphics: zoom in to read the names.",
                data.d()
            ),
            svg,
        ));
    }
    let svg = plots::clustered_heatmap(
        &format!("Correlation of the {} {what} features", chosen.len()),
        &names(chosen),
        &data.x.select_cols(chosen),
        &[],
    );
    report.figure(Figure::new(
        &format!("correlation-{}", what.replace(' ', "-")),
        &format!(
            "Correlation heat map of the {} {what} features, with r in each cell where it fits.",
            chosen.len()
        ),
        svg,
    ));

    report.section("Class-wise distributions");
    let shown = &chosen[..chosen.len().min(MAX_DISTRIBUTIONS)];
    let mut text = format!(
        "Each panel shows one {what} feature's values, standardised over all {} rows used, as \
         two overlaid histograms: one per class, each scaled to unit area so that classes of \
         different sizes compare. Ticks under each panel mark the class means. A feature that \
         separates the classes shows two shifted humps.",
        data.n()
    );
    if shown.len() < chosen.len() {
        text.push_str(&format!(
            " The first {} of {} features are shown.",
            shown.len(),
            chosen.len()
        ));
    }
    report.paragraph(&text);
    let columns: Vec<Vec<f64>> = shown.iter().map(|&j| data.x.col(j)).collect();
    let svg = plots::class_distributions(
        &format!("Distributions by class of the {} {what} features", shown.len()),
        &names(shown),
        &columns,
        &data.y,
        &class_labels(data),
    );
    report.figure(Figure::new(
        "distributions",
        &format!(
            "Standardised values of each {what} feature by class: {} solid, {} dashed.",
            class_labels(data)[0],
            class_labels(data)[1]
        ),
        svg,
    ));
}

fn report(
    ctx: &Context,
    data: &Dataset,
    summary: &LoadSummary,
    provenance: &Value,
    sel: &Selection,
    cfg: &GlrfeConfig,
    method: &str,
) -> Report {
    let name = |j: usize| data.names[j].clone();
    let gradient = matches!(method, "glrfe" | "grad-x-input");
    let title = if method == "glrfe" { "GL-RFE".to_string() } else { format!("'{method}'") };
    let mut r = Report::new(&format!("{title} feature selection on {}", table_name(ctx)));
    r.subtitle(&format!(
        "glrfe {} select: {} rows, {} features, {} kept after {} rounds, seed {}.",
        env!("CARGO_PKG_VERSION"),
        data.n(),
        data.d(),
        sel.kept.len(),
        sel.rounds.len(),
        ctx.seed
    ));
    let top: Vec<String> = sel.kept.iter().map(|&j| name(j)).collect();
    r.summary(&format!(
        "{title} kept {} of {} features, most important first: {}.",
        sel.kept.len(),
        data.d(),
        top.join(", ")
    ));
    r.note(
        "This ranking was made on all the rows shown here. It is not a performance estimate: \
         a model scored on these same rows, or cross-validated on these features after \
         selecting them here, looks better than it will on new patients. The nested protocol \
         (selection inside each training fold) gives the honest number.",
    );
    r.data(summary, provenance);

    r.section("Kept features");
    let kept: Vec<_> = sel.ranking.iter().filter(|k| k.eliminated_in_round.is_none()).collect();
    let mut t = Table::new(
        "The kept features and their importance in the last round",
        &["rank", "feature", "importance"],
    );
    for k in &kept {
        t.row(&[k.rank.to_string(), name(k.feature), format!("{:.6}", k.importance)]);
    }
    t.note = if gradient {
        "importance = mean over the training rows of |dLoss/dx| (grad-x-input: |x dLoss/dx|) \
         for the standardised feature, from the last round's network(s), trained on the kept \
         features only."
            .to_string()
    } else {
        format!("importance = the score '{method}' ranks by (see README, Comparing selectors).")
    };
    r.table(t);
    if !gradient {
        // The remaining figures describe gradient importances and elimination rounds.
        feature_sections(&mut r, data, &sel.kept, "kept");
        r.provenance(provenance);
        return r;
    }
    let bars: Vec<Bar> = kept
        .iter()
        .map(|k| Bar { label: name(k.feature), value: k.importance, whisker: None })
        .collect();
    r.figure(Figure::new(
        "importance",
        "Importance of each kept feature in the last round: the mean over training rows of \
         |dLoss/dx| with respect to the standardised feature (loss in nats per sd of the \
         feature). Longer bars: the loss reacts more strongly to the feature.",
        plots::bar_chart(
            "Importance of the kept features (last round)",
            &bars,
            "mean |dLoss/dx| (nats per sd of the feature)",
            None,
            4,
        ),
    ));

    r.section("Elimination path");
    let mut panels = vec![CurvePanel {
        y_label: "training loss (nats)".into(),
        spread_label: String::new(),
        points: sel
            .rounds
            .iter()
            .map(|q| CurvePoint { x: q.features.len() as f64, mean: q.train_loss, spread: None })
            .collect(),
    }];
    panels.push(CurvePanel {
        y_label: "importance (mean |dL/dx|)".into(),
        spread_label: "± 1 sd over the features in".into(),
        points: sel
            .rounds
            .iter()
            .map(|q| {
                let (m, sd) = stats::mean_sd(&q.importance);
                CurvePoint { x: q.features.len() as f64, mean: m, spread: Some((m - sd, m + sd)) }
            })
            .collect(),
    });
    if sel.rounds.iter().any(|q| q.validation_loss.is_finite()) {
        panels.push(CurvePanel {
            y_label: "held-out loss (nats)".into(),
            spread_label: String::new(),
            points: sel
                .rounds
                .iter()
                .filter(|q| q.validation_loss.is_finite())
                .map(|q| CurvePoint {
                    x: q.features.len() as f64,
                    mean: q.validation_loss,
                    spread: None,
                })
                .collect(),
        });
    }
    r.paragraph(&format!(
        "Each round trains {} fresh network(s) on the features still in and eliminates the \
         least important; read the curves from right (all {} features) to left (K = {}).",
        cfg.ensemble,
        data.d(),
        cfg.keep
    ));
    r.figure(Figure::new(
        "elimination",
        "Elimination curve, one point per round at the number of features in that round. Top: \
         the mean last-epoch training loss (cross-entropy in nats, on the SMOTE-balanced \
         standardised training rows) of the round's network(s). Below: the mean importance of \
         the features still in, with a band of ± 1 sd over those features; with candidates, \
         also the loss on the held-out validation rows. The dashed line marks K.",
        plots::elimination_curve(
            "Elimination path: scores against the number of features in",
            &panels,
            cfg.keep,
            "number of features in the round",
        ),
    ));
    feature_sections(&mut r, data, &sel.kept, "kept");
    r.provenance(provenance);
    r
}

pub fn run(ctx: &Context, args: &Parsed) -> Result<()> {
    let cfg = glrfe_config(args)?;
    let method = args.get("method").unwrap_or("glrfe");
    let selector = method_selector(method, &cfg, args)?;
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    ctx.progress.stage(&format!("{method} on {} features", data.d()));
    let on_round = |done: usize, total: usize| ctx.progress.update("round", done, total);
    let sel = selector.select(&data.x, &data.y, ctx.seed, &[], Some(&on_round))?;
    let csv = ranking_csv(&data, &sel);
    if let Some(out) = out {
        let provenance = ctx.provenance(args, &summary)?;
        let mut doc = Value::object()
            .field("provenance", provenance.clone())
            .field("method", method)
            .field("selection", selection_json(&data, &sel));
        if let Some(threshold) = args.parse::<f64>("decorrelate")? {
            let dropped = glrfe::decorrelate::find_correlated(&data.x, threshold);
            doc = doc.field("decorrelation", super::compare::dropped_json(&data, &dropped));
        }
        let doc = doc.build();
        out.write("ranking.csv", &csv)?;
        out.write("selection.json", &doc.to_pretty())?;
        for (name, text) in report(ctx, &data, &summary, &provenance, &sel, &cfg, method).files() {
            out.write(&name, &text)?;
        }
        out.write("timings.json", &ctx.timings("select"))?;
        out.finish()?;
    }
    stdout_text(&csv)
}
