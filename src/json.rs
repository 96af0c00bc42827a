//! JSON reading and writing, for result files and the saved model file.
//!
//! glrfe writes its reports and models as JSON and reads models back, and it keeps its
//! dependencies few enough to audit, so this module is a small hand-written JSON library rather
//! than `serde_json`. It owns the [`Value`] tree, a strict RFC 8259 parser ([`parse`]) and two
//! writers ([`Value::to_pretty`], [`Value::to_compact`]); what the values mean (the model's
//! shapes, the report's fields) is left to the modules that build and read them.
//!
//! Three properties matter more than speed here:
//!
//! - **Byte-stable output.** Objects are ordered lists of fields, kept in insertion order, so the
//!   same results always serialise to the same bytes (the reproducibility contract compares
//!   result files byte for byte).
//! - **Exact numbers.** Every finite `f64` is written with the shortest digits that read back to
//!   the same bits, so `parse(&v.to_pretty())` gives back `v` bit for bit, weights included.
//! - **Safe on any input.** The parser reports malformed input as an [`Error`] of kind `Input`
//!   naming the line and column, limits nesting to [`MAX_DEPTH`] instead of overflowing the
//!   stack, and does not panic.
//!
//! # Limitations
//!
//! - JSON has no NaN or infinity: non-finite numbers are written as `null`, so they do not
//!   survive a round trip. Callers that can produce them should check before writing.
//! - Numbers are `f64`: integers beyond 2^53 lose precision when converted into a [`Value`], and
//!   numbers whose magnitude overflows `f64` (such as `1e400`) are rejected by the parser rather
//!   than read as infinity.
//! - The parser builds the whole tree in memory; the files glrfe reads are small.

use crate::error::{Error, Result};
use std::collections::HashSet;
use std::fmt::Write as _;

/// The deepest nesting of arrays and objects [`parse`] accepts.
pub const MAX_DEPTH: usize = 128;

/// Lines the pretty writer tries to stay within when it packs arrays of numbers.
const PRETTY_WIDTH: usize = 100;

/// A JSON value.
///
/// An object is a list of `(key, value)` fields in insertion order; [`parse`] rejects duplicate
/// keys, so a parsed object never has two fields with one key.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Parse `text` as one JSON value (RFC 8259, strictly).
///
/// Rejected, each with an `Input` error whose message gives the 1-based line and column (in
/// characters): anything outside the grammar (trailing commas, comments, single quotes, leading
/// zeros such as `01`, a leading `+`, bare `.5`), control characters inside strings, unknown
/// escapes, unpaired UTF-16 surrogates in `\u` escapes, duplicate keys within one object,
/// nesting deeper than [`MAX_DEPTH`], numbers that overflow `f64`, and text after the value.
/// Whitespace around the value is allowed; a byte order mark is not.
///
/// The line and column are part of the message rather than set with `Error::at_line`, so that a
/// caller adding the file name with `Error::in_file` gets `model.json: invalid JSON at line 3,
/// column 7: ...` without the line appearing twice.
pub fn parse(text: &str) -> Result<Value> {
    let mut p = Parser { text, bytes: text.as_bytes(), pos: 0 };
    p.skip_whitespace();
    let value = p.value(0)?;
    p.skip_whitespace();
    if p.pos < p.bytes.len() {
        return Err(p.error_here(format!("unexpected {} after the JSON value", p.found())));
    }
    Ok(value)
}

/// A cursor over the input. `pos` is a byte offset; it only ever stops on ASCII bytes or at the
/// end, so slicing `text` at it is always on a character boundary.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    /// An `Input` error located at byte offset `pos`.
    fn error_at(&self, pos: usize, message: impl AsRef<str>) -> Error {
        let before = &self.bytes[..pos.min(self.bytes.len())];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Count characters, not bytes: every UTF-8 character has exactly one non-continuation
        // byte.
        let column = 1 + before[line_start..].iter().filter(|&&b| b & 0xC0 != 0x80).count();
        Error::input(format!("invalid JSON at line {line}, column {column}: {}", message.as_ref()))
    }

    fn error_here(&self, message: impl AsRef<str>) -> Error {
        self.error_at(self.pos, message)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// A description of what is at the cursor, for "expected X, found Y" messages.
    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            None => "end of input".to_string(),
            Some(c) if c.is_control() || c == '\u{FEFF}' => {
                format!("character U+{:04X}", u32::from(c))
            }
            Some(c) => format!("'{c}'"),
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// One value starting at the cursor (no leading whitespace). `depth` counts the arrays and
    /// objects already open around it.
    fn value(&mut self, depth: usize) -> Result<Value> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error_here(format!("expected a value, found {}", self.found()))),
        }
    }

    /// Refuse to open a container beyond the depth limit. Checked before recursing, so hostile
    /// input like ten thousand `[` costs an error, not the stack.
    fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self
                .error_here(format!("arrays and objects are nested more than {MAX_DEPTH} deep")));
        }
        Ok(())
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error_here(format!("expected a value, found {}", self.found())))
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value> {
        self.check_depth(depth)?;
        self.pos += 1; // '['
        self.skip_whitespace();
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        return Err(self.error_here("trailing comma before ']'"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => {
                    return Err(self.error_here(format!(
                        "expected ',' or ']' after an array element, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value> {
        self.check_depth(depth)?;
        self.pos += 1; // '{'
        self.skip_whitespace();
        let mut fields = Vec::new();
        let mut seen = HashSet::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(fields));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error_here(format!(
                    "expected a string key in double quotes, found {}",
                    self.found()
                )));
            }
            let key_pos = self.pos;
            let key = self.string()?;
            if !seen.insert(key.clone()) {
                return Err(self.error_at(key_pos, format!("duplicate key \"{key}\" in object")));
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error_here(format!(
                    "expected ':' after an object key, found {}",
                    self.found()
                )));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value(depth)?;
            fields.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        return Err(self.error_here("trailing comma before '}'"));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(fields));
                }
                _ => {
                    return Err(self.error_here(format!(
                        "expected ',' or '}}' after an object field, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    /// The digits `[0-9]+` at the cursor; `what` names them for the error if there are none.
    fn digits(&mut self, what: &str) -> Result<()> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error_here(format!("expected {what}, found {}", self.found())));
        }
        Ok(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, validated here and then
    /// converted by the standard library, which rounds correctly for any number of digits.
    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
            if let Some(b'0'..=b'9') = self.peek() {
                return Err(self.error_at(start, "numbers must not have leading zeros"));
            }
        } else {
            self.digits("a digit")?;
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits("a digit after the decimal point")?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits("a digit in the exponent")?;
        }

        let text = &self.text[start..self.pos];
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Number(x)),
            _ => Err(self.error_at(start, format!("number {text} is out of the range of f64"))),
        }
    }

    /// A string literal at the cursor (which is on its opening quote), unescaped.
    fn string(&mut self) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        // Bytes from `run` to the cursor are copied verbatim; the input is already valid UTF-8
        // and runs end only on ASCII bytes, so each run is whole characters.
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error_at(open, "string is not closed before end of input")),
                Some(b'"') => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.text[run..self.pos]);
                    out.push(self.escape(open)?);
                    run = self.pos;
                }
                Some(b) if b < 0x20 => {
                    return Err(self.error_here(format!(
                        "control character U+{b:04X} must be escaped inside a string"
                    )));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// One escape sequence at the cursor (on the backslash), as the character it stands for.
    fn escape(&mut self, open: usize) -> Result<char> {
        let start = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            None => return Err(self.error_at(open, "string is not closed before end of input")),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{C}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                return self.unicode_escape(start);
            }
            Some(_) => {
                return Err(self.error_at(
                    start,
                    format!("invalid escape: backslash followed by {}", self.found()),
                ));
            }
        };
        self.pos += 1;
        Ok(c)
    }

    /// The rest of a `\uXXXX` escape (cursor after the `u`), joining a UTF-16 surrogate pair
    /// written as two escapes; `start` is the backslash, for errors.
    fn unicode_escape(&mut self, start: usize) -> Result<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(self.error_at(
                        start,
                        format!("\\u{first:04X} is a high surrogate not followed by a low one"),
                    ));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error_at(
                        start,
                        format!("\\u{first:04X} is a high surrogate not followed by a low one"),
                    ));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(self.error_at(
                    start,
                    format!("\\u{first:04X} is a low surrogate without a high one before it"),
                ));
            }
            _ => first,
        };
        // Every value left is a Unicode scalar value, but keep the conversion checked.
        char::from_u32(code)
            .ok_or_else(|| self.error_at(start, format!("\\u escape {code:X} is not a character")))
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => {
                    return Err(self.error_here(format!(
                        "expected four hex digits after \\u, found {}",
                        self.found()
                    )));
                }
            };
            code = code * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(code)
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Append `x` as a JSON number: the shortest decimal that reads back to the same `f64`.
///
/// Magnitudes in [1e-5, 1e16) use plain notation (Rust's `{}`), so integral values print without
/// a fraction (`3`, not `3.0`) and weights read naturally; smaller and larger magnitudes use
/// exponent notation (Rust's `{:e}`, same shortest digits), so `1e-300` is not written as three
/// hundred digits. Zero keeps its sign (`-0`). Non-finite numbers have no JSON form and are
/// written as `null`.
fn write_number(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    let magnitude = x.abs();
    // Writing into a String cannot fail.
    if magnitude == 0.0 || (1e-5..1e16).contains(&magnitude) {
        let _ = write!(out, "{x}");
    } else {
        let _ = write!(out, "{x:e}");
    }
}

/// Append `s` as a JSON string literal. Non-ASCII characters are written as UTF-8, not escaped.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{C}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_compact(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(x) => write_number(out, *x),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, item);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_compact(out, item);
            }
            out.push('}');
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Append `value` pretty-printed; `indent` is the indentation of the line it starts on.
fn write_pretty(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) if items.iter().all(|v| matches!(v, Value::Number(_))) => {
            write_number_array(out, items, indent);
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                push_indent(out, indent + 2);
                write_pretty(out, item, indent + 2);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            push_indent(out, indent);
            out.push(']');
        }
        Value::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Value::Object(fields) => {
            out.push_str("{\n");
            for (i, (key, item)) in fields.iter().enumerate() {
                push_indent(out, indent + 2);
                write_string(out, key);
                out.push_str(": ");
                write_pretty(out, item, indent + 2);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            push_indent(out, indent);
            out.push('}');
        }
        scalar => write_compact(out, scalar),
    }
}

/// An array of numbers on one line, `[1, 2.5, 3]`, when that fits in [`PRETTY_WIDTH`]; a longer
/// one (a weight row of a hundred inputs) packed several numbers a line instead of one a line,
/// so a weight matrix stays a screenful rather than thousands of lines.
fn write_number_array(out: &mut String, items: &[Value], indent: usize) {
    let numbers: Vec<String> = items
        .iter()
        .map(|item| {
            let mut s = String::new();
            write_compact(&mut s, item);
            s
        })
        .collect();
    let inline_len =
        2 + numbers.iter().map(String::len).sum::<usize>() + 2 * numbers.len().saturating_sub(1);
    let column = out.len() - out.rfind('\n').map_or(0, |i| i + 1);
    if column + inline_len <= PRETTY_WIDTH {
        out.push('[');
        out.push_str(&numbers.join(", "));
        out.push(']');
        return;
    }

    out.push_str("[\n");
    push_indent(out, indent + 2);
    let mut line_len = indent + 2;
    for (i, number) in numbers.iter().enumerate() {
        if i > 0 {
            // Each number is followed by ',' and, unless it ends the line, a space.
            if line_len + 2 + number.len() + 1 > PRETTY_WIDTH {
                out.push_str(",\n");
                push_indent(out, indent + 2);
                line_len = indent + 2;
            } else {
                out.push_str(", ");
                line_len += 2;
            }
        }
        out.push_str(number);
        line_len += number.len();
    }
    out.push('\n');
    push_indent(out, indent);
    out.push(']');
}

impl Value {
    /// The value as indented JSON: two spaces a level, one field or element a line, arrays of
    /// numbers kept on one line (or packed, if long), and a final newline. Output depends only
    /// on the value, so equal values give equal bytes.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        write_pretty(&mut out, self, 0);
        out.push('\n');
        out
    }

    /// The value as JSON without any whitespace.
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        write_compact(&mut out, self);
        out
    }

    /// A builder for an object whose fields keep the order they are added in.
    pub fn object() -> ObjectBuilder {
        ObjectBuilder { fields: Vec::new() }
    }

    /// The field `key` of an object; `None` if absent or if this is not an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(x) => Some(*x),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as a `usize`, if it is integral, non-negative and fits.
    pub fn as_usize(&self) -> Option<usize> {
        let x = self.as_f64()?;
        // 2^64 is exactly representable; every f64 below it and integral fits in a u64.
        if x >= 0.0 && x.fract() == 0.0 && x < 18_446_744_073_709_551_616.0 {
            usize::try_from(x as u64).ok()
        } else {
            None
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(fields) => Some(fields),
            _ => None,
        }
    }
}

/// Builds a [`Value::Object`] field by field:
///
/// ```
/// use glrfe::json::Value;
/// let v = Value::object().field("auc", 0.91).field("selector", "glrfe").build();
/// assert_eq!(v.to_compact(), r#"{"auc":0.91,"selector":"glrfe"}"#);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ObjectBuilder {
    fields: Vec<(String, Value)>,
}

impl ObjectBuilder {
    /// Append the field `key`.
    ///
    /// # Panics
    ///
    /// If the object already has a field `key`: the output would have a duplicate key, which
    /// [`parse`] refuses, so it is a bug in the caller.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Value>) -> ObjectBuilder {
        let key = key.into();
        assert!(
            self.fields.iter().all(|(k, _)| *k != key),
            "json object already has a field \"{key}\""
        );
        self.fields.push((key, value.into()));
        self
    }

    pub fn build(self) -> Value {
        Value::Object(self.fields)
    }
}

impl From<ObjectBuilder> for Value {
    fn from(builder: ObjectBuilder) -> Value {
        builder.build()
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Number(x)
    }
}

/// Exact up to 2^53; larger counts are rounded to the nearest `f64`.
impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::Number(n as f64)
    }
}

/// Exact up to 2^53; larger values (such as a full 64-bit seed) are rounded, so write those as
/// strings.
impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(n as f64)
    }
}

/// Exact within ±2^53.
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n as f64)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<Vec<f64>> for Value {
    fn from(xs: Vec<f64>) -> Value {
        Value::Array(xs.into_iter().map(Value::Number).collect())
    }
}

impl From<Vec<String>> for Value {
    fn from(xs: Vec<String>) -> Value {
        Value::Array(xs.into_iter().map(Value::String).collect())
    }
}

impl From<Vec<Value>> for Value {
    fn from(xs: Vec<Value>) -> Value {
        Value::Array(xs)
    }
}
