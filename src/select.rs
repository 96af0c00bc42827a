//! Gradient-loss recursive feature elimination (GL-RFE).
//!
//! GL-RFE ranks features by how strongly a trained network's loss reacts to them: the importance
//! of feature j is the mean over training rows of |dL_i/dx_ij|, the magnitude of the gradient of
//! each row's cross-entropy loss with respect to that (standardised) input. Each round trains a
//! fresh network on the features still in, scores them, and eliminates the least important,
//! until `keep` remain; a last scoring round on the kept features orders them.
//!
//! This module owns the elimination loop and its record. It receives raw training rows and does
//! its own fitting (scaler, balancing) on them, so a caller that passes only the training rows of
//! a fold gets a selection that never saw the test rows. Training and gradients are `nn`'s.
//!
//! `importance: Importance::GradXInput` scores by mean |x_ij dL_i/dx_ij| instead (the method
//! `grad-x-input`). Two refinements make the elimination less noisy and checkable:
//! - `ensemble`: R networks per round with different seeds, importances averaged;
//! - `candidates`: the M least important features become candidates, and the `step` of them
//!   whose replacement by their training mean (0 after standardising) raises the loss on a
//!   held-out validation part the least are eliminated. No retraining is needed to score a
//!   candidate, so candidates are cheap and run in parallel.
//!
//! # Limitations
//! - Gradient magnitudes measure local sensitivity. A feature whose effect saturates (ReLUs that
//!   are dead on most rows, confident softmax outputs) gets a small gradient although the
//!   network relies on it; candidate scoring by held-out loss is the check against that.
//! - Importances depend on the scale of the inputs; they are computed on standardised inputs so
//!   that features measured in different units compare.
//! - With a single network per round, importances of weak features are noisy and the order in
//!   which they are dropped varies with the seed; ensembles reduce that variance.
//! - With `candidates > 1` the validation part is held out for the whole run, also in rounds
//!   where the step is at least the pool size and no candidate is scored (a fractional step
//!   early on), so those rounds train on fewer rows than they could.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::eval::stratified_holdout;
use crate::matrix::Matrix;
use crate::nn::{self, Mlp, TrainConfig};
use crate::preprocess::{Scaler, SmoteConfig, smote};
use crate::rng::Stream;

/// How many features a round eliminates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// A fixed number per round.
    Count(usize),
    /// This fraction of the features still in (at least one).
    Fraction(f64),
}

impl Step {
    /// The number to eliminate from `remaining` features without going below `keep`.
    pub fn count(self, remaining: usize, keep: usize) -> usize {
        let n = match self {
            Step::Count(c) => c,
            Step::Fraction(f) => (f * remaining as f64).floor() as usize,
        };
        n.max(1).min(remaining.saturating_sub(keep))
    }
}

/// How the training rows are balanced before networks are fitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Balance {
    /// No balancing.
    None,
    /// SMOTE oversampling of the minority class with `k` neighbours.
    Smote { k: usize },
    /// No new rows; each row's loss is weighted by n / (2 n_c) for its class c, as
    /// scikit-learn's `class_weight="balanced"` (see [`class_weights`]).
    ClassWeight,
}

/// Which rows importances are averaged over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportanceRows {
    /// The real training rows only (not SMOTE's synthetic ones).
    Real,
    /// Real and synthetic rows.
    All,
}

/// What a round scores each feature by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Importance {
    /// Mean over rows of |dL_i/dx_ij| (the method's own score).
    Gradient,
    /// Mean over rows of |x_ij dL_i/dx_ij| (gradient times standardised input), which discounts
    /// sensitivity at inputs near the feature's mean.
    GradXInput,
}

/// Settings of one GL-RFE run.
#[derive(Clone, Debug)]
pub struct GlrfeConfig {
    /// Number of features to keep.
    pub keep: usize,
    /// Features eliminated per round.
    pub step: Step,
    /// Networks trained per round, importances averaged.
    pub ensemble: usize,
    /// Size of the candidate pool scored by held-out loss (1 = plain GL-RFE).
    pub candidates: usize,
    /// Fraction of the training rows held out to score candidates (only when `candidates > 1`).
    pub validation_fraction: f64,
    pub importance_rows: ImportanceRows,
    pub balance: Balance,
    pub train: TrainConfig,
    /// Warm start: `Some(e)` trains only the first round from a fresh initialisation; every
    /// later round continues from the previous round's network (member by member) with the
    /// eliminated inputs' first-layer weights removed, for `e` epochs. `None`: every round
    /// starts afresh with `train.epochs`.
    pub warm_epochs: Option<usize>,
    /// The per-feature score each round ranks by.
    pub importance: Importance,
}

impl Default for GlrfeConfig {
    fn default() -> Self {
        GlrfeConfig {
            keep: 15,
            step: Step::Count(1),
            ensemble: 1,
            candidates: 1,
            validation_fraction: 0.2,
            importance_rows: ImportanceRows::Real,
            balance: Balance::Smote { k: 5 },
            train: TrainConfig::default(),
            warm_epochs: None,
            importance: Importance::Gradient,
        }
    }
}

/// What one round saw and did.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// 1-based round number.
    pub round: usize,
    /// Features in at the start of the round (column indices of the input table).
    pub features: Vec<usize>,
    /// Importance of each of `features`, averaged over the ensemble.
    pub importance: Vec<f64>,
    /// Features eliminated in this round (empty in the final scoring round).
    pub eliminated: Vec<usize>,
    /// With candidates: (feature, validation loss with that feature at its mean), in pool order.
    pub candidate_loss: Vec<(usize, f64)>,
    /// Validation loss with all `features` in (with candidates), else NaN.
    pub validation_loss: f64,
    /// Mean last-epoch training loss over the ensemble.
    pub train_loss: f64,
    /// With holdout rows given: the ensemble's mean P(class 1) on each, from this round's
    /// networks (trained on `features`), so a caller can score every feature count along the
    /// elimination path without training again.
    pub holdout_p: Vec<f64>,
}

/// One row of the final ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub feature: usize,
    /// 1 = most important.
    pub rank: usize,
    /// Round in which it was eliminated; `None` for kept features.
    pub eliminated_in_round: Option<usize>,
    /// Importance in the last round the feature took part in.
    pub importance: f64,
}

/// The outcome of a GL-RFE run.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Kept features, most important first.
    pub kept: Vec<usize>,
    /// Every feature: kept ones first by importance, then eliminated ones, last eliminated first.
    pub ranking: Vec<Ranked>,
    pub rounds: Vec<Round>,
}

impl Selection {
    /// The same selection with every feature index `j` replaced by `columns[j]`, e.g. to express
    /// a selection made on a subset of columns in the columns of the full table.
    pub fn remap(mut self, columns: &[usize]) -> Selection {
        let map = |v: &mut Vec<usize>| v.iter_mut().for_each(|j| *j = columns[*j]);
        map(&mut self.kept);
        for r in &mut self.ranking {
            r.feature = columns[r.feature];
        }
        for r in &mut self.rounds {
            map(&mut r.features);
            map(&mut r.eliminated);
            r.candidate_loss.iter_mut().for_each(|(j, _)| *j = columns[*j]);
        }
        self
    }
}

/// A feature selector: ranks the columns of raw training rows and keeps some of them.
///
/// Implementations fit everything they need (scaling, balancing, models) on the rows they are
/// given, so that a caller can run them inside a training fold without leaking the test rows.
pub trait Selector: Send + Sync + std::fmt::Debug {
    /// Short name used on the command line and in reports, e.g. `glrfe`.
    fn name(&self) -> &str;

    /// Rank the columns of raw training rows `x` with labels `y`; `task` identifies the call
    /// among others under `seed`.
    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        seed: u64,
        task: &[u64],
        on_round: Option<OnRound<'_>>,
    ) -> Result<Selection>;
}

impl Selector for GlrfeConfig {
    fn name(&self) -> &str {
        match self.importance {
            Importance::Gradient => "glrfe",
            Importance::GradXInput => "grad-x-input",
        }
    }

    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        seed: u64,
        task: &[u64],
        on_round: Option<OnRound<'_>>,
    ) -> Result<Selection> {
        glrfe(x, y, self, seed, task, on_round)
    }
}

impl Selection {
    /// The selection of a one-shot scoring method: features ranked by `score` (higher = more
    /// important; NaN last; ties to the lower index), the first `keep` kept, the others marked
    /// as eliminated in round 1.
    pub fn from_scores(score: &[f64], keep: usize) -> Selection {
        let key = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
        let mut order: Vec<usize> = (0..score.len()).collect();
        order.sort_by(|&a, &b| key(score[b]).total_cmp(&key(score[a])).then(a.cmp(&b)));
        Selection::from_order(&order, score, keep)
    }

    /// The selection whose ranking is `order` (most important first, every feature once) with
    /// `score[f]` as each feature's importance; the first `keep` are kept, the others marked as
    /// eliminated in round 1. For greedy methods whose scores need not fall along the order.
    pub fn from_order(order: &[usize], score: &[f64], keep: usize) -> Selection {
        let keep = keep.min(order.len());
        let ranking = order
            .iter()
            .enumerate()
            .map(|(i, &f)| Ranked {
                feature: f,
                rank: i + 1,
                eliminated_in_round: if i < keep { None } else { Some(1) },
                importance: score[f],
            })
            .collect();
        Selection { kept: order[..keep].to_vec(), ranking, rounds: Vec::new() }
    }
}

/// Called after each round with (round done, total rounds); must be cheap.
pub type OnRound<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// The number of rounds a run will take, the final scoring round included.
pub fn round_count(features: usize, cfg: &GlrfeConfig) -> usize {
    let mut remaining = features;
    let mut rounds = 1;
    while remaining > cfg.keep {
        remaining -= cfg.step.count(remaining, cfg.keep);
        rounds += 1;
    }
    rounds
}

fn validate(x: &Matrix, y: &[usize], cfg: &GlrfeConfig) -> Result<()> {
    if cfg.keep == 0 {
        return Err(Error::usage("--keep must be at least 1"));
    }
    if cfg.keep > x.cols() {
        return Err(Error::usage(format!(
            "--keep {} asks for more features than the table has ({})",
            cfg.keep,
            x.cols()
        )));
    }
    match cfg.step {
        Step::Count(0) => return Err(Error::usage("--step must be at least 1")),
        Step::Fraction(f) if !(f > 0.0 && f < 1.0) => {
            return Err(Error::usage("a fractional --step must lie strictly between 0 and 1"));
        }
        _ => {}
    }
    if cfg.warm_epochs == Some(0) {
        return Err(Error::usage("--warm-epochs must be at least 1"));
    }
    if cfg.ensemble == 0 {
        return Err(Error::usage("--ensemble must be at least 1"));
    }
    if cfg.candidates == 0 {
        return Err(Error::usage("--candidates must be at least 1"));
    }
    if cfg.candidates > 1 && !(cfg.validation_fraction > 0.0 && cfg.validation_fraction < 1.0) {
        return Err(Error::usage("the validation fraction must lie strictly between 0 and 1"));
    }
    if x.rows() != y.len() {
        return Err(Error::usage("feature rows and labels differ in number"));
    }
    Ok(())
}

/// Standardise with a scaler fitted on `x`, then balance; returns (rows, labels, number of real
/// rows, which come first).
pub fn prepare(
    x: &Matrix,
    y: &[usize],
    balance: Balance,
    rng: &mut Stream,
) -> Result<(Scaler, Matrix, Vec<usize>, usize)> {
    let scaler = Scaler::fit(x);
    let xs = scaler.transform(x);
    let (xb, yb) = match balance {
        Balance::None | Balance::ClassWeight => (xs, y.to_vec()),
        Balance::Smote { k } => smote(&xs, y, &SmoteConfig { k }, rng)?,
    };
    Ok((scaler, xb, yb, x.rows()))
}

/// The row weights `balance` asks the loss to use for labels `y` (after [`prepare`]): with
/// [`Balance::ClassWeight`], w_i = n / (2 n_c) for row i of class c, so that each class carries
/// half of the total weight n and the weighted mean loss is the mean of the two per-class mean
/// losses; `None` for the other balancings. A class without rows gets no weight, since no row
/// needs one.
pub fn class_weights(y: &[usize], balance: Balance) -> Option<Vec<f64>> {
    if balance != Balance::ClassWeight {
        return None;
    }
    let n = y.len() as f64;
    let mut counts = [0usize; 2];
    for &c in y {
        counts[c.min(1)] += 1;
    }
    Some(y.iter().map(|&c| n / (2.0 * counts[c.min(1)] as f64)).collect())
}

/// Mean over rows of |dL_i/dx_ij| for each column j.
pub fn gradient_importance(model: &Mlp, x: &Matrix, y: &[usize]) -> Vec<f64> {
    weighted_gradient_importance(model, x, y, None)
}

/// [`gradient_importance`] as the weighted mean sum_i w_i |dL_i/dx_ij| / sum_i w_i, the
/// importance under a loss whose rows carry weights `w` (all 1 when `None`).
pub fn weighted_gradient_importance(
    model: &Mlp,
    x: &Matrix,
    y: &[usize],
    w: Option<&[f64]>,
) -> Vec<f64> {
    weighted_mean_abs(&model.row_input_gradients(x, y), None, w)
}

/// Mean over rows of |x_ij dL_i/dx_ij| for each column j (weighted by `w` as in
/// [`weighted_gradient_importance`]): the gradient times the input, which discounts features
/// whose standardised values sit near their mean, where a linear change in them does little.
pub fn grad_x_input_importance(
    model: &Mlp,
    x: &Matrix,
    y: &[usize],
    w: Option<&[f64]>,
) -> Vec<f64> {
    weighted_mean_abs(&model.row_input_gradients(x, y), Some(x), w)
}

/// sum_i w_i |g_ij (x_ij)| / sum_i w_i per column j, the x factor only when given; rows are
/// summed in order.
fn weighted_mean_abs(g: &Matrix, x: Option<&Matrix>, w: Option<&[f64]>) -> Vec<f64> {
    let mut sum = vec![0.0; g.cols()];
    let mut total = 0.0;
    for i in 0..g.rows() {
        let wi = w.map_or(1.0, |w| w[i]);
        total += wi;
        match x {
            Some(x) => {
                for ((s, v), xv) in sum.iter_mut().zip(g.row(i)).zip(x.row(i)) {
                    *s += wi * (v * xv).abs();
                }
            }
            None => {
                for (s, v) in sum.iter_mut().zip(g.row(i)) {
                    *s += wi * v.abs();
                }
            }
        }
    }
    let total = if total > 0.0 { total } else { 1.0 };
    sum.iter().map(|s| s / total).collect()
}

/// Run GL-RFE on raw (unscaled) training rows `x` with labels `y`.
///
/// `task` identifies this run among others under the same `seed` (e.g. `[repeat, fold]` inside
/// cross-validation) so that its random streams are its own.
pub fn glrfe(
    x: &Matrix,
    y: &[usize],
    cfg: &GlrfeConfig,
    seed: u64,
    task: &[u64],
    on_round: Option<OnRound<'_>>,
) -> Result<Selection> {
    glrfe_scored(x, y, cfg, seed, task, on_round, None)
}

/// [`glrfe`], also recording each round's predictions on raw `holdout` rows (which must not
/// be among `x`) in [`Round::holdout_p`].
pub fn glrfe_scored(
    x: &Matrix,
    y: &[usize],
    cfg: &GlrfeConfig,
    seed: u64,
    task: &[u64],
    on_round: Option<OnRound<'_>>,
    holdout: Option<&Matrix>,
) -> Result<Selection> {
    validate(x, y, cfg)?;
    let stream = |purpose: &str, extra: &[u64]| {
        let ids: Vec<u64> = task.iter().chain(extra).copied().collect();
        Stream::derive(seed, purpose, &ids)
    };

    // With candidates, a stratified part of the training rows is held out before anything is
    // fitted, so that candidate losses are measured on rows no network was trained on.
    let (fit_rows, val_rows) = if cfg.candidates > 1 {
        stratified_holdout(y, cfg.validation_fraction, &mut stream("validation", &[]))
    } else {
        ((0..x.rows()).collect(), Vec::new())
    };
    let x_fit = x.select_rows(&fit_rows);
    let y_fit: Vec<usize> = fit_rows.iter().map(|&i| y[i]).collect();
    let (scaler, xb, yb, n_real) = prepare(&x_fit, &y_fit, cfg.balance, &mut stream("smote", &[]))?;
    let weight = class_weights(&yb, cfg.balance);
    let x_val = scaler.transform(&x.select_rows(&val_rows));
    let x_holdout = holdout.map(|h| scaler.transform(h));
    let y_val: Vec<usize> = val_rows.iter().map(|&i| y[i]).collect();
    let score_rows = match cfg.importance_rows {
        ImportanceRows::Real => n_real,
        ImportanceRows::All => xb.rows(),
    };

    let total = round_count(x.cols(), cfg);
    let mut remaining: Vec<usize> = (0..x.cols()).collect();
    let mut rounds = Vec::new();
    // With warm starts: last round's networks, and the positions (in last round's features) of
    // the features still in.
    let mut previous: Option<(Vec<Mlp>, Vec<usize>)> = None;
    let warm_cfg = cfg.warm_epochs.map(|e| TrainConfig { epochs: e, ..cfg.train.clone() });
    loop {
        let r = rounds.len() + 1;
        let xr = xb.select_cols(&remaining);
        let members: Vec<(Mlp, f64)> = (0..cfg.ensemble)
            .into_par_iter()
            .map(|m| {
                let mut rng = stream("train", &[r as u64, m as u64]);
                let trained = match (&previous, &warm_cfg) {
                    (Some((nets, kept)), Some(wc)) => nn::train_from(
                        &nets[m].without_inputs(kept),
                        &xr,
                        &yb,
                        weight.as_deref(),
                        wc,
                        &mut rng,
                    ),
                    _ => nn::train(&xr, &yb, weight.as_deref(), &cfg.train, &mut rng),
                };
                let (model, report) = trained.map_err(|e| {
                    Error::new(e.kind(), format!("round {r}, member {m}: {}", e.message()))
                })?;
                Ok((model, report.epoch_loss.last().copied().unwrap_or(f64::NAN)))
            })
            // All members, then the first error in member order: the message must not depend
            // on which thread failed first.
            .collect::<Vec<Result<_>>>()
            .into_iter()
            .collect::<Result<_>>()?;

        // Average importances in member order, so the sum does not depend on scheduling.
        let score_x = xr.select_rows(&(0..score_rows).collect::<Vec<_>>());
        let score_y = &yb[..score_rows];
        let score_w = weight.as_deref().map(|w| &w[..score_rows]);
        let mut importance = vec![0.0; remaining.len()];
        for (model, _) in &members {
            let imp = match cfg.importance {
                Importance::Gradient => {
                    weighted_gradient_importance(model, &score_x, score_y, score_w)
                }
                Importance::GradXInput => {
                    grad_x_input_importance(model, &score_x, score_y, score_w)
                }
            };
            for (a, v) in importance.iter_mut().zip(imp) {
                *a += v;
            }
        }
        let inv = 1.0 / members.len() as f64;
        importance.iter_mut().for_each(|a| *a *= inv);
        // A column constant over the training rows is all zeros after scaling: it tells the
        // network nothing, and its gradient comes only from first-layer weights that never
        // moved from their random start. Scoring it 0 eliminates it first.
        for (a, f) in importance.iter_mut().zip(&remaining) {
            if scaler.zero_variance.contains(f) {
                *a = 0.0;
            }
        }
        let train_loss = members.iter().map(|(_, l)| l).sum::<f64>() * inv;

        let holdout_p = match &x_holdout {
            Some(h) => {
                let h = h.select_cols(&remaining);
                let mut p = vec![0.0; h.rows()];
                for (model, _) in &members {
                    p.iter_mut().zip(model.predict_proba(&h)).for_each(|(a, v)| *a += v);
                }
                p.iter_mut().for_each(|a| *a *= inv);
                p
            }
            None => Vec::new(),
        };
        let mut round = Round {
            round: r,
            features: remaining.clone(),
            importance: importance.clone(),
            eliminated: Vec::new(),
            candidate_loss: Vec::new(),
            validation_loss: f64::NAN,
            train_loss,
            holdout_p,
        };
        if remaining.len() <= cfg.keep {
            rounds.push(round);
            if let Some(f) = on_round {
                f(r, total);
            }
            break;
        }

        // Positions in `remaining`, least important first; ties go to the lower column index.
        let mut order: Vec<usize> = (0..remaining.len()).collect();
        order.sort_by(|&a, &b| importance[a].total_cmp(&importance[b]).then(a.cmp(&b)));
        let step = cfg.step.count(remaining.len(), cfg.keep);
        let drop_pos: Vec<usize> = if cfg.candidates > step {
            let pool = &order[..cfg.candidates.min(remaining.len())];
            let models: Vec<&Mlp> = members.iter().map(|(m, _)| m).collect();
            let val_x = x_val.select_cols(&remaining);
            let val_w = class_weights(&y_val, cfg.balance);
            round.validation_loss = ensemble_loss(&models, &val_x, &y_val, val_w.as_deref());
            let losses: Vec<f64> = pool
                .par_iter()
                .map(|&p| {
                    let mut masked = val_x.clone();
                    for i in 0..masked.rows() {
                        masked.set(i, p, 0.0);
                    }
                    ensemble_loss(&models, &masked, &y_val, val_w.as_deref())
                })
                .collect();
            round.candidate_loss =
                pool.iter().zip(&losses).map(|(&p, &l)| (remaining[p], l)).collect();
            let mut by_cost: Vec<usize> = (0..pool.len()).collect();
            by_cost.sort_by(|&a, &b| losses[a].total_cmp(&losses[b]).then(a.cmp(&b)));
            by_cost[..step].iter().map(|&c| pool[c]).collect()
        } else {
            order[..step].to_vec()
        };

        round.eliminated = drop_pos.iter().map(|&p| remaining[p]).collect();
        if warm_cfg.is_some() {
            let kept = (0..remaining.len()).filter(|p| !drop_pos.contains(p)).collect();
            previous = Some((members.into_iter().map(|(net, _)| net).collect(), kept));
        }
        remaining = remaining
            .iter()
            .enumerate()
            .filter(|(p, _)| !drop_pos.contains(p))
            .map(|(_, &f)| f)
            .collect();
        rounds.push(round);
        if let Some(f) = on_round {
            f(r, total);
        }
    }
    Ok(rank(x.cols(), rounds))
}

/// Mean over the ensemble of the (weighted) mean validation loss.
fn ensemble_loss(models: &[&Mlp], x: &Matrix, y: &[usize], w: Option<&[f64]>) -> f64 {
    models.iter().map(|m| m.loss(x, y, w)).sum::<f64>() / models.len() as f64
}

/// Build the ranking from the rounds: kept features by final importance, then each round's
/// eliminated features from the last round back to the first, each group by importance.
pub(crate) fn rank(d: usize, rounds: Vec<Round>) -> Selection {
    let by_importance_desc = |feats: &[usize], imp: &dyn Fn(usize) -> f64| {
        let mut v = feats.to_vec();
        v.sort_by(|&a, &b| imp(b).total_cmp(&imp(a)).then(a.cmp(&b)));
        v
    };
    let mut importance_of = vec![f64::NAN; d];
    let mut eliminated_in = vec![None; d];
    for r in &rounds {
        for (&f, &v) in r.features.iter().zip(&r.importance) {
            if eliminated_in[f].is_none() {
                importance_of[f] = v;
            }
        }
        for &f in &r.eliminated {
            eliminated_in[f] = Some(r.round);
        }
    }
    let last = rounds.last().expect("GL-RFE always runs a final scoring round");
    let kept = by_importance_desc(&last.features, &|f| importance_of[f]);
    let mut order = kept.clone();
    for r in rounds.iter().rev() {
        order.extend(by_importance_desc(&r.eliminated, &|f| importance_of[f]));
    }
    let ranking = order
        .iter()
        .enumerate()
        .map(|(i, &f)| Ranked {
            feature: f,
            rank: i + 1,
            eliminated_in_round: eliminated_in[f],
            importance: importance_of[f],
        })
        .collect();
    Selection { kept, ranking, rounds }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_counts_never_pass_keep() {
        assert_eq!(Step::Count(1).count(106, 15), 1);
        assert_eq!(Step::Count(10).count(20, 15), 5);
        assert_eq!(Step::Fraction(0.1).count(106, 15), 10);
        assert_eq!(Step::Fraction(0.1).count(9, 5), 1);
        let cfg = GlrfeConfig { keep: 15, ..GlrfeConfig::default() };
        assert_eq!(round_count(106, &cfg), 92);
        let cfg = GlrfeConfig { keep: 15, step: Step::Fraction(0.5), ..GlrfeConfig::default() };
        // 106 -> 53 -> 27 -> 15 (capped), then the scoring round.
        assert_eq!(round_count(106, &cfg), 4);
    }
}
