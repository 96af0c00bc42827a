//! The correlation filter radiomics practice runs before selection (`--decorrelate R`), after R
//! caret's `findCorrelation(exact = TRUE)`, and a [`Selector`] wrapper that runs it inside each
//! training fold.
//!
//! On the rows it is given, with r the Pearson correlation matrix and a_j the mean |r_jk| of
//! feature j over the other features, features are visited in decreasing a_j (ties: lower
//! index first). For each pair (i, j) in that order, i before j, both still in and with
//! |r_ij| > R, the one whose mean |r| to the other features still in is larger is dropped; on a
//! tie, the later one (j). Every drop is recorded with the partner that caused it. The rule
//! keeps, of each highly correlated group, the member least correlated with the rest.
//!
//! Note that caret's code compares the first feature's mean with the mean of the whole
//! remaining matrix without the second feature's row, not with the second feature's own mean;
//! this follows caret's documented rule ("removes the variable with the largest mean absolute
//! correlation") rather than that line.

use std::sync::Arc;

use crate::baselines::correlation_matrix;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::select::{OnRound, Ranked, Selection, Selector};

/// One feature the filter dropped, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Dropped {
    pub feature: usize,
    /// The feature still in whose correlation with `feature` exceeded the threshold.
    pub partner: usize,
    /// Their Pearson correlation.
    pub r: f64,
    /// Mean |r| of `feature` and of `partner` to the other features still in at that moment.
    pub mean_abs_r: f64,
    pub partner_mean_abs_r: f64,
}

/// Mean |r_jk| over k != j for each feature j of the d x d correlation matrix `r`.
fn mean_abs_others(r: &[f64], d: usize) -> Vec<f64> {
    let others = (d.max(2) - 1) as f64;
    (0..d)
        .map(|j| (0..d).filter(|&k| k != j).map(|k| r[j * d + k].abs()).sum::<f64>() / others)
        .collect()
}

/// The features of `x` the filter drops at threshold `threshold`, in the order dropped.
pub fn find_correlated(x: &Matrix, threshold: f64) -> Vec<Dropped> {
    let d = x.cols();
    let r = correlation_matrix(x);
    let abs = |a: usize, b: usize| r[a * d + b].abs();
    let mean_all = mean_abs_others(&r, d);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| mean_all[b].total_cmp(&mean_all[a]).then(a.cmp(&b)));

    let mut dropped_flag = vec![false; d];
    let mut dropped = Vec::new();
    // Mean |r| of j to the others still in, itself excluded.
    let mean_in = |j: usize, flags: &[bool]| {
        let (mut s, mut n) = (0.0, 0usize);
        for (k, &gone) in flags.iter().enumerate() {
            if k != j && !gone {
                s += abs(j, k);
                n += 1;
            }
        }
        if n == 0 { 0.0 } else { s / n as f64 }
    };
    for (p, &i) in order.iter().enumerate() {
        for &j in &order[p + 1..] {
            if dropped_flag[i] {
                break;
            }
            if dropped_flag[j] || abs(i, j) <= threshold {
                continue;
            }
            let (mi, mj) = (mean_in(i, &dropped_flag), mean_in(j, &dropped_flag));
            let (gone, kept, mg, mk) = if mi > mj { (i, j, mi, mj) } else { (j, i, mj, mi) };
            dropped_flag[gone] = true;
            dropped.push(Dropped {
                feature: gone,
                partner: kept,
                r: r[gone * d + kept],
                mean_abs_r: mg,
                partner_mean_abs_r: mk,
            });
        }
    }
    dropped
}

/// A selector that first drops correlated features (on the rows it is given, so inside a fold
/// on training rows only), then runs `inner` on the rest.
///
/// The selection's round 1 is the filter: its `features` are all columns, its `importance`
/// each column's mean |r| to the other columns, its `eliminated` the dropped ones in drop order.
/// The inner selection's rounds follow, renumbered from 2; dropped features rank last, with a
/// NaN importance. [`find_correlated`] on the same rows gives each drop's partner and |r|.
#[derive(Clone, Debug)]
pub struct Decorrelated {
    pub threshold: f64,
    pub keep: usize,
    pub inner: Arc<dyn Selector>,
}

impl Selector for Decorrelated {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        seed: u64,
        task: &[u64],
        on_round: Option<OnRound<'_>>,
    ) -> Result<Selection> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::usage(format!(
                "--decorrelate {} must lie in (0, 1]",
                self.threshold
            )));
        }
        let d = x.cols();
        let dropped = find_correlated(x, self.threshold);
        let gone: Vec<usize> = dropped.iter().map(|g| g.feature).collect();
        let left: Vec<usize> = (0..d).filter(|j| !gone.contains(j)).collect();
        if left.len() < self.keep {
            return Err(Error::data(format!(
                "--decorrelate {} leaves {} features, fewer than --keep {}: raise the threshold",
                self.threshold,
                left.len(),
                self.keep
            )));
        }
        let inner = self.inner.select(&x.select_cols(&left), y, seed, task, on_round)?.remap(&left);

        let mean_all = mean_abs_others(&correlation_matrix(x), d);
        let mut rounds = vec![crate::select::Round {
            round: 1,
            features: (0..d).collect(),
            importance: mean_all,
            eliminated: gone.clone(),
            candidate_loss: Vec::new(),
            validation_loss: f64::NAN,
            train_loss: f64::NAN,
            holdout_p: Vec::new(),
        }];
        for mut round in inner.rounds {
            round.round += 1;
            rounds.push(round);
        }
        let mut ranking: Vec<Ranked> = inner
            .ranking
            .into_iter()
            .map(|mut r| {
                r.eliminated_in_round = r.eliminated_in_round.map(|k| k + 1);
                r
            })
            .collect();
        for &g in &gone {
            ranking.push(Ranked {
                feature: g,
                rank: ranking.len() + 1,
                eliminated_in_round: Some(1),
                importance: f64::NAN,
            });
        }
        Ok(Selection { kept: inner.kept, ranking, rounds })
    }
}
