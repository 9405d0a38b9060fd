//! An `#[sse]` route in an axum 0.8 app: `GET /` is a short page, `GET
//! /events` a stream of typed JSON `tick` events, one a second, for a client
//! with `Authorization: Bearer demo` (anyone else: `401` with
//! `WWW-Authenticate: Bearer`). tower-http's `CorsLayer` lets the page of
//! `http://localhost:3000` read it with credentials (its preflight is
//! answered), and `TraceLayer` logs each request (`RUST_LOG=debug`).
//!
//! ```sh
//! cargo run --example axum              # port as first argument or PORT, default 8080
//! curl -N -H 'Authorization: Bearer demo' http://127.0.0.1:8080/events
//! ```

use std::time::Duration;

use axum::http::{header, HeaderValue, Method, StatusCode};
use sse_runtime::extract::FromRequest;
use sse_runtime::{sse, Rejection, Request, Router};
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

/// One tick of the clock.
#[derive(serde::Serialize)]
struct Tick {
    n: u64,
}

/// A request that carried `Authorization: Bearer demo`; any other is
/// refused `401`, saying which scheme it wants.
struct Bearer;

impl<S: Sync> FromRequest<S> for Bearer {
    type Rejection = Rejection;

    async fn from_request(request: &Request, _: &S) -> Result<Self, Rejection> {
        let given = request.headers().get(header::AUTHORIZATION);
        match given.and_then(|value| value.to_str().ok()) {
            Some("Bearer demo") => Ok(Bearer),
            _ => Err(Rejection::new(
                StatusCode::UNAUTHORIZED,
                "send `Authorization: Bearer demo`",
            )
            .header(header::WWW_AUTHENTICATE, "Bearer")),
        }
    }
}

#[sse("/events", serializer = Json, events(Tick = "tick"))]
async fn events(session: EventsSession, _user: Bearer) -> Result<(), sse_runtime::Error> {
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    for n in 1.. {
        clock.tick().await;
        session.send(Tick { n }).await?;
    }
    Ok(())
}

const PAGE: &str = "<!doctype html>\n<title>sse in axum</title>\n\
    <p>The stream is at <code>/events</code>, for <code>Authorization: Bearer demo</code>.</p>\n";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=debug".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let port: u16 = match std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
    {
        Some(port) => port.parse().map_err(|err| format!("bad port: {err}"))?,
        None => 8080,
    };
    let sse = Router::builder().route(events).build()?;
    let cors = CorsLayer::new()
        .allow_origin(HeaderValue::from_static("http://localhost:3000"))
        .allow_methods([Method::GET])
        .allow_headers([
            header::AUTHORIZATION,
            header::HeaderName::from_static("last-event-id"),
        ])
        .allow_credentials(true);
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(|| async { axum::response::Html(PAGE) }),
        )
        .route_service("/events", sse.clone())
        .layer(cors)
        .layer(TraceLayer::new_for_http());
    let listener =
        sse_runtime::server::bind(("127.0.0.1", port), sse_runtime::server::DEFAULT_BACKLOG)
            .await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            sse_runtime::server::shutdown_signal().await;
            // The streams end, so that axum can stop.
            sse.shut_down(Duration::from_secs(5)).await;
        })
        .await?;
    println!("stopped");
    Ok(())
}
