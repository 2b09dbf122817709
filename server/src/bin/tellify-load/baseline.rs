//! The yardstick for ingest: a bare axum server whose one handler parses the
//! JSON body and does one XADD, nothing else (no auth, no validation, no
//! metrics). Tellify's single-event ingest is judged against it (issue 3:
//! at least 70% of its requests/s, measured by the same tool in the same run).
//!
//! It runs in this process on its own multi-threaded runtime (one worker per
//! core, as `tellify` runs), while the load runs on the client runtime, so
//! server and client compete for the cores as they do against Tellify.
//! It uses the same kind of Redis connection as Tellify's broker (one
//! multiplexed `ConnectionManager`) and the same stream field `e`.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde_json::{Value, json};

/// The running baseline server. `stop` must be called outside any runtime.
pub struct Baseline {
    pub addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    conn: ConnectionManager,
    stream: String,
}

#[derive(Clone)]
struct Shared {
    conn: ConnectionManager,
    stream: String,
}

impl Baseline {
    /// Connect to Redis and listen on 127.0.0.1:0.
    pub fn start(redis_url: &str) -> anyhow::Result<Baseline> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("baseline")
            .build()?;
        let stream = format!("tellify-load:baseline:{}", std::process::id());
        let (addr, conn) = runtime.block_on(async {
            let client = redis::Client::open(redis_url).context("bad --redis-url")?;
            let conn = ConnectionManager::new(client)
                .await
                .with_context(|| format!("connecting to {redis_url}"))?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let app = Router::new()
                .route("/events", post(ingest))
                .with_state(Shared {
                    conn: conn.clone(),
                    stream: stream.clone(),
                });
            tokio::spawn(async move { axum::serve(listener, app).await });
            anyhow::Ok((addr, conn))
        })?;
        Ok(Baseline {
            addr,
            runtime,
            conn,
            stream,
        })
    }

    /// Delete the throwaway stream and stop the server.
    pub fn stop(self) -> anyhow::Result<()> {
        let Baseline {
            runtime,
            mut conn,
            stream,
            ..
        } = self;
        let r: redis::RedisResult<()> = runtime.block_on(conn.unlink(&stream));
        runtime.shutdown_background();
        r.with_context(|| format!("deleting {stream}"))
    }
}

/// Parse, XADD, answer like Tellify does (202 with the ids).
async fn ingest(State(s): State<Shared>, body: Bytes) -> Response {
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut conn = s.conn.clone();
    let ids: redis::RedisResult<Vec<String>> = match parsed {
        // A batch: one atomic pipeline, as Tellify appends a batch.
        Value::Array(items) => {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for item in &items {
                pipe.xadd(&s.stream, "*", &[("e", item.to_string())]);
            }
            pipe.query_async(&mut conn).await
        }
        _ => conn
            .xadd::<_, _, _, _, String>(&s.stream, "*", &[("e", &body[..])])
            .await
            .map(|id| vec![id]),
    };
    match ids {
        Ok(ids) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({"accepted": ids.len(), "ids": ids})),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}
