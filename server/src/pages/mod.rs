//! The browser dashboard: server-rendered askama pages (DESIGN 7).
//!
//! Every page works without JavaScript where it can: lists are rendered here,
//! and the simple actions (clear, enable, revoke, …) are plain HTML forms that
//! POST to page routes, which check the session's CSRF token in the form's
//! `csrf` field (the JSON API checks the `X-CSRF-Token` header instead). The
//! JavaScript in `static/` adds what needs it: forms generated from a handler
//! type's JSON Schema, the policy editor, and live updates over `/live`.
//!
//! Pages know the caller by the session cookie only ([`Viewer`]); without a
//! valid session they redirect to `/login`. Another user's object answers 404,
//! as in the API.

mod account;
mod admin;
mod alerts;
mod config;
mod events;
pub mod live;
mod login;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mongodb::bson::DateTime;

use crate::auth::{self, secrets};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::User;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(alerts::router())
        .merge(events::router())
        .merge(account::router())
        .merge(admin::router())
        .merge(config::router())
        .merge(live::router())
}

/// The signed-in user of a page request, from the session cookie.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    /// The session's CSRF token: forms carry it in a hidden `csrf` field,
    /// scripts send it in `X-CSRF-Token` (it is in the layout's `<meta>`).
    pub csrf: String,
}

impl Viewer {
    /// Refuse a form that does not carry this session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if secrets::same(sent, &self.csrf) {
            Ok(())
        } else {
            Err(PageError(ApiError::Forbidden(
                "this form is stale or forged (wrong CSRF token); reload the page and try again"
                    .into(),
            )))
        }
    }

    /// A time as this user reads it: in their timezone, to the second.
    pub fn time(&self, t: DateTime) -> String {
        local_time(t.timestamp_millis(), &self.user.timezone)
    }

    /// What every page's layout shows.
    pub fn layout(&self, title: &str, nav: &'static str) -> Layout {
        Layout {
            title: title.to_owned(),
            nav,
            user: Some(self.user.name.clone()),
            admin: self.user.admin,
            csrf: self.csrf.clone(),
        }
    }
}

/// A time given in milliseconds since the epoch, in timezone `tz` (UTC when
/// the name is unknown), as `2026-03-01 09:15:02`.
pub fn local_time(millis: i64, tz: &str) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(millis) else {
        return String::new();
    };
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(zone).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let Some(secret) = auth::session_cookie(&parts.headers) else {
            return Err(to_login());
        };
        let found = async {
            let Some(session) = state.store.session(&secrets::hash(&secret)).await? else {
                return Ok(None);
            };
            let user = state.store.user(&session.owner).await?;
            Ok::<_, ApiError>(user.map(|u| (u, session.csrf)))
        };
        match found.await {
            Ok(Some((user, csrf))) => Ok(Viewer { user, csrf }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// What the base layout needs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    /// `None` on the login page.
    pub user: Option<String>,
    pub admin: bool,
    pub csrf: String,
}

impl Layout {
    /// Whether `name` is the current navigation entry (for `aria-current`).
    pub fn is(&self, name: &str) -> bool {
        self.nav == name
    }
}

/// A rendered askama template as an HTML response.
pub struct Page<T>(pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => PageError(ApiError::Internal(
                anyhow::Error::new(e).context("rendering a page"),
            ))
            .into_response(),
        }
    }
}

/// An error shown as a page: the API's error, with its status, in HTML.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

pub type PageResult<T = Response> = Result<T, PageError>;

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    reason: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let message = if status.is_server_error() {
            // Let the API error log the cause; the page says nothing internal.
            drop(self.0.into_response());
            "Something went wrong on our side. Try again in a moment.".to_owned()
        } else if matches!(self.0, ApiError::NotFound) {
            "There is nothing here, or it is not yours.".to_owned()
        } else {
            self.0.to_string()
        };
        let page = ErrorPage {
            l: Layout {
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                nav: "",
                user: None,
                admin: false,
                csrf: String::new(),
            },
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error").to_owned(),
            message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("{} {}", status.as_u16(), page.reason));
        let mut response = (status, Html(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        response
    }
}

/// Where a form goes back to after its action: `/` relative paths only, so
/// a forged `back` cannot send the user elsewhere.
pub fn back_to(back: Option<&str>, default: &str) -> Redirect {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => {
            Redirect::to(b)
        }
        _ => Redirect::to(default),
    }
}

/// The Content-Security-Policy of every response that sets none of its own:
/// scripts and styles from our own `/static` only (no inline script, no
/// `eval`), requests to ourselves only, frames only of our own pages (the
/// sandboxed mail bodies) and nobody may frame us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/static`: the stylesheet and scripts, from `--static-dir`.
pub fn static_files(config: &crate::Config) -> tower_http::services::ServeDir {
    let dir = &config.static_dir;
    let dir = if dir.is_relative() && !dir.is_dir() {
        let from_source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(dir);
        if from_source.is_dir() {
            from_source
        } else {
            dir.clone()
        }
    } else {
        dir.clone()
    };
    tower_http::services::ServeDir::new(dir)
}
