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
//! The public types hold `f64` weights in the `outputs x inputs` layout of `torch.nn.Linear`.
//! Internally the arithmetic runs on a `Net`, generic over the scalar (`f32` or `f64`, see
//! [`Precision`]), which also keeps every weight matrix transposed (`inputs x outputs`) so that
//! all three products of a layer (forward, weight gradient, input gradient) are one kernel,
//! `gemm`: `C = A B` with `B`'s rows contiguous, register-blocked, each output element one
//! chain of multiply-adds in increasing `k` (in `f64` a multiply then an add, in `f32` one
//! fused multiply-add: see [`Precision`]). That order and those operations are fixed by the
//! source and the same for every vector width (Rust never contracts a multiply and an add on
//! its own), so the AVX2 and AVX-512 copies of the kernel and of Adam that run where the
//! processor has them (see [`Kernel`]) give the same bits as the baseline SSE2 copy: a given
//! build gives the same bits on any x86-64 machine. `exp` and `ln` in the softmax are written
//! out here too ([`exp`], [`ln`]) rather than taken from the platform's libm, whose glibc
//! version picks an FMA or a non-FMA variant at run time.
//!
//! Training splits every step in two parts by the first layer's units, which run on two threads
//! when a second one is free (see `train_net`); products of half a million multiply-adds or
//! more (a wide table's first layer) are split by rows between two threads, and so are Adam
//! updates of large layers. All of these write disjoint elements computed exactly as on one
//! thread, so the thread count changes no bit.
//!
//! Training preallocates its workspaces (activations and gradients for a batch, the two parts'
//! buffers) and the Adam moments, and reuses them for every batch: nothing is allocated inside
//! the epoch loop.

use std::ops::{Add, Div, Mul, Sub};

use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::pair::{Pair, with_pair};
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
// Scalars

/// The floating-point type training computes in. The network it returns, and everything else
/// in the public API (loss, gradients, predictions), is `f64` either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Single precision, the reference PyTorch setup's: twice the numbers per vector register;
    /// weights, activations, gradients and Adam moments are `f32`, the softmax and loss `f64`.
    /// Every term of a product is one fused multiply-add (rounded once, as the CPU kernels of
    /// such frameworks compute), which is both faster and closer to the exact sum than a
    /// multiply and an add. Processors without FMA (x86-64 from before 2013) get the same bits
    /// from a correctly rounded software `fmaf`, much more slowly.
    F32,
    /// Double precision throughout, every term of a product a multiply then an add, each
    /// rounded (no fused multiply-add, so the baseline x86-64 instruction set computes it at
    /// full speed).
    #[default]
    F64,
}

impl Precision {
    /// The name used on the command line: `f32` or `f64`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

/// The arithmetic the kernels need from `f32` and `f64`.
trait Real:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    const ZERO: Self;
    /// Rounds to nearest.
    fn from_f64(v: f64) -> Self;
    /// Exact.
    fn to_f64(self) -> f64;
    fn sqrt(self) -> Self;
    /// `self + a b`, the step of every product's chain: a multiply then an add, each rounded,
    /// in `f64`; one fused multiply-add, rounded once, in `f32` (see [`Precision::F32`]).
    fn multiply_add(self, a: Self, b: Self) -> Self;
    fn is_finite(self) -> bool;
    /// [`gemm_tiles`] with the register tile of this type and `kernel`'s registers.
    fn gemm_tiles(
        kernel: Kernel,
        c: &mut [Self],
        a: Strided<'_, Self>,
        b: &[Self],
        shape: Shape,
        epi: Epilogue<'_, Self>,
    );
}

impl Real for f64 {
    const ZERO: f64 = 0.0;
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn multiply_add(self, a: f64, b: f64) -> f64 {
        self + a * b
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    fn gemm_tiles(
        kernel: Kernel,
        c: &mut [f64],
        a: Strided<'_, f64>,
        b: &[f64],
        shape: Shape,
        epi: Epilogue<'_, f64>,
    ) {
        match kernel {
            // 2 rows x 8 columns: 8 accumulators of two lanes in SSE2's 16 registers, with room
            // for the 4 loads of a row of B and the broadcast of A.
            Kernel::Baseline => gemm_tiles::<f64, 2, 8>(c, a, b, shape, epi),
            // 4 rows x 8 columns: 8 accumulators of four lanes in AVX2's 16 registers.
            // SAFETY: `Kernel::Avx2` is only ever chosen where the CPU has AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { avx2::gemm_tiles::<f64, 4, 8>(c, a, b, shape, epi) },
            // 4 rows x 16 columns: 8 accumulators of eight lanes in AVX-512's 32 registers
            // (measured faster than 2, 6 or 8 rows x 8 or 16 columns and 4 x 32).
            // SAFETY: `Kernel::Avx512` is only ever chosen where the CPU has AVX-512F and FMA.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { avx512::gemm_tiles::<f64, 4, 16>(c, a, b, shape, epi) },
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => unreachable!("never available off x86-64"),
        }
    }
}

impl Real for f32 {
    const ZERO: f32 = 0.0;
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn multiply_add(self, a: f32, b: f32) -> f32 {
        a.mul_add(b, self)
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    fn gemm_tiles(
        kernel: Kernel,
        c: &mut [f32],
        a: Strided<'_, f32>,
        b: &[f32],
        shape: Shape,
        epi: Epilogue<'_, f32>,
    ) {
        match kernel {
            // 2 rows x 16 columns: 8 accumulators of four lanes.
            Kernel::Baseline => gemm_tiles::<f32, 2, 16>(c, a, b, shape, epi),
            // 2 rows x 32 columns: 8 accumulators of eight lanes (measured fastest of 2, 3, 4
            // and 6 rows x 16 columns, 4 x 8 and 3 x 32, with fused multiply-adds).
            // SAFETY: `Kernel::Avx2` is only ever chosen where the CPU has AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { avx2::gemm_tiles::<f32, 2, 32>(c, a, b, shape, epi) },
            // 8 rows x 16 columns: 8 accumulators of sixteen lanes (measured fastest of 2, 4, 6,
            // 8 and 12 rows x 16 and 2, 4 and 8 x 32; no faster than AVX2's 2 x 32 in f32).
            // SAFETY: `Kernel::Avx512` is only ever chosen where the CPU has AVX-512F and FMA.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { avx512::gemm_tiles::<f32, 8, 16>(c, a, b, shape, epi) },
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => unreachable!("never available off x86-64"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels: one source, compiled for more than one instruction set

/// Which compiled copy of the hot loops (the products and Adam's update) runs.
///
/// Every kernel is the same Rust source (`gemm_tiles` and `adam_step`, both
/// `#[inline(always)]`), compiled once for the build's baseline and once more inside each of
/// the `#[target_feature(enable = "avx2,fma")]` and `"avx512f,fma"` wrappers; which copy runs
/// is decided at run time. They give the same bits because the source fixes every operation and
/// its order: each output of a product is one chain in increasing `k` of multiply-then-add
/// (`f64`) or of fused multiply-adds (`f32`, [`f32::mul_add`]: one instruction where FMA is
/// enabled, a correctly rounded library call in the baseline), each Adam update a fixed
/// sequence of multiplies, adds, a square root and a division, and Rust never reassociates
/// floating-point arithmetic nor contracts a separate multiply and add into a fused one. A
/// wider vector only performs more of the same correctly rounded IEEE operations at once, one
/// element a lane. The tile shapes differ between kernels, which by the same argument changes
/// no bit; `tests/kernels.rs` checks products, gradients and trained weights bit for bit.
///
/// The choice is made once per process by [`Kernel::active`], from the environment variable
/// `GLRFE_KERNEL` (see [`Kernel::from_setting`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// The build's baseline instruction set (SSE2 on x86-64): runs everywhere.
    Baseline,
    /// The same loops with 256-bit AVX2 vectors and FMA, on x86-64 processors that have both.
    Avx2,
    /// The same loops with 512-bit AVX-512F vectors and FMA, on x86-64 processors that have
    /// both.
    Avx512,
}

impl Kernel {
    /// Every kernel, the baseline first.
    pub const ALL: [Kernel; 3] = [Kernel::Baseline, Kernel::Avx2, Kernel::Avx512];

    /// The name `GLRFE_KERNEL` takes: `baseline`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Baseline => "baseline",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Whether this processor can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => false,
        }
    }

    /// The fastest kernel this processor can run: the widest vectors it has.
    pub fn best() -> Kernel {
        Kernel::ALL.into_iter().rev().find(|k| k.is_available()).unwrap_or(Kernel::Baseline)
    }

    /// The kernel for a value of `GLRFE_KERNEL`, and a warning when the value cannot be
    /// honoured: unset, empty or `auto` is [`Kernel::best`]; `baseline` the baseline; `avx2`
    /// AVX2 and `avx512` AVX-512 where available. A kernel the processor lacks, or an unknown
    /// value, falls back to the baseline with a warning. Every choice gives the same results;
    /// only speed differs.
    pub fn from_setting(value: Option<&str>) -> (Kernel, Option<String>) {
        match value.map(str::trim) {
            None | Some("") | Some("auto") => (Kernel::best(), None),
            Some(name) => match Kernel::ALL.into_iter().find(|k| k.name() == name) {
                Some(k) if k.is_available() => (k, None),
                Some(k) => (
                    Kernel::Baseline,
                    Some(format!(
                        "GLRFE_KERNEL={name}: this processor lacks {}; using the baseline kernel",
                        k.name()
                    )),
                ),
                None => (
                    Kernel::Baseline,
                    Some(format!(
                        "GLRFE_KERNEL={name} is not one of auto, baseline, avx2, avx512; using \
                         the baseline kernel"
                    )),
                ),
            },
        }
    }

    /// The kernel every network of this process computes with: `GLRFE_KERNEL` read once (see
    /// [`Kernel::from_setting`]; a warning goes to stderr), then cached.
    pub fn active() -> Kernel {
        static ACTIVE: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *ACTIVE.get_or_init(|| {
            let value = std::env::var("GLRFE_KERNEL").ok();
            let (kernel, warning) = Kernel::from_setting(value.as_deref());
            if let Some(w) = warning {
                eprintln!("glrfe: warning: {w}");
            }
            kernel
        })
    }
}

/// Defines module `$name` holding copies of the hot loops compiled with the target features
/// `$features` (which the processor must have: `$needs`): wrappers whose bodies are the
/// `#[inline(always)]` generic loops, so that each module compiles them again for its own
/// instruction set. FMA only makes the fused instruction available to `f32::mul_add`; the `f64`
/// chains keep their separate multiply and add, which Rust never contracts.
macro_rules! kernel_copy {
    ($name:ident, $features:literal, $needs:literal) => {
        #[cfg(target_arch = "x86_64")]
        mod $name {
            use super::{AdamStep, Epilogue, Real, Shape, Strided};

            #[doc = concat!("[`super::gemm_tiles`] with ", $needs, ".")]
            ///
            /// # Safety
            #[doc = concat!("The processor must have ", $needs, ".")]
            #[target_feature(enable = $features)]
            pub(super) unsafe fn gemm_tiles<T: Real, const MR: usize, const NR: usize>(
                c: &mut [T],
                a: Strided<'_, T>,
                b: &[T],
                shape: Shape,
                epi: Epilogue<'_, T>,
            ) {
                super::gemm_tiles::<T, MR, NR>(c, a, b, shape, epi)
            }

            #[doc = concat!("[`super::adam_step`] with ", $needs, ".")]
            ///
            /// # Safety
            #[doc = concat!("The processor must have ", $needs, ".")]
            #[target_feature(enable = $features)]
            pub(super) unsafe fn adam_step<T: Real>(
                param: &mut [T],
                grad: &[T],
                m: &mut [T],
                v: &mut [T],
                decay: T,
                step: AdamStep<T>,
            ) -> bool {
                super::adam_step(param, grad, m, v, decay, step)
            }
        }
    };
}

kernel_copy!(avx2, "avx2,fma", "AVX2 and FMA");
kernel_copy!(avx512, "avx512f,fma", "AVX-512F and FMA");

// ---------------------------------------------------------------------------------------------
// exp and ln, independent of libm

/// `ln 2` split so that `k * LN2_HI` is exact for `|k| < 2^11`: the high part has 32 trailing
/// zero bits, and `LN2_HI + LN2_LO` is `ln 2` to about 2^-85.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// `1 / i!` for `i = 0..=13`, each correctly rounded (`i!` itself is exact in `f64`).
const EXP_TAYLOR: [f64; 14] = {
    let mut c = [1.0; 14];
    let mut fact = 1.0;
    let mut i = 1;
    while i < 14 {
        fact *= i as f64;
        c[i] = 1.0 / fact;
        i += 1;
    }
    c
};

/// `2 / (2j + 1)` for `j = 0..=11`: the series of `2 atanh(s) / s` in powers of `s^2`.
const ATANH_SERIES: [f64; 12] = {
    let mut c = [0.0; 12];
    let mut j = 0;
    while j < 12 {
        c[j] = 2.0 / (2 * j + 1) as f64;
        j += 1;
    }
    c
};

/// `e^x`, within 1 ulp of the correctly rounded value for normal results (see the tests),
/// computed with a fixed sequence of IEEE operations so that it gives the same bits everywhere.
///
/// `x = k ln 2 + r` with `k = round(x / ln 2)` and `|r| <= ln(2) / 2` (Cody-Waite: `r` is
/// computed as `(x - k LN2_HI) - k LN2_LO`), `e^r` by its Taylor series to `r^13 / 13!` (the
/// first omitted term is below 4.2e-18, a twentieth of an ulp) in Horner form, and `2^k` applied
/// as two exact powers of two.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x == 0.0 {
        // What the series gives too, without it: the softmax's row maximum lands here.
        return 1.0;
    }
    if x > 709.782_712_893_384 {
        return f64::INFINITY;
    }
    if x < -745.133_219_101_941_2 {
        return 0.0;
    }

    let t = x * std::f64::consts::LOG2_E;
    let k = (if t < 0.0 { t - 0.5 } else { t + 0.5 }) as i64;
    let kf = k as f64;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;

    // 1 + r + r^2/2! + ... + r^13/13!, innermost term first.
    let mut p = EXP_TAYLOR[13];
    for &c in EXP_TAYLOR[..13].iter().rev() {
        p = p * r + c;
    }

    // 2^k as 2^k1 2^k2 with both halves in the normal range; the first product is exact.
    let k1 = k / 2;
    let k2 = k - k1;
    let pow2 = |e: i64| f64::from_bits(((e + 1023) as u64) << 52);
    p * pow2(k1) * pow2(k2)
}

/// `ln x`, within 1 ulp of the correctly rounded value (see the tests), from a fixed sequence of
/// IEEE operations. `ln x` is NaN for `x < 0` or NaN, `-inf` for 0 and `inf` for `inf`.
///
/// `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`, `f = m - 1` (exact), `s = f / (2 + f)`, and
/// `ln m = 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ...`. Since `2s = f - s f`, this is
/// `f - s (f - Q)` with `Q = 2s^2/3 + 2s^4/5 + ...` (to `s^22`; `|s| <= 0.1716`, so the first
/// omitted term is below 1e-18), which keeps the large part `f` exact. Then `ln x = e LN2_HI +
/// (ln m + e LN2_LO)`.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x == f64::INFINITY {
        return x;
    }

    // Subnormals: scale into the normal range first.
    let (x, mut e) = if x < f64::MIN_POSITIVE { (x * 2f64.powi(54), -54i64) } else { (x, 0) };
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }

    let f = m - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    // Q = sum_{j=1..11} 2 s^(2j) / (2j + 1), innermost term first.
    let mut q = ATANH_SERIES[11];
    for &c in ATANH_SERIES[1..11].iter().rev() {
        q = q * s2 + c;
    }
    q *= s2;
    let ln_m = f - s * (f - q);

    let ef = e as f64;
    ef * LN2_HI + (ln_m + ef * LN2_LO)
}

// ---------------------------------------------------------------------------------------------
// The product kernel

/// An operand read with strides: element `(i, k)` is `data[i * row + k * col]`, so a row-major
/// `m x k` matrix is `row = k, col = 1` and its transpose is `row = 1, col = m`.
#[derive(Clone, Copy)]
struct Strided<'a, T> {
    data: &'a [T],
    row: usize,
    col: usize,
}

/// `C (m x n) = A (m x k) B (k x n)`; `B` is row-major with `n` columns, `C` row-major.
#[derive(Clone, Copy)]
struct Shape {
    m: usize,
    n: usize,
    k: usize,
}

/// What [`gemm`] does with each element besides the product.
enum Epilogue<'a, T> {
    /// `c = sum`.
    Plain,
    /// `c = bias[j] + sum`, the sum continuing from `bias[j]`.
    Bias(&'a [T]),
    /// `c = max(bias[j] + sum, 0)`: a dense layer fused with its ReLU.
    BiasRelu(&'a [T]),
    /// `c = sum if mask[i, j] > 0 else 0` (`mask` laid out as `C`): an input gradient fused with
    /// the ReLU derivative of the layer below, whose output `h > 0` exactly where `z > 0`.
    Mask(&'a [T]),
    /// `c = c + sum`, the sum continuing from the value already in `c`: a product whose `k`
    /// runs over two buffers, computed as one `Plain` product over the first and one
    /// `Continue` over the second, is bit for bit the product over both concatenated (storing
    /// and reloading a partial sum rounds nothing).
    Continue,
    /// `c = max(c + sum, 0)`: [`Epilogue::Continue`] ending a layer with its ReLU.
    ContinueRelu,
}

/// The number of multiply-adds from which [`gemm`] splits a product between two threads: each
/// half is then at least about 25 us of single-precision work, against a microsecond or more
/// for a `rayon::join` taken up by another thread, and much more when that thread is descheduled
/// on a busy machine. A batch of 32 through a first layer of 64 units splits from 256 inputs
/// on: wide tables' first-layer products do, those of the default 106-feature run do not (at
/// 2^17, where they would, the full run measured slower on 2 threads than on 1 under load).
const PARALLEL_MIN: usize = 1 << 19;

impl<'a, T> Epilogue<'a, T> {
    /// The epilogues of the rows before and after element `at` of `C`.
    fn split_rows(&self, at: usize) -> (Epilogue<'a, T>, Epilogue<'a, T>) {
        match *self {
            Epilogue::Plain => (Epilogue::Plain, Epilogue::Plain),
            Epilogue::Bias(b) => (Epilogue::Bias(b), Epilogue::Bias(b)),
            Epilogue::BiasRelu(b) => (Epilogue::BiasRelu(b), Epilogue::BiasRelu(b)),
            Epilogue::Mask(h) => (Epilogue::Mask(&h[..at]), Epilogue::Mask(&h[at..])),
            Epilogue::Continue => (Epilogue::Continue, Epilogue::Continue),
            Epilogue::ContinueRelu => (Epilogue::ContinueRelu, Epilogue::ContinueRelu),
        }
    }
}

/// `c[i, j] = epilogue(init + a(i, 0) b[0, j] + a(i, 1) b[1, j] + ... )`, each element one
/// chain of multiply-adds in increasing `k` starting from `init` (the bias `b_j`, the value
/// already in `c[i, j]`, or 0), computed by `kernel`'s copy of [`gemm_tiles`].
///
/// Large products are split: the two halves of the rows run in parallel. Each element is still
/// computed by one tile in the same order, so this changes no bit; rayon runs the second half
/// on the calling thread when no other thread is free to take it.
fn gemm<T: Real>(
    kernel: Kernel,
    c: &mut [T],
    a: Strided<'_, T>,
    b: &[T],
    shape: Shape,
    epi: Epilogue<'_, T>,
) {
    let Shape { m, n, k } = shape;
    if m * n * k >= PARALLEL_MIN && m >= 8 && rayon::current_num_threads() > 1 {
        // A multiple of 4 rows above the cut, so that both halves tile like the whole.
        let mid = m / 2 / 4 * 4;
        let (top, bottom) = c[..m * n].split_at_mut(mid * n);
        let a_bottom = Strided { data: &a.data[mid * a.row..], ..a };
        let (epi_top, epi_bottom) = epi.split_rows(mid * n);
        rayon::join(
            || gemm(kernel, top, a, b, Shape { m: mid, ..shape }, epi_top),
            || gemm(kernel, bottom, a_bottom, b, Shape { m: m - mid, ..shape }, epi_bottom),
        );
        return;
    }
    T::gemm_tiles(kernel, c, a, b, shape, epi);
}

/// The serial product of [`gemm`], cut into `R x W` tiles held in registers across the whole
/// `k` loop: columns in panels of `NR`, then 4, 2 and 1 for the remainder, rows in blocks of
/// `MR`, then 2 and 1. Every tile computes each element in the same order, so neither the
/// tiling nor the vector width the compiler picks for a tile changes a bit.
///
/// `#[inline(always)]` so that each [`Kernel`]'s wrapper compiles its own copy with its own
/// instruction set.
#[inline(always)]
fn gemm_tiles<T: Real, const MR: usize, const NR: usize>(
    c: &mut [T],
    a: Strided<'_, T>,
    b: &[T],
    shape: Shape,
    epi: Epilogue<'_, T>,
) {
    let Shape { m, n, k } = shape;
    assert!(c.len() >= m * n && b.len() >= k * n, "gemm: C or B too short");
    if m > 0 && k > 0 {
        assert!(a.data.len() > (m - 1) * a.row + (k - 1) * a.col, "gemm: A too short");
    }

    let mut j0 = 0;
    while j0 + NR <= n {
        panel::<T, MR, NR>(c, a, b, shape, &epi, j0);
        j0 += NR;
    }
    while j0 + 4 <= n {
        panel::<T, MR, 4>(c, a, b, shape, &epi, j0);
        j0 += 4;
    }
    while j0 + 2 <= n {
        panel::<T, MR, 2>(c, a, b, shape, &epi, j0);
        j0 += 2;
    }
    while j0 < n {
        panel::<T, MR, 1>(c, a, b, shape, &epi, j0);
        j0 += 1;
    }
}

/// Columns `j0..j0 + W` of every row of [`gemm_tiles`]'s `C`.
#[inline(always)]
fn panel<T: Real, const MR: usize, const W: usize>(
    c: &mut [T],
    a: Strided<'_, T>,
    b: &[T],
    shape: Shape,
    epi: &Epilogue<'_, T>,
    j0: usize,
) {
    let mut i0 = 0;
    while i0 + MR <= shape.m {
        tile::<T, MR, W>(c, a, b, shape, epi, i0, j0);
        i0 += MR;
    }
    while MR > 2 && i0 + 2 <= shape.m {
        tile::<T, 2, W>(c, a, b, shape, epi, i0, j0);
        i0 += 2;
    }
    while i0 < shape.m {
        tile::<T, 1, W>(c, a, b, shape, epi, i0, j0);
        i0 += 1;
    }
}

/// Rows `i0..i0 + R`, columns `j0..j0 + W` of [`gemm_tiles`]'s `C`, accumulated in `R x W`
/// registers.
#[inline(always)]
fn tile<T: Real, const R: usize, const W: usize>(
    c: &mut [T],
    a: Strided<'_, T>,
    b: &[T],
    shape: Shape,
    epi: &Epilogue<'_, T>,
    i0: usize,
    j0: usize,
) {
    let n = shape.n;
    let mut acc = [[T::ZERO; W]; R];
    if let Epilogue::Bias(bias) | Epilogue::BiasRelu(bias) = *epi {
        let bias: &[T; W] = bias[j0..j0 + W].try_into().unwrap();
        acc = [*bias; R];
    }
    if let Epilogue::Continue | Epilogue::ContinueRelu = *epi {
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let at = (i0 + r) * n + j0;
            *acc_r = c[at..at + W].try_into().unwrap();
        }
    }

    debug_assert!(i0 + R <= shape.m && j0 + W <= n);
    for kk in 0..shape.k {
        // SAFETY: `gemm_tiles` checked `b.len() >= k n` and
        // `a.data.len() > (m - 1) row + (k - 1) col`, and here `kk < k`, `j0 + W <= n`,
        // `i0 + R <= m`. Unchecked reads keep the bounds checks (a third of the instructions)
        // out of the innermost loop.
        let brow: &[T; W] = unsafe { &*b.as_ptr().add(kk * n + j0).cast::<[T; W]>() };
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let ar = unsafe { *a.data.get_unchecked((i0 + r) * a.row + kk * a.col) };
            for (s, &bv) in acc_r.iter_mut().zip(brow) {
                *s = s.multiply_add(ar, bv);
            }
        }
    }

    for (r, acc_r) in acc.iter().enumerate() {
        let at = (i0 + r) * n + j0;
        let out: &mut [T; W] = (&mut c[at..at + W]).try_into().unwrap();
        match *epi {
            Epilogue::Plain | Epilogue::Bias(_) | Epilogue::Continue => *out = *acc_r,
            Epilogue::BiasRelu(_) | Epilogue::ContinueRelu => {
                for (o, &s) in out.iter_mut().zip(acc_r) {
                    *o = if s > T::ZERO { s } else { T::ZERO };
                }
            }
            Epilogue::Mask(mask) => {
                let mask: &[T; W] = mask[at..at + W].try_into().unwrap();
                for ((o, &s), &h) in out.iter_mut().zip(acc_r).zip(mask) {
                    *o = if h > T::ZERO { s } else { T::ZERO };
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Layers: paired forward and backward passes

/// One dense layer of a [`Net`]: the weights in both layouts, so that every product reads `B`
/// row by row.
///
/// `wt` is `inputs x outputs` (`wt[i, o] = W[o, i]`), the master copy that Adam updates; `w` is
/// `outputs x inputs` as in [`Dense`], read only by the input-gradient product, and brought up
/// to date from `wt` by a transpose after every update.
#[derive(Clone, Debug)]
struct Layer<T> {
    inputs: usize,
    outputs: usize,
    wt: Vec<T>,
    w: Vec<T>,
    bias: Vec<T>,
}

/// Dense forward: `out = inp W^T + b`, i.e. `out[b, o] = bias[o] + sum_i inp[b, i] W[o, i]`,
/// followed by ReLU when `relu`.
///
/// Shapes: `out` (n x O), `inp` (n x I), `layer.wt` (I x O), `layer.bias` (O).
fn dense_forward<T: Real>(
    ops: Ops<T>,
    out: &mut [T],
    inp: &[T],
    layer: &Layer<T>,
    n: usize,
    relu: bool,
) {
    let (ni, no) = (layer.inputs, layer.outputs);
    let a = Strided { data: &inp[..n * ni], row: ni, col: 1 };
    let epi = if relu { Epilogue::BiasRelu(&layer.bias) } else { Epilogue::Bias(&layer.bias) };
    (ops.product)(ops.kernel, &mut out[..n * no], a, &layer.wt, Shape { m: n, n: no, k: ni }, epi);
}

/// Dense backward, given `dout = dL/dz` of this layer:
/// - `dwt = inp^T dout` (I x O), i.e. `dW[o, i] = sum_b inp[b, i] dout[b, o]` (sum over `b` in
///   order), stored transposed like `layer.wt`;
/// - `db = column sums of dout`;
/// - `dinp = dout W` (n x I), i.e. `dinp[b, i] = sum_o dout[b, o] W[o, i]`, times the ReLU
///   derivative `[h_below > 0]` when `below` holds the output of the layer underneath (so that
///   `dinp` is that layer's `dz`).
///
/// `dinp` and `dparams` are optional so that training can skip the input gradient of the first
/// layer, and per-row input gradients can skip the parameters. Both are overwritten.
///
/// Shapes: `dout` (n x O), `inp` (n x I), `layer.w` (O x I), `dparams` ((I x O), (O)).
fn dense_backward<T: Real>(
    ops: Ops<T>,
    dinp: Option<(&mut [T], Option<&[T]>)>,
    dparams: Option<(&mut [T], &mut [T])>,
    dout: &[T],
    inp: &[T],
    layer: &Layer<T>,
    n: usize,
) {
    let (ni, no) = (layer.inputs, layer.outputs);
    let dout = &dout[..n * no];

    if let Some((dwt, db)) = dparams {
        // dwt[i, o] = sum_b inp[b, i] dout[b, o]: A = inp^T read with strides.
        let a = Strided { data: &inp[..n * ni], row: 1, col: ni };
        (ops.product)(ops.kernel, dwt, a, dout, Shape { m: ni, n: no, k: n }, Epilogue::Plain);
        column_sums(db, dout);
    }

    if let Some((dinp, below)) = dinp {
        let a = Strided { data: dout, row: no, col: 1 };
        let epi = match below {
            Some(h) => Epilogue::Mask(&h[..n * ni]),
            None => Epilogue::Plain,
        };
        let shape = Shape { m: n, n: ni, k: no };
        (ops.product)(ops.kernel, &mut dinp[..n * ni], a, &layer.w, shape, epi);
    }
}

/// The compiled copy and the product function of [`dense_forward`] and [`dense_backward`]:
/// [`gemm`], which splits large products between threads, or a serial [`Real::gemm_tiles`]
/// (see [`Part::serial`]).
#[derive(Clone, Copy)]
struct Ops<T> {
    kernel: Kernel,
    product: Product<T>,
}

/// Softmax cross-entropy forward: fills `probs` with `softmax(logits)` row by row and
/// `row_loss` with each row's weighted loss `w_i L_i`, `L_i = logsumexp(o_i) - o_i[y_i]`
/// (`w_i = 1` when `weight` is `None`); [`mean_loss`] turns those into the batch's loss.
/// Computed in `f64` with this module's [`exp`] and [`ln`] whatever the type of the logits.
///
/// Both the log-sum-exp and the softmax subtract the row maximum first, so logits of any finite
/// size give a finite loss and probabilities. An infinite or NaN logit gives a NaN loss, which
/// training reports as divergence.
///
/// Shapes: `probs`, `logits` (n x K), `row_loss`, `y`, `weight` (n).
fn softmax_cross_entropy_forward<T: Real>(
    probs: &mut [f64],
    row_loss: &mut [f64],
    logits: &[T],
    y: &[usize],
    weight: Option<&[f64]>,
    k: usize,
) {
    for (i, (p_row, o_row)) in probs.chunks_exact_mut(k).zip(logits.chunks_exact(k)).enumerate() {
        let max = o_row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &o| if o.to_f64() > m { o.to_f64() } else { m });

        let mut sum = 0.0;
        for (p, &o) in p_row.iter_mut().zip(o_row) {
            *p = exp(o.to_f64() - max);
            sum += *p;
        }
        for p in p_row.iter_mut() {
            *p /= sum;
        }

        let loss_i = max + ln(sum) - o_row[y[i]].to_f64();
        row_loss[i] = weight.map_or(1.0, |w| w[i]) * loss_i;
    }
}

/// The weighted mean loss `sum_i w_i L_i / sum_i w_i` of a batch from its rows' weighted losses,
/// summed in row order.
fn mean_loss(row_loss: &[f64], weight: Option<&[f64]>) -> f64 {
    row_loss.iter().fold(0.0, |total, &l| total + l) / weight_total(weight, row_loss.len())
}

/// Softmax cross-entropy backward: `dlogits[i, k] = scale * w_i * (p[i, k] - [k == y_i])`.
///
/// This is where the chain rule starts. For the batch-mean loss `scale = 1 / sum(w)` (that is
/// `1 / batch` without weights): each row contributes `w_i / sum(w)` of its own gradient. For
/// each row's own loss (GL-RFE's per-row input gradients) `scale = 1` and `weight = None`.
///
/// Shapes: `dlogits`, `probs` (n x K), `y` (n), `weight` (n).
fn softmax_cross_entropy_backward<T: Real>(
    dlogits: &mut [T],
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
            *d = T::from_f64(s * (p - target));
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

/// The arithmetic twin of an [`Mlp`] in scalar type `T`, with transposed weights (see
/// [`Layer`]).
#[derive(Clone, Debug)]
struct Net<T> {
    layers: Vec<Layer<T>>,
    /// The copy of the products and Adam that this network's arithmetic runs on.
    kernel: Kernel,
}

/// Activations and gradients of one batch of up to `capacity` rows, allocated once and reused.
///
/// For layer `l` of `L`: `act[l]` is its output (`h = max(z, 0)` for hidden layers, the logits
/// for `l = L - 1`), `dz[l]` the gradient of its pre-activation `z`, `dwt[l]` and `db[l]` its
/// parameter gradients (weights transposed, as [`Layer::wt`]); `dx` is the input gradient.
struct Workspace<T> {
    act: Vec<Vec<T>>,
    probs: Vec<f64>,
    row_loss: Vec<f64>,
    dz: Vec<Vec<T>>,
    dx: Vec<T>,
    dwt: Vec<Vec<T>>,
    db: Vec<Vec<T>>,
}

/// Which gradients a backward pass should compute.
#[derive(Clone, Copy)]
struct Want {
    params: bool,
    input: bool,
}

impl<T: Real> Workspace<T> {
    fn new(net: &Net<T>, capacity: usize) -> Workspace<T> {
        let layers = &net.layers;
        let zeros = |len: usize| vec![T::ZERO; len];
        Workspace {
            act: layers.iter().map(|l| zeros(capacity * l.outputs)).collect(),
            probs: vec![0.0; capacity * net.outputs()],
            row_loss: vec![0.0; capacity],
            dz: layers.iter().map(|l| zeros(capacity * l.outputs)).collect(),
            dx: zeros(capacity * net.inputs()),
            dwt: layers.iter().map(|l| zeros(l.inputs * l.outputs)).collect(),
            db: layers.iter().map(|l| zeros(l.outputs)).collect(),
        }
    }
}

impl<T: Real> Net<T> {
    /// The network of `mlp` with every parameter rounded to `T`, on [`Kernel::active`].
    fn from_mlp(mlp: &Mlp) -> Net<T> {
        Net::with_kernel(mlp, Kernel::active())
    }

    /// [`Net::from_mlp`] on a given kernel, which must be available.
    fn with_kernel(mlp: &Mlp, kernel: Kernel) -> Net<T> {
        assert!(kernel.is_available(), "the {} kernel needs a CPU with it", kernel.name());
        let layers = mlp
            .layers
            .iter()
            .map(|d| {
                let w: Vec<T> = d.weight.iter().map(|&v| T::from_f64(v)).collect();
                let mut layer = Layer {
                    inputs: d.inputs,
                    outputs: d.outputs,
                    wt: w.clone(),
                    w,
                    bias: d.bias.iter().map(|&v| T::from_f64(v)).collect(),
                };
                transpose(&mut layer.wt, &layer.w, d.outputs, d.inputs);
                layer
            })
            .collect();
        Net { layers, kernel }
    }

    /// The `f64` [`Mlp`] of this network (exact: `f32` widens without rounding).
    fn to_mlp(&self) -> Mlp {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let mut weight = vec![0.0; l.inputs * l.outputs];
                for (i, row) in l.wt.chunks_exact(l.outputs).enumerate() {
                    for (o, &v) in row.iter().enumerate() {
                        weight[o * l.inputs + i] = v.to_f64();
                    }
                }
                Dense {
                    inputs: l.inputs,
                    outputs: l.outputs,
                    weight,
                    bias: l.bias.iter().map(|v| v.to_f64()).collect(),
                }
            })
            .collect();
        Mlp { layers }
    }

    fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// Forward pass of the `n` rows of `x` (n x d) through every layer; leaves the logits in
    /// `ws.act[L - 1][..n * K]`.
    fn forward(&self, ws: &mut Workspace<T>, x: &[T], n: usize) {
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (below, here) = ws.act.split_at_mut(l);
            let inp = if l == 0 { x } else { &below[l - 1][..] };
            let ops = Ops { kernel: self.kernel, product: gemm };
            dense_forward(ops, &mut here[0], inp, layer, n, l < last);
        }
    }

    /// Forward pass plus loss: fills `ws.probs` and `ws.row_loss` and returns the weighted mean
    /// cross-entropy.
    fn forward_loss(
        &self,
        ws: &mut Workspace<T>,
        x: &[T],
        y: &[usize],
        weight: Option<&[f64]>,
    ) -> f64 {
        let n = y.len();
        let k = self.outputs();
        self.forward(ws, x, n);

        let logits = &ws.act[self.layers.len() - 1][..n * k];
        let (probs, row_loss) = (&mut ws.probs[..n * k], &mut ws.row_loss[..n]);
        softmax_cross_entropy_forward(probs, row_loss, logits, y, weight, k);
        mean_loss(row_loss, weight)
    }

    /// Backward pass after [`Net::forward_loss`] on the same rows, with the chain rule started
    /// at `dlogits = scale * w_i * (p - onehot(y))`. Fills `ws.dwt`, `ws.db` and/or
    /// `ws.dx[..n * d]`. Reads `layer.w` of every layer it takes an input gradient through.
    fn backward(
        &self,
        ws: &mut Workspace<T>,
        x: &[T],
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
            // dW = A^T dZ, db = column sums of dZ; dA = dZ W, and the layer below's
            // dZ = dA * [H > 0] in the same pass.
            let inp = if l == 0 { x } else { &ws.act[l - 1][..] };
            let (below, here) = ws.dz.split_at_mut(l);
            let dout = &here[0][..];
            let dparams = want.params.then(|| (&mut ws.dwt[l][..], &mut ws.db[l][..]));
            let dinp = if l == 0 {
                want.input.then(|| (&mut ws.dx[..], None))
            } else {
                Some((&mut below[l - 1][..], Some(&ws.act[l - 1][..])))
            };
            let ops = Ops { kernel: self.kernel, product: gemm };
            dense_backward(ops, dinp, dparams, dout, inp, layer, n);
        }
    }
}

/// `dst (cols x rows) = src (rows x cols)^T`, both row-major.
///
/// Training transposes a block of the second layer every step, so this reads eight source rows
/// at a time and writes eight contiguous elements of each destination row.
fn transpose<T: Real>(dst: &mut [T], src: &[T], rows: usize, cols: usize) {
    const BLOCK: usize = 8;
    let (src, dst) = (&src[..rows * cols], &mut dst[..rows * cols]);
    let mut r0 = 0;
    while r0 + BLOCK <= rows {
        let block: [&[T]; BLOCK] =
            std::array::from_fn(|k| &src[(r0 + k) * cols..(r0 + k + 1) * cols]);
        for (c, out) in dst.chunks_exact_mut(rows).enumerate() {
            let out: &mut [T; BLOCK] = (&mut out[r0..r0 + BLOCK]).try_into().unwrap();
            for (o, row) in out.iter_mut().zip(&block) {
                *o = row[c];
            }
        }
        r0 += BLOCK;
    }
    for r in r0..rows {
        for (c, &v) in src[r * cols..(r + 1) * cols].iter().enumerate() {
            dst[c * rows + r] = v;
        }
    }
}

/// The `(outputs x inputs)` gradient of [`Dense`] from a transposed `(inputs x outputs)` one.
fn dense_grad<T: Real>(dwt: &[T], db: &[T], inputs: usize, outputs: usize) -> DenseGrad {
    let mut weight = vec![0.0; inputs * outputs];
    for (i, row) in dwt.chunks_exact(outputs).enumerate() {
        for (o, &v) in row.iter().enumerate() {
            weight[o * inputs + i] = v.to_f64();
        }
    }
    DenseGrad { weight, bias: db.iter().map(|v| v.to_f64()).collect() }
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
        let net = Net::<f64>::from_mlp(self);
        let mut ws = Workspace::new(&net, n);
        net.forward(&mut ws, x.as_slice(), n);

        let mut last = ws.act.swap_remove(self.layers.len() - 1);
        last.truncate(n * self.outputs());
        Matrix::from_row_major(n, self.outputs(), last)
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
                let sum: f64 = o.iter().map(|&v| exp(v - max)).sum();
                exp(o[1] - max) / sum
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
        let net = Net::<f64>::from_mlp(self);
        let mut ws = Workspace::new(&net, y.len());
        net.forward_loss(&mut ws, x.as_slice(), y, row_weight)
    }

    /// The loss of [`Mlp::loss`] with its gradient with respect to every weight, bias and input
    /// element.
    ///
    /// # Panics
    /// As [`Mlp::loss`].
    pub fn gradients(&self, x: &Matrix, y: &[usize], row_weight: Option<&[f64]>) -> Gradients {
        self.check_batch(x, y, row_weight);
        let n = y.len();
        let net = Net::<f64>::from_mlp(self);
        let mut ws = Workspace::new(&net, n);
        let loss = net.forward_loss(&mut ws, x.as_slice(), y, row_weight);

        // The loss is a weighted mean, so each row's gradient enters with 1 / sum(w).
        let scale = 1.0 / weight_total(row_weight, n);
        let want = Want { params: true, input: true };
        net.backward(&mut ws, x.as_slice(), y, row_weight, scale, want);

        let layers = net
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| dense_grad(&ws.dwt[l], &ws.db[l], layer.inputs, layer.outputs))
            .collect();
        let input = Matrix::from_row_major(n, self.inputs(), std::mem::take(&mut ws.dx));
        Gradients { loss, layers, input }
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
        let net = Net::<f64>::from_mlp(self);
        let mut ws = Workspace::new(&net, n);
        net.forward_loss(&mut ws, x.as_slice(), y, None);

        // Each row's own loss: scale 1, no 1/n.
        net.backward(&mut ws, x.as_slice(), y, None, 1.0, Want { params: false, input: true });
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
    /// The floating-point type of the arithmetic (the returned network is `f64` either way).
    pub precision: Precision,
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
            precision: Precision::default(),
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

/// Adam's first and second moments for one layer, in the layout of [`Layer::wt`].
struct Moments<T> {
    mw: Vec<T>,
    vw: Vec<T>,
    mb: Vec<T>,
    vb: Vec<T>,
}

/// The scalars of Adam step `t` (1-based), shared by every parameter of that step, computed in
/// `f64` and rounded once to `T`.
#[derive(Clone, Copy)]
struct AdamStep<T> {
    beta1: T,
    beta2: T,
    /// `1 - beta1`, `1 - beta2`.
    one_minus_beta1: T,
    one_minus_beta2: T,
    eps: T,
    /// `lr / (1 - beta1^t)`.
    step_size: T,
    /// `1 / sqrt(1 - beta2^t)`: a multiply in the loop instead of a second division.
    inv_bc2_sqrt: T,
}

impl<T: Real> AdamStep<T> {
    fn new(cfg: &TrainConfig, t: i32) -> AdamStep<T> {
        AdamStep {
            beta1: T::from_f64(cfg.beta1),
            beta2: T::from_f64(cfg.beta2),
            one_minus_beta1: T::from_f64(1.0 - cfg.beta1),
            one_minus_beta2: T::from_f64(1.0 - cfg.beta2),
            eps: T::from_f64(cfg.eps),
            step_size: T::from_f64(cfg.learning_rate / (1.0 - cfg.beta1.powi(t))),
            inv_bc2_sqrt: T::from_f64(1.0 / (1.0 - cfg.beta2.powi(t)).sqrt()),
        }
    }
}

/// One Adam step with bias correction on `param`, given its gradient `grad` and moments `m`,
/// `v`; `decay * param` is added to the gradient first (L2, as `torch.optim.Adam` does):
///
/// ```text
/// g = grad + decay * param
/// m = beta1 m + (1 - beta1) g            v = beta2 v + (1 - beta2) g^2
/// param -= (lr / (1 - beta1^t)) m / (sqrt(v) (1 / sqrt(1 - beta2^t)) + eps)
/// ```
///
/// Returns whether every updated parameter is finite (a non-finite gradient makes its
/// parameter NaN, so this also catches those).
fn adam_update<T: Real>(
    kernel: Kernel,
    param: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    decay: T,
    step: AdamStep<T>,
) -> bool {
    match kernel {
        Kernel::Baseline => adam_step(param, grad, m, v, decay, step),
        // SAFETY: `Kernel::Avx2` is only ever chosen where the CPU has AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe { avx2::adam_step(param, grad, m, v, decay, step) },
        // SAFETY: `Kernel::Avx512` is only ever chosen where the CPU has AVX-512F and FMA.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe { avx512::adam_step(param, grad, m, v, decay, step) },
        #[cfg(not(target_arch = "x86_64"))]
        Kernel::Avx2 | Kernel::Avx512 => unreachable!("never available off x86-64"),
    }
}

/// The loop of [`adam_update`], `#[inline(always)]` so that each [`Kernel`] compiles its own.
#[inline(always)]
fn adam_step<T: Real>(
    param: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    decay: T,
    step: AdamStep<T>,
) -> bool {
    let mut finite = true;
    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g + decay * *p;
        *m = step.beta1 * *m + step.one_minus_beta1 * g;
        *v = step.beta2 * *v + step.one_minus_beta2 * g * g;
        *p = *p - step.step_size * *m / (v.sqrt() * step.inv_bc2_sqrt + step.eps);
        finite &= p.is_finite();
    }
    finite
}

/// [`adam_update`] over chunks of a large layer in parallel (it is elementwise, so this changes
/// no bit); small layers stay on the calling thread.
fn adam_update_par<T: Real>(
    kernel: Kernel,
    param: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    decay: T,
    step: AdamStep<T>,
) -> bool {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 14;
    if param.len() < 2 * CHUNK || rayon::current_num_threads() == 1 {
        return adam_update(kernel, param, grad, m, v, decay, step);
    }
    param
        .par_chunks_mut(CHUNK)
        .zip(grad.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .map(|(((p, g), m), v)| adam_update(kernel, p, g, m, v, decay, step))
        .reduce(|| true, |a, b| a && b)
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
/// The network is He-initialised from `rng` (in `f64`, then rounded to `cfg.precision`). Each
/// epoch draws a fresh permutation of the rows (the identity permutation shuffled by `rng`),
/// cuts it into consecutive batches of `cfg.batch_size` rows (the last one smaller; 0 means one
/// batch of all rows), and takes one Adam step per batch on that batch's weighted mean
/// cross-entropy. Adam uses bias correction with the step count `t` running over all batches of
/// all epochs, like `torch.optim.Adam`.
///
/// Results depend only on the inputs and the state of `rng`.
///
/// # Errors
/// [`Error::usage`] for invalid settings or data (see [`TrainConfig`]; at least one hidden
/// layer, labels 0 or 1, `x` finite and non-empty, row weights finite and > 0). [`Error::run`]
/// if a batch loss, a gradient or a parameter becomes non-finite: "training diverged at epoch E
/// (loss = ...): lower the learning rate"; the caller adds the fold and round.
pub fn train(
    x: &Matrix,
    y: &[usize],
    row_weight: Option<&[f64]>,
    cfg: &TrainConfig,
    rng: &mut Stream,
) -> Result<(Mlp, TrainReport)> {
    validate(x, y, row_weight, cfg)?;
    if cfg.hidden.is_empty() {
        return Err(Error::usage(
            "the network needs at least one hidden layer (a linear model is the logistic \
             classifier)",
        ));
    }
    let start = Mlp::he_init(x.cols(), &cfg.hidden, 2, rng);
    train_from(&start, x, y, row_weight, cfg, rng)
}

/// [`train`] starting from the weights of `start` instead of a fresh initialisation (with fresh
/// Adam moments and step count), e.g. to warm-start a GL-RFE round from the previous round's
/// network reduced by [`Mlp::without_inputs`]. `cfg.hidden` is ignored: the shapes are those of
/// `start`. `rng` is used for the batch order only.
///
/// # Errors
/// As [`train`], and [`Error::usage`] if `x` does not have `start.inputs()` columns or `start`
/// does not have two outputs and a hidden layer.
pub fn train_from(
    start: &Mlp,
    x: &Matrix,
    y: &[usize],
    row_weight: Option<&[f64]>,
    cfg: &TrainConfig,
    rng: &mut Stream,
) -> Result<(Mlp, TrainReport)> {
    validate(x, y, row_weight, cfg)?;
    if start.inputs() != x.cols() || start.outputs() != 2 {
        return Err(Error::usage(format!(
            "the starting network has {} inputs and {} outputs; x has {} columns and 2 classes",
            start.inputs(),
            start.outputs(),
            x.cols()
        )));
    }
    if start.layers().len() < 2 {
        return Err(Error::usage("the starting network has no hidden layer"));
    }
    train_on(Kernel::active(), start, x, y, row_weight, cfg, rng)
}

/// [`train_from`] after validation, on `kernel`.
fn train_on(
    kernel: Kernel,
    start: &Mlp,
    x: &Matrix,
    y: &[usize],
    row_weight: Option<&[f64]>,
    cfg: &TrainConfig,
    rng: &mut Stream,
) -> Result<(Mlp, TrainReport)> {
    let data = Data { x, y, row_weight };
    // A partner pays when the halved arithmetic of the first layer outweighs what crosses
    // between the threads every step (the second layer's partial sums and its output gradient,
    // whose size does not depend on the first layer): measured on 2 cores, from about 512
    // first-layer weights in f64 (8 inputs to 64 units) and 3,072 in f32 (48 inputs), whose
    // fused multiply-adds leave less arithmetic to share. Below that one thread is as fast.
    let first = &start.layers()[0];
    let min_weights = match cfg.precision {
        Precision::F32 => 3 << 10,
        Precision::F64 => 1 << 9,
    };
    let lend = first.inputs * first.outputs >= min_weights;
    with_pair(lend, |pair| match cfg.precision {
        Precision::F32 => train_net(Net::<f32>::with_kernel(start, kernel), data, cfg, rng, pair),
        Precision::F64 => train_net(Net::<f64>::with_kernel(start, kernel), data, cfg, rng, pair),
    })
}

/// The training loop of [`train_from`] on a network already in its working type.
///
/// The first layer's units are split between two [`Part`]s, which own their columns of the
/// first layer and their rows of the second layer's `W^T`, so that each step runs as:
/// 1. both parts: the first layer's forward pass for their units; the first part also starts
///    the second layer's sum over its units;
/// 2. the second part's thread ([`tail`]): that sum continued over the second part's units,
///    every later layer forward, the loss, and backward down to the second layer's output
///    gradient, with Adam's update of everything past the second layer's weights;
/// 3. both parts: the rest of the backward pass and Adam's update of what they own.
///
/// When a second thread is free it is lent to the training ([`Pair`]): it runs the second
/// part's halves of phases 1 and 3, and phase 2. Between steps each thread's weights and
/// activations stay in its own cache, and only the second layer's partial sums (phase 1 to 2)
/// and output gradient (phase 2 to 3), batch x width each, cross between threads. (Splitting
/// the batch's rows instead makes both threads read every weight each step, and was measured to
/// gain nothing: moving the weights between the cores' caches cost as much as the halved
/// arithmetic saved.)
///
/// Every element is computed by the same operations in the same order as by one pass over the
/// whole network: the second layer's pre-activations are one chain over the first part's units
/// then, continuing it ([`Epilogue::Continue`]), the second's. So the thread count changes no
/// bit, and the network is the one a single pass would train.
fn train_net<T: Real>(
    mut net: Net<T>,
    data: Data<'_>,
    cfg: &TrainConfig,
    rng: &mut Stream,
    pair: &mut Pair<'_>,
) -> Result<(Mlp, TrainReport)> {
    let Data { x, y, row_weight } = data;
    let n = x.rows();
    let batch = if cfg.batch_size == 0 { n } else { cfg.batch_size.min(n) };
    let kernel = net.kernel;

    // Everything the loop touches, allocated once. `ws` serves the layers past the first (its
    // buffers for the first layer stay unused: the parts hold those).
    let x_t: Vec<T> = x.as_slice().iter().map(|&v| T::from_f64(v)).collect();
    let units = net.layers[0].outputs;
    // With a partner the step's products and updates stay on their own thread (see `Part`).
    let serial = pair.lent();
    let (product, _) = step_ops::<T>(serial);
    let mut parts = [
        Part::new(&net, 0..units / 2, batch, serial),
        Part::new(&net, units / 2..units, batch, serial),
    ];
    let mut ws = Workspace::new(&net, batch);
    let mut moments: Vec<Moments<T>> = net.layers.iter().map(Moments::new).collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch_y = vec![0usize; batch];
    let mut batch_w = vec![0.0; batch];
    let mut epoch_loss = Vec::with_capacity(cfg.epochs);
    let decay = T::from_f64(cfg.weight_decay);
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
            for (slot, &r) in rows.iter().enumerate() {
                batch_y[slot] = y[r];
                if let Some(w) = row_weight {
                    batch_w[slot] = w[r];
                }
            }
            let by = &batch_y[..m];
            let bw = row_weight.map(|_| &batch_w[..m]);

            // Adam step t (1-based), with bias correction.
            t = t.saturating_add(1);
            let update = Update { kernel, decay, step: AdamStep::new(cfg, t) };
            let no = net.layers[1].outputs;

            // 1. The first layer, each part gathering the batch into its own buffer; this thread
            // then starts the second layer's chain over the first part's units.
            let [p0, p1] = &mut parts;
            let (first, second) = (&net.layers[0], &net.layers[1]);
            let z_second = &mut ws.act[1][..m * no];
            pair.both(
                || {
                    p0.forward(kernel, first, &x_t, rows);
                    let h = p0.units.len();
                    let a = Strided { data: &p0.act[..m * h], row: h, col: 1 };
                    let epi = Epilogue::Bias(&second.bias);
                    product(
                        kernel,
                        z_second,
                        a,
                        &second.wt[..h * no],
                        Shape { m, n: no, k: h },
                        epi,
                    );
                },
                || p1.forward(kernel, first, &x_t, rows),
            );

            // 2. On the partner, which holds the second part and the later layers: the rest of
            // the second layer's chain, the later layers, the loss, and back to the second
            // layer's dz, with the updates of what lies past the second layer's weights.
            let batch = Batch { y: by, weight: bw };
            let part = &parts[1];
            let (loss, finite) = pair.on_partner(|| {
                tail(&mut net, &mut ws, &mut moments, part, batch, &update, product)
            });
            if !loss.is_finite() {
                return Err(diverged(epoch, loss));
            }

            // 3. Each part: the rest of the backward pass and the update of what it owns,
            // with its rows of the second layer's weights.
            let at = parts[0].units.end * no;
            let (wt0, wt1) = net.layers[1].wt.split_at_mut(at);
            let (g0, g1) = ws.dwt[1].split_at_mut(at);
            let Moments { mw, vw, .. } = &mut moments[1];
            let ((mw0, mw1), (vw0, vw1)) = (mw.split_at_mut(at), vw.split_at_mut(at));
            let dz_second = &ws.dz[1][..m * no];
            let [p0, p1] = &mut parts;
            let (finite0, finite1) = pair.both(
                || p0.backward(&update, dz_second, Rows { wt: wt0, dwt: g0, mw: mw0, vw: vw0 }),
                || p1.backward(&update, dz_second, Rows { wt: wt1, dwt: g1, mw: mw1, vw: vw1 }),
            );
            if !(finite && finite0 && finite1) {
                return Err(diverged(epoch, loss));
            }

            loss_sum += loss;
            batches += 1;
        }
        epoch_loss.push(loss_sum / batches as f64);
    }

    for part in &parts {
        part.store(&mut net.layers[0]);
    }
    Ok((net.to_mlp(), TrainReport { epoch_loss }))
}

/// Phase 2 of a training step (see [`train_net`]), after the first layer and the second
/// layer's chain over the first part's units (in `ws.act[1]`): the chain continued over
/// `second_part`'s units, the layers past the second, the loss, the backward pass down to the
/// second layer's `dz` (`ws.dz[1]`) and the bias gradient of the second layer, then Adam's
/// update of the layers past the second and of the second layer's bias. Returns the batch loss
/// and whether every updated parameter is finite.
fn tail<T: Real>(
    net: &mut Net<T>,
    ws: &mut Workspace<T>,
    moments: &mut [Moments<T>],
    second_part: &Part<T>,
    batch: Batch<'_>,
    update: &Update<T>,
    product: Product<T>,
) -> (f64, bool) {
    let Batch { y, weight } = batch;
    let Update { kernel, decay, step } = *update;
    let (m, layers, k) = (y.len(), net.layers.len(), net.outputs());
    let last = layers - 1;

    let second = &net.layers[1];
    let (no, h) = (second.outputs, second_part.units.len());
    let a = Strided { data: &second_part.act[..m * h], row: h, col: 1 };
    let b = &second.wt[second_part.units.start * no..];
    let epi = if last > 1 { Epilogue::ContinueRelu } else { Epilogue::Continue };
    product(kernel, &mut ws.act[1][..m * no], a, b, Shape { m, n: no, k: h }, epi);
    for l in 2..layers {
        let (below, here) = ws.act.split_at_mut(l);
        let ops = Ops { kernel, product };
        dense_forward(ops, &mut here[0], &below[l - 1], &net.layers[l], m, l < last);
    }
    let (probs, row_loss) = (&mut ws.probs[..m * k], &mut ws.row_loss[..m]);
    softmax_cross_entropy_forward(probs, row_loss, &ws.act[last][..m * k], y, weight, k);
    let loss = mean_loss(&ws.row_loss[..m], weight);
    if !loss.is_finite() {
        return (loss, false);
    }

    // Backward from dL/do = w_i (p - onehot(y)) / sum(w) down to the second layer's dz.
    let scale = 1.0 / weight_total(weight, m);
    let (dlogits, probs) = (&mut ws.dz[last][..m * k], &ws.probs[..m * k]);
    softmax_cross_entropy_backward(dlogits, probs, y, weight, scale, k);
    for l in (2..layers).rev() {
        let (below, here) = ws.dz.split_at_mut(l);
        let dinp = Some((&mut below[l - 1][..], Some(&ws.act[l - 1][..])));
        let dparams = Some((&mut ws.dwt[l][..], &mut ws.db[l][..]));
        let ops = Ops { kernel, product };
        dense_backward(ops, dinp, dparams, &here[0], &ws.act[l - 1], &net.layers[l], m);
    }
    column_sums(&mut ws.db[1], &ws.dz[1][..m * no]);

    let mut finite = true;
    for (l, (layer, mom)) in net.layers.iter_mut().zip(moments).enumerate().skip(1) {
        let Moments { mw, vw, mb, vb } = mom;
        if l > 1 {
            finite &= adam_update(kernel, &mut layer.wt, &ws.dwt[l], mw, vw, decay, step);
            // The next backward pass reads W, not W^T.
            transpose(&mut layer.w, &layer.wt, layer.inputs, layer.outputs);
        }
        finite &= adam_update(kernel, &mut layer.bias, &ws.db[l], mb, vb, T::ZERO, step);
    }
    (loss, finite)
}

/// A batch's labels and optional row weights.
#[derive(Clone, Copy)]
struct Batch<'a> {
    y: &'a [usize],
    weight: Option<&'a [f64]>,
}

/// The training rows of [`train_net`]: `x` (n x d), labels `y` and optional row weights.
#[derive(Clone, Copy)]
struct Data<'a> {
    x: &'a Matrix,
    y: &'a [usize],
    row_weight: Option<&'a [f64]>,
}

/// A product with [`gemm`]'s signature: [`gemm`] itself, or one [`Real::gemm_tiles`] copy.
type Product<T> = fn(Kernel, &mut [T], Strided<'_, T>, &[T], Shape, Epilogue<'_, T>);

/// An Adam update with [`adam_update`]'s signature: it, or [`adam_update_par`].
type AdamUpdate<T> = fn(Kernel, &mut [T], &[T], &mut [T], &mut [T], T, AdamStep<T>) -> bool;

/// The product and Adam update of a training step: serial ones (one [`Real::gemm_tiles`] copy,
/// [`adam_update`]) or ones that split large work between threads ([`gemm`],
/// [`adam_update_par`]).
fn step_ops<T: Real>(serial: bool) -> (Product<T>, AdamUpdate<T>) {
    if serial { (T::gemm_tiles, adam_update) } else { (gemm, adam_update_par) }
}

/// The scalars of one Adam update.
struct Update<T> {
    kernel: Kernel,
    decay: T,
    step: AdamStep<T>,
}

/// A part's rows of the second layer's `W^T` (units x outputs), with their gradient and Adam
/// moments, lent to it for phase 3 of a step.
struct Rows<'a, T> {
    wt: &'a mut [T],
    dwt: &'a mut [T],
    mw: &'a mut [T],
    vw: &'a mut [T],
}

/// One of the two parts of a training step (see [`train_net`]): some of the first layer's units
/// and everything of theirs that a step computes.
struct Part<T> {
    /// The first layer's outputs this part owns: also the second layer's inputs it owns.
    units: std::ops::Range<usize>,
    /// The widths around them: the first layer's inputs, the second layer's outputs.
    inputs: usize,
    next_outputs: usize,
    /// Keep every product and update on the calling thread instead of letting large ones split
    /// between threads: set when a partner thread serves the step, which would only spin while
    /// this thread waited on (or, stealing work meanwhile, ran) unrelated rayon jobs.
    serial: bool,
    /// The first layer's `W^T` and bias restricted to `units` (d x h, h), their gradients and
    /// Adam moments.
    wt: Vec<T>,
    bias: Vec<T>,
    dwt: Vec<T>,
    db: Vec<T>,
    moments: Moments<T>,
    /// The second layer's `W` restricted to inputs `units` (O x h), for the input gradient.
    w_next: Vec<T>,
    /// The batch's inputs (m x d); the first layer's outputs `h` and their gradient `dz` for
    /// `units` (m x h).
    x: Vec<T>,
    act: Vec<T>,
    dz: Vec<T>,
}

impl<T: Real> Part<T> {
    fn new(net: &Net<T>, units: std::ops::Range<usize>, capacity: usize, serial: bool) -> Part<T> {
        let (first, second) = (&net.layers[0], &net.layers[1]);
        let (d, h, no) = (first.inputs, units.len(), second.outputs);
        let wt: Vec<T> =
            first.wt.chunks_exact(first.outputs).flat_map(|r| &r[units.clone()]).copied().collect();
        let mut w_next = vec![T::ZERO; no * h];
        transpose(&mut w_next, &second.wt[units.start * no..units.end * no], h, no);
        let zeros = |len: usize| vec![T::ZERO; len];
        Part {
            bias: first.bias[units.clone()].to_vec(),
            dwt: zeros(d * h),
            db: zeros(h),
            moments: Moments { mw: zeros(d * h), vw: zeros(d * h), mb: zeros(h), vb: zeros(h) },
            w_next,
            x: zeros(capacity * d),
            act: zeros(capacity * h),
            dz: zeros(capacity * h),
            wt,
            units,
            inputs: d,
            next_outputs: no,
            serial,
        }
    }

    /// Gathers the batch `rows` of `x_t` (n x d) and computes `h = max(x W^T + b, 0)` for this
    /// part's units.
    fn forward(&mut self, kernel: Kernel, first: &Layer<T>, x_t: &[T], rows: &[usize]) {
        let (m, d, h) = (rows.len(), first.inputs, self.units.len());
        for (slot, &r) in rows.iter().enumerate() {
            self.x[slot * d..(slot + 1) * d].copy_from_slice(&x_t[r * d..(r + 1) * d]);
        }
        let a = Strided { data: &self.x[..m * d], row: d, col: 1 };
        let epi = Epilogue::BiasRelu(&self.bias);
        let (product, _) = self.ops();
        product(kernel, &mut self.act[..m * h], a, &self.wt, Shape { m, n: h, k: d }, epi);
    }

    /// The product and the Adam update this part computes with (see [`Part::serial`]).
    fn ops(&self) -> (Product<T>, AdamUpdate<T>) {
        step_ops(self.serial)
    }

    /// Given the second layer's `dz` (m x O) of the batch of the last [`Part::forward`]: the
    /// second layer's weight gradient for this part's units, this part's `dz = (dz_2 W_2)
    /// [h > 0]` (with `W_2` before this step's update), the first layer's gradients, then Adam's
    /// update of this part's parameters and of `second`. Returns whether every updated
    /// parameter is finite.
    fn backward(&mut self, update: &Update<T>, dz_next: &[T], second: Rows<'_, T>) -> bool {
        let Update { kernel, decay, step } = *update;
        let (d, h, no) = (self.inputs, self.units.len(), self.next_outputs);
        let m = dz_next.len() / no;
        let (product, update) = self.ops();
        let (act, x) = (&self.act[..m * h], &self.x[..m * d]);

        // The second layer: dwt[i, o] = sum_b h[b, i] dz_2[b, o] for inputs i in `units`.
        let a = Strided { data: act, row: 1, col: h };
        product(kernel, second.dwt, a, dz_next, Shape { m: h, n: no, k: m }, Epilogue::Plain);
        let dz = &mut self.dz[..m * h];
        let a = Strided { data: dz_next, row: no, col: 1 };
        product(kernel, dz, a, &self.w_next, Shape { m, n: h, k: no }, Epilogue::Mask(act));
        // The first layer: dwt[i, o] = sum_b x[b, i] dz[b, o], db = column sums of dz.
        let a = Strided { data: x, row: 1, col: d };
        product(kernel, &mut self.dwt, a, dz, Shape { m: d, n: h, k: m }, Epilogue::Plain);
        column_sums(&mut self.db, dz);

        let Rows { wt, dwt, mw, vw } = second;
        let mut finite = update(kernel, wt, dwt, mw, vw, decay, step);
        transpose(&mut self.w_next, wt, h, no);
        let Moments { mw, vw, mb, vb } = &mut self.moments;
        finite &= update(kernel, &mut self.wt, &self.dwt, mw, vw, decay, step);
        finite &= adam_update(kernel, &mut self.bias, &self.db, mb, vb, T::ZERO, step);
        finite
    }

    /// Writes this part's columns of the first layer back into `first`.
    fn store(&self, first: &mut Layer<T>) {
        let h = self.units.len();
        if h == 0 {
            return;
        }
        for (row, own) in first.wt.chunks_exact_mut(first.outputs).zip(self.wt.chunks_exact(h)) {
            row[self.units.clone()].copy_from_slice(own);
        }
        first.bias[self.units.clone()].copy_from_slice(&self.bias);
    }
}

/// `sums[o] = sum_b rows[b, o]`, rows in order: a bias gradient from its `dz`.
fn column_sums<T: Real>(sums: &mut [T], rows: &[T]) {
    sums.fill(T::ZERO);
    if sums.is_empty() {
        return;
    }
    for row in rows.chunks_exact(sums.len()) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s = *s + v;
        }
    }
}

impl<T: Real> Moments<T> {
    /// Zero moments for `layer`.
    fn new(layer: &Layer<T>) -> Moments<T> {
        let zeros = |len: usize| vec![T::ZERO; len];
        Moments {
            mw: zeros(layer.wt.len()),
            vw: zeros(layer.wt.len()),
            mb: zeros(layer.bias.len()),
            vb: zeros(layer.bias.len()),
        }
    }
}

/// The error [`train`] returns when the loss, a gradient or a parameter stops being finite.
fn diverged(epoch: usize, loss: f64) -> Error {
    Error::run(format!(
        "training diverged at epoch {epoch} (loss = {loss}): lower the learning rate"
    ))
}

// ---------------------------------------------------------------------------------------------
// For benchmarks

/// Hooks for `benches/`, not part of the supported API.
#[doc(hidden)]
pub mod bench {
    use super::*;

    /// The dense products of one training step (forward with loss, backward to every
    /// parameter; no input gradient of the first layer, no Adam) on a fixed batch, in the
    /// precision asked for.
    pub struct StepKernels {
        inner: Inner,
        multiply_adds: usize,
    }

    enum Inner {
        F32(Step<f32>),
        F64(Step<f64>),
    }

    struct Step<T> {
        net: Net<T>,
        ws: Workspace<T>,
        x: Vec<T>,
        y: Vec<usize>,
    }

    impl<T: Real> Step<T> {
        fn run(&mut self) -> f64 {
            let n = self.y.len();
            let loss = self.net.forward_loss(&mut self.ws, &self.x, &self.y, None);
            let want = Want { params: true, input: false };
            self.net.backward(&mut self.ws, &self.x, &self.y, None, 1.0 / n as f64, want);
            loss
        }
    }

    impl StepKernels {
        /// Kernels of `mlp` on the batch `x`, `y`, on [`Kernel::active`].
        pub fn new(mlp: &Mlp, x: &Matrix, y: &[usize], precision: Precision) -> StepKernels {
            StepKernels::with_kernel(mlp, x, y, precision, Kernel::active())
        }

        /// [`StepKernels::new`] on a given kernel.
        ///
        /// # Panics
        /// If this processor cannot run `kernel`.
        pub fn with_kernel(
            mlp: &Mlp,
            x: &Matrix,
            y: &[usize],
            precision: Precision,
            kernel: Kernel,
        ) -> StepKernels {
            let xs: Vec<f64> = x.as_slice().to_vec();
            let y = y.to_vec();
            let inner = match precision {
                Precision::F32 => {
                    let net = Net::<f32>::with_kernel(mlp, kernel);
                    let ws = Workspace::new(&net, y.len());
                    Inner::F32(Step { net, ws, x: xs.iter().map(|&v| v as f32).collect(), y })
                }
                Precision::F64 => {
                    let net = Net::<f64>::with_kernel(mlp, kernel);
                    let ws = Workspace::new(&net, y.len());
                    Inner::F64(Step { net, ws, x: xs, y })
                }
            };
            // Forward and weight gradient of every layer, input gradient of all but the first.
            let n = x.rows();
            let layers = mlp.layers();
            let weights: usize = layers.iter().map(|l| l.inputs * l.outputs).sum();
            let multiply_adds = n * (3 * weights - layers[0].inputs * layers[0].outputs);
            StepKernels { inner, multiply_adds }
        }

        /// Floating-point operations of one [`StepKernels::run`] in the products (two per
        /// multiply-add).
        pub fn flop(&self) -> f64 {
            2.0 * self.multiply_adds as f64
        }

        /// One step; returns the loss so that the work cannot be optimised away.
        pub fn run(&mut self) -> f64 {
            match &mut self.inner {
                Inner::F32(s) => s.run(),
                Inner::F64(s) => s.run(),
            }
        }
    }

    /// `A B` (`transpose_a`: `A^T B`) computed in `precision` on `kernel` by the product every
    /// layer uses, returned row-major in `f64`. `a` is `m x k` (`k x m` when transposed), `b`
    /// is `k x n`.
    ///
    /// # Panics
    /// If the shapes do not chain or this processor cannot run `kernel`.
    pub fn product(
        kernel: Kernel,
        precision: Precision,
        a: &Matrix,
        transpose_a: bool,
        b: &Matrix,
    ) -> Vec<f64> {
        fn run<T: Real>(kernel: Kernel, a: &Matrix, transpose_a: bool, b: &Matrix) -> Vec<f64> {
            assert!(kernel.is_available(), "the {} kernel needs a CPU with it", kernel.name());
            let (m, k) = if transpose_a { (a.cols(), a.rows()) } else { (a.rows(), a.cols()) };
            assert_eq!(b.rows(), k, "A and B do not chain");
            let n = b.cols();
            let at: Vec<T> = a.as_slice().iter().map(|&v| T::from_f64(v)).collect();
            let bt: Vec<T> = b.as_slice().iter().map(|&v| T::from_f64(v)).collect();
            let (row, col) = if transpose_a { (1, a.cols()) } else { (a.cols(), 1) };
            let mut c = vec![T::ZERO; m * n];
            let a = Strided { data: &at, row, col };
            gemm(kernel, &mut c, a, &bt, Shape { m, n, k }, Epilogue::Plain);
            c.iter().map(|v| v.to_f64()).collect()
        }
        match precision {
            Precision::F32 => run::<f32>(kernel, a, transpose_a, b),
            Precision::F64 => run::<f64>(kernel, a, transpose_a, b),
        }
    }

    /// [`Mlp::gradients`] computed in `precision` on `kernel`, with the logits of the same
    /// forward pass (`n x K`).
    ///
    /// # Panics
    /// As [`Mlp::gradients`], and if this processor cannot run `kernel`.
    pub fn gradients(
        kernel: Kernel,
        precision: Precision,
        mlp: &Mlp,
        x: &Matrix,
        y: &[usize],
        row_weight: Option<&[f64]>,
    ) -> (Gradients, Vec<f64>) {
        fn run<T: Real>(
            net: Net<T>,
            x: &Matrix,
            y: &[usize],
            row_weight: Option<&[f64]>,
        ) -> (Gradients, Vec<f64>) {
            let n = y.len();
            let xs: Vec<T> = x.as_slice().iter().map(|&v| T::from_f64(v)).collect();
            let mut ws = Workspace::new(&net, n);
            let loss = net.forward_loss(&mut ws, &xs, y, row_weight);
            let scale = 1.0 / weight_total(row_weight, n);
            let want = Want { params: true, input: true };
            net.backward(&mut ws, &xs, y, row_weight, scale, want);
            let layers = net
                .layers
                .iter()
                .enumerate()
                .map(|(l, layer)| dense_grad(&ws.dwt[l], &ws.db[l], layer.inputs, layer.outputs))
                .collect();
            let dx = ws.dx[..n * net.inputs()].iter().map(|v| v.to_f64()).collect();
            let k = net.outputs();
            let logits = ws.act[net.layers.len() - 1][..n * k].iter().map(|v| v.to_f64());
            let input = Matrix::from_row_major(n, net.inputs(), dx);
            (Gradients { loss, layers, input }, logits.collect())
        }
        mlp.check_batch(x, y, row_weight);
        match precision {
            Precision::F32 => run(Net::<f32>::with_kernel(mlp, kernel), x, y, row_weight),
            Precision::F64 => run(Net::<f64>::with_kernel(mlp, kernel), x, y, row_weight),
        }
    }

    /// [`train`] on `kernel` instead of [`Kernel::active`].
    ///
    /// # Errors
    /// As [`train`].
    ///
    /// # Panics
    /// If this processor cannot run `kernel`.
    pub fn train_on(
        kernel: Kernel,
        x: &Matrix,
        y: &[usize],
        row_weight: Option<&[f64]>,
        cfg: &TrainConfig,
        rng: &mut Stream,
    ) -> Result<(Mlp, TrainReport)> {
        validate(x, y, row_weight, cfg)?;
        let start = Mlp::he_init(x.cols(), &cfg.hidden, 2, rng);
        super::train_on(kernel, &start, x, y, row_weight, cfg, rng)
    }

    /// Floating-point operations (two per multiply-add) of the products of one training of
    /// `mlp`'s shape on `rows` rows for `epochs` epochs: forward and weight gradient of every
    /// layer, input gradient of all but the first.
    pub fn train_flop(inputs: usize, hidden: &[usize], rows: usize, epochs: usize) -> f64 {
        let mut widths = vec![inputs];
        widths.extend_from_slice(hidden);
        widths.push(2);
        let weights: usize = widths.windows(2).map(|w| w[0] * w[1]).sum();
        2.0 * (rows * epochs) as f64 * (3 * weights - widths[0] * widths[1]) as f64
    }
}
