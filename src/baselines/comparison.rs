//! Selectors compared under identical conditions: the same outer folds and repeats, the same K,
//! the same final classifier fitted on each method's kept features, and the same random streams
//! for that classifier, so that the methods differ only in which features they keep.
//!
//! Every (method, repeat, fold) task selects on the fold's training rows alone, fits the final
//! pipeline (scaler, balancing, classifier) on the same rows, and scores the untouched test
//! fold. Tasks run in parallel with rayon and are collected in task order; every stream is
//! derived from the seed and the task's (repeat, fold), so results do not depend on the
//! thread count. Selection time is wall time of the selection call alone, measured while other
//! tasks run beside it, so it compares methods only roughly.
//!
//! The 95% interval of a metric's mean over the J = folds x repeats test folds is the corrected
//! resampled t interval of Nadeau and Bengio (2003): mean +- t_{0.975, J-1} sqrt((1/J +
//! n_test/n_train) s^2), s^2 the sample variance over folds. The n_test/n_train term (1/(k-1)
//! for k folds) widens the naive interval because the training sets of different folds overlap,
//! which makes fold scores positively correlated; the naive sd/sqrt(J) would be too narrow.

use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::Summary;
use crate::eval::{self, Fold, Metrics};
use crate::pipeline::{self, PipelineConfig};
use crate::select::{OnRound, Selector};
use crate::stability::{self, Stability};

/// One (method, repeat, fold) task's outcome.
#[derive(Clone, Debug)]
pub struct FoldOutcome {
    /// Index into the compared methods.
    pub method: usize,
    pub repeat: usize,
    pub fold: usize,
    /// Columns the method kept on this fold's training rows, most important first.
    pub kept: Vec<usize>,
    pub metrics: Metrics,
    /// Test rows, their labels and predicted P(class 1).
    pub test: Vec<usize>,
    pub y: Vec<usize>,
    pub p: Vec<f64>,
    /// Wall time of the selection, seconds.
    pub seconds: f64,
}

/// A mean with its corrected resampled t interval (see the module).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
    /// Number of finite fold values used.
    pub n: usize,
}

/// The corrected resampled t interval of the finite `values`, with `test_over_train` the ratio
/// of test to training rows of one fold (1/(k-1) for k-fold). With fewer than two values the
/// bounds are NaN.
pub fn corrected_interval(values: &[f64], test_over_train: f64) -> Interval {
    let s: Summary = eval::summarize(values);
    let (lower, upper) =
        eval::corrected_interval(&s, test_over_train).unwrap_or((f64::NAN, f64::NAN));
    Interval { mean: s.mean, lower, upper, n: s.n }
}

/// One method's row of the comparison table.
#[derive(Clone, Debug)]
pub struct MethodSummary {
    pub name: String,
    pub keep: usize,
    pub accuracy: Interval,
    pub precision: Interval,
    pub recall: Interval,
    pub f1: Interval,
    pub roc_auc: Interval,
    /// Nogueira et al.'s stability of the kept subsets over all test folds (`None` with one
    /// fold).
    pub stability: Option<Stability>,
    /// Mean selection wall time per fold, seconds.
    pub seconds: f64,
}

/// The outcome of [`compare`].
#[derive(Clone, Debug)]
pub struct Comparison {
    pub methods: Vec<MethodSummary>,
    /// Every task, method by method, then repeat by repeat, fold by fold.
    pub folds: Vec<FoldOutcome>,
}

/// Compare `selectors` on `data` (all its columns) on the outer `folds` (e.g. from
/// [`eval::stratified_folds`]), with `keep` features each (reported) and the final model of
/// `final_model` (whose `selection` must be `None`). `on_task` is told (tasks done, total).
pub fn compare(
    data: &Dataset,
    selectors: &[Arc<dyn Selector>],
    keep: usize,
    final_model: &PipelineConfig,
    folds: &[Fold],
    seed: u64,
    on_task: Option<OnRound<'_>>,
) -> Result<Comparison> {
    if final_model.selection.is_some() {
        return Err(Error::usage("compare fits the final model on each method's features itself"));
    }
    if selectors.is_empty() {
        return Err(Error::usage("no selection method to compare"));
    }
    if folds.is_empty() {
        return Err(Error::usage("no folds to compare on"));
    }
    let tasks: Vec<(usize, usize)> =
        (0..selectors.len()).flat_map(|m| (0..folds.len()).map(move |f| (m, f))).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<FoldOutcome> = tasks
        .par_iter()
        .map(|&(m, f)| {
            let fold = &folds[f];
            let task = [fold.repeat as u64, fold.fold as u64];
            let context = |e: Error| {
                let msg = format!(
                    "{}, repeat {}, fold {}: {}",
                    selectors[m].name(),
                    fold.repeat + 1,
                    fold.fold + 1,
                    e.message()
                );
                Error::new(e.kind(), msg)
            };
            let x_train = data.x.select_rows(&fold.train);
            let y_train: Vec<usize> = fold.train.iter().map(|&i| data.y[i]).collect();
            let started = Instant::now();
            let selection =
                selectors[m].select(&x_train, &y_train, seed, &task, None).map_err(context)?;
            let seconds = started.elapsed().as_secs_f64();
            let kept = selection.kept;
            let fitted = pipeline::fit(&x_train, &y_train, &kept, final_model, seed, &task, None)
                .map_err(context)?;
            let p = fitted.predict_proba(&data.x.select_rows(&fold.test));
            let y: Vec<usize> = fold.test.iter().map(|&i| data.y[i]).collect();
            if let Some(cb) = on_task {
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                cb(n, tasks.len());
            }
            Ok(FoldOutcome {
                method: m,
                repeat: fold.repeat,
                fold: fold.fold,
                kept,
                metrics: Metrics::compute(&y, &p),
                test: fold.test.clone(),
                y,
                p,
                seconds,
            })
        })
        .collect::<Result<_>>()?;

    // n_test / n_train of one fold, averaged over folds (1/(k-1) for k-fold).
    let test_over_train =
        folds.iter().map(|f| f.test.len() as f64 / f.train.len().max(1) as f64).sum::<f64>()
            / folds.len() as f64;
    let methods = selectors
        .iter()
        .enumerate()
        .map(|(m, sel)| {
            let mine: Vec<&FoldOutcome> = outcomes.iter().filter(|o| o.method == m).collect();
            let interval = |get: fn(&Metrics) -> f64| {
                let v: Vec<f64> = mine.iter().map(|o| get(&o.metrics)).collect();
                corrected_interval(&v, test_over_train)
            };
            let subsets: Vec<Vec<usize>> = mine.iter().map(|o| o.kept.clone()).collect();
            MethodSummary {
                name: sel.name().to_string(),
                keep,
                accuracy: interval(|m| m.accuracy),
                precision: interval(|m| m.precision),
                recall: interval(|m| m.recall),
                f1: interval(|m| m.f1),
                roc_auc: interval(|m| m.roc_auc),
                stability: stability::nogueira(&subsets, data.d()),
                seconds: mine.iter().map(|o| o.seconds).sum::<f64>() / mine.len() as f64,
            }
        })
        .collect();
    Ok(Comparison { methods, folds: outcomes })
}
