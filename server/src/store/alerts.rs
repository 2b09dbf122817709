//! The `alerts` collection: the current state of every alert, one document
//! per (handler instance, key), with a bounded history.

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{DateTime, Document, doc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Store;

/// Alerts per query or write command of the alert writer (well below
/// MongoDB's 16 MB command size with histories bounded).
const WRITE_CHUNK: usize = 250;

/// How many history entries an alert keeps.
pub const HISTORY_LEN: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    pub at: DateTime,
    /// `fired`, `severity`, `resolved` or `cleared`.
    pub what: String,
    pub severity: Option<String>,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertDoc {
    /// `<handler id>/<key>`.
    #[serde(rename = "_id")]
    pub id: String,
    pub owner: String,
    pub handler_id: String,
    pub key: String,
    /// `firing`, `resolved` or `cleared`.
    pub status: String,
    pub severity: String,
    pub summary: String,
    pub fields: Value,
    pub count: i64,
    pub first_seen: DateTime,
    pub last_seen: DateTime,
    /// The event that last changed the alert (its stream id and body).
    pub event_id: Option<String>,
    pub event: Value,
    pub history: Vec<HistoryEntry>,
    /// The outbox entry last applied (`<partition>:<padded stream id>`),
    /// so a replayed entry is not applied twice.
    pub applied: String,
    pub updated_at: DateTime,
}

/// Filters of the alert list.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AlertQuery {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub handler: Option<String>,
    pub limit: Option<i64>,
}

impl Store {
    pub(crate) fn alerts(&self) -> Collection<AlertDoc> {
        self.db.collection("alerts")
    }

    /// One of `owner`'s alerts.
    pub async fn alert(&self, owner: &str, id: &str) -> mongodb::error::Result<Option<AlertDoc>> {
        self.alerts()
            .find_one(doc! {"_id": id, "owner": owner})
            .await
    }

    /// The alerts of these ids that exist, by id: one query for a batch of
    /// the alert writer.
    pub async fn alerts_by_ids(
        &self,
        ids: &[String],
    ) -> mongodb::error::Result<std::collections::HashMap<String, AlertDoc>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(WRITE_CHUNK) {
            let mut found = self.alerts().find(doc! {"_id": {"$in": chunk}}).await?;
            while let Some(a) = found.try_next().await? {
                out.insert(a.id.clone(), a);
            }
        }
        Ok(out)
    }

    /// Write alerts whole, many per round trip (one `update` command with a
    /// statement per alert). `created` ones are inserted (or replaced);
    /// `existing` ones are replaced only if still there. Returns the ids of
    /// `existing` ones that were gone (deleted meanwhile, e.g. by a purge):
    /// they stay deleted.
    pub async fn save_alerts(
        &self,
        created: &[&AlertDoc],
        existing: &[&AlertDoc],
    ) -> anyhow::Result<std::collections::HashSet<String>> {
        let mut gone = std::collections::HashSet::new();
        for chunk in created.chunks(WRITE_CHUNK) {
            self.replace_many(chunk, true).await?;
        }
        for chunk in existing.chunks(WRITE_CHUNK) {
            let matched = self.replace_many(chunk, false).await?;
            if matched < chunk.len() {
                let ids: Vec<String> = chunk.iter().map(|a| a.id.clone()).collect();
                let there = self.alerts_by_ids(&ids).await?;
                gone.extend(ids.into_iter().filter(|id| !there.contains_key(id)));
            }
        }
        Ok(gone)
    }

    /// One `update` command replacing each alert by id; how many matched
    /// (upserted ones count as matched).
    async fn replace_many(&self, alerts: &[&AlertDoc], upsert: bool) -> anyhow::Result<usize> {
        if alerts.is_empty() {
            return Ok(0);
        }
        let mut updates = Vec::with_capacity(alerts.len());
        for a in alerts {
            let body = mongodb::bson::to_document(a)?;
            updates.push(doc! {"q": {"_id": &a.id}, "u": body, "upsert": upsert});
        }
        let reply = self
            .db
            .run_command(doc! {"update": "alerts", "updates": updates, "ordered": false})
            .await?;
        if let Ok(errors) = reply.get_array("writeErrors")
            && let Some(first) = errors.first()
        {
            anyhow::bail!(
                "writing {} alerts: {} failed, first: {first}",
                alerts.len(),
                errors.len()
            );
        }
        let n = reply
            .get_i32("n")
            .map(i64::from)
            .or_else(|_| reply.get_i64("n"))
            .unwrap_or(0);
        Ok(usize::try_from(n).unwrap_or(0))
    }

    pub async fn list_alerts(
        &self,
        owner: &str,
        q: &AlertQuery,
    ) -> mongodb::error::Result<Vec<AlertDoc>> {
        let mut filter = doc! {"owner": owner};
        if let Some(s) = &q.status {
            filter.insert("status", s);
        }
        if let Some(s) = &q.severity {
            filter.insert("severity", s);
        }
        if let Some(h) = &q.handler {
            filter.insert("handler_id", h);
        }
        self.alerts()
            .find(filter)
            .sort(doc! {"last_seen": -1})
            .limit(q.limit.unwrap_or(500).clamp(1, 5000))
            .await?
            .try_collect()
            .await
    }

    /// Clear `owner`'s alerts that are not cleared yet (all, one handler's,
    /// or one); the ids cleared.
    pub async fn clear_alerts(
        &self,
        owner: &str,
        handler: Option<&str>,
        id: Option<&str>,
    ) -> mongodb::error::Result<Vec<String>> {
        let mut filter = doc! {"owner": owner, "status": {"$ne": "cleared"}};
        if let Some(h) = handler {
            filter.insert("handler_id", h);
        }
        if let Some(id) = id {
            filter.insert("_id", id);
        }
        let ids: Vec<String> = self
            .db
            .collection::<Document>("alerts")
            .find(filter.clone())
            .projection(doc! {"_id": 1})
            .await?
            .try_collect::<Vec<Document>>()
            .await?
            .into_iter()
            .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
            .collect();
        if ids.is_empty() {
            return Ok(ids);
        }
        let now = DateTime::now();
        let entry = mongodb::bson::to_bson(&HistoryEntry {
            at: now,
            what: "cleared".into(),
            severity: None,
            summary: String::new(),
        })
        .unwrap_or_default();
        self.alerts()
            .update_many(
                doc! {"_id": {"$in": &ids}, "owner": owner},
                doc! {
                    "$set": {"status": "cleared", "updated_at": now},
                    "$push": {"history": {"$each": [entry], "$slice": -(HISTORY_LEN as i64)}},
                },
            )
            .await?;
        Ok(ids)
    }
}
