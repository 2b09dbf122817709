//! The stream and state broker: Redis.
//!
//! Holds the `events` stream and (with the dispatcher) handler state,
//! checkpoints, leases, the alerts outbox and pub/sub. Every key starts with
//! the configured prefix so several installations can share one Redis.
//!
//! The connection is made lazily and re-made after failures, so Tellify starts
//! while Redis is down and answers 503 until it is back, rather than refusing
//! to start or hanging.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::streams::{StreamId, StreamRangeReply};
use redis::{AsyncCommands, Client, RedisResult};

/// One entry of the `events` stream: its id and the event JSON.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: String,
    pub json: String,
}

/// Config changes kept in their stream; a node further behind reloads all.
pub const CONFIG_CHANGES_KEPT: usize = 100_000;

/// The field of a stream entry that holds the event as JSON.
pub const EVENT_FIELD: &str = "e";

#[derive(Clone)]
pub struct Broker {
    client: Client,
    conn: ConnectionManager,
    prefix: String,
}

impl Broker {
    /// Set up the (lazy) connection; fails only on a malformed URL.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Broker {
            client,
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// A connection handle: cheap to clone, multiplexed, reconnecting.
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// A connection of its own, for blocking reads (XREAD BLOCK) that must
    /// not hold up the shared one. Its answers may take up to 10 s.
    pub async fn dedicated_conn(&self) -> RedisResult<redis::aio::MultiplexedConnection> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(10)));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// The underlying client, for dedicated connections (pub/sub).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A key under this installation's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn events_key(&self) -> String {
        self.key("events")
    }

    /// Append events to the stream, atomically when there are several, and
    /// return their ids in order.
    pub async fn append_events(&self, events: &[String]) -> RedisResult<Vec<String>> {
        let key = self.events_key();
        let mut conn = self.conn();
        if let [one] = events {
            let id: String = conn.xadd(&key, "*", &[(EVENT_FIELD, one)]).await?;
            return Ok(vec![id]);
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for e in events {
            pipe.xadd(&key, "*", &[(EVENT_FIELD, e)]);
        }
        pipe.query_async(&mut conn).await
    }

    /// Newest events first, below `before` and above `after` (both
    /// exclusive) when given.
    pub async fn recent_events(
        &self,
        count: usize,
        before: Option<&str>,
        after: Option<&str>,
    ) -> RedisResult<Vec<StoredEvent>> {
        let end = match before {
            Some(id) => format!("({id}"),
            None => "+".to_owned(),
        };
        let start = match after {
            Some(id) => format!("({id}"),
            None => "-".to_owned(),
        };
        let reply: StreamRangeReply = self
            .conn()
            .xrevrange_count(self.events_key(), end, start, count)
            .await?;
        Ok(reply.ids.into_iter().filter_map(stored_event).collect())
    }

    /// Length of the events stream.
    pub async fn events_len(&self) -> RedisResult<u64> {
        self.conn().xlen(self.events_key()).await
    }

    pub async fn ping(&self) -> RedisResult<()> {
        redis::cmd("PING").query_async::<()>(&mut self.conn()).await
    }
}

/// The event JSON of a stream entry, if it has one.
pub fn stored_event(entry: StreamId) -> Option<StoredEvent> {
    let json: String = entry.get(EVENT_FIELD)?;
    Some(StoredEvent { id: entry.id, json })
}

/// The partition a handler instance belongs to: a stable hash (FNV-1a) of
/// its id, modulo the number of partitions.
pub fn partition_of(id: &str, partitions: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(partitions.max(1))) as u32
}

/// Names of the keys of one partition. They share the hash tag `{pN}`, so one
/// commit touches one Redis Cluster slot.
impl Broker {
    pub fn partition_key(&self, p: u32, what: &str) -> String {
        format!("{}{{p{p}}}:{what}", self.prefix)
    }

    /// Hash: instance id → state JSON.
    pub fn state_key(&self, p: u32) -> String {
        self.partition_key(p, "state")
    }

    /// The id of the last event the partition has fully processed.
    pub fn checkpoint_key(&self, p: u32) -> String {
        self.partition_key(p, "ckpt")
    }

    /// The node that owns the partition (with an expiry).
    pub fn lease_key(&self, p: u32) -> String {
        self.partition_key(p, "lease")
    }

    /// The partition's outbox of alert transitions.
    pub fn alerts_key(&self, p: u32) -> String {
        self.partition_key(p, "alerts")
    }

    /// The pub/sub channel that tells every node to reload handler configs.
    pub fn configs_channel(&self) -> String {
        self.key("configs")
    }

    /// The pub/sub channel of a user's live updates.
    pub fn live_channel(&self, user: &str) -> String {
        self.key(&format!("live:{user}"))
    }

    /// The stream of handler config changes: one entry (`h` = instance id)
    /// per created, edited or deleted instance.
    pub fn config_changes_key(&self) -> String {
        self.key("configs:changes")
    }

    /// Tell every node that a handler instance changed: append it to the
    /// changes stream (a dispatcher reads the stream after every read of
    /// events, so an event posted after the change was answered runs with the
    /// new config) and publish (so idle nodes pick it up too). Best effort:
    /// nodes also reload everything periodically.
    pub async fn signal_config_changed(&self, handler_id: &str) {
        let r: RedisResult<()> = redis::pipe()
            .cmd("XADD")
            .arg(self.config_changes_key())
            .arg("MAXLEN")
            .arg("~")
            .arg(CONFIG_CHANGES_KEPT)
            .arg("*")
            .arg("h")
            .arg(handler_id)
            .ignore()
            .publish(self.configs_channel(), handler_id)
            .ignore()
            .query_async(&mut self.conn())
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not signal a config change; nodes will reload on their timer");
        }
    }

    /// Remove a deleted instance's state.
    pub async fn forget_handler_state(&self, id: &str, partitions: u32) -> RedisResult<()> {
        self.conn()
            .hdel(self.state_key(partition_of(id, partitions)), id)
            .await
    }
}
