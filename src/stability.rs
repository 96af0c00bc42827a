//! How stable a selection is across resamples of the data.
//!
//! Given M selected subsets of d features (e.g. one per outer fold and repeat), this module
//! computes:
//! - how often each feature was selected;
//! - Nogueira, Sechidis and Brown's stability estimate (JMLR 18(174), 2018), the one measure
//!   that is fully defined for subsets of varying size, corrected for chance, bounded by 1 and
//!   maximal exactly when all subsets agree, with its asymptotic variance and a 95% interval;
//! - Kuncheva's consistency index (2007), averaged over pairs, for subsets of one common size.

/// Nogueira et al.'s estimate with its variance and a normal 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stability {
    pub estimate: f64,
    pub variance: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The 0.975 quantile of the standard normal distribution.
const Z975: f64 = 1.959963984540054;

/// Fraction of the subsets that contain each of the `d` features.
pub fn frequencies(subsets: &[Vec<usize>], d: usize) -> Vec<f64> {
    let mut counts = vec![0.0; d];
    for s in subsets {
        for &f in s {
            counts[f] += 1.0;
        }
    }
    let m = subsets.len().max(1) as f64;
    counts.iter().map(|c| c / m).collect()
}

/// Nogueira et al.'s stability of `subsets` (each a set of distinct indices below `d`).
///
/// With Z the M x d 0/1 selection matrix, p_f the selection frequency of feature f, k_i the
/// size of subset i and k its mean:
///   estimate = 1 - [ (1/d) sum_f M/(M-1) p_f (1 - p_f) ] / [ (k/d) (1 - k/d) ],
/// and the variance comes from the paper's per-subset terms
///   phi_i = ( (1/d) sum_f Z_if p_f - k_i k / d^2
///             + estimate/2 (2 k k_i / d^2 - k_i / d - k / d + 1) ) / ((k/d)(1 - k/d)),
///   variance = 4/M^2 sum_i (phi_i - mean phi)^2.
/// `None` when M < 2 or when every subset is empty or full (the estimate is undefined).
pub fn nogueira(subsets: &[Vec<usize>], d: usize) -> Option<Stability> {
    let m = subsets.len();
    if m < 2 || d == 0 {
        return None;
    }
    let mf = m as f64;
    let df = d as f64;
    let p = frequencies(subsets, d);
    let k_bar = subsets.iter().map(|s| s.len() as f64).sum::<f64>() / mf;
    let denom = (k_bar / df) * (1.0 - k_bar / df);
    if denom <= 0.0 {
        return None;
    }

    let spread = p.iter().map(|&pf| mf / (mf - 1.0) * pf * (1.0 - pf)).sum::<f64>() / df;
    let estimate = 1.0 - spread / denom;

    let phi: Vec<f64> = subsets
        .iter()
        .map(|s| {
            let ki = s.len() as f64;
            let overlap = s.iter().map(|&f| p[f]).sum::<f64>() / df;
            let chance = ki * k_bar / (df * df);
            let correction =
                estimate / 2.0 * (2.0 * k_bar * ki / (df * df) - ki / df - k_bar / df + 1.0);
            (overlap - chance + correction) / denom
        })
        .collect();
    let phi_mean = phi.iter().sum::<f64>() / mf;
    let variance = 4.0 / (mf * mf) * phi.iter().map(|v| (v - phi_mean).powi(2)).sum::<f64>();
    let half = Z975 * variance.sqrt();
    Some(Stability { estimate, variance, lower: estimate - half, upper: estimate + half })
}

/// Kuncheva's consistency index of two subsets of the same size k out of d features:
/// (r d - k^2) / (k (d - k)) for an overlap of r. `None` for k = 0 or k = d (undefined) or
/// subsets of different sizes.
pub fn kuncheva_pair(a: &[usize], b: &[usize], d: usize) -> Option<f64> {
    let k = a.len();
    if k != b.len() || k == 0 || k >= d {
        return None;
    }
    let r = a.iter().filter(|f| b.contains(f)).count() as f64;
    let (k, d) = (k as f64, d as f64);
    Some((r * d - k * k) / (k * (d - k)))
}

/// Mean Kuncheva index over all pairs of subsets; `None` unless there are at least two subsets,
/// all of one size strictly between 0 and d.
pub fn kuncheva(subsets: &[Vec<usize>], d: usize) -> Option<f64> {
    let mut sum = 0.0;
    let mut pairs = 0usize;
    for i in 0..subsets.len() {
        for j in i + 1..subsets.len() {
            sum += kuncheva_pair(&subsets[i], &subsets[j], d)?;
            pairs += 1;
        }
    }
    (pairs > 0).then(|| sum / pairs as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kuncheva_matches_hand_values() {
        // d = 10, k = 5, overlap 3: (3*10 - 25) / (5 * 5) = 0.2.
        assert_eq!(kuncheva_pair(&[0, 1, 2, 3, 4], &[2, 3, 4, 5, 6], 10), Some(0.2));
        // Identical subsets give 1; disjoint halves give (0 - 25)/25 = -1.
        assert_eq!(kuncheva_pair(&[0, 1, 2, 3, 4], &[4, 3, 2, 1, 0], 10), Some(1.0));
        assert_eq!(kuncheva_pair(&[0, 1, 2, 3, 4], &[5, 6, 7, 8, 9], 10), Some(-1.0));
        assert_eq!(kuncheva_pair(&[0, 1], &[0], 10), None);
        let s = vec![vec![0, 1, 2, 3, 4], vec![2, 3, 4, 5, 6], vec![0, 1, 2, 3, 4]];
        // Pairs: 0.2, 1.0, 0.2.
        assert!((kuncheva(&s, 10).unwrap() - 1.4 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn nogueira_matches_hand_values() {
        // Identical subsets: every p_f is 0 or 1, so the estimate is exactly 1 with variance 0.
        let same = vec![vec![1, 2], vec![1, 2], vec![2, 1]];
        let s = nogueira(&same, 5).unwrap();
        assert_eq!((s.estimate, s.variance), (1.0, 0.0));

        // d = 4, M = 2, subsets {0,1} and {0,2}: p = (1, 1/2, 1/2, 0), k = 2,
        // spread = (1/4) * 2 * (2 * 1/4) = 1/4, denom = 1/4, estimate = 0.
        // phi_1 = phi_2 by symmetry, so the variance is 0.
        let s = nogueira(&[vec![0, 1], vec![0, 2]], 4).unwrap();
        assert!(s.estimate.abs() < 1e-15 && s.variance.abs() < 1e-15, "{s:?}");

        // Disjoint halves of d = 4: p = 1/2 everywhere, spread = 2 * 1/4 = 1/2, estimate = -1.
        let s = nogueira(&[vec![0, 1], vec![2, 3]], 4).unwrap();
        assert!((s.estimate + 1.0).abs() < 1e-15);

        // Subsets of different sizes: {0}, {0,1}, {0,1,2} out of d = 4.
        // p = (1, 2/3, 1/3, 0), k = 2, spread = (1/4)(3/2)(2/9 + 2/9) = 1/6,
        // denom = 1/4, estimate = 1 - 2/3 = 1/3.
        let s = nogueira(&[vec![0], vec![0, 1], vec![0, 1, 2]], 4).unwrap();
        assert!((s.estimate - 1.0 / 3.0).abs() < 1e-15, "{s:?}");
        // phi_i by hand: overlap_i = (1, 5/3, 2) / 4, chance_i = (2, 4, 6) / 16,
        // correction_i = (1/6)(k_i/4 - k_i/4 - 1/2 + 1) = 1/12 for every i, denom 1/4:
        // phi = 4 * (1/4 - 1/8 + 1/12, 5/12 - 1/4 + 1/12, 1/2 - 3/8 + 1/12) = (5/6, 1, 5/6).
        // mean 8/9; variance = 4/9 * ((1/18)^2 + (1/9)^2 + (1/18)^2) = 4/9 * 6/324 = 2/243.
        assert!((s.variance - 2.0 / 243.0).abs() < 1e-15, "{s:?}");
        assert!((s.upper - s.estimate - Z975 * (2.0f64 / 243.0).sqrt()).abs() < 1e-15);

        // A case where the per-subset correction differs between subsets, against the value of
        // the paper's other, algebraically equivalent form of the variance (via the kappa-like
        // terms pa_i, pe_i of the authors' first reference code), computed independently in
        // Python: 7 subsets of d = 12.
        let rows: [[u8; 12]; 7] = [
            [1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0],
            [0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1],
            [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1],
            [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0],
            [1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1],
            [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1],
        ];
        let subsets: Vec<Vec<usize>> =
            rows.iter().map(|r| (0..12).filter(|&f| r[f] == 1).collect()).collect();
        let s = nogueira(&subsets, 12).unwrap();
        assert!((s.estimate - -0.0395617772367618).abs() < 1e-14, "{s:?}");
        assert!((s.variance - 0.0020417096901044042).abs() < 1e-15, "{s:?}");

        assert_eq!(nogueira(&[vec![0]], 4), None);
        assert_eq!(nogueira(&[vec![], vec![]], 4), None);
    }

    #[test]
    fn frequencies_count_each_subset_once() {
        assert_eq!(frequencies(&[vec![0, 2], vec![2]], 3), vec![0.5, 0.0, 1.0]);
    }
}
