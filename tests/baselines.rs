//! The conventional selectors against scikit-learn's reference values (fixtures/sklearn/, made
//! by its make_reference.py), against hand-derived cases, and on a table whose signal is an
//! interaction that no univariate filter can see.

use std::collections::BTreeMap;
use std::path::Path;

use glrfe::baselines::univariate::{f_classif, mutual_info_cd, mutual_info_classif};
use glrfe::baselines::{self, logistic, rfe};
use glrfe::data::{self, Dataset, LoadOptions};
use glrfe::decorrelate::{self, Decorrelated};
use glrfe::matrix::Matrix;
use glrfe::nn::TrainConfig;
use glrfe::rng::Stream;
use glrfe::select::{Balance, GlrfeConfig, Importance, Selector, Step};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn synthetic() -> Dataset {
    let opts = LoadOptions { label: Some("stage".into()), ..LoadOptions::default() };
    data::load(&root().join("fixtures/synthetic/radiomics_synthetic.csv"), &opts).unwrap().0
}

fn wdbc(globs: &[&str]) -> Dataset {
    let opts = LoadOptions {
        features: Some(globs.iter().map(|g| g.to_string()).collect()),
        id: Some("id".into()),
        label: Some("malignant".into()),
        ..LoadOptions::default()
    };
    data::load(&root().join("fixtures/wdbc/wdbc.csv"), &opts).unwrap().0
}

/// Rows of a fixture CSV as maps from column name to text.
fn fixture(name: &str) -> Vec<BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_path(root().join("fixtures/sklearn").join(name)).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect())
        .collect()
}

fn num(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row[key].parse().unwrap_or_else(|_| panic!("{key}: {}", row[key]))
}

fn tables() -> Vec<(&'static str, Dataset)> {
    vec![("synthetic", synthetic()), ("wdbc", wdbc(&["mean_*", "*_error", "worst_*"]))]
}

fn rel_err(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / b.abs() }
}

#[test]
fn anova_f_and_p_match_sklearn_f_classif() {
    let reference = fixture("f_classif.csv");
    let (mut checked, mut against_sklearn) = (0, 0);
    for (table, data) in tables() {
        let got = f_classif(&data.x, &data.y);
        for row in reference.iter().filter(|r| r["table"] == table) {
            let name = &row["feature"];
            let j = data.feature_index(name).unwrap();
            let (f, p) = got[j];
            // Against the statistic in exact arithmetic and scipy's p-value of it.
            let (exact_f, exact_p) = (num(row, "F_exact"), num(row, "p_exact"));
            assert!(rel_err(f, exact_f) < 1e-9, "{table} {name}: F {f} vs exact {exact_f}");
            assert!(rel_err(p, exact_p) < 1e-9, "{table} {name}: p {p} vs exact {exact_p}");
            // Against f_classif itself wherever its own rounding error is below 5e-10: its
            // sum-of-squares formula cancels when the class means nearly coincide (one
            // synthetic feature, F ~ 2e-5, where it is off by 9e-8 relative).
            let (sk_f, sk_p) = (num(row, "F"), num(row, "p"));
            if rel_err(sk_f, exact_f) < 5e-10 {
                assert!(rel_err(f, sk_f) < 1e-9, "{table} {name}: F {f} vs {sk_f}");
                assert!(rel_err(p, sk_p) < 1e-9, "{table} {name}: p {p} vs {sk_p}");
                against_sklearn += 1;
            }
            checked += 1;
        }
    }
    // 106 synthetic and 30 WDBC features; p-values span from ~1 down to below 1e-100.
    assert_eq!((checked, against_sklearn), (136, 135));
}

#[test]
fn mutual_information_matches_the_sklearn_estimator_and_its_noise_range() {
    let reference = fixture("mutual_info.csv");
    for (table, data) in tables() {
        let noisy = mutual_info_classif(&data.x, &data.y, 3, 42, &[]);
        for row in reference.iter().filter(|r| r["table"] == table) {
            let j = data.feature_index(&row["feature"]).unwrap();
            // The estimator itself, on the same numbers: equal up to rounding.
            let exact = mutual_info_cd(&data.x.col(j), &data.y, 3);
            let want = num(row, "mi_estimator");
            assert!((exact - want).abs() <= 1e-12 * want.max(1.0), "{table} {}", row["feature"]);
            // With tie-breaking noise (ours, not numpy's), within the range scikit-learn's own
            // random_state moves it, widened by that range's width and 0.005 nats.
            let (lo, hi) = (num(row, "mi_public_min"), num(row, "mi_public_max"));
            let slack = (hi - lo) + 0.005;
            assert!(
                noisy[j] >= lo - slack && noisy[j] <= hi + slack,
                "{table} {}: {} outside [{lo}, {hi}] +- {slack}",
                row["feature"],
                noisy[j]
            );
        }
    }
}

#[test]
fn l2_logistic_regression_matches_sklearn() {
    let data = wdbc(&["mean_*"]);
    let xs = glrfe::preprocess::Scaler::fit(&data.x).transform(&data.x);
    let fit = logistic::fit_l2(&xs, &data.y, 1.0).unwrap();
    for row in fixture("logistic.csv") {
        let want = num(&row, "coefficient");
        let got = match data.feature_index(&row["feature"]) {
            Some(j) => fit.weights[j],
            None => fit.intercept,
        };
        assert!((got - want).abs() < 1e-7, "{}: {got} vs {want}", row["feature"]);
    }
}

#[test]
fn rfe_logistic_ranks_as_sklearn_rfe() {
    let data = wdbc(&["mean_*"]);
    let reference = fixture("rfe.csv");
    for (text, step) in [("1", Step::Count(1)), ("2", Step::Count(2)), ("0.3", Step::Fraction(0.3))]
    {
        let sel = rfe::RfeLogistic { keep: 3, step, c: 1.0 }
            .select(&data.x, &data.y, 0, &[], None)
            .unwrap();
        let ranks = rfe::sklearn_ranks(&sel, data.d());
        for row in reference.iter().filter(|r| r["step"] == text) {
            let j = data.feature_index(&row["feature"]).unwrap();
            assert_eq!(ranks[j].to_string(), row["ranking"], "step {text}: {}", row["feature"]);
        }
        assert_eq!(sel.kept.len(), 3);
    }
}

#[test]
fn lasso_keeps_exactly_k_nonzero_coefficients_at_an_optimum() {
    let data = synthetic();
    let xs = glrfe::preprocess::Scaler::fit(&data.x).transform(&data.x);
    let (fit, lambda) = baselines::lasso::fit_with_k_nonzero(&xs, &data.y, 15).unwrap();
    assert_eq!(fit.weights.iter().filter(|w| **w != 0.0).count(), 15);
    // Subgradient optimality: |grad_j| <= lambda where w_j = 0, grad_j = -lambda sign(w_j) else.
    let g = logistic::data_gradient(&fit, &xs, &data.y);
    for (gj, wj) in g.iter().zip(&fit.weights) {
        if *wj == 0.0 {
            assert!(gj.abs() <= lambda * (1.0 + 1e-6), "{gj} > {lambda}");
        } else {
            assert!((gj + lambda * wj.signum()).abs() < 1e-5 * lambda, "{gj} {wj} {lambda}");
        }
    }
    // The selector keeps those 15, ordered by |coefficient|.
    let sel = baselines::lasso::Lasso { keep: 15 }.select(&data.x, &data.y, 0, &[], None).unwrap();
    let mut nonzero: Vec<usize> = (0..data.d()).filter(|&j| fit.weights[j] != 0.0).collect();
    nonzero.sort_by(|&a, &b| fit.weights[b].abs().total_cmp(&fit.weights[a].abs()));
    assert_eq!(sel.kept, nonzero);
}

/// A table of `n` rows and `d` standard-normal columns whose label is sign(x0) sign(x1) with
/// 5% of labels flipped: x0 and x1 carry all the signal and neither has a marginal effect.
fn interaction_table(n: usize, d: usize) -> (Matrix, Vec<usize>) {
    let mut rng = Stream::derive(2024, "interaction-table", &[]);
    let mut x = Matrix::zeros(n, d);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        for j in 0..d {
            x.set(i, j, rng.normal());
        }
        let label = usize::from(x.get(i, 0) * x.get(i, 1) > 0.0);
        y.push(if rng.uniform() < 0.05 { 1 - label } else { label });
    }
    (x, y)
}

#[test]
fn glrfe_finds_an_interaction_that_anova_cannot_see() {
    let (x, y) = interaction_table(400, 12);
    let keep = 3;
    let cfg = GlrfeConfig {
        keep,
        step: Step::Count(1),
        balance: Balance::None,
        train: TrainConfig {
            hidden: vec![16, 8],
            epochs: 150,
            learning_rate: 0.01,
            ..TrainConfig::default()
        },
        ..GlrfeConfig::default()
    };
    for importance in [Importance::Gradient, Importance::GradXInput] {
        let cfg = GlrfeConfig { importance, ..cfg.clone() };
        let sel = cfg.select(&x, &y, 3, &[], None).unwrap();
        assert!(
            sel.kept.contains(&0) && sel.kept.contains(&1),
            "{} kept {:?}",
            cfg.name(),
            sel.kept
        );
    }
    let anova = baselines::selector("anova", &cfg).unwrap().select(&x, &y, 3, &[], None).unwrap();
    assert!(
        !(anova.kept.contains(&0) && anova.kept.contains(&1)),
        "anova kept both interacting features: {:?}",
        anova.kept
    );
    // The F statistics of the two are those of noise: p far from significance.
    let f = f_classif(&x, &y);
    assert!(f[0].1 > 0.01 && f[1].1 > 0.01, "{:?} {:?}", f[0], f[1]);
}

/// Rows whose sample correlation matrix is exactly `r` (up to rounding): orthonormalised
/// centred noise times the Cholesky factor of `r`. Written with indices, as the formulas are.
#[allow(clippy::needless_range_loop)]
fn rows_with_correlation(r: &[[f64; 4]; 4], n: usize) -> Matrix {
    let mut rng = Stream::derive(9, "whiten", &[]);
    let mut z: Vec<Vec<f64>> = (0..4).map(|_| (0..n).map(|_| rng.normal()).collect()).collect();
    // Gram-Schmidt on centred columns, each scaled to sum of squares n (population variance 1).
    for a in 0..4 {
        let mean = z[a].iter().sum::<f64>() / n as f64;
        z[a].iter_mut().for_each(|v| *v -= mean);
        for b in 0..a {
            let proj = (0..n).map(|i| z[a][i] * z[b][i]).sum::<f64>() / n as f64;
            for i in 0..n {
                z[a][i] -= proj * z[b][i];
            }
        }
        let norm = ((0..n).map(|i| z[a][i] * z[a][i]).sum::<f64>() / n as f64).sqrt();
        z[a].iter_mut().for_each(|v| *v /= norm);
    }
    // L L^T = r.
    let mut l = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = if i == j { (r[i][i] - s).sqrt() } else { (r[i][j] - s) / l[j][j] };
        }
    }
    let mut x = Matrix::zeros(n, 4);
    for i in 0..n {
        for a in 0..4 {
            x.set(i, a, (0..=a).map(|k| l[a][k] * z[k][i]).sum());
        }
    }
    x
}

#[test]
fn decorrelation_drops_the_member_more_correlated_with_the_rest() {
    let r = [
        [1.0, 0.93, 0.3, 0.1],
        [0.93, 1.0, 0.45, 0.2],
        [0.3, 0.45, 1.0, 0.92],
        [0.1, 0.2, 0.92, 1.0],
    ];
    let x = rows_with_correlation(&r, 60);
    let cm = baselines::correlation_matrix(&x);
    for a in 0..4 {
        for b in 0..4 {
            assert!((cm[a * 4 + b] - r[a][b]).abs() < 1e-12);
        }
    }
    // Mean |r| to the others: x0 .443, x1 .527, x2 .557, x3 .407, so pairs are visited from x2.
    // (x2, x3) at .92: x2's .557 beats x3's .407, x2 goes. (x1, x0) at .93: without x2, x1 has
    // (.93 + .2)/2 = .565 and x0 (.93 + .1)/2 = .515, x1 goes.
    let dropped = decorrelate::find_correlated(&x, 0.9);
    let got: Vec<(usize, usize)> = dropped.iter().map(|g| (g.feature, g.partner)).collect();
    assert_eq!(got, vec![(2, 3), (1, 0)]);
    assert!((dropped[1].mean_abs_r - 0.565).abs() < 1e-12);
    assert!((dropped[1].partner_mean_abs_r - 0.515).abs() < 1e-12);
    assert!(decorrelate::find_correlated(&x, 0.95).is_empty());

    // As a wrapper: the inner method sees x0 and x3 only; the dropped rank last, round 1.
    let y: Vec<usize> = (0..60).map(|i| usize::from(x.get(i, 0) + x.get(i, 3) > 0.0)).collect();
    let inner = baselines::selector("anova", &GlrfeConfig { keep: 2, ..Default::default() });
    let wrapped = Decorrelated { threshold: 0.9, keep: 2, inner: inner.unwrap() };
    let sel = wrapped.select(&x, &y, 0, &[], None).unwrap();
    let mut kept = sel.kept.clone();
    kept.sort();
    assert_eq!(kept, vec![0, 3]);
    let tail: Vec<(usize, Option<usize>)> =
        sel.ranking[2..].iter().map(|r| (r.feature, r.eliminated_in_round)).collect();
    assert_eq!(tail, vec![(2, Some(1)), (1, Some(1))]);
    assert_eq!(sel.rounds[0].eliminated, vec![2, 1]);
    let too_few = Decorrelated { threshold: 0.9, keep: 3, ..wrapped };
    assert!(too_few.select(&x, &y, 0, &[], None).is_err());
}

#[test]
fn mrmr_passes_over_a_copy_that_anova_ranks_second() {
    // x0 strong, x1 a near copy of x0, x2 weaker but independent of x0.
    let mut rng = Stream::derive(5, "mrmr-table", &[]);
    let n = 300;
    let mut x = Matrix::zeros(n, 3);
    let mut y = Vec::new();
    for i in 0..n {
        let (a, b) = (rng.normal(), rng.normal());
        x.set(i, 0, a);
        x.set(i, 1, a + 0.05 * rng.normal());
        x.set(i, 2, b);
        y.push(usize::from(1.5 * a + 0.7 * b + rng.normal() > 0.0));
    }
    let cfg = GlrfeConfig { keep: 2, ..Default::default() };
    let order = |name: &str| -> Vec<usize> {
        let sel = baselines::selector(name, &cfg).unwrap().select(&x, &y, 1, &[], None).unwrap();
        sel.ranking.iter().map(|r| r.feature).collect()
    };
    assert_eq!(order("mrmr")[..2], [0, 2]);
    assert_eq!(order("anova")[..2], [0, 1]);
}

#[test]
fn forest_and_permutation_find_a_threshold_signal_and_are_thread_independent() {
    // Only x0 matters, through a step; x1..x5 are noise.
    let mut rng = Stream::derive(11, "step-table", &[]);
    let n = 240;
    let mut x = Matrix::zeros(n, 6);
    let mut y = Vec::new();
    for i in 0..n {
        for j in 0..6 {
            x.set(i, j, rng.normal());
        }
        y.push(usize::from(x.get(i, 0) > 0.3));
    }
    let cfg = GlrfeConfig {
        keep: 2,
        train: TrainConfig { hidden: vec![8], epochs: 40, ..TrainConfig::default() },
        ..Default::default()
    };
    for name in ["forest", "permutation"] {
        let sel = baselines::selector(name, &cfg).unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| sel.select(&x, &y, 8, &[1, 2], None).unwrap())
        };
        let (one, three) = (run(1), run(3));
        assert_eq!(one, three, "{name} depends on the thread count");
        assert_eq!(one.kept[0], 0, "{name}: {:?}", one.ranking);
    }
}

#[test]
fn random_ranking_is_seeded() {
    let data = synthetic();
    let cfg = GlrfeConfig::default();
    let sel = baselines::selector("random", &cfg).unwrap();
    let a = sel.select(&data.x, &data.y, 1, &[0, 0], None).unwrap();
    assert_eq!(a, sel.select(&data.x, &data.y, 1, &[0, 0], None).unwrap());
    assert_ne!(a.kept, sel.select(&data.x, &data.y, 1, &[0, 1], None).unwrap().kept);
    assert!(baselines::selector("nonsense", &cfg).is_err());
    assert_eq!(baselines::METHODS.len(), 10);
    for m in baselines::METHODS {
        assert_eq!(baselines::selector(m, &cfg).unwrap().name(), m);
    }
}
