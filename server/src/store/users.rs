//! The `users` collection. A user's name is their `_id`: unique by
//! construction, and what every other collection's `owner` field holds.

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use super::{Store, is_duplicate};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    #[serde(rename = "_id")]
    pub name: String,
    pub email: String,
    /// IANA timezone the user's schedules are read in.
    pub timezone: String,
    pub admin: bool,
    /// argon2 PHC string.
    pub password_hash: String,
    pub created_at: DateTime,
}

impl Store {
    fn users(&self) -> Collection<User> {
        self.db.collection("users")
    }

    /// Insert a user; `Ok(false)` when the name is taken.
    pub async fn insert_user(&self, user: &User) -> mongodb::error::Result<bool> {
        match self.users().insert_one(user).await {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn user(&self, name: &str) -> mongodb::error::Result<Option<User>> {
        self.users().find_one(doc! {"_id": name}).await
    }

    /// These users (those that exist), in one query.
    pub async fn users_named(&self, names: &[String]) -> mongodb::error::Result<Vec<User>> {
        self.users()
            .find(doc! {"_id": {"$in": names}})
            .await?
            .try_collect()
            .await
    }

    pub async fn list_users(&self) -> mongodb::error::Result<Vec<User>> {
        self.users()
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await?
            .try_collect()
            .await
    }

    pub async fn count_users(&self) -> mongodb::error::Result<u64> {
        self.users().count_documents(doc! {}).await
    }
}

impl Store {
    /// Change a user's profile fields that are given; the updated user.
    pub async fn update_user(
        &self,
        name: &str,
        email: Option<String>,
        timezone: Option<String>,
        password_hash: Option<String>,
    ) -> mongodb::error::Result<Option<User>> {
        let mut set = mongodb::bson::Document::new();
        if let Some(e) = email {
            set.insert("email", e);
        }
        if let Some(tz) = timezone {
            set.insert("timezone", tz);
        }
        if let Some(h) = password_hash {
            set.insert("password_hash", h);
        }
        if set.is_empty() {
            return self.user(name).await;
        }
        self.users()
            .find_one_and_update(doc! {"_id": name}, doc! {"$set": set})
            .return_document(mongodb::options::ReturnDocument::After)
            .await
    }
}
