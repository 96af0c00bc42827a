//! The few statistics the report draws or tabulates: intervals for cross-validated means, ROC
//! curve points and histograms.

use crate::eval::Summary;

/// A 95% interval for the mean of a metric over the `folds` x `repeats` cross-validation folds:
/// [`crate::eval::corrected_interval`] with n_test/n_train = 1/(folds - 1). `None` when fewer
/// than two finite fold values exist or `folds < 2`.
pub fn cv_interval(s: &Summary, folds: usize) -> Option<(f64, f64)> {
    if folds < 2 {
        return None;
    }
    crate::eval::corrected_interval(s, 1.0 / (folds - 1) as f64)
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
