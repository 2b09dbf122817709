//! Derived events: events a handler emits for other handlers to match.
//!
//! Each derived event carries `_origin` with the emitting instance, its hop
//! count and (when the parent has one) the parent's stream id. Chains stop
//! after [`MAX_HOPS`] hops, so two instances that feed each other cannot loop
//! forever. Events posted by users have 0 hops (the server refuses a posted
//! `_origin`).

use serde_json::{Value, json};

use crate::Event;

/// Derived chains stop after this many hops.
pub const MAX_HOPS: u64 = 3;

/// The parent field holding its stream id, if the server put one there.
pub const EVENT_ID_FIELD: &str = "_id";

/// Mark a derived event with its origin: sets `_origin` to
/// `{"handler": instance_id, "hops": parent_hops + 1, "event": parent_id}`
/// (`event` only when the parent has an `_id`). An `_origin` in `emitted`
/// is replaced. Returns `None` when that would exceed [`MAX_HOPS`] hops.
pub fn derive(parent: &Event, mut emitted: Event, instance_id: &str) -> Option<Event> {
    let parent_hops = parent
        .get("_origin")
        .and_then(|o| o.get("hops"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let hops = parent_hops.saturating_add(1);
    if hops > MAX_HOPS {
        return None;
    }
    let mut origin = json!({"handler": instance_id, "hops": hops});
    if let (Some(id), Value::Object(o)) = (parent.get(EVENT_ID_FIELD), &mut origin) {
        o.insert("event".to_owned(), id.clone());
    }
    emitted.insert("_origin".to_owned(), origin);
    Some(emitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(v: Value) -> Event {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn user_events_start_a_chain_of_three_hops() {
        let user = event(json!({"_id": "1700000000000-0", "block": "b1"}));
        let first = derive(&user, event(json!({"type": "many"})), "h1").expect("hop 1");
        assert_eq!(
            Value::Object(first.clone()),
            json!({"type": "many", "_origin": {"handler": "h1", "hops": 1, "event": "1700000000000-0"}})
        );
        let second = derive(&first, event(json!({"type": "more"})), "h2").expect("hop 2");
        assert_eq!(second["_origin"], json!({"handler": "h2", "hops": 2}));
        let third = derive(&second, Event::new(), "h3").expect("hop 3");
        assert_eq!(third["_origin"]["hops"], json!(3));
        assert_eq!(derive(&third, Event::new(), "h4"), None);
    }

    #[test]
    fn an_emitted_origin_cannot_reset_the_count() {
        let parent = event(json!({"_origin": {"handler": "x", "hops": 3}}));
        assert_eq!(
            derive(&parent, event(json!({"_origin": {"hops": 0}})), "h"),
            None
        );
        let parent = event(json!({"_origin": {"handler": "x", "hops": 1}}));
        let out = derive(&parent, event(json!({"_origin": "forged"})), "h").expect("hop 2");
        assert_eq!(out["_origin"], json!({"handler": "h", "hops": 2}));
    }

    #[test]
    fn a_malformed_parent_origin_counts_as_zero_hops() {
        let parent = event(json!({"_origin": {"hops": "many"}}));
        let out = derive(&parent, Event::new(), "h").expect("hop 1");
        assert_eq!(out["_origin"]["hops"], json!(1));
    }
}
