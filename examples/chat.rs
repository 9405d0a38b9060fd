//! A live chat room: an HTML page served through the runtime's fallback, whose
//! `EventSource` shows typed `join`, `message` and `leave` events as they
//! arrive, and which posts messages back.
//!
//! ```sh
//! cargo run --example chat              # then open http://127.0.0.1:8080
//! ```
//!
//! The room is a `tokio::sync::broadcast` channel for now; it will move to the
//! runtime's broadcast hub, which adds resuming with `Last-Event-ID`.

mod common;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use sse_runtime::extract::{Query, State};
use sse_runtime::{sse, Server};
use tokio::sync::broadcast;

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

#[derive(Clone, Debug)]
enum RoomEvent {
    Joined(Joined),
    Message(Message),
    Left(Left),
}

/// The room everyone is in.
#[derive(Clone)]
struct Room(broadcast::Sender<RoomEvent>);

#[derive(Deserialize)]
struct Who {
    name: String,
}

#[sse("/chat", serializer = Json, events(Joined = "join", Message = "message", Left = "leave"))]
async fn chat(
    session: ChatSession,
    who: Query<Who>,
    room: State<Room>,
) -> Result<(), sse_runtime::Error> {
    let name = who.0.name.trim().chars().take(32).collect::<String>();
    let Room(room) = room.0;
    let mut events = room.subscribe();
    let _ = room.send(RoomEvent::Joined(Joined { name: name.clone() }));
    let result = loop {
        tokio::select! {
            () = session.closed() => break Ok(()),
            event = events.recv() => {
                let sent = match event {
                    Ok(RoomEvent::Joined(joined)) => session.send(joined).await,
                    Ok(RoomEvent::Message(message)) => session.send(message).await,
                    Ok(RoomEvent::Left(left)) => session.send(left).await,
                    // This reader fell behind the room and missed messages.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break Ok(()),
                };
                if let Err(err) = sent {
                    break Err(err);
                }
            }
        }
    };
    let _ = room.send(RoomEvent::Left(Left { name }));
    match result {
        Err(sse_runtime::Error::Closed) => Ok(()),
        other => other,
    }
}

/// Serves the page and takes posted messages.
async fn site(room: Room, request: Request<Incoming>) -> Response<Full<Bytes>> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => {
            let mut response = Response::new(Full::new(Bytes::from_static(PAGE.as_bytes())));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                "text/html; charset=utf-8".parse().expect("valid"),
            );
            response
        }
        (&Method::POST, "/send") => {
            let body = Limited::new(request.into_body(), 4096).collect().await;
            let message = body
                .ok()
                .and_then(|body| serde_json::from_slice::<Message>(&body.to_bytes()).ok())
                .filter(|m| !m.text.trim().is_empty());
            match message {
                Some(message) => {
                    let _ = room.0.send(RoomEvent::Message(message));
                    plain(StatusCode::NO_CONTENT, "")
                }
                None => plain(
                    StatusCode::BAD_REQUEST,
                    "expected {\"name\": ..., \"text\": ...}\n",
                ),
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (listener, addr) = common::listen().await?;
    let room = Room(broadcast::channel(256).0);
    println!("listening on http://{addr}");
    println!("open http://{addr} in a browser (two tabs make a conversation)");
    println!("or: curl -N 'http://{addr}/chat?name=curl'");
    let site_room = room.clone();
    Server::new()
        .state(room)
        .route(chat)
        .fallback(move |request| site(site_room.clone(), request))
        .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
        .serve_on(listener)
        .await?;
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
  .join, .leave { color: #777; font-style: italic; }
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
  function show(kind, text) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    log.appendChild(item);
  }
  const source = new EventSource("/chat?name=" + encodeURIComponent(name));
  source.onopen = () => { status.textContent = "connected as " + name; };
  source.onerror = () => { status.textContent = "reconnecting…"; };
  source.addEventListener("join", (e) => show("join", JSON.parse(e.data).name + " joined"));
  source.addEventListener("leave", (e) => show("leave", JSON.parse(e.data).name + " left"));
  source.addEventListener("message", (e) => {
    const message = JSON.parse(e.data);
    show("message", message.name + ": " + message.text);
  });
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
