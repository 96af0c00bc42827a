//! The few statistics the report draws or tabulates: intervals for cross-validated means, ROC
//! curve points and histograms.

use crate::eval::Summary;

/// The two-sided 95% quantile of Student's t distribution with `df` degrees of freedom (the t
/// with P(|T| <= t) = 0.95), or NaN for `df == 0`.
///
/// P(|T| <= t) has a closed form for integer df (Abramowitz & Stegun 26.7.3-4): with
/// θ = atan(t / sqrt(df)), c = cos θ, s = sin θ,
/// - odd df: (2/π) (θ + s (c + (2/3) c^3 + (2·4)/(3·5) c^5 + ... up to c^(df-2))), or 2θ/π for
///   df = 1;
/// - even df: s (1 + (1/2) c^2 + (1·3)/(2·4) c^4 + ... up to c^(df-2)).
///
/// It rises with t, so bisection on [0, 10^4] finds the quantile to well below 1e-9.
pub fn t_quantile_95(df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    let cdf = |t: f64| -> f64 {
        let nu = df as f64;
        let theta = (t / nu.sqrt()).atan();
        let (s, c) = theta.sin_cos();
        if df % 2 == 1 {
            let mut sum = 0.0;
            if df > 1 {
                let mut term = c;
                sum = term;
                let mut k = 3;
                while k < df {
                    term *= c * c * (k - 1) as f64 / k as f64;
                    sum += term;
                    k += 2;
                }
            }
            2.0 / std::f64::consts::PI * (theta + s * sum)
        } else {
            let mut term = 1.0;
            let mut sum = 1.0;
            let mut k = 2;
            while k < df {
                term *= c * c * (k - 1) as f64 / k as f64;
                sum += term;
                k += 2;
            }
            s * sum
        }
    };
    let (mut lo, mut hi) = (0.0, 1e4);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A 95% interval for the mean of a metric over the `folds` x `repeats` cross-validation folds,
/// with Nadeau and Bengio's correction for the overlap of training sets:
///
/// mean ± t_(J-1) sqrt((1/J + n_test/n_train) sd^2), J = folds x repeats,
/// n_test/n_train = 1/(folds - 1).
///
/// The plain t interval (1/J alone) treats folds as independent samples, which they are not:
/// every two training sets share most rows, so it is too narrow. The correction widens it by the
/// test-to-training size ratio. `None` when fewer than two finite fold values exist or
/// `folds < 2`.
///
/// # Limitations
/// The correction is a heuristic: it takes the correlation between two folds' scores to be
/// n_test / n. Intervals are not clipped, so a metric bounded by [0, 1] can get an end outside.
pub fn cv_interval(s: &Summary, folds: usize) -> Option<(f64, f64)> {
    if s.n < 2 || folds < 2 || !s.mean.is_finite() || !s.sd.is_finite() {
        return None;
    }
    let j = s.n as f64;
    let half = t_quantile_95(s.n - 1) * ((1.0 / j + 1.0 / (folds - 1) as f64) * s.sd * s.sd).sqrt();
    Some((s.mean - half, s.mean + half))
}

/// The ROC curve of scores `p` for labels `y` (0/1): (false positive rate, true positive rate)
/// from (0, 0) to (1, 1), one point per distinct score, highest score first. Tied scores move
/// the curve diagonally, so the trapezoid area under the points equals the midrank AUC. Empty
/// when a class is absent.
pub fn roc_points(y: &[usize], p: &[f64]) -> Vec<(f64, f64)> {
    let n1 = y.iter().filter(|&&v| v == 1).count();
    let n0 = y.len() - n1;
    if n0 == 0 || n1 == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && p[order[j]].total_cmp(&p[order[i]]).is_eq() {
            if y[order[j]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        points.push((fp as f64 / n0 as f64, tp as f64 / n1 as f64));
        i = j;
    }
    points
}

/// Counts of `values` in `bins` equal bins over [lo, hi]; values outside go to the end bins.
pub fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    if bins == 0 || hi <= lo {
        return counts;
    }
    let w = (hi - lo) / bins as f64;
    for &v in values.iter().filter(|v| v.is_finite()) {
        let b = ((v - lo) / w).floor();
        let b = if b < 0.0 { 0 } else { (b as usize).min(bins - 1) };
        counts[b] += 1;
    }
    counts
}

/// The mean and the population standard deviation of `values`, summed in order.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::roc_auc;

    #[test]
    fn t_quantiles_match_closed_forms_and_tables() {
        // df = 1: Cauchy, t = tan(0.475 π). df = 2: P(|T| <= t) = t / sqrt(2 + t^2), so
        // t^2 = 2 q^2 / (1 - q^2) with q = 0.95.
        assert!((t_quantile_95(1) - (0.475 * std::f64::consts::PI).tan()).abs() < 1e-9);
        assert!((t_quantile_95(2) - (2.0 * 0.9025 / (1.0 - 0.9025f64)).sqrt()).abs() < 1e-9);
        // Printed t tables, three decimals.
        for (df, t) in [(4, 2.776), (9, 2.262), (24, 2.064), (120, 1.980)] {
            assert!((t_quantile_95(df) - t).abs() < 5e-4, "df {df}: {}", t_quantile_95(df));
        }
        // Towards the normal quantile 1.959964 as df grows.
        assert!((t_quantile_95(100_001) - 1.959964).abs() < 1e-4);
        assert!(t_quantile_95(0).is_nan());
    }

    #[test]
    fn cv_interval_is_the_corrected_t_interval() {
        let s = Summary { mean: 0.8, sd: 0.05, n: 5 };
        let (lo, hi) = cv_interval(&s, 5).unwrap();
        let half = 2.776445 * ((0.2f64 + 0.25) * 0.0025).sqrt();
        assert!((lo - (0.8 - half)).abs() < 1e-5 && (hi - (0.8 + half)).abs() < 1e-5);
        assert!(cv_interval(&Summary { mean: 0.8, sd: 0.0, n: 1 }, 5).is_none());
    }

    #[test]
    fn roc_area_equals_the_midrank_auc_with_ties() {
        let y = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0];
        let p = [0.1, 0.4, 0.4, 0.4, 0.9, 0.2, 0.9, 0.7, 0.3, 0.3];
        let pts = roc_points(&y, &p);
        assert_eq!(pts.first(), Some(&(0.0, 0.0)));
        assert_eq!(pts.last(), Some(&(1.0, 1.0)));
        let area: f64 = pts.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum();
        assert!((area - roc_auc(&y, &p)).abs() < 1e-12, "{area}");
        assert!(roc_points(&[1, 1], &[0.2, 0.3]).is_empty());
    }

    #[test]
    fn histogram_clamps_to_the_end_bins() {
        assert_eq!(histogram(&[-9.0, 0.0, 0.49, 0.5, 1.0, 7.0, f64::NAN], 0.0, 1.0, 2), vec![3, 3]);
    }
}
