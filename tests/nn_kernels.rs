//! Tests of the arithmetic under `nn`'s public API: the hand-written `exp` and `ln` against
//! `std`, the register-blocked product against a plain loop in the documented order (bit for
//! bit, on shapes that exercise every tile remainder), single-precision training against double,
//! and warm starts (`train_from`, GL-RFE's `warm_epochs`).

use glrfe::Matrix;
use glrfe::nn::{self, Dense, Mlp, Precision, TrainConfig};
use glrfe::rng::Stream;
use glrfe::select::{self, Balance, GlrfeConfig};

/// Distance in units in the last place between two finite doubles of the same sign.
fn ulps(a: f64, b: f64) -> u64 {
    assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} vs {b}");
    a.to_bits().abs_diff(b.to_bits())
}

#[test]
fn exp_is_within_one_ulp_of_std() {
    let mut rng = Stream::derive(7, "exp", &[]);
    let mut worst = 0;
    // Uniform over the whole finite range, and dense near 0 where the softmax evaluates it.
    for i in 0..200_000 {
        let x = if i % 2 == 0 { -745.0 + 1454.7 * rng.uniform() } else { -40.0 * rng.uniform() };
        let (ours, std) = (nn::exp(x), x.exp());
        if std >= f64::MIN_POSITIVE && std.is_finite() {
            worst = worst.max(ulps(ours, std));
        } else {
            // Subnormal results: within a few of the smallest steps.
            assert!((ours - std).abs() <= 4.0 * f64::from_bits(1), "exp({x}) = {ours} vs {std}");
        }
    }
    assert!(worst <= 1, "exp differs from std by {worst} ulp");

    assert_eq!(nn::exp(0.0), 1.0);
    assert!(ulps(nn::exp(1.0), std::f64::consts::E) <= 1);
    assert_eq!(nn::exp(710.0), f64::INFINITY);
    assert_eq!(nn::exp(-746.0), 0.0);
    assert_eq!(nn::exp(f64::NEG_INFINITY), 0.0);
    assert!(nn::exp(f64::NAN).is_nan());
}

#[test]
fn ln_is_within_one_ulp_of_std() {
    let mut rng = Stream::derive(7, "ln", &[]);
    let mut worst = 0;
    for i in 0..200_000 {
        // Log-uniform over all normal doubles, and uniform on [0.5, 2] (where ln m is
        // computed), [1, 2] (the softmax's sums of two terms) and around 1 (cancellation).
        let x = match i % 4 {
            0 => 2f64.powf(-1022.0 + 2045.0 * rng.uniform()),
            1 => 0.5 + 1.5 * rng.uniform(),
            2 => 1.0 + rng.uniform(),
            _ => 1.0 + 1e-6 * (rng.uniform() - 0.5),
        };
        let (ours, std) = (nn::ln(x), x.ln());
        if std != 0.0 {
            worst = worst.max(ulps(ours, std));
        }
    }
    assert!(worst <= 1, "ln differs from std by {worst} ulp");

    for x in [1e-310, 5e-324, 2.2e-308] {
        assert!(ulps(nn::ln(x), x.ln()) <= 1, "ln({x}) = {} vs {}", nn::ln(x), x.ln());
    }
    assert_eq!(nn::ln(1.0), 0.0);
    assert_eq!(nn::ln(2.0), std::f64::consts::LN_2);
    assert_eq!(nn::ln(0.0), f64::NEG_INFINITY);
    assert_eq!(nn::ln(f64::INFINITY), f64::INFINITY);
    assert!(nn::ln(-1.0).is_nan() && nn::ln(f64::NAN).is_nan());
}

/// A network with random weights and biases of the given widths.
fn random_mlp(widths: &[usize], seed: u64) -> Mlp {
    let mut rng = Stream::derive(seed, "mlp", &[]);
    let layers = widths
        .windows(2)
        .map(|w| Dense {
            inputs: w[0],
            outputs: w[1],
            weight: (0..w[0] * w[1]).map(|_| rng.normal()).collect(),
            bias: (0..w[1]).map(|_| rng.normal()).collect(),
        })
        .collect();
    Mlp::from_layers(layers).unwrap()
}

/// The logits the documented order gives: `z = ((b + W[o,0] a_0) + W[o,1] a_1) + ...`, one
/// multiply and one add per term, ReLU between layers.
fn plain_logits(mlp: &Mlp, x: &Matrix) -> Vec<f64> {
    let mut out = Vec::new();
    for i in 0..x.rows() {
        let mut a = x.row(i).to_vec();
        for (l, layer) in mlp.layers().iter().enumerate() {
            let mut z = Vec::with_capacity(layer.outputs);
            for o in 0..layer.outputs {
                let mut acc = layer.bias[o];
                for (w, v) in layer.weight_row(o).iter().zip(&a) {
                    acc += w * v;
                }
                z.push(acc);
            }
            a = if l + 1 < mlp.layers().len() {
                z.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect()
            } else {
                z
            };
        }
        out.extend(a);
    }
    out
}

#[test]
fn blocked_products_match_a_plain_loop_bit_for_bit() {
    // Widths around the tile sizes (16, 8, 4, 2, 1 columns; rows in pairs), odd row counts.
    for (widths, rows) in [
        (vec![7, 19, 5, 2], 5),
        (vec![33, 17, 3], 3),
        (vec![1, 9, 2], 1),
        (vec![106, 64, 32, 2], 33),
    ] {
        let mlp = random_mlp(&widths, widths[0] as u64);
        let mut rng = Stream::derive(3, "x", &[]);
        let x = Matrix::from_row_major(
            rows,
            widths[0],
            (0..rows * widths[0]).map(|_| rng.normal()).collect(),
        );
        let ours: Vec<u64> = mlp.logits(&x).as_slice().iter().map(|v| v.to_bits()).collect();
        let plain: Vec<u64> = plain_logits(&mlp, &x).iter().map(|v| v.to_bits()).collect();
        assert_eq!(ours, plain, "widths {widths:?}, {rows} rows");
    }
}

/// Two Gaussian blobs in `d` dimensions, means -1 and +1, sd 1.
fn blobs(n: usize, d: usize, seed: u64) -> (Matrix, Vec<usize>) {
    let mut rng = Stream::derive(seed, "blobs", &[]);
    let mut data = Vec::with_capacity(n * d);
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    for &c in &y {
        let mean = if c == 1 { 1.0 } else { -1.0 };
        data.extend((0..d).map(|_| mean + rng.normal()));
    }
    (Matrix::from_row_major(n, d, data), y)
}

fn max_relative_difference(a: &Mlp, b: &Mlp) -> f64 {
    let values = |m: &Mlp| -> Vec<f64> {
        m.layers().iter().flat_map(|l| l.weight.iter().chain(&l.bias).copied()).collect()
    };
    values(a)
        .iter()
        .zip(values(b))
        .map(|(u, v)| (u - v).abs() / u.abs().max(1e-2))
        .fold(0.0, f64::max)
}

#[test]
fn single_precision_training_follows_double_precision() {
    let (x, y) = blobs(80, 6, 1);
    let cfg =
        TrainConfig { hidden: vec![12, 5], epochs: 2, batch_size: 16, ..TrainConfig::default() };
    let f32_cfg = TrainConfig { precision: Precision::F32, ..cfg.clone() };
    let (a, ra) = nn::train(&x, &y, None, &cfg, &mut Stream::derive(1, "t", &[])).unwrap();
    let (b, rb) = nn::train(&x, &y, None, &f32_cfg, &mut Stream::derive(1, "t", &[])).unwrap();

    // Ten Adam steps of size 1e-3 from the same start: f32 rounding (~6e-8 relative) cannot
    // move a weight by more than a small fraction of one step, which a wrong kernel would.
    let diff = max_relative_difference(&a, &b);
    assert!(diff > 0.0, "f32 training should round differently from f64");
    assert!(diff < 1e-3, "f32 and f64 networks differ by {diff}");
    for (la, lb) in ra.epoch_loss.iter().zip(&rb.epoch_loss) {
        assert!((la - lb).abs() < 1e-5, "epoch loss {la} (f64) vs {lb} (f32)");
    }
    // Every f32-trained parameter is exactly an f32.
    assert!(b.layers().iter().flat_map(|l| &l.weight).all(|&w| w as f32 as f64 == w));

    // And it learns, reproducibly.
    let long = TrainConfig { epochs: 40, learning_rate: 1e-2, ..f32_cfg };
    let (m1, r1) = nn::train(&x, &y, None, &long, &mut Stream::derive(2, "t", &[])).unwrap();
    let (m2, r2) = nn::train(&x, &y, None, &long, &mut Stream::derive(2, "t", &[])).unwrap();
    assert_eq!((&m1, &r1), (&m2, &r2));
    assert!(r1.epoch_loss[39] < 0.3 * r1.epoch_loss[0], "{:?}", r1.epoch_loss);
}

#[test]
fn train_from_continues_from_the_given_weights() {
    let (x, y) = blobs(80, 5, 2);
    let cfg =
        TrainConfig { hidden: vec![8], epochs: 30, learning_rate: 1e-2, ..TrainConfig::default() };
    let (trained, cold) = nn::train(&x, &y, None, &cfg, &mut Stream::derive(1, "t", &[])).unwrap();

    // Continuing from a trained network starts where it left off, far below a fresh start.
    let short = TrainConfig { epochs: 3, ..cfg.clone() };
    let mut rng = Stream::derive(2, "t", &[]);
    let (_, warm) = nn::train_from(&trained, &x, &y, None, &short, &mut rng).unwrap();
    assert!(warm.epoch_loss[0] < 0.5 * cold.epoch_loss[0], "{:?} vs {:?}", warm, cold);

    // Zero epochs of training would be the identity; one epoch at a tiny rate nearly is.
    let tiny = TrainConfig { epochs: 1, learning_rate: 1e-9, ..cfg.clone() };
    let (same, _) = nn::train_from(&trained, &x, &y, None, &tiny, &mut rng).unwrap();
    assert!(max_relative_difference(&trained, &same) < 1e-6);

    // Shapes are checked.
    let err = nn::train_from(&trained, &x.select_cols(&[0, 1]), &y, None, &short, &mut rng);
    assert!(err.unwrap_err().message().contains("5 inputs"));
}

#[test]
fn warm_started_glrfe_keeps_the_informative_features() {
    // Columns 0 and 3 carry the class; the other six are noise.
    let (x, y) = {
        let mut rng = Stream::derive(5, "table", &[]);
        let n = 120;
        let y: Vec<usize> = (0..n).map(|i| usize::from(i % 3 == 0)).collect();
        let mut data = Vec::new();
        for &c in &y {
            for j in 0..8 {
                let shift = if j == 0 || j == 3 { 1.5 * c as f64 } else { 0.0 };
                data.push(shift + rng.normal());
            }
        }
        (Matrix::from_row_major(n, 8, data), y)
    };
    let train =
        TrainConfig { hidden: vec![16], epochs: 30, learning_rate: 1e-2, ..TrainConfig::default() };
    let cfg = GlrfeConfig {
        keep: 2,
        warm_epochs: Some(5),
        balance: Balance::Smote { k: 5 },
        train,
        ..GlrfeConfig::default()
    };
    let sel = select::glrfe(&x, &y, &cfg, 1, &[], None).unwrap();
    let mut kept = sel.kept.clone();
    kept.sort();
    assert_eq!(kept, vec![0, 3]);
    assert_eq!(sel.rounds.len(), 7);
    // (Debug text, as the NaN validation losses never compare equal.)
    let again = select::glrfe(&x, &y, &cfg, 1, &[], None).unwrap();
    assert_eq!(format!("{sel:?}"), format!("{again:?}"));

    // A warm start differs from the cold one (it really continues), and 0 epochs is refused.
    let cold =
        select::glrfe(&x, &y, &GlrfeConfig { warm_epochs: None, ..cfg.clone() }, 1, &[], None);
    assert_ne!(sel.rounds[1].importance, cold.unwrap().rounds[1].importance);
    let zero = GlrfeConfig { warm_epochs: Some(0), ..cfg };
    assert!(select::glrfe(&x, &y, &zero, 1, &[], None).is_err());
}
