//! Univariate filters: each feature scored on its own against the class, by the one-way ANOVA F
//! statistic (`anova`) or by a k-nearest-neighbour estimate of mutual information
//! (`mutual-info`).
//!
//! Both see one feature at a time, so neither can find a feature that matters only together
//! with another (an interaction with no marginal effect); ANOVA sees only differences of class
//! means, mutual information any difference of the class distributions.

use rayon::prelude::*;

use crate::error::Result;
use crate::matrix::Matrix;
use crate::rng::Stream;
use crate::select::{OnRound, Selection, Selector};
use crate::special::{digamma, f_survival};

/// One-way ANOVA of each column of `x` across the classes in `y`: (F, p-value) per column, as
/// scikit-learn's `f_classif`.
///
/// With k classes of sizes n_c and means m_c, overall mean m and n rows,
///   F = [sum_c n_c (m_c - m)^2 / (k - 1)] / [sum_c sum_{i in c} (x_i - m_c)^2 / (n - k)],
/// and p = P(F(k - 1, n - k) > F). Sums are two-pass (means first), so large offsets do not
/// cancel. A column constant within every class has F = inf (p = 0) when its class means
/// differ, and F = NaN (p = NaN) when the column is constant, as scikit-learn.
pub fn f_classif(x: &Matrix, y: &[usize]) -> Vec<(f64, f64)> {
    let classes: Vec<usize> = {
        let mut c = y.to_vec();
        c.sort_unstable();
        c.dedup();
        c
    };
    let k = classes.len();
    let n = y.len();
    let (d1, d2) = ((k as f64) - 1.0, n as f64 - k as f64);
    (0..x.cols())
        .map(|j| {
            let col = x.col(j);
            let mean = col.iter().sum::<f64>() / n as f64;
            let mut between = 0.0;
            let mut within = 0.0;
            for &c in &classes {
                let values: Vec<f64> =
                    col.iter().zip(y).filter(|(_, t)| **t == c).map(|(v, _)| *v).collect();
                let nc = values.len() as f64;
                let mc = values.iter().sum::<f64>() / nc;
                between += nc * (mc - mean) * (mc - mean);
                within += values.iter().map(|v| (v - mc) * (v - mc)).sum::<f64>();
            }
            let f = (between / d1) / (within / d2);
            (f, f_survival(f, d1, d2))
        })
        .collect()
}

/// `anova`: features ranked by the ANOVA F statistic (the `importance` column).
#[derive(Clone, Debug)]
pub struct Anova {
    pub keep: usize,
}

impl Selector for Anova {
    fn name(&self) -> &str {
        "anova"
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
        let f: Vec<f64> = f_classif(x, y).into_iter().map(|(f, _)| f).collect();
        Ok(Selection::from_scores(&f, self.keep))
    }
}

/// Mutual information (nats) between a continuous variable `c` and the class `y`, by Ross's
/// k-nearest-neighbour estimator (PLoS ONE 9(2), 2014), as scikit-learn's `_compute_mi_cd`:
///
/// for each row i of class c (n_c rows, k_c = min(k, n_c - 1)), d_i is the distance to its k_c-th
/// nearest neighbour within the class, and m_i the number of rows of any class (i itself
/// included) strictly closer than d_i (or at distance 0 when d_i = 0). Rows of classes with a single member are left out, n being
/// the rows left. Then
///   I = psi(n) + <psi(k_c)> - <psi(n_c)> - <psi(m_i)>,
/// averages over rows, clipped at 0.
///
/// Distances are |c_i - c_j| on the values as given. Tied values make the estimate degenerate
/// (a k-th neighbour at distance 0 counts only exact copies), which is why
/// [`mutual_info_classif`] breaks ties with tiny noise first.
pub fn mutual_info_cd(c: &[f64], y: &[usize], k: usize) -> f64 {
    let n_all = c.len();
    let mut count = std::collections::BTreeMap::new();
    for &t in y {
        *count.entry(t).or_insert(0usize) += 1;
    }
    let used: Vec<usize> = (0..n_all).filter(|&i| count[&y[i]] > 1).collect();
    let n = used.len();
    if n == 0 {
        return 0.0;
    }

    // Sorted values of each class and of all used rows, for neighbour searches by bisection.
    let mut sorted_all: Vec<f64> = used.iter().map(|&i| c[i]).collect();
    sorted_all.sort_by(f64::total_cmp);
    let mut by_class: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for &i in &used {
        by_class.entry(y[i]).or_default().push(c[i]);
    }
    by_class.values_mut().for_each(|v| v.sort_by(f64::total_cmp));

    let (mut sum_k, mut sum_nc, mut sum_m) = (0.0, 0.0, 0.0);
    for &i in &used {
        let class = &by_class[&y[i]];
        let kc = k.min(class.len() - 1);
        let d = kth_neighbour_distance(class, c[i], kc);
        // Rows strictly within d of c_i: |c_j - c_i| < d.
        let m = count_within(&sorted_all, c[i], d);
        sum_k += digamma(kc as f64);
        sum_nc += digamma(class.len() as f64);
        sum_m += digamma(m as f64);
    }
    let nf = n as f64;
    (digamma(nf) + sum_k / nf - sum_nc / nf - sum_m / nf).max(0.0)
}

/// Distance from `v` (one of the values of `sorted`) to its k-th nearest other value: merge
/// outwards from v's position, skipping v itself once.
fn kth_neighbour_distance(sorted: &[f64], v: f64, k: usize) -> f64 {
    let pos = sorted.partition_point(|&s| s < v);
    // `pos` is the first copy of v; v itself is that copy, the other copies are neighbours at 0.
    let (mut left, mut right) = (pos as isize - 1, pos + 1);
    let mut dist = 0.0;
    for _ in 0..k {
        let dl = if left >= 0 { v - sorted[left as usize] } else { f64::INFINITY };
        let dr = if right < sorted.len() { sorted[right] - v } else { f64::INFINITY };
        if dl <= dr {
            dist = dl;
            left -= 1;
        } else {
            dist = dr;
            right += 1;
        }
    }
    dist
}

/// Number of values of `sorted` with |s - v| < d, or with s = v when d = 0 (scikit-learn counts
/// distances up to the float just below d, which for d = 0 is 0 itself), counted outwards from
/// v's position: the rounded distance is monotone on each side of v, so each scan stops at its
/// first miss.
fn count_within(sorted: &[f64], v: f64, d: f64) -> usize {
    let inside = |dist: f64| dist < d || dist == 0.0;
    let pos = sorted.partition_point(|&s| s < v);
    let below = sorted[..pos].iter().rev().take_while(|&&s| inside(v - s)).count();
    let above = sorted[pos..].iter().take_while(|&&s| inside(s - v)).count();
    below + above
}

/// Mutual information of each column of `x` with `y` as scikit-learn's `mutual_info_classif`:
/// each column is divided by its (population) standard deviation, noise
/// 1e-10 max(1, mean |scaled column|) N(0, 1) is added to break ties, and [`mutual_info_cd`]
/// with `k` neighbours estimates it. Column j's noise draws from
/// `Stream::derive(seed, "mutual-info", task + [j])`, not from numpy's generator, so on columns
/// with ties the result matches scikit-learn's only in distribution: the noise moves it by as
/// much as scikit-learn's own `random_state` does (up to ~0.015 nats on WDBC, nothing on tables
/// without ties).
pub fn mutual_info_classif(x: &Matrix, y: &[usize], k: usize, seed: u64, task: &[u64]) -> Vec<f64> {
    (0..x.cols())
        .into_par_iter()
        .map(|j| {
            let mut col = x.col(j);
            let n = col.len() as f64;
            let mean = col.iter().sum::<f64>() / n;
            let sd = (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            if sd > 0.0 {
                col.iter_mut().for_each(|v| *v /= sd);
            }
            let scale = 1e-10 * (col.iter().map(|v| v.abs()).sum::<f64>() / n).max(1.0);
            let ids: Vec<u64> = task.iter().copied().chain([j as u64]).collect();
            let mut rng = Stream::derive(seed, "mutual-info", &ids);
            col.iter_mut().for_each(|v| *v += scale * rng.normal());
            mutual_info_cd(&col, y, k)
        })
        .collect()
}

/// `mutual-info`: features ranked by [`mutual_info_classif`] with `neighbours` = 3 by default.
#[derive(Clone, Debug)]
pub struct MutualInfo {
    pub keep: usize,
    pub neighbours: usize,
}

impl Selector for MutualInfo {
    fn name(&self) -> &str {
        "mutual-info"
    }

    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        seed: u64,
        task: &[u64],
        _on_round: Option<OnRound<'_>>,
    ) -> Result<Selection> {
        super::check_keep(self.keep, x, y)?;
        let mi = mutual_info_classif(x, y, self.neighbours, seed, task);
        Ok(Selection::from_scores(&mi, self.keep))
    }
}
