//! The matching index: which instances could care about an event.
//!
//! Each filter is filed under all of its equality conditions (`eq` and `in`)
//! at once: under the combination of their values, in a table of its own
//! for each set of fields ("shape", e.g. `source`+`project`+`step`+`status`).
//! An event is looked up once per shape, with its own values of those
//! fields, so it finds only the instances whose every equality condition it
//! meets; the work per event grows with the number of shapes and the
//! instances that could match, not with all instances. (Filing each instance
//! under its one rarest condition, as before, still gave ~270 candidates per
//! event for ~30 matches with 10,000 instances: no single field of
//! `project`, `step` or `status` is selective, their combination is.)
//!
//! An `in` condition files the instance under each of its values, so the
//! keys of a filter are the product of its `in` lists; past [`MAX_KEYS`]
//! the longest lists are left out of the shape (their conditions are still
//! checked by the handler). Instances whose filters have no equality
//! condition are checked on every event.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tellify_handlers::{Event, Filter, canonical, lookup};

use super::Instance;

/// Most keys one filter is filed under.
const MAX_KEYS: usize = 256;

/// Separates the values in a combined key.
const SEP: char = '\u{1f}';

/// The instances whose filters have equality conditions on exactly `fields`.
struct Shape {
    /// Sorted, without repeats.
    fields: Vec<String>,
    /// Combined key (the values in the order of `fields`, joined by [`SEP`])
    /// → positions in `instances`.
    by_key: HashMap<String, Vec<u32>>,
}

#[derive(Default)]
pub struct Index {
    shapes: Vec<Shape>,
    /// Positions of instances that are checked on every event.
    always: Vec<u32>,
    pub instances: Vec<Arc<Instance>>,
    /// Per position: the number of the last event it was listed for (dedup).
    seen: Vec<u64>,
    event_no: u64,
    /// Scratch for the combined key of an event.
    key: String,
}

/// The fields and combined keys a filter is filed under; `None` when it has
/// no equality condition.
fn filing(filter: &Filter) -> Option<(Vec<String>, Vec<String>)> {
    // field → accepted keys; two conditions on one field: the shorter list
    // (the handler checks both).
    let mut conds: Vec<(String, Vec<String>)> = Vec::new();
    for c in filter.conditions() {
        let Some(mut keys) = c.index_keys() else {
            continue;
        };
        if keys.is_empty() {
            continue;
        }
        keys.sort();
        keys.dedup();
        match conds.iter_mut().find(|(f, _)| *f == c.field) {
            Some((_, known)) if known.len() <= keys.len() => {}
            Some((_, known)) => *known = keys,
            None => conds.push((c.field.clone(), keys)),
        }
    }
    // Keep the product of the list lengths bounded: drop the longest lists.
    while conds.iter().map(|(_, k)| k.len()).product::<usize>() > MAX_KEYS {
        let longest = conds
            .iter()
            .enumerate()
            .max_by_key(|(_, (_, k))| k.len())
            .map(|(i, _)| i)?;
        conds.swap_remove(longest);
    }
    if conds.is_empty() {
        return None;
    }
    conds.sort_by(|a, b| a.0.cmp(&b.0));
    let fields = conds.iter().map(|(f, _)| f.clone()).collect();
    let mut combined = vec![String::new()];
    for (i, (_, keys)) in conds.iter().enumerate() {
        combined = combined
            .iter()
            .flat_map(|prefix| {
                keys.iter().map(move |k| {
                    let mut s = prefix.clone();
                    if i > 0 {
                        s.push(SEP);
                    }
                    s.push_str(k);
                    s
                })
            })
            .collect();
    }
    Some((fields, combined))
}

impl Index {
    pub fn build(instances: Vec<Arc<Instance>>) -> Index {
        let mut shapes: Vec<Shape> = Vec::new();
        let mut shape_of: HashMap<Vec<String>, usize> = HashMap::new();
        let mut always = Vec::new();
        for (pos, inst) in instances.iter().enumerate() {
            let pos = pos as u32;
            for filter in inst.handler.filters() {
                match filing(filter) {
                    Some((fields, keys)) => {
                        let at = *shape_of.entry(fields.clone()).or_insert_with(|| {
                            shapes.push(Shape {
                                fields,
                                by_key: HashMap::new(),
                            });
                            shapes.len() - 1
                        });
                        let by_key = &mut shapes[at].by_key;
                        for key in keys {
                            let list = by_key.entry(key).or_default();
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
            shapes,
            always,
            instances,
            seen: vec![0; n],
            event_no: 0,
            key: String::new(),
        }
    }

    /// The instances that could match `event`, each once, in index order
    /// within each shape.
    pub fn candidates(&mut self, event: &Event, out: &mut Vec<u32>) {
        out.clear();
        self.event_no += 1;
        let no = self.event_no;
        let seen = &mut self.seen;
        let mut push = |pos: u32| {
            let s = &mut seen[pos as usize];
            if *s != no {
                *s = no;
                out.push(pos);
            }
        };
        let key = &mut self.key;
        'shapes: for shape in &self.shapes {
            key.clear();
            for (i, field) in shape.fields.iter().enumerate() {
                if i > 0 {
                    key.push(SEP);
                }
                match lookup(event, field) {
                    Some(Value::String(s)) => key.push_str(s),
                    Some(other) => match canonical(other) {
                        Some(k) => key.push_str(&k),
                        None => continue 'shapes,
                    },
                    None => continue 'shapes,
                }
            }
            for &pos in shape.by_key.get(key.as_str()).into_iter().flatten() {
                push(pos);
            }
        }
        for &pos in &self.always {
            push(pos);
        }
    }
}
