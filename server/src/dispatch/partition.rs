//! One owned partition: its handler states, its checkpoint, and what the
//! current batch produced, committed to Redis in one atomic step.
//!
//! The commit is a Lua script, which Redis runs atomically like MULTI/EXEC,
//! and which first checks that this node still holds the partition's lease
//! (a fencing check MULTI/EXEC alone cannot make without WATCH on a dedicated
//! connection). The new states, the alert transitions (to the partition's
//! outbox stream), derived events and the checkpoint land together or not at
//! all: after a crash the partition replays from its checkpoint and nothing
//! is counted twice or lost.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use tellify_handlers::{Output, Severity};

use crate::broker::Broker;

/// The state of one instance, with the revision of the parameters it was
/// built with (new parameters start from fresh state).
#[derive(Debug, Clone)]
pub struct Slot {
    pub revision: i64,
    pub state: Value,
}

/// An alert transition bound for the outbox. Consecutive fires of one alert
/// in a batch are folded into one entry with a count.
#[derive(Debug, Clone)]
pub struct Transition {
    pub handler: String,
    pub owner: String,
    pub key: String,
    pub fire: bool,
    pub severity: Option<Severity>,
    pub summary: String,
    pub fields: serde_json::Map<String, Value>,
    pub count: u64,
    pub at: i64,
    pub event_id: Option<String>,
    pub event: Option<String>,
}

impl Transition {
    fn to_json(&self) -> String {
        json!({
            "handler": self.handler,
            "owner": self.owner,
            "key": self.key,
            "kind": if self.fire { "fire" } else { "resolve" },
            "severity": self.severity,
            "summary": self.summary,
            "fields": self.fields,
            "count": self.count,
            "at": self.at,
            "event_id": self.event_id,
            "event": self.event,
        })
        .to_string()
    }
}

pub struct Partition {
    pub id: u32,
    /// Last event fully processed ("0-0" before the first).
    pub checkpoint: String,
    pub slots: HashMap<String, Slot>,
    dirty: HashSet<String>,
    deleted: HashSet<String>,
    transitions: Vec<Transition>,
    /// (handler, key) → position in `transitions` of its last entry.
    last: HashMap<(String, String), usize>,
    derived: Vec<String>,
    checkpoint_moved: bool,
}

/// What a commit did, for the metrics.
#[derive(Debug, Default, Clone, Copy)]
pub struct Committed {
    pub fired: u64,
    pub resolved: u64,
}

const COMMIT: &str = r"
-- KEYS: lease, checkpoint, state, alerts outbox, events stream
-- ARGV: node, checkpoint ('' = unchanged), #states, #deleted, #alerts, #derived, then the items
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local i = 7
for _ = 1, tonumber(ARGV[3]) do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]); i = i + 2 end
for _ = 1, tonumber(ARGV[4]) do redis.call('HDEL', KEYS[3], ARGV[i]); i = i + 1 end
for _ = 1, tonumber(ARGV[5]) do redis.call('XADD', KEYS[4], '*', 'a', ARGV[i]); i = i + 1 end
for _ = 1, tonumber(ARGV[6]) do redis.call('XADD', KEYS[5], '*', 'e', ARGV[i]); i = i + 1 end
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2]) end
return 1
";

impl Partition {
    pub fn new(id: u32, checkpoint: String, slots: HashMap<String, Slot>) -> Self {
        Partition {
            id,
            checkpoint,
            slots,
            dirty: HashSet::new(),
            deleted: HashSet::new(),
            transitions: Vec::new(),
            last: HashMap::new(),
            derived: Vec::new(),
            checkpoint_moved: false,
        }
    }

    /// The state of an instance at `revision`, fresh if the revision moved.
    pub fn slot(&mut self, handler: &str, revision: i64) -> &mut Value {
        let slot = self.slots.entry(handler.to_owned()).or_insert(Slot {
            revision,
            state: Value::Null,
        });
        if slot.revision != revision {
            *slot = Slot {
                revision,
                state: Value::Null,
            };
        }
        &mut slot.state
    }

    pub fn mark_dirty(&mut self, handler: &str) {
        if !self.dirty.contains(handler) {
            self.dirty.insert(handler.to_owned());
        }
    }

    /// Drop the state of an instance that no longer exists.
    pub fn forget(&mut self, handler: &str) {
        if self.slots.remove(handler).is_some() {
            self.dirty.remove(handler);
            self.deleted.insert(handler.to_owned());
        }
    }

    pub fn advance(&mut self, id: &str) {
        self.checkpoint = id.to_owned();
        self.checkpoint_moved = true;
    }

    /// Record what a handler said about an event (or a tick).
    pub fn record(
        &mut self,
        handler: &str,
        owner: &str,
        output: Output,
        at: i64,
        event: Option<(&str, &str)>,
    ) {
        let (fire, key, severity, summary, fields) = match output {
            Output::Fire {
                key,
                severity,
                summary,
                fields,
            } => (true, key, Some(severity), summary, fields),
            Output::Resolve { key } => (false, key, None, String::new(), serde_json::Map::new()),
            Output::Emit { .. } => return,
        };
        let slot = (handler.to_owned(), key);
        if fire && let Some(&pos) = self.last.get(&slot) {
            let t = &mut self.transitions[pos];
            if t.fire && t.severity == severity {
                t.count += 1;
                t.summary = summary;
                t.fields = fields;
                t.at = at;
                t.event_id = event.map(|(id, _)| id.to_owned());
                t.event = event.map(|(_, e)| e.to_owned());
                return;
            }
        }
        self.last.insert(slot.clone(), self.transitions.len());
        self.transitions.push(Transition {
            handler: slot.0,
            owner: owner.to_owned(),
            key: slot.1,
            fire,
            severity,
            summary,
            fields,
            count: 1,
            at,
            event_id: event.map(|(id, _)| id.to_owned()),
            event: event.map(|(_, e)| e.to_owned()),
        });
    }

    pub fn emit(&mut self, derived_json: String) {
        self.derived.push(derived_json);
    }

    pub fn has_changes(&self) -> bool {
        self.checkpoint_moved
            || !self.dirty.is_empty()
            || !self.deleted.is_empty()
            || !self.transitions.is_empty()
            || !self.derived.is_empty()
    }

    /// Add this partition's commit to `pipe`; call [`Partition::committed`]
    /// once the pipeline answered.
    pub fn add_commit(&self, pipe: &mut redis::Pipeline, broker: &Broker, node: &str) {
        // EVAL, not EVALSHA: the script is small, Redis caches it compiled,
        // and a restarted Redis needs no reloading.
        pipe.cmd("EVAL")
            .arg(COMMIT)
            .arg(5)
            .arg(broker.lease_key(self.id))
            .arg(broker.checkpoint_key(self.id))
            .arg(broker.state_key(self.id))
            .arg(broker.alerts_key(self.id))
            .arg(broker.events_key())
            .arg(node)
            .arg(if self.checkpoint_moved {
                self.checkpoint.as_str()
            } else {
                ""
            })
            .arg(self.dirty.len())
            .arg(self.deleted.len())
            .arg(self.transitions.len())
            .arg(self.derived.len());
        for h in &self.dirty {
            let state = self
                .slots
                .get(h)
                .map(|s| json!({"rev": s.revision, "state": s.state}));
            pipe.arg(h).arg(state.unwrap_or(Value::Null).to_string());
        }
        for h in &self.deleted {
            pipe.arg(h);
        }
        for t in &self.transitions {
            pipe.arg(t.to_json());
        }
        for d in &self.derived {
            pipe.arg(d);
        }
    }

    /// The commit went through: forget what it carried.
    pub fn committed(&mut self) -> Committed {
        let fired = self
            .transitions
            .iter()
            .filter(|t| t.fire)
            .map(|t| t.count)
            .sum();
        let resolved = self.transitions.iter().filter(|t| !t.fire).count() as u64;
        self.dirty.clear();
        self.deleted.clear();
        self.transitions.clear();
        self.last.clear();
        self.derived.clear();
        self.checkpoint_moved = false;
        Committed { fired, resolved }
    }
}
