//! Generates the bundled synthetic radiomics table, `fixtures/synthetic/`.
//!
//! ```text
//! cargo run --release --example make_synthetic -- fixtures/synthetic [--report]
//! ```
//!
//! writes `radiomics_synthetic.csv` (420 patients: an id, a 0/1 `stage`, 106 features with real
//! PyRadiomics names) and `truth.csv` (what every feature is). With `--report` it also prints,
//! on stderr, how well the true score and its linear part separate the classes, on the table
//! and on a large sample from the same model.
//!
//! The table imitates a Lung1 PyRadiomics extraction closely enough to exercise what real tables
//! make hard, and differs from one in that the answer is known:
//!
//! - Each patient has independent standard-normal latents. Five drive the label linearly through
//!   one feature each (tumour size via `MeshVolume`, irregularity via `Sphericity`,
//!   heterogeneity via firstorder `Entropy`, density via firstorder `Mean`, coarseness via
//!   ngtdm `Coarseness`). Two act only through their interaction (the label depends on
//!   `tanh(1.5 a) tanh(1.5 b)`, carried by firstorder `Skewness` and glcm `ClusterShade`), so
//!   neither has any marginal effect. One acts non-monotonically (through `|q|`, carried by glcm
//!   `Correlation`), so its mean is the same in both classes.
//! - Most other features are noisy transforms of an informative latent (volume, surface, axis
//!   lengths and the non-normalised non-uniformities follow size; entropies and inverse
//!   differences follow heterogeneity; grey-level emphases follow density), so a selector meets
//!   correlated groups of near-substitutes, as in real shape and texture families.
//! - The rest follow latents unrelated to the label (intensity spread, elongation, dependence,
//!   run and zone structure) or their own noise.
//! - Scales range from about 1e-4 (low-grey-level emphases, coarseness) to above 1e7 (energy),
//!   with log-normal, bounded and signed features, as in real extractions.
//!
//! The label is drawn from a logistic model of the latent score. To get exactly 140 early and
//! 280 advanced patients, candidates are drawn in turn and one whose drawn label's class is
//! already full is discarded; this is rejection sampling from each class's conditional
//! distribution, so the class-conditional feature distributions are exactly the model's.
//!
//! Every random number comes from `glrfe::rng::Stream`, derived from [`SEED`], so the output is
//! the same bytes on every run. Values are printed rounded to 7 significant digits, so a last-bit
//! difference in the platform's `exp` or `ln` changes the file only if it crosses a rounding
//! boundary.

use glrfe::rng::Stream;
use std::fmt::Write as _;

/// The master seed of the table.
pub const SEED: u64 = 20_260_420;
/// Patients per class: `stage` 0 (early) and 1 (advanced), about 1 : 2 as in Lung1.
pub const N_EARLY: usize = 140;
pub const N_ADVANCED: usize = 280;

/// Coefficients of the latent score `B0 + linear + interaction + non-monotone` (see `score`).
const B0: f64 = 1.0;
const W_SIZE: f64 = 1.0;
const W_SPHERICITY: f64 = -0.8;
const W_HETEROGENEITY: f64 = 0.8;
const W_DENSITY: f64 = 0.7;
const W_COARSENESS: f64 = -0.7;
const W_INTERACTION: f64 = 3.2;
const W_NONMONOTONE: f64 = 2.4;

/// One patient's latents, the quantities several features share, and the drawn label.
pub struct Patient {
    // Informative latents.
    size: f64,
    spher: f64,
    het: f64,
    dens: f64,
    coarse: f64,
    a: f64,
    b: f64,
    q: f64,
    // Shared intermediate quantities (functions of latents plus their own noise).
    volume: f64,
    sphericity: f64,
    nvox: f64,
    elongation: f64,
    flatness: f64,
    major: f64,
    mean: f64,
    isd: f64,
    entropy: f64,
    uniformity: f64,
    joint_average: f64,
    lde: f64,
    sde: f64,
    lre: f64,
    sre: f64,
    lae: f64,
    sae: f64,
    nzones: f64,
    coarseness: f64,
    /// The latent score the label was drawn from, and the label (1 = advanced).
    pub score: f64,
    pub stage: u8,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Patient {
    /// The linear part of the latent score: what the best linear model could use.
    pub fn linear_score(&self) -> f64 {
        W_SIZE * self.size
            + W_SPHERICITY * self.spher
            + W_HETEROGENEITY * self.het
            + W_DENSITY * self.dens
            + W_COARSENESS * self.coarse
    }

    /// The full latent score. `sqrt(2 / pi)` is E|q|, so the non-monotone term has mean zero.
    fn compute_score(&self) -> f64 {
        let interaction = W_INTERACTION * (1.5 * self.a).tanh() * (1.5 * self.b).tanh();
        let nonmonotone = W_NONMONOTONE * (self.q.abs() - (2.0 / std::f64::consts::PI).sqrt());
        B0 + self.linear_score() + interaction + nonmonotone
    }

    /// Draw a candidate patient: latents, score and label from `rng`, then the shared
    /// quantities.
    fn draw(rng: &mut Stream) -> Patient {
        let [size, spher, het, dens, coarse, a, b, q] = std::array::from_fn(|_| rng.normal());
        // Latents that do not enter the score: intensity spread, elongation, dependence, run
        // and zone structure.
        let [spread, elong, dep, run, zone] = std::array::from_fn(|_| rng.normal());

        let volume = 2.5e4 * (1.1 * size).exp(); // mm^3
        let sphericity = 0.35 + 0.5 * sigmoid(1.2 * spher);
        let nvox = volume / 2.88; // 0.98 x 0.98 x 3 mm voxels
        let elongation = 0.35 + 0.6 * sigmoid(-1.1 * elong + 0.3 * rng.normal());
        let flatness = 0.2 + 0.6 * sigmoid(-0.9 * elong + 0.5 * rng.normal());
        let major = 1.45 * volume.cbrt() * (0.2 * elong + 0.05 * rng.normal()).exp();
        let mean = 30.0 + 22.0 * dens; // HU
        let isd = 55.0 * (0.3 * spread).exp();
        let entropy = 4.6 + 0.45 * het;
        let uniformity = (-entropy).exp2() * (0.05 * rng.normal()).exp();
        let joint_average = 8.0 * (0.18 * dens + 0.03 * rng.normal()).exp();
        let lde = (3.5 + 0.5 * dep + 0.15 * rng.normal()).exp();
        let sde = (-2.6 - 0.4 * dep + 0.15 * rng.normal()).exp();
        let lre = 1.0 + (0.3 + 0.5 * run + 0.1 * rng.normal()).exp();
        let sre = 0.55 + 0.4 * sigmoid(-run + 0.2 * rng.normal());
        let lae = 3e3 * (1.4 * zone + 0.3 * rng.normal()).exp();
        let sae = 0.35 + 0.4 * sigmoid(-zone + 0.3 * rng.normal());
        let nzones = nvox * 0.3 * (-0.3 * zone + 0.1 * rng.normal()).exp();
        let coarseness = 2e-3 * (0.9 * coarse).exp();

        let mut p = Patient {
            size,
            spher,
            het,
            dens,
            coarse,
            a,
            b,
            q,
            volume,
            sphericity,
            nvox,
            elongation,
            flatness,
            major,
            mean,
            isd,
            entropy,
            uniformity,
            joint_average,
            lde,
            sde,
            lre,
            sre,
            lae,
            sae,
            nzones,
            coarseness,
            score: 0.0,
            stage: 0,
        };
        p.score = p.compute_score();
        p.stage = u8::from(rng.uniform() < sigmoid(p.score));
        p
    }
}

/// A feature column: its PyRadiomics name without the `original_` prefix, its role and a
/// description for `truth.csv`, and how to compute it (from the patient and fresh noise).
struct Column {
    name: &'static str,
    role: &'static str,
    detail: &'static str,
    value: fn(&Patient, &mut Stream) -> f64,
}

const LIN: &str = "informative-linear";
const INTER: &str = "informative-interaction";
const NONMONO: &str = "informative-nonmonotone";
const NOISE: &str = "noise";
const OF_VOLUME: &str = "redundant-of-original_shape_MeshVolume";
const OF_ENTROPY: &str = "redundant-of-original_firstorder_Entropy";
const OF_MEAN: &str = "redundant-of-original_firstorder_Mean";
const OF_COARSENESS: &str = "redundant-of-original_ngtdm_Coarseness";

/// All 106 feature columns, in output order (PyRadiomics' class order, names alphabetical
/// within a class). Of the 107 original-image features, glcm SumAverage is left out: it is
/// exactly twice JointAverage in PyRadiomics, so it would add nothing but a tie.
fn columns() -> Vec<Column> {
    fn n(rng: &mut Stream) -> f64 {
        rng.normal()
    }
    // Grey-level emphases scale with the square of the mean grey level (JointAverage), so
    // they follow density; their small-dependence/run/zone versions mix in a noise latent.
    vec![
        // Shape.
        Column {
            name: "shape_Elongation",
            role: NOISE,
            detail: "bounded (0.35, 0.95), follows the noise latent elongation",
            value: |p, _| p.elongation,
        },
        Column {
            name: "shape_Flatness",
            role: NOISE,
            detail: "bounded (0.2, 0.8), follows the noise latent elongation",
            value: |p, _| p.flatness,
        },
        Column {
            name: "shape_LeastAxisLength",
            role: OF_VOLUME,
            detail: "MajorAxisLength * Flatness",
            value: |p, _| p.major * p.flatness,
        },
        Column {
            name: "shape_MajorAxisLength",
            role: OF_VOLUME,
            detail: "1.45 * MeshVolume^(1/3) * exp(0.2 elongation + noise)",
            value: |p, _| p.major,
        },
        Column {
            name: "shape_Maximum2DDiameterColumn",
            role: OF_VOLUME,
            detail: "1.3 * MeshVolume^(1/3) * log-normal noise (sd 0.12)",
            value: |p, r| 1.3 * p.volume.cbrt() * (0.12 * n(r)).exp(),
        },
        Column {
            name: "shape_Maximum2DDiameterRow",
            role: OF_VOLUME,
            detail: "1.3 * MeshVolume^(1/3) * log-normal noise (sd 0.12)",
            value: |p, r| 1.3 * p.volume.cbrt() * (0.12 * n(r)).exp(),
        },
        Column {
            name: "shape_Maximum2DDiameterSlice",
            role: OF_VOLUME,
            detail: "1.4 * MeshVolume^(1/3) * log-normal noise (sd 0.1)",
            value: |p, r| 1.4 * p.volume.cbrt() * (0.1 * n(r)).exp(),
        },
        Column {
            name: "shape_Maximum3DDiameter",
            role: OF_VOLUME,
            detail: "1.7 * MeshVolume^(1/3) * log-normal noise (sd 0.08)",
            value: |p, r| 1.7 * p.volume.cbrt() * (0.08 * n(r)).exp(),
        },
        Column {
            name: "shape_MeshVolume",
            role: LIN,
            detail: "2.5e4 * exp(1.1 size) mm^3; score += 1.0 size",
            value: |p, _| p.volume,
        },
        Column {
            name: "shape_MinorAxisLength",
            role: OF_VOLUME,
            detail: "MajorAxisLength * Elongation",
            value: |p, _| p.major * p.elongation,
        },
        Column {
            name: "shape_Sphericity",
            role: LIN,
            detail: "0.35 + 0.5 * sigmoid(1.2 spher); score -= 0.8 spher (advanced = irregular)",
            value: |p, _| p.sphericity,
        },
        Column {
            name: "shape_SurfaceArea",
            role: OF_VOLUME,
            detail: "(36 pi)^(1/3) MeshVolume^(2/3) / Sphericity * noise: size and sphericity",
            value: |p, r| {
                (36.0 * std::f64::consts::PI).cbrt() * p.volume.powf(2.0 / 3.0) / p.sphericity
                    * (0.03 * n(r)).exp()
            },
        },
        Column {
            name: "shape_SurfaceVolumeRatio",
            role: OF_VOLUME,
            detail: "SurfaceArea / MeshVolume form: size (inversely) and sphericity",
            value: |p, r| {
                (36.0 * std::f64::consts::PI).cbrt() * p.volume.powf(-1.0 / 3.0) / p.sphericity
                    * (0.03 * n(r)).exp()
            },
        },
        Column {
            name: "shape_VoxelVolume",
            role: OF_VOLUME,
            detail: "MeshVolume * exp(0.02 noise): near-duplicate",
            value: |p, r| p.volume * (0.02 * n(r)).exp(),
        },
        // First order.
        Column {
            name: "firstorder_10Percentile",
            role: OF_MEAN,
            detail: "Mean - 1.28 sd + noise: density and the noise latent spread",
            value: |p, r| p.mean - 1.28 * p.isd + 4.0 * n(r),
        },
        Column {
            name: "firstorder_90Percentile",
            role: OF_MEAN,
            detail: "Mean + 1.28 sd + noise: density and the noise latent spread",
            value: |p, r| p.mean + 1.28 * p.isd + 4.0 * n(r),
        },
        Column {
            name: "firstorder_Energy",
            role: OF_VOLUME,
            detail: "voxels * (Mean^2 + sd^2): mostly size, strictly positive, ~1e5 to 1e9",
            value: |p, _| p.nvox * (p.mean * p.mean + p.isd * p.isd),
        },
        Column {
            name: "firstorder_Entropy",
            role: LIN,
            detail: "4.6 + 0.45 het (bits); score += 0.8 het",
            value: |p, _| p.entropy,
        },
        Column {
            name: "firstorder_InterquartileRange",
            role: NOISE,
            detail: "1.35 sd * noise: follows the noise latent spread",
            value: |p, r| 1.35 * p.isd * (0.05 * n(r)).exp(),
        },
        Column {
            name: "firstorder_Kurtosis",
            role: NOISE,
            detail: "3 + log-normal, own noise",
            value: |_, r| 3.0 + (0.5 + 0.6 * n(r)).exp(),
        },
        Column {
            name: "firstorder_Maximum",
            role: OF_MEAN,
            detail: "Mean + 3.5 sd * noise: density and the noise latent spread",
            value: |p, r| p.mean + 3.5 * p.isd * (0.1 * n(r)).exp(),
        },
        Column {
            name: "firstorder_Mean",
            role: LIN,
            detail: "30 + 22 dens (HU); score += 0.7 dens",
            value: |p, _| p.mean,
        },
        Column {
            name: "firstorder_MeanAbsoluteDeviation",
            role: NOISE,
            detail: "0.8 sd * noise: follows the noise latent spread",
            value: |p, r| 0.8 * p.isd * (0.03 * n(r)).exp(),
        },
        Column {
            name: "firstorder_Median",
            role: OF_MEAN,
            detail: "Mean + 4 noise",
            value: |p, r| p.mean + 4.0 * n(r),
        },
        Column {
            name: "firstorder_Minimum",
            role: OF_MEAN,
            detail: "Mean - 3.5 sd * noise: density and the noise latent spread",
            value: |p, r| p.mean - 3.5 * p.isd * (0.1 * n(r)).exp(),
        },
        Column {
            name: "firstorder_Range",
            role: NOISE,
            detail: "7 sd * noise: follows the noise latent spread",
            value: |p, r| 7.0 * p.isd * (0.07 * n(r)).exp(),
        },
        Column {
            name: "firstorder_RobustMeanAbsoluteDeviation",
            role: NOISE,
            detail: "0.5 sd * noise: follows the noise latent spread",
            value: |p, r| 0.5 * p.isd * (0.05 * n(r)).exp(),
        },
        Column {
            name: "firstorder_RootMeanSquared",
            role: OF_MEAN,
            detail: "sqrt(Mean^2 + sd^2): mixes density with the noise latent spread",
            value: |p, _| (p.mean * p.mean + p.isd * p.isd).sqrt(),
        },
        Column {
            name: "firstorder_Skewness",
            role: INTER,
            detail: "0.7 a; score += 3.2 tanh(1.5 a) tanh(1.5 b) with b in glcm_ClusterShade",
            value: |p, _| 0.7 * p.a,
        },
        Column {
            name: "firstorder_TotalEnergy",
            role: OF_VOLUME,
            detail: "Energy * 2.88 (voxel volume): exact multiple of firstorder_Energy",
            value: |p, _| 2.88 * p.nvox * (p.mean * p.mean + p.isd * p.isd),
        },
        Column {
            name: "firstorder_Uniformity",
            role: OF_ENTROPY,
            detail: "2^-Entropy * noise",
            value: |p, _| p.uniformity,
        },
        Column {
            name: "firstorder_Variance",
            role: NOISE,
            detail: "sd^2: follows the noise latent spread",
            value: |p, _| p.isd * p.isd,
        },
        // GLCM.
        Column {
            name: "glcm_Autocorrelation",
            role: OF_MEAN,
            detail: "JointAverage^2 * noise",
            value: |p, r| p.joint_average.powi(2) * (0.03 * n(r)).exp(),
        },
        Column {
            name: "glcm_ClusterProminence",
            role: NOISE,
            detail: "log-normal around 5e4: the noise latent spread",
            value: |p, r| 5e4 * (p.isd / 55.0).powf(2.5) * (0.3 * n(r)).exp(),
        },
        Column {
            name: "glcm_ClusterShade",
            role: INTER,
            detail: "900 sinh(1.3 b); score += 3.2 tanh(1.5 a) tanh(1.5 b) with a in Skewness",
            value: |p, _| 900.0 * (1.3 * p.b).sinh(),
        },
        Column {
            name: "glcm_ClusterTendency",
            role: NOISE,
            detail: "sd^2 / 160 * noise: the noise latent spread",
            value: |p, r| p.isd * p.isd / 160.0 * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glcm_Contrast",
            role: OF_ENTROPY,
            detail: "exp(1.2 + 0.6 het + 0.3 spread + noise): heterogeneity and spread",
            value: |p, r| (1.2 + 0.6 * p.het + 0.3 * (p.isd / 55.0).ln() / 0.3 + 0.2 * n(r)).exp(),
        },
        Column {
            name: "glcm_Correlation",
            role: NONMONO,
            detail: "0.3 + 0.45 tanh(0.7 q); score += 2.4 (|q| - sqrt(2/pi)): distance from 0.3",
            value: |p, _| 0.3 + 0.45 * (0.7 * p.q).tanh(),
        },
        Column {
            name: "glcm_DifferenceAverage",
            role: OF_ENTROPY,
            detail: "exp(0.5 + 0.35 het + noise)",
            value: |p, r| (0.5 + 0.35 * p.het + 0.15 * n(r)).exp(),
        },
        Column {
            name: "glcm_DifferenceEntropy",
            role: OF_ENTROPY,
            detail: "2.5 + 0.3 het + noise",
            value: |p, r| 2.5 + 0.3 * p.het + 0.1 * n(r),
        },
        Column {
            name: "glcm_DifferenceVariance",
            role: OF_ENTROPY,
            detail: "exp(0.8 + 0.5 het + noise)",
            value: |p, r| (0.8 + 0.5 * p.het + 0.3 * n(r)).exp(),
        },
        Column {
            name: "glcm_Id",
            role: OF_ENTROPY,
            detail: "0.45 - 0.08 het + noise (inverse)",
            value: |p, r| 0.45 - 0.08 * p.het + 0.02 * n(r),
        },
        Column {
            name: "glcm_Idm",
            role: OF_ENTROPY,
            detail: "0.4 - 0.08 het + noise (inverse)",
            value: |p, r| 0.4 - 0.08 * p.het + 0.025 * n(r),
        },
        Column {
            name: "glcm_Idmn",
            role: OF_ENTROPY,
            detail: "1 - 0.02 exp(0.3 het + noise), close to 1 (inverse)",
            value: |p, r| 1.0 - 0.02 * (0.3 * p.het + 0.2 * n(r)).exp(),
        },
        Column {
            name: "glcm_Idn",
            role: OF_ENTROPY,
            detail: "1 - 0.1 exp(0.3 het + noise) (inverse)",
            value: |p, r| 1.0 - 0.1 * (0.3 * p.het + 0.2 * n(r)).exp(),
        },
        Column {
            name: "glcm_Imc1",
            role: NOISE,
            detail: "-0.1 - 0.15 sigmoid(noise), own noise",
            value: |_, r| -0.1 - 0.15 * sigmoid(n(r)),
        },
        Column {
            name: "glcm_Imc2",
            role: NOISE,
            detail: "0.6 + 0.3 tanh(noise), own noise",
            value: |_, r| 0.6 + 0.3 * n(r).tanh(),
        },
        Column {
            name: "glcm_InverseVariance",
            role: NOISE,
            detail: "0.35 + 0.05 noise, own noise",
            value: |_, r| 0.35 + 0.05 * n(r),
        },
        Column {
            name: "glcm_JointAverage",
            role: OF_MEAN,
            detail: "8 exp(0.18 dens + noise): mean grey level",
            value: |p, _| p.joint_average,
        },
        Column {
            name: "glcm_JointEnergy",
            role: OF_ENTROPY,
            detail: "2^-(2 Entropy) * noise",
            value: |p, r| (-2.0 * p.entropy).exp2() * (0.1 * n(r)).exp(),
        },
        Column {
            name: "glcm_JointEntropy",
            role: OF_ENTROPY,
            detail: "1.6 Entropy + noise",
            value: |p, r| 1.6 * p.entropy + 0.15 * n(r),
        },
        Column {
            name: "glcm_MCC",
            role: NOISE,
            detail: "0.5 + 0.3 tanh(0.7 noise), own noise",
            value: |_, r| 0.5 + 0.3 * (0.7 * n(r)).tanh(),
        },
        Column {
            name: "glcm_MaximumProbability",
            role: OF_ENTROPY,
            detail: "3 * 2^-Entropy * noise",
            value: |p, r| 3.0 * (-p.entropy).exp2() * (0.15 * n(r)).exp(),
        },
        Column {
            name: "glcm_SumEntropy",
            role: OF_ENTROPY,
            detail: "Entropy + 0.4 + noise",
            value: |p, r| p.entropy + 0.4 + 0.12 * n(r),
        },
        Column {
            name: "glcm_SumSquares",
            role: NOISE,
            detail: "sd^2 / 625 * noise: the noise latent spread",
            value: |p, r| p.isd * p.isd / 625.0 * (0.05 * n(r)).exp(),
        },
        // GLDM.
        Column {
            name: "gldm_DependenceEntropy",
            role: OF_ENTROPY,
            detail: "Entropy + 1.5 + noise",
            value: |p, r| p.entropy + 1.5 + 0.1 * n(r),
        },
        Column {
            name: "gldm_DependenceNonUniformity",
            role: OF_VOLUME,
            detail: "voxels * 0.08 * exp(0.2 dependence + noise)",
            value: |p, r| p.nvox * 0.08 * (0.2 * (p.lde.ln() - 3.5) / 0.5 + 0.1 * n(r)).exp(),
        },
        Column {
            name: "gldm_DependenceNonUniformityNormalized",
            role: NOISE,
            detail: "0.08 exp(0.2 dependence + noise): the noise latent dependence",
            value: |p, r| 0.08 * (0.2 * (p.lde.ln() - 3.5) / 0.5 + 0.1 * n(r)).exp(),
        },
        Column {
            name: "gldm_DependenceVariance",
            role: NOISE,
            detail: "exp(1.5 + 0.4 dependence + noise)",
            value: |p, r| (1.5 + 0.4 * (p.lde.ln() - 3.5) / 0.5 + 0.2 * n(r)).exp(),
        },
        Column {
            name: "gldm_GrayLevelNonUniformity",
            role: OF_VOLUME,
            detail: "voxels * Uniformity * noise: size and heterogeneity",
            value: |p, r| p.nvox * p.uniformity * (0.05 * n(r)).exp(),
        },
        Column {
            name: "gldm_GrayLevelVariance",
            role: NOISE,
            detail: "sd^2 / 625 * noise: the noise latent spread",
            value: |p, r| p.isd * p.isd / 625.0 * (0.1 * n(r)).exp(),
        },
        Column {
            name: "gldm_HighGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "JointAverage^2 * noise",
            value: |p, r| p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "gldm_LargeDependenceEmphasis",
            role: NOISE,
            detail: "exp(3.5 + 0.5 dependence + noise)",
            value: |p, _| p.lde,
        },
        Column {
            name: "gldm_LargeDependenceHighGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "LargeDependenceEmphasis * JointAverage^2: mostly the noise latent dependence",
            value: |p, r| p.lde * p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "gldm_LargeDependenceLowGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "LargeDependenceEmphasis / JointAverage^2: mostly the noise latent dependence",
            value: |p, r| p.lde / p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "gldm_LowGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "1 / JointAverage^2 * noise",
            value: |p, r| p.joint_average.powi(-2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "gldm_SmallDependenceEmphasis",
            role: NOISE,
            detail: "exp(-2.6 - 0.4 dependence + noise)",
            value: |p, _| p.sde,
        },
        Column {
            name: "gldm_SmallDependenceHighGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "SmallDependenceEmphasis * JointAverage^2",
            value: |p, r| p.sde * p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "gldm_SmallDependenceLowGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "SmallDependenceEmphasis / JointAverage^2, ~1e-4",
            value: |p, r| p.sde / p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        // GLRLM.
        Column {
            name: "glrlm_GrayLevelNonUniformity",
            role: OF_VOLUME,
            detail: "0.9 voxels * Uniformity * noise: size and heterogeneity",
            value: |p, r| 0.9 * p.nvox * p.uniformity * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_GrayLevelNonUniformityNormalized",
            role: OF_ENTROPY,
            detail: "Uniformity * noise",
            value: |p, r| p.uniformity * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_GrayLevelVariance",
            role: NOISE,
            detail: "sd^2 / 625 * noise: the noise latent spread",
            value: |p, r| p.isd * p.isd / 625.0 * (0.1 * n(r)).exp(),
        },
        Column {
            name: "glrlm_HighGrayLevelRunEmphasis",
            role: OF_MEAN,
            detail: "JointAverage^2 * noise",
            value: |p, r| p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_LongRunEmphasis",
            role: NOISE,
            detail: "1 + exp(0.3 + 0.5 run + noise): the noise latent run",
            value: |p, _| p.lre,
        },
        Column {
            name: "glrlm_LongRunHighGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "LongRunEmphasis * JointAverage^2",
            value: |p, r| p.lre * p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_LongRunLowGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "LongRunEmphasis / JointAverage^2",
            value: |p, r| p.lre / p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_LowGrayLevelRunEmphasis",
            role: OF_MEAN,
            detail: "1 / JointAverage^2 * noise",
            value: |p, r| p.joint_average.powi(-2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_RunEntropy",
            role: OF_ENTROPY,
            detail: "Entropy - 0.1 + 0.1 run + noise",
            value: |p, r| p.entropy - 0.1 + 0.1 * (p.lre - 1.0).ln() + 0.1 * n(r),
        },
        Column {
            name: "glrlm_RunLengthNonUniformity",
            role: OF_VOLUME,
            detail: "0.7 voxels * ShortRunEmphasis * noise",
            value: |p, r| 0.7 * p.nvox * p.sre * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_RunLengthNonUniformityNormalized",
            role: NOISE,
            detail: "0.7 ShortRunEmphasis * noise: the noise latent run",
            value: |p, r| 0.7 * p.sre * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_RunPercentage",
            role: NOISE,
            detail: "bounded (0.5, 0.95): the noise latent run",
            value: |p, r| 0.5 + 0.45 * sigmoid(-(p.lre - 1.0).ln() * 2.0 + 0.2 * n(r)),
        },
        Column {
            name: "glrlm_RunVariance",
            role: NOISE,
            detail: "exp(-1 + 0.7 run + noise): the noise latent run",
            value: |p, r| (-1.0 + 1.4 * ((p.lre - 1.0).ln() - 0.3) + 0.2 * n(r)).exp(),
        },
        Column {
            name: "glrlm_ShortRunEmphasis",
            role: NOISE,
            detail: "bounded (0.55, 0.95): the noise latent run",
            value: |p, _| p.sre,
        },
        Column {
            name: "glrlm_ShortRunHighGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "ShortRunEmphasis * JointAverage^2",
            value: |p, r| p.sre * p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glrlm_ShortRunLowGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "ShortRunEmphasis / JointAverage^2",
            value: |p, r| p.sre / p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        // GLSZM.
        Column {
            name: "glszm_GrayLevelNonUniformity",
            role: OF_VOLUME,
            detail: "zones * Uniformity * noise: size, heterogeneity, zone",
            value: |p, r| p.nzones * p.uniformity * (0.08 * n(r)).exp(),
        },
        Column {
            name: "glszm_GrayLevelNonUniformityNormalized",
            role: OF_ENTROPY,
            detail: "Uniformity * noise",
            value: |p, r| p.uniformity * (0.08 * n(r)).exp(),
        },
        Column {
            name: "glszm_GrayLevelVariance",
            role: NOISE,
            detail: "sd^2 / 625 * noise: the noise latent spread",
            value: |p, r| p.isd * p.isd / 625.0 * (0.15 * n(r)).exp(),
        },
        Column {
            name: "glszm_HighGrayLevelZoneEmphasis",
            role: OF_MEAN,
            detail: "JointAverage^2 * noise",
            value: |p, r| p.joint_average.powi(2) * (0.08 * n(r)).exp(),
        },
        Column {
            name: "glszm_LargeAreaEmphasis",
            role: NOISE,
            detail: "3e3 exp(1.4 zone + noise), heavy-tailed: the noise latent zone",
            value: |p, _| p.lae,
        },
        Column {
            name: "glszm_LargeAreaHighGrayLevelEmphasis",
            role: NOISE,
            detail: "LargeAreaEmphasis * JointAverage^2: dominated by the noise latent zone",
            value: |p, r| p.lae * p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glszm_LargeAreaLowGrayLevelEmphasis",
            role: NOISE,
            detail: "LargeAreaEmphasis / JointAverage^2: dominated by the noise latent zone",
            value: |p, r| p.lae / p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glszm_LowGrayLevelZoneEmphasis",
            role: OF_MEAN,
            detail: "1 / JointAverage^2 * noise",
            value: |p, r| p.joint_average.powi(-2) * (0.08 * n(r)).exp(),
        },
        Column {
            name: "glszm_SizeZoneNonUniformity",
            role: OF_VOLUME,
            detail: "zones * 0.35 * noise: size and zone",
            value: |p, r| p.nzones * 0.35 * (0.1 * n(r)).exp(),
        },
        Column {
            name: "glszm_SizeZoneNonUniformityNormalized",
            role: NOISE,
            detail: "0.35 exp(-0.2 zone + noise): the noise latent zone",
            value: |p, r| 0.35 * (-0.2 * (p.lae / 3e3).ln() / 1.4 + 0.1 * n(r)).exp(),
        },
        Column {
            name: "glszm_SmallAreaEmphasis",
            role: NOISE,
            detail: "bounded (0.35, 0.75): the noise latent zone",
            value: |p, _| p.sae,
        },
        Column {
            name: "glszm_SmallAreaHighGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "SmallAreaEmphasis * JointAverage^2",
            value: |p, r| p.sae * p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glszm_SmallAreaLowGrayLevelEmphasis",
            role: OF_MEAN,
            detail: "SmallAreaEmphasis / JointAverage^2",
            value: |p, r| p.sae / p.joint_average.powi(2) * (0.05 * n(r)).exp(),
        },
        Column {
            name: "glszm_ZoneEntropy",
            role: OF_ENTROPY,
            detail: "Entropy + 0.9 + 0.15 zone + noise",
            value: |p, r| p.entropy + 0.9 + 0.15 * (p.lae / 3e3).ln() / 1.4 + 0.1 * n(r),
        },
        Column {
            name: "glszm_ZonePercentage",
            role: NOISE,
            detail: "zones / voxels = 0.3 exp(-0.3 zone + noise): the noise latent zone",
            value: |p, _| p.nzones / p.nvox,
        },
        Column {
            name: "glszm_ZoneVariance",
            role: NOISE,
            detail: "LargeAreaEmphasis-like, heavy-tailed: the noise latent zone",
            value: |p, r| 0.7 * p.lae * (0.3 * n(r)).exp(),
        },
        // NGTDM.
        Column {
            name: "ngtdm_Busyness",
            role: OF_COARSENESS,
            detail: "0.5 exp(-0.8 coarse + noise) (inverse)",
            value: |p, r| 0.5 * (-0.8 * (p.coarseness / 2e-3).ln() / 0.9 + 0.5 * n(r)).exp(),
        },
        Column {
            name: "ngtdm_Coarseness",
            role: LIN,
            detail: "2e-3 exp(0.9 coarse), ~1e-4 to 3e-2; score -= 0.7 coarse",
            value: |p, _| p.coarseness,
        },
        Column {
            name: "ngtdm_Complexity",
            role: NOISE,
            detail: "300 exp(0.4 spread + noise): the noise latent spread",
            value: |p, r| 300.0 * (p.isd / 55.0).powf(0.4 / 0.3) * (0.3 * n(r)).exp(),
        },
        Column {
            name: "ngtdm_Contrast",
            role: NOISE,
            detail: "0.05 exp(0.4 spread + noise): the noise latent spread",
            value: |p, r| 0.05 * (p.isd / 55.0).powf(0.4 / 0.3) * (0.3 * n(r)).exp(),
        },
        Column {
            name: "ngtdm_Strength",
            role: OF_COARSENESS,
            detail: "2 exp(0.7 coarse + noise)",
            value: |p, r| 2.0 * (0.7 * (p.coarseness / 2e-3).ln() / 0.9 + 0.3 * n(r)).exp(),
        },
    ]
}

/// Draw patients until both classes are full, in candidate order. Each candidate has its own
/// stream, so one candidate's draws never shift another's.
pub fn sample(seed: u64, n_early: usize, n_advanced: usize) -> Vec<(Patient, Stream)> {
    let mut accepted = Vec::with_capacity(n_early + n_advanced);
    let (mut early, mut advanced) = (0, 0);
    let mut candidate = 0u64;
    while early < n_early || advanced < n_advanced {
        let mut rng = Stream::derive(seed, "synthetic-patient", &[candidate]);
        candidate += 1;
        let p = Patient::draw(&mut rng);
        let slot = if p.stage == 1 { &mut advanced } else { &mut early };
        let quota = if p.stage == 1 { n_advanced } else { n_early };
        if *slot < quota {
            *slot += 1;
            accepted.push((p, rng));
        }
    }
    accepted
}

/// `x` rounded to 7 significant digits, printed in Rust's shortest form.
fn format_value(x: f64) -> String {
    let rounded: f64 = format!("{x:.6e}").parse().expect("a formatted f64 parses");
    format!("{rounded}")
}

/// The two files' contents: `(radiomics_synthetic.csv, truth.csv)`.
pub fn generate() -> (String, String) {
    let columns = columns();
    let mut patients = sample(SEED, N_EARLY, N_ADVANCED);

    // Candidates fill the classes at different rates, so candidate order bunches one class at
    // the end; shuffle so that row order says nothing about the label.
    Stream::derive(SEED, "synthetic-row-order", &[]).shuffle(&mut patients);

    let mut table = String::from("PatientID,stage");
    for c in &columns {
        let _ = write!(table, ",original_{}", c.name);
    }
    table.push('\n');
    for (i, (p, rng)) in patients.iter_mut().enumerate() {
        let _ = write!(table, "SYN-{:03},{}", i + 1, p.stage);
        for c in &columns {
            let x = (c.value)(p, rng);
            assert!(x.is_finite(), "{} is not finite", c.name);
            table.push(',');
            table.push_str(&format_value(x));
        }
        table.push('\n');
    }

    let mut truth = String::from("feature,role,detail\n");
    for c in &columns {
        assert!(!c.detail.contains(['"', '\n']), "detail of {} needs no quoting", c.name);
        let _ = writeln!(truth, "original_{},{},\"{}\"", c.name, c.role, c.detail);
    }
    (table, truth)
}

/// ROC AUC of `scores` for `labels` (1 = positive), ties counted as half.
pub fn auc(scores: &[f64], labels: &[u8]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]));
    // Sum of the positives' mid-ranks (Mann-Whitney U).
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid_rank * order[i..=j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y == 1).count() as f64;
    let neg = labels.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// AUCs of the true score and of its linear part, on `patients`.
fn separation(patients: &[(Patient, Stream)]) -> (f64, f64) {
    let labels: Vec<u8> = patients.iter().map(|(p, _)| p.stage).collect();
    let full: Vec<f64> = patients.iter().map(|(p, _)| p.score).collect();
    let linear: Vec<f64> = patients.iter().map(|(p, _)| p.linear_score()).collect();
    (auc(&full, &labels), auc(&linear, &labels))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: make_synthetic OUTPUT_DIR [--report]");
        std::process::exit(2);
    };
    let dir = std::path::Path::new(dir);
    let (table, truth) = generate();
    std::fs::create_dir_all(dir).expect("create the output directory");
    std::fs::write(dir.join("radiomics_synthetic.csv"), table).expect("write the table");
    std::fs::write(dir.join("truth.csv"), truth).expect("write truth.csv");
    eprintln!("wrote {}: {N_EARLY} early, {N_ADVANCED} advanced, seed {SEED}", dir.display());

    if args.iter().any(|a| a == "--report") {
        let (full, linear) = separation(&sample(SEED, N_EARLY, N_ADVANCED));
        eprintln!("table: AUC of the true score {full:.3}, of its linear part {linear:.3}");
        let (full, linear) = separation(&sample(SEED ^ 1, 100 * N_EARLY, 100 * N_ADVANCED));
        eprintln!("42000 more patients: AUC true score {full:.3}, linear part {linear:.3}");
    }
}
