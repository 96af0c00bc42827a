//! Tests of `nn::train` and of the constructors: learning on a separable problem,
//! reproducibility, weight decay, shape validation and divergence reporting.

use glrfe::nn::{Dense, Kernel, Mlp, Precision, TrainConfig, bench, train};
use glrfe::rng::Stream;
use glrfe::{ErrorKind, Matrix};

/// Two Gaussian blobs in `d` dimensions, means -2 and +2 in every coordinate, sd 1: at a
/// distance of 4 sqrt(d) they are separable in practice for d >= 3.
fn blobs(n: usize, d: usize, seed: u64) -> (Matrix, Vec<usize>) {
    let mut rng = Stream::derive(seed, "blobs", &[]);
    let mut data = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 2;
        let mean = if class == 1 { 2.0 } else { -2.0 };
        data.extend((0..d).map(|_| mean + rng.normal()));
        y.push(class);
    }
    (Matrix::from_row_major(n, d, data), y)
}

fn small_config() -> TrainConfig {
    TrainConfig {
        hidden: vec![8, 4],
        epochs: 30,
        learning_rate: 1e-2,
        batch_size: 16,
        ..TrainConfig::default()
    }
}

fn weight_norm2(mlp: &Mlp) -> f64 {
    mlp.layers().iter().flat_map(|l| &l.weight).map(|w| w * w).sum()
}

fn bits(mlp: &Mlp) -> Vec<u64> {
    mlp.layers().iter().flat_map(|l| l.weight.iter().chain(&l.bias)).map(|v| v.to_bits()).collect()
}

#[test]
fn default_config_matches_the_documented_values() {
    let c = TrainConfig::default();
    assert_eq!(c.hidden, vec![64, 32]);
    assert_eq!((c.epochs, c.batch_size), (100, 32));
    assert_eq!((c.learning_rate, c.weight_decay), (1e-3, 0.0));
    assert_eq!((c.beta1, c.beta2, c.eps), (0.9, 0.999, 1e-8));
}

#[test]
fn training_separates_two_blobs() {
    let (x, y) = blobs(120, 4, 1);
    let mut rng = Stream::derive(1, "init", &[0]);
    let (mlp, report) = train(&x, &y, None, &small_config(), &mut rng).unwrap();

    assert_eq!(report.epoch_loss.len(), 30);
    let first = report.epoch_loss[0];
    let last = *report.epoch_loss.last().unwrap();
    assert!(last < 0.1 * first, "loss went from {first} to {last}");

    let p = mlp.predict_proba(&x);
    let correct = p.iter().zip(&y).filter(|&(&p, &c)| (p > 0.5) == (c == 1)).count();
    let accuracy = correct as f64 / y.len() as f64;
    assert!(accuracy > 0.95, "training accuracy {accuracy}");

    // The reported loss is that of the batches before their updates, so the final network
    // does at least as well on the whole set as the last epoch's average.
    assert!(mlp.loss(&x, &y, None) < 2.0 * last);
}

#[test]
fn full_batch_and_row_weights_also_train() {
    let (x, y) = blobs(60, 3, 2);
    let w: Vec<f64> = (0..60).map(|i| if i % 3 == 0 { 2.0 } else { 0.5 }).collect();
    let cfg = TrainConfig { batch_size: 0, epochs: 150, ..small_config() };
    let mut rng = Stream::derive(2, "init", &[]);
    let (_, report) = train(&x, &y, Some(&w), &cfg, &mut rng).unwrap();
    let (first, last) = (report.epoch_loss[0], *report.epoch_loss.last().unwrap());
    assert!(last < 0.1 * first, "loss went from {first} to {last}");
}

#[test]
fn same_seed_gives_bit_identical_networks() {
    let (x, y) = blobs(50, 5, 3);
    let cfg = TrainConfig { epochs: 5, batch_size: 7, ..small_config() };
    let run = |seed| {
        let mut rng = Stream::derive(seed, "init", &[1, 2]);
        train(&x, &y, None, &cfg, &mut rng).unwrap()
    };
    let (a, ra) = run(9);
    let (b, rb) = run(9);
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(ra, rb);

    let (c, _) = run(10);
    assert_ne!(bits(&a), bits(&c), "a different seed should give a different network");
}

#[test]
fn weight_decay_shrinks_the_weights() {
    let (x, y) = blobs(80, 4, 4);
    let run = |weight_decay| {
        let cfg = TrainConfig { weight_decay, epochs: 40, ..small_config() };
        let mut rng = Stream::derive(4, "init", &[]);
        train(&x, &y, None, &cfg, &mut rng).unwrap().0
    };
    let plain = weight_norm2(&run(0.0));
    let decayed = weight_norm2(&run(0.5));
    assert!(decayed < 0.8 * plain, "squared weight norm {decayed} with decay vs {plain} without");
}

#[test]
fn he_init_has_the_right_shapes_and_scale() {
    let mut rng = Stream::derive(5, "init", &[]);
    let mlp = Mlp::he_init(200, &[100], 2, &mut rng);
    let l = &mlp.layers()[0];
    assert_eq!((l.inputs, l.outputs, l.weight.len(), l.bias.len()), (200, 100, 20_000, 100));
    assert!(l.bias.iter().all(|&b| b == 0.0));
    let var = l.weight.iter().map(|w| w * w).sum::<f64>() / l.weight.len() as f64;
    assert!((var - 2.0 / 200.0).abs() < 0.05 * 2.0 / 200.0, "weight variance {var}");
    assert_eq!((mlp.inputs(), mlp.outputs()), (200, 2));
}

#[test]
fn from_layers_rejects_shapes_that_do_not_chain() {
    let ok = Mlp::from_layers(vec![Dense::zeros(3, 4), Dense::zeros(4, 2)]);
    assert!(ok.is_ok());

    let cases: Vec<(Vec<Dense>, &str)> = vec![
        (vec![], "at least one layer"),
        (
            vec![Dense::zeros(3, 4), Dense::zeros(5, 2)],
            "layer 1 has 5 inputs but layer 0 has 4 outputs",
        ),
        (vec![Dense::zeros(3, 1)], "the last layer has 1 output"),
        (
            vec![Dense { inputs: 3, outputs: 2, weight: vec![0.0; 5], bias: vec![0.0; 2] }],
            "5 weights",
        ),
        (
            vec![Dense { inputs: 3, outputs: 2, weight: vec![0.0; 6], bias: vec![0.0; 3] }],
            "3 biases",
        ),
        (vec![Dense { inputs: 0, outputs: 2, weight: vec![], bias: vec![0.0; 2] }], "must be > 0"),
        (
            vec![Dense {
                inputs: 2,
                outputs: 2,
                weight: vec![0.0, 0.0, f64::NAN, 0.0],
                bias: vec![0.0; 2],
            }],
            "weight [1, 0] is not finite",
        ),
        (
            vec![Dense {
                inputs: 1,
                outputs: 2,
                weight: vec![0.0; 2],
                bias: vec![0.0, f64::INFINITY],
            }],
            "bias [1]",
        ),
    ];
    for (layers, expected) in cases {
        let err = Mlp::from_layers(layers).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Input);
        assert!(
            err.message().contains(expected),
            "message {:?} should contain {expected:?}",
            err.message()
        );
    }
}

#[test]
fn overflowing_inputs_report_divergence_instead_of_panicking() {
    // Inputs of 1e300 are not enough: with three inputs the logits and the loss stay finite
    // (around 1e300), and Adam's steps are bounded by the learning rate. Inputs near f64::MAX
    // make the first layer's sums overflow.
    let (mut x, y) = blobs(20, 3, 6);
    for v in x.as_mut_slice() {
        *v = v.signum() * 1.5e308;
    }
    let mut rng = Stream::derive(6, "init", &[]);
    let err = train(&x, &y, None, &small_config(), &mut rng).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Run);
    assert!(
        err.message().starts_with("training diverged at epoch 1 (loss = "),
        "{}",
        err.message()
    );
    assert!(err.message().ends_with("lower the learning rate"), "{}", err.message());
}

#[test]
fn huge_learning_rate_reports_divergence_instead_of_panicking() {
    let (x, y) = blobs(40, 3, 7);
    let cfg = TrainConfig { learning_rate: 1e300, ..small_config() };
    let mut rng = Stream::derive(7, "init", &[]);
    let err = train(&x, &y, None, &cfg, &mut rng).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Run);
    assert!(err.message().contains("training diverged at epoch"), "{}", err.message());
}

#[test]
fn invalid_settings_and_data_are_usage_errors() {
    let (x, y) = blobs(10, 2, 8);
    let base = small_config();
    let bad_configs = [
        TrainConfig { epochs: 0, ..base.clone() },
        TrainConfig { learning_rate: 0.0, ..base.clone() },
        TrainConfig { learning_rate: f64::NAN, ..base.clone() },
        TrainConfig { hidden: vec![4, 0], ..base.clone() },
        TrainConfig { hidden: vec![], ..base.clone() },
        TrainConfig { beta1: 1.0, ..base.clone() },
        TrainConfig { eps: 0.0, ..base.clone() },
        TrainConfig { weight_decay: -1.0, ..base.clone() },
    ];
    for cfg in &bad_configs {
        let err = train(&x, &y, None, cfg, &mut Stream::derive(8, "init", &[])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{cfg:?}: {err}");
    }

    let usage = |x: &Matrix, y: &[usize], w: Option<&[f64]>| {
        let err = train(x, y, w, &base, &mut Stream::derive(8, "init", &[])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
        err.message().to_string()
    };
    let mut y2 = y.clone();
    y2[3] = 2;
    assert!(usage(&x, &y2, None).contains("row 3"));
    assert!(usage(&x, &y[..9], None).contains("10 rows but y has 9"));
    assert!(usage(&Matrix::zeros(0, 2), &[], None).contains("at least one row"));
    assert!(usage(&x, &y, Some(&[1.0; 9])).contains("9 row weights"));
    let mut w = vec![1.0; 10];
    w[4] = 0.0;
    assert!(usage(&x, &y, Some(&w)).contains("row weight 4"));
    let mut xn = x.clone();
    xn.set(2, 1, f64::NAN);
    assert!(usage(&xn, &y, None).contains("x[2, 1]"));
}

#[test]
fn without_inputs_equals_zeroing_the_dropped_columns() {
    let mut rng = Stream::derive(9, "init", &[]);
    let mlp = Mlp::he_init(5, &[6], 2, &mut rng);
    let (x, _) = blobs(7, 5, 9);
    let keep = [0, 2, 3];
    let reduced = mlp.without_inputs(&keep);
    assert_eq!(reduced.inputs(), 3);
    assert_eq!(reduced.layers()[1], mlp.layers()[1]);

    let mut zeroed = x.clone();
    for i in 0..x.rows() {
        zeroed.set(i, 1, 0.0);
        zeroed.set(i, 4, 0.0);
    }
    let a = reduced.logits(&x.select_cols(&keep));
    let b = mlp.logits(&zeroed);
    for (u, v) in a.as_slice().iter().zip(b.as_slice()) {
        assert!((u - v).abs() < 1e-12, "{u} vs {v}");
    }
}

#[test]
fn batch_size_larger_than_the_data_is_one_batch() {
    let (x, y) = blobs(10, 2, 10);
    let run = |batch_size| {
        let cfg = TrainConfig { batch_size, epochs: 3, ..small_config() };
        train(&x, &y, None, &cfg, &mut Stream::derive(10, "init", &[])).unwrap()
    };
    let (a, ra) = run(0);
    let (b, rb) = run(1000);
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(ra, rb);
}

/// Training as the documentation states it, one step at a time: each epoch shuffles `0..n` with
/// the training stream, and each batch takes the gradients of the whole network in `precision`
/// (`nn::bench::gradients`, which for `f64` is [`Mlp::gradients`]) and one Adam step written out
/// here, every operation rounded to `precision` (rounding an `f64` sum, product, quotient or
/// square root of `f32` values to `f32` is exactly the `f32` operation).
fn reference_training(
    x: &Matrix,
    y: &[usize],
    w: Option<&[f64]>,
    cfg: &TrainConfig,
    seed: u64,
) -> (Mlp, Vec<f64>) {
    let single = cfg.precision == Precision::F32;
    let r = |v: f64| if single { v as f32 as f64 } else { v };
    let (n, d) = (x.rows(), x.cols());
    let mut rng = Stream::derive(seed, "reference", &[]);
    let start = Mlp::he_init(d, &cfg.hidden, 2, &mut rng);
    let params = |net: &Mlp| -> Vec<f64> {
        net.layers().iter().flat_map(|l| l.weight.iter().chain(&l.bias)).map(|&v| r(v)).collect()
    };
    let decays: Vec<f64> = start
        .layers()
        .iter()
        .flat_map(|l| {
            std::iter::repeat_n(r(cfg.weight_decay), l.weight.len())
                .chain(std::iter::repeat_n(0.0, l.bias.len()))
        })
        .collect();
    let rebuild = |net: &Mlp, p: &[f64]| {
        let mut at = 0;
        let layers = net
            .layers()
            .iter()
            .map(|l| {
                let (nw, nb) = (l.weight.len(), l.bias.len());
                let weight = p[at..at + nw].to_vec();
                let bias = p[at + nw..at + nw + nb].to_vec();
                at += nw + nb;
                Dense { inputs: l.inputs, outputs: l.outputs, weight, bias }
            })
            .collect();
        Mlp::from_layers(layers).unwrap()
    };
    let mut net = rebuild(&start, &params(&start));
    let size = params(&net).len();
    let (mut m, mut v) = (vec![0.0; size], vec![0.0; size]);
    let (b1, b2, eps) = (r(cfg.beta1), r(cfg.beta2), r(cfg.eps));
    let (c1, c2) = (r(1.0 - cfg.beta1), r(1.0 - cfg.beta2));
    let mut t = 0;
    let mut epoch_loss = Vec::new();
    for _ in 0..cfg.epochs {
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        let (mut sum, mut batches) = (0.0, 0);
        for rows in order.chunks(cfg.batch_size) {
            let xb = x.select_rows(rows);
            let yb: Vec<usize> = rows.iter().map(|&r| y[r]).collect();
            let wb: Option<Vec<f64>> = w.map(|w| rows.iter().map(|&r| w[r]).collect());
            let (g, _) =
                bench::gradients(Kernel::active(), cfg.precision, &net, &xb, &yb, wb.as_deref());
            let grad: Vec<f64> =
                g.layers.iter().flat_map(|l| l.weight.iter().chain(&l.bias)).copied().collect();

            t += 1;
            let step_size = r(cfg.learning_rate / (1.0 - cfg.beta1.powi(t)));
            let inv_bc2_sqrt = r(1.0 / (1.0 - cfg.beta2.powi(t)).sqrt());
            let mut p = params(&net);
            for i in 0..size {
                let gi = r(grad[i] + r(decays[i] * p[i]));
                m[i] = r(r(b1 * m[i]) + r(c1 * gi));
                v[i] = r(r(b2 * v[i]) + r(r(c2 * gi) * gi));
                let denominator = r(r(r(v[i].sqrt()) * inv_bc2_sqrt) + eps);
                p[i] = r(p[i] - r(r(step_size * m[i]) / denominator));
            }
            net = rebuild(&net, &p);
            sum += g.loss;
            batches += 1;
        }
        epoch_loss.push(sum / batches as f64);
    }
    (net, epoch_loss)
}

#[test]
fn training_is_bit_for_bit_the_documented_steps_on_any_thread_count() {
    // Training splits each step between two threads by the first layer's units; this checks
    // that the split computes exactly what whole-network passes compute, for odd and even
    // widths, one to three hidden layers, row weights, weight decay and a short last batch, in
    // both precisions. The last networks have first layers large enough for training to
    // lend a second thread to their steps (see `nn::train_on`), and train long enough (a few
    // hundred steps) for that thread to wake and take most halves; the others run both parts
    // on one thread.
    let w: Vec<f64> = (0..200).map(|i| 0.5 + (i % 4) as f64 * 0.25).collect();
    // (inputs, rows, epochs, batch, hidden widths, row weights, precision)
    let cases = [
        (6, 45, 3, 8, vec![6], false, Precision::F64),
        (6, 45, 3, 8, vec![7, 5], true, Precision::F64),
        (6, 45, 3, 8, vec![5, 4, 3], false, Precision::F32),
        (6, 45, 3, 8, vec![1, 3], true, Precision::F32),
        (40, 200, 12, 8, vec![64, 5], true, Precision::F64),
        (130, 200, 12, 8, vec![65, 3], false, Precision::F32),
        (130, 200, 12, 8, vec![64], true, Precision::F32),
        (40, 200, 12, 8, vec![64], false, Precision::F64),
        // A first layer of one unit: the first part has none.
        (600, 200, 12, 8, vec![1, 8], true, Precision::F64),
        // One batch of all rows: products past the first layer large enough to split between
        // threads if the step let them.
        (40, 200, 60, 200, vec![64, 64, 32], false, Precision::F64),
    ];
    for (d, n, epochs, batch_size, hidden, weighted, precision) in cases {
        let (x, y) = blobs(n, d, 11);
        let cfg = TrainConfig {
            hidden: hidden.clone(),
            epochs,
            learning_rate: 1e-2,
            batch_size,
            weight_decay: 1e-3,
            precision,
            ..TrainConfig::default()
        };
        let weight = weighted.then_some(&w[..n]);
        let (expect, expect_loss) = reference_training(&x, &y, weight, &cfg, 5);
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (got, report) = pool.install(|| {
                let mut rng = Stream::derive(5, "reference", &[]);
                train(&x, &y, weight, &cfg, &mut rng).unwrap()
            });
            let what =
                format!("{d} inputs, hidden {hidden:?}, {}, {threads} threads", precision.name());
            assert_eq!(bits(&got), bits(&expect), "{what}");
            assert_eq!(report.epoch_loss, expect_loss, "{what}");
        }
    }
}
