//! Preprocessing fitted on a training part: the [`Scaler`] (median imputation of missing cells,
//! then z-scores) and [`smote`] oversampling.
//!
//! Both steps learn from the rows they are given and nothing else. The cross-validation driver
//! (in `eval` and the CLI) decides which rows those are; keeping that decision out of this module
//! is what lets the nested protocol fit the scaler and SMOTE on outer training rows only, so that
//! no test row, and no synthetic neighbour of a test row, ever shapes the model. This module
//! knows nothing of folds, networks or feature selection.
//!
//! Every sum runs over rows in their stored order, so the same input gives the same bits on any
//! machine and thread count; SMOTE draws all its randomness from the [`Stream`] it is handed.

use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::rng::Stream;
use std::cmp::Ordering;

/// Per-column median imputation then standardisation `x' = (x - mean) / std`, as
/// scikit-learn's `SimpleImputer(strategy="median")` followed by `StandardScaler`.
///
/// `median` is the median of each column's non-NaN training values (the mean of the two middle
/// values for an even count); NaN cells, in the training rows and in any row transformed later,
/// are replaced by it before scaling, and `mean` and `std` are those of the imputed training
/// column. Tables without missing cells are unaffected. A column with no value at all in the
/// training rows gets median 0.
///
/// `std` is the population standard deviation (divisor n, not n - 1). A column whose (imputed)
/// training values are all equal has no spread to divide by: its `std` is set to 1 and its
/// `mean` to that value exactly, so it maps to 0 on the training rows, and its index is listed in
/// `zero_variance` so that callers can report or drop it. Test rows keep their offset from that
/// value: `x - mean`, unscaled.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// Columns (in this scaler's column order, ascending) that were constant when fitted.
    pub zero_variance: Vec<usize>,
    /// Training medians imputed for NaN cells. `None` only for a scaler read from a model file
    /// that records no medians; its [`Scaler::transform`] leaves NaN cells as they are.
    pub median: Option<Vec<f64>>,
}

impl Scaler {
    /// Fit on the rows of `x` (n x d); NaN cells are missing values.
    ///
    /// Note that a column is treated as zero-variance when all its values are exactly equal,
    /// rather than when its computed variance is zero: the mean of a constant column such as
    /// 0.1 repeated is not always exactly 0.1 in floating point, which would leave a variance
    /// of about 1e-34 and a division by its square root. With no rows at all, every column is
    /// zero-variance with mean 0.
    pub fn fit(x: &Matrix) -> Scaler {
        let (n, d) = (x.rows(), x.cols());

        // Step 1: medians of the non-NaN values, then the imputed copy if anything is missing.
        let median: Vec<f64> = (0..d).map(|j| median_of(x, j)).collect();
        let imputed;
        let x = if x.as_slice().iter().any(|v| v.is_nan()) {
            imputed = impute(x, &median);
            &imputed
        } else {
            x
        };

        // Step 2: column means, summing rows in order.
        let mut mean = vec![0.0; d];
        for i in 0..n {
            for (m, &v) in mean.iter_mut().zip(x.row(i)) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n as f64;
        }

        // Step 3: population variance by the two-pass formula sum((x - mean)^2) / n, which
        // does not lose precision the way E[x^2] - E[x]^2 does on columns with a large offset.
        let mut var = vec![0.0; d];
        for i in 0..n {
            for ((s, &v), &m) in var.iter_mut().zip(x.row(i)).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }

        // Step 4: constant columns get std 1 and their exact value as mean.
        let mut std = Vec::with_capacity(d);
        let mut zero_variance = Vec::new();
        for j in 0..d {
            let first = if n > 0 { x.get(0, j) } else { 0.0 };
            let constant = (0..n).all(|i| x.get(i, j) == first);
            if constant {
                mean[j] = first;
                std.push(1.0);
                zero_variance.push(j);
            } else {
                std.push((var[j] / n as f64).sqrt());
            }
        }

        Scaler { mean, std, zero_variance, median: Some(median) }
    }

    /// NaN cells replaced by the training medians (when known), then `(x - mean) / std`, column
    /// by column. Panics if `x` has a different column count.
    pub fn transform(&self, x: &Matrix) -> Matrix {
        assert_eq!(x.cols(), self.mean.len(), "scaler fitted on a different number of columns");
        let mut out = match &self.median {
            Some(median) => impute(x, median),
            None => x.clone(),
        };
        for i in 0..out.rows() {
            for ((v, &m), &s) in out.row_mut(i).iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        out
    }

    /// The scaler restricted to columns `idx`, in that order, as if it had been fitted on
    /// `x.select_cols(idx)`. `zero_variance` is renumbered to positions within `idx`.
    pub fn select(&self, idx: &[usize]) -> Scaler {
        let mean = idx.iter().map(|&j| self.mean[j]).collect();
        let std = idx.iter().map(|&j| self.std[j]).collect();
        let zero_variance = idx
            .iter()
            .enumerate()
            .filter(|&(_, j)| self.zero_variance.contains(j))
            .map(|(pos, _)| pos)
            .collect();
        let median = self.median.as_ref().map(|m| idx.iter().map(|&j| m[j]).collect());
        Scaler { mean, std, zero_variance, median }
    }

    /// Number of columns the scaler was fitted on.
    pub fn cols(&self) -> usize {
        self.mean.len()
    }
}

/// The median of the non-NaN values of column `j` (mean of the two middle ones for an even
/// count, as numpy's `median`); 0 when the column has none.
fn median_of(x: &Matrix, j: usize) -> f64 {
    let mut v: Vec<f64> = (0..x.rows()).map(|i| x.get(i, j)).filter(|v| !v.is_nan()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let h = v.len() / 2;
    if v.len() % 2 == 1 {
        return v[h];
    }
    // (a + b) / 2 as numpy computes it; halving first only where the sum would overflow.
    let mid = (v[h - 1] + v[h]) / 2.0;
    if mid.is_finite() { mid } else { v[h - 1] / 2.0 + v[h] / 2.0 }
}

/// A copy of `x` with every NaN cell of column j replaced by `median[j]`.
fn impute(x: &Matrix, median: &[f64]) -> Matrix {
    let mut out = x.clone();
    for i in 0..out.rows() {
        for (v, &m) in out.row_mut(i).iter_mut().zip(median) {
            if v.is_nan() {
                *v = m;
            }
        }
    }
    out
}

/// Settings of [`smote`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmoteConfig {
    /// Number of nearest minority neighbours each minority row may interpolate towards.
    pub k: usize,
}

impl Default for SmoteConfig {
    /// imbalanced-learn's default, `k_neighbors = 5`.
    fn default() -> SmoteConfig {
        SmoteConfig { k: 5 }
    }
}

/// Oversample the minority class of a two-class table (labels 0 and 1) to the size of the
/// majority class with SMOTE (Chawla et al. 2002), following imbalanced-learn's defaults.
///
/// For each minority row its `k` nearest minority neighbours are found (Euclidean distance, the
/// row itself excluded, equal distances broken by the lower row index). Then each of the
/// `n_major - n_minor` synthetic rows draws one pair (row i, neighbour j) uniformly among the
/// `n_minor * k` pairs, as imbalanced-learn draws one index into the flattened neighbour table,
/// and a step u ~ U[0, 1), and is `x_i + u (x_j - x_i)`: a point on the segment from x_i to x_j.
/// The pair index and u are drawn from `rng` in that order, one synthetic row after another.
///
/// Returns all original rows in their order followed by the synthetic rows, and the labels
/// likewise, so rows `>= x.rows()` of the result are synthetic. When both classes have the
/// same number of rows there is nothing to do and copies of the inputs are returned.
///
/// Distances are taken on the features as given, so pass standardised features: otherwise the
/// column with the largest units decides who is a neighbour.
///
/// # Errors
/// `Error::usage` when `k` is 0; `Error::data` when a label is not 0 or 1, or when the minority
/// class has fewer than `k + 1` rows (each row needs `k` neighbours other than itself).
///
/// # Panics
/// If `y.len() != x.rows()`.
///
/// # Limitations
/// The neighbour search is brute force, O(n_minor^2 d) time and O(n_minor^2) memory, which is
/// nothing for a few hundred rows but would want a tree or a blocked search at tens of thousands.
pub fn smote(
    x: &Matrix,
    y: &[usize],
    cfg: &SmoteConfig,
    rng: &mut Stream,
) -> Result<(Matrix, Vec<usize>)> {
    assert_eq!(x.rows(), y.len(), "smote: x has {} rows but y has {} labels", x.rows(), y.len());
    let k = cfg.k;
    if k == 0 {
        return Err(Error::usage("--smote-k must be at least 1"));
    }

    // Step 1: class counts and the minority class.
    let mut counts = [0usize; 2];
    for &c in y {
        if c > 1 {
            return Err(Error::data(format!(
                "SMOTE handles two classes labelled 0 and 1, found label {c}"
            )));
        }
        counts[c] += 1;
    }
    if counts[0] == counts[1] {
        return Ok((x.clone(), y.to_vec()));
    }
    let minority = if counts[0] < counts[1] { 0 } else { 1 };
    let n_min = counts[minority];
    let n_new = counts[1 - minority] - n_min;
    if n_min < k + 1 {
        return Err(Error::data(format!(
            "SMOTE needs at least k+1 = {} rows of the minority class in each training part, \
             found {n_min} of class {minority}: use --balance none or a smaller --smote-k",
            k + 1
        )));
    }

    // Step 2: pairwise squared distances among minority rows (n_min x n_min). The square root
    // is monotone, so it does not change who is nearest and is skipped.
    let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == minority).collect();
    let mut dist = vec![0.0; n_min * n_min];
    for a in 0..n_min {
        for b in (a + 1)..n_min {
            let d2: f64 =
                x.row(rows[a]).iter().zip(x.row(rows[b])).map(|(p, q)| (p - q) * (p - q)).sum();
            dist[a * n_min + b] = d2;
            dist[b * n_min + a] = d2;
        }
    }

    // Step 3: the neighbour table (n_min x k), in minority positions. Sorting by (distance,
    // position) breaks ties by the lower index; positions ascend with row indices. total_cmp
    // gives NaN distances (from NaN features) a place at the end rather than a panic.
    let mut neighbours = Vec::with_capacity(n_min * k);
    let mut order: Vec<usize> = Vec::with_capacity(n_min);
    for a in 0..n_min {
        order.clear();
        order.extend((0..n_min).filter(|&b| b != a));
        let da = &dist[a * n_min..(a + 1) * n_min];
        order.sort_by(|&p, &q| match da[p].total_cmp(&da[q]) {
            Ordering::Equal => p.cmp(&q),
            other => other,
        });
        neighbours.extend_from_slice(&order[..k]);
    }

    // Step 4: synthetic rows x_i + u (x_j - x_i), appended after the originals.
    let mut out = x.clone();
    let mut labels = y.to_vec();
    let mut new_row = vec![0.0; x.cols()];
    for _ in 0..n_new {
        let pair = rng.below(n_min * k);
        let xi = x.row(rows[pair / k]);
        let xj = x.row(rows[neighbours[pair]]);
        let u = rng.uniform();
        for ((v, &a), &b) in new_row.iter_mut().zip(xi).zip(xj) {
            *v = a + u * (b - a);
        }
        out.push_row(&new_row);
        labels.push(minority);
    }

    Ok((out, labels))
}
