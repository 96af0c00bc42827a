//! Conventional feature selectors beside GL-RFE, behind the one [`Selector`] trait, so that
//! `select --method NAME` and `compare` run any of them the same way inside a training fold.
//!
//! | name | family | score (the `importance` column) |
//! | --- | --- | --- |
//! | `glrfe` | gradient-loss elimination (`select`) | mean \|dL/dx_j\| |
//! | `grad-x-input` | the same elimination | mean \|x_j dL/dx_j\| |
//! | `anova` | univariate filter ([`univariate`]) | one-way ANOVA F (scikit-learn's `f_classif`) |
//! | `mutual-info` | univariate filter ([`univariate`]) | Ross's k-NN mutual information, k = 3 |
//! | `lasso` | embedded, L1 logistic ([`lasso`]) | \|coefficient\| where K are non-zero |
//! | `rfe-logistic` | wrapper, L2 logistic ([`rfe`]) | squared coefficient |
//! | `mrmr` | greedy filter ([`mrmr`]) | F / mean \|r\| with those already chosen |
//! | `permutation` | wrapper, the network ([`permutation`]) | held-out loss increase |
//! | `forest` | embedded, random forest ([`forest`]) | mean decrease in Gini impurity |
//! | `random` | the floor | a seeded uniform draw |
//!
//! Every selector receives raw training rows and fits what it needs (scaling, models) on them
//! alone. Linear and distance-based methods standardise on those rows; none of them balances
//! the classes except `permutation`, which trains the same balanced network as GL-RFE.
//! Logistic regression, written out, lives in [`logistic`]; the special functions the
//! statistics need in [`crate::special`].

pub mod comparison;
pub mod forest;
pub mod lasso;
pub mod logistic;
pub mod mrmr;
pub mod permutation;
pub mod rfe;
pub mod univariate;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::rng::Stream;
use crate::select::{GlrfeConfig, Importance, OnRound, Selection, Selector};

/// Every method name `select --method` and `compare --methods` accept, in table order.
pub const METHODS: [&str; 10] = [
    "glrfe",
    "grad-x-input",
    "anova",
    "mutual-info",
    "lasso",
    "rfe-logistic",
    "mrmr",
    "permutation",
    "forest",
    "random",
];

/// The selector called `name`, keeping `base.keep` features. GL-RFE variants take all of
/// `base`; `rfe-logistic` takes its `step` (a fraction is of the initial feature count, as
/// scikit-learn's RFE); `permutation` takes its network, balancing and validation fraction.
pub fn selector(name: &str, base: &GlrfeConfig) -> Result<Arc<dyn Selector>> {
    let keep = base.keep;
    Ok(match name {
        "glrfe" => Arc::new(GlrfeConfig { importance: Importance::Gradient, ..base.clone() }),
        "grad-x-input" => {
            Arc::new(GlrfeConfig { importance: Importance::GradXInput, ..base.clone() })
        }
        "anova" => Arc::new(univariate::Anova { keep }),
        "mutual-info" => Arc::new(univariate::MutualInfo { keep, neighbours: 3 }),
        "lasso" => Arc::new(lasso::Lasso { keep }),
        "rfe-logistic" => Arc::new(rfe::RfeLogistic { keep, step: base.step, c: 1.0 }),
        "mrmr" => Arc::new(mrmr::Mrmr { keep }),
        "permutation" => Arc::new(permutation::Permutation {
            keep,
            train: base.train.clone(),
            balance: base.balance,
            validation_fraction: base.validation_fraction,
            repeats: 5,
        }),
        "forest" => Arc::new(forest::Forest { keep, ..forest::Forest::default() }),
        "random" => Arc::new(RandomRanking { keep }),
        other => {
            return Err(Error::usage(format!(
                "unknown selection method '{other}'; choose from {}",
                METHODS.join(", ")
            )));
        }
    })
}

/// The usage errors every one-shot selector shares.
pub(crate) fn check_keep(keep: usize, x: &Matrix, y: &[usize]) -> Result<()> {
    if keep == 0 {
        return Err(Error::usage("--keep must be at least 1"));
    }
    if keep > x.cols() {
        return Err(Error::usage(format!(
            "--keep {keep} asks for more features than the table has ({})",
            x.cols()
        )));
    }
    if x.rows() != y.len() {
        return Err(Error::usage("feature rows and labels differ in number"));
    }
    if x.rows() < 2 {
        return Err(Error::data("feature selection needs at least two rows"));
    }
    Ok(())
}

/// Pearson correlation of every pair of columns of `x` (d x d, row-major; 1 on the diagonal; 0
/// where a column is constant), by the two-pass formula over rows in order.
pub fn correlation_matrix(x: &Matrix) -> Vec<f64> {
    let (n, d) = (x.rows(), x.cols());
    let scaler = crate::preprocess::Scaler::fit(x);
    let z = scaler.transform(x);
    let mut r = vec![0.0; d * d];
    for i in 0..n {
        let row = z.row(i);
        for a in 0..d {
            let za = row[a];
            for b in a..d {
                r[a * d + b] += za * row[b];
            }
        }
    }
    for a in 0..d {
        for b in a..d {
            let constant = scaler.zero_variance.contains(&a) || scaler.zero_variance.contains(&b);
            let v = if a == b {
                1.0
            } else if constant {
                0.0
            } else {
                (r[a * d + b] / n as f64).clamp(-1.0, 1.0)
            };
            r[a * d + b] = v;
            r[b * d + a] = v;
        }
    }
    r
}

/// `random`: a uniform random score per feature from `Stream::derive(seed, "random", task)`,
/// the floor any selector has to beat.
#[derive(Clone, Debug)]
pub struct RandomRanking {
    pub keep: usize,
}

impl Selector for RandomRanking {
    fn name(&self) -> &str {
        "random"
    }

    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        seed: u64,
        task: &[u64],
        _on_round: Option<OnRound<'_>>,
    ) -> Result<Selection> {
        check_keep(self.keep, x, y)?;
        let mut rng = Stream::derive(seed, "random", task);
        let score: Vec<f64> = (0..x.cols()).map(|_| rng.uniform()).collect();
        Ok(Selection::from_scores(&score, self.keep))
    }
}
