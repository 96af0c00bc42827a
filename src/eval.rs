//! Evaluation: stratified splits, classification metrics, ROC AUC and summaries over folds.
//!
//! This module owns how rows are split ([`stratified_folds`], [`stratified_holdout`]) and how
//! predictions are scored ([`Metrics`], [`roc_auc`], [`summarize`], [`pooled`]). It does not
//! train or preprocess anything: callers fit the scaler, SMOTE, selection and network on the
//! training indices it hands out and bring back class-1 probabilities for the test indices.
//!
//! Two traps shaped it. Folds are stratified and shuffled, never contiguous chunks of the
//! table, since radiomics tables are often sorted by class or by centre. And ROC AUC is computed
//! from midranks over a total order, which handles ties wherever they sit in the input; it is
//! tested against a brute-force count over all positive/negative pairs. Every reduction runs in
//! a fixed order (AUC in exact integer arithmetic), so results do not depend on scheduling.

use crate::error::{Error, Result};
use crate::rng::Stream;
use std::cmp::Ordering;

/// One split of one repeat of k-fold cross-validation. Both index lists ascend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    pub repeat: usize,
    pub fold: usize,
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// The distinct labels of `y`, ascending, each with its row indices in ascending order.
fn classes(y: &[usize]) -> Vec<(usize, Vec<usize>)> {
    let mut labels: Vec<usize> = y.to_vec();
    labels.sort_unstable();
    labels.dedup();
    labels.into_iter().map(|c| (c, (0..y.len()).filter(|&i| y[i] == c).collect())).collect()
}

/// Repeated stratified k-fold splits of the rows labelled `y`: `repeats * k` folds, repeat by
/// repeat, fold by fold.
///
/// Repeat r draws from `Stream::derive(seed, "folds", &[r])`. Within it, the classes are taken
/// in ascending label order; each class's row indices are shuffled and dealt to folds
/// round-robin, and the fold counter carries on from one class to the next rather than
/// restarting at fold 0. So every fold holds `floor(n_c / k)` or `ceil(n_c / k)` rows of each
/// class c, fold sizes differ by at most 1 overall, and each row is in exactly one test fold per
/// repeat. A fold's training rows are all the other rows.
///
/// # Errors
/// `Error::usage` when `repeats` is 0; `Error::data` when `k < 2`, when `y` is empty, or when a
/// class has fewer than `k` rows (a test fold would lack it).
pub fn stratified_folds(y: &[usize], k: usize, repeats: usize, seed: u64) -> Result<Vec<Fold>> {
    if repeats == 0 {
        return Err(Error::usage("--repeats must be at least 1"));
    }
    if k < 2 {
        return Err(Error::data(format!(
            "cross-validation needs at least 2 folds, asked for {k}: raise --folds"
        )));
    }
    if y.is_empty() {
        return Err(Error::data("no rows to split into folds"));
    }
    let by_class = classes(y);
    for (c, rows) in &by_class {
        if rows.len() < k {
            return Err(Error::data(format!(
                "class {c} has {} rows, fewer than the {k} folds: lower --folds",
                rows.len()
            )));
        }
    }

    let mut out = Vec::with_capacity(repeats * k);
    for r in 0..repeats {
        let mut rng = Stream::derive(seed, "folds", &[r as u64]);

        // fold_of[i] = the test fold of row i in this repeat.
        let mut fold_of = vec![0usize; y.len()];
        let mut counter = 0usize;
        for (_, rows) in &by_class {
            let mut rows = rows.clone();
            rng.shuffle(&mut rows);
            for i in rows {
                fold_of[i] = counter % k;
                counter += 1;
            }
        }

        for f in 0..k {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..y.len()).partition(|&i| fold_of[i] == f);
            out.push(Fold { repeat: r, fold: f, train, test });
        }
    }
    Ok(out)
}

/// A stratified split of the rows labelled `y` into (train, validation), both ascending, for
/// early stopping or inner tuning.
///
/// Each class c sends `round(fraction * n_c)` of its rows, chosen by shuffling with `rng`, to
/// validation, clamped so that at least 1 goes and at least 1 stays. A class with a single row
/// cannot satisfy both and stays wholly in train. Classes are taken in ascending label order.
pub fn stratified_holdout(
    y: &[usize],
    fraction: f64,
    rng: &mut Stream,
) -> (Vec<usize>, Vec<usize>) {
    let mut train = Vec::new();
    let mut validation = Vec::new();
    for (_, mut rows) in classes(y) {
        let n_c = rows.len();
        // A NaN fraction rounds to 0 here and is clamped to 1 like any small fraction.
        let wanted = (fraction * n_c as f64).round().max(0.0) as usize;
        let m = if n_c < 2 { 0 } else { wanted.clamp(1, n_c - 1) };
        rng.shuffle(&mut rows);
        validation.extend_from_slice(&rows[..m]);
        train.extend_from_slice(&rows[m..]);
    }
    train.sort_unstable();
    validation.sort_unstable();
    (train, validation)
}

/// `num / den`, with 0/0 taken as 0 as scikit-learn's `zero_division=0`.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

/// Binary classification metrics of one set of predictions, class 1 being the positive class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    pub accuracy: f64,
    /// tp / (tp + fp), of class 1.
    pub precision: f64,
    /// tp / (tp + fn), of class 1 (sensitivity).
    pub recall: f64,
    /// 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall, of class 1.
    pub f1: f64,
    /// Mean over classes 0 and 1 of each class's precision.
    pub macro_precision: f64,
    /// Mean over classes 0 and 1 of each class's recall.
    pub macro_recall: f64,
    /// Mean over classes 0 and 1 of each class's F1.
    pub macro_f1: f64,
    /// Mean recall over the classes present in `y` (scikit-learn's `balanced_accuracy_score`).
    pub balanced_accuracy: f64,
    /// Area under the ROC curve of the probabilities; NaN when a class is absent.
    pub roc_auc: f64,
    /// `[[tn, fp], [fn, tp]]`: row = true class, column = predicted class.
    pub confusion: [[usize; 2]; 2],
}

impl Metrics {
    /// The metric names, in the order of [`Metrics::values`].
    pub const NAMES: [&'static str; 9] = [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "balanced_accuracy",
        "roc_auc",
    ];

    /// Metrics of the class-1 probabilities `p_positive` against the labels `y` (0 or 1).
    ///
    /// A row is predicted class 1 iff its probability is >= 0.5 (a NaN probability predicts
    /// class 0). Every ratio with a zero denominator is 0, as scikit-learn with
    /// `zero_division=0`; the macro averages always run over both classes, as scikit-learn with
    /// `labels=[0, 1]`, while balanced accuracy averages over the classes present in `y` only, as
    /// `balanced_accuracy_score` does.
    ///
    /// # Panics
    /// If the lengths differ or a label is not 0 or 1.
    pub fn compute(y: &[usize], p_positive: &[f64]) -> Metrics {
        assert_eq!(
            y.len(),
            p_positive.len(),
            "metrics: {} labels but {} scores",
            y.len(),
            p_positive.len()
        );

        let mut cm = [[0usize; 2]; 2];
        for (&t, &p) in y.iter().zip(p_positive) {
            assert!(t <= 1, "metrics: labels must be 0 or 1, found {t}");
            let predicted = usize::from(p >= 0.5);
            cm[t][predicted] += 1;
        }
        let [[tn, fp], [fn_, tp]] = cm;

        // Per class c: precision = hits / predicted as c, recall = hits / truly c,
        // F1 = 2 hits / (predicted as c + truly c), which equals 2 P R / (P + R) when defined.
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = ratio(2 * tp, 2 * tp + fp + fn_);
        let precision0 = ratio(tn, tn + fn_);
        let recall0 = ratio(tn, tn + fp);
        let f1_0 = ratio(2 * tn, 2 * tn + fn_ + fp);

        let present = [tn + fp > 0, fn_ + tp > 0];
        let balanced_accuracy = match present {
            [true, true] => (recall0 + recall) / 2.0,
            [true, false] => recall0,
            [false, true] => recall,
            [false, false] => 0.0,
        };

        Metrics {
            accuracy: ratio(tn + tp, y.len()),
            precision,
            recall,
            f1,
            macro_precision: (precision0 + precision) / 2.0,
            macro_recall: (recall0 + recall) / 2.0,
            macro_f1: (f1_0 + f1) / 2.0,
            balanced_accuracy,
            roc_auc: roc_auc(y, p_positive),
            confusion: cm,
        }
    }

    /// The metric values, in the order of [`Metrics::NAMES`].
    pub fn values(&self) -> [f64; 9] {
        [
            self.accuracy,
            self.precision,
            self.recall,
            self.f1,
            self.macro_precision,
            self.macro_recall,
            self.macro_f1,
            self.balanced_accuracy,
            self.roc_auc,
        ]
    }
}

/// Area under the ROC curve of `score` for labels `y` (0 or 1): the probability that a random
/// positive row scores above a random negative one, ties counting 1/2.
///
/// Computed as the Mann-Whitney statistic: sort all rows by score, give each run of equal
/// scores the mean of the ranks it spans (its midrank), and with R1 the rank sum of the
/// positives, AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0). Equal scores are found by sorting, not by
/// adjacency in the input, so ties scattered through the input are handled. The sort uses
/// `f64::total_cmp`, a total order, so NaN scores cannot break it (they sort to the ends by
/// sign); -0.0 and 0.0 count as tied. Ranks are kept doubled as integers, which makes the sum
/// exact and independent of order until the one final division.
///
/// Returns NaN when either class is absent.
///
/// # Panics
/// If the lengths differ or a label is not 0 or 1.
pub fn roc_auc(y: &[usize], score: &[f64]) -> f64 {
    assert_eq!(y.len(), score.len(), "roc_auc: {} labels but {} scores", y.len(), score.len());
    assert!(y.iter().all(|&t| t <= 1), "roc_auc: labels must be 0 or 1");
    let n1 = y.iter().filter(|&&t| t == 1).count() as u128;
    let n0 = y.len() as u128 - n1;
    if n1 == 0 || n0 == 0 {
        return f64::NAN;
    }

    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let tied = |a: f64, b: f64| a == b || a.total_cmp(&b) == Ordering::Equal;

    // Walk runs of tied scores. A run covering 1-based ranks s..=s+t-1 has midrank
    // s + (t - 1) / 2, i.e. doubled midrank 2s + t - 1, an integer.
    let mut twice_r1: u128 = 0;
    let mut start = 0usize;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && tied(score[order[start]], score[order[end]]) {
            end += 1;
        }
        let t = (end - start) as u128;
        let twice_midrank = 2 * (start as u128 + 1) + t - 1;
        let positives = order[start..end].iter().filter(|&&i| y[i] == 1).count() as u128;
        twice_r1 += positives * twice_midrank;
        start = end;
    }

    // 2U = 2 R1 - n1 (n1 + 1); AUC = 2U / (2 n1 n0).
    let twice_u = twice_r1 - n1 * (n1 + 1);
    twice_u as f64 / (2 * n1 * n0) as f64
}

/// Mean and sample standard deviation of a set of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub mean: f64,
    /// Standard deviation with divisor n - 1; 0 when n == 1.
    pub sd: f64,
    /// Number of finite values summarised.
    pub n: usize,
}

/// Mean and sd (divisor n - 1) of the finite values of `values`, summed in order. NaN (and
/// infinite) values are skipped, since a fold with one class has NaN AUC; `n` counts the values
/// used. With none, mean and sd are NaN; with one, sd is 0.
pub fn summarize(values: &[f64]) -> Summary {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len();
    if n == 0 {
        return Summary { mean: f64::NAN, sd: f64::NAN, n };
    }
    let mean = finite.iter().sum::<f64>() / n as f64;
    let sd = if n == 1 {
        0.0
    } else {
        (finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    Summary { mean, sd, n }
}

/// [`summarize`] of each metric over folds, in [`Metrics::NAMES`] order.
pub fn summarize_metrics(folds: &[Metrics]) -> Vec<(&'static str, Summary)> {
    Metrics::NAMES
        .iter()
        .enumerate()
        .map(|(m, &name)| {
            let column: Vec<f64> = folds.iter().map(|f| f.values()[m]).collect();
            (name, summarize(&column))
        })
        .collect()
}

/// Metrics of all out-of-fold predictions at once: the folds' `(y, p_positive)` concatenated in
/// the order given. Unlike the mean over folds, the pooled AUC ranks rows of different folds
/// against each other, so it also reflects how comparable the folds' probabilities are.
pub fn pooled(folds: &[(Vec<usize>, Vec<f64>)]) -> Metrics {
    let mut y = Vec::new();
    let mut p = Vec::new();
    for (fy, fp) in folds {
        assert_eq!(
            fy.len(),
            fp.len(),
            "pooled: a fold has {} labels but {} scores",
            fy.len(),
            fp.len()
        );
        y.extend_from_slice(fy);
        p.extend_from_slice(fp);
    }
    Metrics::compute(&y, &p)
}

/// The corrected resampled t interval of Nadeau and Bengio (2003) for the mean of a metric over
/// J cross-validation folds: mean ± t(0.975, J-1) sqrt((1/J + n_test/n_train) sd^2), where
/// `test_over_train` is n_test/n_train of one fold (1/(k-1) for k-fold).
///
/// The plain t interval (1/J alone) treats folds as independent, which they are not: every two
/// training sets share most rows, so it is too narrow; the second term widens it. `None` with
/// fewer than two finite values.
///
/// # Limitations
/// The correction is a heuristic (it takes the correlation between two folds' scores to be
/// n_test/n), and the interval is not clipped to the metric's range.
pub fn corrected_interval(s: &Summary, test_over_train: f64) -> Option<(f64, f64)> {
    if s.n < 2 || !s.mean.is_finite() || !s.sd.is_finite() {
        return None;
    }
    let j = s.n as f64;
    let t = crate::special::t_quantile(0.975, j - 1.0);
    let half = t * ((1.0 / j + test_over_train) * s.sd * s.sd).sqrt();
    Some((s.mean - half, s.mean + half))
}
