//! glrfe: gradient-loss recursive feature elimination for radiomics tables.
//!
//! The library follows one data flow, one module a step:
//!
//! ```text
//! data::load -> eval::stratified_folds -> per training fold:
//!   preprocess::Scaler -> preprocess::smote -> select::Glrfe -> nn::train
//! per test fold: Scaler::transform -> Mlp::predict_proba -> eval::Metrics
//! ```
//!
//! Every random decision draws from a [`rng::Stream`] derived from the master seed and the
//! identity of the task, so results do not depend on the number of threads.

pub mod assess;
pub mod baselines;
pub mod data;
pub mod decorrelate;
pub mod error;
pub mod eval;
pub mod json;
pub mod matrix;
pub mod model;
pub mod nn;
mod pair;
pub mod pipeline;
pub mod preprocess;
pub mod report;
pub mod rng;
pub mod select;
pub mod sha256;
pub mod special;
pub mod stability;

pub use error::{Error, ErrorKind, Result};
pub use matrix::Matrix;
