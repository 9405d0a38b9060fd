//! A live chat room: an HTML page served through the runtime's fallback, whose
//! `EventSource` shows typed `join`, `message` and `leave` events as they
//! arrive, and which posts messages back.
//!
//! ```sh
//! cargo run --example chat              # then open http://127.0.0.1:8080
//! ```
//!
//! It logs through `tracing` (`RUST_LOG=debug` shows every stream opening
//! and ending) and serves its metrics at `GET /metrics` in the Prometheus
//! text format.
//!
//! With `REDIS_URL` set, the room lives in Redis Streams and is shared by
//! every instance (README, "Several instances"):
//!
//! ```sh
//! REDIS_URL=redis://127.0.0.1:6379/ PORT=8080 cargo run --example chat
//! REDIS_URL=redis://127.0.0.1:6379/ PORT=8081 cargo run --example chat
//! ```
//!
//! The room is a broadcast [`Hub`]: every event is encoded once for all
//! readers and numbered. The page remembers what it showed and the last id it
//! saw, so after a reload it asks to resume after that id and gets exactly
//! what it missed; after a server restart `EventSource` reconnects with
//! `Last-Event-ID` by itself, and the page is told (`history-lost`) that the
//! old room's history is gone (in memory; with Redis it is still there, and
//! a page resumes on any instance).

mod common;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use sse_runtime::extract::{LastEventId, Query, State};
use sse_runtime::hub::{Hub, RedisBackplane};
use sse_runtime::server::tls::TlsConfig;
use sse_runtime::server::RequestBody;
use sse_runtime::{sse, Server};
use tracing_subscriber::EnvFilter;

/// Someone opened the page.
#[derive(Clone, Debug, Serialize)]
struct Joined {
    name: String,
}

/// Someone said something.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Message {
    name: String,
    text: String,
}

/// Someone closed the page.
#[derive(Clone, Debug, Serialize)]
struct Left {
    name: String,
}

#[derive(Deserialize)]
struct Who {
    name: String,
    /// The last event id the page saw before it was reloaded (a new
    /// `EventSource` cannot send `Last-Event-ID` itself).
    last: Option<String>,
}

#[sse(
    "/chat",
    serializer = Json,
    events(Joined = "join", Message = "message", Left = "leave"),
    retry = "1s",
    // Browsers ask for gzip; JSON events shrink, and each is flushed at once.
    compression = "gzip"
)]
async fn chat(
    session: ChatSession,
    who: Query<Who>,
    reconnect: LastEventId,
    room: State<Hub<ChatRoute>>,
) -> Result<(), sse_runtime::Error> {
    let Who { name, last } = who.0;
    // On a reconnect `EventSource` sends the newest id it saw as a header; the
    // URL's `last` is from when the page loaded.
    let last = reconnect.0.or(last);
    let name: String = name.trim().chars().take(32).collect();
    let room = room.0;
    let joined = Joined { name: name.clone() };
    let Ok(join_id) = room.publish(joined.clone()).await else {
        return Ok(()); // the room is closed: the server is stopping
    };
    // Whatever ends this handler from here on (the client leaving before the
    // first send, an error, or the server cancelling it), the room hears a
    // `leave` for every `join`.
    let _presence = Presence {
        room: room.clone(),
        name: Some(name),
    };
    let after = match last.filter(|id| !id.is_empty()) {
        // A reloaded or reconnecting page: everything after what it saw, its
        // own join included.
        Some(last) => last,
        // A new page: its own join, then everything after it.
        None => {
            session.send(joined).id(join_id.to_string()).await?;
            join_id.to_string()
        }
    };
    room.subscribe().after(Some(after)).serve(&session).await?;
    Ok(())
}

/// Announces a `leave` when dropped: a `Drop` guard runs however the
/// handler ends, cancellation included, where code after an `.await` may not.
struct Presence {
    room: Hub<ChatRoute>,
    name: Option<String>,
}

impl Drop for Presence {
    fn drop(&mut self) {
        let (room, name) = (self.room.clone(), self.name.take().unwrap_or_default());
        // Publishing is async and `drop` is not: hand it to a task.
        tokio::spawn(async move {
            let _ = room.publish(Left { name }).await;
        });
    }
}

/// Serves the page, the metrics, and takes posted messages.
async fn site(
    room: Hub<ChatRoute>,
    metrics: PrometheusHandle,
    request: Request<RequestBody>,
) -> Response<Full<Bytes>> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => typed(metrics.render().into(), "text/plain; version=0.0.4"),
        (&Method::GET, "/") => typed(
            Bytes::from_static(PAGE.as_bytes()),
            "text/html; charset=utf-8",
        ),
        (&Method::POST, "/send") => {
            let body = Limited::new(request.into_body(), 4096).collect().await;
            let message = body
                .ok()
                .and_then(|body| serde_json::from_slice::<Message>(&body.to_bytes()).ok())
                .filter(|m| !m.text.trim().is_empty());
            match message {
                Some(message) => match room.publish(message).await {
                    Ok(_) => plain(StatusCode::NO_CONTENT, ""),
                    Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "the room is closed\n"),
                },
                None => plain(
                    StatusCode::BAD_REQUEST,
                    "expected {\"name\": ..., \"text\": ...}\n",
                ),
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn typed(body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let value = header::HeaderValue::from_static(content_type);
    response.headers_mut().insert(header::CONTENT_TYPE, value);
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs on stderr, `info` unless RUST_LOG says otherwise.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // The recorder first: the server takes its handles as it starts.
    let metrics = PrometheusBuilder::new().install_recorder()?;
    sse_runtime::metrics::describe();
    let (listener, addr) = common::listen().await?;
    // One room for every instance when REDIS_URL is set; else this process's.
    let redis = std::env::var("REDIS_URL").ok();
    let room = match &redis {
        Some(url) => {
            let backplane = RedisBackplane::builder(url.as_str())
                .history(500)
                .key_prefix("chat:")
                .connect()
                .await?;
            Hub::<ChatRoute>::with_backplane(backplane)
        }
        None => Hub::<ChatRoute>::builder().history(500).build(),
    };
    let site_room = room.clone();
    let server = Server::new()
        .with_state(room)
        .route(chat)
        .fallback(move |request| site(site_room.clone(), metrics.clone(), request))
        .with_graceful_shutdown(sse_runtime::server::shutdown_signal());
    // HTTPS (HTTP/2 and HTTP/1.1) when TLS_CERT and TLS_KEY name PEM files.
    let (server, scheme) = match (std::env::var_os("TLS_CERT"), std::env::var_os("TLS_KEY")) {
        (Some(cert), Some(key)) => (server.tls(TlsConfig::from_pem_files(cert, key)?), "https"),
        (None, None) => (server, "http"),
        _ => return Err("set both TLS_CERT and TLS_KEY, or neither".into()),
    };
    println!("listening on {scheme}://{addr}");
    if let Some(url) = &redis {
        println!("the room is shared through Redis at {url}");
    }
    println!("open {scheme}://{addr} in a browser (two tabs make a conversation)");
    println!(
        "or: curl -N{} '{scheme}://{addr}/chat?name=curl'",
        match scheme {
            "https" => "k",
            _ => "",
        }
    );
    server.serve_on(listener).await?;
    println!("stopped");
    Ok(())
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>sse-dsl chat</title>
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { list-style: none; padding: 0; min-height: 12rem; }
  #log li { padding: .2rem 0; }
  .join, .leave, .notice { color: #777; font-style: italic; }
  form { display: flex; gap: .5rem; }
  #text { flex: 1; }
</style>
<h1>Chat</h1>
<p id="status">connecting…</p>
<ul id="log"></ul>
<form id="form"><input id="text" autocomplete="off" placeholder="Say something"><button>Send</button></form>
<script>
  const name = new URLSearchParams(location.search).get("name") || "guest" + Math.floor(Math.random() * 1000);
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  // What this tab showed and the last event id it saw, kept across reloads.
  const memory = "chat:" + name;
  const saved = JSON.parse(sessionStorage.getItem(memory) || '{"last": "", "items": []}');
  function render(kind, text) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    log.appendChild(item);
  }
  function show(kind, text, event) {
    render(kind, text);
    saved.items = saved.items.concat([[kind, text]]).slice(-200);
    if (event) saved.last = event.lastEventId;
    sessionStorage.setItem(memory, JSON.stringify(saved));
  }
  saved.items.forEach(([kind, text]) => render(kind, text));
  // A new EventSource cannot send Last-Event-ID: pass it in the URL. Later
  // reconnects (a server restart) send the header themselves.
  const resume = saved.last ? "&last=" + encodeURIComponent(saved.last) : "";
  const source = new EventSource("/chat?name=" + encodeURIComponent(name) + resume);
  source.onopen = () => { status.textContent = "connected as " + name; };
  source.onerror = () => { status.textContent = "reconnecting…"; };
  source.addEventListener("join", (e) => show("join", JSON.parse(e.data).name + " joined", e));
  source.addEventListener("leave", (e) => show("leave", JSON.parse(e.data).name + " left", e));
  source.addEventListener("message", (e) => {
    const message = JSON.parse(e.data);
    show("message", message.name + ": " + message.text, e);
  });
  source.addEventListener("history-lost", () => show("notice", "(some messages were missed)"));
  document.getElementById("form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    if (!input.value.trim()) return;
    await fetch("/send", { method: "POST", headers: { "content-type": "application/json" },
                           body: JSON.stringify({ name, text: input.value }) });
    input.value = "";
  });
</script>
</html>
"#;
