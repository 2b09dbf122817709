//! The `handlers` collection: users' handler instances.

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Store;

/// A handler instance as stored: a type, its parameters, its owner.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HandlerDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The policy deciding how the owner hears of its alerts (`None`: the
    /// owner's default).
    pub policy: Option<String>,
    pub enabled: bool,
    pub params: Value,
    /// Bumped whenever `type` or `params` change: the dispatcher then starts
    /// the instance with fresh state.
    pub revision: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// What the alert writer needs of an instance: that it exists, whose it is,
/// its type and name, its policy (not its parameters).
#[derive(Debug, Clone, Deserialize)]
pub struct HandlerBrief {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub policy: Option<String>,
}

/// Ids per `$in` query: long lists were much slower per id than short ones
/// on the test server.
const IDS_PER_QUERY: usize = 250;

impl Store {
    /// The instances of these ids that exist, without their parameters.
    pub async fn handler_briefs(
        &self,
        ids: &[String],
    ) -> mongodb::error::Result<Vec<HandlerBrief>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let found: Vec<HandlerBrief> = self
                .db
                .collection::<HandlerBrief>("handlers")
                .find(doc! {"_id": {"$in": chunk}})
                .projection(doc! {"owner": 1, "type": 1, "name": 1, "policy": 1})
                .await?
                .try_collect()
                .await?;
            out.extend(found);
        }
        Ok(out)
    }

    fn handlers(&self) -> Collection<HandlerDoc> {
        self.db.collection("handlers")
    }

    /// Insert a new instance. Its id is fresh, so a duplicate key can only
    /// be the driver's own retry of an insert that had landed (seen with a
    /// slow server): that is success.
    pub async fn insert_handler(&self, h: &HandlerDoc) -> mongodb::error::Result<()> {
        match self.handlers().insert_one(h).await {
            Ok(_) => Ok(()),
            Err(e) if super::is_duplicate(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// One of `owner`'s instances.
    pub async fn handler(
        &self,
        owner: &str,
        id: &str,
    ) -> mongodb::error::Result<Option<HandlerDoc>> {
        self.handlers()
            .find_one(doc! {"_id": id, "owner": owner})
            .await
    }

    pub async fn list_handlers(&self, owner: &str) -> mongodb::error::Result<Vec<HandlerDoc>> {
        self.handlers()
            .find(doc! {"owner": owner})
            .sort(doc! {"created_at": 1})
            .await?
            .try_collect()
            .await
    }

    /// Every instance of every user: what the dispatcher runs.
    pub async fn all_handlers(&self) -> mongodb::error::Result<Vec<HandlerDoc>> {
        self.handlers().find(doc! {}).await?.try_collect().await
    }

    /// The instances with these ids that exist.
    pub async fn handlers_by_ids(&self, ids: &[String]) -> mongodb::error::Result<Vec<HandlerDoc>> {
        self.handlers()
            .find(doc! {"_id": {"$in": ids}})
            .await?
            .try_collect()
            .await
    }

    /// Replace one of `owner`'s instances; false when there is none.
    pub async fn replace_handler(&self, h: &HandlerDoc) -> mongodb::error::Result<bool> {
        let r = self
            .handlers()
            .replace_one(doc! {"_id": &h.id, "owner": &h.owner}, h)
            .await?;
        Ok(r.matched_count == 1)
    }

    pub async fn delete_handler(&self, owner: &str, id: &str) -> mongodb::error::Result<bool> {
        let r = self
            .handlers()
            .delete_one(doc! {"_id": id, "owner": owner})
            .await?;
        Ok(r.deleted_count == 1)
    }
}
