//! The pending queues, due times and sending of digests, in Redis.
//!
//! Keys (prefix `P`, user hash tag `{u:NAME}` so a user's keys share a slot):
//! * `P{u:NAME}:pending:CH`: hash alert id → latest [`Notice`] for channel CH;
//! * `P{u:NAME}:inflight:CH` and `…:inflight-meta:CH`: the digest being sent
//!   (kept until delivered, so a crash repeats a digest, never loses one);
//! * `P due` and `P retry`: sorted sets of `NAME\x1fCH` by due time (ms);
//! * `P{u:NAME}:lock`: one node at a time sends a user's digests.
//!
//! Claiming moves `pending` to `inflight` atomically; delivery success deletes
//! `inflight`. A failed delivery stays in flight and is retried with
//! exponential backoff and jitter, up to [`MAX_ATTEMPTS`].

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use mongodb::bson::DateTime;
use redis::{AsyncCommands, RedisResult};
use serde_json::Value;
use tellify_handlers::{AlertStatus, AlertView, Severity};

use super::policy::{Channel, ChannelKind, Policy};
use super::schedule::{due_at, rule_for};
use super::{Digest, Notice, render::render};
use crate::state::AppState;
use crate::store::{AlertDoc, NotificationDoc, new_id};

/// Delivery attempts of one digest before giving up.
pub const MAX_ATTEMPTS: i64 = 8;
const SEP: char = '\u{1f}';

fn user_key(app: &AppState, user: &str, what: &str, channel: &str) -> String {
    app.broker.key(&format!("{{u:{user}}}:{what}:{channel}"))
}

fn member(user: &str, channel: &str) -> String {
    format!("{user}{SEP}{channel}")
}

/// What changed about an alert, as far as people are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Fired,
    Severity,
    Resolved,
}

/// Queue a notice of `alert` for its owner's channels, as the policy says.
/// `policies` and `handlers` are caches the caller keeps for one batch.
pub async fn enqueue(
    app: &AppState,
    alert: &AlertDoc,
    change: Change,
    now: Timestamp,
    cache: &mut Cache,
) -> anyhow::Result<()> {
    let Some((handler_type, instance_name, policy_id)) =
        cache.handler(app, &alert.owner, &alert.handler_id).await?
    else {
        return Ok(()); // the instance is gone
    };
    let Some(policy) = cache
        .policy(app, &alert.owner, policy_id.as_deref())
        .await?
    else {
        return Ok(()); // no policy: the dashboard only
    };
    let tz = cache.timezone(app, &alert.owner).await?;
    let severity: Severity = alert.severity.parse().unwrap_or(Severity::Warning);
    let Some(rule) = rule_for(&policy, severity, change == Change::Resolved, now, &tz) else {
        return Ok(());
    };
    let notice = Notice {
        alert_id: alert.id.clone(),
        handler_id: alert.handler_id.clone(),
        handler_type,
        instance_name,
        alert: view_of(alert),
    };
    let json = serde_json::to_string(&notice)?;
    let due = due_at(rule, now, &tz).as_millisecond();
    let mut pipe = redis::pipe();
    // Whether (and how often) this alert is told again while it fires.
    let repeat_key = app
        .broker
        .key(&format!("{{u:{}}}:repeat-every", alert.owner));
    match rule.repeat_every {
        Some(every) if change != Change::Resolved => {
            pipe.hset(&repeat_key, &alert.id, every).ignore()
        }
        _ => pipe.hdel(&repeat_key, &alert.id).ignore(),
    };
    for channel in &rule.channels {
        pipe.hset(
            user_key(app, &alert.owner, "pending", channel),
            &alert.id,
            &json,
        )
        .ignore()
        .cmd("ZADD")
        .arg(app.broker.key("due"))
        .arg("LT")
        .arg(due)
        .arg(member(&alert.owner, channel))
        .ignore()
        .cmd("ZADD")
        .arg(app.broker.key("due"))
        .arg("NX")
        .arg(due)
        .arg(member(&alert.owner, channel))
        .ignore();
    }
    let () = pipe.query_async(&mut app.broker.conn()).await?;
    Ok(())
}

fn view_of(a: &AlertDoc) -> AlertView {
    AlertView {
        key: a.key.clone(),
        status: match a.status.as_str() {
            "resolved" => AlertStatus::Resolved,
            "cleared" => AlertStatus::Cleared,
            _ => AlertStatus::Firing,
        },
        severity: a.severity.parse().unwrap_or(Severity::Warning),
        summary: a.summary.clone(),
        count: a.count.max(0) as u64,
        first_seen: a.first_seen.timestamp_millis(),
        last_seen: a.last_seen.timestamp_millis(),
        fields: match &a.fields {
            Value::Object(m) => m.clone(),
            _ => serde_json::Map::new(),
        },
    }
}

/// Lookups made while queueing a batch of alerts.
#[derive(Default)]
pub struct Cache {
    handlers: HashMap<String, Option<(String, String, Option<String>)>>,
    policies: HashMap<(String, Option<String>), Option<Policy>>,
    timezones: HashMap<String, jiff::tz::TimeZone>,
}

impl Cache {
    /// Fill the cache for a batch in three queries: these handler instances
    /// (already read by the caller), the policies and the timezones of their
    /// owners. Without it each distinct instance, policy and owner of a batch
    /// was a round trip of its own, which bounded the alert writer.
    pub async fn prefetch(
        &mut self,
        app: &AppState,
        handlers: &[crate::store::HandlerBrief],
    ) -> anyhow::Result<()> {
        let mut owners: Vec<String> = handlers.iter().map(|h| h.owner.clone()).collect();
        owners.sort();
        owners.dedup();
        if owners.is_empty() {
            return Ok(());
        }
        let policies = app.store.policies_of(&owners).await?;
        for h in handlers {
            self.handlers.insert(
                h.id.clone(),
                Some((h.kind.clone(), h.name.clone(), h.policy.clone())),
            );
            let key = (h.owner.clone(), h.policy.clone());
            self.policies.entry(key).or_insert_with(|| {
                let mine = || policies.iter().filter(|p| p.owner == h.owner);
                // As `policy`: the named one, else the owner's default.
                h.policy
                    .as_deref()
                    .and_then(|id| mine().find(|p| p.id == id))
                    .or_else(|| mine().find(|p| p.default))
                    .cloned()
            });
        }
        for u in app.store.users_named(&owners).await? {
            let tz = jiff::tz::TimeZone::get(&u.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
            self.timezones.insert(u.name, tz);
        }
        Ok(())
    }

    async fn handler(
        &mut self,
        app: &AppState,
        owner: &str,
        id: &str,
    ) -> anyhow::Result<Option<(String, String, Option<String>)>> {
        if !self.handlers.contains_key(id) {
            let h = app
                .store
                .handler(owner, id)
                .await?
                .map(|h| (h.kind, h.name, h.policy));
            self.handlers.insert(id.to_owned(), h);
        }
        Ok(self.handlers.get(id).cloned().flatten())
    }

    /// The named policy, or the owner's default.
    async fn policy(
        &mut self,
        app: &AppState,
        owner: &str,
        id: Option<&str>,
    ) -> anyhow::Result<Option<Policy>> {
        let k = (owner.to_owned(), id.map(str::to_owned));
        if !self.policies.contains_key(&k) {
            let found = match id {
                Some(id) => app.store.policy(owner, id).await?,
                None => None,
            };
            let found = match found {
                Some(p) => Some(p),
                None => app
                    .store
                    .list_policies(owner)
                    .await?
                    .into_iter()
                    .find(|p| p.default),
            };
            self.policies.insert(k.clone(), found);
        }
        Ok(self.policies.get(&k).cloned().flatten())
    }

    async fn timezone(
        &mut self,
        app: &AppState,
        owner: &str,
    ) -> anyhow::Result<jiff::tz::TimeZone> {
        if !self.timezones.contains_key(owner) {
            let name = app
                .store
                .user(owner)
                .await?
                .map(|u| u.timezone)
                .unwrap_or_else(|| "UTC".into());
            let tz = jiff::tz::TimeZone::get(&name).unwrap_or(jiff::tz::TimeZone::UTC);
            self.timezones.insert(owner.to_owned(), tz);
        }
        Ok(self
            .timezones
            .get(owner)
            .cloned()
            .unwrap_or(jiff::tz::TimeZone::UTC))
    }
}

/// What one round of sending did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub sent: u32,
    pub failed: u32,
}

/// Send every digest due at `now` (optionally only `user`'s).
pub async fn run_due(
    app: &AppState,
    now: Timestamp,
    only_user: Option<&str>,
) -> anyhow::Result<Sent> {
    let mut conn = app.broker.conn();
    let ms = now.as_millisecond();
    queue_repeats(app, now, only_user).await?;
    let mut members: Vec<String> = conn
        .zrangebyscore_limit(app.broker.key("due"), "-inf", ms, 0, 200)
        .await?;
    let retries: Vec<String> = conn
        .zrangebyscore_limit(app.broker.key("retry"), "-inf", ms, 0, 200)
        .await?;
    members.extend(retries);
    members.sort();
    members.dedup();
    let mut total = Sent::default();
    for m in members {
        let Some((user, channel)) = m.split_once(SEP) else {
            continue;
        };
        if only_user.is_some_and(|u| u != user) {
            continue;
        }
        match send_one(app, user, channel, now).await {
            Ok(s) => {
                total.sent += s.sent;
                total.failed += s.failed;
            }
            Err(e) => tracing::warn!(
                user,
                channel,
                error = format!("{e:#}"),
                "sending a digest failed"
            ),
        }
    }
    Ok(total)
}

const CLAIM: &str = r"
-- KEYS: pending, inflight, meta, due ; ARGV: member, digest id, now
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[3], 'id', ARGV[2], 'attempt', 0, 'created', ARGV[3])
return 1
";

/// Send `user`'s digest for `channel`: the one in flight if a previous
/// attempt failed, else what is pending.
async fn send_one(
    app: &AppState,
    user: &str,
    channel_id: &str,
    now: Timestamp,
) -> anyhow::Result<Sent> {
    let mut conn = app.broker.conn();
    let lock = app.broker.key(&format!("{{u:{user}}}:lock"));
    let locked: Option<String> = redis::cmd("SET")
        .arg(&lock)
        .arg("1")
        .arg("NX")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut conn)
        .await?;
    if locked.is_none() {
        return Ok(Sent::default()); // another node is at it
    }
    let r = send_locked(app, user, channel_id, now).await;
    let _: RedisResult<()> = conn.del(&lock).await;
    r
}

async fn send_locked(
    app: &AppState,
    user: &str,
    channel_id: &str,
    now: Timestamp,
) -> anyhow::Result<Sent> {
    let mut conn = app.broker.conn();
    let pending = user_key(app, user, "pending", channel_id);
    let inflight = user_key(app, user, "inflight", channel_id);
    let meta = user_key(app, user, "inflight-meta", channel_id);
    let m = member(user, channel_id);
    let claimed: i64 = redis::Script::new(CLAIM)
        .key(&pending)
        .key(&inflight)
        .key(&meta)
        .key(app.broker.key("due"))
        .arg(&m)
        .arg(new_id())
        .arg(now.as_millisecond())
        .invoke_async(&mut conn)
        .await?;
    if claimed == 0 {
        return Ok(Sent::default());
    }
    let meta_fields: HashMap<String, String> = conn.hgetall(&meta).await?;
    let attempt: i64 = meta_fields
        .get("attempt")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    if claimed == 2 {
        // A digest is in flight: only its retry time sends it.
        let retry_at: Option<f64> = conn.zscore(app.broker.key("retry"), &m).await?;
        if retry_at.is_some_and(|t| t as i64 > now.as_millisecond()) {
            return Ok(Sent::default());
        }
    }
    let raw: HashMap<String, String> = conn.hgetall(&inflight).await?;
    let mut notices: Vec<Notice> = raw
        .values()
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect();
    notices.sort_by(|a, b| {
        b.alert
            .severity
            .cmp(&a.alert.severity)
            .then(b.alert.last_seen.cmp(&a.alert.last_seen))
    });
    let Some(channel) = app.store.channel(user, channel_id).await? else {
        // The channel was deleted: nothing to send it to.
        drop_inflight(app, &inflight, &meta, &m).await?;
        return Ok(Sent::default());
    };
    let timezone = app
        .store
        .user(user)
        .await?
        .map(|u| u.timezone)
        .unwrap_or_else(|| "UTC".into());
    let digest = Digest {
        id: meta_fields.get("id").cloned().unwrap_or_else(new_id),
        owner: user.to_owned(),
        channel: channel.clone(),
        created_at: meta_fields
            .get("created")
            .and_then(|c| c.parse().ok())
            .unwrap_or(now.as_millisecond()),
        notices,
        timezone,
        dashboard_url: format!("{}/", app.config.base_url.trim_end_matches('/')),
    };
    let rendered = render(&digest);
    let result = app.deliverer.send(&channel.kind, &rendered).await;
    let attempt = attempt + 1;
    let (status, error) = match &result {
        Ok(()) => ("sent", None),
        Err(e) if e.retryable() && attempt < MAX_ATTEMPTS => ("failed", Some(e.to_string())),
        Err(e) => ("gave_up", Some(e.to_string())),
    };
    app.store
        .insert_notification(&NotificationDoc {
            id: new_id(),
            owner: user.to_owned(),
            digest_id: digest.id.clone(),
            channel_id: channel.id.clone(),
            channel_label: channel.label.clone(),
            channel_kind: kind_name(&channel).to_owned(),
            to: address(&channel),
            attempt,
            status: status.to_owned(),
            error: error.clone(),
            rendered,
            alert_ids: digest.notices.iter().map(|n| n.alert_id.clone()).collect(),
            created_at: DateTime::from_millis(now.as_millisecond()),
        })
        .await?;
    match status {
        "failed" => {
            let backoff = backoff(attempt);
            let () = redis::pipe()
                .hset(&meta, "attempt", attempt)
                .ignore()
                .zadd(
                    app.broker.key("retry"),
                    &m,
                    now.as_millisecond() + backoff.as_millis() as i64,
                )
                .ignore()
                .query_async(&mut conn)
                .await?;
            tracing::warn!(
                user,
                channel = channel_id,
                attempt,
                error = error.as_deref().unwrap_or(""),
                "digest not delivered; will retry"
            );
            Ok(Sent { sent: 0, failed: 1 })
        }
        _ => {
            drop_inflight(app, &inflight, &meta, &m).await?;
            if status == "gave_up" {
                tracing::warn!(user, channel = channel_id, attempt, "digest given up");
                return Ok(Sent { sent: 0, failed: 1 });
            }
            schedule_repeats(app, user, &digest.notices, now).await?;
            Ok(Sent { sent: 1, failed: 0 })
        }
    }
}

async fn drop_inflight(
    app: &AppState,
    inflight: &str,
    meta: &str,
    member: &str,
) -> RedisResult<()> {
    redis::pipe()
        .del(inflight)
        .ignore()
        .del(meta)
        .ignore()
        .zrem(app.broker.key("retry"), member)
        .ignore()
        .query_async(&mut app.broker.conn())
        .await
}

/// 2 s, 4 s, 8 s… up to 10 minutes, each with ±25 % jitter.
pub fn backoff(attempt: i64) -> Duration {
    let base = 2_000u64
        .saturating_mul(1u64 << attempt.clamp(0, 20))
        .min(600_000)
        / 2;
    let mut b = [0u8; 2];
    rand::fill(&mut b[..]);
    let jitter = (u16::from_le_bytes(b) as f64 / u16::MAX as f64 - 0.5) * 0.5;
    Duration::from_millis((base as f64 * (1.0 + jitter)) as u64)
}

fn kind_name(c: &Channel) -> &'static str {
    match c.kind {
        ChannelKind::Email { .. } => "email",
        ChannelKind::Sms { .. } => "sms",
        ChannelKind::Webhook { .. } => "webhook",
    }
}

fn address(c: &Channel) -> String {
    match &c.kind {
        ChannelKind::Email { address } => address.clone(),
        ChannelKind::Sms { number } => number.clone(),
        ChannelKind::Webhook { url } => url.clone(),
    }
}

/// Make every pending digest of `user` due now, and send them.
pub async fn flush(app: &AppState, user: &str, now: Timestamp) -> anyhow::Result<Sent> {
    let channels = app.store.list_channels(user).await?;
    let mut conn = app.broker.conn();
    for c in &channels {
        let exists: bool = conn.exists(user_key(app, user, "pending", &c.id)).await?;
        if exists {
            let _: () = conn
                .zadd(
                    app.broker.key("due"),
                    member(user, &c.id),
                    now.as_millisecond(),
                )
                .await?;
        }
    }
    run_due(app, now, Some(user)).await
}

/// After a digest went out: its still-firing alerts whose rule repeats are
/// due again `repeat_every` later.
async fn schedule_repeats(
    app: &AppState,
    user: &str,
    notices: &[Notice],
    now: Timestamp,
) -> RedisResult<()> {
    let firing: Vec<&str> = notices
        .iter()
        .filter(|n| n.alert.status == AlertStatus::Firing)
        .map(|n| n.alert_id.as_str())
        .collect();
    if firing.is_empty() {
        return Ok(());
    }
    let mut conn = app.broker.conn();
    let every: Vec<Option<i64>> = redis::cmd("HMGET")
        .arg(app.broker.key(&format!("{{u:{user}}}:repeat-every")))
        .arg(&firing)
        .query_async(&mut conn)
        .await?;
    let mut pipe = redis::pipe();
    let mut any = false;
    for (id, every) in firing.iter().zip(every) {
        if let Some(ms) = every {
            any = true;
            pipe.cmd("ZADD")
                .arg(app.broker.key("repeats"))
                .arg("NX")
                .arg(now.as_millisecond() + ms)
                .arg(format!("{user}{SEP}{id}"))
                .ignore();
        }
    }
    if !any {
        return Ok(()); // an empty pipeline is an error to Redis' client
    }
    pipe.query_async(&mut conn).await
}

/// Queue again the alerts whose repeat is due and that still fire, through
/// the policy as it stands now (a repeat at night is held like anything else).
async fn queue_repeats(
    app: &AppState,
    now: Timestamp,
    only_user: Option<&str>,
) -> anyhow::Result<()> {
    let mut conn = app.broker.conn();
    let key = app.broker.key("repeats");
    let due: Vec<String> = conn
        .zrangebyscore_limit(&key, "-inf", now.as_millisecond(), 0, 500)
        .await?;
    let mut cache = Cache::default();
    for m in due {
        let Some((user, alert_id)) = m.split_once(SEP) else {
            continue;
        };
        if only_user.is_some_and(|u| u != user) {
            continue;
        }
        let removed: i64 = conn.zrem(&key, &m).await?;
        if removed == 0 {
            continue; // another node took it
        }
        if let Some(alert) = app.store.alert(user, alert_id).await?
            && alert.status == "firing"
        {
            enqueue(app, &alert, Change::Fired, now, &mut cache).await?;
        }
    }
    Ok(())
}
