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

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;
use tellify_handlers::{Output, Severity};

use super::{FastMap, InstanceId, StreamPos, id_key};
use crate::broker::Broker;

/// The state of one instance, with the revision of the parameters it was
/// built with (new parameters start from fresh state).
#[derive(Debug, Clone)]
pub struct Slot {
    pub revision: i64,
    pub state: Value,
    /// Changed since the last commit (then listed in `Partition::dirty`).
    pub dirty: bool,
}

impl Slot {
    pub fn new(revision: i64, state: Value) -> Slot {
        Slot {
            revision,
            state,
            dirty: false,
        }
    }
}

/// An alert transition bound for the outbox. Consecutive fires of one alert
/// in a batch are folded into one entry with a count.
#[derive(Debug, Clone)]
pub struct Transition {
    pub handler: InstanceId,
    pub owner: Arc<str>,
    pub key: String,
    pub fire: bool,
    pub severity: Option<Severity>,
    pub summary: String,
    pub fields: serde_json::Map<String, Value>,
    pub count: u64,
    pub at: i64,
    /// The event that caused it (none for a tick), shared with every other
    /// transition of that event.
    pub event: Option<EventRef>,
}

/// A stream event as read: its id and its stored JSON, shared (not copied)
/// by the transitions it causes.
#[derive(Debug, Clone)]
pub struct EventRef {
    pub id: Arc<str>,
    pub json: Arc<str>,
}

impl Transition {
    /// The outbox entry. The event goes in as the JSON object it is stored
    /// as (spliced in, neither parsed nor escaped again); the alert writer
    /// also reads entries of older versions that carried it as a string.
    fn to_json(&self) -> String {
        // Borrowed, not a `json!` copy of the fields.
        #[derive(serde::Serialize)]
        struct Out<'a> {
            handler: &'a str,
            owner: &'a str,
            key: &'a str,
            kind: &'static str,
            severity: Option<Severity>,
            summary: &'a str,
            fields: &'a serde_json::Map<String, Value>,
            count: u64,
            at: i64,
            event_id: Option<&'a str>,
        }
        let mut out = serde_json::to_string(&Out {
            handler: &self.handler,
            owner: &self.owner,
            key: &self.key,
            kind: if self.fire { "fire" } else { "resolve" },
            severity: self.severity,
            summary: &self.summary,
            fields: &self.fields,
            count: self.count,
            at: self.at,
            event_id: self.event.as_ref().map(|e| &*e.id),
        })
        .unwrap_or_default();
        if let Some(e) = &self.event
            && out.ends_with('}')
        {
            out.pop();
            out.reserve(e.json.len() + 10);
            out.push_str(",\"event\":");
            out.push_str(&e.json);
            out.push('}');
        }
        out
    }
}

/// A slot as stored in Redis: `{"rev":…,"state":…}`, written straight from
/// the state (no copy of it into a new `Value`).
fn stored_slot(slot: &Slot) -> String {
    let head = format!("{{\"rev\":{},\"state\":", slot.revision);
    let mut out = head.clone().into_bytes();
    // Writing a `Value` cannot fail (its keys are strings); were it to, the
    // state would be stored as fresh.
    if serde_json::to_writer(&mut out, &slot.state).is_err() {
        out = format!("{head}null").into_bytes();
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_default()
}

/// The slot of `handler` at `revision`, fresh if the revision moved. One
/// lookup and no allocation (the hot path: once per candidate per event).
fn slot_in<'a>(
    slots: &'a mut FastMap<InstanceId, Slot>,
    handler: &InstanceId,
    revision: i64,
) -> &'a mut Slot {
    let slot = slots
        .entry(handler.clone())
        .or_insert_with(|| Slot::new(revision, Value::Null));
    if slot.revision != revision {
        slot.revision = revision;
        slot.state = Value::Null;
    }
    slot
}

pub struct Partition {
    pub id: u32,
    /// Last event fully processed ("0-0" before the first).
    pub checkpoint: String,
    /// `checkpoint` as a number, compared once per candidate per event.
    pub checkpoint_at: StreamPos,
    pub slots: FastMap<InstanceId, Slot>,
    /// The instances whose slot is marked dirty, each once.
    dirty: Vec<InstanceId>,
    deleted: HashSet<InstanceId>,
    transitions: Vec<Transition>,
    /// (handler, key) → position in `transitions` of its last entry.
    last: FastMap<(InstanceId, String), usize>,
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
    pub fn new(id: u32, checkpoint: String, slots: FastMap<InstanceId, Slot>) -> Self {
        Partition {
            id,
            checkpoint_at: id_key(&checkpoint),
            checkpoint,
            slots,
            dirty: Vec::new(),
            deleted: HashSet::new(),
            transitions: Vec::new(),
            last: FastMap::default(),
            derived: Vec::new(),
            checkpoint_moved: false,
        }
    }

    /// The slot of an instance at `revision`, fresh if the revision moved.
    pub fn slot(&mut self, handler: &InstanceId, revision: i64) -> &mut Slot {
        slot_in(&mut self.slots, handler, revision)
    }

    /// The slot of an instance and the list of changed ones, borrowed
    /// together; see [`Partition::note_dirty`].
    pub fn slot_and_dirty(
        &mut self,
        handler: &InstanceId,
        revision: i64,
    ) -> (&mut Slot, &mut Vec<InstanceId>) {
        (slot_in(&mut self.slots, handler, revision), &mut self.dirty)
    }

    /// Mark the slot of `handler` (which must exist) as changed.
    pub fn mark_dirty(&mut self, handler: &InstanceId) {
        if let Some(slot) = self.slots.get_mut(handler) {
            Partition::note_dirty(&mut self.dirty, slot, handler);
        }
    }

    /// Note that `slot` (of `handler`) changed.
    pub fn note_dirty(dirty: &mut Vec<InstanceId>, slot: &mut Slot, handler: &InstanceId) {
        if !slot.dirty {
            slot.dirty = true;
            dirty.push(handler.clone());
        }
    }

    /// Drop the state of an instance that no longer exists.
    pub fn forget(&mut self, handler: &InstanceId) {
        if let Some(slot) = self.slots.remove(handler) {
            if slot.dirty {
                self.dirty.retain(|h| h != handler);
            }
            self.deleted.insert(handler.clone());
        }
    }

    /// Move the checkpoint to `id` (at `at`, its numeric form).
    pub fn advance(&mut self, id: &str, at: StreamPos) {
        id.clone_into(&mut self.checkpoint);
        self.checkpoint_at = at;
        self.checkpoint_moved = true;
    }

    /// Record what a handler said about an event (or a tick). Consecutive
    /// fires of one alert at one severity fold into one transition.
    pub fn record(
        &mut self,
        handler: &InstanceId,
        owner: &Arc<str>,
        output: Output,
        at: i64,
        event: Option<&EventRef>,
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
        let slot = (handler.clone(), key);
        if fire && let Some(&pos) = self.last.get(&slot) {
            let t = &mut self.transitions[pos];
            if t.fire && t.severity == severity {
                t.count += 1;
                t.summary = summary;
                t.fields = fields;
                t.at = at;
                t.event = event.cloned();
                return;
            }
        }
        let key = slot.1.clone();
        self.last.insert(slot, self.transitions.len());
        self.transitions.push(Transition {
            handler: handler.clone(),
            owner: owner.clone(),
            key,
            fire,
            severity,
            summary,
            fields,
            count: 1,
            at,
            event: event.cloned(),
        });
    }

    pub fn emit(&mut self, derived_json: String) {
        self.derived.push(derived_json);
    }

    pub fn has_changes(&self) -> bool {
        self.checkpoint_moved || self.has_effects()
    }

    /// Alert transitions and derived events waiting for the commit.
    pub fn pending(&self) -> usize {
        self.transitions.len() + self.derived.len()
    }

    /// Something besides the checkpoint changed: states, deletions,
    /// transitions or derived events, which must be committed now.
    pub fn has_effects(&self) -> bool {
        !self.dirty.is_empty()
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
            let state = self.slots.get(h).map(stored_slot);
            pipe.arg(&**h)
                .arg(state.unwrap_or_else(|| "null".to_owned()));
        }
        for h in &self.deleted {
            pipe.arg(&**h);
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
        for h in self.dirty.drain(..) {
            if let Some(slot) = self.slots.get_mut(&h) {
                slot.dirty = false;
            }
        }
        self.deleted.clear();
        self.transitions.clear();
        self.last.clear();
        self.derived.clear();
        self.checkpoint_moved = false;
        Committed { fired, resolved }
    }
}
