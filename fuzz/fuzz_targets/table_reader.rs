//! Any bytes as a feature table: `data::load_from_reader` and `data::load_unlabelled` must
//! return a dataset or an error, never panic, and a dataset must be consistent.
#![no_main]

use std::path::Path;

use glrfe::data::{self, LoadOptions, Missing};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // The first byte picks the options, so one corpus explores all of them.
    let Some((&pick, table)) = bytes.split_first() else { return };
    let missing = [Missing::Error, Missing::DropRows, Missing::DropColumns, Missing::Median];
    let opts = LoadOptions {
        label: Some("y".into()),
        features: if pick & 4 == 0 { Some(vec!["*".into()]) } else { None },
        id: if pick & 8 == 0 { None } else { Some("id".into()) },
        positive: if pick & 16 == 0 { vec![] } else { vec!["IIIa".into(), "b".into()] },
        negative: if pick & 16 == 0 { vec![] } else { vec!["I".into(), "a".into()] },
        delimiter: [None, Some(b';'), Some(b'\t'), None][usize::from(pick >> 6)],
        missing: missing[usize::from(pick & 3)],
        keep_constant: pick & 32 != 0,
        ..LoadOptions::default()
    };
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
