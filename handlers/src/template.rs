//! Text templates for alert summaries and keys: `"{block} failed {step}"`.
//!
//! `{field}` is replaced by the event's value at that field path (dots for
//! nesting, see [`lookup`]); strings render as they are, numbers and booleans
//! by their canonical text, arrays and objects as compact JSON. A missing (or
//! `null`) field renders as `?`. `{{` and `}}` are literal braces. Spaces
//! around a field name are ignored (`{ block }`).

use serde_json::Value;

use crate::Event;
use crate::filter::{canonical, lookup};
use crate::params::valid_field;

/// Longest template source, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 1000;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

impl Template {
    /// Parse a template; the error says what is wrong and where (byte offset).
    pub fn parse(s: &str) -> Result<Template, String> {
        if s.len() > MAX_TEMPLATE_LEN {
            return Err(format!(
                "template too long; at most {MAX_TEMPLATE_LEN} bytes"
            ));
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(['{', '}']) {
            let at = s.len() - rest.len() + i;
            text.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
                text.push_str(&rest[i..=i]);
                rest = &after[1..];
                continue;
            }
            if rest[i..].starts_with('}') {
                return Err(format!(
                    "unmatched '}}' at position {at}; write '}}}}' for a literal brace"
                ));
            }
            let Some(end) = after
                .find(['{', '}'])
                .filter(|&j| after[j..].starts_with('}'))
            else {
                return Err(format!(
                    "unclosed '{{' at position {at}; close it with '}}' or write '{{{{' for a literal brace"
                ));
            };
            let name = after[..end].trim();
            if !valid_field(name) {
                return Err(format!(
                    "empty field name at position {at}; write a field such as {{block}}"
                ));
            }
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Field(name.to_owned()));
            rest = &after[end + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: s.to_owned(),
            parts,
        })
    }

    /// A template that renders `text` as it is (no fields).
    pub fn literal(text: &str) -> Template {
        Template {
            source: text.replace('{', "{{").replace('}', "}}"),
            parts: vec![Part::Text(text.to_owned())],
        }
    }

    /// Render with an event's values.
    pub fn render(&self, event: &Event) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => out.push_str(&render_value(lookup(event, f))),
            }
        }
        out
    }

    /// The fields it reads, in order, without repeats.
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        for part in &self.parts {
            if let Part::Field(f) = part
                && !fields.contains(f)
            {
                fields.push(f.clone());
            }
        }
        fields
    }

    /// The source text, as written.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// How a field value appears in a rendered text.
pub(crate) fn render_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "?".to_owned(),
        Some(v) => canonical(v).unwrap_or_else(|| v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn event(v: Value) -> Event {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn renders_fields_nested_missing_and_braces() {
        let e = event(json!({
            "block": "blk001", "step": "place", "pct": 97.0, "ok": false,
            "disk": {"fs": "/sarc"}, "tags": ["a", "b"], "gone": null
        }));
        let table = [
            ("{block} failed {step}", "blk001 failed place"),
            ("{ block }", "blk001"),
            ("{disk.fs} at {pct}%", "/sarc at 97%"),
            (
                "{ok} {tags} {disk}",
                "false [\"a\",\"b\"] {\"fs\":\"/sarc\"}",
            ),
            ("{missing} and {gone}", "? and ?"),
            ("{{literal}} {{{block}}}", "{literal} {blk001}"),
            ("no fields", "no fields"),
            ("", ""),
            ("héllo {block}→", "héllo blk001→"),
        ];
        for (source, expected) in table {
            let t = Template::parse(source).expect(source);
            assert_eq!(t.render(&e), expected, "{source}");
            assert_eq!(t.source(), source);
        }
    }

    #[test]
    fn lists_fields_once_in_order() {
        let t = Template::parse("{b}/{a} {b} {{c}}").expect("parses");
        assert_eq!(t.fields(), ["b", "a"]);
    }

    #[test]
    fn literal_renders_braces_as_they_are() {
        let t = Template::literal("a {b} }");
        assert_eq!(t.render(&Event::new()), "a {b} }");
        assert_eq!(
            Template::parse(t.source())
                .expect("reparses")
                .render(&Event::new()),
            "a {b} }"
        );
    }

    #[test]
    fn bad_templates_say_where() {
        let table = [
            ("{block", "unclosed '{' at position 0"),
            ("a {b {c}", "unclosed '{' at position 2"),
            ("a } b", "unmatched '}' at position 2"),
            ("{}", "empty field name at position 0"),
            ("x { }", "empty field name at position 2"),
        ];
        for (source, expected) in table {
            let err = Template::parse(source).expect_err(source);
            assert!(err.starts_with(expected), "{source}: {err}");
        }
        assert!(Template::parse(&"x".repeat(MAX_TEMPLATE_LEN + 1)).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "[{}a-z .é]{0,30}") {
            if let Ok(t) = Template::parse(&s) {
                let _ = t.render(&Event::new());
            }
        }
    }
}
