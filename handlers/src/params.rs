//! Reading handler parameters into domain types, collecting every error with
//! its JSON pointer (rather than stopping at the first) so a form can show
//! them all at once.

use serde_json::{Map, Value};

use crate::duration::parse_duration;
use crate::filter::Filter;
use crate::template::Template;
use crate::{Millis, ParamError, Severity};

/// Most fields in `key_fields` or `group_by`.
pub(crate) const MAX_KEY_FIELDS: usize = 10;

/// The pointer to `token` under `base`, escaped as RFC 6901 says.
pub(crate) fn pointer_to(base: &str, token: &str) -> String {
    format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// A reader over a parameters object. Getters return `None` after recording
/// an error, so `None` from a required getter always comes with an error.
pub(crate) struct Params<'a> {
    map: Option<&'a Map<String, Value>>,
    errors: Vec<ParamError>,
}

impl<'a> Params<'a> {
    /// Start reading `params`, which may hold only the `allowed` properties.
    pub fn new(params: &'a Value, allowed: &[&str]) -> Self {
        let mut errors = Vec::new();
        let map = match params {
            Value::Object(map) => {
                for key in map.keys() {
                    if !allowed.contains(&key.as_str()) {
                        errors.push(ParamError::new(
                            pointer_to("", key),
                            format!(
                                "unknown property '{key}'; expected one of {}",
                                allowed.join(", ")
                            ),
                        ));
                    }
                }
                Some(map)
            }
            _ => {
                errors.push(ParamError::new("", "parameters must be a JSON object"));
                None
            }
        };
        Params { map, errors }
    }

    /// The errors so far, or `Ok` when there are none.
    pub fn finish(self) -> Result<(), Vec<ParamError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    pub fn error(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ParamError::new(pointer, message));
    }

    /// The value of a property; `null` counts as absent.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    fn missing<T>(&mut self, name: &str, what: &str) -> Option<T> {
        self.error(pointer_to("", name), format!("missing {what}"));
        None
    }

    pub fn filter(&mut self, name: &str) -> Option<Filter> {
        match self.get(name) {
            None => self.missing(
                name,
                "filter (a list of conditions; [] matches every event)",
            ),
            Some(_) => self.opt_filter(name).flatten(),
        }
    }

    pub fn opt_filter(&mut self, name: &str) -> Option<Option<Filter>> {
        let Some(v) = self.get(name) else {
            return Some(None);
        };
        match Filter::parse(v, &pointer_to("", name)) {
            Ok(f) => Some(Some(f)),
            Err(e) => {
                self.errors.extend(e);
                None
            }
        }
    }

    pub fn severity(&mut self, name: &str, default: Severity) -> Option<Severity> {
        match self.get(name) {
            None => Some(default),
            Some(v) => self.severity_at(v, &pointer_to("", name)),
        }
    }

    pub fn severity_at(&mut self, v: &Value, pointer: &str) -> Option<Severity> {
        match v.as_str().map(str::parse::<Severity>) {
            Some(Ok(sev)) => Some(sev),
            Some(Err(e)) => {
                self.error(pointer, e);
                None
            }
            None => {
                self.error(pointer, "must be one of info, warning, critical");
                None
            }
        }
    }

    pub fn opt_template(&mut self, name: &str) -> Option<Option<Template>> {
        let Some(v) = self.get(name) else {
            return Some(None);
        };
        let result = match v {
            Value::String(s) => Template::parse(s),
            _ => Err("must be a text such as \"{block} failed {step}\"".to_owned()),
        };
        match result {
            Ok(t) => Some(Some(t)),
            Err(e) => {
                self.error(pointer_to("", name), e);
                None
            }
        }
    }

    pub fn duration(&mut self, name: &str) -> Option<Millis> {
        match self.get(name) {
            None => self.missing(name, "duration (like 90s, 5m, 1h or 1d)"),
            Some(_) => self.opt_duration(name).flatten(),
        }
    }

    pub fn opt_duration(&mut self, name: &str) -> Option<Option<Millis>> {
        let Some(v) = self.get(name) else {
            return Some(None);
        };
        let result = match v {
            Value::String(s) => parse_duration(s),
            _ => Err("must be a duration such as \"90s\", \"5m\", \"1h\" or \"1d\"".to_owned()),
        };
        match result {
            Ok(ms) => Some(Some(ms)),
            Err(e) => {
                self.error(pointer_to("", name), e);
                None
            }
        }
    }

    /// A required field path.
    pub fn field_name(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => self.missing(name, "field name"),
            Some(Value::String(s)) if valid_field(s) => Some(s.clone()),
            Some(_) => {
                self.error(
                    pointer_to("", name),
                    "must be a field name such as \"pct\" or \"disk.pct\"",
                );
                None
            }
        }
    }

    /// A list of field paths; absent means none.
    pub fn field_list(&mut self, name: &str) -> Option<Vec<String>> {
        let pointer = pointer_to("", name);
        let Some(v) = self.get(name) else {
            return Some(Vec::new());
        };
        let Value::Array(items) = v else {
            self.error(
                pointer,
                "must be a list of field names, e.g. [\"host\", \"fs\"]",
            );
            return None;
        };
        if items.len() > MAX_KEY_FIELDS {
            self.error(pointer, format!("at most {MAX_KEY_FIELDS} fields"));
            return None;
        }
        let mut fields: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if valid_field(s) && !fields.iter().any(|f| f == s) => {
                    fields.push(s.to_owned())
                }
                Some(s) if valid_field(s) => {
                    self.error(format!("{pointer}/{i}"), format!("'{s}' is listed twice"));
                    ok = false;
                }
                _ => {
                    self.error(
                        format!("{pointer}/{i}"),
                        "must be a field name such as \"host\"",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(fields)
    }

    /// A whole number from 0 to `max`.
    pub fn count(&mut self, name: &str, max: u64) -> Option<u64> {
        match self.get(name) {
            None => self.missing(name, "number"),
            Some(v) => match v.as_u64().filter(|n| *n <= max) {
                Some(n) => Some(n),
                None => {
                    self.error(
                        pointer_to("", name),
                        format!("must be a whole number from 0 to {max}"),
                    );
                    None
                }
            },
        }
    }

    /// An optional object (absent: `None`).
    pub fn opt_object(&mut self, name: &str) -> Option<Option<Map<String, Value>>> {
        match self.get(name) {
            None => Some(None),
            Some(Value::Object(map)) => Some(Some(map.clone())),
            Some(_) => {
                self.error(
                    pointer_to("", name),
                    "must be an object, e.g. {\"type\": \"many_failures\"}",
                );
                None
            }
        }
    }
}

/// A usable field path: not blank, not absurdly long.
pub(crate) fn valid_field(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 200
}
