//! Any bytes as a feature table: `data::load_from_reader` and `data::load_unlabelled` must
//! return a dataset or an error, never panic, and a dataset must be consistent.
#![no_main]

use std::path::Path;

use glrfe::data::{self, Missing};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // The first byte picks the options (see `table_options`), so one corpus explores them all.
    let Some((&pick, table)) = bytes.split_first() else { return };
    let opts = data::fuzz::table_options(pick);
    if let Ok((d, summary)) = data::load_from_reader(table, Path::new("fuzz.csv"), &opts) {
        assert_eq!(d.x.rows(), d.ids.len());
        assert_eq!(d.x.rows(), d.y.len());
        assert_eq!(d.x.cols(), d.names.len());
        assert_eq!(summary.features, d.names.len());
        assert!(d.y.iter().all(|&c| c < 2));
        let c = d.class_counts();
        assert!(c[0] > 0 && c[1] > 0);
        if opts.missing != Missing::Median {
            assert!(d.x.as_slice().iter().all(|v| v.is_finite()));
        }
    }
});
