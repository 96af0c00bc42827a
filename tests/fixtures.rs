//! Guards the bundled fixture tables: the synthetic table is exactly what its generator makes,
//! and the WDBC table is a faithful conversion of scikit-learn's copy.

use std::collections::HashSet;
use std::path::Path;

// The generator is an example (so it runs with `cargo run --example`); include its source to
// call `generate` here. `main` and the report helpers are unused in this crate.
#[allow(dead_code)]
#[path = "../examples/make_synthetic.rs"]
mod make_synthetic;

const SYNTHETIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/synthetic");
const WDBC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/wdbc/wdbc.csv");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines().map(|l| l.split(',').collect()).collect()
}

#[test]
fn synthetic_table_is_what_the_generator_makes() {
    let (table, truth) = make_synthetic::generate();
    // Compare without printing 400 kB on failure.
    assert!(table == read(&format!("{SYNTHETIC}/radiomics_synthetic.csv")), "table differs");
    assert!(truth == read(&format!("{SYNTHETIC}/truth.csv")), "truth.csv differs");
}

#[test]
fn synthetic_table_has_the_documented_shape() {
    let text = read(&format!("{SYNTHETIC}/radiomics_synthetic.csv"));
    let rows = rows(&text);
    let header = &rows[0];
    assert_eq!(&header[..2], ["PatientID", "stage"]);
    let features = &header[2..];
    assert_eq!(features.len(), 106);
    let classes = ["shape", "firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm"];
    for name in features {
        let parts: Vec<&str> = name.splitn(3, '_').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "original"
                && classes.contains(&parts[1])
                && parts[2].chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && parts[2].chars().all(|c| c.is_ascii_alphanumeric()),
            "{name} is not an original_<class>_<Feature> name"
        );
    }
    assert_eq!(features.iter().collect::<HashSet<_>>().len(), 106, "duplicate names");

    let body = &rows[1..];
    assert_eq!(body.len(), 420);
    for (i, row) in body.iter().enumerate() {
        assert_eq!(row.len(), 108, "row {}", i + 1);
        assert_eq!(row[0], format!("SYN-{:03}", i + 1));
        for value in &row[2..] {
            assert!(value.parse::<f64>().is_ok_and(f64::is_finite), "row {}: {value}", i + 1);
        }
    }
    let early = body.iter().filter(|r| r[1] == "0").count();
    let advanced = body.iter().filter(|r| r[1] == "1").count();
    assert_eq!((early, advanced), (140, 280));
}

#[test]
fn synthetic_feature_names_are_real_pyradiomics_names() {
    let dir = format!("{SHARED}/pyradiomics-testdata/baseline");
    if !Path::new(&dir).exists() {
        eprintln!("note: {dir} is absent; skipping the check against PyRadiomics' baselines");
        return;
    }
    let mut known = HashSet::new();
    for class in ["firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm", "shape"] {
        for line in read(&format!("{dir}/baseline_{class}.csv")).lines() {
            known.insert(line.split(',').next().unwrap().to_string());
        }
    }
    let text = read(&format!("{SYNTHETIC}/radiomics_synthetic.csv"));
    for name in text.lines().next().unwrap().split(',').skip(2) {
        assert!(known.contains(name), "{name} is not in PyRadiomics' baselines");
    }
}

#[test]
fn truth_describes_every_feature() {
    let table = read(&format!("{SYNTHETIC}/radiomics_synthetic.csv"));
    let header: Vec<&str> = table.lines().next().unwrap().split(',').skip(2).collect();
    let truth = read(&format!("{SYNTHETIC}/truth.csv"));
    let mut lines = truth.lines();
    assert_eq!(lines.next(), Some("feature,role,detail"));
    let entries: Vec<(&str, &str)> = lines
        .map(|l| {
            let mut parts = l.splitn(3, ',');
            (parts.next().unwrap(), parts.next().unwrap())
        })
        .collect();
    let names: Vec<&str> = entries.iter().map(|(f, _)| *f).collect();
    assert_eq!(names, header, "truth.csv lists the table's features in order");

    let count = |role: &str| entries.iter().filter(|(_, r)| *r == role).count();
    assert_eq!(count("informative-linear"), 5);
    assert_eq!(count("informative-interaction"), 2);
    assert_eq!(count("informative-nonmonotone"), 1);
    for (feature, role) in &entries {
        if let Some(of) = role.strip_prefix("redundant-of-") {
            let target = entries.iter().find(|(f, _)| f == &of);
            assert!(
                target.is_some_and(|(_, r)| r.starts_with("informative-")),
                "{feature} is redundant of {of}, which is not an informative feature"
            );
        } else {
            assert!(
                ["informative-linear", "informative-interaction", "informative-nonmonotone"]
                    .contains(role)
                    || *role == "noise",
                "{feature} has unknown role {role}"
            );
        }
    }
}

#[test]
fn wdbc_table_has_the_documented_shape() {
    let text = read(WDBC);
    let rows = rows(&text);
    let header = &rows[0];
    assert_eq!(header.len(), 33);
    assert_eq!(&header[..5], ["id", "diagnosis", "malignant", "mean_radius", "mean_texture"]);
    assert_eq!(header[13], "radius_error");
    assert_eq!(header[32], "worst_fractal_dimension");

    let body = &rows[1..];
    assert_eq!(body.len(), 569);
    let mut malignant = 0;
    for (i, row) in body.iter().enumerate() {
        assert_eq!(row.len(), 33, "row {}", i + 1);
        assert_eq!(row[0], format!("wdbc-{:03}", i + 1));
        match (row[1], row[2]) {
            ("malignant", "1") => malignant += 1,
            ("benign", "0") => {}
            other => panic!("row {}: inconsistent label {other:?}", i + 1),
        }
        for value in &row[3..] {
            assert!(value.parse::<f64>().is_ok(), "row {}: {value}", i + 1);
        }
    }
    assert_eq!((malignant, body.len() - malignant), (212, 357));
}

#[test]
fn wdbc_values_equal_the_source_file() {
    let source = format!("{SHARED}/wdbc-sklearn/breast_cancer.csv");
    if !Path::new(&source).exists() {
        eprintln!("note: {source} is absent; skipping the comparison with the source");
        return;
    }
    let source = read(&source);
    let source = rows(&source);
    assert_eq!(source[0], ["569", "30", "malignant", "benign"]);
    let ours = read(WDBC);
    let ours = rows(&ours);
    assert_eq!(ours.len(), source.len());
    for (i, (mine, theirs)) in ours[1..].iter().zip(&source[1..]).enumerate() {
        assert_eq!(mine[3..], theirs[..30], "row {}", i + 1);
        // Source target: 0 = malignant, 1 = benign.
        let malignant = if theirs[30] == "0" { "1" } else { "0" };
        assert_eq!(mine[2], malignant, "row {}", i + 1);
    }
}
