//! `forest`: impurity importance of a random forest (Breiman 2001), as scikit-learn's
//! `RandomForestClassifier(max_features="sqrt").feature_importances_`.
//!
//! Each tree grows on a bootstrap sample of the training rows, to purity (no depth limit,
//! leaves of one row allowed). At each node, features are drawn without replacement until
//! floor(sqrt(d)) non-constant ones have been tried (constant ones do not count, as
//! scikit-learn); the split maximising the decrease in Gini impurity over thresholds midway
//! between consecutive distinct values wins (the first found on ties). A feature's importance
//! in a tree is the sum over its splits of (n_node / n) (gini_node - n_left/n_node gini_left -
//! n_right/n_node gini_right), normalised to sum 1 over features; the forest's is the mean over
//! trees. Tree t draws from `Stream::derive(seed, "forest", task + [t])`; trees are built in
//! parallel and summed in tree order, so the result does not depend on the thread count.
//!
//! # Limitations
//! Impurity importance favours features with many distinct values and is computed on the
//! training rows; with correlated features it is shared among them.

use rayon::prelude::*;

use crate::error::Result;
use crate::matrix::Matrix;
use crate::rng::Stream;
use crate::select::{OnRound, Selection, Selector};

#[derive(Clone, Debug)]
pub struct Forest {
    pub keep: usize,
    pub trees: usize,
}

impl Default for Forest {
    fn default() -> Forest {
        Forest { keep: 15, trees: 300 }
    }
}

fn gini(n0: f64, n1: f64) -> f64 {
    let n = n0 + n1;
    if n == 0.0 {
        return 0.0;
    }
    let (p0, p1) = (n0 / n, n1 / n);
    1.0 - p0 * p0 - p1 * p1
}

/// The impurity importance of one tree grown on the bootstrap rows `rows` (indices into `x`,
/// repeats allowed), not yet normalised.
fn tree_importance(x: &Matrix, y: &[usize], rows: Vec<usize>, rng: &mut Stream) -> Vec<f64> {
    let d = x.cols();
    let n_total = rows.len() as f64;
    let tries = ((d as f64).sqrt().floor() as usize).max(1);
    let mut importance = vec![0.0; d];
    let mut features: Vec<usize> = (0..d).collect();
    let mut stack = vec![rows];
    let mut sorted: Vec<(f64, usize)> = Vec::new();
    while let Some(node) = stack.pop() {
        let n = node.len() as f64;
        let n1 = node.iter().filter(|&&i| y[i] == 1).count() as f64;
        let impurity = gini(n - n1, n1);
        if node.len() < 2 || impurity == 0.0 {
            continue;
        }
        // (gain, feature, threshold)
        let mut best: Option<(f64, usize, f64)> = None;
        let mut tried = 0;
        let mut drawn = 0;
        while tried < tries && drawn < d {
            // Partial Fisher-Yates: features[drawn..] are the ones not drawn yet at this node.
            let pick = drawn + rng.below(d - drawn);
            features.swap(drawn, pick);
            let j = features[drawn];
            drawn += 1;
            sorted.clear();
            sorted.extend(node.iter().map(|&i| (x.get(i, j), i)));
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if sorted[0].0 == sorted[sorted.len() - 1].0 {
                continue;
            }
            tried += 1;
            let mut left1 = 0.0;
            for s in 0..sorted.len() - 1 {
                left1 += (y[sorted[s].1] == 1) as u8 as f64;
                if sorted[s].0 == sorted[s + 1].0 {
                    continue;
                }
                let nl = (s + 1) as f64;
                let nr = n - nl;
                let child =
                    nl / n * gini(nl - left1, left1) + nr / n * gini(nr - (n1 - left1), n1 - left1);
                let gain = impurity - child;
                if best.is_none_or(|b| gain > b.0) {
                    let (a, b) = (sorted[s].0, sorted[s + 1].0);
                    let mid = a + (b - a) / 2.0;
                    let threshold = if mid < b { mid } else { a };
                    best = Some((gain, j, threshold));
                }
            }
        }
        let Some((gain, j, threshold)) = best else { continue };
        importance[j] += n / n_total * gain;
        let (left, right): (Vec<usize>, Vec<usize>) =
            node.iter().partition(|&&i| x.get(i, j) <= threshold);
        stack.push(right);
        stack.push(left);
    }
    importance
}

impl Selector for Forest {
    fn name(&self) -> &str {
        "forest"
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
        let n = x.rows();
        let per_tree: Vec<Vec<f64>> = (0..self.trees.max(1))
            .into_par_iter()
            .map(|t| {
                let ids: Vec<u64> = task.iter().copied().chain([t as u64]).collect();
                let mut rng = Stream::derive(seed, "forest", &ids);
                let rows: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
                let mut imp = tree_importance(x, y, rows, &mut rng);
                let total: f64 = imp.iter().sum();
                if total > 0.0 {
                    imp.iter_mut().for_each(|v| *v /= total);
                }
                imp
            })
            .collect();
        let mut mean = vec![0.0; x.cols()];
        for imp in &per_tree {
            mean.iter_mut().zip(imp).for_each(|(m, v)| *m += v);
        }
        let inv = 1.0 / per_tree.len() as f64;
        mean.iter_mut().for_each(|m| *m *= inv);
        Ok(Selection::from_scores(&mean, self.keep))
    }
}
