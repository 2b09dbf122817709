//! The `channels`, `policies` and `notifications` collections, all owned by
//! one user each.

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::aggregate::Rendered;
use crate::aggregate::policy::{Channel, Policy};

/// One delivery attempt of a digest, as the user's history shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner: String,
    pub digest_id: String,
    pub channel_id: String,
    pub channel_label: String,
    pub channel_kind: String,
    /// The address, number or URL it went to.
    pub to: String,
    pub attempt: i64,
    /// `sent`, `failed` (will be retried) or `gave_up`.
    pub status: String,
    pub error: Option<String>,
    pub rendered: Rendered,
    pub alert_ids: Vec<String>,
    pub created_at: DateTime,
}

impl Store {
    fn channels(&self) -> Collection<Channel> {
        self.db.collection("channels")
    }

    fn policies(&self) -> Collection<Policy> {
        self.db.collection("policies")
    }

    fn notifications(&self) -> Collection<NotificationDoc> {
        self.db.collection("notifications")
    }

    pub async fn insert_channel(&self, c: &Channel) -> mongodb::error::Result<()> {
        self.channels().insert_one(c).await.map(|_| ())
    }

    pub async fn channel(&self, owner: &str, id: &str) -> mongodb::error::Result<Option<Channel>> {
        self.channels()
            .find_one(doc! {"_id": id, "owner": owner})
            .await
    }

    pub async fn list_channels(&self, owner: &str) -> mongodb::error::Result<Vec<Channel>> {
        self.channels()
            .find(doc! {"owner": owner})
            .sort(doc! {"label": 1})
            .await?
            .try_collect()
            .await
    }

    pub async fn replace_channel(&self, c: &Channel) -> mongodb::error::Result<bool> {
        let r = self
            .channels()
            .replace_one(doc! {"_id": &c.id, "owner": &c.owner}, c)
            .await?;
        Ok(r.matched_count == 1)
    }

    pub async fn delete_channel(&self, owner: &str, id: &str) -> mongodb::error::Result<bool> {
        let r = self
            .channels()
            .delete_one(doc! {"_id": id, "owner": owner})
            .await?;
        Ok(r.deleted_count == 1)
    }

    pub async fn insert_policy(&self, p: &Policy) -> mongodb::error::Result<()> {
        self.policies().insert_one(p).await.map(|_| ())
    }

    pub async fn policy(&self, owner: &str, id: &str) -> mongodb::error::Result<Option<Policy>> {
        self.policies()
            .find_one(doc! {"_id": id, "owner": owner})
            .await
    }

    /// Every policy of these owners, in one query (the alert writer's batch).
    pub async fn policies_of(&self, owners: &[String]) -> mongodb::error::Result<Vec<Policy>> {
        self.policies()
            .find(doc! {"owner": {"$in": owners}})
            .sort(doc! {"name": 1})
            .await?
            .try_collect()
            .await
    }

    pub async fn list_policies(&self, owner: &str) -> mongodb::error::Result<Vec<Policy>> {
        self.policies()
            .find(doc! {"owner": owner})
            .sort(doc! {"name": 1})
            .await?
            .try_collect()
            .await
    }

    pub async fn replace_policy(&self, p: &Policy) -> mongodb::error::Result<bool> {
        let r = self
            .policies()
            .replace_one(doc! {"_id": &p.id, "owner": &p.owner}, p)
            .await?;
        Ok(r.matched_count == 1)
    }

    pub async fn delete_policy(&self, owner: &str, id: &str) -> mongodb::error::Result<bool> {
        let r = self
            .policies()
            .delete_one(doc! {"_id": id, "owner": owner})
            .await?;
        Ok(r.deleted_count == 1)
    }

    /// Make `id` the owner's only default policy.
    pub async fn set_default_policy(&self, owner: &str, id: &str) -> mongodb::error::Result<()> {
        self.policies()
            .update_many(
                doc! {"owner": owner, "_id": {"$ne": id}},
                doc! {"$set": {"default": false}},
            )
            .await
            .map(|_| ())
    }

    pub async fn insert_notification(&self, n: &NotificationDoc) -> mongodb::error::Result<()> {
        self.notifications().insert_one(n).await.map(|_| ())
    }

    pub async fn list_notifications(
        &self,
        owner: &str,
        limit: i64,
    ) -> mongodb::error::Result<Vec<NotificationDoc>> {
        self.notifications()
            .find(doc! {"owner": owner})
            .sort(doc! {"created_at": -1, "_id": -1})
            .limit(limit.clamp(1, 1000))
            .await?
            .try_collect()
            .await
    }
}
