//! Checks the hand-written backward pass of `nn` against central finite differences of the loss,
//! for every weight, bias and input element of small random networks, and the loss against
//! closed forms.
//!
//! A reference forward pass written independently here gives the pre-activations, so that test
//! points where some ReLU sits within 1e-3 of its kink (where the loss is not differentiable and
//! a finite difference straddles two linear pieces) are redrawn rather than compared.

use glrfe::Matrix;
use glrfe::nn::{Dense, Mlp};
use glrfe::rng::Stream;

/// Finite-difference step: near the optimum eps^(1/3) ~ 6e-6 for central differences, where
/// the truncation error (~h^2) and the round-off of the loss (~1e-16 |L| / h) balance. At
/// h = 1e-6 the round-off alone (~1e-10 absolute) fails gradients below ~1e-4.
const H: f64 = 5e-6;
/// Derivatives below this are too small for a two-point difference at `H` to resolve to
/// `TOLERANCE`; see [`check_element`].
const SMALL_GRADIENT: f64 = 1e-4;
/// Step of the five-point difference for small derivatives.
const H_SMALL_GRADIENT: f64 = 1e-3;
/// Largest accepted relative error |a - n| / max(|a|, |n|, 1e-8).
const TOLERANCE: f64 = 1e-6;
/// Pre-activations closer than this to 0 make a test point unusable.
const KINK_MARGIN: f64 = 1e-3;

fn relative_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-8)
}

/// Reference forward pass: the pre-activations of every layer for every row, computed the
/// obvious way (one row, one unit at a time).
fn reference_pre_activations(layers: &[Dense], x: &Matrix) -> Vec<Vec<Vec<f64>>> {
    let mut all = Vec::new();
    for i in 0..x.rows() {
        let mut a = x.row(i).to_vec();
        let mut per_layer = Vec::new();
        for (l, layer) in layers.iter().enumerate() {
            let z: Vec<f64> = (0..layer.outputs)
                .map(|o| {
                    layer.bias[o]
                        + (0..layer.inputs)
                            .map(|j| layer.weight[o * layer.inputs + j] * a[j])
                            .sum::<f64>()
                })
                .collect();
            a = if l + 1 < layers.len() {
                z.iter().map(|&v| v.max(0.0)).collect()
            } else {
                z.clone()
            };
            per_layer.push(z);
        }
        all.push(per_layer);
    }
    all
}

fn reference_loss(layers: &[Dense], x: &Matrix, y: &[usize], w: Option<&[f64]>) -> f64 {
    let pre = reference_pre_activations(layers, x);
    let mut num = 0.0;
    let mut den = 0.0;
    for (i, per_layer) in pre.iter().enumerate() {
        let o = per_layer.last().unwrap();
        let max = o.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + o.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        let wi = w.map_or(1.0, |w| w[i]);
        num += wi * (lse - o[y[i]]);
        den += wi;
    }
    num / den
}

/// A random problem: network, inputs, labels, optional weights, with every hidden
/// pre-activation at least `KINK_MARGIN` from 0 (redrawn until it is).
struct Case {
    mlp: Mlp,
    x: Matrix,
    y: Vec<usize>,
    w: Option<Vec<f64>>,
}

fn random_case(seed: u64, d: usize, hidden: &[usize], n: usize, weighted: bool) -> Case {
    let mut rng = Stream::derive(seed, "gradcheck", &[d as u64, n as u64]);
    for _attempt in 0..1000 {
        // Random biases too, so that bias gradients are tested away from the zero init.
        let mut layers = Mlp::he_init(d, hidden, 2, &mut rng).layers().to_vec();
        for layer in &mut layers {
            for b in &mut layer.bias {
                *b = 0.3 * rng.normal();
            }
        }
        let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
        let x = Matrix::from_row_major(n, d, x);
        let y: Vec<usize> = (0..n).map(|_| rng.below(2)).collect();
        let w = weighted.then(|| (0..n).map(|_| 0.1 + 2.0 * rng.uniform()).collect::<Vec<_>>());

        let pre = reference_pre_activations(&layers, &x);
        let near_kink = pre
            .iter()
            .any(|row| row[..row.len() - 1].iter().flatten().any(|z| z.abs() < KINK_MARGIN));
        if near_kink {
            continue;
        }
        let mlp = Mlp::from_layers(layers).unwrap();
        return Case { mlp, x, y, w };
    }
    panic!("could not draw a test point away from the ReLU kinks");
}

/// The signs of every hidden pre-activation of every row: the linear region of the network.
fn relu_pattern(layers: &[Dense], x: &Matrix) -> Vec<bool> {
    let pre = reference_pre_activations(layers, x);
    pre.iter().flat_map(|row| row[..row.len() - 1].iter().flatten().map(|&z| z > 0.0)).collect()
}

/// Compares one analytic derivative with central differences of `loss(t)`, the loss with the
/// element moved by `t`; `region(t)` says whether the network is still in the linear region of
/// the unperturbed point.
///
/// The first check is the plain two-point difference at step `H`. Its round-off, about
/// 1e-16 |L| / H absolute, exceeds 1e-6 relative for derivatives below about 1e-4; for those
/// only, a fourth-order five-point difference at step `H_SMALL_GRADIENT` is used instead, and
/// only where no ReLU changes sign between the points.
fn check_element(
    label: &str,
    analytic: f64,
    loss: &dyn Fn(f64) -> f64,
    region: &dyn Fn(f64) -> bool,
) {
    let numeric = (loss(H) - loss(-H)) / (2.0 * H);
    let err = relative_error(analytic, numeric);
    if err < TOLERANCE {
        return;
    }
    assert!(
        analytic.abs() < SMALL_GRADIENT && numeric.abs() < SMALL_GRADIENT,
        "{label}: analytic {analytic} numeric {numeric} (rel {err:e})"
    );

    let h = H_SMALL_GRADIENT;
    assert!(
        [-2.0, -1.0, 1.0, 2.0].iter().all(|&k| region(k * h)),
        "{label}: small gradient {analytic} (two-point rel {err:e}) and the wide stencil crosses a kink"
    );
    let numeric4 = (8.0 * (loss(h) - loss(-h)) - (loss(2.0 * h) - loss(-2.0 * h))) / (12.0 * h);
    let err4 = relative_error(analytic, numeric4);
    assert!(
        err4 < TOLERANCE,
        "{label}: analytic {analytic} numeric {numeric4} (five-point rel {err4:e})"
    );
}

/// Compares every parameter and input gradient of `case` with central differences; returns
/// the number of values compared.
fn check_all(case: &Case) -> usize {
    let w = case.w.as_deref();
    let grads = case.mlp.gradients(&case.x, &case.y, w);
    let layers = case.mlp.layers().to_vec();
    let base_pattern = relu_pattern(&layers, &case.x);
    let mut compared = 0;

    // The loss itself agrees with the independent reference.
    let reference = reference_loss(&layers, &case.x, &case.y, w);
    assert!(
        relative_error(grads.loss, reference) < 1e-12,
        "loss {} vs reference {reference}",
        grads.loss
    );
    assert_eq!(grads.loss, case.mlp.loss(&case.x, &case.y, w));

    let loss_of = |layers: &[Dense], x: &Matrix| {
        Mlp::from_layers(layers.to_vec()).unwrap().loss(x, &case.y, w)
    };

    for (l, layer) in layers.iter().enumerate() {
        for k in 0..layer.weight.len() {
            let moved = |t: f64| {
                let mut m = layers.clone();
                m[l].weight[k] += t;
                m
            };
            check_element(
                &format!("layer {l} weight {k}"),
                grads.layers[l].weight[k],
                &|t| loss_of(&moved(t), &case.x),
                &|t| relu_pattern(&moved(t), &case.x) == base_pattern,
            );
            compared += 1;
        }
        for k in 0..layer.bias.len() {
            let moved = |t: f64| {
                let mut m = layers.clone();
                m[l].bias[k] += t;
                m
            };
            check_element(
                &format!("layer {l} bias {k}"),
                grads.layers[l].bias[k],
                &|t| loss_of(&moved(t), &case.x),
                &|t| relu_pattern(&moved(t), &case.x) == base_pattern,
            );
            compared += 1;
        }
    }

    assert_eq!((grads.input.rows(), grads.input.cols()), (case.x.rows(), case.x.cols()));
    for i in 0..case.x.rows() {
        for j in 0..case.x.cols() {
            let moved = |t: f64| {
                let mut x = case.x.clone();
                x.set(i, j, x.get(i, j) + t);
                x
            };
            check_element(
                &format!("input [{i}, {j}]"),
                grads.input.get(i, j),
                &|t| loss_of(&layers, &moved(t)),
                &|t| relu_pattern(&layers, &moved(t)) == base_pattern,
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn one_hidden_layer_single_row() {
    let case = random_case(1, 4, &[5], 1, false);
    assert_eq!(check_all(&case), 5 * 4 + 5 + 2 * 5 + 2 + 4);
}

#[test]
fn one_hidden_layer_batch() {
    check_all(&random_case(2, 4, &[6], 7, false));
}

#[test]
fn one_hidden_layer_batch_weighted() {
    check_all(&random_case(3, 3, &[5], 6, true));
}

#[test]
fn three_hidden_layers_single_row() {
    check_all(&random_case(4, 5, &[6, 4, 3], 1, false));
}

#[test]
fn three_hidden_layers_batch() {
    check_all(&random_case(5, 5, &[7, 5, 4], 8, false));
}

#[test]
fn three_hidden_layers_batch_weighted() {
    check_all(&random_case(6, 4, &[6, 5, 3], 9, true));
}

#[test]
fn no_hidden_layer_is_logistic_regression() {
    check_all(&random_case(7, 3, &[], 5, true));
}

#[test]
fn wide_inputs_exercise_the_vector_remainder() {
    // 19 inputs: two full 8-lane chunks plus a remainder of 3 in the dot products.
    check_all(&random_case(8, 19, &[9], 3, false));
}

#[test]
fn row_input_gradients_are_each_rows_own_gradient() {
    for (seed, hidden) in [(10, vec![6]), (11, vec![5, 4, 3])] {
        let case = random_case(seed, 4, &hidden, 6, false);
        let n = case.x.rows();
        let rows = case.mlp.row_input_gradients(&case.x, &case.y);
        let batch = case.mlp.gradients(&case.x, &case.y, None).input;
        assert_eq!((rows.rows(), rows.cols()), (n, 4));

        for i in 0..n {
            let xi = case.x.select_rows(&[i]);
            let yi = [case.y[i]];
            for j in 0..4 {
                // n times the batch-mean input gradient.
                let scaled = n as f64 * batch.get(i, j);
                assert!(
                    relative_error(rows.get(i, j), scaled) < 1e-12,
                    "row {i} col {j}: {} vs n * batch {}",
                    rows.get(i, j),
                    scaled
                );

                // The finite difference of row i's own loss.
                let moved = |t: f64| {
                    let mut x = xi.clone();
                    x.set(0, j, x.get(0, j) + t);
                    x
                };
                let base = relu_pattern(case.mlp.layers(), &xi);
                check_element(
                    &format!("row {i} own loss, input {j}"),
                    rows.get(i, j),
                    &|t| case.mlp.loss(&moved(t), &yi, None),
                    &|t| relu_pattern(case.mlp.layers(), &moved(t)) == base,
                );
            }
        }
    }
}

#[test]
fn row_weights_scale_rows_of_the_input_gradient() {
    // With weights, row i of the batch input gradient is w_i / sum(w) times its own gradient.
    let case = random_case(12, 3, &[5], 4, true);
    let w = case.w.as_deref().unwrap();
    let total: f64 = w.iter().sum();
    let rows = case.mlp.row_input_gradients(&case.x, &case.y);
    let batch = case.mlp.gradients(&case.x, &case.y, Some(w)).input;
    for (i, &wi) in w.iter().enumerate() {
        for j in 0..3 {
            let expected = wi / total * rows.get(i, j);
            assert!(relative_error(batch.get(i, j), expected) < 1e-12);
        }
    }
}

/// A one-layer network `1 -> 2` whose logits for input `[1]` are `(a, b)`.
fn fixed_logits(a: f64, b: f64) -> Mlp {
    Mlp::from_layers(vec![Dense {
        inputs: 1,
        outputs: 2,
        weight: vec![a, b],
        bias: vec![0.0, 0.0],
    }])
    .unwrap()
}

#[test]
fn zero_network_has_loss_ln_2_and_probability_one_half() {
    let mlp = Mlp::from_layers(vec![Dense::zeros(3, 4), Dense::zeros(4, 2)]).unwrap();
    let x = Matrix::from_rows(&[vec![1.0, -2.0, 3.0], vec![0.5, 0.0, -1.0]]);
    let loss = mlp.loss(&x, &[0, 1], None);
    assert!((loss - std::f64::consts::LN_2).abs() < 1e-15, "{loss}");
    assert_eq!(mlp.predict_proba(&x), vec![0.5, 0.5]);
}

#[test]
fn loss_matches_log_sum_exp_closed_form() {
    let mlp = fixed_logits(0.3, -1.2);
    let x = Matrix::from_rows(&[vec![1.0], vec![2.0]]);
    // Row 0 logits (0.3, -1.2), row 1 logits (0.6, -2.4).
    let l0 = (0.3f64.exp() + (-1.2f64).exp()).ln() - 0.3; // y = 0
    let l1 = (0.6f64.exp() + (-2.4f64).exp()).ln() + 2.4; // y = 1
    let loss = mlp.loss(&x, &[0, 1], None);
    assert!((loss - (l0 + l1) / 2.0).abs() < 1e-14, "{loss}");

    let weighted = mlp.loss(&x, &[0, 1], Some(&[3.0, 1.0]));
    assert!((weighted - (3.0 * l0 + l1) / 4.0).abs() < 1e-14, "{weighted}");

    let p = mlp.predict_proba(&x);
    assert!((p[0] - (-1.2f64).exp() / (0.3f64.exp() + (-1.2f64).exp())).abs() < 1e-15);
    let logits = mlp.logits(&x);
    assert_eq!(logits.as_slice(), &[0.3, -1.2, 0.6, -2.4]);
}

#[test]
fn huge_logits_give_finite_loss_and_gradients() {
    let mlp = fixed_logits(1e4, -1e4);
    let x = Matrix::from_rows(&[vec![1.0], vec![1.0]]);

    // Correct class with a margin of 2e4: loss 0 (exp(-2e4) underflows). Wrong class: 2e4.
    assert_eq!(mlp.loss(&x.select_rows(&[0]), &[0], None), 0.0);
    assert_eq!(mlp.loss(&x.select_rows(&[0]), &[1], None), 2e4);
    let loss = mlp.loss(&x, &[0, 1], None);
    assert_eq!(loss, 1e4);

    let g = mlp.gradients(&x, &[0, 1], None);
    assert!(g.loss.is_finite());
    assert!(g.layers.iter().all(|l| l.weight.iter().chain(&l.bias).all(|v| v.is_finite())));
    assert!(g.input.as_slice().iter().all(|v| v.is_finite()));
    // Row 1 has p = (1, 0) and y = 1, so dL/do = (1, -1) / 2 and dL/dx = (1e4 + 1e4) / 2.
    assert_eq!(g.input.get(1, 0), 1e4);
    assert_eq!(g.input.get(0, 0), 0.0);

    let p = mlp.predict_proba(&x);
    assert_eq!(p, vec![0.0, 0.0]);
}
