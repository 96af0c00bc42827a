//! Tests for the hand-written JSON library and SHA-256: round trips, the error cases a strict
//! parser must refuse (with where), and the NIST test vectors.

use glrfe::ErrorKind;
use glrfe::json::{self, Value};
use glrfe::sha256::{Sha256, file_sha256_hex, hex, sha256_hex};
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Asserts that `text` is refused, with a message containing `line L, column C` and `what`.
fn assert_rejected(text: &str, line: usize, column: usize, what: &str) {
    let err = json::parse(text).expect_err(text);
    assert_eq!(err.kind(), ErrorKind::Input);
    let msg = err.message();
    assert!(msg.contains(&format!("line {line}, column {column}:")), "{text:?}: {msg}");
    assert!(msg.contains(what), "{text:?}: {msg}");
}

#[test]
fn tricky_floats_round_trip_bit_for_bit() {
    let xs = [
        0.1,
        1e-300,
        5e-324, // smallest subnormal
        -0.0,
        0.0,
        1.7976931348623157e308, // f64::MAX
        123456789012345680.0,
        2.2250738585072014e-308, // smallest normal
        1.0 / 3.0,
        -2.5,
        1e16,
        9007199254740993.0, // 2^53 + 1 rounds to 2^53
        0.00001,
        0.000009999999999999999,
        std::f64::consts::PI,
    ];
    let v = Value::from(xs.to_vec());
    for text in [v.to_pretty(), v.to_compact()] {
        let back = json::parse(&text).unwrap();
        let back: Vec<u64> =
            back.as_array().unwrap().iter().map(|x| x.as_f64().unwrap().to_bits()).collect();
        let want: Vec<u64> = xs.iter().map(|x| x.to_bits()).collect();
        assert_eq!(back, want, "{text}");
    }
}

#[test]
fn numbers_are_written_compactly() {
    let cases = [
        (1.0, "1"),
        (-0.0, "-0"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (1e-300, "1e-300"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
        (123456789012345680.0, "1.2345678901234568e17"),
        (1234567.0, "1234567"),
        (0.00001, "0.00001"),
        (f64::NAN, "null"),
        (f64::INFINITY, "null"),
    ];
    for (x, want) in cases {
        assert_eq!(Value::from(x).to_compact(), want);
    }
}

#[test]
fn pretty_output_is_exact() {
    let v = Value::object()
        .field("format", "glrfe-model")
        .field("version", 1usize)
        .field("weights", vec![Value::from(vec![1.0, 2.5, -3.0]), Value::from(vec![0.5, 0.0])])
        .field("empty", Vec::<Value>::new())
        .field("nested", Value::object().field("ok", true).field("none", Value::Null))
        .field("names", vec!["a".to_string(), "b\"c".to_string()])
        .build();
    let want = r#"{
  "format": "glrfe-model",
  "version": 1,
  "weights": [
    [1, 2.5, -3],
    [0.5, 0]
  ],
  "empty": [],
  "nested": {
    "ok": true,
    "none": null
  },
  "names": [
    "a",
    "b\"c"
  ]
}
"#;
    assert_eq!(v.to_pretty(), want);
    assert_eq!(
        v.to_compact(),
        r#"{"format":"glrfe-model","version":1,"weights":[[1,2.5,-3],[0.5,0]],"empty":[],"#
            .to_string()
            + r#""nested":{"ok":true,"none":null},"names":["a","b\"c"]}"#
    );
    assert_eq!(json::parse(&v.to_pretty()).unwrap(), v);
    assert_eq!(json::parse(&v.to_compact()).unwrap(), v);
}

#[test]
fn long_number_arrays_are_packed_within_the_width() {
    let row: Vec<f64> = (0..106).map(|i| f64::from(i) * 0.123456789).collect();
    let v = Value::object().field("w", vec![Value::from(row.clone())]).build();
    let text = v.to_pretty();
    assert!(text.lines().all(|l| l.len() <= 100), "{text}");
    assert!(text.lines().count() < 30, "{text}");
    let back = json::parse(&text).unwrap();
    let got: Vec<f64> = back.get("w").unwrap().as_array().unwrap()[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(got, row);
}

#[test]
fn strings_escape_and_unescape() {
    let s = "quote \" backslash \\ slash / newline \n tab \t cr \r bell \u{7} nul \u{0} \
             unicode é ∑ 😀 \u{1F}";
    let v = Value::from(s);
    let text = v.to_compact();
    assert!(text.contains("\\u0007") && text.contains("\\u0000") && text.contains("😀"));
    assert_eq!(json::parse(&text).unwrap().as_str(), Some(s));

    let parsed = json::parse(r#""\"\\\/\b\f\n\r\t\u00e9\u2211\ud83d\ude00\u0041""#).unwrap();
    assert_eq!(parsed.as_str(), Some("\"\\/\u{8}\u{C}\n\r\té∑😀A"));
    assert_eq!(json::parse("\"caf\u{e9} \u{2211}\"").unwrap().as_str(), Some("café ∑"));
    assert_eq!(json::parse(r#""\uD834\uDD1E""#).unwrap().as_str(), Some("𝄞"));
}

#[test]
fn nested_values_parse_with_whitespace() {
    let text = " \t\r\n{ \"a\" : [ 1 , { \"b\" : [ ] , \"c\" : { } } , null , true , false ] ,\n \
                \"d\" : -1.5E+2 , \"e\" : 0e0 , \"f\" : 12.5e-1 } \n";
    let v = json::parse(text).unwrap();
    let a = v.get("a").unwrap().as_array().unwrap();
    assert_eq!(a[0].as_usize(), Some(1));
    assert_eq!(a[1].get("b").unwrap().as_array(), Some(&[][..]));
    assert_eq!(a[1].get("c").unwrap().as_object(), Some(&[][..]));
    assert_eq!(a[2], Value::Null);
    assert_eq!(a[3].as_bool(), Some(true));
    assert_eq!(a[4].as_bool(), Some(false));
    assert_eq!(v.get("d").unwrap().as_f64(), Some(-150.0));
    assert_eq!(v.get("e").unwrap().as_f64(), Some(0.0));
    assert_eq!(v.get("f").unwrap().as_f64(), Some(1.25));
    assert_eq!(v.get("missing"), None);
    assert_eq!(a[0].get("a"), None);

    // Objects keep their order through a round trip.
    let ordered = json::parse(r#"{"z":1,"a":2,"m":3}"#).unwrap();
    let keys: Vec<&str> = ordered.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["z", "a", "m"]);

    // Top-level scalars are JSON texts too.
    assert_eq!(json::parse("42").unwrap().as_usize(), Some(42));
    assert_eq!(json::parse("\"x\"").unwrap().as_str(), Some("x"));
}

#[test]
fn accessors_check_types_and_ranges() {
    assert_eq!(Value::from(3.0).as_usize(), Some(3));
    assert_eq!(Value::from(-0.0).as_usize(), Some(0));
    assert_eq!(Value::from(-1.0).as_usize(), None);
    assert_eq!(Value::from(2.5).as_usize(), None);
    assert_eq!(Value::from(1.8446744073709552e19).as_usize(), None);
    assert_eq!(Value::from(f64::NAN).as_usize(), None);
    assert_eq!(Value::from("3").as_usize(), None);
    assert_eq!(Value::from(true).as_f64(), None);
    assert_eq!(Value::from(7u64), Value::Number(7.0));
    assert_eq!(Value::from(-7i64), Value::Number(-7.0));
    assert_eq!(Value::from(String::from("s")).as_str(), Some("s"));
}

#[test]
#[should_panic(expected = "already has a field")]
fn builder_refuses_duplicate_keys() {
    let _ = Value::object().field("a", 1.0).field("a", 2.0);
}

#[test]
fn malformed_inputs_are_refused_with_line_and_column() {
    assert_rejected("[1, 2,]", 1, 7, "trailing comma");
    assert_rejected("{\n  \"a\": 1,\n}", 3, 1, "trailing comma");
    assert_rejected("\"abc", 1, 1, "not closed");
    assert_rejected("[\"ok\",\n \"abc", 2, 2, "not closed");
    assert_rejected(r#""a\qb""#, 1, 3, "invalid escape");
    assert_rejected(r#""\u12G4""#, 1, 6, "four hex digits");
    assert_rejected("01", 1, 1, "leading zeros");
    assert_rejected("[-01]", 1, 2, "leading zeros");
    assert_rejected(r#""\ud800""#, 1, 2, "high surrogate");
    assert_rejected(r#""\ud800\u0041""#, 1, 2, "high surrogate");
    assert_rejected(r#""x\udc00""#, 1, 3, "low surrogate");
    assert_rejected("{\"a\": 1, \"a\": 2}", 1, 10, "duplicate key \"a\"");
    assert_rejected("", 1, 1, "expected a value, found end of input");
    assert_rejected("   ", 1, 4, "end of input");
    assert_rejected("[1 2]", 1, 4, "expected ',' or ']'");
    assert_rejected("{\"a\" 1}", 1, 6, "expected ':'");
    assert_rejected("{a: 1}", 1, 2, "string key");
    assert_rejected("[1] [2]", 1, 5, "after the JSON value");
    assert_rejected("tru", 1, 1, "expected a value");
    assert_rejected("nul", 1, 1, "expected a value");
    assert_rejected("[.5]", 1, 2, "expected a value");
    assert_rejected("+1", 1, 1, "expected a value");
    assert_rejected("1.", 1, 3, "after the decimal point");
    assert_rejected("1e", 1, 3, "exponent");
    assert_rejected("-", 1, 2, "a digit");
    assert_rejected("1e400", 1, 1, "out of the range");
    assert_rejected("\"tab\there\"", 1, 5, "control character U+0009");
    assert_rejected("// comment\n1", 1, 1, "expected a value");
    assert_rejected("'single'", 1, 1, "expected a value");
    assert_rejected("\u{FEFF}1", 1, 1, "U+FEFF");
    assert_rejected("NaN", 1, 1, "expected a value");
    // Columns count characters, not bytes.
    assert_rejected("[\"é∑\", x]", 1, 8, "expected a value, found 'x'");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let ok = "[".repeat(json::MAX_DEPTH) + &"]".repeat(json::MAX_DEPTH);
    assert!(json::parse(&ok).is_ok());
    let too_deep = "[".repeat(json::MAX_DEPTH + 1) + &"]".repeat(json::MAX_DEPTH + 1);
    assert_rejected(&too_deep, 1, json::MAX_DEPTH + 1, "nested more than 128 deep");
    assert_rejected(&"[".repeat(10_000), 1, 129, "nested more than");
    assert_rejected(&"{\"a\":".repeat(10_000), 1, 5 * 128 + 1, "nested more than");
}

#[test]
fn parser_survives_arbitrary_bytes() {
    // A cheap stand-in for fuzzing: mutate valid documents and check only that the parser
    // returns (Ok or Err) rather than panicking, and that whatever it accepts round-trips.
    let seeds = [
        r#"{"a": [1, -2.5e-3, true, null, "x\u00e9\ud83d\ude00"], "b": {"c": []}}"#,
        "[[[[0.1]]], {\"k\": \"\\n\"}]",
    ];
    let alphabet = b"{}[]\",:\\u0123456789abcdefeE+-. \ntrn";
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in seeds {
        for _ in 0..3000 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..(1 + next() % 4) {
                let i = (next() as usize) % bytes.len();
                let c = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 => bytes[i] = c,
                    1 => bytes.insert(i, c),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            let Ok(text) = String::from_utf8(bytes) else { continue };
            if let Ok(v) = json::parse(&text) {
                assert_eq!(json::parse(&v.to_compact()).unwrap(), v, "{text}");
                assert_eq!(json::parse(&v.to_pretty()).unwrap(), v, "{text}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SHA-256
// ---------------------------------------------------------------------------------------------

#[test]
fn sha256_matches_nist_vectors() {
    assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    let mut h = Sha256::new();
    let chunk = [b'a'; 1000];
    for _ in 0..1000 {
        h.update(&chunk);
    }
    assert_eq!(
        hex(&h.finalize()),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

#[test]
fn split_updates_equal_one_shot() {
    // Lengths around the 55/56/64-byte padding boundaries, split at every awkward place.
    let message: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
    for len in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 129, 300] {
        let whole = sha256_hex(&message[..len]);
        for split in [0, 1, 3, 55, 56, 63, 64, 65, 127, 128] {
            let split = split.min(len);
            let mut h = Sha256::new();
            h.update(&message[..split]);
            h.update(&[]);
            h.update(&message[split..len]);
            assert_eq!(hex(&h.finalize()), whole, "len {len} split {split}");
        }
        let mut h = Sha256::new();
        for b in &message[..len] {
            h.update(std::slice::from_ref(b));
        }
        assert_eq!(hex(&h.finalize()), whole, "len {len} byte by byte");
    }
}

#[test]
fn hex_spells_bytes_in_lower_case() {
    assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    assert_eq!(hex(&[]), "");
}

#[test]
fn wdbc_source_file_matches_its_provenance_hash() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/wdbc-sklearn/breast_cancer.csv"
    ));
    if !path.exists() {
        eprintln!("note: {} is absent; skipping the WDBC hash check", path.display());
        return;
    }
    assert_eq!(
        file_sha256_hex(path).unwrap(),
        "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed"
    );
    assert_eq!(file_sha256_hex(path).unwrap(), sha256_hex(&std::fs::read(path).unwrap()));
}

#[test]
fn file_hash_reports_missing_files() {
    assert!(file_sha256_hex(Path::new("/nonexistent/glrfe/none.csv")).is_err());
}
