//! The dispatcher: events become alert transitions.
//!
//! Handler instances are spread over `P` partitions (`hash(id) % P`). A node
//! owns a partition through a lease in Redis and is then the only one that
//! runs its instances, so each instance's state is updated by one task, in
//! stream order, without locks. Every partition reads the whole `events`
//! stream from its own checkpoint.
//!
//! One task per node runs all the partitions it owns (rather than one task
//! per partition, as DESIGN.md first said): it reads the stream once, from
//! the lowest checkpoint it holds, and gives each event to the partitions that
//! have not yet seen it, so a node reads each event once however many
//! partitions it owns. Each partition still commits on its own (see
//! [`partition`]), atomically, fenced by its lease.
//!
//! Leases: each node registers itself with a heartbeat, takes at most its fair
//! share (`ceil(P / live nodes)`) of the free partitions, and gives back what
//! is over its share, so a second node gets half the work within a lease
//! period and takes all of it over when the first one's leases expire.

mod index;
pub mod partition;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamRangeReply, StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, RedisResult};
use serde_json::Value;
use tellify_handlers::{Event, Handler, Output, derive};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::broker::{CONFIG_CHANGES_KEPT, partition_of, stored_event};
use crate::catalog;
use crate::state::AppState;
use crate::store::HandlerDoc;
use index::Index;
use partition::{EventRef, Partition, Slot};

/// Timings of the dispatcher; tests shorten them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a lease lasts without renewal; a dead node's partitions are
    /// taken over after this. Renewed every third of it.
    pub lease_ttl: Duration,
    /// How often time-based handlers (heartbeat, windows) are ticked.
    pub tick_every: Duration,
    /// Full reload of handler configs, besides the pub/sub signal.
    pub reload_every: Duration,
    /// Events read per XREAD.
    pub batch: usize,
    /// While behind, reads go on without a commit up to this many events or
    /// this long; a read that finds fewer than `batch` events commits at once.
    pub commit_events: usize,
    pub commit_after: Duration,
    /// ... or until this many alert transitions wait (they hold fields,
    /// summaries and events: this bounds the memory a commit needs).
    pub commit_transitions: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lease_ttl: Duration::from_secs(10),
            tick_every: Duration::from_secs(1),
            reload_every: Duration::from_secs(30),
            batch: 1000,
            commit_events: 20_000,
            commit_after: Duration::from_secs(1),
            commit_transitions: 20_000,
        }
    }
}

/// Longest a checkpoint-only commit waits (see [`Dispatcher::commit`]).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// A handler instance ready to run.
pub struct Instance {
    pub id: InstanceId,
    pub owner: Arc<str>,
    pub revision: i64,
    pub enabled: bool,
    pub partition: u32,
    pub handler: Arc<dyn Handler>,
}

pub struct Dispatcher {
    app: AppState,
    node: String,
    settings: Settings,
    read_conn: Option<MultiplexedConnection>,
    instances: HashMap<InstanceId, Arc<Instance>>,
    partitions: BTreeMap<u32, Partition>,
    index: Index,
    ticking: Vec<Arc<Instance>>,
    reload_wanted: Arc<AtomicBool>,
    reloaded: Arc<Notify>,
    caught_up: bool,
    candidates: Vec<u32>,
    /// (instance position, event number in the chunk) pairs to run.
    work: Vec<(u32, u32)>,
    /// When checkpoints alone were last committed.
    last_commit: Instant,
    /// The last config change applied (`None`: nothing loaded yet).
    changes_seen: Option<String>,
    /// The partitions owned, shared with this node's alert writer.
    published: crate::alerts::writer::Owned,
}

const ACQUIRE: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1 end
return 0
";
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// The millisecond time in a stream id (`1700000000000-3` → 1700000000000).
pub fn id_millis(id: &str) -> i64 {
    id.split('-')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// A stream id as (milliseconds, sequence), which compare in stream order.
pub type StreamPos = (u64, u64);

/// A handler instance's id, shared by its slot, transitions and dirty lists.
pub type InstanceId = Arc<str>;

/// A hash map with a fast hasher, for the maps the hot path looks up per
/// candidate (their keys are our own ids, not attacker-chosen in bulk).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Stream ids compare as (milliseconds, sequence).
pub fn id_key(id: &str) -> StreamPos {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Dispatcher {
    pub fn new(app: AppState, settings: Settings) -> Self {
        Dispatcher {
            node: crate::auth::secrets::new_secret("node-"),
            app,
            settings,
            read_conn: None,
            instances: HashMap::new(),
            partitions: BTreeMap::new(),
            index: Index::default(),
            ticking: Vec::new(),
            reload_wanted: Arc::new(AtomicBool::new(true)),
            reloaded: Arc::new(Notify::new()),
            caught_up: false,
            candidates: Vec::new(),
            work: Vec::new(),
            last_commit: Instant::now(),
            changes_seen: None,
            published: Default::default(),
        }
    }

    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// The partitions this node owns, kept current for the alert writer.
    pub fn owned_handle(&self) -> crate::alerts::writer::Owned {
        self.published.clone()
    }

    /// Partitions this node owns now.
    pub fn owned(&self) -> Vec<u32> {
        self.partitions.keys().copied().collect()
    }

    /// Run until `shutdown`, then commit and give the leases back.
    pub async fn run(mut self, shutdown: CancellationToken) {
        self.spawn_reload_listener(shutdown.clone());
        let lease_every = self.settings.lease_ttl / 3;
        let mut next_lease = Instant::now();
        let mut next_tick = Instant::now() + self.settings.tick_every;
        let mut next_reload = Instant::now() + self.settings.reload_every;
        while !shutdown.is_cancelled() {
            let now = Instant::now();
            if now >= next_reload || self.changes_seen.is_none() {
                // Bounded, so a MongoDB that does not answer cannot hold the
                // loop past the leases' renewal.
                let limit = self.settings.lease_ttl / 3;
                let r = tokio::time::timeout(limit, self.reload())
                    .await
                    .unwrap_or_else(|_| {
                        Err(anyhow::anyhow!("MongoDB did not answer within {limit:?}"))
                    });
                if let Err(e) = r {
                    tracing::warn!(error = %e, "reloading handler configs failed; keeping the ones loaded");
                }
                next_reload = now + self.settings.reload_every;
            } else if self.reload_wanted.swap(false, Ordering::AcqRel)
                && let Err(e) = self.apply_changes().await
            {
                tracing::warn!(error = %e, "applying config changes failed; keeping the ones loaded");
            }
            if now >= next_lease {
                if let Err(e) = self.manage_leases().await {
                    tracing::warn!(error = %e, "managing partition leases failed");
                }
                next_lease = now + lease_every;
            }
            if now >= next_tick {
                if self.caught_up
                    && let Err(e) = self.tick(now_millis()).await
                {
                    tracing::warn!(error = %e, "ticking handlers failed");
                }
                next_tick = now + self.settings.tick_every;
            }
            let until = next_lease.min(next_tick).min(next_reload);
            let block = until
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), Duration::from_millis(250));
            tokio::select! {
                r = self.step(block) => {
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "dispatching failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                () = shutdown.cancelled() => {}
            }
        }
        self.release_all().await;
    }

    /// Listen for "configs changed" and ask the loop to reload.
    fn spawn_reload_listener(&self, shutdown: CancellationToken) {
        let client = self.app.broker.client().clone();
        let channel = self.app.broker.configs_channel();
        let wanted = self.reload_wanted.clone();
        let notify = self.reloaded.clone();
        tokio::spawn(async move {
            use futures::StreamExt;
            while !shutdown.is_cancelled() {
                let pubsub = async {
                    let mut ps = client.get_async_pubsub().await?;
                    ps.subscribe(&channel).await?;
                    // A change may have happened while we were not listening.
                    wanted.store(true, Ordering::Release);
                    let mut messages = ps.into_on_message();
                    while messages.next().await.is_some() {
                        wanted.store(true, Ordering::Release);
                        notify.notify_one();
                    }
                    RedisResult::Ok(())
                };
                tokio::select! {
                    r = pubsub => if let Err(e) = r {
                        tracing::debug!(error = %e, "config listener lost Redis");
                    },
                    () = shutdown.cancelled() => return,
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Load every handler instance from MongoDB, reusing the compiled ones
    /// whose parameters did not change, and forget the state of the deleted.
    pub async fn reload(&mut self) -> anyhow::Result<()> {
        let broker = self.app.broker.clone();
        // Where the changes stream is now: later changes are applied on top.
        let last: StreamRangeReply = broker
            .conn()
            .xrevrange_count(broker.config_changes_key(), "+", "-", 1)
            .await?;
        let cursor = last
            .ids
            .first()
            .map(|e| e.id.clone())
            .unwrap_or_else(|| "0-0".to_owned());
        let docs = self.app.store.all_handlers().await?;
        let mut next = HashMap::with_capacity(docs.len());
        for doc in docs {
            if let Some(inst) = self.instance_of(doc) {
                next.insert(inst.id.clone(), inst);
            }
        }
        self.instances = next;
        self.changes_seen = Some(cursor);
        self.forget_deleted();
        self.rebuild_index();
        Ok(())
    }

    /// Apply the config changes made since the last ones applied: only the
    /// instances named are read from MongoDB. A node too far behind (the
    /// stream was trimmed past it) reloads everything.
    pub async fn apply_changes(&mut self) -> anyhow::Result<()> {
        let Some(seen) = self.changes_seen.clone() else {
            return self.reload().await;
        };
        let broker = self.app.broker.clone();
        let mut conn = broker.conn();
        let key = broker.config_changes_key();
        let page: StreamRangeReply = conn
            .xrange_count(&key, format!("({seen}"), "+", 10_000)
            .await?;
        if page.ids.is_empty() {
            return Ok(());
        }
        if page.ids.len() == 10_000 {
            return self.reload().await;
        }
        if seen != "0-0" {
            let len: usize = conn.xlen(&key).await?;
            let first: StreamRangeReply = conn.xrange_count(&key, "-", "+", 1).await?;
            let gap = first
                .ids
                .first()
                .is_some_and(|f| id_key(&f.id) > id_key(&seen));
            if gap && len >= CONFIG_CHANGES_KEPT {
                return self.reload().await;
            }
        }
        let mut ids: Vec<String> = page
            .ids
            .iter()
            .filter_map(|e| e.get::<String>("h"))
            .collect();
        ids.sort();
        ids.dedup();
        let docs = self.app.store.handlers_by_ids(&ids).await?;
        let mut old: HashMap<String, Arc<Instance>> = HashMap::new();
        for id in ids {
            if let Some(inst) = self.instances.remove(id.as_str()) {
                old.insert(id, inst);
            }
        }
        for doc in docs {
            let old = old.get(&doc.id).cloned();
            if let Some(inst) = self.instance_of_with(doc, old.as_deref()) {
                self.instances.insert(inst.id.clone(), inst);
            }
        }
        self.changes_seen = page.ids.last().map(|e| e.id.clone());
        self.forget_deleted();
        self.rebuild_index();
        Ok(())
    }

    fn instance_of(&self, doc: HandlerDoc) -> Option<Arc<Instance>> {
        let old = self.instances.get(doc.id.as_str()).cloned();
        self.instance_of_with(doc, old.as_deref())
    }

    /// A runnable instance of a stored config; the compiled handler of `old`
    /// is reused when the parameters did not change.
    fn instance_of_with(&self, doc: HandlerDoc, old: Option<&Instance>) -> Option<Arc<Instance>> {
        let handler = match old {
            Some(old) if old.revision == doc.revision => old.handler.clone(),
            _ => match catalog::compile_stored(&doc.kind, &doc.params) {
                Some(h) => Arc::from(h),
                None => {
                    tracing::warn!(handler = %doc.id, "stored parameters no longer compile; instance skipped");
                    return None;
                }
            },
        };
        Some(Arc::new(Instance {
            partition: partition_of(&doc.id, self.app.config.partitions),
            id: doc.id.into(),
            owner: doc.owner.into(),
            revision: doc.revision,
            enabled: doc.enabled,
            handler,
        }))
    }

    /// Drop the state of instances that no longer exist.
    fn forget_deleted(&mut self) {
        for part in self.partitions.values_mut() {
            let gone: Vec<InstanceId> = part
                .slots
                .keys()
                .filter(|id| !self.instances.contains_key(&***id))
                .cloned()
                .collect();
            for id in gone {
                part.forget(&id);
            }
        }
    }

    fn rebuild_index(&mut self) {
        if let Ok(mut owned) = self.published.write() {
            *owned = self.partitions.keys().copied().collect();
        }
        let mine: Vec<Arc<Instance>> = self
            .instances
            .values()
            .filter(|i| i.enabled && self.partitions.contains_key(&i.partition))
            .cloned()
            .collect();
        self.ticking = mine.iter().filter(|i| i.handler.ticks()).cloned().collect();
        self.index = Index::build(mine);
    }

    /// Register this node, renew its leases, give back what is over its fair
    /// share and take free partitions up to it.
    pub async fn manage_leases(&mut self) -> anyhow::Result<()> {
        let broker = self.app.broker.clone();
        let mut conn = broker.conn();
        let ttl = self.settings.lease_ttl.as_millis() as i64;
        let now = now_millis();
        let nodes_key = broker.key("nodes");
        let (live,): (u32,) = redis::pipe()
            .zadd(&nodes_key, &self.node, now)
            .ignore()
            .zrembyscore(&nodes_key, "-inf", now - ttl)
            .ignore()
            .zcard(&nodes_key)
            .query_async(&mut conn)
            .await?;
        let total = self.app.config.partitions;
        let fair = total.div_ceil(live.max(1)) as usize;
        let mut changed = false;

        let renew = redis::Script::new(RENEW);
        for p in self.owned() {
            let ok: i64 = renew
                .key(broker.lease_key(p))
                .arg(&self.node)
                .arg(ttl)
                .invoke_async(&mut conn)
                .await?;
            if ok == 0 {
                tracing::warn!(
                    partition = p,
                    "lease lost; another node owns the partition now"
                );
                self.partitions.remove(&p);
                changed = true;
            }
        }
        let release = redis::Script::new(RELEASE);
        while self.partitions.len() > fair {
            let Some((&p, _)) = self.partitions.last_key_value() else {
                break;
            };
            // Nothing is pending between steps: every batch is committed.
            self.partitions.remove(&p);
            let _: i64 = release
                .key(broker.lease_key(p))
                .arg(&self.node)
                .invoke_async(&mut conn)
                .await?;
            tracing::info!(partition = p, "partition handed over to balance the nodes");
            changed = true;
        }
        let acquire = redis::Script::new(ACQUIRE);
        for p in 0..total {
            if self.partitions.len() >= fair {
                break;
            }
            if self.partitions.contains_key(&p) {
                continue;
            }
            let ok: i64 = acquire
                .key(broker.lease_key(p))
                .arg(&self.node)
                .arg(ttl)
                .invoke_async(&mut conn)
                .await?;
            if ok == 1 {
                let part = self.load_partition(p).await?;
                tracing::info!(partition = p, checkpoint = %part.checkpoint, node = %self.node, "partition acquired");
                self.partitions.insert(p, part);
                changed = true;
            }
        }
        if changed {
            self.rebuild_index();
            self.caught_up = false;
        }
        // One node trims: the owner of partition 0.
        if self.partitions.contains_key(&0) {
            self.trim().await?;
        }
        Ok(())
    }

    /// Trim the events stream below the lowest checkpoint of all partitions
    /// and the retention time, whichever is older.
    async fn trim(&self) -> RedisResult<()> {
        let broker = &self.app.broker;
        let mut conn = broker.conn();
        let keys: Vec<String> = (0..self.app.config.partitions)
            .map(|p| broker.checkpoint_key(p))
            .collect();
        let checkpoints: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut conn).await?;
        let Some(lowest) = checkpoints
            .iter()
            .map(|c| c.as_deref().map(id_key))
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().min())
        else {
            return Ok(()); // a partition has processed nothing yet
        };
        let retention = self.app.config.events_retention.as_millis() as u64;
        let keep_from = (now_millis() as u64).saturating_sub(retention);
        let min_id = if lowest.0 < keep_from {
            format!("{}-{}", lowest.0, lowest.1)
        } else {
            format!("{keep_from}-0")
        };
        // MINID keeps entries >= min_id: the lowest checkpoint itself stays,
        // which is harmless (it is read as the start of the next range).
        let _: i64 = redis::cmd("XTRIM")
            .arg(broker.events_key())
            .arg("MINID")
            .arg(&min_id)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Read a partition's checkpoint and states from Redis.
    async fn load_partition(&self, p: u32) -> RedisResult<Partition> {
        let broker = &self.app.broker;
        let mut conn = broker.conn();
        let checkpoint: Option<String> = conn.get(broker.checkpoint_key(p)).await?;
        let raw: HashMap<String, String> = conn.hgetall(broker.state_key(p)).await?;
        let slots = raw
            .into_iter()
            .filter_map(|(id, json)| {
                let v: Value = serde_json::from_str(&json).ok()?;
                Some((
                    InstanceId::from(id),
                    Slot::new(
                        v.get("rev")?.as_i64()?,
                        v.get("state").cloned().unwrap_or(Value::Null),
                    ),
                ))
            })
            .collect();
        Ok(Partition::new(
            p,
            checkpoint.unwrap_or_else(|| "0-0".to_owned()),
            slots,
        ))
    }

    async fn read_conn(&mut self) -> RedisResult<MultiplexedConnection> {
        if let Some(c) = &self.read_conn {
            return Ok(c.clone());
        }
        let c = self.app.broker.dedicated_conn().await?;
        self.read_conn = Some(c.clone());
        Ok(c)
    }

    /// Read one batch of events (waiting up to `block` for one) and run it
    /// through the owned partitions; returns how many events were read.
    pub async fn step(&mut self, block: Duration) -> anyhow::Result<usize> {
        let Some(from) = self
            .partitions
            .values()
            .map(|p| p.checkpoint.clone())
            .min_by_key(|c| id_key(c))
        else {
            tokio::time::sleep(block).await;
            return Ok(0);
        };
        if self.changes_seen.is_none() {
            // Never run events without the configs: they would go by unseen.
            self.reload().await?;
        }
        // Read and run chunks of `batch` events until caught up or until
        // `commit_events` / `commit_after`, then commit once: the states
        // written per commit are bounded by the instances touched, not by the
        // events, so catching up commits rarely and big.
        let started = Instant::now();
        let mut from = from;
        let mut n = 0;
        let mut newest: Option<String> = None;
        loop {
            let mut conn = self.read_conn().await?;
            let mut options = StreamReadOptions::default().count(self.settings.batch);
            if n == 0 {
                options = options.block(block.as_millis().max(1) as usize);
            }
            let reply: Option<StreamReadReply> = match conn
                .xread_options(&[self.app.broker.events_key()], &[from.as_str()], &options)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    self.read_conn = None;
                    if n == 0 {
                        return Err(e.into());
                    }
                    // Commit what was run; the next step reads again.
                    tracing::warn!(error = %e, "reading events failed; committing what was read");
                    break;
                }
            };
            let entries = reply
                .and_then(|r| r.keys.into_iter().next())
                .map(|k| k.ids)
                .unwrap_or_default();
            let read = entries.len();
            n += read;
            self.caught_up = read < self.settings.batch;
            if read > 0 {
                // Configs changed before these events were accepted must apply.
                if let Err(e) = self.apply_changes().await {
                    tracing::warn!(error = %e, "applying config changes failed; running the ones loaded");
                }
            }
            let chunk: Vec<EventRef> = entries
                .into_iter()
                .filter_map(stored_event)
                .map(|stored| EventRef {
                    id: stored.id.into(),
                    json: stored.json.into(),
                })
                .collect();
            self.process(&chunk);
            if let Some(last) = chunk.last().map(|e| e.id.clone()) {
                let at = id_key(&last);
                for part in self.partitions.values_mut() {
                    if part.checkpoint_at < at {
                        part.advance(&last, at);
                    }
                }
                let last = last.to_string();
                from.clone_from(&last);
                newest = Some(last);
            }
            let pending: usize = self.partitions.values().map(Partition::pending).sum();
            if self.caught_up
                || n >= self.settings.commit_events
                || pending >= self.settings.commit_transitions
                || started.elapsed() >= self.settings.commit_after.min(self.settings.lease_ttl / 4)
            {
                break;
            }
        }
        self.commit().await?;
        if let Some(newest) = newest {
            let m = &self.app.metrics;
            let newest_ms = id_millis(&newest);
            for part in self.partitions.values() {
                let lag = (now_millis() - newest_ms).max(0);
                m.dispatcher_lag_ms
                    .get_or_create(&crate::metrics::PartitionLabel { partition: part.id })
                    .set(if self.caught_up { 0 } else { lag });
            }
        }
        Ok(n)
    }

    /// Run a chunk of events through every owned partition that has not
    /// seen them.
    ///
    /// Instance by instance rather than event by event: the candidates of
    /// every event are listed first, then each instance runs over its events
    /// in stream order. An instance's state only depends on its own events in
    /// order, so the outcome is the same, but its parameters and state are
    /// loaded into the CPU's cache once per chunk instead of once per event
    /// (with 10,000 instances, touching cold instance data was most of the
    /// dispatch time). Transitions of one instance keep their order; those of
    /// different instances interleave differently, which nothing depends on.
    fn process(&mut self, chunk: &[EventRef]) {
        if self.index.instances.is_empty() {
            // Nothing to run: the events need not even be parsed.
            self.app
                .metrics
                .events_dispatched
                .inc_by(chunk.len() as u64);
            return;
        }
        // (event, its position in the stream, its time, the stored event).
        let mut events: Vec<(Event, StreamPos, i64, &EventRef)> = Vec::with_capacity(chunk.len());
        let mut work = std::mem::take(&mut self.work);
        work.clear();
        let mut candidates = std::mem::take(&mut self.candidates);
        for stored in chunk {
            let Ok(Value::Object(mut event)) = serde_json::from_str::<Value>(&stored.json) else {
                tracing::warn!(event = &*stored.id, "unreadable event skipped");
                continue;
            };
            event.insert(
                tellify_handlers::derive::EVENT_ID_FIELD.to_owned(),
                Value::String(stored.id.to_string()),
            );
            self.index.candidates(&event, &mut candidates);
            let n = u32::try_from(events.len()).unwrap_or(u32::MAX);
            work.extend(candidates.iter().map(|&pos| (pos, n)));
            events.push((event, id_key(&stored.id), id_millis(&stored.id), stored));
        }
        self.app
            .metrics
            .events_dispatched
            .inc_by(events.len() as u64);
        // By instance, then by event: each instance's events in order (the
        // index lists an instance once per event, so no pair repeats).
        work.sort_unstable();
        let mut evaluated = 0;
        for &(pos, n) in &work {
            let inst = &self.index.instances[pos as usize];
            let (event, at, now, stored) = &events[n as usize];
            let Some(part) = self.partitions.get_mut(&inst.partition) else {
                continue;
            };
            if part.checkpoint_at >= *at {
                continue;
            }
            let (slot, dirty) = part.slot_and_dirty(&inst.id, inst.revision);
            evaluated += 1;
            let Some(outputs) = inst.handler.handle(&mut slot.state, event, *now) else {
                continue;
            };
            Partition::note_dirty(dirty, slot, &inst.id);
            for output in outputs {
                record(part, inst, output, *now, Some(stored), event);
            }
        }
        self.app.metrics.handler_evaluations.inc_by(evaluated);
        self.candidates = candidates;
        self.work = work;
    }

    /// Tick the time-based instances of every owned partition.
    pub async fn tick(&mut self, now: i64) -> anyhow::Result<()> {
        let empty = Event::new();
        for inst in self.ticking.clone() {
            let Some(part) = self.partitions.get_mut(&inst.partition) else {
                continue;
            };
            let state = &mut part.slot(&inst.id, inst.revision).state;
            if let Some(outputs) = inst.handler.tick(state, now) {
                part.mark_dirty(&inst.id);
                for output in outputs {
                    record(part, &inst, output, now, None, &empty);
                }
            }
        }
        self.commit().await
    }

    /// Commit every partition with changes. A commit refused for a lost lease
    /// drops the partition; a failed round trip drops them all (we cannot know
    /// what landed), and they are loaded again from Redis on the next lease
    /// round, which replays from whatever checkpoint did land.
    ///
    /// A partition whose only change is its checkpoint (the events it saw
    /// changed no state and said nothing) is committed at most every
    /// [`CHECKPOINT_EVERY`]: replaying such events after a crash changes
    /// nothing either, and a commit per small read was most of Redis's work
    /// (one script per partition) while events arrive one per request.
    async fn commit(&mut self) -> anyhow::Result<()> {
        let checkpoints_due = self.last_commit.elapsed() >= CHECKPOINT_EVERY;
        let changed: Vec<u32> = self
            .partitions
            .values()
            .filter(|p| p.has_effects() || (checkpoints_due && p.has_changes()))
            .map(|p| p.id)
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        if checkpoints_due {
            self.last_commit = Instant::now();
        }
        let mut pipe = redis::pipe();
        for p in &changed {
            if let Some(part) = self.partitions.get(p) {
                part.add_commit(&mut pipe, &self.app.broker, &self.node);
            }
        }
        let results: RedisResult<Vec<i64>> = pipe.query_async(&mut self.app.broker.conn()).await;
        let results = match results {
            Ok(r) => r,
            Err(e) => {
                self.partitions.clear();
                self.rebuild_index();
                return Err(anyhow::Error::from(e)
                    .context("committing partitions; reloading them from Redis"));
            }
        };
        let mut lost = false;
        for (p, ok) in changed.iter().zip(results) {
            if ok == 1 {
                if let Some(part) = self.partitions.get_mut(p) {
                    let done = part.committed();
                    self.app.metrics.alerts_fired.inc_by(done.fired);
                    self.app.metrics.alerts_resolved.inc_by(done.resolved);
                }
            } else {
                tracing::warn!(partition = p, "commit refused: the lease is lost");
                self.partitions.remove(p);
                lost = true;
            }
        }
        if lost {
            self.rebuild_index();
        }
        Ok(())
    }

    /// Shut down: everything is committed after each step; give the leases
    /// back so another node takes over at once.
    async fn release_all(&mut self) {
        let release = redis::Script::new(RELEASE);
        let mut conn = self.app.broker.conn();
        for p in self.owned() {
            let r: RedisResult<i64> = release
                .key(self.app.broker.lease_key(p))
                .arg(&self.node)
                .invoke_async(&mut conn)
                .await;
            if let Err(e) = r {
                tracing::warn!(partition = p, error = %e, "could not release a lease; it will expire");
            }
        }
        let _: RedisResult<()> = conn.zrem(self.app.broker.key("nodes"), &self.node).await;
        self.partitions.clear();
        self.rebuild_index();
    }
}

/// Record an output of `inst` in its partition: alert transitions to the
/// outbox, derived events (marked with their origin) to the stream.
fn record(
    part: &mut Partition,
    inst: &Instance,
    output: Output,
    now: i64,
    event: Option<&EventRef>,
    parent: &Event,
) {
    match output {
        Output::Emit { event: emitted } => {
            if let Some(mut derived) = derive(parent, emitted, &inst.id) {
                let at = jiff::Timestamp::from_millisecond(now)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                derived.insert("received_at".to_owned(), Value::String(at));
                if let Ok(json) = serde_json::to_string(&derived) {
                    part.emit(json);
                }
            }
        }
        other => part.record(&inst.id, &inst.owner, other, now, event),
    }
}
