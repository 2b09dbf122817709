//! The handler types this server offers, with their JSON Schemas compiled
//! once, and the checking of a handler instance's parameters against both the
//! schema and the type's own `compile` (the checks a schema cannot express).

use std::collections::HashMap;
use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;
use tellify_handlers::{Handler, handler_type, handler_types};

use crate::error::Problem;

static VALIDATORS: LazyLock<HashMap<&'static str, Validator>> = LazyLock::new(|| {
    handler_types()
        .iter()
        .filter_map(|t| match jsonschema::validator_for(&t.parameters_schema()) {
            Ok(v) => Some((t.name(), v)),
            Err(e) => {
                tracing::error!(handler_type = t.name(), error = %e, "invalid parameters schema");
                None
            }
        })
        .collect()
});

/// Check `params` for the type named `kind` and compile them. Problems carry
/// JSON pointers into the whole request body (so `/params/levels/0/value`).
pub fn compile(kind: &str, params: &Value) -> Result<Box<dyn Handler>, Vec<Problem>> {
    let Some(t) = handler_type(kind) else {
        let names: Vec<&str> = handler_types().iter().map(|t| t.name()).collect();
        return Err(vec![Problem::at_pointer(
            "/type",
            format!("unknown handler type '{kind}'; one of {}", names.join(", ")),
        )]);
    };
    if let Some(validator) = VALIDATORS.get(kind) {
        let problems: Vec<Problem> = validator
            .iter_errors(params)
            .map(|e| Problem::at_pointer(format!("/params{}", e.instance_path()), e.to_string()))
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
    }
    match t.compile(params) {
        Ok(h) => Ok(h),
        Err(errors) => Err(errors
            .into_iter()
            .map(|e| Problem::at_pointer(format!("/params{}", e.pointer), e.message))
            .collect()),
    }
}

/// Compile parameters already stored (checked when they were saved).
pub fn compile_stored(kind: &str, params: &Value) -> Option<Box<dyn Handler>> {
    handler_type(kind)?.compile(params).ok()
}
