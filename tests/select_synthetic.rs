//! GL-RFE on the bundled synthetic table, whose informative features are known
//! (fixtures/synthetic/truth.csv).
//!
//! The table's label depends on eight latent signals: five linear ones (size, sphericity,
//! heterogeneity, density, coarseness), each carried by one informative feature and many noisy
//! redundant copies, an interaction between skewness and cluster shade with no marginal effect,
//! and a non-monotone effect of glcm correlation. The three nonlinear features have no copies,
//! so a selector that sees nonlinear structure must keep them themselves; a linear signal
//! counts as found when its feature or one of its redundant copies is kept, because the copies
//! carry the same information.

use std::collections::BTreeMap;
use std::path::Path;

use glrfe::data::{self, LoadOptions};
use glrfe::select::{self, GlrfeConfig, Selection};

fn truth() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/synthetic/truth.csv");
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string())
        })
        .collect()
}

/// The latent signal a feature carries: the informative feature's own name for informative
/// and redundant features, `None` for noise.
fn signal(role: &str, name: &str) -> Option<String> {
    if role.starts_with("informative") {
        Some(name.to_string())
    } else {
        role.strip_prefix("redundant-of-").map(str::to_string)
    }
}

#[test]
fn default_glrfe_keeps_the_nonlinear_signals_and_most_linear_ones() {
    let table =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/synthetic/radiomics_synthetic.csv");
    let opts = LoadOptions { label: Some("stage".into()), ..LoadOptions::default() };
    let (data, _) = data::load(&table, &opts).unwrap();
    let sel: Selection =
        select::glrfe(&data.x, &data.y, &GlrfeConfig::default(), 7, &[], None).unwrap();
    assert_eq!(sel.kept.len(), 15);
    assert_eq!(sel.rounds.len(), 92);

    let truth = truth();
    let kept: Vec<&str> = sel.kept.iter().map(|&j| data.names[j].as_str()).collect();
    for nonlinear in
        ["original_firstorder_Skewness", "original_glcm_ClusterShade", "original_glcm_Correlation"]
    {
        assert!(kept.contains(&nonlinear), "{nonlinear} not kept: {kept:?}");
    }
    let linear: Vec<&String> =
        truth.iter().filter(|(_, r)| *r == "informative-linear").map(|(n, _)| n).collect();
    assert_eq!(linear.len(), 5);
    let found: Vec<String> = kept.iter().filter_map(|n| signal(&truth[*n], n)).collect();
    let linear_found = linear.iter().filter(|n| found.contains(n)).count();
    // Four of five: the weakest linear signals (density, coarseness: coefficients 0.7) may lose
    // out to a noise feature in one seed, but missing two would mean the ranking is broken.
    assert!(linear_found >= 4, "only {linear_found} of 5 linear signals kept: {kept:?}");
}

#[test]
fn one_shot_scores_rank_high_first_and_nan_last() {
    let s = Selection::from_scores(&[0.5, f64::NAN, 2.0, 0.5, 1.0], 2);
    let order: Vec<usize> = s.ranking.iter().map(|r| r.feature).collect();
    assert_eq!(order, vec![2, 4, 0, 3, 1]);
    assert_eq!(s.kept, vec![2, 4]);
    assert_eq!(s.ranking[1].eliminated_in_round, None);
    assert_eq!(s.ranking[2].eliminated_in_round, Some(1));
}

#[test]
fn a_column_constant_over_the_training_rows_is_eliminated_first() {
    // Two informative columns, one constant, two of noise: the constant one carries nothing,
    // whatever gradient its untrained first-layer weights would give it.
    let mut rng = glrfe::rng::Stream::derive(3, "test", &[]);
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for i in 0..120 {
        let c = i % 2;
        let shift = if c == 1 { 1.5 } else { -1.5 };
        rows.push(vec![
            shift + rng.normal(),
            7.0,
            -shift + rng.normal(),
            rng.normal(),
            rng.normal(),
        ]);
        y.push(c);
    }
    let x = glrfe::Matrix::from_rows(&rows);
    let cfg = GlrfeConfig {
        keep: 4,
        train: glrfe::nn::TrainConfig { hidden: vec![8], epochs: 5, ..Default::default() },
        ..GlrfeConfig::default()
    };
    let sel = select::glrfe(&x, &y, &cfg, 1, &[], None).unwrap();
    assert_eq!(sel.rounds[0].eliminated, vec![1]);
    assert_eq!(sel.rounds[0].importance[1], 0.0);
}
