//! The `tokens` and `sessions` collections. Only hashes of secrets are
//! stored: a copy of the database does not let anyone in.

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::auth::Scope;

/// An API token as stored (the secret itself is never stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner: String,
    pub label: String,
    pub scopes: Vec<Scope>,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    pub created_at: DateTime,
}

/// A token just created: the stored record and the secret, shown once.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: Token,
    pub secret: String,
}

/// A browser login session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 of the cookie's secret, hex.
    #[serde(rename = "_id")]
    pub hash: String,
    pub owner: String,
    /// The CSRF token forms of this session must carry.
    pub csrf: String,
    pub created_at: DateTime,
    pub expires_at: DateTime,
}

impl Store {
    fn tokens(&self) -> Collection<Token> {
        self.db.collection("tokens")
    }

    fn sessions(&self) -> Collection<Session> {
        self.db.collection("sessions")
    }

    pub async fn insert_token(&self, token: &Token) -> mongodb::error::Result<()> {
        self.tokens().insert_one(token).await.map(|_| ())
    }

    pub async fn token_by_hash(&self, hash: &str) -> mongodb::error::Result<Option<Token>> {
        self.tokens().find_one(doc! {"hash": hash}).await
    }

    pub async fn list_tokens(&self, owner: &str) -> mongodb::error::Result<Vec<Token>> {
        self.tokens()
            .find(doc! {"owner": owner})
            .sort(doc! {"created_at": 1})
            .await?
            .try_collect()
            .await
    }

    /// Delete one of `owner`'s tokens; the deleted token, if it was theirs.
    pub async fn delete_token(
        &self,
        owner: &str,
        id: &str,
    ) -> mongodb::error::Result<Option<Token>> {
        self.tokens()
            .find_one_and_delete(doc! {"_id": id, "owner": owner})
            .await
    }

    pub async fn insert_session(&self, session: &Session) -> mongodb::error::Result<()> {
        self.sessions().insert_one(session).await.map(|_| ())
    }

    /// A session that has not expired.
    pub async fn session(&self, hash: &str) -> mongodb::error::Result<Option<Session>> {
        let found = self.sessions().find_one(doc! {"_id": hash}).await?;
        Ok(found.filter(|s| s.expires_at > DateTime::now()))
    }

    pub async fn delete_session(&self, hash: &str) -> mongodb::error::Result<()> {
        self.sessions()
            .delete_one(doc! {"_id": hash})
            .await
            .map(|_| ())
    }
}
