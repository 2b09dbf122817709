//! The `audit` collection: a record of administrative actions that remove
//! data (who, when, what, how much), kept when the data itself is gone.
//!
//! A record is written when the action starts (`status: "started"`) and
//! completed when it ends, so an action that failed half way still shows.

use mongodb::Collection;
use mongodb::bson::{DateTime, Document, doc};
use serde::{Deserialize, Serialize};

use super::Store;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditDoc {
    #[serde(rename = "_id")]
    pub id: String,
    /// e.g. `purge_user`.
    pub action: String,
    /// The administrator who acted.
    pub by: String,
    /// The user the action was about. For a purge, this name is the one
    /// trace of the user that is kept, on purpose.
    pub user: String,
    pub started_at: DateTime,
    /// `started`, then `done`.
    pub status: String,
    pub finished_at: Option<DateTime>,
    /// What was removed, by kind: counts only, never content.
    pub removed: Option<Document>,
}

impl Store {
    fn audit(&self) -> Collection<AuditDoc> {
        self.db.collection("audit")
    }

    pub async fn insert_audit(&self, a: &AuditDoc) -> mongodb::error::Result<()> {
        self.audit().insert_one(a).await.map(|_| ())
    }

    /// Mark an action done, with what it removed.
    pub async fn finish_audit(&self, id: &str, removed: Document) -> mongodb::error::Result<()> {
        self.audit()
            .update_one(
                doc! {"_id": id},
                doc! {"$set": {"status": "done", "finished_at": DateTime::now(), "removed": removed}},
            )
            .await
            .map(|_| ())
    }
}
