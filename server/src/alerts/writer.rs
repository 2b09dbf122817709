//! The alert writer: applies the alert transitions that the dispatcher
//! committed to each partition's outbox to MongoDB `alerts`, and publishes
//! each change on the owner's live channel.
//!
//! It reads the outboxes of the partitions its node owns, through a consumer
//! group with one consumer name shared by all nodes: a node that takes a
//! partition over first re-reads what the previous owner had read but not
//! acknowledged. Applying is idempotent (each alert remembers the last entry
//! applied), so that replay counts nothing twice. MongoDB being away stops
//! only this writer: dispatch goes on, the outboxes grow, and the alerts
//! catch up when MongoDB is back.
//!
//! Entries of instances that no longer exist are skipped, and an alert is
//! only created afresh, never re-created by an update: so an admin purge
//! (which deletes the instances, then their alerts) stays done while
//! transitions are still on their way (see [`crate::purge`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mongodb::bson::DateTime;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, RedisResult};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{alert_id, view};
use crate::aggregate::queue::{Cache, Change, enqueue};
use crate::state::AppState;
use crate::store::{AlertDoc, HISTORY_LEN, HistoryEntry};

const GROUP: &str = "writer";
const CONSUMER: &str = "owner";

/// The partitions this node owns, published by its dispatcher.
pub type Owned = Arc<RwLock<Vec<u32>>>;

/// One outbox entry, as the dispatcher wrote it.
#[derive(Debug, Deserialize)]
struct Entry {
    handler: String,
    owner: String,
    key: String,
    kind: String,
    severity: Option<String>,
    summary: String,
    #[serde(default)]
    fields: Value,
    count: i64,
    at: i64,
    event_id: Option<String>,
    /// The event as a JSON object; entries written before it was spliced in
    /// as one carry it as a JSON string.
    #[serde(default)]
    event: Value,
}

pub struct AlertWriter {
    app: AppState,
    owned: Owned,
    conn: Option<MultiplexedConnection>,
    /// Partitions whose unacknowledged entries were re-read already.
    recovered: HashSet<u32>,
    groups: HashSet<u32>,
}

/// Stream ids sort as text once padded.
fn padded(id: &str) -> String {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    format!("{:0>20}-{:0>10}", ms, seq)
}

impl AlertWriter {
    pub fn new(app: AppState, owned: Owned) -> Self {
        AlertWriter {
            app,
            owned,
            conn: None,
            recovered: HashSet::new(),
            groups: HashSet::new(),
        }
    }

    pub async fn run(mut self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            tokio::select! {
                r = self.step(Duration::from_millis(200)) => if let Err(e) = r {
                    tracing::warn!(error = format!("{e:#}"), "writing alerts failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                },
                () = shutdown.cancelled() => {}
            }
        }
    }

    async fn conn(&mut self) -> RedisResult<MultiplexedConnection> {
        if let Some(c) = &self.conn {
            return Ok(c.clone());
        }
        let c = self.app.broker.dedicated_conn().await?;
        self.conn = Some(c.clone());
        Ok(c)
    }

    /// Apply one batch of outbox entries; how many were applied.
    pub async fn step(&mut self, block: Duration) -> anyhow::Result<usize> {
        let owned: Vec<u32> = self.owned.read().map(|o| o.clone()).unwrap_or_default();
        if owned.is_empty() {
            tokio::time::sleep(block).await;
            return Ok(0);
        }
        let broker = self.app.broker.clone();
        let mut conn = match self.conn().await {
            Ok(c) => c,
            Err(e) => return Err(e.into()),
        };
        for &p in &owned {
            if !self.groups.contains(&p) {
                let r: RedisResult<()> = conn
                    .xgroup_create_mkstream(broker.alerts_key(p), GROUP, "0")
                    .await;
                match r {
                    Ok(()) => {}
                    Err(e) if e.code() == Some("BUSYGROUP") => {}
                    Err(e) => return Err(e.into()),
                }
                self.groups.insert(p);
            }
        }
        self.recovered.retain(|p| owned.contains(p));
        // First what a previous owner read and did not acknowledge, then new.
        let (keys, ids, blocking): (Vec<String>, Vec<&str>, bool) =
            match owned.iter().find(|p| !self.recovered.contains(p)) {
                Some(&p) => (vec![broker.alerts_key(p)], vec!["0"], false),
                None => (
                    owned.iter().map(|&p| broker.alerts_key(p)).collect(),
                    vec![">"; owned.len()],
                    true,
                ),
            };
        let mut options = StreamReadOptions::default()
            .group(GROUP, CONSUMER)
            // Per partition: up to 1,600 entries a batch with 16. Batches of
            // 8,000 (500 each) held ~100 MB more resident (alert documents with
            // their histories, twice: as read and as written) for ~15 % more
            // throughput.
            .count(100);
        if blocking {
            options = options.block(block.as_millis().max(1) as usize);
        }
        let reply: Option<StreamReadReply> = match conn.xread_options(&keys, &ids, &options).await {
            Ok(r) => r,
            Err(e) => {
                self.conn = None;
                return Err(e.into());
            }
        };
        let mut batch: Vec<(String, String, Entry)> = Vec::new();
        let mut seen_keys = HashSet::new();
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            seen_keys.insert(key.key.clone());
            for entry in key.ids {
                let Some(raw) = entry.get::<String>("a") else {
                    continue;
                };
                match serde_json::from_str::<Entry>(&raw) {
                    Ok(e) => batch.push((key.key.clone(), entry.id, e)),
                    Err(e) => tracing::warn!(error = %e, "unreadable outbox entry skipped"),
                }
            }
        }
        if batch.is_empty() {
            if !blocking {
                // Nothing was pending for that partition.
                if let Some(&p) = owned.iter().find(|p| !self.recovered.contains(p)) {
                    self.recovered.insert(p);
                }
            }
            return Ok(0);
        }
        let n = batch.len();
        if let Err(e) = self.apply(&batch).await {
            // The entries stay unacknowledged: read them again first.
            self.recovered.clear();
            return Err(e);
        }
        // Acknowledge and drop what is applied.
        let mut pipe = redis::pipe();
        let mut per_key: HashMap<&str, Vec<&str>> = HashMap::new();
        for (key, id, _) in &batch {
            per_key.entry(key.as_str()).or_default().push(id.as_str());
        }
        for (key, ids) in per_key {
            pipe.xack(key, GROUP, &ids)
                .ignore()
                .xdel(key, &ids)
                .ignore();
        }
        let _: () = pipe.query_async(&mut conn).await?;
        Ok(n)
    }

    /// Fold the entries into the alerts they change, write each once,
    /// publish each change.
    async fn apply(&self, batch: &[(String, String, Entry)]) -> anyhow::Result<()> {
        let store = &self.app.store;
        let mut alerts: HashMap<String, Option<AlertDoc>> = HashMap::new();
        let mut changes: HashMap<String, Change> = HashMap::new();
        let mut cache = Cache::default();
        let now = self.app.clock.now();
        let mut order: Vec<String> = Vec::new();
        // Transitions of instances deleted since (their owner may have been
        // purged) must not bring their alerts back.
        let handlers = handlers_of(store, batch.iter().map(|(_, _, e)| &e.handler)).await?;
        let live: HashSet<String> = handlers.iter().map(|h| h.id.clone()).collect();
        cache.prefetch(&self.app, &handlers).await?;
        // The alerts the batch touches, read in one query.
        let mut wanted: Vec<String> = batch
            .iter()
            .filter(|(_, _, e)| live.contains(&e.handler))
            .map(|(_, _, e)| alert_id(&e.handler, &e.key))
            .collect();
        wanted.sort();
        wanted.dedup();
        let mut stored = store.alerts_by_ids(&wanted).await?;
        let mut created: HashSet<String> = HashSet::new();
        for (_, entry_id, e) in batch {
            if !live.contains(&e.handler) {
                continue;
            }
            let id = alert_id(&e.handler, &e.key);
            if !alerts.contains_key(&id) {
                let existing = stored.remove(&id);
                if existing.is_none() {
                    created.insert(id.clone());
                }
                alerts.insert(id.clone(), existing);
                order.push(id.clone());
            }
            let slot = alerts.get_mut(&id).expect("inserted above");
            // Several changes in one batch: people hear of the strongest.
            if let Some(c) = fold(slot, &id, &padded(entry_id), e) {
                let old = changes.get(&id).copied();
                changes.insert(
                    id.clone(),
                    if old == Some(Change::Fired) && c != Change::Resolved {
                        Change::Fired
                    } else {
                        c
                    },
                );
            }
        }
        let docs: Vec<&AlertDoc> = order
            .iter()
            .filter_map(|id| alerts.get(id).and_then(Option::as_ref))
            .collect();
        // Queue the notices first: if we crash before the save, the replay
        // queues them again (harmlessly); the other way round they would be lost.
        for doc in &docs {
            if let Some(&change) = changes.get(&doc.id) {
                enqueue(&self.app, doc, change, now, &mut cache).await?;
            }
        }
        let (new, old): (Vec<&AlertDoc>, Vec<&AlertDoc>) =
            docs.iter().partition(|d| created.contains(&d.id));
        // Existing alerts deleted meanwhile (a purge) stay deleted.
        let gone = store.save_alerts(&new, &old).await?;
        let mut conn = self.app.broker.conn();
        for doc in docs {
            if gone.contains(&doc.id) {
                continue;
            }
            self.app.metrics.alert_writes.inc();
            let message = json!({"type": "alert", "alert": view(doc, false)}).to_string();
            let r: RedisResult<()> = conn
                .publish(self.app.broker.live_channel(&doc.owner), message)
                .await;
            if let Err(e) = r {
                tracing::debug!(error = %e, "live update not published");
            }
        }
        // An instance deleted while this batch was written (after the check
        // above) had its alerts deleted before ours were created: delete them.
        if !created.is_empty() {
            let still = live_handlers(
                store,
                created.iter().filter_map(|id| {
                    alerts
                        .get(id)
                        .and_then(Option::as_ref)
                        .map(|a| &a.handler_id)
                }),
            )
            .await?;
            for id in &created {
                if let Some(Some(a)) = alerts.get(id)
                    && !still.contains(&a.handler_id)
                {
                    store.delete_alert(id).await?;
                }
            }
        }
        Ok(())
    }
}

/// The handler instances of these ids that exist, in one query.
async fn handlers_of<'a>(
    store: &crate::store::Store,
    ids: impl Iterator<Item = &'a String>,
) -> anyhow::Result<Vec<crate::store::HandlerBrief>> {
    let mut ids: Vec<String> = ids.cloned().collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store.handler_briefs(&ids).await?)
}

/// Which of these handler instances exist.
async fn live_handlers<'a>(
    store: &crate::store::Store,
    ids: impl Iterator<Item = &'a String>,
) -> anyhow::Result<HashSet<String>> {
    Ok(handlers_of(store, ids)
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect())
}

/// Apply one entry to an alert (absent when new).
/// Returns what changed for people (a repeat changes nothing they are told).
fn fold(slot: &mut Option<AlertDoc>, id: &str, applied: &str, e: &Entry) -> Option<Change> {
    if slot.as_ref().is_some_and(|a| a.applied.as_str() >= applied) {
        return None;
    }
    let mut change = None;
    let at = DateTime::from_millis(e.at);
    let event: Value = match &e.event {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    let push = |a: &mut AlertDoc, what: &str| {
        a.history.push(HistoryEntry {
            at,
            what: what.to_owned(),
            severity: Some(a.severity.clone()),
            summary: a.summary.clone(),
        });
        if a.history.len() > HISTORY_LEN {
            let extra = a.history.len() - HISTORY_LEN;
            a.history.drain(..extra);
        }
    };
    if e.kind == "fire" {
        let severity = e.severity.clone().unwrap_or_else(|| "warning".to_owned());
        let a = slot.get_or_insert_with(|| AlertDoc {
            id: id.to_owned(),
            owner: e.owner.clone(),
            handler_id: e.handler.clone(),
            key: e.key.clone(),
            status: "new".to_owned(),
            severity: severity.clone(),
            summary: String::new(),
            fields: Value::Null,
            count: 0,
            first_seen: at,
            last_seen: at,
            event_id: None,
            event: Value::Null,
            history: Vec::new(),
            applied: String::new(),
            updated_at: at,
        });
        let new_episode = a.status != "firing";
        let severity_changed = a.severity != severity;
        a.severity = severity;
        a.summary = e.summary.clone();
        a.fields = e.fields.clone();
        a.last_seen = at;
        a.event_id = e.event_id.clone();
        a.event = event;
        if new_episode {
            a.status = "firing".to_owned();
            a.count = e.count;
            a.first_seen = at;
            push(a, "fired");
            change = Some(Change::Fired);
        } else {
            a.count += e.count;
            if severity_changed {
                push(a, "severity");
                change = Some(Change::Severity);
            }
        }
        a.applied = applied.to_owned();
        a.updated_at = DateTime::now();
    } else if let Some(a) = slot.as_mut() {
        a.applied = applied.to_owned();
        if a.status != "resolved" {
            a.status = "resolved".to_owned();
            a.last_seen = at;
            if e.event_id.is_some() {
                a.event_id = e.event_id.clone();
                a.event = event;
            }
            push(a, "resolved");
            change = Some(Change::Resolved);
        }
        a.updated_at = DateTime::now();
    }
    change
}
