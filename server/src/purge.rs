//! The admin purge of a user who left (DESIGN story 7): everything of theirs
//! goes, in MongoDB and in Redis, and an audit record says who did it, when,
//! and how much went.
//!
//! The order matters, because events keep arriving while the purge runs and
//! must not bring anything back:
//!
//! 1. The ways in: tokens (also dropped from this node's token cache) and
//!    sessions, so the user cannot create anything meanwhile.
//! 2. Handler instances, each deleted and signalled as a config change, so
//!    every dispatcher stops running them and forgets their state; then their
//!    state is removed from the partitions' hashes.
//! 3. Alerts. The alert writer skips transitions of instances that no longer
//!    exist and never re-creates an alert deleted while it was writing (see
//!    [`crate::alerts::writer`]).
//! 4. Digests: pending, in flight, their due, retry and repeat entries.
//! 5. Notifications, channels, policies; the user last.
//! 6. A second pass over 1 to 5 takes what requests or batches that were
//!    already under way when the purge began wrote meanwhile.
//!
//! What can still appear after the answer, and goes by itself: a dispatcher
//! batch that ran a deleted instance just before the config change reached it
//! commits its state once more, and the dispatcher deletes that state at its
//! next commit (it forgets instances that are gone); a notice that such a
//! batch queued is dropped when its digest is due, as its channel is gone.
//!
//! Because the user document goes last, a purge that failed half way (a
//! service away) can be run again and finishes the job; once the user is gone
//! the route answers 404.

use std::collections::BTreeMap;

use mongodb::bson::{DateTime, Document};
use redis::{AsyncCommands, RedisResult};
use serde::Serialize;

use crate::broker::partition_of;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{AuditDoc, OWNED_COLLECTIONS, new_id};

/// The separator of `user` and `channel` (or alert) in the members of the
/// aggregator's sorted sets (see `aggregate::queue`).
const SEP: char = '\u{1f}';

/// The aggregator's sorted sets whose members start with `NAME\x1f`.
const USER_SORTED_SETS: [&str; 3] = ["due", "retry", "repeats"];

/// How much of each kind a purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub handlers: u64,
    /// Handler states in the partitions' Redis hashes.
    pub handler_states: u64,
    pub alerts: u64,
    pub channels: u64,
    pub policies: u64,
    /// Digests waiting to be sent (one per channel with something pending).
    pub pending_digests: u64,
    /// Digests being sent or waiting for a retry.
    pub inflight_digests: u64,
    /// Entries in the due, retry and repeat schedules.
    pub schedule_entries: u64,
    pub notifications: u64,
    pub tokens: u64,
    pub sessions: u64,
    pub users: u64,
}

impl Removed {
    fn add(&mut self, o: Removed) {
        self.handlers += o.handlers;
        self.handler_states += o.handler_states;
        self.alerts += o.alerts;
        self.channels += o.channels;
        self.policies += o.policies;
        self.pending_digests += o.pending_digests;
        self.inflight_digests += o.inflight_digests;
        self.schedule_entries += o.schedule_entries;
        self.notifications += o.notifications;
        self.tokens += o.tokens;
        self.sessions += o.sessions;
        self.users += o.users;
    }

    fn to_document(self) -> Document {
        mongodb::bson::to_document(&self).unwrap_or_default()
    }
}

/// Remove everything of `name`, as the admin `by`, with an audit record.
/// The caller has checked that `by` may, and that `name` is not `by`.
pub async fn purge_user(app: &AppState, name: &str, by: &str) -> ApiResult<Removed> {
    let audit = AuditDoc {
        id: new_id(),
        action: "purge_user".to_owned(),
        by: by.to_owned(),
        user: name.to_owned(),
        started_at: DateTime::now(),
        status: "started".to_owned(),
        finished_at: None,
        removed: None,
    };
    app.store.insert_audit(&audit).await?;
    let mut removed = sweep(app, name).await?;
    removed.users = app.store.delete_user(name).await?;
    removed.add(sweep(app, name).await?);
    app.store
        .finish_audit(&audit.id, removed.to_document())
        .await?;
    tracing::info!(user = name, by, ?removed, "user purged");
    Ok(removed)
}

/// What [`purge_user`] would remove now, counted without removing anything
/// (for the confirmation an administrator sees first). `users` is 1 if the
/// user exists. Events arriving meanwhile may change the counts a little.
pub async fn preview(app: &AppState, name: &str) -> ApiResult<Removed> {
    let store = &app.store;
    let handlers = store.ids_owned("handlers", name).await?;
    let digests = find_digests(app, name).await?;
    Ok(Removed {
        handlers: handlers.len() as u64,
        handler_states: count_states(app, &handlers).await?,
        alerts: store.count_owned("alerts", name).await?,
        channels: store.count_owned("channels", name).await?,
        policies: store.count_owned("policies", name).await?,
        pending_digests: digests.pending(),
        inflight_digests: digests.inflight(),
        schedule_entries: digests.schedule_entries(),
        notifications: store.count_owned("notifications", name).await?,
        tokens: store.count_owned("tokens", name).await?,
        sessions: store.count_owned("sessions", name).await?,
        users: u64::from(store.user(name).await?.is_some()),
    })
}

/// One pass over everything of `name` but the user document.
async fn sweep(app: &AppState, name: &str) -> ApiResult<Removed> {
    let store = &app.store;
    let mut r = Removed::default();

    let hashes = store.delete_tokens_of(name).await?;
    for h in &hashes {
        app.tokens.forget(h);
    }
    r.tokens = hashes.len() as u64;
    r.sessions = store.delete_sessions_of(name).await?;

    let handlers = store.delete_handlers_of(name).await?;
    for id in &handlers {
        app.broker.signal_config_changed(id).await;
    }
    r.handlers = handlers.len() as u64;
    r.handler_states = forget_states(app, &handlers).await?;

    r.alerts = store.delete_owned("alerts", name).await?;
    let (pending, inflight, scheduled) = drop_digests(app, name).await?;
    r.pending_digests = pending;
    r.inflight_digests = inflight;
    r.schedule_entries = scheduled;

    for collection in OWNED_COLLECTIONS {
        let n = match collection {
            "alerts" => continue, // above, before the digests
            c => store.delete_owned(c, name).await?,
        };
        match collection {
            "channels" => r.channels = n,
            "policies" => r.policies = n,
            _ => r.notifications = n,
        }
    }
    Ok(r)
}

/// Delete the dispatcher state of these instances; how many there were.
async fn forget_states(app: &AppState, ids: &[String]) -> RedisResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let partitions = app.config.partitions;
    let mut by_partition: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for id in ids {
        by_partition
            .entry(partition_of(id, partitions))
            .or_default()
            .push(id);
    }
    let mut pipe = redis::pipe();
    for (p, ids) in &by_partition {
        pipe.hdel(app.broker.state_key(*p), ids);
    }
    let counts: Vec<u64> = pipe.query_async(&mut app.broker.conn()).await?;
    Ok(counts.iter().sum())
}

/// How many of these instances have dispatcher state.
async fn count_states(app: &AppState, ids: &[String]) -> RedisResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut pipe = redis::pipe();
    for id in ids {
        let p = partition_of(id, app.config.partitions);
        pipe.hexists(app.broker.state_key(p), id);
    }
    let found: Vec<bool> = pipe.query_async(&mut app.broker.conn()).await?;
    Ok(found.into_iter().filter(|f| *f).count() as u64)
}

/// Delete `name`'s digest keys (`{u:NAME}:*`: pending, in flight, lock,
/// repeat settings) and their entries in the schedules. How many pending
/// digests, digests in flight and schedule entries went.
async fn drop_digests(app: &AppState, name: &str) -> RedisResult<(u64, u64, u64)> {
    let found = find_digests(app, name).await?;
    let mut conn = app.broker.conn();
    if !found.keys.is_empty() {
        let () = conn.del(&found.keys).await?;
    }
    let mut scheduled = 0;
    for (key, members) in &found.scheduled {
        let n: u64 = conn.zrem(key, members).await?;
        scheduled += n;
    }
    Ok((found.pending(), found.inflight(), scheduled))
}

/// `name`'s digest keys and their members of the schedules, as found now.
struct Digests {
    /// Keys under `{u:NAME}:`.
    keys: Vec<String>,
    /// Per sorted set (its full key), the members that are `name`'s.
    scheduled: Vec<(String, Vec<String>)>,
}

impl Digests {
    fn count(&self, what: &str) -> u64 {
        self.keys
            .iter()
            .filter(|k| {
                k.rsplit_once("}:")
                    .is_some_and(|(_, rest)| rest.starts_with(&format!("{what}:")))
            })
            .count() as u64
    }

    fn pending(&self) -> u64 {
        self.count("pending")
    }

    fn inflight(&self) -> u64 {
        self.count("inflight")
    }

    fn schedule_entries(&self) -> u64 {
        self.scheduled.iter().map(|(_, m)| m.len() as u64).sum()
    }
}

async fn find_digests(app: &AppState, name: &str) -> RedisResult<Digests> {
    let mut conn = app.broker.conn();
    // The user's keys share the hash tag `{u:NAME}`: on Redis Cluster they
    // sit on one node, which is the one to scan.
    let pattern = format!(
        "{}*",
        glob_escape(&app.broker.key(&format!("{{u:{name}}}:")))
    );
    let keys: Vec<String> = {
        let mut iter = conn.scan_match::<_, String>(&pattern).await?;
        let mut keys = Vec::new();
        while let Some(k) = iter.next_item().await {
            keys.push(k?);
        }
        keys
    };
    let member_pattern = format!("{}{SEP}*", glob_escape(name));
    let mut scheduled = Vec::new();
    for set in USER_SORTED_SETS {
        let key = app.broker.key(set);
        let members: Vec<String> = {
            let mut iter = conn
                .zscan_match::<_, _, (String, f64)>(&key, &member_pattern)
                .await?;
            let mut all = Vec::new();
            while let Some(x) = iter.next_item().await {
                all.push(x?.0);
            }
            all
        };
        if !members.is_empty() {
            scheduled.push((key, members));
        }
    }
    Ok(Digests { keys, scheduled })
}

/// `s` with Redis' glob characters escaped, to match it literally.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_are_matched_literally() {
        assert_eq!(glob_escape("t_ab:{u:ann}:"), "t_ab:{u:ann}:");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
