//! The honest-evaluation command: the nested protocol stays at chance on labels that carry no
//! information while the published protocol does not, nested beats chance on the bundled
//! synthetic table, results do not depend on the thread count, K is chosen along the real
//! elimination path, class weights enter the loss and its gradient, and the CLI labels the
//! published numbers as optimistic.

use std::fs;
use std::path::Path;
use std::process::Command;

use glrfe::assess::{self, AssessConfig, AssessReport, Keep, Protocol};
use glrfe::data::{Dataset, LoadOptions};
use glrfe::matrix::Matrix;
use glrfe::nn::{Dense, Mlp, TrainConfig};
use glrfe::rng::Stream;
use glrfe::select::{self, Balance, GlrfeConfig, Step};

const TABLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/synthetic/radiomics_synthetic.csv");

/// Small, quick settings: behaviour, not accuracy, is under test.
fn quick(keep: Keep, protocol: Protocol, epochs: usize) -> AssessConfig {
    AssessConfig {
        glrfe: GlrfeConfig {
            keep: 10,
            step: Step::Fraction(0.3),
            balance: Balance::Smote { k: 5 },
            train: TrainConfig { hidden: vec![16], epochs, ..TrainConfig::default() },
            ..GlrfeConfig::default()
        },
        keep,
        outer: 5,
        repeats: 1,
        bootstrap: 200,
        protocol,
    }
}

/// n0 rows of class 0 and n1 of class 1 with d standard normal features drawn independently of
/// the labels.
fn null_table(n0: usize, n1: usize, d: usize, seed: u64) -> Dataset {
    let mut rng = Stream::derive(seed, "null-table", &[]);
    let n = n0 + n1;
    let x = Matrix::from_row_major(n, d, (0..n * d).map(|_| rng.normal()).collect());
    // The labels come from a stream of their own, so nothing links them to the features.
    let mut y: Vec<usize> = (0..n).map(|i| usize::from(i >= n0)).collect();
    Stream::derive(seed, "null-labels", &[]).shuffle(&mut y);
    assert_eq!(y.iter().filter(|&&c| c == 1).count(), n1);
    Dataset {
        ids: (0..n).map(|i| format!("P{i}")).collect(),
        names: (0..d).map(|j| format!("f{j}")).collect(),
        x,
        y,
        classes: ["0".into(), "1".into()],
    }
}

/// Standard deviation of the Mann-Whitney AUC under the null hypothesis that scores do not
/// depend on the labels: Var(U) = n0 n1 (n0 + n1 + 1) / 12, AUC = U / (n0 n1).
fn null_auc_sd(n0: usize, n1: usize) -> f64 {
    let (a, b) = (n0 as f64, n1 as f64);
    ((a + b + 1.0) / (12.0 * a * b)).sqrt()
}

#[test]
fn nested_stays_at_chance_on_uninformative_labels_while_published_does_not() {
    let (n0, n1) = (200, 100);
    let data = null_table(n0, n1, 60, 5);
    let features: Vec<usize> = (0..data.d()).collect();
    // A network able to memorise its training rows, as an overfitted published run would be.
    let mut cfg = quick(Keep::Fixed(8), Protocol::Both, 100);
    cfg.glrfe.train.hidden = vec![32];
    let rep = assess::assess(&data, &features, &cfg, 11, None).unwrap();
    let nested = rep.nested.as_ref().unwrap().cv.pooled.roc_auc;
    let published = rep.published.as_ref().unwrap().cv.pooled.roc_auc;

    // In each outer fold the model never saw the test rows, whose features are independent of
    // their labels, and every fold holds both classes in the table's proportions; so the pooled
    // out-of-fold scores are (up to the weak dependence cross-validation induces between folds)
    // exchangeable with respect to the labels, and the pooled AUC follows the Mann-Whitney null:
    // mean 1/2, sd sqrt((n0 + n1 + 1) / (12 n0 n1)) = 0.035 here. Four sd (a false alarm rate
    // of about 6e-5) bounds it.
    let bound = 4.0 * null_auc_sd(n0, n1);
    assert!((nested - 0.5).abs() <= bound, "nested AUC {nested} outside 0.5 +- {bound}");
    // The published protocol chose its features on all rows and tests on SMOTE neighbours of
    // its training rows: well above anything chance gives.
    assert!(published > 0.5 + bound, "published AUC {published} not above 0.5 + {bound}");
    assert!(published > nested + 0.1, "published {published} vs nested {nested}");
    assert!(rep.published.as_ref().unwrap().optimistic && !rep.nested.as_ref().unwrap().optimistic);
}

fn synthetic() -> Dataset {
    let opts = LoadOptions { label: Some("stage".into()), ..LoadOptions::default() };
    glrfe::data::load(Path::new(TABLE), &opts).unwrap().0
}

#[test]
fn nested_beats_chance_on_the_synthetic_table_and_reports_intervals_and_stability() {
    let data = synthetic();
    let features: Vec<usize> = (0..data.d()).collect();
    let cfg = quick(Keep::Fixed(10), Protocol::Nested, 30);
    let rep = assess::assess(&data, &features, &cfg, 42, None).unwrap();
    let nested = rep.nested.as_ref().unwrap();
    let [n0, n1] = data.class_counts();
    let auc = nested.cv.pooled.roc_auc;
    assert!(auc > 0.5 + 4.0 * null_auc_sd(n0, n1), "nested AUC {auc}");

    // The bootstrap interval of the pooled AUC brackets it and excludes chance.
    let (_, b) = nested.bootstrap[8];
    assert_eq!(nested.bootstrap[8].0, "roc_auc");
    assert_eq!(b.estimate, auc);
    assert!(b.lower < auc && auc < b.upper && b.lower > 0.5, "{b:?}");
    // One repeat: no interval over repeats, and its mean is the pooled value itself.
    assert_eq!(nested.over_repeats[8].1.estimate, auc);
    assert!(nested.over_repeats[8].1.lower.is_nan());

    // Every outer fold kept 10 features; the stability counts agree with the selections.
    assert_eq!(nested.selections.len(), 5);
    assert!(nested.selections.iter().all(|s| s.len() == 10));
    let st = nested.stability.as_ref().unwrap();
    assert_eq!(st.subsets, 5);
    assert_eq!(st.times_kept.iter().sum::<usize>(), 50);
    for (j, &t) in st.times_kept.iter().enumerate() {
        assert_eq!(t, nested.selections.iter().filter(|s| s.contains(&j)).count());
    }
    assert!(st.kuncheva.is_some() && st.nogueira.is_some());
    assert!(rep.published.is_none());
}

/// Everything a report holds, as text, for byte comparisons.
fn fingerprint(rep: &AssessReport) -> String {
    format!("{:?}\n{:?}", rep.nested, rep.published)
}

#[test]
fn results_are_identical_on_one_and_two_threads_and_k_follows_the_path() {
    let data = synthetic();
    let features: Vec<usize> = (0..40).collect();
    let mut cfg = quick(Keep::Auto { inner: 3, one_se: true, min: 2 }, Protocol::Both, 10);
    cfg.outer = 3;
    cfg.bootstrap = 50;
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| assess::assess(&data, &features, &cfg, 3, None).unwrap())
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(fingerprint(&one), fingerprint(&two));

    // The path visits exactly the counts GL-RFE passes through: 40 -> 28 -> 20 -> 14 -> 10 ->
    // 7 -> 5 -> 4 -> 3 -> 2 with step floor(0.3 n) (at least 1), scored on each inner fold.
    let mut expected = vec![40usize];
    while *expected.last().unwrap() > 2 {
        let n = *expected.last().unwrap();
        expected.push(n - ((0.3 * n as f64).floor() as usize).max(1).min(n - 2));
    }
    let nested = one.nested.as_ref().unwrap();
    assert_eq!(nested.paths.len(), 3);
    for (path, fold) in nested.paths.iter().zip(&nested.cv.folds) {
        let counts: Vec<usize> = path.points.iter().map(|p| p.count).collect();
        assert_eq!(counts, expected);
        assert!(path.points.iter().all(|p| p.score.n == 3));
        assert_eq!(path.chosen, assess::choose_count(&path.points, true));
        assert_eq!(fold.features.len(), path.chosen);
    }
    let published = one.published.as_ref().unwrap();
    assert_eq!(published.paths.len(), 1);
    assert_eq!(published.selections[0].len(), published.paths[0].chosen);
}

#[test]
fn published_folds_extend_the_nested_folds() {
    let data = synthetic();
    let features: Vec<usize> = (0..30).collect();
    let mut cfg = quick(Keep::Fixed(5), Protocol::Both, 5);
    cfg.repeats = 2;
    cfg.bootstrap = 0;
    let rep = assess::assess(&data, &features, &cfg, 8, None).unwrap();
    let (nested, published) = (rep.nested.unwrap(), rep.published.unwrap());
    let [n0, n1] = data.class_counts();
    // SMOTE tops the minority class up to the majority.
    assert_eq!(published.ids.len(), 2 * n0.max(n1));
    assert_eq!(published.real_rows, data.n());
    assert_eq!(nested.cv.folds.len(), 10);
    for (a, b) in nested.cv.folds.iter().zip(&published.cv.folds) {
        assert_eq!((a.repeat, a.fold), (b.repeat, b.fold));
        let real: Vec<usize> = b.test.iter().copied().filter(|&i| i < data.n()).collect();
        assert_eq!(real, a.test);
    }
    // No bootstrap: NaN bounds; two repeats: a t interval around the mean of the repeats.
    assert!(nested.bootstrap[0].1.lower.is_nan());
    let acc: Vec<f64> = nested.by_repeat.iter().map(|m| m.accuracy).collect();
    let i = nested.over_repeats[0].1;
    let half = 12.706204736 * (acc[0] - acc[1]).abs() / 2.0_f64.sqrt() / 2.0_f64.sqrt();
    assert!((i.estimate - (acc[0] + acc[1]) / 2.0).abs() < 1e-15);
    // The t quantile is printed to 9 decimals above, so agreement is to about 1e-9.
    assert!((i.upper - i.estimate - half).abs() < 1e-9, "{i:?} {acc:?}");
}

#[test]
fn t_quantiles_match_the_t_distribution() {
    // P(0 < T < q) / P(T > 0) = 0.475 / 0.5 = 0.95 for the t density c (1 + t^2/df)^(-(df+1)/2),
    // both integrals taken numerically (Simpson on t = u / (1 - u), u in [0, 1)), so the
    // normalising constant cancels.
    fn mass(df: f64, upper_u: f64) -> f64 {
        let f = |u: f64| {
            if u >= 1.0 {
                return 0.0;
            }
            let t = u / (1.0 - u);
            (1.0 + t * t / df).powf(-(df + 1.0) / 2.0) / ((1.0 - u) * (1.0 - u))
        };
        let n = 200_000;
        let h = upper_u / n as f64;
        let mut s = f(0.0) + f(upper_u);
        for i in 1..n {
            s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0
    }
    for df in [3usize, 5, 12, 30, 31, 45, 120] {
        let q = glrfe::special::t_quantile(0.975, df as f64);
        let ratio = mass(df as f64, q / (1.0 + q)) / mass(df as f64, 1.0);
        assert!((ratio - 0.95).abs() < 2e-6, "df {df}: q {q}, mass ratio {ratio}");
    }
    // (Closed forms for df = 1, 2 are checked beside the quantile function itself.)

    let i = assess::mean_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    // mean 3, sd sqrt(2.5), half width t(4) sqrt(2.5) / sqrt(5).
    let half = 2.776445105 * (2.5f64 / 5.0).sqrt();
    assert!((i.estimate - 3.0).abs() < 1e-15 && (i.upper - 3.0 - half).abs() < 1e-9);
}

#[test]
fn class_weights_enter_the_loss_and_its_gradient() {
    // n = 10 rows, 7 of class 0 and 3 of class 1: w = 10/14 and 10/6.
    let y = vec![0, 1, 0, 0, 1, 0, 0, 1, 0, 0];
    let w = select::class_weights(&y, Balance::ClassWeight).unwrap();
    for (&c, &wi) in y.iter().zip(&w) {
        let expected = if c == 0 { 10.0 / 14.0 } else { 10.0 / 6.0 };
        assert!((wi - expected).abs() < 1e-15);
    }
    assert!(select::class_weights(&y, Balance::None).is_none());

    let mut rng = Stream::derive(1, "class-weight-test", &[]);
    let x = Matrix::from_row_major(10, 3, (0..30).map(|_| rng.normal()).collect());
    let mlp = Mlp::he_init(3, &[5], 2, &mut rng);

    // The weighted loss is the mean of the two per-class mean losses.
    let rows = |c: usize| (0..10).filter(|&i| y[i] == c).collect::<Vec<_>>();
    let class_loss = |c: usize| {
        let r = rows(c);
        mlp.loss(&x.select_rows(&r), &vec![c; r.len()], None)
    };
    let weighted = mlp.loss(&x, &y, Some(&w));
    assert!((weighted - (class_loss(0) + class_loss(1)) / 2.0).abs() < 1e-14);

    // Central differences of the weighted loss against its analytic gradient: every weight,
    // bias and input element.
    let g = mlp.gradients(&x, &y, Some(&w));
    let h = 1e-6;
    let check = |analytic: f64, plus: f64, minus: f64, what: &str| {
        let numeric = (plus - minus) / (2.0 * h);
        let err = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-6);
        assert!(err < 1e-5, "{what}: analytic {analytic}, numeric {numeric}");
    };
    let layers = mlp.layers().to_vec();
    for l in 0..layers.len() {
        for k in 0..layers[l].weight.len() + layers[l].bias.len() {
            let moved = |delta: f64| {
                let mut ls: Vec<Dense> = layers.clone();
                let nw = ls[l].weight.len();
                if k < nw {
                    ls[l].weight[k] += delta;
                } else {
                    ls[l].bias[k - nw] += delta;
                }
                Mlp::from_layers(ls).unwrap().loss(&x, &y, Some(&w))
            };
            let nw = layers[l].weight.len();
            let analytic = if k < nw { g.layers[l].weight[k] } else { g.layers[l].bias[k - nw] };
            check(analytic, moved(h), moved(-h), &format!("layer {l} parameter {k}"));
        }
    }
    for i in 0..10 {
        for j in 0..3 {
            let moved = |delta: f64| {
                let mut xm = x.clone();
                xm.set(i, j, x.get(i, j) + delta);
                mlp.loss(&xm, &y, Some(&w))
            };
            check(g.input.get(i, j), moved(h), moved(-h), &format!("input {i},{j}"));
        }
    }

    // Importances under class weights are the weighted means of |dL_i/dx_ij|.
    let per_row = mlp.row_input_gradients(&x, &y);
    let imp = select::weighted_gradient_importance(&mlp, &x, &y, Some(&w));
    for (j, &v) in imp.iter().enumerate() {
        let expected: f64 = (0..10).map(|i| w[i] * per_row.get(i, j).abs()).sum::<f64>() / 10.0;
        assert!((v - expected).abs() < 1e-14);
    }
}

#[test]
fn class_weight_balancing_runs_the_nested_protocol_without_synthetic_rows() {
    let data = synthetic();
    let features: Vec<usize> = (0..30).collect();
    let mut cfg = quick(Keep::Fixed(5), Protocol::Both, 5);
    cfg.glrfe.balance = Balance::ClassWeight;
    cfg.bootstrap = 0;
    let rep = assess::assess(&data, &features, &cfg, 2, None).unwrap();
    let published = rep.published.unwrap();
    assert_eq!(published.ids.len(), data.n());
    // Without SMOTE both protocols test the same rows on the same folds.
    for (a, b) in rep.nested.unwrap().cv.folds.iter().zip(&published.cv.folds) {
        assert_eq!(a.test, b.test);
    }
}

fn glrfe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_glrfe")).args(args).output().expect("the binary runs")
}

#[test]
fn the_cli_writes_every_result_file_and_labels_the_published_protocol() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("assess-cli");
    let _ = fs::remove_dir_all(&dir);
    let out = dir.join("run");
    let o = glrfe(&[
        "assess",
        TABLE,
        "--label",
        "stage",
        "--features",
        "original_shape_*",
        "--protocol",
        "both",
        "--keep",
        "auto",
        "--inner",
        "3",
        "--outer",
        "3",
        "--step",
        "0.5",
        "--epochs",
        "5",
        "--hidden",
        "8",
        "--bootstrap",
        "20",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("OPTIMISTIC") && stdout.contains(assess::OPTIMISTIC_REASON));
    assert!(stdout.contains("published*-nested"));
    for f in ["assess.json", "folds.csv", "predictions.csv", "path.csv", "stability.csv"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let doc = glrfe::json::parse(&fs::read_to_string(out.join("assess.json")).unwrap()).unwrap();
    let published = doc.get("published").unwrap();
    assert_eq!(published.get("optimistic").and_then(|v| v.as_bool()), Some(true));
    assert_eq!(published.get("warning").and_then(|v| v.as_str()), Some(assess::OPTIMISTIC_REASON));
    assert_eq!(doc.get("nested").unwrap().get("optimistic").and_then(|v| v.as_bool()), Some(false));
    // The report shows both protocols, the optimistic one labelled, and the choice of K.
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("nested (honest)") && html.contains("published (OPTIMISTIC)"));
    assert!(html.contains(&assess::OPTIMISTIC_REASON.replace('\'', "&#39;")));
    for fig in ["roc", "confusion", "selection-frequency", "keep-path"] {
        assert!(out.join(format!("{fig}.svg")).is_file(), "{fig}.svg missing");
        assert!(html.contains(&format!("id=\"fig-{fig}\"")), "{fig} not in the report");
    }
    let path = fs::read_to_string(out.join("path.csv")).unwrap();
    // 3 nested paths and 1 published one, each with exactly one chosen count.
    assert_eq!(path.lines().filter(|l| l.ends_with(",1")).count(), 4);

    // Bad usage exits 2 and writes nothing.
    let bad = dir.join("bad");
    for args in [&["--protocol", "honest"][..], &["--one-se"][..], &["--keep", "0"][..]] {
        let mut a = vec!["assess", TABLE, "--label", "stage", "--quiet", "--out"];
        a.push(bad.to_str().unwrap());
        a.extend_from_slice(args);
        let o = glrfe(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(!bad.exists());
    }
}
