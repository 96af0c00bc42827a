//! Tests of `preprocess` (scaler, SMOTE) and `eval` (folds, metrics, ROC AUC, summaries)
//! against hand-worked values and brute-force reference computations.

use approx::assert_abs_diff_eq;
use glrfe::ErrorKind;
use glrfe::Matrix;
use glrfe::eval::{
    Metrics, pooled, roc_auc, stratified_folds, stratified_holdout, summarize, summarize_metrics,
};
use glrfe::preprocess::{Scaler, SmoteConfig, smote};
use glrfe::rng::Stream;

// ---------------------------------------------------------------- scaler

/// Column 0 has mean 5 and population std 2; column 1 is constant 0.1; column 2 is 1..=8 with
/// mean 4.5 and population variance (8^2 - 1) / 12 = 5.25.
fn scaler_table() -> Matrix {
    let c0 = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
    let rows: Vec<Vec<f64>> = (0..8).map(|i| vec![c0[i], 0.1, (i + 1) as f64]).collect();
    Matrix::from_rows(&rows)
}

#[test]
fn scaler_matches_hand_computed_mean_and_population_std() {
    let s = Scaler::fit(&scaler_table());
    assert_abs_diff_eq!(s.mean[0], 5.0, epsilon = 1e-15);
    assert_abs_diff_eq!(s.std[0], 2.0, epsilon = 1e-15);
    assert_abs_diff_eq!(s.mean[2], 4.5, epsilon = 1e-15);
    assert_abs_diff_eq!(s.std[2], 5.25f64.sqrt(), epsilon = 1e-15);

    let z = s.transform(&scaler_table());
    assert_abs_diff_eq!(z.get(0, 0), -1.5, epsilon = 1e-15); // (2 - 5) / 2
    assert_abs_diff_eq!(z.get(7, 0), 2.0, epsilon = 1e-15); // (9 - 5) / 2
    assert_abs_diff_eq!(z.get(0, 2), -3.5 / 5.25f64.sqrt(), epsilon = 1e-15);
}

#[test]
fn scaler_zero_variance_column_gets_std_one_and_maps_to_zero() {
    let s = Scaler::fit(&scaler_table());
    assert_eq!(s.zero_variance, vec![1]);
    assert_eq!(s.std[1], 1.0);
    let z = s.transform(&scaler_table());
    for i in 0..8 {
        assert_eq!(z.get(i, 1), 0.0, "row {i}");
    }
    // A new row away from the constant is shifted, not divided by zero.
    let other = s.transform(&Matrix::from_rows(&[vec![5.0, 1.1, 4.5]]));
    assert_abs_diff_eq!(other.get(0, 1), 1.0, epsilon = 1e-12);
    assert!(other.as_slice().iter().all(|v| v.is_finite()));
}

#[test]
fn scaler_select_restricts_and_renumbers() {
    let s = Scaler::fit(&scaler_table());
    let t = s.select(&[2, 1]);
    assert_eq!(t.mean, vec![s.mean[2], s.mean[1]]);
    assert_eq!(t.std, vec![s.std[2], s.std[1]]);
    assert_eq!(t.zero_variance, vec![1]);
    // Selecting then transforming equals transforming then selecting.
    let x = scaler_table();
    assert_eq!(t.transform(&x.select_cols(&[2, 1])), s.transform(&x).select_cols(&[2, 1]));
    assert_eq!(Scaler::fit(&x.select_cols(&[2, 1])), t);
}

// ---------------------------------------------------------------- SMOTE

/// `n_maj` rows of class 0 and `n_min` rows of class 1, interleaved, in `d` columns.
fn imbalanced(n_maj: usize, n_min: usize, d: usize, seed: u64) -> (Matrix, Vec<usize>) {
    let mut rng = Stream::derive(seed, "test-data", &[]);
    let mut y = vec![0; n_maj];
    y.extend(std::iter::repeat_n(1, n_min));
    rng.shuffle(&mut y);
    let rows: Vec<Vec<f64>> =
        y.iter().map(|&c| (0..d).map(|_| rng.normal() + 2.0 * c as f64).collect()).collect();
    (Matrix::from_rows(&rows), y)
}

/// Brute-force k nearest neighbours (row indices of `x`) of row `i` among `candidates`.
fn knn(x: &Matrix, i: usize, candidates: &[usize], k: usize) -> Vec<usize> {
    let d2 = |a: usize, b: usize| -> f64 {
        x.row(a).iter().zip(x.row(b)).map(|(p, q)| (p - q).powi(2)).sum()
    };
    let mut others: Vec<usize> = candidates.iter().copied().filter(|&j| j != i).collect();
    others.sort_by(|&a, &b| d2(i, a).partial_cmp(&d2(i, b)).unwrap().then(a.cmp(&b)));
    others.truncate(k);
    others
}

/// Whether `s` equals `a + u (b - a)` for some u in [0, 1), to 1e-12 in every coordinate.
fn on_segment(s: &[f64], a: &[f64], b: &[f64]) -> bool {
    // Solve for u on the coordinate where the segment moves most, then check all coordinates.
    let (j, span) = a
        .iter()
        .zip(b)
        .map(|(p, q)| q - p)
        .enumerate()
        .max_by(|l, r| l.1.abs().total_cmp(&r.1.abs()))
        .unwrap();
    let u = if span == 0.0 { 0.0 } else { (s[j] - a[j]) / span };
    (0.0..1.0).contains(&u)
        && s.iter().zip(a).zip(b).all(|((&v, &p), &q)| (v - (p + u * (q - p))).abs() <= 1e-12)
}

#[test]
fn smote_balances_keeps_originals_first_and_labels_synthetics_minority() {
    let (x, y) = imbalanced(40, 15, 4, 1);
    let mut rng = Stream::derive(1, "smote", &[0]);
    let (xs, ys) = smote(&x, &y, &SmoteConfig::default(), &mut rng).unwrap();

    assert_eq!(xs.rows(), 80);
    assert_eq!(ys.len(), 80);
    assert_eq!(ys.iter().filter(|&&c| c == 0).count(), 40);
    assert_eq!(ys.iter().filter(|&&c| c == 1).count(), 40);
    assert_eq!(&xs.as_slice()[..x.as_slice().len()], x.as_slice());
    assert_eq!(&ys[..y.len()], &y[..]);
    assert!(ys[y.len()..].iter().all(|&c| c == 1));
}

#[test]
fn smote_synthetic_rows_lie_between_a_minority_row_and_one_of_its_neighbours() {
    for (seed, k) in [(2, 5), (3, 3), (4, 1)] {
        let (x, y) = imbalanced(60, 12, 3, seed);
        let minority: Vec<usize> = (0..y.len()).filter(|&i| y[i] == 1).collect();
        let mut rng = Stream::derive(seed, "smote", &[0]);
        let (xs, _) = smote(&x, &y, &SmoteConfig { k }, &mut rng).unwrap();
        assert_eq!(xs.rows(), 120);

        for s in x.rows()..xs.rows() {
            // Interpolating towards itself would copy a row (u = 0 has probability 2^-53).
            assert!(minority.iter().all(|&i| xs.row(s) != x.row(i)), "row {s} is a copy");
            let found = minority.iter().any(|&i| {
                knn(&x, i, &minority, k).iter().any(|&j| on_segment(xs.row(s), x.row(i), x.row(j)))
            });
            assert!(found, "seed {seed} k {k}: synthetic row {s} is on no neighbour segment");
        }
    }
}

#[test]
fn smote_breaks_distance_ties_by_lower_index() {
    // Minority points on a line at 0, 10, 20, 21 (majority rows in between, far away). With
    // k = 1 the point at 10 is equidistant from 0 and 20 and must take 0, the lower index; the
    // points at 20 and 21 are each other's neighbours. So no synthetic point lies strictly
    // between 10 and 20; picking 20 would put about a quarter of them there.
    let rows = vec![vec![0.0], vec![100.0], vec![10.0], vec![100.0], vec![20.0], vec![21.0]];
    let mut y = vec![1, 0, 1, 0, 1, 1];
    y.extend(std::iter::repeat_n(0, 200));
    let mut x = Matrix::from_rows(&rows);
    x.append_rows(&Matrix::from_row_major(200, 1, vec![100.0; 200]));
    let mut rng = Stream::derive(5, "smote", &[0]);
    let (xs, _) = smote(&x, &y, &SmoteConfig { k: 1 }, &mut rng).unwrap();
    let synthetic = &xs.as_slice()[x.rows()..];
    assert_eq!(synthetic.len(), 202 - 4);
    assert!(synthetic.iter().all(|&v| !(v > 10.0 && v < 20.0)), "{synthetic:?}");
    assert!(synthetic.iter().any(|&v| v > 0.0 && v < 10.0));
}

#[test]
fn smote_is_deterministic_for_the_same_stream() {
    let (x, y) = imbalanced(30, 10, 5, 6);
    let cfg = SmoteConfig::default();
    let a = smote(&x, &y, &cfg, &mut Stream::derive(6, "smote", &[1])).unwrap();
    let b = smote(&x, &y, &cfg, &mut Stream::derive(6, "smote", &[1])).unwrap();
    let c = smote(&x, &y, &cfg, &mut Stream::derive(6, "smote", &[2])).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
}

#[test]
fn smote_oversamples_class_zero_when_it_is_the_minority() {
    // 8 rows of class 0 and 20 of class 1.
    let (x, y) = imbalanced(8, 20, 2, 7);
    let (xs, ys) = smote(&x, &y, &SmoteConfig::default(), &mut Stream::from_key(7)).unwrap();
    assert_eq!(xs.rows(), 40);
    assert!(ys[28..].iter().all(|&c| c == 0));
}

#[test]
fn smote_refuses_too_few_minority_rows() {
    let (x, y) = imbalanced(20, 4, 2, 8);
    let err = smote(&x, &y, &SmoteConfig::default(), &mut Stream::from_key(8)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(err.message().contains("k+1 = 6"), "{}", err.message());
    assert!(err.message().contains("found 4"), "{}", err.message());
    // Exactly k + 1 rows is enough.
    assert!(smote(&x, &y, &SmoteConfig { k: 3 }, &mut Stream::from_key(8)).is_ok());
    let err = smote(&x, &y, &SmoteConfig { k: 0 }, &mut Stream::from_key(8)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
}

#[test]
fn smote_is_a_no_op_on_balanced_classes() {
    let (x, y) = imbalanced(10, 10, 3, 9);
    let mut rng = Stream::from_key(9);
    let untouched = rng.clone();
    let (xs, ys) = smote(&x, &y, &SmoteConfig::default(), &mut rng).unwrap();
    assert_eq!(xs, x);
    assert_eq!(ys, y);
    assert_eq!(rng.bits(), untouched.clone().bits(), "a no-op must not draw from the stream");
}

// ---------------------------------------------------------------- folds

/// 422 rows, about 1:2, in a fixed scrambled order.
fn labels_422() -> Vec<usize> {
    let mut y = vec![1; 141];
    y.extend(std::iter::repeat_n(0, 281));
    Stream::derive(10, "labels", &[]).shuffle(&mut y);
    y
}

#[test]
fn folds_partition_rows_and_train_is_the_complement() {
    let y = labels_422();
    let (k, repeats) = (5, 3);
    let folds = stratified_folds(&y, k, repeats, 42).unwrap();
    assert_eq!(folds.len(), k * repeats);
    for r in 0..repeats {
        let mut seen = vec![0usize; y.len()];
        for (f, fold) in folds[r * k..(r + 1) * k].iter().enumerate() {
            assert_eq!((fold.repeat, fold.fold), (r, f));
            assert!(fold.test.windows(2).all(|w| w[0] < w[1]));
            assert!(fold.train.windows(2).all(|w| w[0] < w[1]));
            for &i in &fold.test {
                seen[i] += 1;
            }
            let complement: Vec<usize> =
                (0..y.len()).filter(|i| fold.test.binary_search(i).is_err()).collect();
            assert_eq!(fold.train, complement);
        }
        assert!(seen.iter().all(|&c| c == 1), "repeat {r}: a row is not in exactly one test fold");
    }
}

#[test]
fn folds_are_stratified_and_balanced_in_size() {
    for (n1, n0, k) in [(141, 281, 5), (7, 30, 7), (10, 11, 3), (13, 2, 2)] {
        let mut y = vec![1; n1];
        y.extend(std::iter::repeat_n(0, n0));
        let folds = stratified_folds(&y, k, 2, 3).unwrap();
        for fold in &folds {
            for (c, n_c) in [(0, n0), (1, n1)] {
                let count = fold.test.iter().filter(|&&i| y[i] == c).count();
                let share = n_c as f64 / k as f64;
                assert!((count as f64 - share).abs() < 1.0, "class {c}: {count} vs {share}");
            }
        }
        for r in 0..2 {
            let sizes: Vec<usize> =
                folds[r * k..(r + 1) * k].iter().map(|f| f.test.len()).collect();
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 1, "{n1}/{n0} k {k}: fold sizes {sizes:?}");
        }
    }
}

#[test]
fn folds_depend_on_repeat_and_seed_only() {
    let y = labels_422();
    let a = stratified_folds(&y, 5, 2, 42).unwrap();
    assert_eq!(a, stratified_folds(&y, 5, 2, 42).unwrap());
    assert_ne!(a[0].test, a[5].test, "repeats must reshuffle");
    assert_ne!(a[0].test, stratified_folds(&y, 5, 2, 43).unwrap()[0].test);
    // Repeat 0 does not depend on how many repeats were asked for.
    assert_eq!(a[..5], stratified_folds(&y, 5, 1, 42).unwrap()[..]);
}

#[test]
fn folds_are_not_contiguous_chunks() {
    // Sorted labels, as a table sorted by class would be: a contiguous split would put only
    // one class in the first test fold.
    let mut y = vec![0; 20];
    y.extend(vec![1; 10]);
    let folds = stratified_folds(&y, 5, 1, 1).unwrap();
    assert!(folds[0].test.iter().any(|&i| y[i] == 1));
    assert_ne!(folds[0].test, (0..6).collect::<Vec<_>>());
}

#[test]
fn folds_refuse_bad_settings() {
    let y = labels_422();
    assert_eq!(stratified_folds(&y, 1, 1, 0).unwrap_err().kind(), ErrorKind::Data);
    assert_eq!(stratified_folds(&y, 5, 0, 0).unwrap_err().kind(), ErrorKind::Usage);
    let small = [0, 0, 0, 0, 0, 0, 1, 1, 1];
    let err = stratified_folds(&small, 5, 1, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(err.message().contains("class 1 has 3 rows"), "{}", err.message());
    assert!(stratified_folds(&small, 3, 1, 0).is_ok());
}

#[test]
fn holdout_is_stratified_and_disjoint() {
    let y = labels_422();
    let (train, val) = stratified_holdout(&y, 0.2, &mut Stream::from_key(11));
    assert!(train.windows(2).all(|w| w[0] < w[1]) && val.windows(2).all(|w| w[0] < w[1]));
    let mut all: Vec<usize> = train.iter().chain(&val).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..y.len()).collect::<Vec<_>>());
    // round(0.2 * 141) = 28 and round(0.2 * 281) = 56.
    assert_eq!(val.iter().filter(|&&i| y[i] == 1).count(), 28);
    assert_eq!(val.iter().filter(|&&i| y[i] == 0).count(), 56);

    // Clamped: at least one row goes, at least one stays.
    let tiny = [0, 0, 1, 1, 1];
    let (t, v) = stratified_holdout(&tiny, 0.01, &mut Stream::from_key(12));
    assert_eq!((t.len(), v.len()), (3, 2));
    let (t, v) = stratified_holdout(&tiny, 0.99, &mut Stream::from_key(12));
    assert_eq!((t.len(), v.len()), (2, 3));
}

// ---------------------------------------------------------------- ROC AUC

/// The AUC by definition: over all (positive, negative) pairs, 1 when the positive scores
/// higher, 1/2 on a tie.
fn brute_force_auc(y: &[usize], s: &[f64]) -> f64 {
    let (mut sum, mut pairs) = (0.0, 0.0);
    for i in (0..y.len()).filter(|&i| y[i] == 1) {
        for j in (0..y.len()).filter(|&j| y[j] == 0) {
            pairs += 1.0;
            if s[i] > s[j] {
                sum += 1.0;
            } else if s[i] == s[j] {
                sum += 0.5;
            }
        }
    }
    sum / pairs
}

#[test]
fn auc_matches_brute_force_with_scattered_ties() {
    // Scores drawn from a few values (including -0.0 and 0.0, which are equal) in random order,
    // so ties are many and rarely adjacent in the input.
    let levels = [-1.5, -0.0, 0.0, 0.25, 0.7, 0.7000000000000001, 3.0];
    for seed in 0..8 {
        let mut rng = Stream::derive(seed, "auc-test", &[]);
        let n = 50 + rng.below(150);
        let y: Vec<usize> = (0..n).map(|_| usize::from(rng.uniform() < 0.35)).collect();
        let s: Vec<f64> = y
            .iter()
            .map(|&c| levels[(rng.below(levels.len()) + 2 * c).min(levels.len() - 1)])
            .collect();
        let expected = brute_force_auc(&y, &s);
        assert_abs_diff_eq!(roc_auc(&y, &s), expected, epsilon = 1e-12);
    }
}

#[test]
fn auc_extremes_and_degenerate_cases() {
    let y = [0, 1, 0, 1, 1, 0];
    let perfect = [0.1, 0.9, 0.2, 0.8, 0.7, 0.3];
    let reversed: Vec<f64> = perfect.iter().map(|p| 1.0 - p).collect();
    assert_eq!(roc_auc(&y, &perfect), 1.0);
    assert_eq!(roc_auc(&y, &reversed), 0.0);
    assert_eq!(roc_auc(&y, &[0.4; 6]), 0.5);
    assert!(roc_auc(&[1, 1, 1], &[0.1, 0.5, 0.9]).is_nan());
    assert!(roc_auc(&[0, 0], &[0.1, 0.5]).is_nan());
    assert!(roc_auc(&[], &[]).is_nan());
}

// ---------------------------------------------------------------- metrics

#[test]
fn metrics_match_a_hand_worked_confusion_matrix() {
    // tn = 3, fp = 1 (0.5 counts as positive), fn = 2, tp = 4.
    let y = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let p = [0.1, 0.2, 0.49, 0.5, 0.3, 0.0, 0.6, 0.7, 0.8, 1.0];
    let m = Metrics::compute(&y, &p);
    assert_eq!(m.confusion, [[3, 1], [2, 4]]);

    // Class 1: P = 4/5, R = 4/6, F1 = 2 * 4 / (2 * 4 + 1 + 2) = 8/11.
    // Class 0: P = 3/5, R = 3/4, F1 = 2 * 3 / (2 * 3 + 2 + 1) = 2/3.
    let e = 1e-15;
    assert_abs_diff_eq!(m.accuracy, 0.7, epsilon = e);
    assert_abs_diff_eq!(m.precision, 0.8, epsilon = e);
    assert_abs_diff_eq!(m.recall, 4.0 / 6.0, epsilon = e);
    assert_abs_diff_eq!(m.f1, 8.0 / 11.0, epsilon = e);
    assert_abs_diff_eq!(m.macro_precision, (0.6 + 0.8) / 2.0, epsilon = e);
    assert_abs_diff_eq!(m.macro_recall, (0.75 + 4.0 / 6.0) / 2.0, epsilon = e);
    assert_abs_diff_eq!(m.macro_f1, (2.0 / 3.0 + 8.0 / 11.0) / 2.0, epsilon = e);
    assert_abs_diff_eq!(m.balanced_accuracy, 17.0 / 24.0, epsilon = e);
    // Positives beat negatives in 18 of the 24 pairs, no ties: 0.3 beats 0.1 and 0.2, 0.0
    // beats none, and 0.6, 0.7, 0.8, 1.0 each beat all four.
    assert_abs_diff_eq!(m.roc_auc, 18.0 / 24.0, epsilon = e);
    assert_abs_diff_eq!(m.roc_auc, brute_force_auc(&y, &p), epsilon = e);

    let v = m.values();
    assert_eq!(Metrics::NAMES.len(), v.len());
    assert_eq!(Metrics::NAMES[1], "precision");
    assert_eq!(v[1], m.precision);
    assert_eq!(Metrics::NAMES[8], "roc_auc");
    assert_eq!(v[8], m.roc_auc);
    assert_eq!(Metrics::NAMES[7], "balanced_accuracy");
    assert_eq!(v[7], m.balanced_accuracy);
}

#[test]
fn metrics_take_zero_division_as_zero() {
    // Nothing predicted positive: precision 0/0 -> 0, F1 0.
    let m = Metrics::compute(&[0, 1, 1, 0], &[0.1, 0.2, 0.3, 0.4]);
    assert_eq!(m.confusion, [[2, 0], [2, 0]]);
    assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
    assert_abs_diff_eq!(m.macro_precision, 0.25, epsilon = 1e-15); // (2/4 + 0) / 2
    assert_abs_diff_eq!(m.balanced_accuracy, 0.5, epsilon = 1e-15);
    assert!(m.values().iter().all(|v| !v.is_nan()));

    // No positives at all, none predicted: recall 0/0 -> 0, AUC undefined.
    let m = Metrics::compute(&[0, 0, 0], &[0.1, 0.2, 0.3]);
    assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
    assert_eq!(m.accuracy, 1.0);
    assert_eq!(m.balanced_accuracy, 1.0);
    assert!(m.roc_auc.is_nan());
}

#[test]
fn pooled_concatenates_folds_in_order() {
    let a = (vec![0, 1, 1], vec![0.2, 0.9, 0.4]);
    let b = (vec![0, 0, 1], vec![0.6, 0.1, 0.8]);
    let m = pooled(&[a.clone(), b.clone()]);
    let y: Vec<usize> = a.0.iter().chain(&b.0).copied().collect();
    let p: Vec<f64> = a.1.iter().chain(&b.1).copied().collect();
    assert_eq!(m, Metrics::compute(&y, &p));
    assert_eq!(m.confusion, [[2, 1], [1, 2]]);
}

// ---------------------------------------------------------------- summaries

#[test]
fn summarize_gives_mean_and_sample_sd() {
    let s = summarize(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(s.n, 4);
    assert_abs_diff_eq!(s.mean, 2.5, epsilon = 1e-15);
    assert_abs_diff_eq!(s.sd, 1.2909944487358056, epsilon = 1e-15);

    let s = summarize(&[f64::NAN, 1.0, 2.0, f64::NAN, 3.0, 4.0]);
    assert_eq!(s.n, 4);
    assert_abs_diff_eq!(s.sd, 1.2909944487358056, epsilon = 1e-15);

    let one = summarize(&[0.7, f64::NAN]);
    assert_eq!((one.mean, one.sd, one.n), (0.7, 0.0, 1));
    let none = summarize(&[f64::NAN]);
    assert_eq!(none.n, 0);
    assert!(none.mean.is_nan());
}

#[test]
fn summarize_metrics_follows_names_and_skips_nan_auc() {
    let good = Metrics::compute(&[0, 1, 0, 1], &[0.1, 0.9, 0.6, 0.8]);
    let one_class = Metrics::compute(&[1, 1], &[0.9, 0.2]);
    let summary = summarize_metrics(&[good, one_class]);
    let names: Vec<&str> = summary.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, Metrics::NAMES);
    let (_, acc) = summary[0];
    assert_eq!(acc.n, 2);
    assert_abs_diff_eq!(acc.mean, (0.75 + 0.5) / 2.0, epsilon = 1e-15);
    let (_, auc) = summary[8];
    assert_eq!(auc.n, 1);
    assert_eq!(auc.mean, 1.0);
}
