//! The server over loopback with a real HTTP client.

mod support;

use std::sync::Arc;
use std::time::Duration;

use sse_runtime::route::{handler, Rejection, RouteOptions};
use sse_runtime::serializer::Json;
use sse_runtime::{Event, Heartbeat, Route, ServeError, Server, Session};
use support::http::{get, open, request, request_h2, start, text, EventStream};
use support::routes::flood_at;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

async fn three_events(session: Session) -> Result<(), sse_runtime::Error> {
    for i in 0..3 {
        session
            .send(Event::new().event("n").id(i).data(format!("event {i}")))
            .await?;
    }
    Ok(())
}

fn assert_stream_headers(stream: &EventStream) {
    assert_eq!(stream.head.status, 200);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.header("cache-control"), Some("no-store"));
    assert_eq!(stream.header("x-accel-buffering"), Some("no"));
    assert_eq!(stream.header("content-encoding"), None);
    assert_eq!(stream.header("content-length"), None);
}

const THREE_EVENTS: &str = "event: n\nid: 0\ndata: event 0\n\n\
                            event: n\nid: 1\ndata: event 1\n\n\
                            event: n\nid: 2\ndata: event 2\n\n";

#[tokio::test]
async fn http1_stream_has_the_right_headers_and_ends_when_the_handler_returns() {
    let server = start(Server::new().route(handler(three_events).at("/events"))).await;
    let mut stream = open(server.addr, "/events").await;
    assert_stream_headers(&stream);
    // Served by the HTTP/1.1 fast path: the connection is the stream's.
    assert_eq!(stream.header("connection"), Some("close"));
    assert!(stream.header("date").is_some());
    assert_eq!(stream.rest().await, THREE_EVENTS);
    server.stop().await;
}

/// Reads a raw HTTP exchange to the end.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer))
        .await
        .expect("the exchange ends")
        .unwrap();
    String::from_utf8(answer).unwrap()
}

#[tokio::test]
async fn requests_off_the_fast_path_are_served_by_hyper_the_same() {
    let server = start(Server::new().route(handler(three_events).at("/events"))).await;
    // HTTP/1.0: no chunking, the body ends when the connection does.
    let answer = raw_exchange(server.addr, b"GET /events HTTP/1.0\r\nHost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with(&format!("\r\n\r\n{THREE_EVENTS}")),
        "{answer}"
    );
    // A request pipelined behind the stream's head: both are answered, in order.
    let answer = raw_exchange(
        server.addr,
        b"GET /events HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let stream_end = answer.find("0\r\n\r\n").expect("the stream's last chunk");
    assert!(
        answer[stream_end..].contains("HTTP/1.1 404 Not Found"),
        "{answer}"
    );
    // The fast path writes the same events, chunked, then closes.
    let answer = raw_exchange(server.addr, b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        answer.contains("transfer-encoding: chunked\r\n"),
        "{answer}"
    );
    assert!(answer.ends_with("\r\n0\r\n\r\n"), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn http2_cleartext_streams_too() {
    let server = start(Server::new().route(handler(three_events).at("/events"))).await;
    let response = request_h2(server.addr, get(server.addr, "/events", &[])).await;
    assert_eq!(response.version(), http::Version::HTTP_2);
    let mut stream = EventStream::new(response);
    assert_stream_headers(&stream);
    assert_eq!(stream.rest().await, THREE_EVENTS);
    server.stop().await;
}

#[tokio::test]
async fn typed_values_go_through_the_serializer() {
    #[derive(serde::Serialize)]
    struct Customer {
        id: u32,
        name: &'static str,
    }
    async fn customers(session: Session) -> Result<(), sse_runtime::Error> {
        let jet = Customer {
            id: 0,
            name: "Jet\nBrains",
        };
        session
            .send_value(Json, jet)
            .event("customer")
            .id("c0")
            .await?;
        session
            .send_value(sse_runtime::serializer::Text, "two\nlines")
            .await
    }
    let server = start(Server::new().route(handler(customers).at("/c"))).await;
    let mut stream = open(server.addr, "/c").await;
    assert_eq!(
        stream.rest().await,
        "event: customer\nid: c0\ndata: {\"id\":0,\"name\":\"Jet\\nBrains\"}\n\n\
         data: two\ndata: lines\n\n"
    );
    server.stop().await;
}

#[tokio::test]
async fn close_ends_the_stream_after_what_was_sent() {
    let (tx, rx) = oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let route = handler(move |session: Session| {
        let tx = tx.lock().unwrap().take();
        async move {
            session.send(Event::new().data("last words")).await.unwrap();
            session.close();
            let after = session.send(Event::new().data("never")).await;
            let _ = tx
                .unwrap()
                .send(matches!(after, Err(sse_runtime::Error::Closed)));
            // The stream is already over even though the handler keeps running.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    let server = start(Server::new().route(route.at("/close"))).await;
    let mut stream = open(server.addr, "/close").await;
    assert_eq!(stream.rest().await, "data: last words\n\n");
    assert!(
        rx.await.unwrap(),
        "a send after close() fails with Error::Closed"
    );
    server.stop().await;
}

#[tokio::test]
async fn bytes_a_client_sends_during_a_stream_are_dropped_and_the_stream_goes_on() {
    let (go, wait) = oneshot::channel::<()>();
    let wait = Arc::new(tokio::sync::Mutex::new(Some(wait)));
    let route = handler(move |session: Session| {
        let wait = wait.clone();
        async move {
            session.send(Event::new().data("first")).await?;
            if let Some(wait) = wait.lock().await.take() {
                let _ = wait.await;
            }
            session.send(Event::new().data("second")).await
        }
    });
    let server = start(Server::new().route(route.at("/s"))).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    while !String::from_utf8_lossy(&answer).contains("data: first") {
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0, "the stream ended early");
        answer.extend_from_slice(&buf[..n]);
    }
    // A pipelined request and some junk, less than the server drops before
    // it gives up on the client (64 KiB; see `hardening.rs` for more).
    let mut junk = b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    junk.resize(32 << 10, b'j');
    conn.write_all(&junk).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    go.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer))
        .await
        .expect("the stream ends")
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(
        body,
        "d\r\ndata: first\n\n\r\ne\r\ndata: second\n\n\r\n0\r\n\r\n"
    );
    drop(conn);
    server.stop().await;
}

#[tokio::test]
async fn heartbeats_are_written_on_quiet_streams() {
    async fn quiet(session: Session) {
        session.closed().await;
    }
    let server = Server::new()
        .heartbeat(Heartbeat::every(Duration::from_millis(50)))
        .route(handler(quiet).at("/quiet"))
        .route(
            handler(quiet)
                .no_heartbeat()
                .retry(Duration::from_millis(1500))
                .at("/silent"),
        );
    let server = start(server).await;
    let mut stream = open(server.addr, "/quiet").await;
    for _ in 0..3 {
        assert_eq!(
            stream
                .next_block_within(Duration::from_secs(5))
                .await
                .unwrap(),
            ":\n\n"
        );
    }
    let mut silent = open(server.addr, "/silent").await;
    assert_eq!(silent.next_block().await.unwrap(), "retry: 1500\n\n");
    let nothing = tokio::time::timeout(Duration::from_millis(300), silent.next_block()).await;
    assert!(nothing.is_err(), "a route can switch the heartbeat off");
    server.stop().await;
}

#[tokio::test]
async fn request_details_reach_the_handler() {
    let route = handler(|session: Session| async move {
        let request = session.request();
        let line = format!(
            "{} {} room={:?} q={:?} last={:?} peer={}",
            request.method(),
            request.path(),
            request.param("room"),
            request.query(),
            request.last_event_id(),
            request.peer_addr().is_some_and(|p| p.ip().is_loopback()),
        );
        session.send(Event::new().data(line)).await
    });
    let server = start(Server::new().route(route.at("/rooms/{room}"))).await;
    let req = get(
        server.addr,
        "/rooms/caf%C3%A9?since=3",
        &[("last-event-id", "é…7".as_bytes())],
    );
    let mut stream = EventStream::new(request(server.addr, req).await);
    assert_eq!(
        stream.rest().await,
        "data: GET /rooms/caf%C3%A9 room=Some(\"café\") q=Some(\"since=3\") last=Some(\"é…7\") peer=true\n\n"
    );
    server.stop().await;
}

#[tokio::test]
async fn not_found_method_not_allowed_and_bad_requests() {
    let reject = handler(|_session: Session| async {});
    struct Refuses;
    impl<S> Route<S> for Refuses {
        fn start(&self, _: Session, _: &std::sync::Arc<S>) -> sse_runtime::route::StartFuture {
            Box::pin(async { Err(Rejection::bad_request("`room` must be a number")) })
        }
    }
    let server = Server::new()
        .route(reject.at("/events/{name}"))
        .route_at("/refuses", Refuses);
    let server = start(server).await;
    let addr = server.addr;

    let (status, _, body) = text(request(addr, get(addr, "/nope", &[])).await).await;
    assert_eq!((status.as_u16(), body.as_str()), (404, "not found\n"));

    let post = http::Request::post(format!("http://{addr}/events/x"))
        .header("host", addr.to_string())
        .body(http_body_util::Empty::new())
        .unwrap();
    let (status, headers, body) = text(request(addr, post).await).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET, HEAD");
    assert_eq!(body, "this event stream is opened with GET\n");

    let (status, _, body) = text(request(addr, get(addr, "/events/%FF", &[])).await).await;
    assert_eq!(status, 400);
    assert!(body.contains("`name`"), "{body}");

    let (status, _, body) =
        text(request(addr, get(addr, "/events/x", &[("last-event-id", b"\xff")])).await).await;
    assert_eq!(status, 400);
    assert!(body.contains("Last-Event-ID"), "{body}");

    let (status, headers, body) = text(request(addr, get(addr, "/refuses", &[])).await).await;
    assert_eq!(
        (status.as_u16(), body.as_str()),
        (400, "`room` must be a number\n")
    );
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    server.stop().await;
}

/// Sends raw bytes on a fresh connection and returns what the server answers
/// before closing.
async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer)).await;
    read.expect("the server answers and closes").unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn garbage_and_non_utf8_requests_get_400_without_harming_other_streams() {
    async fn endless(session: Session) -> Result<(), sse_runtime::Error> {
        for i in 0.. {
            session.send(Event::new().data(i.to_string())).await?;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }
    let server = start(Server::new().route(handler(endless).at("/live"))).await;
    let mut live = open(server.addr, "/live").await;
    assert_eq!(live.next_block().await.unwrap(), "data: 0\n\n");

    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"GET /li\xffve HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\x01\x02\x03 \xff\xfe\r\n\r\n",
    ] {
        let answer = raw(server.addr, garbage).await;
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "{garbage:?} got {answer:?}"
        );
    }
    let answer = raw(
        server.addr,
        b"GET /live HTTP/1.1\r\nHost: x\r\nConnection: close\r\nLast-Event-ID: \xc3\x28\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");

    // The stream opened before kept flowing.
    let next: u64 = live.next_block().await.unwrap()["data: ".len()..]
        .trim()
        .parse()
        .unwrap();
    assert!(next >= 1);
    drop(live);
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_get_503_with_retry_after() {
    async fn hold(session: Session) {
        session.send(Event::new().data("in")).await.unwrap();
        session.closed().await;
    }
    let server = start(
        Server::new()
            .max_connections(1)
            .route(handler(hold).at("/hold")),
    )
    .await;
    let mut first = open(server.addr, "/hold").await;
    assert_eq!(first.next_block().await.unwrap(), "data: in\n\n");

    let (status, headers, _) =
        text(request(server.addr, get(server.addr, "/hold", &[])).await).await;
    assert_eq!(status, 503);
    assert_eq!(headers["retry-after"], "1");

    drop(first);
    // Once the first connection is gone its slot is free again.
    let mut again = None;
    for _ in 0..100 {
        let response = request(server.addr, get(server.addr, "/hold", &[])).await;
        if response.status() == 200 {
            again = Some(EventStream::new(response));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        again
            .expect("the slot is freed")
            .next_block()
            .await
            .unwrap(),
        "data: in\n\n"
    );
    server.stop().await;
}

#[tokio::test]
async fn handler_errors_and_panics_close_only_their_own_stream() {
    async fn fails(session: Session) -> Result<(), String> {
        session
            .send(Event::new().data("before"))
            .await
            .map_err(|e| e.to_string())?;
        Err("the database is down".to_owned())
    }
    async fn panics(session: Session) {
        session.send(Event::new().data("before")).await.unwrap();
        panic!("handler bug");
    }
    let server = Server::new()
        .route(handler(fails).at("/fails"))
        .route(handler(panics).at("/panics"))
        .route(handler(three_events).at("/ok"));
    let server = start(server).await;
    for _ in 0..3 {
        for path in ["/fails", "/panics"] {
            let mut stream = open(server.addr, path).await;
            assert_eq!(
                stream.rest().await,
                "data: before\n\n",
                "{path} ends cleanly"
            );
        }
        assert_eq!(open(server.addr, "/ok").await.rest().await, THREE_EVENTS);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_the_write_timeout() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = Server::new()
        .write_timeout(Duration::from_millis(300))
        .route(flood_at("/flood", tx));
    let server = start(server).await;
    // HTTP/1.1 takes the fast path, HTTP/1.0 goes through hyper.
    for version in ["1.1", "1.0"] {
        let mut conn = TcpStream::connect(server.addr).await.unwrap();
        let head = format!("GET /flood HTTP/{version}\r\nHost: x\r\n\r\n");
        conn.write_all(head.as_bytes()).await.unwrap();
        // Never read. Generous: the socket buffers take megabytes first.
        let sent = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("HTTP/{version}: the stalled connection was not closed"))
            .unwrap();
        assert!(sent > 0, "HTTP/{version}");
        drop(conn);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_reader_that_keeps_reading_slowly_is_not_cut_off() {
    let route = handler(|session: Session| async move {
        for i in 0..40 {
            let data = format!("{i:02}{}", "y".repeat(64 * 1024));
            session.send(Event::new().data(data)).await?;
        }
        Ok::<(), sse_runtime::Error>(())
    });
    let server = Server::new()
        .write_timeout(Duration::from_millis(300))
        .route(route.at("/big"));
    let server = start(server).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Let the socket fill, then take a little at a time, each within the
    // timeout: the server must wait, not give up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = conn.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = String::from_utf8(answer).unwrap();
    assert!(text.ends_with("0\r\n\r\n"), "the stream ended, not cut");
    for i in 0..40 {
        assert!(text.contains(&format!("data: {i:02}y")), "event {i}");
    }
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_handlers_say_goodbye_and_ends_stubborn_streams_at_the_deadline() {
    async fn polite(session: Session) -> Result<(), sse_runtime::Error> {
        session.send(Event::new().data("hi")).await?;
        session.closed().await;
        session
            .send(Event::new().event("bye").data("server going away"))
            .await
    }
    async fn stubborn(session: Session) {
        session.send(Event::new().data("hi")).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let server = Server::new()
        .shutdown_deadline(Duration::from_millis(500))
        .route(handler(polite).at("/polite"))
        .route(handler(stubborn).at("/stubborn"));
    let server = start(server).await;
    let mut polite = open(server.addr, "/polite").await;
    let mut stubborn = open(server.addr, "/stubborn").await;
    assert_eq!(polite.next_block().await.unwrap(), "data: hi\n\n");
    assert_eq!(stubborn.next_block().await.unwrap(), "data: hi\n\n");
    let addr = server.addr;

    let took = server.stop().await;
    assert!(
        took >= Duration::from_millis(500),
        "waited for the stubborn stream: {took:?}"
    );
    assert!(
        took < Duration::from_secs(3),
        "and no longer than the deadline: {took:?}"
    );
    assert_eq!(
        polite.rest().await,
        "event: bye\ndata: server going away\n\n"
    );
    let stubborn_end = tokio::time::timeout(Duration::from_secs(2), stubborn.body_end()).await;
    assert!(
        stubborn_end.is_ok(),
        "the stubborn stream was cut at the deadline"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn shutdown_is_immediate_when_nothing_is_open() {
    let server = start(Server::new().route(handler(three_events).at("/e"))).await;
    assert_eq!(open(server.addr, "/e").await.rest().await, THREE_EVENTS);
    let took = server.stop().await;
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn fallbacks_serve_everything_that_is_not_a_stream() {
    async fn page(
        request: http::Request<sse_runtime::server::RequestBody>,
    ) -> http::Response<String> {
        let peer = request.extensions().get::<sse_runtime::PeerAddr>();
        http::Response::new(format!("page {} {}", request.uri().path(), peer.is_some()))
    }
    let server = start(
        Server::new()
            .route(handler(three_events).at("/events"))
            .fallback(page),
    )
    .await;
    let (status, _, body) =
        text(request(server.addr, get(server.addr, "/index.html", &[])).await).await;
    assert_eq!(
        (status.as_u16(), body.as_str()),
        (200, "page /index.html true")
    );
    assert_eq!(
        open(server.addr, "/events").await.rest().await,
        THREE_EVENTS
    );
    server.stop().await;

    #[derive(Clone)]
    struct Failing;
    impl tower_service::Service<http::Request<sse_runtime::server::RequestBody>> for Failing {
        type Response = http::Response<String>;
        type Error = std::io::Error;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(
            &mut self,
            request: http::Request<sse_runtime::server::RequestBody>,
        ) -> Self::Future {
            std::future::ready(match request.uri().path() {
                "/ok" => Ok(http::Response::new("service".to_owned())),
                _ => Err(std::io::Error::other("broken")),
            })
        }
    }
    let server = start(Server::new().fallback_service(Failing)).await;
    let (status, _, body) = text(request(server.addr, get(server.addr, "/ok", &[])).await).await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "service"));
    let (status, _, _) = text(request(server.addr, get(server.addr, "/err", &[])).await).await;
    assert_eq!(status, 500);
    server.stop().await;
}

#[tokio::test]
async fn invalid_routes_and_settings_fail_before_binding() {
    async fn h(_: Session) {}
    let cases = [
        Server::new().route_at("no-slash", handler(h)),
        Server::new().route_at("/a/{x", handler(h)),
        Server::new()
            .route_at("/same", handler(h))
            .route_at("/same", handler(h)),
        Server::new().route_at(
            "/r",
            handler(h).options(RouteOptions::new().retry(Duration::from_micros(1500))),
        ),
    ];
    for server in cases {
        let err = server.serve("127.0.0.1:0").await.unwrap_err();
        assert!(matches!(err, ServeError::Route { .. }), "{err}");
    }
    let err = Server::new()
        .retry(Duration::from_secs(u64::MAX / 2))
        .serve("127.0.0.1:0")
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::Retry(_)), "{err}");
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let server = start(Server::new().header_read_timeout(Duration::from_millis(200))).await;
    for partial in [&b""[..], b"G", b"GET / HTTP/1.1\r\nHost: x\r\n"] {
        let mut conn = TcpStream::connect(server.addr).await.unwrap();
        conn.write_all(partial).await.unwrap();
        let mut answer = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(3), conn.read_to_end(&mut answer)).await;
        assert!(closed.is_ok(), "closed after the timeout for {partial:?}");
    }
    server.stop().await;
}

/// Sends one event after a pause longer than the header timeout.
async fn late_event(session: Session) -> Result<(), sse_runtime::Error> {
    tokio::time::sleep(Duration::from_millis(600)).await;
    session.send(Event::new().data("still here")).await
}

#[tokio::test]
async fn a_stream_outlives_the_header_timeout() {
    // The deadline is for the first request's headers, not for the stream.
    let server = start(
        Server::new()
            .header_read_timeout(Duration::from_millis(200))
            .route(handler(late_event).at("/late")),
    )
    .await;
    let mut stream = open(server.addr, "/late").await;
    assert_eq!(
        stream.next_block().await.as_deref(),
        Some("data: still here\n\n")
    );
    server.stop().await;
}

#[tokio::test]
async fn retry_jitter_spreads_each_streams_retry_over_the_range() {
    async fn quiet(session: Session) {
        session.closed().await;
    }
    let server = Server::new()
        .retry(Duration::from_millis(1000))
        .retry_jitter(Duration::from_millis(1000))
        .route(handler(quiet).at("/spread"))
        .route(
            handler(quiet)
                .options(RouteOptions::new().retry(Duration::from_millis(50)))
                .at("/short"),
        );
    let server = start(server).await;
    let mut retries = Vec::new();
    for _ in 0..40 {
        let mut stream = open(server.addr, "/spread").await;
        let block = stream.next_block().await.unwrap();
        let ms: u64 = block
            .strip_prefix("retry: ")
            .and_then(|rest| rest.trim().parse().ok())
            .unwrap_or_else(|| panic!("{block:?}"));
        retries.push(ms);
    }
    assert!(
        retries.iter().all(|ms| (1000..=2000).contains(ms)),
        "{retries:?}"
    );
    retries.sort_unstable();
    retries.dedup();
    assert!(
        retries.len() >= 20,
        "spread over {} values only",
        retries.len()
    );
    // A route's own retry is spread too.
    let mut stream = open(server.addr, "/short").await;
    let block = stream.next_block().await.unwrap();
    let ms: u64 = block["retry: ".len()..].trim().parse().unwrap();
    assert!((50..=1050).contains(&ms), "{ms}");
    server.stop().await;

    // A retry that the jitter would push past what clients can wait is
    // refused when the server starts.
    let too_long = Server::new()
        .retry(sse_runtime::event::MAX_RETRY)
        .retry_jitter(Duration::from_secs(1))
        .route(handler(quiet).at("/x"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = too_long.serve_on(listener).await.unwrap_err();
    assert!(matches!(err, ServeError::Route { .. }), "{err}");
}
