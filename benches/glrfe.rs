//! `make bench`: wall time of one network training and of one full GL-RFE run (106 -> 15
//! features, step 1, default network) on the bundled synthetic table.
//!
//! Throughput is reported as rows x epochs per second and as GFLOP/s of the dense kernels,
//! counting 6 FLOP per weight per row (2 forward, 4 backward: the weight gradient and the
//! gradient of the layer input), the usual estimate for dense networks.

use std::path::Path;
use std::time::Instant;

use glrfe::data::{self, LoadOptions};
use glrfe::nn::{self, TrainConfig};
use glrfe::rng::Stream;
use glrfe::select::{self, Balance, GlrfeConfig};

fn weights(inputs: usize, cfg: &TrainConfig) -> usize {
    let mut widths = vec![inputs];
    widths.extend(&cfg.hidden);
    widths.push(2);
    widths.windows(2).map(|w| w[0] * w[1]).sum()
}

fn main() {
    let table =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/synthetic/radiomics_synthetic.csv");
    let opts = LoadOptions { label: Some("stage".into()), ..LoadOptions::default() };
    let (data, _) = data::load(&table, &opts).expect("the bundled table loads");
    let precision = match std::env::var("P").as_deref() {
        Ok("f32") => nn::Precision::F32,
        _ => nn::Precision::F64,
    };
    let cfg = TrainConfig { precision, ..TrainConfig::default() };
    println!(
        "table: {} rows x {} features; network {:?}, {} epochs, batch {}; {} threads",
        data.n(),
        data.d(),
        cfg.hidden,
        cfg.epochs,
        cfg.batch_size,
        rayon::current_num_threads()
    );

    // One training on the balanced, standardised table, as every GL-RFE round does.
    let mut rng = Stream::derive(1, "bench", &[]);
    let (_, xb, yb, _) = select::prepare(&data.x, &data.y, Balance::Smote { k: 5 }, &mut rng)
        .expect("SMOTE runs on the bundled table");
    let reps = 5;
    let t = Instant::now();
    for r in 0..reps {
        let mut rng = Stream::derive(1, "bench-train", &[r]);
        nn::train(&xb, &yb, None, &cfg, &mut rng).expect("training converges");
    }
    let secs = t.elapsed().as_secs_f64() / reps as f64;
    let row_epochs = (xb.rows() * cfg.epochs) as f64;
    let flop = 6.0 * row_epochs * weights(data.d(), &cfg) as f64;
    println!(
        "train   {:>4} x {:>3}: {:>8.3} s  {:>10.0} rows*epochs/s  {:>6.2} GFLOP/s",
        xb.rows(),
        data.d(),
        secs,
        row_epochs / secs,
        flop / secs / 1e9
    );

    if std::env::var("ONLY").is_ok() {
        return;
    }
    // The full default elimination: 106 -> 15, one feature per round, plus the scoring round.
    let gcfg = GlrfeConfig { train: cfg.clone(), ..GlrfeConfig::default() };
    let t = Instant::now();
    let sel = select::glrfe(&data.x, &data.y, &gcfg, 1, &[], None).expect("GL-RFE runs");
    let secs = t.elapsed().as_secs_f64();
    let mut flop = 0.0;
    let mut row_epochs = 0.0;
    for r in &sel.rounds {
        let re = (xb.rows() * cfg.epochs) as f64;
        row_epochs += re;
        flop += 6.0 * re * weights(r.features.len(), &cfg) as f64;
    }
    println!(
        "glrfe {} -> {} ({} rounds): {:>8.3} s  {:>10.0} rows*epochs/s  {:>6.2} GFLOP/s",
        data.d(),
        gcfg.keep,
        sel.rounds.len(),
        secs,
        row_epochs / secs,
        flop / secs / 1e9
    );
}
