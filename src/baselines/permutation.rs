//! `permutation`: permutation importance of the trained network on held-out inner rows.
//!
//! A stratified part of the training rows (the validation fraction, 0.2 by default) is held out;
//! the network GL-RFE would train (same layers, epochs, balancing) is fitted on the rest. A
//! feature's importance is the mean, over `repeats` shuffles of its column in the held-out rows,
//! of the increase in mean cross-entropy over the unshuffled held-out rows. Each shuffle draws
//! from `Stream::derive(seed, "permutation", task + [feature, repeat])`, and features are
//! scored in parallel, collected in order.
//!
//! # Limitations
//! One network and a held-out part of ~70 rows make the scores noisy; two correlated features
//! share their importance (shuffling one leaves the other to carry the signal).

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::eval::stratified_holdout;
use crate::matrix::Matrix;
use crate::nn::{self, TrainConfig};
use crate::rng::Stream;
use crate::select::{self, Balance, OnRound, Selection, Selector};

#[derive(Clone, Debug)]
pub struct Permutation {
    pub keep: usize,
    pub train: TrainConfig,
    pub balance: Balance,
    pub validation_fraction: f64,
    pub repeats: usize,
}

impl Selector for Permutation {
    fn name(&self) -> &str {
        "permutation"
    }

    fn select(
        &self,
        x: &Matrix,
        y: &[usize],
        seed: u64,
        task: &[u64],
        _on_round: Option<OnRound<'_>>,
    ) -> Result<Selection> {
        super::check_keep(self.keep, x, y)?;
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return Err(Error::usage("the validation fraction must lie strictly between 0 and 1"));
        }
        if self.repeats == 0 {
            return Err(Error::usage("permutation importance needs at least one repeat"));
        }
        let stream = |purpose: &str, extra: &[u64]| {
            let ids: Vec<u64> = task.iter().chain(extra).copied().collect();
            Stream::derive(seed, purpose, &ids)
        };
        let (fit_rows, val_rows) = stratified_holdout(
            y,
            self.validation_fraction,
            &mut stream("permutation-holdout", &[]),
        );
        let y_fit: Vec<usize> = fit_rows.iter().map(|&i| y[i]).collect();
        let y_val: Vec<usize> = val_rows.iter().map(|&i| y[i]).collect();
        let (scaler, xb, yb, _) = select::prepare(
            &x.select_rows(&fit_rows),
            &y_fit,
            self.balance,
            &mut stream("permutation-smote", &[]),
        )?;
        // With class weights, training and both held-out losses weigh the classes as GL-RFE does.
        let weight = select::class_weights(&yb, self.balance);
        let val_weight = select::class_weights(&y_val, self.balance);
        let (model, _) = nn::train(
            &xb,
            &yb,
            weight.as_deref(),
            &self.train,
            &mut stream("permutation-train", &[]),
        )
        .map_err(|e| Error::new(e.kind(), format!("permutation network: {}", e.message())))?;
        let xv = scaler.transform(&x.select_rows(&val_rows));
        let base = model.loss(&xv, &y_val, val_weight.as_deref());

        let score: Vec<f64> = (0..x.cols())
            .into_par_iter()
            .map(|j| {
                let mut total = 0.0;
                for r in 0..self.repeats {
                    let mut column = xv.col(j);
                    stream("permutation", &[j as u64, r as u64]).shuffle(&mut column);
                    let mut shuffled = xv.clone();
                    for (i, v) in column.into_iter().enumerate() {
                        shuffled.set(i, j, v);
                    }
                    total += model.loss(&shuffled, &y_val, val_weight.as_deref()) - base;
                }
                total / self.repeats as f64
            })
            .collect();
        Ok(Selection::from_scores(&score, self.keep))
    }
}
