//! `rfe-logistic`: recursive feature elimination on an L2-penalised logistic regression,
//! ranked by squared coefficients, with scikit-learn's `RFE` semantics.
//!
//! Each round fits the regression (C = 1) on the standardised training rows of the features
//! still in, and eliminates the `step` with the smallest squared coefficients (ties: the lower
//! column index goes first, as a stable argsort), never going below K. A fractional step is a
//! fraction of the *initial* feature count (`int(max(1, step * d))`), as scikit-learn, not of
//! the features still in as GL-RFE's. Features eliminated together share a round, and
//! [`sklearn_ranks`] turns the rounds into scikit-learn's `ranking_` (1 = kept, 2 = eliminated
//! last, ...). The last fit is on the K kept features; its squared coefficients order them.

use super::logistic::{LogisticFit, fit_l2_from};
use crate::error::Result;
use crate::matrix::Matrix;
use crate::preprocess::Scaler;
use crate::select::{OnRound, Round, Selection, Selector, Step};

#[derive(Clone, Debug)]
pub struct RfeLogistic {
    pub keep: usize,
    pub step: Step,
    /// Inverse L2 penalty (scikit-learn's `C`).
    pub c: f64,
}

impl Selector for RfeLogistic {
    fn name(&self) -> &str {
        "rfe-logistic"
    }

    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        _seed: u64,
        _task: &[u64],
        on_round: Option<OnRound<'_>>,
    ) -> Result<Selection> {
        super::check_keep(self.keep, x, y)?;
        let d = x.cols();
        let step = match self.step {
            Step::Count(c) => c.max(1),
            Step::Fraction(f) => ((f * d as f64).floor() as usize).max(1),
        };
        let total = (d - self.keep).div_ceil(step) + 1;
        let xs = Scaler::fit(x).transform(x);
        let mut remaining: Vec<usize> = (0..d).collect();
        let mut rounds = Vec::new();
        let mut previous: Option<LogisticFit> = None;
        loop {
            let r = rounds.len() + 1;
            let fit = fit_l2_from(
                &xs.select_cols(&remaining),
                y,
                self.c,
                previous.as_ref().map(|p| (p.weights.as_slice(), p.intercept)),
            )?;
            let importance: Vec<f64> = fit.weights.iter().map(|w| w * w).collect();
            let mut round = Round {
                round: r,
                features: remaining.clone(),
                importance: importance.clone(),
                eliminated: Vec::new(),
                candidate_loss: Vec::new(),
                validation_loss: f64::NAN,
                train_loss: fit.loss,
                holdout_p: Vec::new(),
            };
            if remaining.len() <= self.keep {
                rounds.push(round);
                if let Some(f) = on_round {
                    f(r, total);
                }
                break;
            }
            let mut order: Vec<usize> = (0..remaining.len()).collect();
            order.sort_by(|&a, &b| importance[a].total_cmp(&importance[b]).then(a.cmp(&b)));
            let n_drop = step.min(remaining.len() - self.keep);
            let drop = &order[..n_drop];
            round.eliminated = drop.iter().map(|&p| remaining[p]).collect();
            let keep_pos: Vec<usize> = (0..remaining.len()).filter(|p| !drop.contains(p)).collect();
            previous = Some(LogisticFit {
                weights: keep_pos.iter().map(|&p| fit.weights[p]).collect(),
                ..fit
            });
            remaining = keep_pos.iter().map(|&p| remaining[p]).collect();
            rounds.push(round);
            if let Some(f) = on_round {
                f(r, total);
            }
        }
        Ok(crate::select::rank(d, rounds))
    }
}

/// scikit-learn's `RFE.ranking_` of a selection made by rounds: 1 for kept features, and for a
/// feature eliminated in round r of R rounds (the last being the scoring round), R - r + 1.
pub fn sklearn_ranks(sel: &Selection, d: usize) -> Vec<usize> {
    let last = sel.rounds.len();
    let mut ranks = vec![1; d];
    for r in &sel.ranking {
        if let Some(round) = r.eliminated_in_round {
            ranks[r.feature] = last - round + 1;
        }
    }
    ranks
}
