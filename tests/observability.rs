//! What a stream tells `tracing`: a span per stream, entered while its
//! handler runs, and an event when it opens, ends (with the reason) or is
//! refused.

mod support;

use std::time::Duration;

use sse_runtime::extract::FromRequest;
use sse_runtime::{sse, Rejection, Request, Server};
use support::http::{get, open, request, start, text};
use support::traces::Recorded;

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

/// Sends until its stream ends, with `?`, as handlers do.
#[sse("/ticks")]
async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
    loop {
        session.send("tick").await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Fails on its own.
#[sse("/broken")]
async fn broken(session: BrokenSession) -> Result<(), sse_runtime::Error> {
    session.send("one").await?;
    session.close();
    session.send("two").await
}

#[tokio::test]
async fn a_send_that_fails_because_the_client_left_is_not_a_handler_failure() {
    let recorded = Recorded::default();
    let _default = tracing::subscriber::set_default(recorded.clone());
    let server = start(Server::new().route(ticks).route(broken)).await;
    let mut stream = open(server.addr, "/ticks").await;
    assert_eq!(stream.next_block().await.unwrap(), "data: tick\n\n");
    drop(stream);
    let ended = recorded.wait_for("stream ended").await;
    assert_eq!(ended.fields["reason"], "client left");
    assert!(recorded.events("SSE handler failed").is_empty());

    // A handler whose own doing closed its stream still failed.
    let mut stream = open(server.addr, "/broken").await;
    assert_eq!(stream.rest().await, "data: one\n\n");
    let failed = recorded.wait_for("SSE handler failed").await;
    assert_eq!(failed.fields["error"], "the SSE stream is closed");
    server.stop().await;
}
