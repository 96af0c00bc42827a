//! `mrmr`: minimum redundancy, maximum relevance, in its F-test correlation quotient form (FCQ,
//! Ding and Peng 2005; the variant Zhao, Anand and Wang 2019 found to work best).
//!
//! Relevance is the one-way ANOVA F statistic of a feature, redundancy its mean |Pearson r| with
//! the features already chosen. The first pick is the feature of largest F; each next pick
//! maximises F_j / max(mean_s |r_js|, 1e-3) over those left (the floor keeps an uncorrelated
//! feature's score finite). A quotient rather than a difference, since F and |r| live on
//! different scales. Greedy picks continue through every feature, which gives the ranking;
//! the `importance` column is the quotient at the time of the pick (F for the first).
//!
//! # Limitations
//! Like `anova`, relevance is marginal: a feature that matters only in an interaction has a
//! small F and is picked late.

use super::correlation_matrix;
use super::univariate::f_classif;
use crate::error::Result;
use crate::matrix::Matrix;
use crate::select::{OnRound, Selection, Selector};

#[derive(Clone, Debug)]
pub struct Mrmr {
    pub keep: usize,
}

impl Selector for Mrmr {
    fn name(&self) -> &str {
        "mrmr"
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
        let d = x.cols();
        // A constant column has NaN F; it is picked last.
        let f: Vec<f64> =
            f_classif(x, y).into_iter().map(|(f, _)| if f.is_nan() { -1.0 } else { f }).collect();
        let r = correlation_matrix(x);
        let mut left: Vec<usize> = (0..d).collect();
        let mut order = Vec::with_capacity(d);
        let mut score = vec![f64::NAN; d];
        // sum_abs[j] = sum over chosen s of |r_js|.
        let mut sum_abs = vec![0.0; d];
        while !left.is_empty() {
            let quotient = |j: usize| {
                if order.is_empty() {
                    f[j]
                } else {
                    f[j] / (sum_abs[j] / order.len() as f64).max(1e-3)
                }
            };
            // Highest quotient; ties to the lower index (`left` ascends).
            let (pos, best) =
                left.iter().enumerate().fold((0, f64::NEG_INFINITY), |acc, (p, &j)| {
                    let q = quotient(j);
                    if q > acc.1 { (p, q) } else { acc }
                });
            let j = left.remove(pos);
            score[j] = best;
            for &k in &left {
                sum_abs[k] += r[j * d + k].abs();
            }
            order.push(j);
        }
        Ok(Selection::from_order(&order, &score, self.keep))
    }
}
