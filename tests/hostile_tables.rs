//! Hostile feature tables: every malformed input gets a correct reading or an error naming
//! file, line and column; missing-value policies; median imputation fitted on training rows;
//! constant columns; streaming memory; huge cells; seeded property tests; fuzz regressions.

use std::fs;
use std::path::{Path, PathBuf};

use glrfe::ErrorKind;
use glrfe::data::{self, LoadOptions, Missing};
use glrfe::matrix::Matrix;
use glrfe::preprocess::Scaler;
use glrfe::rng::Stream;

mod common;
use common::{assert_located, load_err};

/// Write `bytes` to a fresh file in this test binary's scratch folder.
fn temp_csv(name: &str, bytes: &[u8]) -> PathBuf {
    common::temp_csv("hostile_tables", name, bytes)
}

fn label(l: &str) -> LoadOptions {
    LoadOptions {
        label: Some(l.to_string()),
        features: Some(vec!["f*".into()]),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Delimiters, quoting, line ends, numbers
// ---------------------------------------------------------------------------------------------

#[test]
fn tab_and_semicolon_are_detected_and_delimiter_can_be_forced() {
    let tab = temp_csv("tab.csv", b"PatientID\tf1\tf2\ty\nA\t1\t2\t0\nB\t3\t4\t1\n");
    let (d, _) = data::load(&tab, &label("y")).unwrap();
    assert_eq!(d.x.as_slice(), &[1.0, 2.0, 3.0, 4.0]);

    // A header with one ';' and two ',' inside quotes is still ';'-delimited.
    let semi = temp_csv("semi.csv", b"PatientID;\"f1, a, b\";y\nA;1;0\nB;2;1\n");
    let (d, _) = data::load(&semi, &label("y")).unwrap();
    assert_eq!(d.names, ["f1, a, b"]);

    // Forcing ',' on a ';' table makes one column of each line: the label is not found.
    let forced = LoadOptions { delimiter: Some(b','), ..label("y") };
    let e = load_err(&semi, &forced);
    assert!(e.message().contains("label column not found"), "{e}");
    // A comma table whose header has more ';' than ',' is detected wrongly; --delimiter fixes it.
    let odd = temp_csv("odd_header.csv", b"PatientID,f;1;a,f;2;x,y\nA,1,2,0\nB,3,4,1\n");
    assert!(data::load(&odd, &label("y")).is_err());
    let (d, _) = data::load(&odd, &LoadOptions { delimiter: Some(b','), ..label("y") }).unwrap();
    assert_eq!(d.names, ["f;1;a", "f;2;x"]);
}

#[test]
fn quoted_fields_delimiters_quotes_and_line_breaks() {
    let text =
        b"PatientID,\"f \"\"q\"\"\",y\n\"A,1\",\"1.5\",0\n\"B\nsecond line\", \"2\" ,1\nC,3,1\n";
    let path = temp_csv("quoted.csv", text);
    let (d, s) = data::load(&path, &label("y")).unwrap();
    assert_eq!(d.names, ["f \"q\""]);
    assert_eq!(d.ids, ["A,1", "B\nsecond line", "C"]);
    assert_eq!(d.x.as_slice(), &[1.5, 2.0, 3.0]);
    assert_eq!(s.rows_read, 3);

    // The row after a two-line row starts on line 5: a ragged row there is reported on line 5.
    let ragged = temp_csv("quoted_ragged.csv", b"PatientID,f1,y\nA,1,0\n\"B\nb\",2,1\nC,3\n");
    let e = load_err(&ragged, &label("y"));
    assert_located(&e, ErrorKind::Input, &ragged, Some(5), None);
}

#[test]
fn broken_quoting_is_located() {
    let open = temp_csv("unclosed.csv", b"PatientID,f1,y\nA,1,0\nB,\"2,1\nC,3,1\n");
    let e = load_err(&open, &label("y"));
    assert_located(&e, ErrorKind::Input, &open, Some(3), None);
    assert!(e.message().contains("never closed"), "{e}");

    let after = temp_csv("after_quote.csv", b"PatientID,f1,y\nA,1,0\nB,\"2\"x,1\n");
    let e = load_err(&after, &label("y"));
    assert_located(&e, ErrorKind::Input, &after, Some(3), None);
    assert!(e.message().contains("after the closing quote"), "{e}");
    assert!(e.message().contains("character 6"), "{e}");

    // A quote inside an unquoted field is an ordinary character.
    let inch = temp_csv("inch.csv", b"PatientID,f1,y\nA 5\",1,0\nB,2,1\n");
    assert_eq!(data::load(&inch, &label("y")).unwrap().0.ids, ["A 5\"", "B"]);

    // Old Mac line ends are refused, not read as one long row.
    let cr = temp_csv("cr.csv", b"PatientID,f1,y\rA,1,0\rB,2,1\r");
    let e = load_err(&cr, &label("y"));
    assert_located(&e, ErrorKind::Input, &cr, Some(1), None);
    assert!(e.message().contains("carriage return"), "{e}");
}

#[test]
fn bom_crlf_and_blank_lines() {
    let path = temp_csv(
        "bom_crlf_quoted.csv",
        b"\xef\xbb\xbf\"PatientID\",f1,y\r\n\r\nA,\"1\r\n\",0\r\n  \r\nB,2,1\r\nC,x,1\r\n",
    );
    let e = load_err(&path, &label("y"));
    // Line 7: blank lines and the line break inside quotes all count.
    assert_located(&e, ErrorKind::Input, &path, Some(7), Some("f1"));
    let path = temp_csv("bom_crlf_ok.csv", b"\xef\xbb\xbf\"PatientID\",f1,y\r\nA,1,0\r\nB,2,1\r\n");
    let (d, _) = data::load(&path, &label("y")).unwrap();
    assert_eq!(d.ids, ["A", "B"]);
}

#[test]
fn scientific_notation_and_decimal_commas() {
    let path = temp_csv("sci.csv", b"PatientID,f1,f2,y\nA,1e-3,-2.5E+02,0\nB,.5,7E0,1\n");
    let (d, _) = data::load(&path, &label("y")).unwrap();
    assert_eq!(d.x.as_slice(), &[1e-3, -250.0, 0.5, 7.0]);

    // European export: ';' delimiter, ',' decimal mark, exponents too.
    let path = temp_csv("euro.csv", b"PatientID;f1;f2;y\nA;1,5;-2,5e-3;0\nB;3;0,25;1\n");
    let (d, _) = data::load(&path, &label("y")).unwrap();
    assert_eq!(d.x.as_slice(), &[1.5, -2.5e-3, 3.0, 0.25]);

    // A decimal comma quoted in a ',' table is an error that says what it is.
    let path = temp_csv("comma_in_comma.csv", b"PatientID,f1,y\nA,\"1,5\",0\nB,2,1\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(2), Some("f1"));
    assert!(e.message().contains("decimal comma"), "{e}");

    // Thousands points with a decimal comma are refused rather than guessed.
    let path = temp_csv("thousands.csv", b"PatientID;f1;y\nA;1.234,5;0\nB;2;1\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(2), Some("f1"));
}

#[test]
fn non_utf8_names_line_and_column() {
    let path = temp_csv("latin1_cell.csv", b"PatientID,f1,y\nA,1,0\nB,2\xb5,1\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(3), None);
    assert!(e.message().contains("byte 0xB5 in column 'f1'"), "{e}");

    // The bytes of one character split by a delimiter: valid end to end, invalid per field.
    let path = temp_csv("split_char.csv", b"PatientID,f1,y\nA,1,0\nB\xef,\xbf,\xbb\n");
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(3), None);
    assert!(e.message().contains("UTF-8"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Missing values
// ---------------------------------------------------------------------------------------------

const HOLES: &[u8] = b"PatientID,f1,f2,f3,y\n\
A,1,10,5,0\n\
B,nan,20,6,1\n\
C,3,,7,0\n\
D,4,40,inf,1\n\
E,5,50,9,1\n\
F,6,60,NA,0\n";

#[test]
fn missing_error_names_the_first_missing_cell_and_the_options() {
    let path = temp_csv("holes.csv", HOLES);
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(3), Some("f1"));
    assert!(e.message().contains("--missing drop-rows, drop-columns or median"), "{e}");
}

#[test]
fn missing_drop_rows_lists_every_dropped_row() {
    let path = temp_csv("holes_rows.csv", HOLES);
    let (d, s) =
        data::load(&path, &LoadOptions { missing: Missing::DropRows, ..label("y") }).unwrap();
    assert_eq!(d.ids, ["A", "E"]);
    assert_eq!(d.x.as_slice(), &[1.0, 10.0, 5.0, 5.0, 50.0, 9.0]);
    let reasons: Vec<(String, u64, String)> =
        s.left_out.iter().map(|l| (l.id.clone(), l.line, l.reason.clone())).collect();
    assert_eq!(
        reasons,
        [
            ("B".into(), 3, "missing value in column 'f1'".into()),
            ("C".into(), 4, "missing value in column 'f2'".into()),
            ("D".into(), 5, "missing value in column 'f3'".into()),
            ("F".into(), 7, "missing value in column 'f3'".into()),
        ]
    );
    // A non-number in a row that has a missing cell too is still an error.
    let bad = temp_csv("holes_bad.csv", b"PatientID,f1,f2,y\nA,1,2,0\nB,nan,x,1\nC,3,4,1\n");
    let e = load_err(&bad, &LoadOptions { missing: Missing::DropRows, ..label("y") });
    assert_located(&e, ErrorKind::Input, &bad, Some(3), Some("f2"));
}

#[test]
fn missing_drop_columns_lists_them() {
    let path =
        temp_csv("holes_cols.csv", b"PatientID,f1,f2,f3,y\nA,1,10,5,0\nB,2,,6,1\nC,3,30,NaN,1\n");
    let (d, s) =
        data::load(&path, &LoadOptions { missing: Missing::DropColumns, ..label("y") }).unwrap();
    assert_eq!(d.names, ["f1"]);
    assert_eq!(d.x.as_slice(), &[1.0, 2.0, 3.0]);
    let dropped: Vec<&str> = s.dropped_features.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(dropped, ["f2", "f3"]);
    assert!(s.dropped_features[0].1.contains("--missing drop-columns"));

    // Every column has a hole: nothing is left, which is a data error.
    let path = temp_csv("holes_all.csv", HOLES);
    let e = load_err(&path, &LoadOptions { missing: Missing::DropColumns, ..label("y") });
    assert_eq!(e.kind(), ErrorKind::Data);
    assert!(e.message().contains("no feature column is left"), "{e}");
}

#[test]
fn missing_median_keeps_nan_for_the_scaler() {
    let path = temp_csv("holes_median.csv", HOLES);
    let (d, s) =
        data::load(&path, &LoadOptions { missing: Missing::Median, ..label("y") }).unwrap();
    assert_eq!(d.n(), 6);
    assert_eq!(s.missing_cells, 4);
    assert!(s.describe().contains("4 missing cells will be imputed"));
    let nan_at: Vec<(usize, usize)> = (0..6)
        .flat_map(|i| (0..3).map(move |j| (i, j)))
        .filter(|&(i, j)| d.x.get(i, j).is_nan())
        .collect();
    assert_eq!(nan_at, [(1, 0), (2, 1), (3, 2), (5, 2)]);
}

#[test]
fn scaler_imputes_training_medians_never_test_statistics() {
    // Training column 0: 1, NaN, 3, 10 -> median of {1, 3, 10} = 3, imputed column 1, 3, 3, 10,
    // mean 17/4, population sd sqrt(((1-4.25)^2 + 2 (3-4.25)^2 + (10-4.25)^2) / 4).
    // Column 1: 2, 4, NaN, NaN -> median (2 + 4) / 2 = 3, imputed 2, 4, 3, 3.
    let nan = f64::NAN;
    let train =
        Matrix::from_rows(&[vec![1.0, 2.0], vec![nan, 4.0], vec![3.0, nan], vec![10.0, nan]]);
    let s = Scaler::fit(&train);
    assert_eq!(s.median, Some(vec![3.0, 3.0]));
    assert_eq!(s.mean, vec![17.0 / 4.0, 3.0]);
    let sd0 = ((3.25f64.powi(2) + 2.0 * 1.25f64.powi(2) + 5.75f64.powi(2)) / 4.0).sqrt();
    assert!((s.std[0] - sd0).abs() < 1e-15);
    assert!((s.std[1] - (0.5f64).sqrt()).abs() < 1e-15);

    // A test row's NaN becomes the training median (3), whatever the test rows hold.
    let test = Matrix::from_rows(&[vec![nan, 100.0], vec![1000.0, nan]]);
    let t = s.transform(&test);
    assert!((t.get(0, 0) - (3.0 - 4.25) / sd0).abs() < 1e-15);
    assert_eq!(t.get(1, 1), 0.0);
    assert!(t.as_slice().iter().all(|v| v.is_finite()));

    // A column without any training value: median 0, constant, mapped to 0 on training rows.
    let s = Scaler::fit(&Matrix::from_rows(&[vec![nan, 1.0], vec![nan, 2.0]]));
    assert_eq!(s.median, Some(vec![0.0, 1.5]));
    assert_eq!(s.zero_variance, vec![0]);
    let t = s.transform(&Matrix::from_rows(&[vec![nan, 1.0]]));
    assert_eq!(t.get(0, 0), 0.0);
}

#[test]
fn prepare_and_pipeline_fit_train_on_tables_with_missing_cells() {
    // Median imputation inside select::prepare and pipeline::fit: training runs (it refuses
    // non-finite input) and predictions on rows with missing cells are finite.
    let mut rows = Vec::new();
    let mut y = Vec::new();
    let mut rng = Stream::derive(7, "hostile-missing", &[]);
    for i in 0..40 {
        let c = i % 2;
        let mut r: Vec<f64> = (0..3).map(|_| rng.normal() + c as f64).collect();
        if i % 5 == 0 {
            r[i % 3] = f64::NAN;
        }
        rows.push(r);
        y.push(c);
    }
    let x = Matrix::from_rows(&rows);
    let mut rng = Stream::derive(7, "prep", &[]);
    let (scaler, xb, _, _) =
        glrfe::select::prepare(&x, &y, glrfe::select::Balance::None, &mut rng).unwrap();
    assert!(xb.as_slice().iter().all(|v| v.is_finite()));
    assert!(scaler.median.is_some());

    let cfg = glrfe::pipeline::PipelineConfig {
        classifier: Default::default(),
        balance: glrfe::select::Balance::Smote { k: 3 },
        selection: None,
        train: glrfe::nn::TrainConfig { hidden: vec![4], epochs: 3, ..Default::default() },
    };
    let fitted = glrfe::pipeline::fit(&x, &y, &[0, 1, 2], &cfg, 1, &[], None).unwrap();
    let p = fitted.predict_proba(&Matrix::from_rows(&[vec![f64::NAN, f64::NAN, f64::NAN]]));
    assert!(p[0].is_finite());
}

// ---------------------------------------------------------------------------------------------
// Labels, ids, constant columns
// ---------------------------------------------------------------------------------------------

#[test]
fn labels_with_stray_spaces_and_case_map_to_classes() {
    let path = temp_csv(
        "stages.csv",
        b"PatientID,f1, Overall.Stage \nA,1, iiia\nB,2,I \nC,3,IIIB\nD,4,  ii  \nE,5,IV\n",
    );
    let opts = LoadOptions {
        label: Some(" Overall.Stage ".into()),
        positive: vec![" IIIa".into(), "IIIb ".into()],
        negative: vec!["i".into(), "II".into()],
        ..label("y")
    };
    let (d, s) = data::load(&path, &opts).unwrap();
    assert_eq!(d.ids, ["A", "B", "C", "D"]);
    assert_eq!(d.y, [1, 0, 1, 0]);
    assert_eq!(s.left_out.len(), 1);
    assert!(s.left_out[0].reason.contains("'IV' not in --positive/--negative"));
}

#[test]
fn one_class_only_and_duplicate_ids_and_names() {
    let one = temp_csv("one_class.csv", b"PatientID,f1,y\nA,1,1\nB,2,1\n");
    let e = load_err(&one, &label("y"));
    assert_eq!(e.kind(), ErrorKind::Data);
    assert!(e.message().contains("fewer than two classes"), "{e}");

    let dup = temp_csv("dup_ids.csv", b"PatientID,f1,y\nA,1,0\nB,2,1\n A ,3,1\n");
    let e = load_err(&dup, &label("y"));
    assert_located(&e, ErrorKind::Input, &dup, Some(4), Some("PatientID"));

    let names = temp_csv("dup_names.csv", b"PatientID,f1, f1 ,y\nA,1,2,0\n");
    let e = load_err(&names, &label("y"));
    assert_located(&e, ErrorKind::Input, &names, Some(1), Some("f1"));
}

#[test]
fn constant_columns_are_dropped_with_a_warning() {
    let path = temp_csv(
        "constant.csv",
        b"PatientID,f1,f2,f3,y\nA,1,0.1,5,0\nB,2,0.1,,1\nC,3,0.1,5,0\nD,4,0.1,5,1\n",
    );
    let opts = LoadOptions { missing: Missing::Median, ..label("y") };
    let (d, s) = data::load(&path, &opts).unwrap();
    assert_eq!(d.names, ["f1"]);
    assert_eq!(d.x.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(
        s.dropped_features,
        [
            ("f2".to_string(), "constant: every value is 0.1".to_string()),
            ("f3".to_string(), "constant: every value is 5".to_string()),
        ]
    );
    assert_eq!(s.missing_cells, 0, "the missing cell was in a dropped column");
    let text = s.describe();
    assert!(text.contains("warning: dropped 2 feature columns"), "{text}");

    // Only constant columns: a data error naming them.
    let all = temp_csv("all_constant.csv", b"PatientID,f1,y\nA,1,0\nB,1,1\n");
    let e = load_err(&all, &label("y"));
    assert_eq!(e.kind(), ErrorKind::Data);
    assert!(e.message().contains("'f1' (constant: every value is 1)"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Size: streaming memory, huge cells
// ---------------------------------------------------------------------------------------------

/// A table of `rows` x `cols` features with ids and a label, written with `std::fmt`.
fn write_wide_table(path: &Path, rows: usize, cols: usize) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(fs::File::create(path).unwrap());
    write!(w, "PatientID").unwrap();
    for j in 0..cols {
        write!(w, ",f{j}").unwrap();
    }
    writeln!(w, ",y").unwrap();
    let mut rng = Stream::derive(3, "wide-table", &[]);
    for i in 0..rows {
        write!(w, "P{i:07}").unwrap();
        for _ in 0..cols {
            write!(w, ",{:.6}", rng.normal()).unwrap();
        }
        writeln!(w, ",{}", i % 2).unwrap();
    }
}

fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Run by `loading_streams_in_about_8_bytes_a_cell` in a child process: load the table named by
/// `GLRFE_MEMORY_TABLE` and print `rss_before_kib hwm_after_kib cells`.
#[test]
#[ignore = "helper run in a child process by loading_streams_in_about_8_bytes_a_cell"]
fn memory_child() {
    // Run alone (e.g. with --include-ignored) it has nothing to measure.
    let Ok(path) = std::env::var("GLRFE_MEMORY_TABLE") else { return };
    let before = status_kib("VmRSS:");
    let opts = LoadOptions {
        label: Some("y".into()),
        features: Some(vec!["f*".into()]),
        ..Default::default()
    };
    let (d, _) = data::load(Path::new(&path), &opts).unwrap();
    let after = status_kib("VmHWM:");
    println!("MEMORY {before} {after} {}", d.n() * d.d());
}

#[test]
fn loading_streams_in_about_8_bytes_a_cell() {
    // 20,000 x 100 = 2e6 cells: 16 MB as f64, 24 MB of text. Reading the whole text, or one
    // String a cell, would add at least 24 MB more than the matrix.
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile_tables").join("wide.csv");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_wide_table(&path, 20_000, 100);
    let text_bytes = fs::metadata(&path).unwrap().len();

    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "memory_child", "--nocapture", "--test-threads", "1"])
        .env("GLRFE_MEMORY_TABLE", &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest prints the test's name on the same line, before the output.
    let at = stdout.find("MEMORY ").unwrap_or_else(|| {
        panic!("child printed no MEMORY line: {stdout} {}", String::from_utf8_lossy(&out.stderr))
    });
    let v: Vec<u64> =
        stdout[at..].split_whitespace().skip(1).take(3).map(|t| t.parse().unwrap()).collect();
    let (before_kib, hwm_kib, cells) = (v[0], v[1], v[2]);
    assert_eq!(cells, 2_000_000);
    let grown = (hwm_kib.saturating_sub(before_kib)) * 1024;
    let matrix = 8 * cells;
    // The matrix, plus per row its id (twice: the list and the duplicate check) and label,
    // at most 200 bytes, plus a constant of 2 MB (buffers, one row of text).
    assert!(
        grown <= matrix + 200 * 20_000 + (2 << 20),
        "peak grew by {grown} bytes for a {matrix}-byte matrix from {text_bytes} bytes of text"
    );
    assert!(grown >= matrix / 2, "the measurement must see the matrix: {grown}");
    fs::remove_file(&path).unwrap();
}

#[test]
fn a_100_mb_cell_reads_or_fails_with_a_short_message() {
    let big = "7".repeat(100 << 20);
    // In a column that is not a feature: read (and ignored).
    let mut ok = b"PatientID,notes,f1,y\nA,".to_vec();
    ok.extend_from_slice(big.as_bytes());
    ok.extend_from_slice(b",1,0\nB,short,2,1\n");
    let note = temp_csv("huge_note.csv", &ok);
    drop(ok);
    let (d, s) = data::load(&note, &label("y")).unwrap();
    assert_eq!(d.x.as_slice(), &[1.0, 2.0]);
    assert_eq!(s.ignored_columns, ["PatientID", "notes", "y"]);
    fs::remove_file(&note).unwrap();

    // As a feature cell: 1e100000000 overflows; the message quotes only its start.
    let mut bad = b"PatientID,f1,y\nA,1,0\nB,".to_vec();
    bad.extend_from_slice(big.as_bytes());
    bad.extend_from_slice(b",1\n");
    let path = temp_csv("huge_cell.csv", &bad);
    drop(bad);
    let e = load_err(&path, &label("y"));
    assert_located(&e, ErrorKind::Input, &path, Some(3), Some("f1"));
    assert!(e.to_string().len() < 400, "{} bytes of message", e.to_string().len());
    fs::remove_file(&path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Property tests: seeded generated tables, valid and broken
// ---------------------------------------------------------------------------------------------

/// A generated table: its bytes, the values it encodes, and the line each data row starts on.
struct Generated {
    bytes: Vec<u8>,
    ids: Vec<String>,
    x: Vec<f64>,
    y: Vec<usize>,
    lines: Vec<u64>,
    cols: usize,
    delimiter: u8,
}

/// A valid table drawn from `rng`: random delimiter, line ends, BOM, quoting (with quotes and
/// line breaks inside ids), blank lines and number spellings.
fn generate(rng: &mut Stream) -> Generated {
    let delimiter = [b',', b';', b'\t'][rng.below(3)];
    let eol: &[u8] = if rng.below(2) == 0 { b"\n" } else { b"\r\n" };
    let rows = 4 + rng.below(12);
    let cols = 1 + rng.below(5);
    let d = delimiter as char;
    let mut bytes = Vec::new();
    if rng.below(4) == 0 {
        bytes.extend_from_slice(b"\xef\xbb\xbf");
    }
    let mut line = 1u64;
    let mut header = vec!["PatientID".to_string()];
    header.extend(
        (0..cols).map(|j| if rng.below(3) == 0 { format!("\"f{j}\"") } else { format!("f{j}") }),
    );
    header.push("y".into());
    bytes.extend_from_slice(header.join(&d.to_string()).as_bytes());
    bytes.extend_from_slice(eol);

    let (mut ids, mut x, mut y, mut lines) = (vec![], vec![], vec![], vec![]);
    for i in 0..rows {
        while rng.below(6) == 0 {
            line += 1;
            bytes.extend_from_slice(eol);
        }
        line += 1;
        lines.push(line);
        // Ids: plain, or quoted with the delimiter, a doubled quote or a line break inside.
        let (id, written) = match rng.below(4) {
            0 => (format!("P{i}"), format!("P{i}")),
            1 => (format!("P{i}{d}x"), format!("\"P{i}{d}x\"")),
            2 => (format!("P\"{i}\""), format!("\"P\"\"{i}\"\"\"")),
            _ => {
                line += 1;
                (format!("P{i}\nn"), format!("\"P{i}\nn\""))
            }
        };
        let mut fields = vec![written];
        for _ in 0..cols {
            let v = (rng.normal() * 1000.0).round() / 8.0;
            x.push(v);
            let text = match rng.below(4) {
                0 => format!("{v:e}"),
                1 if delimiter != b',' => format!("{v}").replace('.', ","),
                2 => format!("\" {v} \""),
                _ => format!("{v}"),
            };
            fields.push(text);
        }
        let c = if i < 2 { i } else { rng.below(2) };
        y.push(c);
        fields.push(c.to_string());
        bytes.extend_from_slice(fields.join(&d.to_string()).as_bytes());
        bytes.extend_from_slice(eol);
        ids.push(id);
    }
    Generated { bytes, ids, x, y, lines, cols, delimiter }
}

fn opts_for(g: &Generated) -> LoadOptions {
    // Detection is tested on its own; ids with delimiters in quotes could tip a header count
    // only if the header had them, and it does not, so both ways must agree.
    LoadOptions { delimiter: if g.cols > 2 { None } else { Some(g.delimiter) }, ..label("y") }
}

#[test]
fn property_generated_tables_read_back_exactly() {
    for case in 0..200 {
        let mut rng = Stream::derive(11, "generated-table", &[case]);
        let g = generate(&mut rng);
        let r = data::load_from_reader(&g.bytes[..], Path::new("gen.csv"), &opts_for(&g));
        let (d, _) = match r {
            Ok(v) => v,
            // Only a column that came out constant may be refused (then all of them were).
            Err(e) => panic!("case {case}: {e}\n{}", String::from_utf8_lossy(&g.bytes)),
        };
        assert_eq!(d.ids, g.ids, "case {case}");
        assert_eq!(d.y, g.y, "case {case}");
        if d.d() == g.cols {
            assert_eq!(d.x.as_slice(), &g.x[..], "case {case}");
        }
    }
}

#[test]
fn property_broken_tables_fail_on_the_right_line() {
    for case in 0..300 {
        let mut rng = Stream::derive(12, "broken-table", &[case]);
        let g = generate(&mut rng);
        let row = rng.below(g.ids.len());
        let line = g.lines[row];
        // The byte range of the generated row: from its first line to the next row's start.
        let text = String::from_utf8(g.bytes.clone()).unwrap();
        let start = line_offset(&text, line);
        let end =
            if row + 1 < g.lines.len() { line_offset(&text, g.lines[row + 1]) } else { text.len() };
        let row_text = &text[start..end];
        let d = g.delimiter as char;
        let kind = rng.below(4);
        let mut line = line;
        let broken = match kind {
            // One field fewer: drop the last delimiter and label.
            0 => {
                let cut = row_text.rfind(d).unwrap();
                let eol = if row_text.ends_with("\r\n") { "\r\n" } else { "\n" };
                format!("{}{}{eol}{}", &text[..start], &row_text[..cut], &text[end..])
            }
            // A word in the first feature cell.
            1 => {
                let new_row = replace_field(row_text, d, 1, "oops");
                format!("{}{new_row}{}", &text[..start], &text[end..])
            }
            // A quote that never closes, opened in the last field.
            2 => {
                let cut = row_text.rfind(d).unwrap();
                // The quote opens on the row's last line (an id may span two).
                line += row_text[..cut].matches('\n').count() as u64;
                format!(
                    "{}{}{d}\"1{}",
                    &text[..start],
                    &row_text[..cut],
                    &text[end..].replace('"', "")
                )
            }
            // A Latin-1 byte in the label.
            _ => {
                let cut = row_text.rfind(d).unwrap();
                let mut b = text.as_bytes()[..start + cut + 1].to_vec();
                b.push(0xE9);
                b.extend_from_slice(&text.as_bytes()[start + cut + 1..]);
                let e = data::load_from_reader(&b[..], Path::new("gen.csv"), &opts_for(&g))
                    .expect_err("latin-1 byte");
                assert_eq!(e.line(), Some(line), "case {case}: {e}");
                assert!(e.message().contains("UTF-8"), "case {case}: {e}");
                continue;
            }
        };
        let e = data::load_from_reader(broken.as_bytes(), Path::new("gen.csv"), &opts_for(&g))
            .expect_err("broken table");
        assert_eq!(e.kind(), ErrorKind::Input, "case {case} kind {kind}: {e}");
        assert_eq!(e.line(), Some(line), "case {case} kind {kind}: {e}\n{broken}");
        assert_eq!(e.file(), Some("gen.csv"));
    }
}

/// Byte offset of the start of 1-based `line` in `text`.
fn line_offset(text: &str, line: u64) -> usize {
    if line == 1 {
        return 0;
    }
    text.match_indices('\n').nth(line as usize - 2).map(|(i, _)| i + 1).unwrap()
}

/// `row` with its field `k` (counting unquoted delimiters) replaced by `with`.
fn replace_field(row: &str, d: char, k: usize, with: &str) -> String {
    let mut quoted = false;
    let mut field = 0;
    let (mut from, mut to) = (None, None);
    for (i, c) in row.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == d && !quoted {
            field += 1;
            if field == k {
                from = Some(i + 1);
            } else if field == k + 1 {
                to = Some(i);
                break;
            }
        }
    }
    let (from, to) = (from.unwrap(), to.unwrap());
    format!("{}{with}{}", &row[..from], &row[to..])
}

#[test]
fn property_mutated_bytes_never_panic() {
    let mut rng = Stream::derive(13, "mutated-table", &[]);
    for _ in 0..400 {
        let g = generate(&mut rng);
        let mut b = g.bytes.clone();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(b.len() + 1);
            match rng.below(4) {
                0 if at < b.len() => {
                    b.remove(at);
                }
                1 => {
                    b.insert(at, [b'"', b',', b';', b'\t', b'\n', b'\r', 0xFF, 0xC3][rng.below(8)])
                }
                2 if at < b.len() => b[at] = rng.bits() as u8,
                _ => b.truncate(at),
            }
        }
        for missing in [Missing::Error, Missing::DropRows, Missing::DropColumns, Missing::Median] {
            let opts = LoadOptions { missing, ..opts_for(&g) };
            if let Ok((d, _)) = data::load_from_reader(&b[..], Path::new("m.csv"), &opts) {
                assert_eq!(d.x.rows(), d.ids.len());
                assert_eq!(d.x.cols(), d.names.len());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzz regressions
// ---------------------------------------------------------------------------------------------

/// Every input under tests/data/fuzz/table_reader/ (crashes cargo-fuzz found, kept after the
/// fix) and the fuzz seeds, with the options the fuzz target derives from its first byte; see
/// fuzz/fuzz_targets/table_reader.rs.
#[test]
fn fuzz_regressions_are_errors_or_readings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = ["tests/data/fuzz/table_reader", "fuzz/seeds/table_reader"];
    let files = dirs.iter().filter_map(|d| fs::read_dir(root.join(d)).ok()).flatten();
    let mut n = 0;
    for entry in files {
        let bytes = fs::read(entry.unwrap().path()).unwrap();
        let Some((&pick, table)) = bytes.split_first() else { continue };
        let opts = data::fuzz::table_options(pick);
        let _ = data::load_from_reader(table, Path::new("fuzz.csv"), &opts);
        n += 1;
    }
    assert!(n >= 9, "the crash found and the seeds");
}
