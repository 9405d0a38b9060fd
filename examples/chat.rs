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
//!
//! Under load it does not amplify: a connection that resumes (a reload, or
//! `EventSource` reconnecting with `Last-Event-ID`) is the same person, not
//! a new one, so it announces nothing; a `leave` is published only once a
//! person's last connection has been gone for `CHAT_LEAVE_AFTER_MS`
//! (5,000 by default), and reconnects are spread over 1 to 3 s. Presence is
//! this instance's, and the instance that announced a person announces their
//! leave: with Redis, a person who comes back on another instance is
//! announced as leaving by the one they left, and one who resumes on an
//! instance that never announced them (after a restart) leaves unannounced.
//!
//! `POST /send` takes `{"name", "text"}` and an optional client-chosen
//! `"id"`: a message posted again with the same id (a retry after a timeout)
//! appears once. A message the room could not take is answered `503` with
//! why, and whether it may still appear.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use sse_runtime::extract::{FromRef, LastEventId, Query, State};
use sse_runtime::hub::{BackplaneError, Hub, PublishError, PublishOutcome, RedisBackplane};
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
#[derive(Clone, Debug, Serialize)]
struct Message {
    name: String,
    text: String,
}

/// What `POST /send` takes: a message, and the id its sender chose for it,
/// so that sending it again (a retry) does not say it twice.
#[derive(Deserialize)]
struct Post {
    name: String,
    text: String,
    id: Option<String>,
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
    people: State<People>,
) -> Result<(), sse_runtime::Error> {
    let Who { name, last } = who.0;
    // On a reconnect `EventSource` sends the newest id it saw as a header; the
    // URL's `last` is from when the page loaded.
    let last = reconnect.0.or(last).filter(|id| !id.is_empty());
    let name: String = name.trim().chars().take(32).collect();
    let room = room.0;
    // Held until the handler ends, however it ends (the client leaving,
    // an error, the server cancelling it): the person's leave follows.
    let presence = people.0.arrive(&name, &room);
    let after = match last {
        // A reloaded or reconnecting page is someone already here: nothing
        // to announce, and everything after what it saw.
        Some(last) => Some(last),
        // A new page: its own join, then everything after it; or, for
        // someone already here (another tab), the room from now on.
        None => match presence.announce().await {
            Some(Ok(join_id)) => {
                let joined = Joined { name: name.clone() };
                if session.send(joined).id(join_id.to_string()).await.is_err() {
                    return Ok(()); // the page already left
                }
                Some(join_id.to_string())
            }
            Some(Err(_)) => return Ok(()), // the room cannot take it: the page retries
            None => None,
        },
    };
    room.subscribe().after(after).serve(&session).await?;
    Ok(())
}

/// Who is in the room through this instance: each person's open
/// connections, so that a reconnect is not a new person and a leave waits
/// until the last one has been gone for a while.
#[derive(Clone)]
struct People {
    present: Arc<Mutex<HashMap<String, Person>>>,
    /// How long a person's last connection stays gone before they left.
    leave_after: Duration,
}

#[derive(Default)]
struct Person {
    connections: usize,
    /// Counts arrivals, so that a leave scheduled before the latest one
    /// knows it is out of date.
    arrivals: u64,
    /// Whether this instance announced them (so it announces the leave).
    announced: bool,
}

impl People {
    fn new(leave_after: Duration) -> Self {
        Self {
            present: Arc::default(),
            leave_after,
        }
    }

    /// Who is here, locked (poisoned or not: the map stays usable).
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Person>> {
        self.present.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn arrive(&self, name: &str, room: &Hub<ChatRoute>) -> Presence {
        let mut present = self.lock();
        let person = present.entry(name.to_owned()).or_default();
        person.connections += 1;
        person.arrivals += 1;
        Presence {
            people: self.clone(),
            room: room.clone(),
            name: name.to_owned(),
        }
    }

    /// Runs `f` on the person called `name`, if they are here.
    fn with<R>(&self, name: &str, f: impl FnOnce(&mut Person) -> R) -> Option<R> {
        self.lock().get_mut(name).map(f)
    }
}

/// One connection of a person; dropping it may (later) announce their leave.
struct Presence {
    people: People,
    room: Hub<ChatRoute>,
    name: String,
}

impl Presence {
    /// Publishes the person's `join`, unless this instance announced them
    /// already (another tab of theirs is open): once per visit.
    async fn announce(&self) -> Option<Result<Arc<str>, PublishError>> {
        let first = self.people.with(&self.name, |person| {
            !std::mem::replace(&mut person.announced, true)
        });
        if first != Some(true) {
            return None;
        }
        let joined = Joined {
            name: self.name.clone(),
        };
        let published = self.room.publish(joined).await;
        if published.is_err() {
            // Not announced after all: the page's retry tries again.
            self.people
                .with(&self.name, |person| person.announced = false);
        }
        Some(published)
    }
}

impl Drop for Presence {
    /// The last connection gone: if none came back within `leave_after`, the
    /// person left. Publishing is async and `drop` is not: a task waits.
    fn drop(&mut self) {
        let (people, room, name) = (
            self.people.clone(),
            self.room.clone(),
            std::mem::take(&mut self.name),
        );
        let Some(arrivals) = people.with(&name, |person| {
            person.connections -= 1;
            (person.connections == 0).then_some(person.arrivals)
        }) else {
            return;
        };
        let Some(arrivals) = arrivals else {
            return; // another page of theirs is open
        };
        tokio::spawn(async move {
            tokio::time::sleep(people.leave_after).await;
            let gone = {
                let mut present = people.lock();
                match present.get(&name) {
                    Some(person) if person.connections == 0 && person.arrivals == arrivals => {
                        present.remove(&name).is_some_and(|person| person.announced)
                    }
                    _ => false, // they came back
                }
            };
            if gone {
                let _ = room.publish(Left { name }).await;
            }
        });
    }
}

/// What the route's handlers share.
#[derive(Clone, FromRef)]
struct App {
    room: Hub<ChatRoute>,
    people: People,
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
            let post = body
                .ok()
                .and_then(|body| serde_json::from_slice::<Post>(&body.to_bytes()).ok())
                .filter(|post| !post.text.trim().is_empty())
                .filter(|post| {
                    post.id
                        .as_ref()
                        .is_none_or(|id| (1..=128).contains(&id.len()))
                });
            let Some(Post { name, text, id }) = post else {
                let expected =
                    "expected {\"name\": ..., \"text\": ..., \"id\": optional, 1 to 128 bytes}\n";
                return plain(StatusCode::BAD_REQUEST, expected.into());
            };
            let mut publish = room.publish(Message { name, text });
            if let Some(id) = id {
                publish = publish.idempotency_key(id);
            }
            match publish.await {
                Ok(_) => plain(StatusCode::NO_CONTENT, String::new()),
                Err(err) => not_sent(&err),
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

/// Tells the sender why the room did not take the message, and whether it
/// may still appear. (The hub logged the cause once already.)
fn not_sent(err: &PublishError) -> Response<Full<Bytes>> {
    let why = match (err, err.outcome()) {
        (PublishError::Backplane(BackplaneError::Closed), _) => {
            "the message was not sent: the room is closed (the server is stopping)\n".to_owned()
        }
        (_, PublishOutcome::Unknown) => format!(
            "the message may still appear: the room's store did not answer in time ({err}); \
             send it again with the same \"id\" and it appears once\n"
        ),
        _ => format!("the message was not sent: {err}\n"),
    };
    let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, why);
    let retry = header::HeaderValue::from_static("1");
    response.headers_mut().insert(header::RETRY_AFTER, retry);
    response
}

fn typed(body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let value = header::HeaderValue::from_static(content_type);
    response.headers_mut().insert(header::CONTENT_TYPE, value);
    response
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // What went wrong, said plainly (not `main`'s `Debug` of the error).
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chat: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Logs on stderr, `info` unless RUST_LOG says otherwise.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // The recorder first: the server takes its handles as it starts.
    let metrics = PrometheusBuilder::new().install_recorder()?;
    sse_runtime::metrics::describe();
    // The room before the port: a Redis that cannot be reached stops the
    // chat before it accepts a connection it could not answer.
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
    let leave_after = match std::env::var("CHAT_LEAVE_AFTER_MS") {
        Ok(ms) => Duration::from_millis(
            ms.parse()
                .map_err(|err| format!("CHAT_LEAVE_AFTER_MS: {err}"))?,
        ),
        Err(_) => Duration::from_secs(5),
    };
    // HTTPS (HTTP/2 and HTTP/1.1) when TLS_CERT and TLS_KEY name PEM files.
    let tls = match (std::env::var_os("TLS_CERT"), std::env::var_os("TLS_KEY")) {
        (Some(cert), Some(key)) => Some(TlsConfig::from_pem_files(cert, key)?),
        (None, None) => None,
        _ => return Err("set both TLS_CERT and TLS_KEY, or neither".into()),
    };
    let (listener, addr) = common::listen().await?;
    let site_room = room.clone();
    let app = App {
        room,
        people: People::new(leave_after),
    };
    let server = Server::new()
        .with_state(app)
        .route(chat)
        // Pages that lose their stream together (a deploy, a busy server)
        // come back over 1 to 3 s, not in the same instant.
        .retry_jitter(Duration::from_secs(2))
        .fallback(move |request| site(site_room.clone(), metrics.clone(), request))
        .with_graceful_shutdown(sse_runtime::server::shutdown_signal());
    let (server, scheme) = match tls {
        Some(tls) => (server.tls(tls), "https"),
        None => (server, "http"),
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
    // One id per message: sent again after a failure, it still appears once.
    const id = crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random();
    const body = JSON.stringify({ name, text: input.value, id });
    input.value = "";
    for (let attempt = 1; attempt <= 5; attempt++) {
      const sent = await fetch("/send", { method: "POST", headers: { "content-type": "application/json" }, body })
        .catch(() => null);
      if (sent && sent.status !== 503) { status.textContent = "connected as " + name; return; }
      status.textContent = sent ? "not sent yet: " + (await sent.text()) : "not sent yet: offline";
      await new Promise((done) => setTimeout(done, 1000 * attempt));
    }
  });
</script>
</html>
"#;
