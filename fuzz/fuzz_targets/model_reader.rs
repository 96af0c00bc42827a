//! Any bytes as a model file: `ModelFile::from_json_text` must return a model or an error,
//! never panic; a model it accepts must score a row and survive a write-read round trip.
#![no_main]

use glrfe::Matrix;
use glrfe::model::ModelFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(model) = ModelFile::from_json_text(text) else { return };
    let d = model.features.len();
    let row = Matrix::from_row_major(1, d, vec![0.5; d]);
    let p = model.predict_proba(&row).expect("a row of the right width scores");
    assert_eq!(p.len(), 1);
    let again = ModelFile::from_json_text(&model.to_json().to_pretty()).expect("round trip");
    assert_eq!(again.features, model.features);
});
