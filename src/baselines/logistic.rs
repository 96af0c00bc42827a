//! Logistic regression, written out: L2-penalised by Newton's method with a backtracking line
//! search, L1-penalised by coordinate descent on the penalised quadratic (IRLS) approximation.
//!
//! Both take rows as given (callers standardise them), fit an unpenalised intercept, and use
//! labels 0 and 1. The L2 objective is scikit-learn's `LogisticRegression(C=c)`:
//!   sum_i [log(1 + exp(z_i)) - y_i z_i] + ||w||^2 / (2 c),   z_i = w . x_i + b,
//! and the L1 objective glmnet's:
//!   (1/n) sum_i [log(1 + exp(z_i)) - y_i z_i] + lambda ||w||_1.
//! Every sum runs over rows, then columns, in stored order, so fits are bit-reproducible.

use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::nn::{Dense, Mlp};

/// A fitted logistic regression: P(y = 1 | x) = 1 / (1 + exp(-(w . x + b))).
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticFit {
    pub weights: Vec<f64>,
    pub intercept: f64,
    /// The minimised objective.
    pub loss: f64,
    /// Newton (L2) or outer IRLS (L1) iterations taken.
    pub iterations: usize,
}

impl LogisticFit {
    /// w . x_i + b for every row.
    pub fn linear(&self, x: &Matrix) -> Vec<f64> {
        (0..x.rows()).map(|i| dot(x.row(i), &self.weights) + self.intercept).collect()
    }

    /// P(class 1) for every row.
    pub fn predict_proba(&self, x: &Matrix) -> Vec<f64> {
        self.linear(x).into_iter().map(sigmoid).collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// 1 / (1 + exp(-z)), without overflow for large |z|.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// log(1 + exp(z)) - y z, computed stably.
fn log_loss(z: f64, y: f64) -> f64 {
    let softplus = if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() };
    softplus - y * z
}

fn check(x: &Matrix, y: &[usize]) -> Result<()> {
    if x.rows() != y.len() {
        return Err(Error::usage("logistic regression: rows and labels differ in number"));
    }
    if x.rows() == 0 || x.cols() == 0 {
        return Err(Error::data("logistic regression needs at least one row and one column"));
    }
    if y.iter().any(|&t| t > 1) {
        return Err(Error::data("logistic regression needs labels 0 and 1"));
    }
    if x.as_slice().iter().any(|v| !v.is_finite()) {
        return Err(Error::data("logistic regression needs finite inputs"));
    }
    Ok(())
}

/// L2-penalised logistic regression with inverse penalty `c` (scikit-learn's `C`).
pub fn fit_l2(x: &Matrix, y: &[usize], c: f64) -> Result<LogisticFit> {
    fit_l2_from(x, y, c, None)
}

/// [`fit_l2`] with row weights `w` (all 1 when `None`): minimises
/// sum_i w_i log-loss_i + ||w||^2 / (2 C), scikit-learn's `sample_weight` semantics, so that a
/// row of weight 2 counts as that row twice.
pub fn fit_l2_weighted(x: &Matrix, y: &[usize], w: Option<&[f64]>, c: f64) -> Result<LogisticFit> {
    fit(x, y, w, c, None)
}

/// [`fit_l2`] started from `start` = (weights, intercept), e.g. the previous fit of recursive
/// elimination with the eliminated columns removed. The optimum does not depend on the start.
pub fn fit_l2_from(
    x: &Matrix,
    y: &[usize],
    c: f64,
    start: Option<(&[f64], f64)>,
) -> Result<LogisticFit> {
    fit(x, y, None, c, start)
}

/// Newton's method with backtracking on the row-weighted, L2-penalised log-loss.
fn fit(
    x: &Matrix,
    y: &[usize],
    row_weight: Option<&[f64]>,
    c: f64,
    start: Option<(&[f64], f64)>,
) -> Result<LogisticFit> {
    check(x, y)?;
    if let Some(w) = row_weight
        && (w.len() != y.len() || w.iter().any(|v| !(v.is_finite() && *v > 0.0)))
    {
        return Err(Error::usage("row weights must be finite, positive, one per row"));
    }
    let rw = |i: usize| row_weight.map_or(1.0, |w| w[i]);
    if !(c > 0.0 && c.is_finite()) {
        return Err(Error::usage(format!("the inverse penalty C must be > 0, got {c}")));
    }
    let (n, d) = (x.rows(), x.cols());
    let yf: Vec<f64> = y.iter().map(|&t| t as f64).collect();
    // theta = (w_0 .. w_{d-1}, b).
    let mut theta = vec![0.0; d + 1];
    if let Some((w, b)) = start {
        theta[..d].copy_from_slice(w);
        theta[d] = b;
    }
    let objective = |theta: &[f64]| {
        let (w, b) = (&theta[..d], theta[d]);
        let data: f64 = (0..n).map(|i| rw(i) * log_loss(dot(x.row(i), w) + b, yf[i])).sum();
        data + dot(w, w) / (2.0 * c)
    };
    let mut f = objective(&theta);
    let mut iterations = 0;
    for it in 0..200 {
        iterations = it + 1;
        // Gradient g = [X 1]^T W (p - y) + [w / c, 0]; Hessian H = [X 1]^T W S [X 1] +
        // diag(1/c, .., 0) with S = diag(p (1 - p)) and W the row weights. Only the upper triangle of H is accumulated.
        let mut g = vec![0.0; d + 1];
        let mut h = vec![0.0; (d + 1) * (d + 1)];
        let mut xi = vec![1.0; d + 1];
        for (i, &yi) in yf.iter().enumerate() {
            xi[..d].copy_from_slice(x.row(i));
            let p = sigmoid(dot(&xi[..d], &theta[..d]) + theta[d]);
            let r = rw(i) * (p - yi);
            let s = rw(i) * p * (1.0 - p);
            for a in 0..=d {
                g[a] += r * xi[a];
                let sa = s * xi[a];
                let row = &mut h[a * (d + 1)..(a + 1) * (d + 1)];
                for b in a..=d {
                    row[b] += sa * xi[b];
                }
            }
        }
        for a in 0..d {
            g[a] += theta[a] / c;
            h[a * (d + 1) + a] += 1.0 / c;
        }
        let gmax = g.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        if gmax < 1e-10 * (1.0 + f.abs()) {
            break;
        }
        for a in 0..=d {
            for b in 0..a {
                h[a * (d + 1) + b] = h[b * (d + 1) + a];
            }
        }
        // The intercept's diagonal is 0 only when every p is exactly 0 or 1; a tiny ridge keeps
        // the factorisation defined without moving the optimum.
        h[d * (d + 1) + d] += 1e-12;
        let step = cholesky_solve(&mut h, &g, d + 1)
            .ok_or_else(|| Error::run("logistic regression: the Hessian is not positive"))?;

        // Backtracking: halve the Newton step until the objective decreases enough (Armijo).
        let slope: f64 = -dot(&g, &step);
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            let trial: Vec<f64> = theta.iter().zip(&step).map(|(a, s)| a - t * s).collect();
            let ft = objective(&trial);
            if ft <= f + 1e-4 * t * slope {
                accepted = Some((trial, ft));
                break;
            }
            t *= 0.5;
        }
        // No decrease left to find: the step is below rounding.
        let Some((trial, ft)) = accepted else { break };
        theta = trial;
        f = ft;
    }
    if !f.is_finite() {
        return Err(Error::run("logistic regression diverged"));
    }
    Ok(LogisticFit { weights: theta[..d].to_vec(), intercept: theta[d], loss: f, iterations })
}

/// Solve H s = g for symmetric positive definite H (m x m, row-major, overwritten by its
/// Cholesky factor). `None` if H is not positive definite.
fn cholesky_solve(h: &mut [f64], g: &[f64], m: usize) -> Option<Vec<f64>> {
    // H = L L^T, L stored in the lower triangle.
    for j in 0..m {
        let mut diag = h[j * m + j];
        for k in 0..j {
            diag -= h[j * m + k] * h[j * m + k];
        }
        if diag.is_nan() || diag <= 0.0 {
            return None;
        }
        let ljj = diag.sqrt();
        h[j * m + j] = ljj;
        for i in j + 1..m {
            let mut v = h[i * m + j];
            for k in 0..j {
                v -= h[i * m + k] * h[j * m + k];
            }
            h[i * m + j] = v / ljj;
        }
    }
    // L u = g, then L^T s = u.
    let mut u = g.to_vec();
    for i in 0..m {
        for k in 0..i {
            u[i] -= h[i * m + k] * u[k];
        }
        u[i] /= h[i * m + i];
    }
    for i in (0..m).rev() {
        for k in i + 1..m {
            u[i] -= h[k * m + i] * u[k];
        }
        u[i] /= h[i * m + i];
    }
    Some(u)
}

/// The smallest L1 penalty at which every weight is zero: max_j |(1/n) sum_i x_ij (y_i - ybar)|.
pub fn lambda_max(x: &Matrix, y: &[usize]) -> f64 {
    let n = x.rows() as f64;
    let ybar = y.iter().sum::<usize>() as f64 / n;
    let mut g = vec![0.0; x.cols()];
    for (i, &yi) in y.iter().enumerate() {
        let r = yi as f64 - ybar;
        for (gj, v) in g.iter_mut().zip(x.row(i)) {
            *gj += v * r;
        }
    }
    g.iter().fold(0.0_f64, |m, v| m.max((v / n).abs()))
}

/// L1-penalised logistic regression at penalty `lambda`, started from `start` (warm start along
/// a path; `None` = all zero with the intercept at the log-odds of the labels).
///
/// Each outer iteration forms the quadratic approximation of the data term at the current fit
/// (weights s_i = p_i (1 - p_i), working response z_i = eta_i + (y_i - p_i) / s_i) and
/// minimises it plus the penalty by cyclic coordinate descent with soft thresholding:
///   w_j <- S((1/n) sum_i s_i x_ij r_i + v_j w_j, lambda) / v_j,  v_j = (1/n) sum_i s_i x_ij^2,
/// r being the working residual. The outer step is halved until the true objective decreases.
pub fn fit_l1(
    x: &Matrix,
    y: &[usize],
    lambda: f64,
    start: Option<&LogisticFit>,
) -> Result<LogisticFit> {
    check(x, y)?;
    let (n, d) = (x.rows(), x.cols());
    let nf = n as f64;
    let yf: Vec<f64> = y.iter().map(|&t| t as f64).collect();
    let (mut w, mut b) = match start {
        Some(s) => (s.weights.clone(), s.intercept),
        None => {
            let ybar = (yf.iter().sum::<f64>() / nf).clamp(1e-6, 1.0 - 1e-6);
            (vec![0.0; d], (ybar / (1.0 - ybar)).ln())
        }
    };
    let objective = |w: &[f64], b: f64| {
        let data: f64 = (0..n).map(|i| log_loss(dot(x.row(i), w) + b, yf[i])).sum::<f64>() / nf;
        data + lambda * w.iter().map(|v| v.abs()).sum::<f64>()
    };
    // Column-major copy for the coordinate sweeps.
    let cols: Vec<Vec<f64>> = (0..d).map(|j| x.col(j)).collect();
    let mut f = objective(&w, b);
    let mut iterations = 0;
    for it in 0..100 {
        iterations = it + 1;
        let eta: Vec<f64> = (0..n).map(|i| dot(x.row(i), &w) + b).collect();
        let p: Vec<f64> = eta.iter().map(|&e| sigmoid(e)).collect();
        let s: Vec<f64> = p.iter().map(|&q| (q * (1.0 - q)).max(1e-5)).collect();
        let mut r: Vec<f64> = (0..n).map(|i| (yf[i] - p[i]) / s[i]).collect();
        let v: Vec<f64> = cols
            .iter()
            .map(|c| c.iter().zip(&s).map(|(x, s)| s * x * x).sum::<f64>() / nf)
            .collect();
        let s_total: f64 = s.iter().sum();

        let (mut w_new, mut b_new) = (w.clone(), b);
        for _sweep in 0..1000 {
            let mut max_change = 0.0_f64;
            let db = dot(&s, &r) / s_total;
            b_new += db;
            r.iter_mut().for_each(|ri| *ri -= db);
            max_change = max_change.max(db.abs());
            for j in 0..d {
                if v[j] == 0.0 {
                    continue;
                }
                let col = &cols[j];
                let rho: f64 = col.iter().zip(&s).zip(&r).map(|((x, s), r)| s * x * r).sum::<f64>()
                    / nf
                    + v[j] * w_new[j];
                let updated = soft_threshold(rho, lambda) / v[j];
                let delta = updated - w_new[j];
                if delta != 0.0 {
                    col.iter().zip(r.iter_mut()).for_each(|(x, ri)| *ri -= delta * x);
                    w_new[j] = updated;
                    max_change = max_change.max(v[j] * delta * delta);
                }
            }
            if max_change < 1e-14 {
                break;
            }
        }

        // Accept the step, halving it if the true objective went up.
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let wt: Vec<f64> = w.iter().zip(&w_new).map(|(a, c)| a + t * (c - a)).collect();
            let bt = b + t * (b_new - b);
            let ft = objective(&wt, bt);
            if ft <= f + 1e-12 * (1.0 + f.abs()) {
                accepted = Some((wt, bt, ft));
                break;
            }
            t *= 0.5;
        }
        let Some((wt, bt, ft)) = accepted else { break };
        let change = w.iter().zip(&wt).fold((b - bt).abs(), |m, (a, c)| m.max((a - c).abs()));
        w = wt;
        b = bt;
        let improvement = f - ft;
        f = ft;
        if change < 1e-9 || improvement < 1e-15 * (1.0 + f.abs()) {
            break;
        }
    }
    if !f.is_finite() {
        return Err(Error::run("L1 logistic regression diverged"));
    }
    Ok(LogisticFit { weights: w, intercept: b, loss: f, iterations })
}

fn soft_threshold(z: f64, t: f64) -> f64 {
    if z > t {
        z - t
    } else if z < -t {
        z + t
    } else {
        0.0
    }
}

/// The gradient of the L1 fit's data term, (1/n) X^T (p - y), whose magnitude says how close a
/// zero weight is to entering the model (it enters once the gradient reaches lambda).
pub fn data_gradient(fit: &LogisticFit, x: &Matrix, y: &[usize]) -> Vec<f64> {
    let p = fit.predict_proba(x);
    let mut g = vec![0.0; x.cols()];
    for (i, (&pi, &yi)) in p.iter().zip(y).enumerate() {
        let r = pi - yi as f64;
        for (gj, v) in g.iter_mut().zip(x.row(i)) {
            *gj += v * r;
        }
    }
    let n = x.rows() as f64;
    g.iter().map(|v| v / n).collect()
}

/// The fit as a network without hidden layers whose logits are (0, w . x + b), so that softmax
/// P(class 1) = sigmoid(w . x + b): the pipeline, the model file and `explain` then treat it
/// like any other network.
pub fn as_network(fit: &LogisticFit) -> Result<Mlp> {
    let d = fit.weights.len();
    let mut weight = vec![0.0; d];
    weight.extend_from_slice(&fit.weights);
    Mlp::from_layers(vec![Dense { inputs: d, outputs: 2, weight, bias: vec![0.0, fit.intercept] }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_of_weight_two_counts_as_that_row_twice() {
        let (x, y) = toy();
        let mut w = vec![1.0; y.len()];
        let doubled: Vec<usize> = vec![3, 11, 27];
        for &i in &doubled {
            w[i] = 2.0;
        }
        let weighted = fit_l2_weighted(&x, &y, Some(&w), 0.7).unwrap();
        let mut idx: Vec<usize> = (0..y.len()).collect();
        idx.extend(&doubled);
        let y2: Vec<usize> = idx.iter().map(|&i| y[i]).collect();
        let copied = fit_l2(&x.select_rows(&idx), &y2, 0.7).unwrap();
        for (a, b) in weighted.weights.iter().zip(&copied.weights) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!((weighted.intercept - copied.intercept).abs() < 1e-9);
        assert!((weighted.loss - copied.loss).abs() < 1e-9 * copied.loss);
        // Unit weights are the unweighted fit, and bad weights are refused.
        let ones = fit_l2_weighted(&x, &y, Some(&vec![1.0; y.len()]), 0.7).unwrap();
        assert_eq!(ones.weights, fit_l2(&x, &y, 0.7).unwrap().weights);
        assert!(fit_l2_weighted(&x, &y, Some(&[1.0]), 0.7).is_err());
    }

    fn toy() -> (Matrix, Vec<usize>) {
        let rows: Vec<Vec<f64>> = (0..40)
            .map(|i| {
                let a = (i as f64 * 0.37).sin() * 2.0;
                let b = (i as f64 * 1.13).cos();
                vec![a, b, a * 0.5 - b]
            })
            .collect();
        let y = (0..40)
            .map(|i| usize::from((i as f64 * 0.37).sin() + 0.3 * (i as f64).cos() > 0.0))
            .collect();
        (Matrix::from_rows(&rows), y)
    }

    #[test]
    fn l2_optimum_has_zero_gradient() {
        let (x, y) = toy();
        let fit = fit_l2(&x, &y, 0.7).unwrap();
        // Stationarity: X^T (p - y) + w / c = 0 and sum (p - y) = 0.
        let p = fit.predict_proba(&x);
        let mut g = vec![0.0; 3];
        let mut gb = 0.0;
        for i in 0..40 {
            let r = p[i] - y[i] as f64;
            g.iter_mut().zip(x.row(i)).for_each(|(gj, v)| *gj += v * r);
            gb += r;
        }
        for (gj, wj) in g.iter().zip(&fit.weights) {
            assert!((gj + wj / 0.7).abs() < 1e-8, "{g:?} {:?}", fit.weights);
        }
        assert!(gb.abs() < 1e-8);
        // A warm start reaches the same optimum.
        let warm = fit_l2_from(&x, &y, 0.7, Some((&[1.0, -1.0, 0.5], 2.0))).unwrap();
        for (a, b) in warm.weights.iter().zip(&fit.weights) {
            assert!((a - b).abs() < 1e-8);
        }
    }

    #[test]
    fn l1_optimum_satisfies_the_subgradient_conditions() {
        let (x, y) = toy();
        let lambda = 0.3 * lambda_max(&x, &y);
        let fit = fit_l1(&x, &y, lambda, None).unwrap();
        let g = data_gradient(&fit, &x, &y);
        for (gj, wj) in g.iter().zip(&fit.weights) {
            if *wj == 0.0 {
                assert!(gj.abs() <= lambda + 1e-7, "{gj} > {lambda}");
            } else {
                assert!((gj + lambda * wj.signum()).abs() < 1e-6, "{gj} {wj}");
            }
        }
        assert!(fit.weights.iter().any(|w| *w != 0.0));
        let zero = fit_l1(&x, &y, lambda_max(&x, &y) * 1.0001, None).unwrap();
        assert!(zero.weights.iter().all(|w| *w == 0.0), "{:?}", zero.weights);
    }

    #[test]
    fn the_network_form_predicts_the_same_probabilities() {
        let (x, y) = toy();
        let fit = fit_l2(&x, &y, 1.0).unwrap();
        let net = as_network(&fit).unwrap();
        for (a, b) in net.predict_proba(&x).iter().zip(fit.predict_proba(&x)) {
            assert!((a - b).abs() < 1e-14);
        }
    }
}
