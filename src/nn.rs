//! The neural network: dense layers, ReLU, softmax cross-entropy, their backward passes written
//! by hand, Adam, and the training loop.
//!
//! This module owns the multilayer perceptron [`Mlp`] (ReLU after every layer but the last, whose
//! outputs are the class logits), its loss and gradients (with respect to every parameter and to
//! the inputs, which GL-RFE turns into feature importances), and [`train`]. It knows nothing of
//! feature selection, scaling or resampling: callers hand it a ready matrix.
//!
//! Every layer is a pair of functions, `*_forward` and `*_backward`, in the style of llm.c: the
//! gradient of a buffer `x` is named `dx`, and shapes are stated at the top of each function.
//! Batches are row-major, one row a sample, so a batch of `n` rows through a layer of `o` units
//! is an `n x o` buffer.
//!
//! The dense kernels are plain loops over contiguous slices with a fixed number of independent
//! accumulators, so that LLVM vectorises them with the baseline instruction set while the order
//! of every floating-point sum is fixed by the source. There is no run-time CPU feature detection
//! and no fused multiply-add, so a given build gives bit-identical results on any x86-64 machine,
//! with one exception: `exp` and `ln` in the softmax come from the platform's libm, and glibc
//! chooses an FMA or a non-FMA variant of them at run time. These are not guaranteed correctly
//! rounded, so two machines may in rare cases differ in a last bit there, and training then
//! amplifies it. TODO: a fixed-order `exp`/`ln` of our own would close this gap; it is not
//! written yet because it needs its own accuracy tests.
//!
//! Training preallocates one [`Workspace`] (activations and gradients for a batch) and the Adam
//! moments, and reuses them for every batch: nothing is allocated inside the epoch loop.

use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::rng::Stream;

// ---------------------------------------------------------------------------------------------
// Parameters and gradients

/// A fully connected layer `z = W a + b`.
///
/// `weight` is `outputs x inputs`, row-major, one row per output unit (the layout of
/// `torch.nn.Linear.weight`); `bias` has `outputs` entries.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Vec<f64>,
    pub bias: Vec<f64>,
}

impl Dense {
    /// An `inputs -> outputs` layer with all weights and biases zero.
    pub fn zeros(inputs: usize, outputs: usize) -> Dense {
        Dense { inputs, outputs, weight: vec![0.0; inputs * outputs], bias: vec![0.0; outputs] }
    }

    /// Row `o` of the weight matrix: the weights into output unit `o` (`inputs` entries).
    pub fn weight_row(&self, o: usize) -> &[f64] {
        &self.weight[o * self.inputs..(o + 1) * self.inputs]
    }
}

/// A multilayer perceptron: dense layers with ReLU after every layer but the last; the last
/// layer's outputs are the logits of classes `0, 1, ...` (two for glrfe's binary problems).
///
/// The layers are private so that an `Mlp` always has shapes that chain; build one with
/// [`Mlp::he_init`], [`Mlp::from_layers`] or [`train`].
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    layers: Vec<Dense>,
}

/// The gradient of a loss with respect to one [`Dense`] layer, in the same layout.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseGrad {
    pub weight: Vec<f64>,
    pub bias: Vec<f64>,
}

impl DenseGrad {
    fn zeros_like(layer: &Dense) -> DenseGrad {
        DenseGrad { weight: vec![0.0; layer.weight.len()], bias: vec![0.0; layer.bias.len()] }
    }
}

/// The loss of a batch and its gradients, as returned by [`Mlp::gradients`].
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients {
    /// The (weighted) batch-mean cross-entropy.
    pub loss: f64,
    /// dLoss/dW and dLoss/db for every layer, in layer order.
    pub layers: Vec<DenseGrad>,
    /// dLoss/dX (`n x d`) of the same batch-mean loss, so row `i` carries the factor
    /// `w_i / sum(w)`; see [`Mlp::row_input_gradients`] for each row's own gradient.
    pub input: Matrix,
}

// ---------------------------------------------------------------------------------------------
// Kernels
//
// Fixed-order building blocks for the layers. Each processes contiguous slices so that LLVM
// vectorises it; the order of every sum is written out here and does not depend on the CPU.

/// Independent partial sums in [`dot`]: enough to hide the latency of the adds and to fill two
/// 256-bit or four 128-bit vector registers.
const LANES: usize = 8;

/// `sum_i a_i b_i`, accumulated in [`LANES`] interleaved partial sums (element `i` goes to lane
/// `i % LANES`) that are then added pairwise in a fixed tree.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; LANES];

    let chunks_a = a.chunks_exact(LANES);
    let chunks_b = b.chunks_exact(LANES);
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (ca, cb) in chunks_a.zip(chunks_b) {
        let ca: &[f64; LANES] = ca.try_into().unwrap();
        let cb: &[f64; LANES] = cb.try_into().unwrap();
        for ((s, &p), &q) in acc.iter_mut().zip(ca).zip(cb) {
            *s += p * q;
        }
    }
    for ((s, &p), &q) in acc.iter_mut().zip(rest_a).zip(rest_b) {
        *s += p * q;
    }

    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// `out[j] = sum_k coeff[k * stride] * rows[k * len + j]` with `len = out.len()`, the sum over `k`
/// in increasing order starting from 0: a linear combination of the rows of a row-major
/// matrix.
///
/// Each element is its own chain of adds, so the result does not depend on the vector width.
/// The loop walks `out` in blocks of [`LANES`] columns kept in registers across all rows,
/// instead of loading and storing the whole of `out` once per row.
fn combine_rows(out: &mut [f64], coeff: &[f64], stride: usize, rows: &[f64]) {
    let len = out.len();
    let count = rows.len() / len;
    debug_assert!(count == 0 || coeff.len() > (count - 1) * stride);

    let mut start = 0;
    for block in out.chunks_mut(LANES) {
        let width = block.len();
        let mut acc = [0.0f64; LANES];
        if let Ok(block) = <&mut [f64; LANES]>::try_from(&mut *block) {
            for k in 0..count {
                let c = coeff[k * stride];
                let r: &[f64; LANES] = rows[k * len + start..][..LANES].try_into().unwrap();
                for (a, &v) in acc.iter_mut().zip(r) {
                    *a += c * v;
                }
            }
            *block = acc;
        } else {
            for k in 0..count {
                let c = coeff[k * stride];
                for (a, &v) in acc.iter_mut().zip(&rows[k * len + start..][..width]) {
                    *a += c * v;
                }
            }
            block.copy_from_slice(&acc[..width]);
        }
        start += width;
    }
}

// ---------------------------------------------------------------------------------------------
// Layers: paired forward and backward passes

/// Dense forward: `out = inp W^T + b`, i.e. `out[b, o] = bias[o] + sum_i W[o, i] inp[b, i]`.
///
/// Shapes: `out` (n x O), `inp` (n x I), `layer.weight` (O x I), `layer.bias` (O), where
/// `I = layer.inputs`, `O = layer.outputs` and `n = inp.len() / I`.
fn dense_forward(out: &mut [f64], inp: &[f64], layer: &Dense) {
    let (ni, no) = (layer.inputs, layer.outputs);
    debug_assert_eq!(inp.len() / ni * no, out.len());

    for (out_row, inp_row) in out.chunks_exact_mut(no).zip(inp.chunks_exact(ni)) {
        for (o, out_bo) in out_row.iter_mut().enumerate() {
            *out_bo = layer.bias[o] + dot(layer.weight_row(o), inp_row);
        }
    }
}

/// Dense backward, given `dout = dL/dout`:
/// - `dW = dout^T inp`, i.e. `dW[o, i] = sum_b dout[b, o] inp[b, i]` (sum over `b` in order),
/// - `db = column sums of dout`,
/// - `dinp = dout W`, i.e. `dinp[b, i] = sum_o dout[b, o] W[o, i]` (sum over `o` in order).
///
/// `dinp` and `dparams` are optional so that training can skip the input gradient of the first
/// layer, and per-row input gradients can skip the parameters. Both are overwritten, not added
/// to.
///
/// Shapes: `dinp` (n x I), `dparams.weight` (O x I), `dparams.bias` (O), `dout` (n x O),
/// `inp` (n x I), `layer.weight` (O x I).
fn dense_backward(
    dinp: Option<&mut [f64]>,
    dparams: Option<&mut DenseGrad>,
    dout: &[f64],
    inp: &[f64],
    layer: &Dense,
) {
    let (ni, no) = (layer.inputs, layer.outputs);
    debug_assert_eq!(dout.len() / no * ni, inp.len());

    if let Some(dparams) = dparams {
        // dW row o = sum_b dout[b, o] * inp row b; db[o] = sum_b dout[b, o].
        for (o, dw_row) in dparams.weight.chunks_exact_mut(ni).enumerate() {
            combine_rows(dw_row, &dout[o..], no, inp);
            dparams.bias[o] = dout.chunks_exact(no).fold(0.0, |db, row| db + row[o]);
        }
    }

    if let Some(dinp) = dinp {
        // dinp row b = sum_o dout[b, o] * W row o.
        for (dinp_row, dout_row) in dinp.chunks_exact_mut(ni).zip(dout.chunks_exact(no)) {
            combine_rows(dinp_row, dout_row, 1, &layer.weight);
        }
    }
}

/// ReLU forward: `h = max(z, 0)`. Shapes: `h`, `z` (n x O).
fn relu_forward(h: &mut [f64], z: &[f64]) {
    for (hi, &zi) in h.iter_mut().zip(z) {
        *hi = if zi > 0.0 { zi } else { 0.0 };
    }
}

/// ReLU backward: `dz = dh * [z > 0]` (the derivative at the kink `z = 0` is taken as 0, as in
/// PyTorch). Shapes: `dz`, `dh`, `z` (n x O).
fn relu_backward(dz: &mut [f64], dh: &[f64], z: &[f64]) {
    for ((dzi, &dhi), &zi) in dz.iter_mut().zip(dh).zip(z) {
        *dzi = if zi > 0.0 { dhi } else { 0.0 };
    }
}

/// Softmax cross-entropy forward: fills `probs` with `softmax(logits)` row by row and returns
/// the weighted mean loss `sum_i w_i L_i / sum_i w_i` with `L_i = logsumexp(o_i) - o_i[y_i]`
/// (`w_i = 1` when `weight` is `None`).
///
/// Both the log-sum-exp and the softmax subtract the row maximum first, so logits of any finite
/// size give a finite loss and probabilities. An infinite or NaN logit gives a NaN loss, which
/// training reports as divergence.
///
/// Shapes: `probs`, `logits` (n x K), `y` (n), `weight` (n).
fn softmax_cross_entropy_forward(
    probs: &mut [f64],
    logits: &[f64],
    y: &[usize],
    weight: Option<&[f64]>,
    k: usize,
) -> f64 {
    let mut total = 0.0;
    for (i, (p_row, o_row)) in probs.chunks_exact_mut(k).zip(logits.chunks_exact(k)).enumerate() {
        let max = o_row.iter().fold(f64::NEG_INFINITY, |m, &o| if o > m { o } else { m });

        let mut sum = 0.0;
        for (p, &o) in p_row.iter_mut().zip(o_row) {
            *p = (o - max).exp();
            sum += *p;
        }
        for p in p_row.iter_mut() {
            *p /= sum;
        }

        let loss_i = max + sum.ln() - o_row[y[i]];
        total += weight.map_or(1.0, |w| w[i]) * loss_i;
    }
    total / weight_total(weight, y.len())
}

/// Softmax cross-entropy backward: `dlogits[i, k] = scale * w_i * (p[i, k] - [k == y_i])`.
///
/// This is where the chain rule starts. For the batch-mean loss `scale = 1 / sum(w)` (that is
/// `1 / batch` without weights): each row contributes `w_i / sum(w)` of its own gradient. For
/// each row's own loss (GL-RFE's per-row input gradients) `scale = 1` and `weight = None`.
///
/// Shapes: `dlogits`, `probs` (n x K), `y` (n), `weight` (n).
fn softmax_cross_entropy_backward(
    dlogits: &mut [f64],
    probs: &[f64],
    y: &[usize],
    weight: Option<&[f64]>,
    scale: f64,
    k: usize,
) {
    for (i, (d_row, p_row)) in dlogits.chunks_exact_mut(k).zip(probs.chunks_exact(k)).enumerate() {
        let s = scale * weight.map_or(1.0, |w| w[i]);
        for (c, (d, &p)) in d_row.iter_mut().zip(p_row).enumerate() {
            let target = if c == y[i] { 1.0 } else { 0.0 };
            *d = s * (p - target);
        }
    }
}

/// `sum_i w_i` over the first `n` rows, in row order (`n` when there are no weights).
fn weight_total(weight: Option<&[f64]>, n: usize) -> f64 {
    match weight {
        Some(w) => w[..n].iter().sum(),
        None => n as f64,
    }
}

// ---------------------------------------------------------------------------------------------
// The network: forward and backward through all layers, on a reusable workspace

/// Activations and gradients of one batch of up to `capacity` rows, allocated once and reused.
///
/// For layer `l` of `L`: `z[l]` is its pre-activation (the logits for `l = L - 1`), `h[l]`
/// (`l < L - 1`) its ReLU output, and `dz[l]`, `dh[l]` their gradients. `dx` is the input
/// gradient and `grads` the parameter gradients.
struct Workspace {
    z: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
    probs: Vec<f64>,
    dz: Vec<Vec<f64>>,
    dh: Vec<Vec<f64>>,
    dx: Vec<f64>,
    grads: Vec<DenseGrad>,
}

/// Which gradients a backward pass should compute.
#[derive(Clone, Copy)]
struct Want {
    params: bool,
    input: bool,
}

impl Workspace {
    fn new(mlp: &Mlp, capacity: usize) -> Workspace {
        let layers = &mlp.layers;
        let hidden = &layers[..layers.len() - 1];
        let k = mlp.outputs();
        Workspace {
            z: layers.iter().map(|l| vec![0.0; capacity * l.outputs]).collect(),
            h: hidden.iter().map(|l| vec![0.0; capacity * l.outputs]).collect(),
            probs: vec![0.0; capacity * k],
            dz: layers.iter().map(|l| vec![0.0; capacity * l.outputs]).collect(),
            dh: hidden.iter().map(|l| vec![0.0; capacity * l.outputs]).collect(),
            dx: vec![0.0; capacity * mlp.inputs()],
            grads: layers.iter().map(DenseGrad::zeros_like).collect(),
        }
    }
}

impl Mlp {
    /// Forward pass of the `n` rows of `x` (n x d) through every layer; leaves the logits in
    /// `ws.z[L - 1][..n * K]`.
    fn forward(&self, ws: &mut Workspace, x: &[f64], n: usize) {
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let inp =
                if l == 0 { &x[..n * layer.inputs] } else { &ws.h[l - 1][..n * layer.inputs] };
            let z = &mut ws.z[l][..n * layer.outputs];
            dense_forward(z, inp, layer);

            if l < last {
                relu_forward(&mut ws.h[l][..n * layer.outputs], z);
            }
        }
    }

    /// Forward pass plus loss: fills `ws.probs` and returns the weighted mean cross-entropy.
    fn forward_loss(
        &self,
        ws: &mut Workspace,
        x: &[f64],
        y: &[usize],
        weight: Option<&[f64]>,
    ) -> f64 {
        let n = y.len();
        let k = self.outputs();
        self.forward(ws, x, n);

        let logits = &ws.z[self.layers.len() - 1][..n * k];
        softmax_cross_entropy_forward(&mut ws.probs[..n * k], logits, y, weight, k)
    }

    /// Backward pass after [`Mlp::forward_loss`] on the same rows, with the chain rule started
    /// at `dlogits = scale * w_i * (p - onehot(y))`. Fills `ws.grads` and/or `ws.dx[..n * d]`.
    fn backward(
        &self,
        ws: &mut Workspace,
        x: &[f64],
        y: &[usize],
        weight: Option<&[f64]>,
        scale: f64,
        want: Want,
    ) {
        let n = y.len();
        let k = self.outputs();
        let last = self.layers.len() - 1;

        // dL/do = scale * w_i * (p - onehot(y)): the start of the chain rule.
        softmax_cross_entropy_backward(
            &mut ws.dz[last][..n * k],
            &ws.probs[..n * k],
            y,
            weight,
            scale,
            k,
        );

        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (ni, no) = (layer.inputs, layer.outputs);

            // dW = dZ^T A, db = column sums of dZ, dA = dZ W.
            let inp = if l == 0 { &x[..n * ni] } else { &ws.h[l - 1][..n * ni] };
            let dinp = if l == 0 {
                want.input.then(|| &mut ws.dx[..n * ni])
            } else {
                Some(&mut ws.dh[l - 1][..n * ni])
            };
            let dparams = want.params.then(|| &mut ws.grads[l]);
            dense_backward(dinp, dparams, &ws.dz[l][..n * no], inp, layer);

            // dZ = dH * [Z > 0] for the hidden layer below.
            if l > 0 {
                relu_backward(
                    &mut ws.dz[l - 1][..n * ni],
                    &ws.dh[l - 1][..n * ni],
                    &ws.z[l - 1][..n * ni],
                );
            }
        }
    }

    /// Panics unless `x`, `y` and `row_weight` describe the same rows and fit this network.
    fn check_batch(&self, x: &Matrix, y: &[usize], row_weight: Option<&[f64]>) {
        assert_eq!(
            x.cols(),
            self.inputs(),
            "x has {} columns, the network {} inputs",
            x.cols(),
            self.inputs()
        );
        assert_eq!(x.rows(), y.len(), "x has {} rows but y has {} labels", x.rows(), y.len());
        assert!(!y.is_empty(), "the batch is empty");
        if let Some(&bad) = y.iter().find(|&&c| c >= self.outputs()) {
            panic!("label {bad} is out of range for {} classes", self.outputs());
        }
        if let Some(w) = row_weight {
            assert_eq!(w.len(), y.len(), "{} row weights for {} rows", w.len(), y.len());
            assert!(
                w.iter().all(|&v| v.is_finite() && v >= 0.0),
                "row weights must be finite and >= 0"
            );
            assert!(weight_total(Some(w), w.len()) > 0.0, "row weights must not all be zero");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Public API of the network

impl Mlp {
    /// A network `inputs -> hidden[0] -> ... -> outputs` with He-normal weights
    /// `w ~ N(0, 2 / fan_in)` and zero biases, drawn from `rng` layer by layer, row by row.
    ///
    /// He initialisation keeps the variance of ReLU activations roughly constant with depth.
    ///
    /// # Panics
    /// If `inputs` or any hidden width is 0, or `outputs < 2`.
    pub fn he_init(inputs: usize, hidden: &[usize], outputs: usize, rng: &mut Stream) -> Mlp {
        assert!(inputs > 0, "a network needs at least one input");
        assert!(hidden.iter().all(|&h| h > 0), "hidden widths must be > 0, got {hidden:?}");
        assert!(outputs >= 2, "a classifier needs at least two outputs");

        let mut widths = Vec::with_capacity(hidden.len() + 2);
        widths.push(inputs);
        widths.extend_from_slice(hidden);
        widths.push(outputs);

        let layers = widths
            .windows(2)
            .map(|pair| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let sd = (2.0 / fan_in as f64).sqrt();
                let weight = (0..fan_in * fan_out).map(|_| sd * rng.normal()).collect();
                Dense { inputs: fan_in, outputs: fan_out, weight, bias: vec![0.0; fan_out] }
            })
            .collect();
        Mlp { layers }
    }

    /// A network from explicit layers (e.g. read from a model file), after checking that there
    /// is at least one layer, that every width is positive, that each layer's inputs equal the
    /// previous layer's outputs, that the last layer has at least two outputs, that weight and
    /// bias lengths match the declared shape, and that every parameter is finite.
    ///
    /// Returns an [`Error::input`] saying which layer is wrong and how.
    pub fn from_layers(layers: Vec<Dense>) -> Result<Mlp> {
        if layers.is_empty() {
            return Err(Error::input("a network needs at least one layer"));
        }
        for (l, layer) in layers.iter().enumerate() {
            if layer.inputs == 0 || layer.outputs == 0 {
                return Err(Error::input(format!(
                    "layer {l} has shape {} x {} (outputs x inputs); both must be > 0",
                    layer.outputs, layer.inputs
                )));
            }
            if l > 0 && layer.inputs != layers[l - 1].outputs {
                return Err(Error::input(format!(
                    "layer {l} has {} inputs but layer {} has {} outputs; the shapes must chain",
                    layer.inputs,
                    l - 1,
                    layers[l - 1].outputs
                )));
            }
            if layer.weight.len() != layer.inputs * layer.outputs {
                return Err(Error::input(format!(
                    "layer {l} has {} weights, expected {} outputs x {} inputs = {}",
                    layer.weight.len(),
                    layer.outputs,
                    layer.inputs,
                    layer.inputs * layer.outputs
                )));
            }
            if layer.bias.len() != layer.outputs {
                return Err(Error::input(format!(
                    "layer {l} has {} biases, expected one per output ({})",
                    layer.bias.len(),
                    layer.outputs
                )));
            }
            if let Some(i) = layer.weight.iter().position(|w| !w.is_finite()) {
                return Err(Error::input(format!(
                    "layer {l} weight [{}, {}] is not finite ({})",
                    i / layer.inputs,
                    i % layer.inputs,
                    layer.weight[i]
                )));
            }
            if let Some(o) = layer.bias.iter().position(|b| !b.is_finite()) {
                return Err(Error::input(format!(
                    "layer {l} bias [{o}] is not finite ({})",
                    layer.bias[o]
                )));
            }
        }
        let outputs = layers[layers.len() - 1].outputs;
        if outputs < 2 {
            return Err(Error::input(format!(
                "the last layer has {outputs} output; a classifier needs one logit per class (2)"
            )));
        }
        Ok(Mlp { layers })
    }

    /// The layers, first to last.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// The number of input features.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// The number of outputs (classes).
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// The logits of every row of `x` (n x d): an `n x K` matrix.
    ///
    /// # Panics
    /// If `x` does not have [`Mlp::inputs`] columns.
    pub fn logits(&self, x: &Matrix) -> Matrix {
        assert_eq!(
            x.cols(),
            self.inputs(),
            "x has {} columns, the network {} inputs",
            x.cols(),
            self.inputs()
        );
        let n = x.rows();
        let mut ws = Workspace::new(self, n);
        self.forward(&mut ws, x.as_slice(), n);

        let last = ws.z.swap_remove(self.layers.len() - 1);
        Matrix::from_row_major(n, self.outputs(), last[..n * self.outputs()].to_vec())
    }

    /// `P(class 1)` for every row of `x`, from the softmax of the logits (computed after
    /// subtracting the row maximum, so it is finite for any finite logits).
    ///
    /// # Panics
    /// If `x` does not have [`Mlp::inputs`] columns.
    pub fn predict_proba(&self, x: &Matrix) -> Vec<f64> {
        let logits = self.logits(x);
        (0..logits.rows())
            .map(|i| {
                let o = logits.row(i);
                let max = o.iter().fold(f64::NEG_INFINITY, |m, &v| if v > m { v } else { m });
                let sum: f64 = o.iter().map(|&v| (v - max).exp()).sum();
                (o[1] - max).exp() / sum
            })
            .collect()
    }

    /// The weighted mean cross-entropy `sum_i w_i L_i / sum_i w_i` over the rows of `x`, with
    /// `L_i = -log softmax(o_i)[y_i] = logsumexp(o_i) - o_i[y_i]` computed stably, and `w_i = 1`
    /// when `row_weight` is `None`.
    ///
    /// # Panics
    /// If the shapes disagree, `x` is empty, a label is `>=` the number of outputs, or a weight
    /// is negative or non-finite, or all weights are zero.
    pub fn loss(&self, x: &Matrix, y: &[usize], row_weight: Option<&[f64]>) -> f64 {
        self.check_batch(x, y, row_weight);
        let mut ws = Workspace::new(self, y.len());
        self.forward_loss(&mut ws, x.as_slice(), y, row_weight)
    }

    /// The loss of [`Mlp::loss`] with its gradient with respect to every weight, bias and input
    /// element.
    ///
    /// # Panics
    /// As [`Mlp::loss`].
    pub fn gradients(&self, x: &Matrix, y: &[usize], row_weight: Option<&[f64]>) -> Gradients {
        self.check_batch(x, y, row_weight);
        let n = y.len();
        let mut ws = Workspace::new(self, n);
        let loss = self.forward_loss(&mut ws, x.as_slice(), y, row_weight);

        // The loss is a weighted mean, so each row's gradient enters with 1 / sum(w).
        let scale = 1.0 / weight_total(row_weight, n);
        self.backward(
            &mut ws,
            x.as_slice(),
            y,
            row_weight,
            scale,
            Want { params: true, input: true },
        );

        let input = Matrix::from_row_major(n, self.inputs(), std::mem::take(&mut ws.dx));
        Gradients { loss, layers: ws.grads, input }
    }

    /// Each row's gradient of its *own* loss with respect to its own inputs: row `i` is
    /// `dL_i / dx_i` with `L_i = -log softmax(o_i)[y_i]`, unweighted and without the `1/n` of
    /// the batch mean (so it equals `n` times row `i` of [`Gradients::input`] for unweighted
    /// rows). GL-RFE scores feature `j` as the mean over rows of `|dL_i / dx_ij|`.
    ///
    /// # Limitations
    /// The gradient is local. A row whose ReLU units are all inactive on some path, or whose
    /// softmax is saturated (`p_y` within rounding of 1), gets an input gradient of exactly or
    /// nearly zero although the feature may matter; a well-fitted training set therefore gives
    /// small importances dominated by its few poorly fitted rows.
    ///
    /// # Panics
    /// As [`Mlp::loss`].
    pub fn row_input_gradients(&self, x: &Matrix, y: &[usize]) -> Matrix {
        self.check_batch(x, y, None);
        let n = y.len();
        let mut ws = Workspace::new(self, n);
        self.forward_loss(&mut ws, x.as_slice(), y, None);

        // Each row's own loss: scale 1, no 1/n.
        self.backward(&mut ws, x.as_slice(), y, None, 1.0, Want { params: false, input: true });
        Matrix::from_row_major(n, self.inputs(), ws.dx)
    }

    /// A copy of this network that reads only the input columns `keep` (in that order): the
    /// first layer keeps the weight columns `keep`, everything else is unchanged. Used to warm
    /// start the next GL-RFE round after eliminating features.
    ///
    /// # Panics
    /// If `keep` is empty or an index is out of range.
    pub fn without_inputs(&self, keep: &[usize]) -> Mlp {
        assert!(!keep.is_empty(), "a network needs at least one input");
        let first = &self.layers[0];
        if let Some(&bad) = keep.iter().find(|&&j| j >= first.inputs) {
            panic!("input {bad} is out of range for a network with {} inputs", first.inputs);
        }

        let mut weight = Vec::with_capacity(first.outputs * keep.len());
        for o in 0..first.outputs {
            let row = first.weight_row(o);
            weight.extend(keep.iter().map(|&j| row[j]));
        }

        let mut layers = self.layers.clone();
        layers[0] =
            Dense { inputs: keep.len(), outputs: first.outputs, weight, bias: first.bias.clone() };
        Mlp { layers }
    }
}

// ---------------------------------------------------------------------------------------------
// Training: Adam over shuffled mini-batches

/// Settings of [`train`]. The defaults are those of the GL-RFE article's PyTorch setup.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Widths of the hidden layers, first to last.
    pub hidden: Vec<usize>,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Adam step size.
    pub learning_rate: f64,
    /// Rows per mini-batch (the last batch of an epoch may be smaller); 0 means all rows.
    pub batch_size: usize,
    /// L2 coefficient: `weight_decay * w` is added to the gradient of every weight (biases are
    /// not decayed).
    pub weight_decay: f64,
    /// Adam's decay rate of the first moment.
    pub beta1: f64,
    /// Adam's decay rate of the second moment.
    pub beta2: f64,
    /// Adam's denominator guard.
    pub eps: f64,
}

impl Default for TrainConfig {
    fn default() -> TrainConfig {
        TrainConfig {
            hidden: vec![64, 32],
            epochs: 100,
            learning_rate: 1e-3,
            batch_size: 32,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// What happened during [`train`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainReport {
    /// For each epoch, the mean over its batches of the batch loss (computed before that batch's
    /// update).
    pub epoch_loss: Vec<f64>,
}

/// Adam's first and second moments for one layer.
struct Moments {
    m: DenseGrad,
    v: DenseGrad,
}

/// The scalars of Adam step `t` (1-based), shared by every parameter of that step.
#[derive(Clone, Copy)]
struct AdamStep {
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// `lr / (1 - beta1^t)`.
    step_size: f64,
    /// `sqrt(1 - beta2^t)`.
    bc2_sqrt: f64,
}

impl AdamStep {
    fn new(cfg: &TrainConfig, t: i32) -> AdamStep {
        AdamStep {
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            eps: cfg.eps,
            step_size: cfg.learning_rate / (1.0 - cfg.beta1.powi(t)),
            bc2_sqrt: (1.0 - cfg.beta2.powi(t)).sqrt(),
        }
    }
}

/// One Adam step with bias correction on `param`, given its gradient `grad` and moments `m`,
/// `v`; `decay * param` is added to the gradient first (L2, as `torch.optim.Adam` does):
///
/// ```text
/// g = grad + decay * param
/// m = beta1 m + (1 - beta1) g            v = beta2 v + (1 - beta2) g^2
/// param -= (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// ```
///
/// Returns whether every updated parameter is finite (a non-finite gradient makes its
/// parameter NaN, so this also catches those).
fn adam_update(
    param: &mut [f64],
    grad: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    decay: f64,
    step: AdamStep,
) -> bool {
    let (b1, b2) = (step.beta1, step.beta2);
    let mut finite = true;
    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g + decay * *p;
        *m = b1 * *m + (1.0 - b1) * g;
        *v = b2 * *v + (1.0 - b2) * g * g;
        *p -= step.step_size * *m / (v.sqrt() / step.bc2_sqrt + step.eps);
        finite &= p.is_finite();
    }
    finite
}

/// Checks the settings and data of [`train`], with an [`Error::usage`] naming the problem.
fn validate(x: &Matrix, y: &[usize], row_weight: Option<&[f64]>, cfg: &TrainConfig) -> Result<()> {
    if cfg.epochs == 0 {
        return Err(Error::usage("epochs must be at least 1"));
    }
    if !(cfg.learning_rate.is_finite() && cfg.learning_rate > 0.0) {
        return Err(Error::usage(format!(
            "learning rate must be finite and > 0, got {}",
            cfg.learning_rate
        )));
    }
    if let Some(l) = cfg.hidden.iter().position(|&h| h == 0) {
        return Err(Error::usage(format!("hidden layer {l} has width 0; widths must be > 0")));
    }
    if !(cfg.weight_decay.is_finite() && cfg.weight_decay >= 0.0) {
        return Err(Error::usage(format!(
            "weight decay must be finite and >= 0, got {}",
            cfg.weight_decay
        )));
    }
    for (name, beta) in [("beta1", cfg.beta1), ("beta2", cfg.beta2)] {
        if !(0.0..1.0).contains(&beta) {
            return Err(Error::usage(format!("{name} must be in [0, 1), got {beta}")));
        }
    }
    if !(cfg.eps.is_finite() && cfg.eps > 0.0) {
        return Err(Error::usage(format!("eps must be finite and > 0, got {}", cfg.eps)));
    }
    if x.rows() == 0 || x.cols() == 0 {
        return Err(Error::usage(format!(
            "cannot train on a {} x {} matrix: need at least one row and one column",
            x.rows(),
            x.cols()
        )));
    }
    if x.rows() != y.len() {
        return Err(Error::usage(format!("x has {} rows but y has {} labels", x.rows(), y.len())));
    }
    if let Some(i) = y.iter().position(|&c| c >= 2) {
        return Err(Error::usage(format!("label of row {i} is {}; classes must be 0 or 1", y[i])));
    }
    if let Some(i) = x.as_slice().iter().position(|v| !v.is_finite()) {
        return Err(Error::usage(format!(
            "x[{}, {}] is not finite ({})",
            i / x.cols(),
            i % x.cols(),
            x.as_slice()[i]
        )));
    }
    if let Some(w) = row_weight {
        if w.len() != y.len() {
            return Err(Error::usage(format!("{} row weights for {} rows", w.len(), y.len())));
        }
        if let Some(i) = w.iter().position(|&v| !(v.is_finite() && v > 0.0)) {
            return Err(Error::usage(format!(
                "row weight {i} is {}; weights must be finite and > 0",
                w[i]
            )));
        }
    }
    Ok(())
}

/// Trains a binary classifier [`Mlp`] `d -> cfg.hidden -> 2` on `x` (n x d) and labels `y`
/// (0 or 1), optionally weighting each row's loss by `row_weight`.
///
/// The network is He-initialised from `rng`. Each epoch draws a fresh permutation of the rows
/// (the identity permutation shuffled by `rng`), cuts it into consecutive batches of
/// `cfg.batch_size` rows (the last one smaller; 0 means one batch of all rows), and takes one
/// Adam step per batch on that batch's weighted mean cross-entropy. Adam uses bias correction
/// with the step count `t` running over all batches of all epochs, like `torch.optim.Adam`.
///
/// Results depend only on the inputs and the state of `rng`.
///
/// # Errors
/// [`Error::usage`] for invalid settings or data (see [`TrainConfig`]; labels must be 0 or 1,
/// `x` finite and non-empty, row weights finite and > 0). [`Error::run`] if a batch loss, a
/// gradient or a parameter becomes non-finite: "training diverged at epoch E (loss = ...): lower
/// the learning rate"; the caller adds the fold and round.
pub fn train(
    x: &Matrix,
    y: &[usize],
    row_weight: Option<&[f64]>,
    cfg: &TrainConfig,
    rng: &mut Stream,
) -> Result<(Mlp, TrainReport)> {
    validate(x, y, row_weight, cfg)?;
    let (n, d) = (x.rows(), x.cols());
    let batch = if cfg.batch_size == 0 { n } else { cfg.batch_size.min(n) };

    let mut mlp = Mlp::he_init(d, &cfg.hidden, 2, rng);

    // Everything the loop touches, allocated once.
    let mut ws = Workspace::new(&mlp, batch);
    let mut moments: Vec<Moments> = mlp
        .layers
        .iter()
        .map(|l| Moments { m: DenseGrad::zeros_like(l), v: DenseGrad::zeros_like(l) })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch_x = vec![0.0; batch * d];
    let mut batch_y = vec![0usize; batch];
    let mut batch_w = vec![0.0; batch];
    let mut epoch_loss = Vec::with_capacity(cfg.epochs);
    let mut t: i32 = 0;

    for epoch in 1..=cfg.epochs {
        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i;
        }
        rng.shuffle(&mut order);

        let mut loss_sum = 0.0;
        let mut batches = 0usize;
        for rows in order.chunks(batch) {
            let m = rows.len();

            // Gather the batch into the workspace buffers.
            for (slot, &r) in rows.iter().enumerate() {
                batch_x[slot * d..(slot + 1) * d].copy_from_slice(x.row(r));
                batch_y[slot] = y[r];
                if let Some(w) = row_weight {
                    batch_w[slot] = w[r];
                }
            }
            let bx = &batch_x[..m * d];
            let by = &batch_y[..m];
            let bw = row_weight.map(|_| &batch_w[..m]);

            // Forward, then backward from dL/do = w_i (p - onehot(y)) / sum(w); the first
            // layer's input gradient is not needed for training.
            let loss = mlp.forward_loss(&mut ws, bx, by, bw);
            if !loss.is_finite() {
                return Err(diverged(epoch, loss));
            }
            let scale = 1.0 / weight_total(bw, m);
            mlp.backward(&mut ws, bx, by, bw, scale, Want { params: true, input: false });

            // Adam step t (1-based), with bias correction.
            t = t.saturating_add(1);
            let step = AdamStep::new(cfg, t);
            let mut finite = true;
            for ((layer, grad), mom) in mlp.layers.iter_mut().zip(&ws.grads).zip(&mut moments) {
                let Moments { m, v } = mom;
                finite &= adam_update(
                    &mut layer.weight,
                    &grad.weight,
                    &mut m.weight,
                    &mut v.weight,
                    cfg.weight_decay,
                    step,
                );
                finite &=
                    adam_update(&mut layer.bias, &grad.bias, &mut m.bias, &mut v.bias, 0.0, step);
            }
            if !finite {
                return Err(diverged(epoch, loss));
            }

            loss_sum += loss;
            batches += 1;
        }
        epoch_loss.push(loss_sum / batches as f64);
    }

    Ok((mlp, TrainReport { epoch_loss }))
}

/// The error [`train`] returns when the loss, a gradient or a parameter stops being finite.
fn diverged(epoch: usize, loss: f64) -> Error {
    Error::run(format!(
        "training diverged at epoch {epoch} (loss = {loss}): lower the learning rate"
    ))
}
