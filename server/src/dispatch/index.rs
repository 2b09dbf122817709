//! The matching index: which instances could care about an event.
//!
//! Each instance is filed under one equality condition (`eq` or `in`) of each
//! of its filters, the one whose values are rarest among all instances, so
//! the work per event grows with the instances that could match, not with
//! all of them. Instances whose filters have no equality condition are
//! checked on every event.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tellify_handlers::{Event, Filter, canonical, lookup};

use super::Instance;

#[derive(Default)]
pub struct Index {
    /// field → canonical value → positions in `instances`.
    by_field: Vec<(String, HashMap<String, Vec<u32>>)>,
    /// Positions of instances that are checked on every event.
    always: Vec<u32>,
    pub instances: Vec<Arc<Instance>>,
    /// Per position: the number of the last event it was listed for (dedup).
    seen: Vec<u64>,
    event_no: u64,
}

impl Index {
    pub fn build(instances: Vec<Arc<Instance>>) -> Index {
        // How many instances ask for each (field, value): the popularity that
        // decides which condition files an instance.
        let mut popularity: HashMap<(String, String), u32> = HashMap::new();
        for inst in &instances {
            for filter in inst.handler.filters() {
                for c in filter.conditions() {
                    for key in c.index_keys().unwrap_or_default() {
                        *popularity.entry((c.field.clone(), key)).or_default() += 1;
                    }
                }
            }
        }
        let mut by_field: HashMap<String, HashMap<String, Vec<u32>>> = HashMap::new();
        let mut always = Vec::new();
        for (pos, inst) in instances.iter().enumerate() {
            let pos = pos as u32;
            for filter in inst.handler.filters() {
                match best_condition(filter, &popularity) {
                    Some((field, keys)) => {
                        let values = by_field.entry(field).or_default();
                        for key in keys {
                            let list = values.entry(key).or_default();
                            if list.last() != Some(&pos) {
                                list.push(pos);
                            }
                        }
                    }
                    None => {
                        if always.last() != Some(&pos) {
                            always.push(pos);
                        }
                    }
                }
            }
        }
        let n = instances.len();
        Index {
            by_field: by_field.into_iter().collect(),
            always,
            instances,
            seen: vec![0; n],
            event_no: 0,
        }
    }

    /// The instances that could match `event`, each once.
    pub fn candidates(&mut self, event: &Event, out: &mut Vec<u32>) {
        out.clear();
        self.event_no += 1;
        let no = self.event_no;
        let mut push = |pos: u32, seen: &mut Vec<u64>| {
            let s = &mut seen[pos as usize];
            if *s != no {
                *s = no;
                out.push(pos);
            }
        };
        for (field, values) in &self.by_field {
            let Some(v) = lookup(event, field) else {
                continue;
            };
            let hits = match v {
                Value::String(s) => values.get(s.as_str()),
                other => canonical(other).and_then(|k| values.get(&k)),
            };
            for &pos in hits.into_iter().flatten() {
                push(pos, &mut self.seen);
            }
        }
        for &pos in &self.always {
            push(pos, &mut self.seen);
        }
    }
}

/// The equality condition of `filter` whose most popular value is least
/// popular: the narrowest bucket to file the instance under.
fn best_condition(
    filter: &Filter,
    popularity: &HashMap<(String, String), u32>,
) -> Option<(String, Vec<String>)> {
    filter
        .conditions()
        .iter()
        .filter_map(|c| {
            let keys = c.index_keys()?;
            if keys.is_empty() {
                return None;
            }
            let worst: u32 = keys
                .iter()
                .map(|k| {
                    popularity
                        .get(&(c.field.clone(), k.clone()))
                        .copied()
                        .unwrap_or(0)
                })
                .sum();
            Some((worst, c.field.clone(), keys))
        })
        .min_by_key(|(worst, _, _)| *worst)
        .map(|(_, field, keys)| (field, keys))
}
