//! Honest evaluation of the whole method, with the optimistic protocol beside it.
//!
//! This module owns the two protocols that `glrfe assess` compares, how the number of kept
//! features is chosen on inner folds, the confidence intervals of the resulting metrics and the
//! stability of the selections. Fitting is `pipeline`'s and `select`'s, splitting and scoring
//! `eval`'s, the stability measures `stability`'s; this module decides which rows each of them
//! may see.
//!
//! - **Nested** ([`Protocol::Nested`]): repeated stratified k-fold on the real rows; inside every
//!   outer training part the scaler, the balancing, GL-RFE (and, with [`Keep::Auto`], the choice
//!   of how many features to keep, on inner folds of that part) and the final network are fitted,
//!   and the untouched outer test fold is scored. This is the number to quote.
//! - **Published** ([`Protocol::Published`]): the whole table is balanced first (SMOTE adds
//!   synthetic rows), GL-RFE runs once on the whole balanced table, and only the final network
//!   is cross-validated, on the balanced table with the selected features. Test rows helped
//!   choose the features, and synthetic test rows are interpolations of training rows, so its
//!   numbers are optimistic ([`OPTIMISTIC_REASON`]). Its folds extend the nested ones: every
//!   real row sits in the same test fold in both, and synthetic rows are dealt to folds per
//!   repeat.
//!
//! Outer folds run in parallel, and inside them inner folds and ensemble members; every random
//! stream is derived from the master seed and the task's identity, and results are collected in
//! task order, so the report does not depend on the number of threads.
//!
//! # Limitations
//! - The interval over repeats reflects how much the estimate moves with the split only; repeats
//!   reuse the same patients, so it is narrower than the sampling uncertainty. The bootstrap
//!   interval resamples patients (stratified by class) but keeps the fitted models fixed, so it
//!   omits the variance of refitting; neither is an exact confidence interval for the
//!   performance of a model trained on all rows.
//! - Choosing the count by the best inner AUC is itself noisy on small inner folds; `one_se`
//!   prefers fewer features when the difference is within noise.

use std::sync::Arc;

use rayon::prelude::*;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::{self, Fold, Metrics, Summary};
use crate::matrix::Matrix;
use crate::pipeline::{self, CvReport, Fitted, PipelineConfig};
use crate::preprocess::{Scaler, SmoteConfig, smote};
use crate::rng::Stream;
use crate::select::{self, Balance, GlrfeConfig};
use crate::stability::{self, Stability};

/// Why the published protocol's numbers are optimistic, in one sentence, for every place they
/// are shown.
pub const OPTIMISTIC_REASON: &str = "balancing and feature selection saw every row, \
    test rows included, before the folds were split, so the test rows (and SMOTE's synthetic \
    neighbours of training rows among them) helped build the model that scores them";

/// Which protocols to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Nested,
    Published,
    /// Both, on the same folds.
    Both,
}

/// How many features GL-RFE keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    Fixed(usize),
    /// Choose the count on `inner` stratified folds of the training rows: GL-RFE runs on each
    /// inner training part down to `min` features, every count along the path is scored by the
    /// ROC AUC of that round's networks on the inner test part, and the count with the best mean
    /// wins, or with `one_se` the smallest count whose mean is within one standard error
    /// (sd / sqrt(inner)) of the best.
    Auto {
        inner: usize,
        one_se: bool,
        min: usize,
    },
}

/// Settings of an assessment.
#[derive(Clone, Debug)]
pub struct AssessConfig {
    /// GL-RFE settings; its `balance` and `train` also govern the final network, and its `keep`
    /// is replaced by [`AssessConfig::keep`].
    pub glrfe: GlrfeConfig,
    pub keep: Keep,
    /// Outer folds and repeats.
    pub outer: usize,
    pub repeats: usize,
    /// Bootstrap replicates of the pooled out-of-fold predictions (0 = no bootstrap).
    pub bootstrap: usize,
    pub protocol: Protocol,
}

/// One feature count along the elimination path, with its inner-fold scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathPoint {
    pub count: usize,
    /// Mean, sd and number of the inner folds' ROC AUCs at this count.
    pub score: Summary,
}

/// The path scored on inner folds and the count chosen from it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeepPath {
    /// From the most features to the fewest.
    pub points: Vec<PathPoint>,
    pub chosen: usize,
}

/// A point estimate with a 95% interval; NaN bounds where the interval is undefined.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// How stable the selections of the outer folds were.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectionStability {
    /// Number of selections compared (outer folds x repeats).
    pub subsets: usize,
    /// Per considered feature (in the order of the `features` given to [`assess`]), how many
    /// selections kept it.
    pub times_kept: Vec<usize>,
    /// Nogueira et al.'s estimate; `None` when undefined (fewer than 2 selections, or all
    /// empty or full).
    pub nogueira: Option<Stability>,
    /// Mean pairwise Kuncheva index; `None` unless all selections have one size.
    pub kuncheva: Option<f64>,
}

/// The results of one protocol.
#[derive(Clone, Debug)]
pub struct ProtocolReport {
    /// `"nested"` or `"published"`.
    pub name: &'static str,
    /// True for the published protocol; show [`OPTIMISTIC_REASON`] with its numbers.
    pub optimistic: bool,
    /// Ids of the rows the folds' `test` indices point at: the table's ids, followed for the
    /// published protocol with SMOTE by `synthetic-1`, `synthetic-2`, ...
    pub ids: Vec<String>,
    /// Number of real rows; indices `>= real_rows` are synthetic.
    pub real_rows: usize,
    /// Per fold, summary over folds and pooled metrics; fold order is repeat by repeat.
    pub cv: CvReport,
    /// Pooled metrics of each repeat's out-of-fold predictions.
    pub by_repeat: Vec<Metrics>,
    /// Per metric ([`Metrics::NAMES`] order): mean over repeats of `by_repeat` with a Student-t
    /// 95% interval (NaN bounds with one repeat).
    pub over_repeats: Vec<(&'static str, Interval)>,
    /// Per metric: the pooled metric with the 2.5% and 97.5% percentiles of its stratified
    /// bootstrap over rows (NaN bounds without bootstrap).
    pub bootstrap: Vec<(&'static str, Interval)>,
    /// Kept features (columns of the table), per outer fold for the nested protocol, the single
    /// selection for the published one.
    pub selections: Vec<Vec<usize>>,
    /// With [`Keep::Auto`]: the scored path per outer fold (nested) or the one path (published).
    pub paths: Vec<KeepPath>,
    /// Only for the nested protocol.
    pub stability: Option<SelectionStability>,
}

/// The results of [`assess`].
#[derive(Clone, Debug)]
pub struct AssessReport {
    pub nested: Option<ProtocolReport>,
    pub published: Option<ProtocolReport>,
}

/// Called with (stage, done, total) as folds finish; must be cheap.
pub type OnProgress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Assess GL-RFE with the final network on `data`, considering the columns `features`.
///
/// # Errors
/// `Error::usage` for invalid settings, `Error::data` when the table cannot support the folds,
/// `Error::run` when training fails; messages name the protocol, repeat and fold.
pub fn assess(
    data: &Dataset,
    features: &[usize],
    cfg: &AssessConfig,
    seed: u64,
    on_progress: Option<OnProgress<'_>>,
) -> Result<AssessReport> {
    validate(data, features, cfg)?;
    let folds = eval::stratified_folds(&data.y, cfg.outer, cfg.repeats, seed)?;
    let run_nested = cfg.protocol != Protocol::Published;
    let run_published = cfg.protocol != Protocol::Nested;
    let (nested, published) = rayon::join(
        || run_nested.then(|| nested(data, features, cfg, &folds, seed, on_progress)).transpose(),
        || {
            run_published
                .then(|| published(data, features, cfg, &folds, seed, on_progress))
                .transpose()
        },
    );
    Ok(AssessReport { nested: nested?, published: published? })
}

fn validate(data: &Dataset, features: &[usize], cfg: &AssessConfig) -> Result<()> {
    if features.is_empty() {
        return Err(Error::usage("no features to assess"));
    }
    match cfg.keep {
        Keep::Fixed(k) if k == 0 || k > features.len() => Err(Error::usage(format!(
            "--keep {k} must lie between 1 and the number of features ({})",
            features.len()
        ))),
        Keep::Auto { inner, .. } if inner < 2 => {
            Err(Error::usage(format!("--inner {inner}: choosing K needs at least 2 inner folds")))
        }
        Keep::Auto { min, .. } if min == 0 || min > features.len() => Err(Error::usage(format!(
            "--keep-min {min} must lie between 1 and the number of features ({})",
            features.len()
        ))),
        _ if data.n() == 0 => Err(Error::data("the table has no rows")),
        _ => Ok(()),
    }
}

/// The pipeline that keeps `keep` features by GL-RFE under `cfg`.
fn pipeline_config(cfg: &GlrfeConfig, balance: Balance, keep: Option<usize>) -> PipelineConfig {
    let selection = keep.map(|k| {
        let sel: Arc<dyn select::Selector> =
            Arc::new(GlrfeConfig { keep: k, balance, ..cfg.clone() });
        sel
    });
    PipelineConfig::new(balance, selection, cfg.train.clone())
}

fn nested(
    data: &Dataset,
    features: &[usize],
    cfg: &AssessConfig,
    folds: &[Fold],
    seed: u64,
    on_progress: Option<OnProgress<'_>>,
) -> Result<ProtocolReport> {
    let fit_fold = |f: &Fold, x: &Matrix, y: &[usize]| -> Result<(Fitted, Option<KeepPath>)> {
        let task = [f.repeat as u64, f.fold as u64];
        let (keep, path) = match cfg.keep {
            Keep::Fixed(k) => (k, None),
            Keep::Auto { inner, one_se, min } => {
                let xf = x.select_cols(features);
                let path = choose_keep(&xf, y, &cfg.glrfe, inner, one_se, min, seed, &task)?;
                (path.chosen, Some(path))
            }
        };
        let pcfg = pipeline_config(&cfg.glrfe, cfg.glrfe.balance, Some(keep));
        let fitted = pipeline::fit(x, y, features, &pcfg, seed, &task, None)?;
        Ok((fitted, path))
    };
    let progress = |done: usize, total: usize| {
        if let Some(p) = on_progress {
            p("nested folds", done, total);
        }
    };
    let (cv, paths) = pipeline::cross_validate_with(data, folds, Some(&progress), &fit_fold)
        .map_err(|e| in_protocol(e, "nested"))?;
    let selections: Vec<Vec<usize>> = cv.folds.iter().map(|f| f.features.clone()).collect();
    let stability = Some(selection_stability(&selections, features));
    let paths = paths.into_iter().flatten().collect();
    Ok(finish(
        "nested",
        data.ids.clone(),
        data.n(),
        &data.y,
        cv,
        selections,
        paths,
        stability,
        cfg,
        seed,
    ))
}

fn published(
    data: &Dataset,
    features: &[usize],
    cfg: &AssessConfig,
    folds: &[Fold],
    seed: u64,
    on_progress: Option<OnProgress<'_>>,
) -> Result<ProtocolReport> {
    let run = || -> Result<ProtocolReport> {
        // Step 1: balance the whole table. SMOTE works on standardised features (distances),
        // so the balanced table is in standardised units; the later fits rescale harmlessly.
        let (table, balance) = match cfg.glrfe.balance {
            Balance::Smote { k } => {
                let xf = data.x.select_cols(features);
                let xs = Scaler::fit(&xf).transform(&xf);
                let mut rng = Stream::derive(seed, "published-smote", &[]);
                let (xb, yb) = smote(&xs, &data.y, &SmoteConfig { k }, &mut rng)?;
                let mut ids = data.ids.clone();
                ids.extend((1..=xb.rows() - data.n()).map(|i| format!("synthetic-{i}")));
                let names = features.iter().map(|&j| data.names[j].clone()).collect();
                let table = Dataset { ids, names, x: xb, y: yb, classes: data.classes.clone() };
                (table, Balance::None)
            }
            other => (data.select_features(features), other),
        };

        // Step 2: choose K (with auto) and select on the whole balanced table.
        let (keep, paths) = match cfg.keep {
            Keep::Fixed(k) => (k, Vec::new()),
            Keep::Auto { inner, one_se, min } => {
                let gcfg = GlrfeConfig { balance, ..cfg.glrfe.clone() };
                let path = choose_keep(&table.x, &table.y, &gcfg, inner, one_se, min, seed, &[])?;
                (path.chosen, vec![path])
            }
        };
        let gcfg = GlrfeConfig { keep, balance, ..cfg.glrfe.clone() };
        let selection = select::glrfe(&table.x, &table.y, &gcfg, seed, &[], None)?;

        // Step 3: cross-validate the final network alone, on folds extending the nested ones.
        let folds = extend_folds(folds, data.n(), table.n(), cfg.outer, seed);
        let pcfg = pipeline_config(&cfg.glrfe, balance, None);
        let fit_fold = |f: &Fold, x: &Matrix, y: &[usize]| -> Result<(Fitted, ())> {
            let task = [f.repeat as u64, f.fold as u64];
            Ok((pipeline::fit(x, y, &selection.kept, &pcfg, seed, &task, None)?, ()))
        };
        let progress = |done: usize, total: usize| {
            if let Some(p) = on_progress {
                p("published folds", done, total);
            }
        };
        let (cv, _) = pipeline::cross_validate_with(&table, &folds, Some(&progress), &fit_fold)?;
        // The table holds the considered columns only; name them as columns of `data`.
        let kept: Vec<usize> = selection.kept.iter().map(|&j| features[j]).collect();
        Ok(finish(
            "published",
            table.ids.clone(),
            data.n(),
            &table.y,
            cv,
            vec![kept],
            paths,
            None,
            cfg,
            seed,
        ))
    };
    run().map_err(|e| in_protocol(e, "published"))
}

/// The nested folds extended to a table whose rows `real..total` are synthetic: every real row
/// keeps its test fold, and in each repeat the synthetic rows, shuffled by
/// `Stream::derive(seed, "published-folds", &[repeat])`, are dealt to the `k` folds round-robin.
fn extend_folds(folds: &[Fold], real: usize, total: usize, k: usize, seed: u64) -> Vec<Fold> {
    if total == real {
        return folds.to_vec();
    }
    let mut out = Vec::with_capacity(folds.len());
    for repeat_folds in folds.chunks(k) {
        let repeat = repeat_folds[0].repeat;
        let mut fold_of = vec![0usize; total];
        for f in repeat_folds {
            for &i in &f.test {
                fold_of[i] = f.fold;
            }
        }
        let mut synthetic: Vec<usize> = (real..total).collect();
        Stream::derive(seed, "published-folds", &[repeat as u64]).shuffle(&mut synthetic);
        for (c, &i) in synthetic.iter().enumerate() {
            fold_of[i] = c % k;
        }
        for f in 0..k {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..total).partition(|&i| fold_of[i] == f);
            out.push(Fold { repeat, fold: f, train, test });
        }
    }
    out
}

fn in_protocol(e: Error, name: &str) -> Error {
    Error::new(e.kind(), format!("{name} protocol: {}", e.message()))
}

/// Everything computed from a cross-validation's predictions: per-repeat metrics and their
/// interval, and the bootstrap.
#[allow(clippy::too_many_arguments)]
fn finish(
    name: &'static str,
    ids: Vec<String>,
    real_rows: usize,
    y: &[usize],
    cv: CvReport,
    selections: Vec<Vec<usize>>,
    paths: Vec<KeepPath>,
    stability: Option<SelectionStability>,
    cfg: &AssessConfig,
    seed: u64,
) -> ProtocolReport {
    let by_repeat: Vec<Metrics> = cv
        .folds
        .chunks(cfg.outer)
        .map(|r| eval::pooled(&r.iter().map(|f| (f.y.clone(), f.p.clone())).collect::<Vec<_>>()))
        .collect();
    let over_repeats = Metrics::NAMES
        .iter()
        .enumerate()
        .map(|(m, &metric)| {
            let values: Vec<f64> = by_repeat.iter().map(|r| r.values()[m]).collect();
            (metric, mean_interval(&values))
        })
        .collect();

    // Every row's predictions, one per repeat, for resampling rows rather than predictions.
    let mut per_row: Vec<Vec<f64>> = vec![Vec::new(); y.len()];
    for f in &cv.folds {
        for (&i, &p) in f.test.iter().zip(&f.p) {
            per_row[i].push(p);
        }
    }
    let protocol_id = if name == "nested" { 0 } else { 1 };
    let bootstrap = stratified_bootstrap(y, &per_row, cfg.bootstrap, seed, protocol_id);
    let bootstrap = Metrics::NAMES
        .iter()
        .enumerate()
        .map(|(m, &metric)| {
            let estimate = cv.pooled.values()[m];
            let (lower, upper) = match &bootstrap {
                Some(reps) => {
                    let column: Vec<f64> = reps.iter().map(|r| r[m]).collect();
                    (percentile(&column, 0.025), percentile(&column, 0.975))
                }
                None => (f64::NAN, f64::NAN),
            };
            (metric, Interval { estimate, lower, upper })
        })
        .collect();

    ProtocolReport {
        name,
        optimistic: name == "published",
        ids,
        real_rows,
        cv,
        by_repeat,
        over_repeats,
        bootstrap,
        selections,
        paths,
        stability,
    }
}

/// Metric values ([`Metrics::values`]) of `replicates` stratified bootstrap resamples of the
/// rows: each replicate draws n_0 rows of class 0 and n_1 rows of class 1 with replacement
/// (from `Stream::derive(seed, "bootstrap", &[protocol, b])`) and scores all predictions of
/// the drawn rows (one per repeat). `None` when `replicates` is 0.
fn stratified_bootstrap(
    y: &[usize],
    per_row: &[Vec<f64>],
    replicates: usize,
    seed: u64,
    protocol: u64,
) -> Option<Vec<[f64; 9]>> {
    if replicates == 0 {
        return None;
    }
    let class_rows: [Vec<usize>; 2] = [0, 1]
        .map(|c| (0..y.len()).filter(|&i| y[i] == c && !per_row[i].is_empty()).collect::<Vec<_>>());
    let reps = (0..replicates)
        .into_par_iter()
        .map(|b| {
            let mut rng = Stream::derive(seed, "bootstrap", &[protocol, b as u64]);
            let mut ys = Vec::new();
            let mut ps = Vec::new();
            for rows in &class_rows {
                for _ in 0..rows.len() {
                    let i = rows[rng.below(rows.len())];
                    for &p in &per_row[i] {
                        ys.push(y[i]);
                        ps.push(p);
                    }
                }
            }
            Metrics::compute(&ys, &ps).values()
        })
        .collect();
    Some(reps)
}

/// The `q` quantile of the finite `values`, interpolating linearly between order statistics
/// (position (n - 1) q, R's and NumPy's default); NaN when none are finite.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Mean of the finite `values` with the Student-t 95% interval mean +- t(0.975, n-1) sd /
/// sqrt(n); NaN bounds for fewer than 2 values.
pub fn mean_interval(values: &[f64]) -> Interval {
    let s = eval::summarize(values);
    if s.n < 2 {
        return Interval { estimate: s.mean, lower: f64::NAN, upper: f64::NAN };
    }
    let half = crate::special::t_quantile(0.975, (s.n - 1) as f64) * s.sd / (s.n as f64).sqrt();
    Interval { estimate: s.mean, lower: s.mean - half, upper: s.mean + half }
}

/// Frequencies and stability of `selections` (columns of the table) over the considered
/// `features`.
fn selection_stability(selections: &[Vec<usize>], features: &[usize]) -> SelectionStability {
    let position = |j: usize| features.iter().position(|&f| f == j).expect("a considered column");
    let subsets: Vec<Vec<usize>> =
        selections.iter().map(|s| s.iter().map(|&j| position(j)).collect()).collect();
    let d = features.len();
    let mut times_kept = vec![0usize; d];
    for s in &subsets {
        for &p in s {
            times_kept[p] += 1;
        }
    }
    SelectionStability {
        subsets: subsets.len(),
        times_kept,
        nogueira: stability::nogueira(&subsets, d),
        kuncheva: stability::kuncheva(&subsets, d),
    }
}

/// Choose the number of features to keep on inner folds of the training rows `x` (raw, the
/// considered columns only) with labels `y`; see [`Keep::Auto`]. `task` identifies the call
/// among others under `seed`; inner fold i runs GL-RFE as task `task ++ [i]`.
///
/// # Errors
/// As [`select::glrfe`], and `Error::data` when a class has fewer rows than `inner`.
#[allow(clippy::too_many_arguments)]
pub fn choose_keep(
    x: &Matrix,
    y: &[usize],
    cfg: &GlrfeConfig,
    inner: usize,
    one_se: bool,
    min: usize,
    seed: u64,
    task: &[u64],
) -> Result<KeepPath> {
    let fold_seed = Stream::derive(seed, "inner-folds", task).bits();
    let folds = eval::stratified_folds(y, inner, 1, fold_seed)
        .map_err(|e| Error::new(e.kind(), format!("inner folds: {}", e.message())))?;
    let path_cfg = GlrfeConfig { keep: min.clamp(1, x.cols()), ..cfg.clone() };

    // Per inner fold: (count, AUC on the inner test rows) of every round, most features first.
    let scored: Vec<Vec<(usize, f64)>> = folds
        .par_iter()
        .map(|f| {
            let y_train: Vec<usize> = f.train.iter().map(|&i| y[i]).collect();
            let y_test: Vec<usize> = f.test.iter().map(|&i| y[i]).collect();
            let ids: Vec<u64> = task.iter().copied().chain([f.fold as u64]).collect();
            let sel = select::glrfe_scored(
                &x.select_rows(&f.train),
                &y_train,
                &path_cfg,
                seed,
                &ids,
                None,
                Some(&x.select_rows(&f.test)),
            )
            .map_err(|e| {
                Error::new(e.kind(), format!("inner fold {}: {}", f.fold + 1, e.message()))
            })?;
            Ok(sel
                .rounds
                .iter()
                .map(|r| (r.features.len(), eval::roc_auc(&y_test, &r.holdout_p)))
                .collect())
        })
        .collect::<Result<_>>()?;

    // The counts along the path depend only on the number of features and the step, so every
    // inner fold visits the same ones.
    let counts: Vec<usize> = scored[0].iter().map(|&(c, _)| c).collect();
    let points: Vec<PathPoint> = counts
        .iter()
        .enumerate()
        .map(|(r, &count)| {
            let aucs: Vec<f64> = scored.iter().map(|s| s[r].1).collect();
            PathPoint { count, score: eval::summarize(&aucs) }
        })
        .collect();
    let chosen = choose_count(&points, one_se);
    Ok(KeepPath { points, chosen })
}

/// The count with the best mean score (ties to the smaller count), or with `one_se` the smallest
/// count whose mean is at least best - sd_best / sqrt(n_best). Points with a NaN mean are never
/// chosen; if all are NaN, the largest count is.
pub fn choose_count(points: &[PathPoint], one_se: bool) -> usize {
    let valid = || points.iter().filter(|p| p.score.mean.is_finite());
    let Some(best) =
        valid().max_by(|a, b| a.score.mean.total_cmp(&b.score.mean).then(b.count.cmp(&a.count)))
    else {
        return points.iter().map(|p| p.count).max().unwrap_or(1);
    };
    if !one_se {
        return best.count;
    }
    let se = if best.score.n > 0 { best.score.sd / (best.score.n as f64).sqrt() } else { 0.0 };
    let threshold = best.score.mean - se;
    valid().filter(|p| p.score.mean >= threshold).map(|p| p.count).min().unwrap_or(best.count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(count: usize, mean: f64, sd: f64, n: usize) -> PathPoint {
        PathPoint { count, score: Summary { mean, sd, n } }
    }

    #[test]
    fn choose_count_takes_the_best_or_the_smallest_within_one_se() {
        let path = [
            point(20, 0.70, 0.04, 4),
            point(10, 0.74, 0.04, 4),
            point(5, 0.725, 0.02, 4),
            point(2, 0.60, 0.10, 4),
            point(1, f64::NAN, f64::NAN, 0),
        ];
        assert_eq!(choose_count(&path, false), 10);
        // se of the best = 0.04 / 2 = 0.02: 5 (0.725 >= 0.72) qualifies, 2 (0.60) does not.
        assert_eq!(choose_count(&path, true), 5);
        // A tie of means goes to the smaller count.
        let tie = [point(8, 0.7, 0.0, 3), point(4, 0.7, 0.0, 3)];
        assert_eq!(choose_count(&tie, false), 4);
        assert_eq!(
            choose_count(&[point(3, f64::NAN, 0.0, 0), point(2, f64::NAN, 0.0, 0)], true),
            3
        );
    }

    #[test]
    fn percentile_interpolates_between_order_statistics() {
        let v = [4.0, 1.0, f64::NAN, 3.0, 2.0];
        // Finite sorted 1,2,3,4: position 3 q.
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 1.0), 4.0);
        assert_eq!(percentile(&v, 0.5), 2.5);
        assert!((percentile(&v, 0.025) - 1.075).abs() < 1e-15);
        assert!(percentile(&[f64::NAN], 0.5).is_nan());
    }

    #[test]
    fn extended_folds_keep_real_rows_in_place_and_deal_synthetic_ones() {
        let y = [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0];
        let folds = eval::stratified_folds(&y, 3, 2, 9).unwrap();
        let ext = extend_folds(&folds, 12, 18, 3, 9);
        assert_eq!(ext.len(), folds.len());
        for (a, b) in folds.iter().zip(&ext) {
            let real: Vec<usize> = b.test.iter().copied().filter(|&i| i < 12).collect();
            assert_eq!(real, a.test);
            // 6 synthetic rows over 3 folds: 2 each.
            assert_eq!(b.test.len() - real.len(), 2);
            assert_eq!(b.train.len() + b.test.len(), 18);
        }
    }
}
