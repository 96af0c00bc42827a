//! The saved model file: a versioned JSON document, written by `train`, read by `predict` and
//! `explain`.
//!
//! ```json
//! {"format": "glrfe-model", "version": 1,
//!  "features": [...], "classes": [negative, positive],
//!  "scaler": {"mean": [...], "std": [...]}, "activation": "relu",
//!  "layers": [{"weight": [[...], ...], "bias": [...]}, ...],
//!  "training": {...}}
//! ```
//!
//! Each weight has one row per output unit; the last layer has two outputs, the logits of the
//! negative and the positive class; inputs are scaled as (x - mean) / std before the first
//! layer. The reader trusts nothing: it checks the format and version, that every array has the
//! length its neighbours imply, that the layers chain, and that every number is finite, and
//! names what is wrong when a check fails. Sizes are bounded by the document itself (every
//! weight must be written out, no count is ever read and allocated for), and [`ModelFile::read`]
//! refuses files over [`MAX_FILE_BYTES`], so a file cannot make the reader allocate more than a
//! small multiple of what it holds.
//!
//! The scaler may record the training `median` of each feature (files written since missing
//! values can be imputed do); a model without medians refuses rows with missing cells.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::matrix::Matrix;
use crate::nn::{Dense, Mlp};
use crate::preprocess::Scaler;

/// The `format` field every model file carries.
pub const FORMAT: &str = "glrfe-model";
/// The version of the layout this build writes and reads.
pub const VERSION: usize = 1;
/// The largest model file [`ModelFile::read`] accepts: a network of 10,000 inputs and 1,000
/// hidden units is about 200 MB of JSON; the parsed tree takes about twice the text.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// A trained model with everything needed to score raw rows.
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// Input feature names, in model input order.
    pub features: Vec<String>,
    /// Display names of the negative and the positive class.
    pub classes: [String; 2],
    pub scaler: Scaler,
    pub mlp: Mlp,
    /// How the model was trained (settings, seed, input hashes, metrics): free-form, kept as is.
    pub training: Value,
}

impl ModelFile {
    /// Read and validate the model file at `path`.
    ///
    /// # Errors
    /// [`ErrorKind::Input`](crate::ErrorKind::Input) naming the file: unreadable, larger than
    /// [`MAX_FILE_BYTES`], not UTF-8, not JSON (with line and column), or not a valid model.
    pub fn read(path: &Path) -> Result<ModelFile> {
        let fail = |msg: String| Error::input(msg).in_file(path);
        let file = std::fs::File::open(path)
            .map_err(|e| fail(format!("cannot read the model file ({e}); check the path")))?;
        let too_big = || {
            fail(format!(
                "the file is larger than {} MiB, more than any model glrfe writes; check that \
                 --model names a model file written by 'glrfe train'",
                MAX_FILE_BYTES >> 20
            ))
        };
        // The size is checked before reading (a regular file) and while reading (a pipe or a
        // device, whose size is unknown).
        if file.metadata().is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read the model file ({e})")))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_big());
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            fail(format!(
                "not a valid glrfe model file: not UTF-8 text (byte {} is 0x{:02X})",
                e.utf8_error().valid_up_to(),
                e.as_bytes()[e.utf8_error().valid_up_to()]
            ))
        })?;
        ModelFile::from_json_text(&text).map_err(|e| e.in_file(path))
    }

    /// Raw rows (columns `features` in order) imputed and scaled as the model's inputs.
    ///
    /// # Errors
    /// [`ErrorKind::Input`](crate::ErrorKind::Input) when the column count differs from the
    /// model's features, or when a cell is NaN (missing) and the model records no medians.
    pub fn transform(&self, x: &Matrix) -> Result<Matrix> {
        if x.cols() != self.features.len() {
            return Err(Error::input(format!(
                "the rows have {} columns but the model takes {} features",
                x.cols(),
                self.features.len()
            )));
        }
        if self.scaler.median.is_none()
            && let Some(k) = x.as_slice().iter().position(|v| v.is_nan())
        {
            return Err(Error::input(format!(
                "row {} has no value for '{}', and this model file records no training medians \
                 to impute it with; fill the cell, or retrain the model with this version of \
                 glrfe",
                k / x.cols() + 1,
                self.features[k % x.cols()]
            )));
        }
        Ok(self.scaler.transform(x))
    }

    /// P(positive) for raw rows whose columns are `features` in order.
    ///
    /// # Errors
    /// As [`ModelFile::transform`].
    pub fn predict_proba(&self, x: &Matrix) -> Result<Vec<f64>> {
        Ok(self.mlp.predict_proba(&self.transform(x)?))
    }

    /// The file's JSON document.
    pub fn to_json(&self) -> Value {
        let layers: Vec<Value> = self
            .mlp
            .layers()
            .iter()
            .map(|l| {
                let rows: Vec<Value> =
                    l.weight.chunks(l.inputs).map(|r| Value::from(r.to_vec())).collect();
                Value::object()
                    .field("weight", Value::from(rows))
                    .field("bias", Value::from(l.bias.clone()))
                    .build()
            })
            .collect();
        Value::object()
            .field("format", FORMAT)
            .field("version", VERSION)
            .field("features", Value::from(self.features.clone()))
            .field("classes", Value::from(self.classes.to_vec()))
            .field("scaler", {
                let mut scaler = Value::object()
                    .field("mean", Value::from(self.scaler.mean.clone()))
                    .field("std", Value::from(self.scaler.std.clone()));
                if let Some(median) = &self.scaler.median {
                    scaler = scaler.field("median", Value::from(median.clone()));
                }
                scaler.build()
            })
            .field("activation", "relu")
            .field("layers", Value::from(layers))
            .field("training", self.training.clone())
            .build()
    }

    /// Parse and validate a model file's text.
    pub fn from_json_text(text: &str) -> Result<ModelFile> {
        let v = json::parse(text)?;
        ModelFile::from_json(&v)
    }

    /// Validate a parsed document.
    pub fn from_json(v: &Value) -> Result<ModelFile> {
        let bad = |what: String| Error::input(format!("not a valid glrfe model file: {what}"));
        if v.as_object().is_none() {
            return Err(bad("the document is not a JSON object".into()));
        }
        match v.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => return Err(bad(format!("format is '{other}', expected '{FORMAT}'"))),
            None => return Err(bad("no \"format\" field".into())),
        }
        match v.get("version").and_then(Value::as_usize) {
            Some(VERSION) => {}
            Some(other) => {
                return Err(bad(format!(
                    "version {other} is not supported by this build (it reads version {VERSION})"
                )));
            }
            None => return Err(bad("no integer \"version\" field".into())),
        }
        let strings = |key: &str| -> Result<Vec<String>> {
            let arr = v
                .get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("\"{key}\" must be an array of strings")))?;
            arr.iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad(format!("\"{key}\" must hold strings only")))
                })
                .collect()
        };
        let features = strings("features")?;
        if features.is_empty() {
            return Err(bad("\"features\" is empty".into()));
        }
        for (i, f) in features.iter().enumerate() {
            if features[..i].contains(f) {
                return Err(bad(format!("feature '{f}' is listed twice")));
            }
        }
        let classes = strings("classes")?;
        let classes: [String; 2] = classes
            .try_into()
            .map_err(|_| bad("\"classes\" must name exactly two classes".into()))?;
        match v.get("activation").and_then(Value::as_str) {
            Some("relu") => {}
            Some(other) => return Err(bad(format!("activation '{other}' is not supported"))),
            None => return Err(bad("no \"activation\" field".into())),
        }

        let scaler = v.get("scaler").ok_or_else(|| bad("no \"scaler\" field".into()))?;
        let mean = numbers(scaler.get("mean"), "scaler.mean").map_err(bad)?;
        let std = numbers(scaler.get("std"), "scaler.std").map_err(bad)?;
        if mean.len() != features.len() || std.len() != features.len() {
            return Err(bad(format!(
                "scaler has {} means and {} standard deviations for {} features",
                mean.len(),
                std.len(),
                features.len()
            )));
        }
        if let Some(j) = std.iter().position(|&s| s <= 0.0) {
            return Err(bad(format!("scaler.std[{j}] is not positive")));
        }
        let median = match scaler.get("median") {
            None => None,
            Some(m) => {
                let m = numbers(Some(m), "scaler.median").map_err(bad)?;
                if m.len() != features.len() {
                    return Err(bad(format!(
                        "scaler has {} medians for {} features",
                        m.len(),
                        features.len()
                    )));
                }
                Some(m)
            }
        };

        let layers = v
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("\"layers\" must be an array".into()))?;
        let mut dense = Vec::with_capacity(layers.len());
        for (l, layer) in layers.iter().enumerate() {
            let rows = layer
                .get("weight")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("layers[{l}].weight must be an array of rows")))?;
            let bias = numbers(layer.get("bias"), &format!("layers[{l}].bias")).map_err(bad)?;
            if rows.len() != bias.len() || rows.is_empty() {
                return Err(bad(format!(
                    "layers[{l}] has {} weight rows and {} biases; both must equal its outputs",
                    rows.len(),
                    bias.len()
                )));
            }
            let mut weight = Vec::new();
            let mut inputs = None;
            for (o, row) in rows.iter().enumerate() {
                let r = numbers(Some(row), &format!("layers[{l}].weight[{o}]")).map_err(bad)?;
                if *inputs.get_or_insert(r.len()) != r.len() {
                    return Err(bad(format!("layers[{l}].weight rows differ in length")));
                }
                weight.extend(r);
            }
            let inputs = inputs.unwrap_or(0);
            dense.push(Dense { inputs, outputs: bias.len(), weight, bias });
        }
        if dense.is_empty() {
            return Err(bad("\"layers\" is empty".into()));
        }
        if dense[0].inputs != features.len() {
            return Err(bad(format!(
                "the first layer takes {} inputs but {} features are listed",
                dense[0].inputs,
                features.len()
            )));
        }
        if dense.last().map(|l| l.outputs) != Some(2) {
            return Err(bad("the last layer must have two outputs (negative, positive)".into()));
        }
        let mlp = Mlp::from_layers(dense).map_err(|e| bad(e.message().to_string()))?;
        let training = v.get("training").cloned().unwrap_or(Value::Null);
        let zero_variance = Vec::new();
        Ok(ModelFile {
            features,
            classes,
            scaler: Scaler { mean, std, zero_variance, median },
            mlp,
            training,
        })
    }
}

/// A JSON array of finite numbers.
fn numbers(v: Option<&Value>, what: &str) -> std::result::Result<Vec<f64>, String> {
    let arr = v.and_then(Value::as_array).ok_or_else(|| format!("{what} must be an array"))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| match x.as_f64() {
            Some(f) if f.is_finite() => Ok(f),
            _ => Err(format!("{what}[{i}] is not a finite number")),
        })
        .collect()
}
