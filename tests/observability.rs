//! What a stream tells `tracing`: a span per stream, entered while its
//! handler runs, and an event when it opens, ends (with the reason) or is
//! refused.

mod support;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sse_runtime::extract::FromRequest;
use sse_runtime::{sse, Rejection, Request, Server};
use support::http::{get, open, request, start, text};

/// What the subscriber saw: each event's message, fields and the spans it
/// was in (innermost last), each span's name and fields.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Inner>>);

#[derive(Default)]
struct Inner {
    spans: Vec<(String, HashMap<String, String>)>,
    stack: Vec<u64>,
    events: Vec<Seen>,
}

#[derive(Clone, Debug)]
struct Seen {
    message: String,
    fields: HashMap<String, String>,
    /// The innermost span's name and fields, if any.
    span: Option<(String, HashMap<String, String>)>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl tracing::Subscriber for Recorded {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = HashMap::new();
        span.record(&mut Fields(&mut fields));
        let mut inner = self.0.lock().unwrap();
        inner
            .spans
            .push((span.metadata().name().to_owned(), fields));
        tracing::span::Id::from_u64(inner.spans.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let mut inner = self.0.lock().unwrap();
        let span = inner
            .stack
            .last()
            .map(|id| inner.spans[*id as usize - 1].clone());
        inner.events.push(Seen {
            message,
            fields,
            span,
        });
    }
    fn enter(&self, span: &tracing::span::Id) {
        self.0.lock().unwrap().stack.push(span.into_u64());
    }
    fn exit(&self, _: &tracing::span::Id) {
        self.0.lock().unwrap().stack.pop();
    }
}

impl Recorded {
    fn events(&self, message: &str) -> Vec<Seen> {
        let inner = self.0.lock().unwrap();
        inner
            .events
            .iter()
            .filter(|seen| seen.message == message)
            .cloned()
            .collect()
    }

    /// Waits (a little) for an event with `message` to be seen.
    async fn wait_for(&self, message: &str) -> Seen {
        for _ in 0..200 {
            if let Some(seen) = self.events(message).pop() {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no {message:?} event");
    }
}

#[sse("/rooms/{room}")]
async fn room(session: RoomSession, room: String) -> Result<(), sse_runtime::Error> {
    tracing::info!(room, "hello from the handler");
    session.send("hi").await?;
    session.closed().await;
    Ok(())
}

#[sse("/once")]
async fn once(session: OnceSession) -> Result<(), sse_runtime::Error> {
    session.send("bye").await
}

struct Denied;

impl<S: Sync> FromRequest<S> for Denied {
    type Rejection = Rejection;
    async fn from_request(_: &Request, _: &S) -> Result<Self, Rejection> {
        Err(Rejection::new(
            http::StatusCode::UNAUTHORIZED,
            "who are you?",
        ))
    }
}

#[sse("/private")]
async fn private(session: PrivateSession, _who: Denied) {
    let _ = session;
}

#[tokio::test]
async fn a_stream_has_a_span_and_says_when_it_opens_ends_or_is_refused() {
    let recorded = Recorded::default();
    let _default = tracing::subscriber::set_default(recorded.clone());
    let server = start(Server::new().route(room).route(once).route(private)).await;

    // The handler's own event carries the stream's span.
    let mut stream = open(server.addr, "/rooms/lobby").await;
    assert_eq!(stream.next_block().await.unwrap(), "data: hi\n\n");
    let hello = recorded.wait_for("hello from the handler").await;
    let (name, fields) = hello.span.expect("in the stream's span");
    assert_eq!(name, "sse_stream");
    assert_eq!(fields["route"], "/rooms/{room}");
    assert_eq!(fields["path"], "/rooms/lobby");
    assert!(fields["peer"].starts_with("Some(127.0.0.1:"), "{fields:?}");
    assert_eq!(fields["stream"], "1");
    assert_eq!(recorded.events("stream opened").len(), 1);

    // The client leaves: the stream ends, and says why.
    drop(stream);
    let ended = recorded.wait_for("stream ended").await;
    assert_eq!(ended.fields["reason"], "client left");
    assert_eq!(ended.span.unwrap().1["stream"], "1");

    // A handler that returns.
    let mut stream = open(server.addr, "/once").await;
    assert_eq!(stream.rest().await, "data: bye\n\n");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let reasons: Vec<_> = recorded
        .events("stream ended")
        .into_iter()
        .map(|seen| seen.fields["reason"].clone())
        .collect();
    assert_eq!(reasons, ["client left", "handler returned"]);

    // A refusal: status and reason, and no stream.
    let (status, _, _) = text(request(server.addr, get(server.addr, "/private", &[])).await).await;
    assert_eq!(status, 401);
    let refused = recorded.wait_for("stream refused").await;
    assert_eq!(refused.fields["status"], "401");
    assert_eq!(refused.fields["reason"], "who are you?");
    assert_eq!(refused.span.unwrap().1["route"], "/private");
    assert_eq!(recorded.events("stream opened").len(), 2);
    server.stop().await;
}
