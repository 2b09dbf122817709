//! Removing everything of one user, across the collections (the admin
//! purge, [`crate::purge`]). Kept together so it is easy to see that every
//! collection with an `owner` is covered; the audit record is the one thing
//! that stays (see `audit.rs`).
//!
//! Each method answers how many documents it removed, for the purge's answer
//! and its audit record.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

use super::Store;

/// The collections whose documents belong to one user through `owner` and
/// that nothing else refers to by id: removed wholesale.
pub const OWNED_COLLECTIONS: [&str; 4] = ["alerts", "channels", "policies", "notifications"];

impl Store {
    /// The `_id`s of `owner`'s documents in `collection`.
    pub async fn ids_owned(
        &self,
        collection: &str,
        owner: &str,
    ) -> mongodb::error::Result<Vec<String>> {
        Ok(self
            .db
            .collection::<Document>(collection)
            .find(doc! {"owner": owner})
            .projection(doc! {"_id": 1})
            .await?
            .try_collect::<Vec<Document>>()
            .await?
            .into_iter()
            .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
            .collect())
    }

    /// How many documents of `owner` `collection` holds (any collection
    /// with an `owner` field).
    pub async fn count_owned(&self, collection: &str, owner: &str) -> mongodb::error::Result<u64> {
        self.db
            .collection::<Document>(collection)
            .count_documents(doc! {"owner": owner})
            .await
    }

    /// Delete every document of `owner` in one of [`OWNED_COLLECTIONS`].
    pub async fn delete_owned(&self, collection: &str, owner: &str) -> mongodb::error::Result<u64> {
        let r = self
            .db
            .collection::<Document>(collection)
            .delete_many(doc! {"owner": owner})
            .await?;
        Ok(r.deleted_count)
    }

    /// Delete `owner`'s tokens; the hashes of those deleted (to drop them
    /// from the token cache).
    pub async fn delete_tokens_of(&self, owner: &str) -> mongodb::error::Result<Vec<String>> {
        let tokens: Vec<Document> = self
            .db
            .collection::<Document>("tokens")
            .find(doc! {"owner": owner})
            .projection(doc! {"_id": 1, "hash": 1})
            .await?
            .try_collect()
            .await?;
        let ids: Vec<&str> = tokens
            .iter()
            .filter_map(|t| t.get_str("_id").ok())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.db
            .collection::<Document>("tokens")
            .delete_many(doc! {"_id": {"$in": &ids}})
            .await?;
        Ok(tokens
            .iter()
            .filter_map(|t| t.get_str("hash").ok().map(str::to_owned))
            .collect())
    }

    pub async fn delete_sessions_of(&self, owner: &str) -> mongodb::error::Result<u64> {
        self.delete_owned("sessions", owner).await
    }

    /// Delete `owner`'s handler instances; the ids of those deleted. Only
    /// the instances seen are deleted, so each deleted one is also signalled
    /// and has its state removed (one created meanwhile is left for the
    /// purge's second pass, rather than deleted unseen).
    pub async fn delete_handlers_of(&self, owner: &str) -> mongodb::error::Result<Vec<String>> {
        let ids = self.ids_owned("handlers", owner).await?;
        if !ids.is_empty() {
            self.db
                .collection::<Document>("handlers")
                .delete_many(doc! {"_id": {"$in": &ids}, "owner": owner})
                .await?;
        }
        Ok(ids)
    }

    /// Delete the user document itself; 1 or 0.
    pub async fn delete_user(&self, name: &str) -> mongodb::error::Result<u64> {
        let r = self
            .db
            .collection::<Document>("users")
            .delete_one(doc! {"_id": name})
            .await?;
        Ok(r.deleted_count)
    }

    pub async fn delete_alert(&self, id: &str) -> mongodb::error::Result<()> {
        self.alerts().delete_one(doc! {"_id": id}).await.map(|_| ())
    }
}
