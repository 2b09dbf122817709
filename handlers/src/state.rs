//! Helpers shared by the handler types: alert keys from event fields and the
//! compact JSON state they keep.
//!
//! State lives in Redis and is loaded into server memory, so each type keeps
//! the least it needs, keyed by alert key or group in one JSON object, with
//! short member names. Every per-key map is capped at [`MAX_KEYS`] entries:
//! past that the least recently seen entry is forgotten (see each type).

use serde_json::{Map, Value};

use crate::filter::lookup;
use crate::template::render_value;
use crate::{Event, Millis};

/// Most keys (or groups) one instance remembers.
pub(crate) const MAX_KEYS: usize = 10_000;

/// Longest alert key, in bytes; longer keys are cut (keys live in memory).
pub(crate) const MAX_KEY_LEN: usize = 256;

/// The key used when an instance has no key fields.
pub(crate) const DEFAULT_KEY: &str = "default";

/// The state as an object, turning anything else (a fresh `null`, or a state
/// of another shape after an upgrade) into an empty one.
pub(crate) fn object(state: &mut Value) -> &mut Map<String, Value> {
    if !state.is_object() {
        *state = Value::Object(Map::new());
    }
    match state {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}

/// The alert key and values of `fields` in an event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Keyed {
    /// The values joined with `/` (`default` without fields).
    pub key: String,
    /// The values joined with `:` for people (`cad01:/sarc/fs02`); empty without fields.
    pub label: String,
    /// Field name → event value.
    pub fields: Map<String, Value>,
}

/// Read the key fields of an event; `None` when one is missing or null
/// (such an event cannot be attributed to a key, so it is ignored).
pub(crate) fn keyed(event: &Event, fields: &[String]) -> Option<Keyed> {
    let mut parts = Vec::with_capacity(fields.len());
    let mut values = Map::new();
    for field in fields {
        let v = lookup(event, field).filter(|v| !v.is_null())?;
        parts.push(render_value(Some(v)));
        values.insert(field.clone(), v.clone());
    }
    Some(Keyed {
        key: if parts.is_empty() {
            DEFAULT_KEY.to_owned()
        } else {
            bounded_key(parts.join("/"))
        },
        label: parts.join(":"),
        fields: values,
    })
}

/// Cut a key to [`MAX_KEY_LEN`] bytes, on a character boundary.
pub(crate) fn bounded_key(mut key: String) -> String {
    if key.len() > MAX_KEY_LEN {
        let mut end = MAX_KEY_LEN;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
    }
    key
}

/// Copy the values of `fields` present in the event into `out`.
pub(crate) fn copy_fields<'a>(
    event: &Event,
    fields: impl IntoIterator<Item = &'a str>,
    out: &mut Map<String, Value>,
) {
    for field in fields {
        if let Some(v) = lookup(event, field).filter(|v| !v.is_null()) {
            out.insert(field.to_owned(), v.clone());
        }
    }
}

/// When `map` holds more than `max` entries, forget those with the smallest
/// `age` (least recently seen) until it holds `max`.
pub(crate) fn evict_oldest(
    map: &mut Map<String, Value>,
    max: usize,
    age: impl Fn(&Value) -> Millis,
) {
    while map.len() > max {
        let oldest = map
            .iter()
            .min_by_key(|(_, v)| age(v))
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => map.remove(&k),
            None => break,
        };
    }
}

/// Push `name` to `out` unless it is there already.
pub(crate) fn push_unique(out: &mut Vec<String>, name: &str) {
    if !out.iter().any(|f| f == name) {
        out.push(name.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_join_values_and_need_every_field() {
        let event = json!({"host": "cad01", "fs": "/sarc/fs02", "n": 2.0, "nil": null});
        let event = event.as_object().expect("object");
        let k = keyed(event, &["host".into(), "fs".into(), "n".into()]).expect("keyed");
        assert_eq!(k.key, "cad01//sarc/fs02/2");
        assert_eq!(k.label, "cad01:/sarc/fs02:2");
        assert_eq!(k.fields["n"], json!(2.0));
        assert_eq!(keyed(event, &[]).map(|k| k.key), Some("default".to_owned()));
        assert_eq!(keyed(event, &["host".into(), "other".into()]), None);
        assert_eq!(keyed(event, &["nil".into()]), None);
    }

    #[test]
    fn eviction_forgets_the_least_recent() {
        let mut map = json!({"a": 5, "b": 1, "c": 3})
            .as_object()
            .cloned()
            .expect("object");
        evict_oldest(&mut map, 2, |v| v.as_i64().unwrap_or(0));
        assert_eq!(Value::Object(map), json!({"a": 5, "c": 3}));
    }

    #[test]
    fn state_of_another_shape_is_reset() {
        let mut state = json!([1, 2]);
        object(&mut state).insert("k".into(), json!(1));
        assert_eq!(state, json!({"k": 1}));
    }
}
