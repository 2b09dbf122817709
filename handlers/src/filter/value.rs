//! Reading event values: field paths and the canonical text of scalars.

use std::fmt::{self, Write};

use serde_json::{Number, Value};

use crate::Event;

/// Canonical text of a scalar for equality and indexing: strings as they
/// are; numbers with an integral value as an integer (`"90"` for `90` and
/// `90.0`), other numbers by `f64` `Display` (never an exponent); booleans
/// `"true"`/`"false"`; `None` for null, arrays and objects.
pub fn canonical(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => {
            let mut out = String::new();
            write_number(n, &mut out).ok()?;
            Some(out)
        }
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The value at a field path. A top-level key that is exactly `field` wins
/// (text-line events may have dotted keys); otherwise dots descend into
/// objects, and a numeric segment indexes an array (`tags.0`).
pub fn lookup<'a>(event: &'a Event, field: &str) -> Option<&'a Value> {
    if let Some(v) = event.get(field) {
        return Some(v);
    }
    let (first, rest) = field.split_once('.')?;
    let mut current = event.get(first)?;
    for segment in rest.split('.') {
        current = match current {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Write the canonical text of a number.
fn write_number(n: &Number, w: &mut impl Write) -> fmt::Result {
    if let Some(i) = n.as_i64() {
        write!(w, "{i}")
    } else if let Some(u) = n.as_u64() {
        write!(w, "{u}")
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f == 0.0 {
            // Also -0.0, which must equal 0.
            w.write_str("0")
        } else if f.fract() == 0.0 {
            // Exact decimal expansion of an integral float, e.g. 1e20.
            write!(w, "{f:.0}")
        } else {
            write!(w, "{f}")
        }
    }
}

/// Is the scalar `v` loosely equal to the canonical text `key`? No allocation.
pub(crate) fn loose_eq(v: &Value, key: &str) -> bool {
    match v {
        Value::String(s) => s == key,
        Value::Bool(b) => key == if *b { "true" } else { "false" },
        Value::Number(n) => {
            let mut cmp = EqWriter {
                rest: key,
                equal: true,
            };
            write_number(n, &mut cmp).is_ok() && cmp.equal && cmp.rest.is_empty()
        }
        _ => false,
    }
}

/// Call `f` with the canonical text of a scalar (false for others). Numbers
/// are written to a stack buffer; only texts past 64 bytes allocate.
pub(crate) fn with_canonical_str(v: &Value, f: impl FnOnce(&str) -> bool) -> bool {
    match v {
        Value::String(s) => f(s),
        Value::Bool(b) => f(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let mut buf = StackBuf {
                bytes: [0; 64],
                len: 0,
            };
            if write_number(n, &mut buf).is_ok() {
                // Only whole `&str`s are copied in, so the bytes are UTF-8.
                std::str::from_utf8(&buf.bytes[..buf.len]).is_ok_and(f)
            } else {
                let mut text = String::new();
                write_number(n, &mut text).is_ok() && f(&text)
            }
        }
        _ => false,
    }
}

/// A `Write` that compares what is written with an expected text.
struct EqWriter<'a> {
    rest: &'a str,
    equal: bool,
}

impl Write for EqWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.rest.strip_prefix(s) {
            Some(rest) if self.equal => self.rest = rest,
            _ => self.equal = false,
        }
        Ok(())
    }
}

/// A fixed buffer that refuses (errors) rather than grow.
struct StackBuf {
    bytes: [u8; 64],
    len: usize,
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dest = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
