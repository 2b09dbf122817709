//! Authentication: who is calling, and what they may do.
//!
//! Three ways in (DESIGN 7): a bearer token with scopes (scripts), HTTP Basic
//! with the user's password (to create a first token), and a session cookie
//! (browsers). [`Caller`] is the extractor every protected route takes; the
//! route then says which [`Scope`] it needs.

mod cache;
pub mod secrets;

pub use cache::TokenCache;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Post events.
    Ingest,
    /// Use the JSON API as the token's owner.
    Api,
    /// Administer users (only an admin's token may carry it).
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Ingest, Scope::Api, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Api => "api",
            Scope::Admin => "admin",
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Token { id: String },
    Password,
    Session { hash: String, csrf: String },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub admin: bool,
    pub scopes: Vec<Scope>,
    pub via: Via,
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tellify_session";
/// Header that carries the CSRF token of a session on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

impl Caller {
    /// Refuse the request unless the caller has `scope`.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(match (&self.via, scope) {
                (_, Scope::Admin) if !self.admin => "only administrators may do this".to_owned(),
                (Via::Token { .. }, _) => {
                    format!("this token lacks the '{}' scope", scope.as_str())
                }
                _ => format!("the '{}' scope is needed", scope.as_str()),
            }))
        }
    }

    /// The scopes a user has when signed in by password or session.
    fn user_scopes(admin: bool) -> Vec<Scope> {
        if admin {
            Scope::ALL.to_vec()
        } else {
            vec![Scope::Ingest, Scope::Api]
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| {
                ApiError::Unauthorized("the Authorization header is not readable text".into())
            })?;
            return match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    by_token(state, token.trim()).await
                }
                Some((scheme, creds)) if scheme.eq_ignore_ascii_case("basic") => {
                    by_password(state, creds.trim(), peer_address(parts)).await
                }
                _ => Err(ApiError::Unauthorized(
                    "the Authorization header must be 'Bearer <token>' or 'Basic <credentials>'"
                        .into(),
                )),
            };
        }
        if let Some(secret) = session_cookie(&parts.headers) {
            let caller = by_session(state, &secret).await?;
            if is_state_changing(&parts.method) {
                let Via::Session { csrf, .. } = &caller.via else {
                    unreachable!("by_session returns a session caller")
                };
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if !sent.is_some_and(|s| secrets::same(s, csrf)) {
                    return Err(ApiError::Forbidden(
                        "missing or wrong CSRF token (send the session's token in X-CSRF-Token)"
                            .into(),
                    ));
                }
            }
            return Ok(caller);
        }
        Err(ApiError::Unauthorized(
            "authentication required: a bearer token, HTTP Basic credentials or a session".into(),
        ))
    }
}

fn is_state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

async fn by_token(state: &AppState, secret: &str) -> ApiResult<Caller> {
    let hash = secrets::hash(secret);
    match state.tokens.lookup(&state.store, &hash).await? {
        Some(t) => Ok(Caller {
            user: t.owner.clone(),
            admin: t.admin,
            scopes: t.scopes.clone(),
            via: Via::Token { id: t.id.clone() },
        }),
        None => Err(ApiError::Unauthorized("unknown or revoked token".into())),
    }
}

/// The client's address, when the server was started with it (it is, by
/// [`crate::startup`]; a router driven directly by a test has none).
pub fn peer_address(parts: &Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

async fn by_password(
    state: &AppState,
    creds: &str,
    address: Option<std::net::IpAddr>,
) -> ApiResult<Caller> {
    let bad = || ApiError::Unauthorized("wrong user name or password".into());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(creds)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ApiError::Unauthorized("HTTP Basic credentials are not valid base64 text".into())
        })?;
    let (name, password) = decoded.split_once(':').ok_or_else(bad)?;
    let user = check_password(state, name, password, address)
        .await?
        .ok_or_else(bad)?;
    Ok(Caller {
        scopes: Caller::user_scopes(user.admin),
        user: user.name,
        admin: user.admin,
        via: Via::Password,
    })
}

/// The user, if the password is theirs. Runs the (deliberately slow) hash
/// check on the password hasher thread. Throttled (see [`crate::limits`]):
/// after too many failures for the name or from the address, answers 429
/// without looking at the password.
pub async fn check_password(
    state: &AppState,
    name: &str,
    password: &str,
    address: Option<std::net::IpAddr>,
) -> ApiResult<Option<crate::store::User>> {
    use crate::limits::login::Refused;
    let throttle = &state.limits.logins;
    if let Err(refused) = throttle.begin(name, address) {
        state.metrics.logins_throttled.inc();
        let (message, retry_after) = match refused {
            Refused::Name(wait) => (
                format!("too many failed logins for '{name}'; try again later"),
                wait,
            ),
            Refused::Address(wait) => (
                "too many failed logins from your address; try again later".to_owned(),
                wait,
            ),
        };
        return Err(ApiError::TooManyRequests {
            message,
            retry_after,
        });
    }
    let checked = verify(state, name, password).await;
    match &checked {
        Ok(Some(_)) => throttle.succeeded(name, address),
        Ok(None) => {} // stays counted
        // Not the caller's failure (MongoDB away): it does not count.
        Err(_) => throttle.cancelled(name, address),
    }
    checked
}

async fn verify(
    state: &AppState,
    name: &str,
    password: &str,
) -> ApiResult<Option<crate::store::User>> {
    let Some(user) = state.store.user(name).await? else {
        // Spend the same time as a real check, so timing does not tell which
        // user names exist.
        secrets::verify_password_off(password.to_owned(), secrets::DUMMY_HASH.clone()).await?;
        return Ok(None);
    };
    let ok = secrets::verify_password_off(password.to_owned(), user.password_hash.clone()).await?;
    Ok(ok.then_some(user))
}

async fn by_session(state: &AppState, secret: &str) -> ApiResult<Caller> {
    let hash = secrets::hash(secret);
    let expired = || ApiError::Unauthorized("the session has expired; log in again".into());
    let session = state.store.session(&hash).await?.ok_or_else(expired)?;
    let user = state
        .store
        .user(&session.owner)
        .await?
        .ok_or_else(expired)?;
    Ok(Caller {
        scopes: Caller::user_scopes(user.admin),
        user: user.name,
        admin: user.admin,
        via: Via::Session {
            hash,
            csrf: session.csrf,
        },
    })
}
