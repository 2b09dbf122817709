//! A short-lived cache of token lookups, so ingest does not ask MongoDB on
//! every request (and goes on while MongoDB is briefly away).
//!
//! A revoked token is dropped from the cache of the node that revoked it at
//! once, and from every other node's within [`TTL`]. While MongoDB is
//! unreachable, tokens seen before stay accepted (so ingest goes on); a token
//! revoked during the outage is refused once MongoDB is back.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::auth::Scope;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// How long a looked-up token is trusted without asking MongoDB again.
pub const TTL: Duration = Duration::from_secs(10);
/// Entries kept at most; the cache is cleared when full (it refills at once).
const MAX_ENTRIES: usize = 100_000;

/// What a request needs to know about the token it carries.
#[derive(Debug)]
pub struct TokenInfo {
    pub id: String,
    pub owner: String,
    pub admin: bool,
    pub scopes: Vec<Scope>,
}

#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, (Instant, Arc<TokenInfo>)>>,
}

impl TokenCache {
    /// The token with this hash, from the cache or MongoDB. Unknown tokens are
    /// not cached, so a token made on another node works at once.
    pub async fn lookup(&self, store: &Store, hash: &str) -> ApiResult<Option<Arc<TokenInfo>>> {
        if let Some(info) = self.fresh(hash) {
            return Ok(Some(info));
        }
        let looked_up = async {
            let Some(token) = store.token_by_hash(hash).await? else {
                return Ok(None);
            };
            let admin = store.user(&token.owner).await?.map(|u| u.admin);
            Ok(admin.map(|admin| (token, admin)))
        };
        let (token, admin) = match looked_up.await {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            // MongoDB is away: a token we knew stays good, so ingest goes on.
            Err(e @ ApiError::Unavailable { .. }) => return self.stale(hash).ok_or(e).map(Some),
            Err(e) => return Err(e),
        };
        let info = Arc::new(TokenInfo {
            id: token.id,
            owner: token.owner,
            admin,
            scopes: token.scopes,
        });
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash.to_owned(), (Instant::now(), info.clone()));
        Ok(Some(info))
    }

    /// A known token however old its entry (used while MongoDB is away).
    fn stale(&self, hash: &str) -> Option<Arc<TokenInfo>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(hash).map(|(_, info)| info.clone())
    }

    fn fresh(&self, hash: &str) -> Option<Arc<TokenInfo>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, info)| info.clone())
    }

    /// Forget a token (it was revoked).
    pub fn forget(&self, hash: &str) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(hash);
    }
}
