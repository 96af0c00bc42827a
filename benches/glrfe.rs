//! `make bench`: the speed targets, each figure printed beside its goal.
//!
//! 1. the full default GL-RFE run (106 -> 15 features, step 1, SMOTE, network 64,32, 100 epochs,
//!    batch 32) on the bundled synthetic table, against PyTorch's 97 s (goal 1/30, aim 1/50);
//! 2. the dense products of one training step (batch 32, widths 106/64/32/2) against the
//!    measured peak of one core with each available kernel's instruction set and arithmetic
//!    (multiply + add in f64, fused multiply-add in f32) (goal >= 30%);
//! 3. `assess` with 5 outer folds (nested, the default GL-RFE in each), and 5-fold
//!    cross-validation of the network, on 2 threads against 1 (goal >= 1.8x, byte-identical);
//! 4. a generated 5,000 x 2,000 table, `--step 0.1`, down to 15 (goal <= 2 min, < 1 GiB), and
//!    time and peak memory as rows and features grow, each size in its own child process.
//!
//! FLOP are those the products perform: per row and epoch, 2 for the forward pass and 2 for
//! the weight gradient per weight, and 2 per weight for the input gradient of every layer but
//! the first (training does not need it). Wall times are the minimum of a few runs; the load
//! average is printed with them because the machine may be shared. Target 1 runs the full run
//! on the baseline kernel too (in `f32` with 5 epochs a round: the baseline's fused
//! multiply-adds are library calls), in a child process (the kernel is chosen once per
//! process), and checks that it keeps the same features. `cargo bench --bench glrfe -- 1 2` runs only the
//! targets named.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glrfe::assess::{self, AssessConfig, Keep, Protocol};
use glrfe::data::{self, Dataset, LoadOptions};
use glrfe::matrix::Matrix;
use glrfe::nn::bench::{StepKernels, train_flop};
use glrfe::nn::{self, Kernel, Mlp, Precision, TrainConfig};
use glrfe::pipeline::{self, PipelineConfig};
use glrfe::rng::Stream;
use glrfe::select::{self, Balance, GlrfeConfig, Selection, Step};

/// PyTorch 2 on the same protocol, float32, 1 thread (its best setting), in seconds.
const PYTORCH_SECONDS: f64 = 97.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "wide-child") {
        let rows = args[i + 1].parse().unwrap();
        let cols = args[i + 2].parse().unwrap();
        wide_child(rows, cols);
        return;
    }

    if let Some(i) = args.iter().position(|a| a == "glrfe-child") {
        glrfe_child(&args[i + 1], args[i + 2].parse().unwrap(), args[i + 3].parse().unwrap());
        return;
    }
    // `cargo bench --bench glrfe -- 2` (or `1`, `3`, `4`, several) runs those targets only.
    let only: Vec<&str> =
        args[1..].iter().map(String::as_str).filter(|a| ["1", "2", "3", "4"].contains(a)).collect();
    let run = |t: &str| only.is_empty() || only.contains(&t);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let synthetic = load(&root.join("fixtures/synthetic/radiomics_synthetic.csv"), "stage");
    println!(
        "machine: {}, {} threads; kernel {} (GLRFE_KERNEL); load average {}",
        cpu_model(),
        threads(),
        Kernel::active().name(),
        loadavg()
    );

    if run("2") {
        target_kernels(&synthetic);
    }
    if run("1") {
        target_glrfe(&synthetic, root);
    }
    if run("3") {
        target_cross_validation(&synthetic);
    }
    if run("4") {
        target_wide();
    }
}

// ---------------------------------------------------------------------------------------------
// Target 2: the products of a training step

fn target_kernels(data: &Dataset) {
    println!("\n[2] dense products of one training step, batch 32, widths 106/64/32/2");
    let mut rng = Stream::derive(1, "bench", &[]);
    let mlp = Mlp::he_init(data.d(), &[64, 32], 2, &mut rng);
    let rows: Vec<usize> = (0..32).collect();
    let x = data.x.select_rows(&rows);
    let y: Vec<usize> = rows.iter().map(|&i| data.y[i]).collect();
    for kernel in Kernel::ALL.into_iter().filter(|k| k.is_available()) {
        let peak = measured_peak(kernel);
        println!(
            "    peak of one core, {} kernel, measured: f64 {:.1} GFLOP/s (multiply and add), f32 \
             {:.1} GFLOP/s ({})",
            kernel.name(),
            peak.0,
            peak.1,
            if kernel == Kernel::Baseline {
                "multiply and add; the products' f32 FMA is a library call here"
            } else {
                "fused multiply-add"
            }
        );
        for (precision, peak) in [(Precision::F64, peak.0), (Precision::F32, peak.1)] {
            let mut k = StepKernels::with_kernel(&mlp, &x, &y, precision, kernel);
            // The baseline's f32 fused multiply-adds are library calls: fewer steps suffice.
            let slow = kernel == Kernel::Baseline && precision == Precision::F32;
            let steps = if slow { 500 } else { 20_000 };
            let secs = min_time(3, || {
                let mut s = 0.0;
                for _ in 0..steps {
                    s += k.run();
                }
                std::hint::black_box(s);
            }) / steps as f64;
            let gflops = k.flop() / secs / 1e9;
            println!(
                "    {} {}: {:>6.2} us a step, {:>5.1} GFLOP/s = {:>3.0}% of the measured peak \
                 (goal >= 30%)",
                kernel.name(),
                precision.name(),
                secs * 1e6,
                gflops,
                100.0 * gflops / peak
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Target 1: the full default run

fn target_glrfe(data: &Dataset, root: &Path) {
    println!("\n[1] GL-RFE 106 -> 15, step 1, SMOTE, 64,32, 100 epochs, batch 32, on all rows");
    let mut rng = Stream::derive(1, "bench", &[]);
    let (_, xb, yb, _) = select::prepare(&data.x, &data.y, Balance::Smote { k: 5 }, &mut rng)
        .expect("SMOTE runs on the bundled table");
    let base = GlrfeConfig::default();
    let run_flop: f64 = (base.keep..=data.d())
        .map(|d| train_flop(d, &base.train.hidden, xb.rows(), base.train.epochs))
        .sum();
    println!(
        "    {} x {} after SMOTE, {} rounds, {:.0} GFLOP in the products; load {}",
        xb.rows(),
        data.d(),
        select::round_count(data.d(), &base),
        run_flop / 1e9,
        loadavg()
    );

    // One training on 2 threads and on 1, at the first round's width and at 40 inputs: what
    // the split step (a second thread lent to each training) gains as features are eliminated.
    let one_train = |p: Precision, inputs: usize| {
        let cfg = TrainConfig { precision: p, ..TrainConfig::default() };
        let x = xb.select_cols(&(0..inputs).collect::<Vec<_>>());
        let time = |threads: usize| {
            in_pool(threads, || {
                min_time(3, || {
                    let mut rng = Stream::derive(1, "bench-train", &[]);
                    nn::train(&x, &yb, None, &cfg, &mut rng).expect("training converges");
                })
            })
        };
        let (two, one) = (time(2), time(1));
        let flop = train_flop(inputs, &cfg.hidden, xb.rows(), cfg.epochs);
        println!(
            "    one training {} x {inputs}, {}: 2 threads {:.1} ms, {:.1} GFLOP/s; 1 thread {:.1} \
             ms: {:.2}x",
            xb.rows(),
            p.name(),
            two * 1e3,
            flop / two / 1e9,
            one * 1e3,
            one / two
        );
    };
    for inputs in [data.d(), 40] {
        one_train(Precision::F64, inputs);
        one_train(Precision::F32, inputs);
    }

    let peak = measured_peak(Kernel::active());
    let mut kept = Vec::new();
    for (precision, threads) in
        [(Precision::F64, 2), (Precision::F32, 2), (Precision::F64, 1), (Precision::F32, 1)]
    {
        let cfg = with_precision(&base, precision);
        let mut sel = None;
        let secs = in_pool(threads, || {
            min_time(if threads == 2 { 2 } else { 1 }, || {
                sel = Some(select::glrfe(&data.x, &data.y, &cfg, 1, &[], None).unwrap());
            })
        });
        kept.push(sel.unwrap().kept);
        let core_peak = if precision == Precision::F64 { peak.0 } else { peak.1 };
        let gflops = run_flop / secs / 1e9;
        println!(
            "    full run, {}, {} thread{}: {:>6.2} s = 1/{:.0} of PyTorch's {PYTORCH_SECONDS} s \
             (goal <= {:.1} s, aim {:.1} s), {:.1} GFLOP/s = {:.0}% of one core's peak, {:.0}% of \
             {threads}; load {}",
            precision.name(),
            threads,
            if threads == 1 { "" } else { "s" },
            secs,
            PYTORCH_SECONDS / secs,
            PYTORCH_SECONDS / 30.0,
            PYTORCH_SECONDS / 50.0,
            gflops,
            100.0 * gflops / core_peak,
            100.0 * gflops / core_peak / threads as f64,
            loadavg()
        );
    }
    // The baseline kernel in a child process (the kernel is chosen once per process): the full
    // run in f64; in f32, whose fused multiply-adds are library calls there, 5 epochs a round
    // against the same on the active kernel.
    if Kernel::active() != Kernel::Baseline {
        let (secs, base_kept) = run_glrfe_child(Precision::F64, Kernel::Baseline, 100);
        println!(
            "    full run, f64, 2 threads, baseline kernel: {:>6.2} s = 1/{:.0} of PyTorch's \
             {PYTORCH_SECONDS} s, {:.1} GFLOP/s; kept set identical to {}'s: {}",
            secs,
            PYTORCH_SECONDS / secs,
            run_flop / secs / 1e9,
            Kernel::active().name(),
            if base_kept == kept[0] { "yes" } else { "NO" }
        );
        assert_eq!(base_kept, kept[0], "results must not depend on the kernel");
        let (base_secs, base_kept) = run_glrfe_child(Precision::F32, Kernel::Baseline, 5);
        let (secs, active_kept) = run_glrfe_child(Precision::F32, Kernel::active(), 5);
        println!(
            "    f32, 5 epochs a round, 2 threads: baseline kernel {base_secs:.2} s, {} {secs:.2} s; \
             kept sets identical: {}",
            Kernel::active().name(),
            if base_kept == active_kept { "yes" } else { "NO" }
        );
        assert_eq!(base_kept, active_kept, "results must not depend on the kernel");
    }
    assert_eq!(kept[0], kept[2], "f64 results must not depend on the thread count");
    assert_eq!(kept[1], kept[3], "f32 results must not depend on the thread count");
    println!(
        "    kept sets: f32 vs f64 Jaccard {:.2}; identical on 1 and 2 threads",
        jaccard(&kept[0], &kept[1])
    );

    // Warm starts against cold starts, on both bundled tables, f32, seeds 1..=3.
    let wdbc = load_with(
        &root.join("fixtures/wdbc/wdbc.csv"),
        LoadOptions {
            label: Some("malignant".into()),
            id: Some("id".into()),
            features: Some(vec!["mean_*".into(), "*_error".into(), "worst_*".into()]),
            ..LoadOptions::default()
        },
    );
    for (name, table) in [("synthetic", data), ("wdbc", &wdbc)] {
        for warm_epochs in [10, 25] {
            warm_vs_cold(name, table, warm_epochs);
        }
    }
}

/// The default run with `epochs` a round in a child process on `kernel`, 2 threads: (seconds,
/// kept features).
fn run_glrfe_child(precision: Precision, kernel: Kernel, epochs: usize) -> (f64, Vec<usize>) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["glrfe-child", precision.name(), "2", &epochs.to_string()])
        .env("GLRFE_KERNEL", kernel.name())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "glrfe child failed: {text}");
    let mut f = text.split_whitespace();
    let secs = f.next().unwrap().parse().unwrap();
    (secs, f.map(|v| v.parse().unwrap()).collect())
}

/// The default run with `epochs` a round, the shorter of two; prints "seconds
/// kept-feature...".
fn glrfe_child(precision: &str, threads: usize, epochs: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = load(&root.join("fixtures/synthetic/radiomics_synthetic.csv"), "stage");
    let precision = if precision == "f32" { Precision::F32 } else { Precision::F64 };
    let mut cfg = with_precision(&GlrfeConfig::default(), precision);
    cfg.train.epochs = epochs;
    let mut sel = None;
    let secs = in_pool(threads, || {
        min_time(2, || sel = Some(select::glrfe(&data.x, &data.y, &cfg, 1, &[], None).unwrap()))
    });
    let kept: Vec<String> = sel.unwrap().kept.iter().map(|k| k.to_string()).collect();
    println!("{secs} {}", kept.join(" "));
}

/// Time and kept-set agreement of warm against cold starts over seeds 1..=3.
fn warm_vs_cold(name: &str, data: &Dataset, warm_epochs: usize) {
    let cold_cfg = with_precision(&GlrfeConfig::default(), Precision::F32);
    let warm_cfg = GlrfeConfig { warm_epochs: Some(warm_epochs), ..cold_cfg.clone() };
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    let (mut cold_secs, mut warm_secs) = (0.0, 0.0);
    for seed in 1..=3 {
        let t = Instant::now();
        cold.push(select::glrfe(&data.x, &data.y, &cold_cfg, seed, &[], None).unwrap());
        cold_secs += t.elapsed().as_secs_f64();
        let t = Instant::now();
        warm.push(select::glrfe(&data.x, &data.y, &warm_cfg, seed, &[], None).unwrap());
        warm_secs += t.elapsed().as_secs_f64();
    }
    let kept = |s: &Selection| s.kept.clone();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let warm_cold: Vec<f64> =
        cold.iter().zip(&warm).map(|(c, w)| jaccard(&kept(c), &kept(w))).collect();
    let pairs = |s: &[Selection]| -> Vec<f64> {
        vec![
            jaccard(&kept(&s[0]), &kept(&s[1])),
            jaccard(&kept(&s[0]), &kept(&s[2])),
            jaccard(&kept(&s[1]), &kept(&s[2])),
        ]
    };
    println!(
        "    warm start, {warm_epochs} epochs, {name} ({} x {}), f32, seeds 1-3: {:.2} s vs cold {:.2} s \
         = {:.1}x faster; Jaccard warm vs cold (same seed) {:.2}; between seeds: cold {:.2}, warm {:.2}",
        data.n(),
        data.d(),
        warm_secs / 3.0,
        cold_secs / 3.0,
        cold_secs / warm_secs,
        mean(&warm_cold),
        mean(&pairs(&cold)),
        mean(&pairs(&warm))
    );
}

// ---------------------------------------------------------------------------------------------
// Target 3: cross-validation on 1 and 2 threads

fn target_cross_validation(data: &Dataset) {
    // `assess` as run from the command line with its defaults but the bootstrap: nested, 5
    // outer folds, the default GL-RFE (106 -> 15, step 1, f64) inside each.
    println!(
        "\n[3] assess, nested, 5 outer folds, default GL-RFE in each, f64; load {}",
        loadavg()
    );
    let cfg = AssessConfig {
        glrfe: GlrfeConfig::default(),
        keep: Keep::Fixed(15),
        outer: 5,
        repeats: 1,
        bootstrap: 0,
        protocol: Protocol::Nested,
    };
    let all: Vec<usize> = (0..data.d()).collect();
    let mut reports = Vec::new();
    let mut secs = Vec::new();
    for threads in [1, 2] {
        secs.push(in_pool(threads, || {
            min_time(1, || {
                let r = assess::assess(data, &all, &cfg, 42, None).unwrap();
                reports.push(format!("{:?}", r));
            })
        }));
    }
    let identical = reports[0] == reports[1];
    println!(
        "    1 thread {:.1} s, 2 threads {:.1} s: {:.2}x (goal >= 1.8x; 5 folds as indivisible \
         tasks would allow at most 1.67x); results byte-identical: {}",
        secs[0],
        secs[1],
        secs[0] / secs[1],
        if identical { "yes" } else { "NO" }
    );
    assert!(identical, "assess must not depend on the thread count");

    println!("    cross-validation of the network on all 106 features, f64, load {}", loadavg());
    let all: Vec<usize> = (0..data.d()).collect();
    let cfg = PipelineConfig::new(Balance::Smote { k: 5 }, None, TrainConfig::default());
    for repeats in [1, 2] {
        let mut reports = Vec::new();
        let mut secs = Vec::new();
        for threads in [1, 2] {
            secs.push(in_pool(threads, || {
                min_time(3, || {
                    let r =
                        pipeline::cross_validate(data, &all, &cfg, 5, repeats, 42, None).unwrap();
                    reports.push(format!("{:?}", r));
                })
            }));
        }
        let identical = reports.windows(2).all(|w| w[0] == w[1]);
        let tasks = 5 * repeats;
        println!(
            "    5 folds x {repeats} repeat{}: 1 thread {:.2} s, 2 threads {:.2} s: {:.2}x (goal >= 1.8x; \
             {tasks} equal tasks on 2 threads allow at most {:.2}x); results byte-identical: {}",
            if repeats == 1 { "" } else { "s" },
            secs[0],
            secs[1],
            secs[0] / secs[1],
            tasks as f64 / tasks.div_ceil(2) as f64,
            if identical { "yes" } else { "NO" }
        );
        assert!(identical, "cross-validation must not depend on the thread count");
    }
}

// ---------------------------------------------------------------------------------------------
// Target 4: wide tables, each size in a child process so that its peak memory is its own

fn target_wide() {
    println!(
        "\n[4] generated tables, GL-RFE --step 0.1 down to 15, f32, default network, 2 threads; \
         load {}",
        loadavg()
    );
    println!("    | rows | features | rounds | time (s) | peak memory (MiB) |");
    println!("    | ---: | ---: | ---: | ---: | ---: |");
    let exe = std::env::current_exe().unwrap();
    for (rows, cols) in [(5000, 2000), (1250, 2000), (2500, 2000), (5000, 500), (5000, 1000)] {
        let out = Command::new(&exe)
            .args(["wide-child", &rows.to_string(), &cols.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.split_whitespace().collect();
        assert!(out.status.success() && f.len() == 3, "wide child failed: {text}");
        let (rounds, secs, kib): (usize, f64, f64) =
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap());
        let goal = if (rows, cols) == (5000, 2000) { "   (goal <= 120 s, < 1024 MiB)" } else { "" };
        println!("    | {rows} | {cols} | {rounds} | {secs:.1} | {:.0} |{goal}", kib / 1024.0);
    }
}

/// One wide run; prints "rounds seconds peak-RSS-KiB" on stdout.
fn wide_child(rows: usize, cols: usize) {
    let (x, y) = wide_table(rows, cols);
    let cfg = GlrfeConfig {
        step: Step::Fraction(0.1),
        ..with_precision(&GlrfeConfig::default(), Precision::F32)
    };
    let t = Instant::now();
    let sel = select::glrfe(&x, &y, &cfg, 1, &[], None).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    println!("{} {secs} {hwm}", sel.rounds.len());
}

/// `rows x cols` standard normal features, classes alternating; the first 20 columns are
/// shifted by 0.5 in class 1 (balanced, so SMOTE adds no rows).
fn wide_table(rows: usize, cols: usize) -> (Matrix, Vec<usize>) {
    let mut rng = Stream::derive(1, "wide-table", &[]);
    let y: Vec<usize> = (0..rows).map(|i| i % 2).collect();
    let mut data = Vec::with_capacity(rows * cols);
    for &c in &y {
        for j in 0..cols {
            let shift = if j < 20 && c == 1 { 0.5 } else { 0.0 };
            data.push(shift + rng.normal());
        }
    }
    (Matrix::from_row_major(rows, cols, data), y)
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn load(path: &Path, label: &str) -> Dataset {
    load_with(path, LoadOptions { label: Some(label.into()), ..LoadOptions::default() })
}

fn load_with(path: &Path, opts: LoadOptions) -> Dataset {
    let path: PathBuf = path.into();
    data::load(&path, &opts).unwrap_or_else(|e| panic!("{}: {e}", path.display())).0
}

fn with_precision(cfg: &GlrfeConfig, precision: Precision) -> GlrfeConfig {
    GlrfeConfig { train: TrainConfig { precision, ..cfg.train.clone() }, ..cfg.clone() }
}

/// The shortest of `reps` wall times of `f`, in seconds.
fn min_time(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

fn jaccard(a: &[usize], b: &[usize]) -> f64 {
    let both = a.iter().filter(|f| b.contains(f)).count();
    both as f64 / (a.len() + b.len() - both) as f64
}

fn threads() -> usize {
    rayon::current_num_threads()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The peak throughput of one core with `kernel`'s vectors and the arithmetic the products use,
/// in GFLOP/s (f64, f32): for `f64` separate multiplies and adds, for `f32` fused multiply-adds
/// (2 FLOP each) where the kernel has FMA; 14 independent chains (16 vector registers less two
/// operands), so that neither latency nor loads limit them.
fn measured_peak(kernel: Kernel) -> (f64, f64) {
    trait Lane: Copy + std::ops::Mul<Output = Self> + std::ops::Add<Output = Self> {
        fn fma(self, a: Self, b: Self) -> Self;
    }
    impl Lane for f64 {
        fn fma(self, a: f64, b: f64) -> f64 {
            self.mul_add(a, b)
        }
    }
    impl Lane for f32 {
        fn fma(self, a: f32, b: f32) -> f32 {
            self.mul_add(a, b)
        }
    }
    type Chains<T, const L: usize> = ([[T; L]; 7], [[T; L]; 7]);
    #[inline(always)]
    fn chains<T: Lane, const L: usize, const FUSED: bool>(
        iters: usize,
        one: T,
        f: T,
        d: T,
    ) -> Chains<T, L> {
        let mut p = [[one; L]; 7];
        let mut s = [[one; L]; 7];
        for _ in 0..iters {
            for (pv, sv) in p.iter_mut().zip(s.iter_mut()) {
                for (a, b) in pv.iter_mut().zip(sv.iter_mut()) {
                    if FUSED {
                        *a = a.fma(f, d);
                        *b = b.fma(f, d);
                    } else {
                        *a = *a * f;
                        *b = *b + d;
                    }
                }
            }
        }
        (p, s)
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn chains_avx2<T: Lane, const L: usize, const FUSED: bool>(
        iters: usize,
        one: T,
        f: T,
        d: T,
    ) -> Chains<T, L> {
        chains::<T, L, FUSED>(iters, one, f, d)
    }
    /// AVX-512 with intrinsics: the generic chains compile to gathers and scatters there.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,fma")]
    fn peak_avx512(iters: usize) -> (f64, f64) {
        use std::arch::x86_64::*;
        let f64_secs = min_time(5, || {
            let f = _mm512_set1_pd(std::hint::black_box(1.0 + 1e-12));
            let d = _mm512_set1_pd(std::hint::black_box(1e-12));
            let (mut p, mut s) = ([_mm512_set1_pd(1.0); 7], [_mm512_set1_pd(1.0); 7]);
            for _ in 0..iters {
                for (pv, sv) in p.iter_mut().zip(s.iter_mut()) {
                    *pv = _mm512_mul_pd(*pv, f);
                    *sv = _mm512_add_pd(*sv, d);
                }
            }
            std::hint::black_box((p, s));
        });
        let f32_secs = min_time(5, || {
            let f = _mm512_set1_ps(std::hint::black_box(1.0));
            let d = _mm512_set1_ps(std::hint::black_box(1e-7));
            let mut c = [_mm512_set1_ps(1.0); 14];
            for _ in 0..iters {
                for cv in c.iter_mut() {
                    *cv = _mm512_fmadd_ps(*cv, f, d);
                }
            }
            std::hint::black_box(c);
        });
        let ops = (iters * 14) as f64;
        (ops * 8.0 / f64_secs / 1e9, ops * 16.0 * 2.0 / f32_secs / 1e9)
    }
    fn run<T: Lane, const L: usize, const FUSED: bool>(
        kernel: Kernel,
        one: T,
        factor: T,
        step: T,
    ) -> f64 {
        let iters = 20_000_000usize;
        let secs = min_time(5, || {
            let (f, d) = (std::hint::black_box(factor), std::hint::black_box(step));
            let out: Chains<T, L> = match kernel {
                Kernel::Baseline => chains::<T, L, FUSED>(iters, one, f, d),
                // SAFETY: only called for available kernels.
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => unsafe { chains_avx2::<T, L, FUSED>(iters, one, f, d) },
                #[allow(unreachable_patterns)]
                _ => unreachable!("no such kernel on this architecture"),
            };
            std::hint::black_box(out);
        });
        let flop_per_op = if FUSED { 2 } else { 1 };
        (iters * 14 * L * flop_per_op) as f64 / secs / 1e9
    }
    let (a, b) = (1.0 + 1e-12, 1e-12);
    match kernel {
        // The baseline has no FMA: its f32 products call a software fused multiply-add, far
        // below this peak of separate multiplies and adds.
        Kernel::Baseline => {
            (run::<f64, 2, false>(kernel, 1.0, a, b), run::<f32, 4, false>(kernel, 1.0, 1.0, 1e-7))
        }
        Kernel::Avx2 => {
            (run::<f64, 4, false>(kernel, 1.0, a, b), run::<f32, 8, true>(kernel, 1.0, 1.0, 1e-7))
        }
        // SAFETY: only called for available kernels.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe { peak_avx512(20_000_000) },
        #[allow(unreachable_patterns)]
        _ => unreachable!("no such kernel on this architecture"),
    }
}
