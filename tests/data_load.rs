//! Integration tests of `glrfe::data`: the real Lung1 tables (counts from their PROVENANCE
//! files), the clinical join, and one small file per input error, asserting the error's kind,
//! file, line and column.
//!
//! The real tables are looked up in `$GLRFE_DATA_DIR`, by default `../shared/data` next to the
//! crate; a test needing them fails with a message naming the directory if it is absent.

use std::path::{Path, PathBuf};

use glrfe::ErrorKind;
use glrfe::data::{self, LoadOptions};

mod common;
use common::{assert_located, load_err};

/// Write `bytes` to a fresh file in this test binary's scratch folder.
fn temp_csv(name: &str, bytes: &[u8]) -> PathBuf {
    common::temp_csv("data_load", name, bytes)
}

fn real(rel: &str) -> PathBuf {
    let dir = std::env::var_os("GLRFE_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared").join("data")
    });
    let p = dir.join(rel);
    assert!(p.exists(), "real data file {} not found; set GLRFE_DATA_DIR", p.display());
    p
}

const DERIVED: &str = "lung1-pyradiomics-pmtoolbox/derived/lung1_pmtb_original100_stage.csv";
const FULL: &str = "lung1-pyradiomics-pmtoolbox/extracted_features_full.csv";
const CLINICAL: &str = "lung1-clinical/NSCLC-Radiomics-Lung1.clinical-version3-Oct-2019.csv";
const SSM: &str = "lung1-pyradiomics-ssmadhavan/cleaned_feature_matrix.csv";

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data").join(name)
}

fn label(l: &str) -> LoadOptions {
    LoadOptions { label: Some(l.to_string()), ..LoadOptions::default() }
}

fn stage_opts() -> LoadOptions {
    LoadOptions {
        label: Some("Overall.Stage".into()),
        positive: vec!["IIIa".into(), "IIIb".into()],
        negative: vec!["I".into(), "II".into()],
        ..LoadOptions::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Real data
// ---------------------------------------------------------------------------------------------

#[test]
fn derived_pmtoolbox_table_with_binary_label() {
    let path = real(DERIVED);
    let (ds, summary) = data::load(&path, &label("advanced")).unwrap();

    assert_eq!((ds.n(), ds.d()), (144, 100));
    assert_eq!(ds.class_counts(), [49, 95]);
    assert_eq!(ds.classes, ["0".to_string(), "1".to_string()]);
    assert!(ds.names.iter().all(|n| n.starts_with("original_")));
    assert_eq!(ds.names[0], "original_shape_Elongation");
    assert_eq!(ds.names[99], "original_gldm_SmallDependenceLowGrayLevelEmphasis");

    // File order, and values parsed exactly (including E-notation).
    assert_eq!(ds.ids.first().map(String::as_str), Some("LUNG1-001"));
    assert_eq!(ds.ids.last().map(String::as_str), Some("LUNG1-350"));
    // The cells' text as in the file, parsed by the standard library.
    assert_eq!(ds.x.get(0, 0), "0.73265825708990295".parse::<f64>().unwrap());
    assert_eq!(ds.x.get(0, 99), "1.9634308892201699E-4".parse::<f64>().unwrap());
    assert_eq!(ds.y[0], 1);

    assert_eq!(summary.rows_read, 144);
    assert!(summary.left_out.is_empty());
    assert_eq!(summary.features, 100);
    assert_eq!(summary.class_counts, [49, 95]);
    assert_eq!(summary.ignored_columns, ["PatientID", "Overall.Stage", "advanced"]);
    let text = summary.describe();
    assert!(text.contains("read 144 rows"), "{text}");
    assert!(text.contains("49 of class 0") && text.contains("95 of class 1"), "{text}");
}

#[test]
fn derived_table_stage_mapping_gives_the_same_classes() {
    let path = real(DERIVED);
    let (binary, _) = data::load(&path, &label("advanced")).unwrap();
    let (staged, summary) = data::load(&path, &stage_opts()).unwrap();

    assert_eq!(staged.y, binary.y);
    assert_eq!(staged.x, binary.x);
    assert_eq!(staged.ids, binary.ids);
    assert_eq!(staged.classes, ["I,II".to_string(), "IIIa,IIIb".to_string()]);
    assert_eq!(summary.classes, staged.classes);

    // Values compare ignoring case and surrounding blanks.
    let mut opts = stage_opts();
    opts.positive = vec![" iiia".into(), "IIIB ".into()];
    opts.negative = vec!["i".into(), " ii ".into()];
    assert_eq!(data::load(&path, &opts).unwrap().0.y, binary.y);
}

#[test]
fn ssmadhavan_table_picks_the_190_features_and_leaves_out_unknown_stage() {
    let path = real(SSM);
    let (ds, summary) = data::load(&path, &stage_opts()).unwrap();

    assert_eq!(summary.rows_read, 421);
    assert_eq!(ds.n(), 420);
    assert_eq!(ds.class_counts(), [133, 287]);
    assert_eq!(summary.left_out.len(), 1);
    let l = &summary.left_out[0];
    assert_eq!((l.id.as_str(), l.line), ("LUNG1-272", 272));
    assert_eq!(l.reason, "label 'Unknown' not in --positive/--negative");
    assert!(!ds.ids.contains(&"LUNG1-272".to_string()));

    assert_eq!(ds.d(), 190);
    assert_eq!(ds.names.iter().filter(|n| n.starts_with("original_")).count(), 18);
    assert_eq!(ds.names.iter().filter(|n| n.starts_with("wavelet-")).count(), 172);
    assert_eq!(ds.feature_index("age"), None);
    assert_eq!(ds.names.last().map(String::as_str), Some("wavelet-LLL_ngtdm_Strength"));
    assert_eq!(
        summary.ignored_columns,
        [
            "PatientID",
            "age",
            "clinical.T.Stage",
            "Clinical.N.Stage",
            "Clinical.M.Stage",
            "Overall.Stage",
            "Histology",
            "gender",
            "Survival.time",
            "deadstatus.event"
        ]
    );
    assert!(summary.describe().contains("LUNG1-272 (line 272)"));
}

#[test]
fn join_with_real_clinical_file_counts_left_out_rows() {
    let features = bundled("join_features.csv");
    let clinical = real(CLINICAL);
    let opts = LoadOptions { clinical: Some(clinical.clone()), ..stage_opts() };
    let (ds, summary) = data::load(&features, &opts).unwrap();

    assert_eq!(ds.ids, ["LUNG1-001", "LUNG1-002", "LUNG1-004", "LUNG1-005"]);
    assert_eq!(ds.y, [1, 0, 0, 1]); // IIIb, I, II, IIIb in the clinical file
    assert_eq!(ds.x.row(2), &[1000.0, 5.0]);
    assert_eq!(ds.x.row(1), &[-3.0, 0.04]);
    assert_eq!(summary.rows_read, 6);
    assert_eq!(summary.files, [features.clone(), clinical]);

    let left: Vec<(&str, u64, &str)> =
        summary.left_out.iter().map(|l| (l.id.as_str(), l.line, l.reason.as_str())).collect();
    assert_eq!(
        left,
        [
            ("LUNG1-272", 4, "label 'NA' not in --positive/--negative"),
            ("LUNG1-999", 5, "no row in clinical file")
        ]
    );
    assert!(summary.describe().contains("left out 2 rows"));
}

#[test]
fn full_pmtoolbox_file_reads_with_patient_id_and_crlf() {
    // The full export has CRLF line endings, an unnamed pandas index column first, 37
    // diagnostics columns, then 1218 features and the Patient and ROI columns last.
    let path = real(FULL);
    let opts = LoadOptions { id: Some("Patient".into()), ..LoadOptions::default() };
    let (ids, x, names) = data::load_unlabelled(&path, &opts, None).unwrap();

    assert_eq!((ids.len(), x.rows(), x.cols(), names.len()), (149, 149, 1218, 1218));
    assert_eq!(ids[0], "LUNG1-001_20180209_CT_2_GTV-1_mask");
    assert!(names.iter().all(|n| !n.starts_with("diagnostics")));
    assert_eq!(names.iter().filter(|n| n.starts_with("original_")).count(), 100);
    assert_eq!(names.iter().filter(|n| n.starts_with("log-sigma-")).count(), 430);
    assert_eq!(names.iter().filter(|n| n.starts_with("wavelet-")).count(), 688);

    let globbed = LoadOptions { features: Some(vec!["wavelet-LLH_*".into()]), ..opts.clone() };
    let (_, x, names) = data::load_unlabelled(&path, &globbed, None).unwrap();
    assert_eq!((x.cols(), names.len()), (86, 86));
    assert!(names.iter().all(|n| n.starts_with("wavelet-LLH_")));

    let two = LoadOptions {
        features: Some(vec!["original_shape_*".into(), "log-sigma-?-0-mm-3D_glcm_Idm".into()]),
        ..opts.clone()
    };
    let (_, _, names) = data::load_unlabelled(&path, &two, None).unwrap();
    assert_eq!(names.len(), 14 + 5);
    assert_eq!(names[0], "original_shape_Elongation");
}

#[test]
fn full_pmtoolbox_file_joined_on_patient_errors_clearly() {
    // The file's `Patient` column holds mask names (LUNG1-001_20180209_CT_2_GTV-1_mask), one
    // per ROI, not patient ids, so nothing matches the clinical PatientID: that must be an
    // input error naming both forms, not an empty data set.
    let path = real(FULL);
    let opts = LoadOptions {
        id: Some("Patient".into()),
        clinical: Some(real(CLINICAL)),
        clinical_id: Some("PatientID".into()),
        ..stage_opts()
    };
    let e = load_err(&path, &opts);
    assert_located(&e, ErrorKind::Input, &path, None, None);
    assert!(e.message().contains("no id of the feature table matches"), "{e}");
    assert!(e.message().contains("'LUNG1-001_20180209_CT_2_GTV-1_mask'"), "{e}");
    assert!(e.message().contains("'LUNG1-001'"), "{e}");
}

#[test]
fn several_rows_per_patient_is_a_duplicate_id_error() {
    let path = temp_csv(
        "rois.csv",
        b",Patient,ROI,original_firstorder_Mean\n0,LUNG1-002,GTV-1,1\n1,LUNG1-003,GTV-1,2\n\
          2,LUNG1-003,GTV-2,3\n",
    );
    let opts = LoadOptions {
        id: Some("Patient".into()),
        clinical: Some(real(CLINICAL)),
        clinical_id: Some("PatientID".into()),
        ..stage_opts()
    };
    let e = load_err(&path, &opts);
    assert_located(&e, ErrorKind::Input, &path, Some(4), Some("Patient"));
    assert!(e.message().contains("line 3 and again on line 4"), "{e}");
    assert!(e.message().contains("filter it to one row each"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------------

#[test]
fn bom_and_crlf_are_accepted() {
    let path = bundled("bom_crlf.csv");
    let (ds, summary) = data::load(&path, &label("advanced")).unwrap();
    assert_eq!(ds.ids, ["P1", "P2"]); // PatientID found despite the BOM before it
    assert_eq!(ds.names, ["original_firstorder_Mean"]);
    assert_eq!(ds.y, [0, 1]); // no '\r' left on the label
    assert_eq!(summary.ignored_columns, ["PatientID", "advanced"]);
}

#[test]
fn semicolon_delimiter_is_detected() {
    let path = bundled("semicolon.csv");
    let (ds, _) = data::load(&path, &label("advanced")).unwrap();
    assert_eq!(ds.names, ["original_firstorder_Mean", "original_glcm_Contrast"]);
    assert_eq!(ds.x.as_slice(), &[1.5, 2.0, -3.0, 0.04, 0.25, 1.0]);
    assert_eq!(ds.y, [0, 1, 1]);

    let tabs = temp_csv("tabs.tsv", b"PatientID\tf_a\tlab\nA\t1\t0\nB\t2\t1\n");
    let opts = LoadOptions { features: Some(vec!["f_*".into()]), ..label("lab") };
    let (ds, _) = data::load(&tabs, &opts).unwrap();
    assert_eq!(ds.x.as_slice(), &[1.0, 2.0]);

    // An explicit delimiter overrides detection.
    let opts = LoadOptions { delimiter: Some(b','), ..label("advanced") };
    let e = load_err(&path, &opts);
    assert_eq!(e.kind(), ErrorKind::Input);
}

#[test]
fn globs_select_columns_and_a_pattern_matching_nothing_is_reported() {
    let path = temp_csv(
        "globs.csv",
        b"PatientID,age,f_1,f_2,g1,original_glcm_Idm,y\nA,50,1,2,3,4,0\nB,60,5,6,7,8,1\n",
    );
    let opts = LoadOptions { features: Some(vec!["f_?".into(), "g*".into()]), ..label("y") };
    let (ds, summary) = data::load(&path, &opts).unwrap();
    assert_eq!(ds.names, ["f_1", "f_2", "g1"]);
    assert_eq!(ds.x.row(1), &[5.0, 6.0, 7.0]);
    assert_eq!(summary.ignored_columns, ["PatientID", "age", "original_glcm_Idm", "y"]);

    // A glob matching the label does not make it a feature.
    let opts = LoadOptions { features: Some(vec!["*".into()]), ..label("y") };
    let (ds, _) = data::load(&path, &opts).unwrap();
    assert_eq!(ds.names, ["age", "f_1", "f_2", "g1", "original_glcm_Idm"]);

    let opts = LoadOptions { features: Some(vec!["f_*".into(), "wavelet-*".into()]), ..label("y") };
    let e = load_err(&path, &opts);
    assert_located(&e, ErrorKind::Input, &path, Some(1), None);
    assert!(e.message().contains("pattern 'wavelet-*' matches no column"), "{e}");
}

#[test]
fn no_pyradiomics_columns_suggests_features_option() {
    let path = temp_csv("plain.csv", b"PatientID,a,b,y\nA,1,2,0\nB,3,4,1\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(1), None);
    assert!(e.message().contains("--features"), "{e}");
}

#[test]
fn without_id_column_rows_are_numbered_and_pandas_index_ignored() {
    let path = temp_csv("noid.csv", b",original_firstorder_Mean,y\n0,1.0,0\n\n1,2.0,1\n2,3.0,NA\n");
    let (ds, summary) = data::load(&path, &label("y")).unwrap();
    assert_eq!(ds.ids, ["row2", "row4"]); // line numbers, blank line 3 skipped
    assert_eq!(summary.left_out[0].id, "row5");
    assert_eq!(summary.left_out[0].reason, "label 'NA' marks a missing value");
    assert_eq!(summary.ignored_columns, ["(unnamed column 1)", "y"]);
}

#[test]
fn binary_label_accepts_decimal_spelling_and_leaves_out_missing() {
    let path = temp_csv(
        "bin.csv",
        b"PatientID,original_firstorder_Mean,y\nA,1,0.0\nB,2, 1.0 \nC,3,\nD,4,nan\nE,5,1\n",
    );
    let (ds, summary) = data::load(&path, &label("y")).unwrap();
    assert_eq!(ds.ids, ["A", "B", "E"]);
    assert_eq!(ds.y, [0, 1, 1]);
    let reasons: Vec<&str> = summary.left_out.iter().map(|l| l.reason.as_str()).collect();
    assert_eq!(reasons, ["label missing", "label 'nan' marks a missing value"]);
}

// ---------------------------------------------------------------------------------------------
// Input errors, each located
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_file() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data_load").join("does-not-exist.csv");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, None, None);
    assert!(e.message().contains("not found"), "{e}");
}

#[test]
fn empty_file_and_header_only() {
    let empty = temp_csv("empty.csv", b"");
    let e = load_err(&empty, &label("y"));
    assert_located(&e, ErrorKind::Input, &empty, Some(1), None);
    assert!(e.message().contains("empty"), "{e}");

    let blank = temp_csv("blank.csv", b"\xef\xbb\xbf\r\n  \n");
    assert!(load_err(&blank, &label("y")).message().contains("empty"));

    let header = temp_csv("header.csv", b"PatientID,original_firstorder_Mean,y\n");
    let e = load_err(&header, &label("y"));
    assert_located(&e, ErrorKind::Input, &header, Some(1), None);
    assert!(e.message().contains("no data rows"), "{e}");
}

#[test]
fn ragged_row() {
    let path = temp_csv("ragged.csv", b"PatientID,original_firstorder_Mean,y\nA,1,0\nB,2\nC,3,1\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(3), None);
    assert!(e.message().contains("expected 3 fields as in the header, found 2"), "{e}");

    // Blank lines count: the line is the file's, as an editor shows it.
    let path = temp_csv(
        "ragged_blank.csv",
        b"PatientID,original_firstorder_Mean,y\r\n\r\nA,1,0\r\n\r\n\r\nB,2,1,9\r\n",
    );
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(6), None);
    assert!(e.message().contains("found 4"), "{e}");
}

#[test]
fn bad_feature_cells() {
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "text.csv",
            b"PatientID,original_firstorder_Mean,y\nA,1,0\nB,abc,1\n",
            "'abc' is not a number",
        ),
        (
            "nan.csv",
            b"PatientID,original_firstorder_Mean,y\nA,1,0\nB,nan,1\n",
            "PyRadiomics writes nan",
        ),
        (
            "inf.csv",
            b"PatientID,original_firstorder_Mean,y\nA,1,0\nB,-inf,1\n",
            "not a finite number",
        ),
        ("hole.csv", b"PatientID,original_firstorder_Mean,y\nA,1,0\nB, ,1\n", "the cell is empty"),
    ];
    for (name, bytes, wanted) in cases {
        let path = temp_csv(name, bytes);
        let e = load_err(&path, &label("y"));
        assert_located(&e, ErrorKind::Input, &path, Some(3), Some("original_firstorder_Mean"));
        assert!(e.message().contains(wanted), "{e}");

        // The same cell is an error for prediction too.
        let e = data::load_unlabelled(&path, &LoadOptions::default(), None).unwrap_err();
        assert_located(&e, ErrorKind::Input, &path, Some(3), Some("original_firstorder_Mean"));
    }

    // A left-out row's cells are never used, so they are not checked.
    let path = temp_csv(
        "nan_left_out.csv",
        b"PatientID,original_firstorder_Mean,y\nA,1,0\nB,nan,\nC,2,1\n",
    );
    assert_eq!(data::load(&path, &label("y")).unwrap().0.ids, ["A", "C"]);
}

#[test]
fn duplicate_column_names() {
    let path = temp_csv(
        "dupcol.csv",
        b"PatientID,original_firstorder_Mean,y,original_firstorder_Mean\nA,1,0,1\n",
    );
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(1), Some("original_firstorder_Mean"));
    assert!(e.message().contains("columns 2 and 4"), "{e}");
}

#[test]
fn duplicate_ids() {
    let path =
        temp_csv("dupid.csv", b"PatientID,original_firstorder_Mean,y\nA,1,0\nB,2,1\nA,3,1\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(4), Some("PatientID"));
    assert!(e.message().contains("'A' is on line 2 and again on line 4"), "{e}");
}

#[test]
fn unknown_id_column() {
    let path = temp_csv("idcol.csv", b"PatientID,original_firstorder_Mean,y\nA,1,0\nB,2,1\n");
    let opts = LoadOptions { id: Some("patient_id".into()), ..label("y") };
    let e = load_err(&path, &opts);
    assert_located(&e, ErrorKind::Input, &path, Some(1), Some("patient_id"));
    assert!(e.message().contains("closest column names: 'PatientID'"), "{e}");
}

#[test]
fn label_column_not_found_names_files_and_closest() {
    let path = temp_csv("nolabel.csv", b"PatientID,original_firstorder_Mean,stage\nA,1,0\n");
    let e = load_err(&path, &label("Stage"));
    assert_eq!(e.kind(), ErrorKind::Input);
    assert_eq!(e.column(), Some("Stage"));
    assert!(e.message().contains(&path.display().to_string()), "{e}");
    assert!(e.message().contains("closest column names: 'stage'"), "{e}");

    let opts = LoadOptions { clinical: Some(real(CLINICAL)), ..label("Overall_Stage") };
    let e = load_err(&path, &opts);
    assert!(e.message().contains("nor in"), "{e}");
    assert!(e.message().contains("'Overall.Stage'"), "{e}");
}

#[test]
fn label_not_zero_one_suggests_lists() {
    let path = temp_csv(
        "stage.csv",
        b"PatientID,original_firstorder_Mean,Overall.Stage\nA,1,0\nB,2,IIIa\n",
    );
    let e = load_err(&path, &label("Overall.Stage"));
    assert_located(&e, ErrorKind::Input, &path, Some(3), Some("Overall.Stage"));
    assert!(e.message().contains("'IIIa' is not 0 or 1"), "{e}");
    assert!(e.message().contains("--positive"), "{e}");
}

#[test]
fn contradictory_label_options_are_usage_errors() {
    let path = bundled("semicolon.csv");
    let mut opts = stage_opts();
    opts.negative.push("iiib".into());
    let e = load_err(&path, &opts);
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(e.message().contains("in both --positive and --negative"), "{e}");

    let mut opts = stage_opts();
    opts.negative.clear();
    assert_eq!(load_err(&path, &opts).kind(), ErrorKind::Usage);

    let opts = LoadOptions::default();
    let e = load_err(&path, &opts);
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(e.message().contains("--label"), "{e}");
}

#[test]
fn one_class_is_a_data_error_with_counts() {
    let path = temp_csv(
        "oneclass.csv",
        b"PatientID,original_firstorder_Mean,Overall.Stage\nA,1,IIIa\nB,2,IIIb\nC,3,NA\n",
    );
    let e = load_err(&path, &stage_opts());
    assert_eq!(e.kind(), ErrorKind::Data);
    assert!(e.message().contains("0 rows of class 0 (I,II), 2 of class 1 (IIIa,IIIb)"), "{e}");
    assert!(e.message().contains("1 left out"), "{e}");
}

#[test]
fn non_utf8_is_an_error_not_a_panic() {
    let path = temp_csv("latin1.csv", b"PatientID,original_firstorder_Mean,y\nA,1,0\nB\xe9,2,1\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(3), None);
    assert!(e.message().contains("UTF-8"), "{e}");
}

#[test]
fn odd_inputs_never_panic() {
    let inputs: [&[u8]; 8] = [
        b"\"unterminated,quote\nA,1\n",
        b",,,\n,,,\n",
        b"\n\n\n",
        b"y\n1\n",
        b"\xef\xbb\xbf",
        b"PatientID,y\n,1\n",
        b"\"a\"\"b\",y\n\"1\n2\",0\n",
        b"\x00\x01\x02,\xff\n",
    ];
    for (k, bytes) in inputs.iter().enumerate() {
        let path = temp_csv(&format!("odd{k}.csv"), bytes);
        let r = data::load(&path, &label("y"));
        assert!(r.is_err(), "input {k}");
        let _ = data::load_unlabelled(&path, &LoadOptions::default(), None);
    }
}

#[test]
fn clinical_file_with_duplicate_ids() {
    let features = bundled("join_features.csv");
    let clinical = temp_csv(
        "clin_dup.csv",
        b"PatientID,Overall.Stage\nLUNG1-001,I\nLUNG1-002,IIIa\nLUNG1-001,IIIb\n",
    );
    let opts = LoadOptions { clinical: Some(clinical.clone()), ..stage_opts() };
    let e = load_err(&features, &opts);
    assert_located(&e, ErrorKind::Input, &clinical, Some(4), Some("PatientID"));
    assert!(e.message().contains("line 2 and again on line 4"), "{e}");
}

#[test]
fn clinical_id_column_can_differ_and_must_exist() {
    let features = bundled("join_features.csv");
    let clinical =
        temp_csv("clin_id.csv", b"id;Overall.Stage\nLUNG1-001;I\nLUNG1-002;IIIa\nLUNG1-004;ii\n");
    let opts = LoadOptions {
        clinical: Some(clinical.clone()),
        clinical_id: Some("id".into()),
        ..stage_opts()
    };
    let (ds, summary) = data::load(&features, &opts).unwrap();
    assert_eq!(ds.ids, ["LUNG1-001", "LUNG1-002", "LUNG1-004"]);
    assert_eq!(ds.y, [0, 1, 0]);
    assert_eq!(summary.left_out.len(), 3);

    let opts = LoadOptions { clinical: Some(clinical.clone()), ..stage_opts() };
    let e = load_err(&features, &opts);
    assert_located(&e, ErrorKind::Input, &clinical, Some(1), Some("PatientID"));
}

#[test]
fn error_display_names_file_line_and_column() {
    let path = temp_csv("display.csv", b"PatientID,original_firstorder_Mean,y\nA,x1,0\nB,2,1\n");
    let e = load_err(&path, &label("y"));
    let shown = e.to_string();
    let prefix =
        format!("{}:2: column 'original_firstorder_Mean': 'x1' is not a number", path.display());
    assert!(shown.starts_with(&prefix), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// Prediction tables and Dataset helpers
// ---------------------------------------------------------------------------------------------

#[test]
fn unlabelled_with_required_columns() {
    let path = temp_csv(
        "new.csv",
        b"PatientID,original_glcm_Idm,original_firstorder_Mean,age\nN1,0.5,10,70\nN2,0.6,20,71\n",
    );
    let req: Vec<String> =
        vec!["original_firstorder_Mean".into(), "age".into(), "original_glcm_Idm".into()];
    let (ids, x, names) =
        data::load_unlabelled(&path, &LoadOptions::default(), Some(&req)).unwrap();
    assert_eq!(ids, ["N1", "N2"]);
    assert_eq!(names, req);
    assert_eq!(x.row(0), &[10.0, 70.0, 0.5]);

    let req: Vec<String> =
        vec!["original_firstorder_Mean".into(), "wavelet-LLH_glcm_Idm".into(), "x".into()];
    let e = data::load_unlabelled(&path, &LoadOptions::default(), Some(&req)).unwrap_err();
    assert_located(&e, ErrorKind::Input, &path, Some(1), None);
    assert!(e.message().contains("2 of the 3 required feature columns are missing"), "{e}");
    assert!(e.message().contains("'wavelet-LLH_glcm_Idm', 'x'"), "{e}");
}

#[test]
fn dataset_selection_helpers() {
    let path = bundled("semicolon.csv");
    let (ds, _) = data::load(&path, &label("advanced")).unwrap();
    assert_eq!((ds.n(), ds.d()), (3, 2));
    assert_eq!(ds.feature_index("original_glcm_Contrast"), Some(1));

    let f = ds.select_features(&[1]);
    assert_eq!(f.names, ["original_glcm_Contrast"]);
    assert_eq!(f.x.as_slice(), &[2.0, 0.04, 1.0]);
    assert_eq!(f.y, ds.y);

    let r = ds.select_rows(&[2, 0, 2]);
    assert_eq!(r.ids, ["P3", "P1", "P3"]);
    assert_eq!(r.y, [1, 0, 1]);
    assert_eq!(r.class_counts(), [1, 2]);
    assert_eq!(r.x.row(1), &[1.5, 2.0]);
}
