//! The run-time-chosen kernels give the same bits: the AVX2 and AVX-512 copies of the products
//! and of Adam against the baseline (SSE2) copy, on products of many shapes, on every gradient
//! of a network, on trained weights, and through the command line with `GLRFE_KERNEL`.
//!
//! On a processor without AVX2 the comparisons have only one kernel to run; each such test
//! says so on stderr and still checks the baseline against a plain loop. (Asking for a kernel
//! the processor lacks falls back to the baseline with a warning, so the command-line test
//! passes there too.)

use std::process::{Command, Output};

use glrfe::Matrix;
use glrfe::nn::bench;
use glrfe::nn::{Dense, Kernel, Mlp, Precision, TrainConfig};
use glrfe::rng::Stream;

/// The kernels to compare with the baseline: those this processor has.
fn other_kernels(test: &str) -> Vec<Kernel> {
    let others: Vec<Kernel> =
        Kernel::ALL.into_iter().filter(|&k| k != Kernel::Baseline && k.is_available()).collect();
    if others.is_empty() {
        eprintln!("note: {test}: no AVX2 on this processor; only the baseline kernel ran");
    }
    others
}

fn random_matrix(rows: usize, cols: usize, rng: &mut Stream) -> Matrix {
    Matrix::from_row_major(rows, cols, (0..rows * cols).map(|_| rng.normal()).collect())
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// `A B` (or `A^T B`) in the documented order, term by term in increasing `k`: in `f64` one
/// multiply and one add per term, in `f32` (every operand rounded to `f32`) one fused
/// multiply-add.
fn plain_product(precision: Precision, a: &Matrix, transpose_a: bool, b: &Matrix) -> Vec<f64> {
    let (m, k) = if transpose_a { (a.cols(), a.rows()) } else { (a.rows(), a.cols()) };
    let n = b.cols();
    let at = |i: usize, kk: usize| if transpose_a { a.get(kk, i) } else { a.get(i, kk) };
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            c.push(match precision {
                Precision::F64 => (0..k).fold(0.0f64, |s, kk| s + at(i, kk) * b.get(kk, j)),
                Precision::F32 => (0..k)
                    .fold(0.0f32, |s, kk| (at(i, kk) as f32).mul_add(b.get(kk, j) as f32, s))
                    as f64,
            });
        }
    }
    c
}

#[test]
fn kernel_setting_picks_the_named_kernel_or_warns() {
    #[cfg(target_arch = "x86_64")]
    let fma = std::arch::is_x86_feature_detected!("fma");
    #[cfg(target_arch = "x86_64")]
    assert_eq!(Kernel::Avx2.is_available(), std::arch::is_x86_feature_detected!("avx2") && fma);
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        Kernel::Avx512.is_available(),
        std::arch::is_x86_feature_detected!("avx512f") && fma
    );
    assert!(Kernel::Baseline.is_available());

    let best = Kernel::best();
    assert_eq!(Kernel::from_setting(None), (best, None));
    assert_eq!(Kernel::from_setting(Some("auto")), (best, None));
    assert_eq!(Kernel::from_setting(Some("")), (best, None));
    assert_eq!(Kernel::from_setting(Some("baseline")), (Kernel::Baseline, None));

    for kernel in [Kernel::Avx2, Kernel::Avx512] {
        let (k, warning) = Kernel::from_setting(Some(kernel.name()));
        if kernel.is_available() {
            assert_eq!((k, warning), (kernel, None));
        } else {
            assert_eq!(k, Kernel::Baseline);
            assert!(warning.unwrap().contains(&format!("lacks {}", kernel.name())));
        }
    }
    let widest = [Kernel::Avx512, Kernel::Avx2].into_iter().find(|k| k.is_available());
    assert_eq!(best, widest.unwrap_or(Kernel::Baseline));

    let (k, warning) = Kernel::from_setting(Some("avx9000"));
    assert_eq!(k, Kernel::Baseline);
    let warning = warning.expect("an unknown kernel is reported");
    assert!(warning.contains("avx9000") && warning.contains("baseline"), "{warning}");
}

#[test]
fn products_are_bit_identical_on_every_kernel() {
    let others = other_kernels("products");
    let mut rng = Stream::derive(11, "kernel-products", &[]);
    // (m, n, k): the default run's products (forward 32 x 106 -> 64 -> 32 -> 2, weight
    // gradients 106 x 64 over a batch of 32, and the last batch of 16), odd sizes around every
    // tile remainder, and one above the size from which the rows are split between threads.
    let mut shapes = vec![
        (32, 64, 106),
        (32, 32, 64),
        (32, 2, 32),
        (106, 64, 32),
        (64, 32, 16),
        (16, 106, 64),
        (1, 1, 1),
        (3, 5, 7),
        (5, 65, 3),
        (17, 33, 9),
        (31, 31, 31),
        (2, 47, 1),
        (130, 70, 64),
    ];
    for _ in 0..12 {
        let dim = |rng: &mut Stream| 1 + (rng.uniform() * 70.0) as usize;
        shapes.push((dim(&mut rng), dim(&mut rng), dim(&mut rng)));
    }

    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for &(m, n, k) in &shapes {
        for transpose_a in [false, true] {
            let a = if transpose_a {
                random_matrix(k, m, &mut rng)
            } else {
                random_matrix(m, k, &mut rng)
            };
            let b = random_matrix(k, n, &mut rng);
            for precision in [Precision::F64, Precision::F32] {
                let what = format!("{m} x {n} x {k}, A^T {transpose_a}, {}", precision.name());
                let base = bench::product(Kernel::Baseline, precision, &a, transpose_a, &b);
                let plain = plain_product(precision, &a, transpose_a, &b);
                assert_eq!(bits(&base), bits(&plain), "baseline vs plain loop: {what}");
                for &kernel in &others {
                    let one = bench::product(kernel, precision, &a, transpose_a, &b);
                    let two =
                        pool.install(|| bench::product(kernel, precision, &a, transpose_a, &b));
                    assert_eq!(bits(&one), bits(&base), "{}: {what}", kernel.name());
                    assert_eq!(bits(&two), bits(&base), "{} on 2 threads: {what}", kernel.name());
                }
            }
        }
    }
}

/// A network with random weights and biases of the given widths.
fn random_mlp(widths: &[usize], seed: u64) -> Mlp {
    let mut rng = Stream::derive(seed, "kernel-mlp", &[]);
    let layers = widths
        .windows(2)
        .map(|w| Dense {
            inputs: w[0],
            outputs: w[1],
            weight: (0..w[0] * w[1]).map(|_| 0.5 * rng.normal()).collect(),
            bias: (0..w[1]).map(|_| 0.1 * rng.normal()).collect(),
        })
        .collect();
    Mlp::from_layers(layers).unwrap()
}

#[test]
fn gradients_are_bit_identical_on_every_kernel() {
    let others = other_kernels("gradients");
    for (widths, rows, weighted) in [
        (vec![106, 64, 32, 2], 32, false),
        (vec![106, 64, 32, 2], 16, true),
        (vec![7, 19, 5, 2], 5, true),
        (vec![33, 17, 3], 3, false),
        (vec![1, 9, 2], 1, false),
    ] {
        let mlp = random_mlp(&widths, widths[0] as u64 + rows as u64);
        let mut rng = Stream::derive(5, "kernel-batch", &[rows as u64]);
        let x = random_matrix(rows, widths[0], &mut rng);
        let classes = *widths.last().unwrap();
        let y: Vec<usize> = (0..rows).map(|i| (i * 7 + 1) % classes).collect();
        let w: Option<Vec<f64>> = weighted.then(|| (0..rows).map(|i| 0.5 + i as f64).collect());

        for precision in [Precision::F64, Precision::F32] {
            let (base, base_logits) =
                bench::gradients(Kernel::Baseline, precision, &mlp, &x, &y, w.as_deref());
            assert!(base.layers[0].weight.iter().any(|&g| g != 0.0), "gradients vanished");
            for &kernel in &others {
                let what =
                    format!("{widths:?}, {rows} rows, {}, {}", precision.name(), kernel.name());
                let (g, logits) = bench::gradients(kernel, precision, &mlp, &x, &y, w.as_deref());
                assert_eq!(g.loss.to_bits(), base.loss.to_bits(), "loss: {what}");
                assert_eq!(bits(&logits), bits(&base_logits), "logits: {what}");
                for (l, (a, b)) in g.layers.iter().zip(&base.layers).enumerate() {
                    assert_eq!(bits(&a.weight), bits(&b.weight), "layer {l} dW: {what}");
                    assert_eq!(bits(&a.bias), bits(&b.bias), "layer {l} db: {what}");
                }
                assert_eq!(bits(g.input.as_slice()), bits(base.input.as_slice()), "dX: {what}");
            }
        }
    }
}

/// Two Gaussian blobs in `d` dimensions, means -1 and +1, sd 1, classes alternating.
fn blobs(n: usize, d: usize, seed: u64) -> (Matrix, Vec<usize>) {
    let mut rng = Stream::derive(seed, "kernel-blobs", &[]);
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let data = y
        .iter()
        .flat_map(|&c| {
            let mean = if c == 1 { 1.0 } else { -1.0 };
            (0..d).map(|_| mean + rng.normal()).collect::<Vec<_>>()
        })
        .collect();
    (Matrix::from_row_major(n, d, data), y)
}

fn weight_bits(mlp: &Mlp) -> Vec<u64> {
    mlp.layers().iter().flat_map(|l| bits(&l.weight).into_iter().chain(bits(&l.bias))).collect()
}

#[test]
fn trained_weights_are_bit_identical_on_every_kernel() {
    let others = other_kernels("training");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    // The default network on the default width with an odd last batch; an odd network with
    // weights, decay and batches of 7; and a 600-input first layer, large enough for training
    // to lend a second thread to its steps in both precisions.
    let cases = [
        (106, 101, TrainConfig { epochs: 3, ..TrainConfig::default() }, false),
        (
            13,
            45,
            TrainConfig {
                hidden: vec![9, 5],
                epochs: 4,
                batch_size: 7,
                weight_decay: 1e-3,
                learning_rate: 1e-2,
                ..TrainConfig::default()
            },
            true,
        ),
        (600, 64, TrainConfig { epochs: 2, ..TrainConfig::default() }, false),
    ];
    for (d, n, cfg, weighted) in cases {
        let (x, y) = blobs(n, d, d as u64);
        let w: Option<Vec<f64>> = weighted.then(|| (0..n).map(|i| 1.0 + (i % 3) as f64).collect());
        for precision in [Precision::F64, Precision::F32] {
            let cfg = TrainConfig { precision, ..cfg.clone() };
            let train = |kernel: Kernel| {
                let mut rng = Stream::derive(9, "kernel-train", &[d as u64]);
                pool.install(|| bench::train_on(kernel, &x, &y, w.as_deref(), &cfg, &mut rng))
                    .unwrap()
            };
            let (base, base_report) = train(Kernel::Baseline);
            let start = {
                let mut rng = Stream::derive(9, "kernel-train", &[d as u64]);
                Mlp::he_init(d, &cfg.hidden, 2, &mut rng)
            };
            assert_ne!(weight_bits(&base), weight_bits(&start), "training changed nothing");
            for &kernel in &others {
                let what = format!("{d} inputs, {n} rows, {}, {}", precision.name(), kernel.name());
                let (mlp, report) = train(kernel);
                assert_eq!(weight_bits(&mlp), weight_bits(&base), "weights: {what}");
                assert_eq!(bits(&report.epoch_loss), bits(&base_report.epoch_loss), "{what}");
            }
        }
    }
}

fn select(kernel: &str, precision: &str) -> Output {
    let table = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/synthetic/radiomics_synthetic.csv");
    Command::new(env!("CARGO_BIN_EXE_glrfe"))
        .args(["select", table, "--label", "stage", "--epochs", "3", "--keep", "96"])
        .args(["--precision", precision, "--threads", "2"])
        .env("GLRFE_KERNEL", kernel)
        .output()
        .expect("the binary runs")
}

#[test]
fn select_prints_the_same_bytes_on_every_kernel() {
    if other_kernels("select").is_empty() {
        // Still: the setting is honoured or warned about, never fatal.
        let out = select("avx2", "f64");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("lacks avx2"));
        return;
    }
    for precision in ["f64", "f32"] {
        let base = select("baseline", precision);
        assert!(base.status.success(), "{}", String::from_utf8_lossy(&base.stderr));
        assert!(base.stdout.starts_with(b"rank,feature,"), "a ranking on stdout");
        assert_eq!(base.stdout.iter().filter(|&&c| c == b'\n').count(), 107, "106 features");
        for kernel in ["auto", "avx2", "avx512"] {
            let out = select(kernel, precision);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(out.stdout == base.stdout, "GLRFE_KERNEL={kernel} vs baseline, {precision}");
        }
    }

    // An unknown kernel warns on stderr, runs the baseline, and changes no output byte.
    let out = select("avx9000", "f64");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GLRFE_KERNEL=avx9000"));
    assert!(out.stdout == select("baseline", "f64").stdout);
}
