//! `glrfe assess`: the nested protocol (the honest number), the published protocol beside it
//! (labelled optimistic), confidence intervals, the choice of K and selection stability.

use super::args::{Command, Flag, Parsed, opt, switch};
use super::evaluate::metrics_json;
use super::*;
use glrfe::assess::{
    self, AssessConfig, AssessReport, Interval, Keep, KeepPath, OPTIMISTIC_REASON, Protocol,
    ProtocolReport,
};
use glrfe::report::{Figure, ProtocolMetrics, Report, Table, metric_label, plots};

const ASSESSMENT: &[Flag] = &[
    opt("protocol", "nested|published|both", Some("nested"), "which protocols to run"),
    opt("outer", "K", Some("5"), "outer stratified folds"),
    opt("repeats", "R", Some("1"), "reshuffled repeats of the outer folds"),
    opt("bootstrap", "B", Some("1000"), "stratified bootstrap replicates (0 = none)"),
    opt("inner", "K", Some("5"), "inner folds scoring the path, with --keep auto"),
    opt("keep-min", "N", Some("1"), "fewest features the path goes down to, with --keep auto"),
    switch("one-se", "with --keep auto: the smallest count within one SE of the best"),
];

/// `--keep` of assess also takes `auto`; the other selection flags are the shared ones.
const ASSESS_KEEP: &[Flag] =
    &[opt("keep", "K|auto", Some("15"), "features to keep, or auto: chosen on inner folds")];

pub fn command() -> Command {
    Command {
        name: "assess",
        usage: "glrfe assess TABLE [--protocol nested|published|both] [--keep K|auto] [options]",
        about: "Nested cross-validation of the whole method (scaling, balancing, GL-RFE and the \
                final network fitted inside every outer training fold), optionally beside the \
                optimistic published protocol, with 95% intervals and selection stability.",
        groups: vec![
            ("Data", DATA),
            ("Assessment", ASSESSMENT),
            ("Selection", ASSESS_KEEP),
            ("Selection", &SELECTION[1..]),
            ("Network", NETWORK),
            ("Run", COMMON),
        ],
    }
}

fn config(args: &Parsed) -> Result<AssessConfig> {
    let protocol = match args.get("protocol") {
        Some("nested") => Protocol::Nested,
        Some("published") => Protocol::Published,
        Some("both") => Protocol::Both,
        other => {
            return Err(Error::usage(format!(
                "--protocol '{}': use nested, published or both",
                other.unwrap_or("")
            )));
        }
    };
    let keep = match args.get("keep") {
        Some("auto") => Keep::Auto {
            inner: args.value("inner")?,
            one_se: args.has("one-se"),
            min: args.value("keep-min")?,
        },
        _ => {
            if args.has("one-se") {
                return Err(Error::usage("--one-se needs --keep auto"));
            }
            Keep::Fixed(args.value("keep")?)
        }
    };
    let fixed = match keep {
        Keep::Fixed(k) => k,
        Keep::Auto { min, .. } => min,
    };
    Ok(AssessConfig {
        glrfe: glrfe_config_keeping(args, fixed)?,
        keep,
        outer: args.value("outer")?,
        repeats: args.value("repeats")?,
        bootstrap: args.value("bootstrap")?,
        protocol,
    })
}

fn interval_json(i: &Interval) -> Value {
    Value::object()
        .field("estimate", i.estimate)
        .field("lower", i.lower)
        .field("upper", i.upper)
        .build()
}

fn intervals_json(v: &[(&'static str, Interval)]) -> Value {
    let mut o = Value::object();
    for (name, i) in v {
        o = o.field(*name, interval_json(i));
    }
    o.build()
}

fn path_json(p: &KeepPath) -> Value {
    Value::object()
        .field("chosen", p.chosen)
        .field(
            "points",
            Value::from(
                p.points
                    .iter()
                    .map(|q| {
                        Value::object()
                            .field("count", q.count)
                            .field("mean_auc", q.score.mean)
                            .field("sd_auc", q.score.sd)
                            .field("n", q.score.n)
                            .build()
                    })
                    .collect::<Vec<_>>(),
            ),
        )
        .build()
}

fn protocol_json(data: &Dataset, features: &[usize], r: &ProtocolReport) -> Value {
    let names =
        |idx: &[usize]| Value::from(idx.iter().map(|&j| data.names[j].clone()).collect::<Vec<_>>());
    let mut summary = Value::object();
    for (name, s) in &r.cv.summary {
        summary = summary.field(
            *name,
            Value::object().field("mean", s.mean).field("sd", s.sd).field("n", s.n).build(),
        );
    }
    let mut o = Value::object().field("protocol", r.name).field("optimistic", r.optimistic);
    o = if r.optimistic {
        o.field("warning", OPTIMISTIC_REASON)
    } else {
        o.field("note", "every fitted step saw the outer training rows only")
    };
    o = o
        .field("rows", r.ids.len())
        .field("synthetic_rows", r.ids.len() - r.real_rows)
        .field("pooled", metrics_json(&r.cv.pooled))
        .field("bootstrap_95", intervals_json(&r.bootstrap))
        .field("over_repeats_95", intervals_json(&r.over_repeats))
        .field("fold_summary", summary.build())
        .field("by_repeat", Value::from(r.by_repeat.iter().map(metrics_json).collect::<Vec<_>>()))
        .field(
            "per_fold",
            Value::from(
                r.cv.folds
                    .iter()
                    .map(|f| {
                        Value::object()
                            .field("repeat", f.repeat + 1)
                            .field("fold", f.fold + 1)
                            .field("features", names(&f.features))
                            .field("metrics", metrics_json(&f.metrics))
                            .build()
                    })
                    .collect::<Vec<_>>(),
            ),
        )
        .field("selections", Value::from(r.selections.iter().map(|s| names(s)).collect::<Vec<_>>()))
        .field("paths", Value::from(r.paths.iter().map(path_json).collect::<Vec<_>>()));
    if let Some(s) = &r.stability {
        let nogueira = match s.nogueira {
            Some(n) => Value::object()
                .field("estimate", n.estimate)
                .field("variance", n.variance)
                .field("lower", n.lower)
                .field("upper", n.upper)
                .build(),
            None => Value::Null,
        };
        let frequency: Vec<Value> = features
            .iter()
            .zip(&s.times_kept)
            .map(|(&j, &t)| {
                Value::object()
                    .field("feature", data.names[j].clone())
                    .field("times_kept", t)
                    .field("fraction", t as f64 / s.subsets.max(1) as f64)
                    .build()
            })
            .collect();
        o = o.field(
            "stability",
            Value::object()
                .field("subsets", s.subsets)
                .field("nogueira", nogueira)
                .field("kuncheva", s.kuncheva.map_or(Value::Null, Value::from))
                .field("frequency", Value::from(frequency))
                .build(),
        );
    }
    o.build()
}

fn fmt_interval(i: &Interval) -> String {
    if i.lower.is_finite() && i.upper.is_finite() {
        format!("{:.4} [{:.4}, {:.4}]", i.estimate, i.lower, i.upper)
    } else {
        format!("{:.4}", i.estimate)
    }
}

fn confusion(r: &ProtocolReport) -> String {
    let c = r.cv.pooled.confusion;
    format!("[[{}, {}], [{}, {}]]", c[0][0], c[0][1], c[1][0], c[1][1])
}

fn stdout_report(
    data: &Dataset,
    features: &[usize],
    cfg: &AssessConfig,
    rep: &AssessReport,
) -> String {
    let keep = match cfg.keep {
        Keep::Fixed(k) => format!("keep {k}"),
        Keep::Auto { inner, one_se, .. } => {
            format!("keep auto ({inner} inner folds{})", if one_se { ", one-SE rule" } else { "" })
        }
    };
    let mut s = format!(
        "{}-fold x {} repeat(s), {} features considered, {} rows, {keep}\n",
        cfg.outer,
        cfg.repeats,
        features.len(),
        data.n()
    );
    let reports: Vec<&ProtocolReport> =
        [&rep.nested, &rep.published].into_iter().flatten().collect();
    for r in &reports {
        if r.optimistic {
            s.push_str(&format!(
                "published* = OPTIMISTIC, do not quote as performance: {OPTIMISTIC_REASON}\n"
            ));
        } else {
            s.push_str("nested = honest: every fitted step saw the outer training rows only\n");
        }
    }
    s.push_str("pooled out-of-fold metrics [95% stratified bootstrap interval]\n");
    let label = |r: &ProtocolReport| if r.optimistic { "published*" } else { "nested" };
    s.push_str(&format!("{:<18}", "metric"));
    for r in &reports {
        s.push_str(&format!(" {:<26}", label(r)));
    }
    if reports.len() == 2 {
        s.push_str(" published*-nested");
    }
    s.push('\n');
    for m in 0..glrfe::eval::Metrics::NAMES.len() {
        s.push_str(&format!("{:<18}", reports[0].bootstrap[m].0));
        for r in &reports {
            s.push_str(&format!(" {:<26}", fmt_interval(&r.bootstrap[m].1)));
        }
        if let [a, b] = reports.as_slice() {
            s.push_str(&format!(" {:+.4}", b.bootstrap[m].1.estimate - a.bootstrap[m].1.estimate));
        }
        s.push('\n');
    }
    for r in &reports {
        let c = r.cv.pooled.confusion;
        let synthetic = r.ids.len() - r.real_rows;
        s.push_str(&format!(
            "{} confusion (pooled, rows = true class 0/1; {} predictions of {} rows{}): {}\n",
            label(r),
            c[0][0] + c[0][1] + c[1][0] + c[1][1],
            r.ids.len(),
            if synthetic > 0 { format!(", {synthetic} synthetic") } else { String::new() },
            confusion(r)
        ));
    }
    if cfg.repeats > 1 {
        for r in &reports {
            let i = &r.over_repeats[8].1;
            let a = &r.over_repeats[7].1;
            s.push_str(&format!(
                "{} over repeats (mean [95% t interval]): roc_auc {}, balanced_accuracy {}\n",
                label(r),
                fmt_interval(i),
                fmt_interval(a)
            ));
        }
    }
    if let Some(st) = rep.nested.as_ref().and_then(|r| r.stability.as_ref()) {
        let nog = st.nogueira.map_or("undefined".to_string(), |n| {
            format!("{:.3} [{:.3}, {:.3}]", n.estimate, n.lower, n.upper)
        });
        let kun = st.kuncheva.map_or("n/a (sizes differ)".to_string(), |k| format!("{k:.3}"));
        s.push_str(&format!(
            "selection stability over {} outer folds: Nogueira {nog}, mean Kuncheva {kun}\n",
            st.subsets
        ));
        let mut order: Vec<usize> = (0..features.len()).collect();
        order.sort_by(|&a, &b| st.times_kept[b].cmp(&st.times_kept[a]).then(a.cmp(&b)));
        let top: Vec<String> = order
            .iter()
            .take(10)
            .filter(|&&p| st.times_kept[p] > 0)
            .map(|&p| format!("{} {}/{}", data.names[features[p]], st.times_kept[p], st.subsets))
            .collect();
        s.push_str(&format!("most often kept: {}\n", top.join(", ")));
    }
    for r in &reports {
        if !r.paths.is_empty() {
            let chosen: Vec<String> = r.paths.iter().map(|p| p.chosen.to_string()).collect();
            s.push_str(&format!("{} chosen K: {}\n", label(r), chosen.join(", ")));
        }
    }
    s
}

fn folds_csv(reports: &[&ProtocolReport]) -> String {
    let mut s = String::from("protocol,repeat,fold,features_kept");
    for n in glrfe::eval::Metrics::NAMES {
        s.push_str(&format!(",{n}"));
    }
    s.push_str(",tn,fp,fn,tp\n");
    for r in reports {
        for f in &r.cv.folds {
            s.push_str(&format!("{},{},{},{}", r.name, f.repeat + 1, f.fold + 1, f.features.len()));
            for v in f.metrics.values() {
                s.push_str(&format!(",{v}"));
            }
            let c = f.metrics.confusion;
            s.push_str(&format!(",{},{},{},{}\n", c[0][0], c[0][1], c[1][0], c[1][1]));
        }
    }
    s
}

fn predictions_csv(reports: &[&ProtocolReport]) -> String {
    let mut s = String::from("protocol,id,synthetic,repeat,fold,label,p_positive\n");
    for r in reports {
        for f in &r.cv.folds {
            for ((&i, &y), &p) in f.test.iter().zip(&f.y).zip(&f.p) {
                s.push_str(&format!(
                    "{},{},{},{},{},{y},{p}\n",
                    r.name,
                    csv_field(&r.ids[i]),
                    u8::from(i >= r.real_rows),
                    f.repeat + 1,
                    f.fold + 1
                ));
            }
        }
    }
    s
}

fn path_csv(reports: &[&ProtocolReport], outer: usize) -> String {
    let mut s = String::from("protocol,repeat,fold,count,mean_auc,sd_auc,n,chosen\n");
    for r in reports {
        for (i, p) in r.paths.iter().enumerate() {
            // Nested paths come one per outer fold in fold order; the published one is global.
            let (repeat, fold) = if r.optimistic {
                (String::new(), String::new())
            } else {
                ((i / outer + 1).to_string(), (i % outer + 1).to_string())
            };
            for q in &p.points {
                s.push_str(&format!(
                    "{},{repeat},{fold},{},{},{},{},{}\n",
                    r.name,
                    q.count,
                    q.score.mean,
                    q.score.sd,
                    q.score.n,
                    u8::from(q.count == p.chosen)
                ));
            }
        }
    }
    s
}

fn stability_csv(data: &Dataset, features: &[usize], r: &ProtocolReport) -> String {
    let mut s = String::from("feature,times_kept,fraction\n");
    if let Some(st) = &r.stability {
        for (&j, &t) in features.iter().zip(&st.times_kept) {
            s.push_str(&format!(
                "{},{t},{}\n",
                csv_field(&data.names[j]),
                t as f64 / st.subsets.max(1) as f64
            ));
        }
    }
    s
}

pub fn run(ctx: &Context, args: &Parsed) -> Result<()> {
    let cfg = config(args)?;
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    let features: Vec<usize> = (0..data.d()).collect();
    let on_progress =
        |stage: &str, done: usize, total: usize| ctx.progress.update(stage, done, total);
    let rep = assess::assess(&data, &features, &cfg, ctx.seed, Some(&on_progress))?;
    let text = stdout_report(&data, &features, &cfg, &rep);
    if let Some(out) = out {
        let reports: Vec<&ProtocolReport> =
            [&rep.nested, &rep.published].into_iter().flatten().collect();
        let mut doc = Value::object()
            .field("provenance", ctx.provenance(args, &summary)?)
            .field("outer", cfg.outer)
            .field("repeats", cfg.repeats)
            .field("bootstrap", cfg.bootstrap);
        for r in &reports {
            doc = doc.field(r.name, protocol_json(&data, &features, r));
        }
        if let (Some(n), Some(p)) = (&rep.nested, &rep.published) {
            let diff: Vec<Value> = n
                .bootstrap
                .iter()
                .zip(&p.bootstrap)
                .map(|((name, a), (_, b))| {
                    Value::object()
                        .field("metric", *name)
                        .field("published_minus_nested", b.estimate - a.estimate)
                        .build()
                })
                .collect();
            doc = doc.field("difference", Value::from(diff));
        }
        out.write("assess.json", &doc.build().to_pretty())?;
        out.write("folds.csv", &folds_csv(&reports))?;
        out.write("predictions.csv", &predictions_csv(&reports))?;
        if reports.iter().any(|r| !r.paths.is_empty()) {
            out.write("path.csv", &path_csv(&reports, cfg.outer))?;
        }
        if let Some(n) = &rep.nested {
            out.write("stability.csv", &stability_csv(&data, &features, n))?;
        }
        let provenance = ctx.provenance(args, &summary)?;
        for (name, text) in
            html_report(ctx, &data, &summary, &provenance, &features, &cfg, &rep).files()
        {
            out.write(&name, &text)?;
        }
        out.write("timings.json", &ctx.timings("assess"))?;
        out.finish()?;
    }
    stdout_text(&text)
}

/// The HTML report of an assessment: the honest number first, the optimistic one beside it and
/// labelled, then how stable the selection was and (with `--keep auto`) how K was chosen.
fn html_report(
    ctx: &Context,
    data: &Dataset,
    summary: &LoadSummary,
    provenance: &Value,
    features: &[usize],
    cfg: &AssessConfig,
    rep: &AssessReport,
) -> Report {
    let mut r = Report::new(&format!("Assessment on {}", super::select::table_name(ctx)));
    r.subtitle(&format!(
        "glrfe {} assess: {}-fold stratified cross-validation x {} repeat(s) of the whole \
         method (scaling, balancing, GL-RFE, final network), {} rows, seed {}.",
        env!("CARGO_PKG_VERSION"),
        cfg.outer,
        cfg.repeats,
        data.n(),
        ctx.seed
    ));
    let auc = |p: &ProtocolReport| {
        let i = &p.bootstrap[8].1;
        format!("{:.3} (95% bootstrap interval {:.3} to {:.3})", i.estimate, i.lower, i.upper)
    };
    match (&rep.nested, &rep.published) {
        (Some(n), Some(p)) => r.summary(&format!(
            "Honest (nested) ROC AUC {}. The published protocol scores {} on the same folds, \
             {:+.3} higher, because it is optimistic.",
            auc(n),
            auc(p),
            p.bootstrap[8].1.estimate - n.bootstrap[8].1.estimate
        )),
        (Some(n), None) => r.summary(&format!("Honest (nested) ROC AUC {}.", auc(n))),
        (None, Some(p)) => {
            r.summary(&format!("Published-protocol ROC AUC {} (optimistic).", auc(p)))
        }
        (None, None) => &mut r,
    };
    if rep.published.is_some() {
        r.note(&format!(
            "OPTIMISTIC: the published protocol's numbers are not a performance estimate: \
             {OPTIMISTIC_REASON}. Quote the nested numbers."
        ));
    }
    r.data(summary, provenance);

    r.section("Metrics");
    r.paragraph(
        "Nested: inside every outer training part the scaler, SMOTE, GL-RFE and the final \
         network are fitted, and the untouched outer test fold is scored once. Published: \
         SMOTE and GL-RFE on the whole table, then cross-validation of the final network on \
         the balanced table.",
    );
    let reports: Vec<&ProtocolReport> =
        [&rep.nested, &rep.published].into_iter().flatten().collect();
    let name = |p: &ProtocolReport| {
        if p.optimistic { "published (OPTIMISTIC)" } else { "nested (honest)" }
    };
    let metrics: Vec<ProtocolMetrics> = reports
        .iter()
        .map(|p| ProtocolMetrics::from_cv(name(p), p.optimistic, &p.cv, cfg.outer))
        .collect();
    r.metrics("Metrics over the outer test folds", &metrics);
    let mut header = vec!["metric"];
    header.extend(reports.iter().map(|p| name(p)));
    if reports.len() == 2 {
        header.push("published - nested");
    }
    let mut t =
        Table::new("Pooled out-of-fold metrics with 95% stratified bootstrap intervals", &header);
    for m in 0..glrfe::eval::Metrics::NAMES.len() {
        let mut row = vec![metric_label(reports[0].bootstrap[m].0).to_string()];
        row.extend(reports.iter().map(|p| fmt_interval(&p.bootstrap[m].1)));
        if let [a, b] = reports.as_slice() {
            row.push(format!("{:+.4}", b.bootstrap[m].1.estimate - a.bootstrap[m].1.estimate));
        }
        t.row(&row);
    }
    r.table(t);
    if let Some(n) = &rep.nested {
        super::evaluate::roc_and_confusion(&mut r, data, &n.cv, cfg.repeats);
    }

    if let Some(n) = &rep.nested {
        if let Some(st) = &n.stability {
            r.section("Stability of the selection");
            let nog = st.nogueira.map_or("undefined".to_string(), |s| {
                format!("{:.3} (95% interval {:.3} to {:.3})", s.estimate, s.lower, s.upper)
            });
            let kun = st
                .kuncheva
                .map_or(String::new(), |k| format!(", mean pairwise Kuncheva index {k:.3}"));
            r.paragraph(&format!(
                "Over the {} outer training parts: Nogueira et al.'s stability {nog}{kun}. \
                 1 means every fold kept the same features, 0 what random subsets of the same \
                 sizes would give.",
                st.subsets
            ));
            let names: Vec<String> = features.iter().map(|&j| data.names[j].clone()).collect();
            r.figure(Figure::new(
                "selection-frequency",
                "How often each feature was kept across the outer training parts (the most \
                 frequent first).",
                plots::selection_frequency(
                    "Features kept across outer folds",
                    &names,
                    &n.selections,
                ),
            ));
            let mut order: Vec<usize> = (0..features.len()).collect();
            order.sort_by(|&a, &b| st.times_kept[b].cmp(&st.times_kept[a]).then(a.cmp(&b)));
            let k = n.selections.iter().map(Vec::len).max().unwrap_or(0);
            let top: Vec<usize> = order
                .iter()
                .take(k)
                .filter(|&&p| st.times_kept[p] > 0)
                .map(|&p| features[p])
                .collect();
            super::select::feature_sections(&mut r, data, &top, "most often kept");
        }
        if !n.paths.is_empty() {
            r.section("Choosing K");
            let panels: Vec<plots::CurvePanel> = n
                .paths
                .iter()
                .take(1)
                .map(|p| plots::CurvePanel {
                    y_label: "inner ROC AUC".into(),
                    spread_label: "± 1 sd over inner folds".into(),
                    points: p
                        .points
                        .iter()
                        .map(|q| plots::CurvePoint {
                            x: q.count as f64,
                            mean: q.score.mean,
                            spread: Some((q.score.mean - q.score.sd, q.score.mean + q.score.sd)),
                        })
                        .collect(),
                })
                .collect();
            let chosen: Vec<String> = n.paths.iter().map(|p| p.chosen.to_string()).collect();
            r.paragraph(&format!(
                "K chosen inside each outer training part from inner folds: {}.",
                chosen.join(", ")
            ));
            r.figure(Figure::new(
                "keep-path",
                "Inner-fold ROC AUC against the number of features along the elimination path, \
                 for the first outer training part; the dashed line marks the K chosen there.",
                plots::elimination_curve(
                    "Choosing K: inner ROC AUC along the path (outer fold 1)",
                    &panels,
                    n.paths[0].chosen,
                    "number of features",
                ),
            ));
        }
    }
    r.provenance(provenance);
    r
}
