//! The fitted pipeline and its cross-validation.
//!
//! A pipeline is everything fitted to training rows: the z-score scaler, the balancing, the
//! feature selection (optional) and the final network. [`fit`] fits all of it on the rows it is
//! given and nothing else, so [`cross_validate`] can fit it inside each training fold and test
//! on the untouched fold: no statistic of a test row ever reaches the model that scores it.
//!
//! Folds run in parallel with rayon; each fold's random streams are derived from the master seed
//! and the fold's identity, and results are collected in fold order, so the output does not
//! depend on the number of threads.

use rayon::prelude::*;

use crate::baselines;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::{self, Fold, Metrics, Summary};
use crate::matrix::Matrix;
use crate::nn::{self, Mlp, TrainConfig};
use crate::preprocess::Scaler;
use crate::rng::Stream;
use crate::select::{self, Balance, OnRound, Selection, Selector};
use std::sync::Arc;

/// The final model fitted on the kept features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Classifier {
    /// The network of `PipelineConfig::train`.
    #[default]
    Mlp,
    /// L2 logistic regression (C = 1) on the same scaled, balanced rows, stored as a network
    /// without hidden layers (see `baselines::logistic::as_network`).
    Logistic,
}

/// What to fit on training rows.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    pub balance: Balance,
    /// Select features on the training rows first; `None` uses all given features.
    pub selection: Option<Arc<dyn Selector>>,
    /// The final network.
    pub train: TrainConfig,
    /// The final model: the network of `train`, or logistic regression.
    pub classifier: Classifier,
}

impl PipelineConfig {
    /// The pipeline balancing by `balance`, selecting by `selection` (if any) and training the
    /// final network with `train`.
    pub fn new(
        balance: Balance,
        selection: Option<Arc<dyn Selector>>,
        train: TrainConfig,
    ) -> PipelineConfig {
        PipelineConfig { balance, selection, train, classifier: Classifier::Mlp }
    }
}

/// A pipeline fitted on some training rows.
#[derive(Clone, Debug)]
pub struct Fitted {
    /// Columns of the input table the model uses, in model input order.
    pub features: Vec<usize>,
    /// Scaler over `features`.
    pub scaler: Scaler,
    pub model: Mlp,
    pub selection: Option<Selection>,
    /// Mean training loss of the final network's last epoch.
    pub train_loss: f64,
}

impl Fitted {
    /// P(class 1) for raw rows of the full input table.
    pub fn predict_proba(&self, x: &Matrix) -> Vec<f64> {
        let xs = self.scaler.transform(&x.select_cols(&self.features));
        self.model.predict_proba(&xs)
    }
}

/// Fit the pipeline on raw rows `x` (all columns of the table) with labels `y`.
///
/// `features` restricts the columns considered; `task` identifies the fit among others under
/// the same seed (e.g. `[repeat, fold]`).
pub fn fit(
    x: &Matrix,
    y: &[usize],
    features: &[usize],
    cfg: &PipelineConfig,
    seed: u64,
    task: &[u64],
    on_round: Option<OnRound<'_>>,
) -> Result<Fitted> {
    let (features, selection) = match &cfg.selection {
        Some(sel) => {
            let s = sel.select(&x.select_cols(features), y, seed, task, on_round)?;
            let s = s.remap(features);
            (s.kept.clone(), Some(s))
        }
        None => (features.to_vec(), None),
    };

    // The final network sees the kept columns only, scaled and balanced afresh on these rows.
    let xk = x.select_cols(&features);
    let mut rng = Stream::derive(seed, "final-smote", task);
    let (scaler, xb, yb, _) = select::prepare(&xk, y, cfg.balance, &mut rng)?;
    let weight = select::class_weights(&yb, cfg.balance);
    let (model, train_loss) = match cfg.classifier {
        Classifier::Mlp => {
            let mut rng = Stream::derive(seed, "final-train", task);
            let (model, report) = nn::train(&xb, &yb, weight.as_deref(), &cfg.train, &mut rng)
                .map_err(|e| Error::new(e.kind(), format!("final model: {}", e.message())))?;
            (model, report.epoch_loss.last().copied().unwrap_or(f64::NAN))
        }
        Classifier::Logistic => {
            let fit = baselines::logistic::fit_l2_weighted(&xb, &yb, weight.as_deref(), 1.0)?;
            let model = baselines::logistic::as_network(&fit)?;
            (model, fit.loss)
        }
    };
    Ok(Fitted { features, scaler, model, selection, train_loss })
}

/// The outcome of one fold.
#[derive(Clone, Debug)]
pub struct FoldResult {
    pub repeat: usize,
    pub fold: usize,
    /// Test rows (indices into the table), their labels and predicted P(class 1).
    pub test: Vec<usize>,
    pub y: Vec<usize>,
    pub p: Vec<f64>,
    pub metrics: Metrics,
    /// The features the fold's model used.
    pub features: Vec<usize>,
    pub selection: Option<Selection>,
}

/// The outcome of a cross-validation.
#[derive(Clone, Debug)]
pub struct CvReport {
    pub folds: Vec<FoldResult>,
    /// Mean and sd over folds of each metric, in `Metrics::NAMES` order.
    pub summary: Vec<(&'static str, Summary)>,
    /// Metrics of all out-of-fold predictions pooled.
    pub pooled: Metrics,
}

/// Stratified k-fold cross-validation (`repeats` reshuffles) of the pipeline on `data`,
/// considering the columns `features`. Everything is fitted inside each training fold.
pub fn cross_validate(
    data: &Dataset,
    features: &[usize],
    cfg: &PipelineConfig,
    k: usize,
    repeats: usize,
    seed: u64,
    on_fold: Option<OnRound<'_>>,
) -> Result<CvReport> {
    let folds = eval::stratified_folds(&data.y, k, repeats, seed)?;
    let fit_fold = |f: &Fold, x: &Matrix, y: &[usize]| {
        let task = [f.repeat as u64, f.fold as u64];
        fit(x, y, features, cfg, seed, &task, None).map(|fitted| (fitted, ()))
    };
    Ok(cross_validate_with(data, &folds, on_fold, &fit_fold)?.0)
}

/// Fits one fold's pipeline on its raw training rows (all columns of the table) and labels,
/// returning the fitted pipeline and whatever else the caller records per fold.
pub type FitFold<'a, T> = &'a (dyn Fn(&Fold, &Matrix, &[usize]) -> Result<(Fitted, T)> + Sync);

/// Cross-validation over given `folds` with a caller-supplied fit: `fit` sees each fold's
/// training rows only, and the fitted pipeline scores the fold's test rows. Folds run in
/// parallel; results (and the extras `T`) come back in the order of `folds`.
pub fn cross_validate_with<T: Send>(
    data: &Dataset,
    folds: &[Fold],
    on_fold: Option<OnRound<'_>>,
    fit: FitFold<'_, T>,
) -> Result<(CvReport, Vec<T>)> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(FoldResult, T)> = folds
        .par_iter()
        .map(|f: &Fold| {
            let y_train: Vec<usize> = f.train.iter().map(|&i| data.y[i]).collect();
            let (fitted, extra) =
                fit(f, &data.x.select_rows(&f.train), &y_train).map_err(|e| fold_context(e, f))?;
            let p = fitted.predict_proba(&data.x.select_rows(&f.test));
            let y: Vec<usize> = f.test.iter().map(|&i| data.y[i]).collect();
            if let Some(cb) = on_fold {
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                cb(n, folds.len());
            }
            let result = FoldResult {
                repeat: f.repeat,
                fold: f.fold,
                metrics: Metrics::compute(&y, &p),
                test: f.test.clone(),
                y,
                p,
                features: fitted.features,
                selection: fitted.selection,
            };
            Ok((result, extra))
        })
        // All folds, then the first error in fold order: the message must not depend on
        // which thread failed first.
        .collect::<Vec<Result<_>>>()
        .into_iter()
        .collect::<Result<_>>()?;
    let (results, extras): (Vec<FoldResult>, Vec<T>) = results.into_iter().unzip();
    let metrics: Vec<Metrics> = results.iter().map(|r| r.metrics).collect();
    let pooled_input: Vec<(Vec<usize>, Vec<f64>)> =
        results.iter().map(|r| (r.y.clone(), r.p.clone())).collect();
    let report = CvReport {
        summary: eval::summarize_metrics(&metrics),
        pooled: eval::pooled(&pooled_input),
        folds: results,
    };
    Ok((report, extras))
}

fn fold_context(e: Error, f: &Fold) -> Error {
    let msg = format!("repeat {}, fold {}: {}", f.repeat + 1, f.fold + 1, e.message());
    Error::new(e.kind(), msg)
}
