//! The built-in handler types, one module each.
//!
//! Each module holds the type (a unit struct implementing
//! [`HandlerType`](crate::HandlerType)), its parameters compiled into an
//! instance (implementing [`Handler`](crate::Handler)), and the shape of the
//! instance's state, documented at the top of the module.

pub mod distinct_count;
pub mod heartbeat;
pub mod matcher;
pub mod rate;
pub mod threshold;

use serde_json::{Map, Value};

use crate::ParamError;
use crate::template::render_value;

/// Errors for a getter that gave up without saying why; `Params` getters
/// always record an error first, so this only guards against a bug.
fn incomplete() -> Vec<ParamError> {
    vec![ParamError::new("", "invalid parameters")]
}

/// `a=1 b=x` from field values, for default summaries.
fn describe(fields: &Map<String, Value>) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", render_value(Some(v))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `host, fs` for titles.
fn list(fields: &[String]) -> String {
    fields.join(", ")
}

/// Helpers for the types' tests.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::Value;

    use crate::{Event, Handler, Output, ParamError, handler_type};

    pub fn event(v: Value) -> Event {
        v.as_object().cloned().expect("an object")
    }

    pub fn compile(type_name: &str, params: Value) -> Box<dyn Handler> {
        let t = handler_type(type_name).expect("known type");
        match t.compile(&params) {
            Ok(h) => h,
            Err(e) => panic!("{type_name} params do not compile: {e:?}"),
        }
    }

    pub fn compile_errors(type_name: &str, params: Value) -> Vec<ParamError> {
        let t = handler_type(type_name).expect("known type");
        match t.compile(&params) {
            Ok(h) => panic!("{type_name} params compile, to {}", h.title()),
            Err(e) => e,
        }
    }

    /// Outputs in a compact form for asserting: `fire key severity`, `resolve key`, `emit`.
    pub fn brief(outputs: &[Output]) -> Vec<String> {
        outputs
            .iter()
            .map(|o| match o {
                Output::Fire { key, severity, .. } => format!("fire {key} {severity}"),
                Output::Resolve { key } => format!("resolve {key}"),
                Output::Emit { .. } => "emit".to_owned(),
            })
            .collect()
    }

    /// Assert that compiling each params gives an error at that pointer whose message contains the text.
    pub fn assert_errors(type_name: &str, table: &[(Value, &str, &str)]) {
        for (params, pointer, text) in table {
            let errors = compile_errors(type_name, params.clone());
            assert!(
                errors
                    .iter()
                    .any(|e| e.pointer == *pointer && e.message.contains(text)),
                "{type_name} {params}: expected {pointer:?} ~ {text:?}, got {errors:?}"
            );
        }
    }
}
