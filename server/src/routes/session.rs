//! Password login giving a session cookie, and logout.
//!
//! `POST /login` takes JSON (`{"name","password"}`, answered with JSON) or an
//! HTML form (answered with a redirect). The cookie is HttpOnly and
//! SameSite=Lax, and Secure when the base URL is https.

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Json as JsonOut, Router};
use mongodb::bson::DateTime;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, SESSION_COOKIE, secrets};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::store::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
}

#[derive(Debug, Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

async fn login(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let address = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let creds = if is_form {
        Form::<Credentials>::from_request(req, &state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?
            .0
    } else {
        Json::<Credentials>::from_request(req, &state).await?.0
    };
    let checked = auth::check_password(&state, &creds.name, &creds.password, address).await;
    if is_form && let Err(ApiError::TooManyRequests { retry_after, .. }) = &checked {
        // Back to the form, which says the login failed (and may say how
        // long to wait).
        let wait = crate::error::retry_secs(*retry_after);
        return Ok(Redirect::to(&format!("/login?failed=1&throttled={wait}")).into_response());
    }
    let Some(user) = checked? else {
        if is_form {
            return Ok(Redirect::to("/login?failed=1").into_response());
        }
        return Err(ApiError::Unauthorized("wrong user name or password".into()));
    };
    let secret = secrets::new_secret("");
    let csrf = secrets::new_secret("");
    let now = DateTime::now();
    let ttl = state.config.session_ttl;
    let session = Session {
        hash: secrets::hash(&secret),
        owner: user.name.clone(),
        csrf: csrf.clone(),
        created_at: now,
        expires_at: DateTime::from_millis(now.timestamp_millis() + ttl.as_millis() as i64),
    };
    state.store.insert_session(&session).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        ttl.as_secs(),
        if state.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        }
    );
    let mut response = if is_form {
        Redirect::to("/").into_response()
    } else {
        JsonOut(json!({"user": user.name, "admin": user.admin, "csrf": csrf})).into_response()
    };
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.into()))?,
    );
    Ok(response)
}

/// End the session (if any) and clear the cookie. Needs no CSRF token: the
/// worst a forged logout does is log someone out.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(secret) = auth::session_cookie(&headers) {
        state.store.delete_session(&secrets::hash(&secret)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tellify_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(response)
}
