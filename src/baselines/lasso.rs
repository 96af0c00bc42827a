//! `lasso`: L1-penalised logistic regression, with the penalty found along a path so that
//! exactly K coefficients are non-zero.
//!
//! The path starts at lambda_max (all coefficients zero) and steps down geometrically by 0.95,
//! each fit warm-started from the last. When the count of non-zero coefficients first passes
//! K, the penalty is bisected (in log scale, 40 times at most) between the last step with fewer
//! and the first with more. If no penalty gives exactly K (several coefficients can enter at
//! once), the bisection's end with more than K is taken and its K largest |coefficients| kept.
//!
//! Kept features are ordered by |coefficient| (the `importance` column); eliminated ones, whose
//! importance is 0, by how close they are to entering: |d data loss / d w_j| at the chosen
//! penalty, which reaches lambda exactly when w_j would turn non-zero.

use super::logistic::{LogisticFit, data_gradient, fit_l1, lambda_max};
use crate::error::Result;
use crate::matrix::Matrix;
use crate::preprocess::Scaler;
use crate::select::{OnRound, Ranked, Selection, Selector};

#[derive(Clone, Debug)]
pub struct Lasso {
    pub keep: usize,
}

fn nonzero(fit: &LogisticFit) -> usize {
    fit.weights.iter().filter(|w| **w != 0.0).count()
}

/// The L1 fit on standardised rows `xs` with (at least, see the module) `keep` non-zero
/// coefficients, and its penalty.
pub fn fit_with_k_nonzero(xs: &Matrix, y: &[usize], keep: usize) -> Result<(LogisticFit, f64)> {
    let lmax = lambda_max(xs, y);
    let mut lambda = lmax;
    let mut fit = fit_l1(xs, y, lambda, None)?;
    let mut above = (lambda, fit.clone());
    // Down the path until K or more are in; 0.95^300 ~ 2e-7 of lambda_max is the floor.
    for _ in 0..300 {
        if nonzero(&fit) >= keep {
            break;
        }
        above = (lambda, fit.clone());
        lambda *= 0.95;
        fit = fit_l1(xs, y, lambda, Some(&fit))?;
    }
    if nonzero(&fit) == keep {
        return Ok((fit, lambda));
    }
    let (mut hi, mut hi_fit) = above;
    let (mut lo, mut lo_fit) = (lambda, fit);
    for _ in 0..40 {
        let mid = (hi * lo).sqrt();
        let mid_fit = fit_l1(xs, y, mid, Some(&hi_fit))?;
        let k = nonzero(&mid_fit);
        if k == keep {
            return Ok((mid_fit, mid));
        }
        if k < keep {
            (hi, hi_fit) = (mid, mid_fit);
        } else {
            (lo, lo_fit) = (mid, mid_fit);
        }
    }
    Ok((lo_fit, lo))
}

impl Selector for Lasso {
    fn name(&self) -> &str {
        "lasso"
    }

    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        _seed: u64,
        _task: &[u64],
        _on_round: Option<OnRound<'_>>,
    ) -> Result<Selection> {
        super::check_keep(self.keep, x, y)?;
        let xs = Scaler::fit(x).transform(x);
        let (fit, _lambda) = fit_with_k_nonzero(&xs, y, self.keep)?;
        let grad = data_gradient(&fit, &xs, y);
        let coef: Vec<f64> = fit.weights.iter().map(|w| w.abs()).collect();

        // Non-zero first by |coefficient|, then zero ones by |gradient|; ties to the lower index.
        let mut order: Vec<usize> = (0..x.cols()).collect();
        order.sort_by(|&a, &b| {
            let key = |j: usize| (coef[j] != 0.0, coef[j], grad[j].abs());
            let (ka, kb) = (key(a), key(b));
            kb.0.cmp(&ka.0).then(kb.1.total_cmp(&ka.1)).then(kb.2.total_cmp(&ka.2)).then(a.cmp(&b))
        });
        let ranking = order
            .iter()
            .enumerate()
            .map(|(i, &f)| Ranked {
                feature: f,
                rank: i + 1,
                eliminated_in_round: if i < self.keep { None } else { Some(1) },
                importance: coef[f],
            })
            .collect();
        Ok(Selection { kept: order[..self.keep].to_vec(), ranking, rounds: Vec::new() })
    }
}
