//! The login page (its form posts to the API's `POST /login`, which answers
//! a form with a redirect) and signing out from a page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{Layout, Page, PageResult, Viewer};
use crate::auth::secrets;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page))
        .route("/signout", post(signout))
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage {
    l: Layout,
    failed: bool,
    /// Seconds to wait before the next attempt, when the last one was
    /// refused by the login throttle (`None` otherwise).
    throttled: Option<u64>,
}

/// What `POST /login` sends a form back with: `failed=1`, and after a
/// throttled attempt `throttled=<seconds>`. A `throttled` that is not a
/// number is ignored (the page still says the sign-in failed).
#[derive(Debug, Deserialize)]
struct LoginQuery {
    failed: Option<String>,
    throttled: Option<String>,
}

async fn login_page(Query(q): Query<LoginQuery>) -> Page<LoginPage> {
    Page(LoginPage {
        l: Layout {
            title: "Sign in".into(),
            nav: "login",
            user: None,
            admin: false,
            csrf: String::new(),
        },
        failed: q.failed.is_some(),
        throttled: q.throttled.and_then(|t| t.parse().ok()),
    })
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// End the session and go to the login page. Unlike the API's `/logout`,
/// this checks the form's CSRF token: a page cannot be made to sign you out.
async fn signout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    viewer.check_csrf(&form.csrf)?;
    if let Some(secret) = crate::auth::session_cookie(&headers) {
        state.store.delete_session(&secrets::hash(&secret)).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tellify_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(response)
}
