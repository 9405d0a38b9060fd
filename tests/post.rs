//! Streams opened by any method with a typed request body: `method = ..`,
//! the body extractors and their refusals, answers instead of streams, and
//! cancellation, on every path (the HTTP/1.1 fast path, hyper keep-alive,
//! HTTP/2; cleartext and TLS; mounted in axum).

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};
use sse_runtime::extract::{Form, Json};
use sse_runtime::route::Answer;
use sse_runtime::{sse, Router, Server};
use support::http::{start, start_on, text, with_body, Client, EventStream, Via};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(serde::Deserialize)]
struct Prompt {
    words: Vec<String>,
    #[serde(default = "yes")]
    stream: bool,
}

fn yes() -> bool {
    true
}

/// One event per word; with `"stream": false`, one JSON answer instead.
#[sse("/complete", method = "POST", body_limit = "1KiB")]
async fn complete(
    session: CompleteSession,
    Json(prompt): Json<Prompt>,
) -> Result<(), sse_runtime::Error> {
    if !prompt.stream {
        let text = prompt.words.join(" ");
        return session.answer(Answer::json(&serde_json::json!({ "text": text })));
    }
    for word in prompt.words {
        session.send(word).await?;
    }
    Ok(())
}

/// The raw body back, as one event.
#[sse("/echo", method = ["POST", "PUT"])]
async fn echo(session: EchoSession, body: String) -> Result<(), sse_runtime::Error> {
    session.send(body).await
}

/// Counts its handler's starts: the trickled body's test reads it alone.
#[sse("/slow", method = "POST", body_timeout = "300ms")]
async fn slow(session: SlowSession, body: Bytes) -> Result<(), sse_runtime::Error> {
    SLOW_STARTS.fetch_add(1, Ordering::SeqCst);
    session.send(body.len()).await
}

static SLOW_STARTS: AtomicU64 = AtomicU64::new(0);

#[derive(serde::Deserialize)]
struct Search {
    q: String,
}

#[sse("/search", method = "POST")]
async fn search(
    session: SearchSession,
    Form(search): Form<Search>,
) -> Result<(), sse_runtime::Error> {
    session.send(search.q).await
}

/// `GET` and `POST` at one path, by two functions.
#[sse("/feed")]
async fn feed_get(session: FeedGetSession) -> Result<(), sse_runtime::Error> {
    session.send("got").await
}

#[sse("/feed", method = "POST")]
async fn feed_post(session: FeedPostSession, body: Bytes) -> Result<(), sse_runtime::Error> {
    session.send(format!("posted {} bytes", body.len())).await
}

#[derive(serde::Deserialize)]
struct Page {
    n: u32,
}

/// Counts its handler's starts: a `HEAD` must start none.
#[sse("/counted", compression = "gzip")]
async fn counted(
    session: CountedSession,
    page: sse_runtime::extract::Query<Page>,
) -> Result<(), sse_runtime::Error> {
    COUNTED_STARTS.fetch_add(1, Ordering::SeqCst);
    session.send(page.0.n).await
}

static COUNTED_STARTS: AtomicU64 = AtomicU64::new(0);

fn server() -> Server {
    Server::new()
        .route(counted)
        .route(complete)
        .route(echo)
        .route(search)
        .route(feed_get)
        .route(feed_post)
        .route(slow)
}

fn post_json(
    addr: SocketAddr,
    path: &str,
    json: &str,
) -> http::Request<http_body_util::Full<Bytes>> {
    with_body(
        Method::POST,
        addr,
        path,
        "application/json",
        json.to_owned(),
    )
}

/// Every path: each way a stream can be served, cleartext and over TLS.
fn every_path() -> impl Iterator<Item = Via> {
    Via::ALL.into_iter().chain(Via::TLS)
}

async fn servers() -> [support::http::TestServer; 2] {
    [
        start_on(false, server()).await,
        start_on(true, server()).await,
    ]
}

fn server_for(servers: &[support::http::TestServer; 2], via: Via) -> SocketAddr {
    servers[usize::from(via.is_tls())].addr
}

#[tokio::test]
async fn a_json_post_is_answered_with_a_stream_and_the_connection_carries_the_next_request() {
    let servers = servers().await;
    for via in every_path() {
        let addr = server_for(&servers, via);
        let mut client = Client::connect(via, addr).await;
        let response = client
            .send(post_json(
                addr,
                "/complete",
                r#"{"words": ["a", "b", "c"]}"#,
            ))
            .await;
        client.check_served(&response);
        assert_eq!(response.status(), StatusCode::OK, "{via:?}");
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "{via:?}"
        );
        assert_eq!(response.headers()["cache-control"], "no-store", "{via:?}");
        let mut stream = EventStream::new(response);
        assert_eq!(
            stream.rest().await,
            "data: a\n\ndata: b\n\ndata: c\n\n",
            "{via:?}"
        );
        if matches!(via, Via::FastPath | Via::TlsFastPath) {
            continue;
        }
        // Keep-alive and HTTP/2: the connection takes another request.
        let again = client
            .send(post_json(addr, "/complete", r#"{"words": ["d"]}"#))
            .await;
        assert_eq!(
            EventStream::new(again).rest().await,
            "data: d\n\n",
            "{via:?}"
        );
    }
}

#[tokio::test]
async fn raw_form_and_empty_bodies_on_every_path() {
    let servers = servers().await;
    for via in every_path() {
        let addr = server_for(&servers, via);
        let send = |request| async move {
            let mut client = Client::connect(via, addr).await;
            text(client.send(request).await).await
        };
        let (status, _, body) =
            send(with_body(Method::PUT, addr, "/echo", "text/plain", "héllo")).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "data: héllo\n\n"),
            "{via:?}"
        );
        let (status, _, body) = send(with_body(Method::POST, addr, "/echo", "", "")).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "data: \n\n"),
            "{via:?}"
        );
        let form = "application/x-www-form-urlencoded";
        let (status, _, body) = send(with_body(
            Method::POST,
            addr,
            "/search",
            form,
            "q=caf%C3%A9",
        ))
        .await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "data: café\n\n"),
            "{via:?}"
        );
        let (status, _, body) =
            send(with_body(Method::POST, addr, "/feed", "", vec![7u8; 300])).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "data: posted 300 bytes\n\n"),
            "{via:?}"
        );
    }
}

#[tokio::test]
async fn a_body_is_refused_for_its_size_type_syntax_and_shape_on_every_path() {
    let servers = servers().await;
    for via in every_path() {
        let addr = server_for(&servers, via);
        let send = |request| async move {
            let mut client = Client::connect(via, addr).await;
            text(client.send(request).await).await
        };
        let cases = [
            (
                post_json(
                    addr,
                    "/complete",
                    &format!(r#"{{"words": ["{}"]}}"#, "x".repeat(2000)),
                ),
                StatusCode::PAYLOAD_TOO_LARGE,
                "larger than 1024 bytes",
            ),
            (
                with_body(
                    Method::POST,
                    addr,
                    "/complete",
                    "text/plain",
                    r#"{"words": []}"#,
                ),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "application/json",
            ),
            (
                with_body(Method::POST, addr, "/complete", "", ""),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "application/json",
            ),
            (
                post_json(addr, "/complete", r#"{"words": ["a",,]}"#),
                StatusCode::BAD_REQUEST,
                "malformed at `words[1]`: expected value at line 1 column 16",
            ),
            (
                post_json(addr, "/complete", r#"{"words": "a"}"#),
                StatusCode::UNPROCESSABLE_ENTITY,
                "at `words`: invalid type: string \"a\", expected a sequence at line 1 column 13",
            ),
            (
                with_body(Method::POST, addr, "/search", "application/json", "q=a"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "x-www-form-urlencoded",
            ),
            (
                with_body(
                    Method::POST,
                    addr,
                    "/search",
                    "application/x-www-form-urlencoded",
                    "p=a",
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing field `q`",
            ),
            (
                with_body(Method::POST, addr, "/echo", "text/plain", vec![0xff, 0xfe]),
                StatusCode::BAD_REQUEST,
                "not UTF-8",
            ),
        ];
        for (request, status, reason) in cases {
            let (got, _, body) = send(request).await;
            assert_eq!(got, status, "{via:?}: {body}");
            assert!(
                body.contains(reason),
                "{via:?}: {body:?} should say {reason:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_method_no_route_of_the_path_answers_is_405_listing_those_they_do() {
    let servers = servers().await;
    for via in every_path() {
        let addr = server_for(&servers, via);
        for (method, path, allow) in [
            (Method::PUT, "/feed", "GET, HEAD, POST"),
            (Method::GET, "/complete", "POST"),
            (Method::DELETE, "/echo", "POST, PUT"),
        ] {
            let mut client = Client::connect(via, addr).await;
            let (status, headers, _) = text(
                client
                    .send(with_body(method.clone(), addr, path, "", ""))
                    .await,
            )
            .await;
            assert_eq!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{via:?} {method} {path}"
            );
            assert_eq!(headers["allow"], allow, "{via:?} {method} {path}");
        }
        let mut client = Client::connect(via, addr).await;
        let got = client
            .send(with_body(Method::GET, addr, "/feed", "", ""))
            .await;
        assert_eq!(
            EventStream::new(got).rest().await,
            "data: got\n\n",
            "{via:?}"
        );
    }
}

#[tokio::test]
async fn a_route_answers_instead_of_streaming_on_every_path() {
    let servers = servers().await;
    for via in every_path() {
        let addr = server_for(&servers, via);
        let mut client = Client::connect(via, addr).await;
        let request = post_json(
            addr,
            "/complete",
            r#"{"words": ["a", "b"], "stream": false}"#,
        );
        let (status, headers, body) = text(client.send(request).await).await;
        assert_eq!(status, StatusCode::OK, "{via:?}");
        assert_eq!(headers["content-type"], "application/json", "{via:?}");
        assert_eq!(body, r#"{"text":"a b"}"#, "{via:?}");
        // An answer keeps the connection (it is not a stream's).
        let again = client
            .send(post_json(addr, "/complete", r#"{"words": ["c"]}"#))
            .await;
        assert_eq!(
            EventStream::new(again).rest().await,
            "data: c\n\n",
            "{via:?}"
        );
    }
}

/// Sends `bytes` on a fresh connection and reads everything until the
/// server closes it (or 5 s pass).
async fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    read_all(&mut tcp).await
}

/// A raw HTTP/1.1 connection, cleartext or over TLS.
trait Raw: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Raw for T {}

/// A raw HTTP/1.1 connection to `addr`, over TLS when `tls`; with
/// `keep_alive`, a first request (`GET /nothing`) is answered on it first,
/// so that what follows is served by hyper, not the fast path.
async fn raw_connection(addr: SocketAddr, tls: bool, keep_alive: bool) -> Box<dyn Raw> {
    let mut conn: Box<dyn Raw> = match tls {
        true => Box::new(support::tls::connect(addr, &[b"http/1.1"]).await),
        false => Box::new(TcpStream::connect(addr).await.unwrap()),
    };
    if keep_alive {
        let mut seen = Vec::new();
        conn.write_all(b"GET /nothing HTTP/1.1\r\nhost: a\r\n\r\n")
            .await
            .unwrap();
        read_until(&mut conn, &mut seen, "not found\n").await;
    }
    conn
}

async fn read_all<Io: tokio::io::AsyncRead + Unpin + ?Sized>(tcp: &mut Io) -> String {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut got)).await;
    String::from_utf8_lossy(&got).into_owned()
}

/// The events of a raw chunked response: its chunks' data joined.
fn unchunked(response: &str) -> String {
    let (_, mut rest) = response.split_once("\r\n\r\n").expect("a head");
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size, 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

#[tokio::test]
async fn the_fast_path_reads_chunked_and_length_bodies_and_never_a_pipelined_request_as_one() {
    let server = start(server()).await;
    let chunked = b"POST /echo HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n\
        3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nx-trailer: t\r\n\r\nGET /feed HTTP/1.1\r\nhost: a\r\n\r\n";
    let response = raw(server.addr, chunked).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains("connection: close\r\n"),
        "the fast path wrote it: {response}"
    );
    assert_eq!(unchunked(&response), "data: hello\n\n");

    let length = b"POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhelloGET /feed HTTP/1.1\r\nhost: a\r\n\r\n";
    let response = raw(server.addr, length).await;
    assert!(response.contains("connection: close\r\n"), "{response}");
    assert_eq!(unchunked(&response), "data: hello\n\n");

    // A malformed chunked body is refused, and the connection closed.
    let broken = b"POST /echo HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
    let response = raw(server.addr, broken).await;
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );
    assert!(response.contains("malformed chunked body"), "{response}");
}

#[tokio::test]
async fn chunked_bodies_are_read_on_the_fast_path_and_by_hyper_in_cleartext_and_over_tls() {
    let servers = servers().await;
    for (tls, keep_alive) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut conn = raw_connection(servers[usize::from(tls)].addr, tls, keep_alive).await;
        conn.write_all(
            b"POST /echo HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n\
              4\r\nchun\r\n3\r\nked\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
        let mut got = Vec::new();
        read_until(&mut conn, &mut got, "data: chunked\n\n").await;
        let response = String::from_utf8_lossy(&got);
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        // The fast path writes only the first request's stream, and closes.
        assert_eq!(
            response.contains("connection: close"),
            !keep_alive,
            "tls {tls}: {response}"
        );
    }
}

#[tokio::test]
async fn a_server_wide_body_limit_applies_where_a_route_sets_none() {
    let server = start(server().body_limit(10)).await;
    let addr = server.addr;
    let mut client = Client::connect(Via::FastPath, addr).await;
    let (status, _, body) = text(
        client
            .send(with_body(Method::POST, addr, "/echo", "", "x".repeat(11)))
            .await,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than 10 bytes\n"
        )
    );
    // `/complete` says 1 KiB of its own.
    let mut client = Client::connect(Via::FastPath, addr).await;
    let words = format!(r#"{{"words": ["{}"]}}"#, "x".repeat(500));
    let response = client.send(post_json(addr, "/complete", &words)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refusal_after_a_body_the_fast_path_read_keeps_the_connection_for_the_next_request() {
    let server = start(server()).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let body = r#"{"words": 1}"#;
    let refused = format!(
        "POST /complete HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}\
         GET /feed HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(refused.as_bytes()).await.unwrap();
    let response = read_all(&mut tcp).await;
    let (first, second) = response
        .split_once("HTTP/1.1 200 OK")
        .expect("two responses");
    assert!(
        first.starts_with("HTTP/1.1 422 Unprocessable Entity\r\n"),
        "{first}"
    );
    assert!(second.contains("data: got"), "{second}");
}

#[tokio::test]
async fn expect_100_continue_is_answered_only_once_the_head_is_accepted() {
    let server = start(server()).await;
    for keep_alive in [false, true] {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        let mut seen = Vec::new();
        if keep_alive {
            // hyper's path: a first request, then the one that expects.
            tcp.write_all(b"GET /nothing HTTP/1.1\r\nhost: a\r\n\r\n")
                .await
                .unwrap();
            read_until(&mut tcp, &mut seen, "not found\n").await;
        }
        let head =
            "POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n";
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        read_until(&mut tcp, &mut got, "\r\n\r\n").await;
        assert_eq!(
            String::from_utf8_lossy(&got),
            "HTTP/1.1 100 Continue\r\n\r\n",
            "keep-alive: {keep_alive}"
        );
        tcp.write_all(b"hi").await.unwrap();
        read_until(&mut tcp, &mut got, "data: hi\n\n").await;

        // A method the path does not take: refused at once, no `100`.
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        let head =
            "DELETE /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n";
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        read_until(&mut tcp, &mut got, "\r\n").await;
        assert!(
            got.starts_with(b"HTTP/1.1 405"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
}

async fn read_until<Io: tokio::io::AsyncRead + Unpin + ?Sized>(
    tcp: &mut Io,
    got: &mut Vec<u8>,
    want: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(got).contains(want) {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline.into(), tcp.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {want:?} in {:?}", String::from_utf8_lossy(got)))
            .unwrap();
        assert!(
            n > 0,
            "closed before {want:?}: {:?}",
            String::from_utf8_lossy(got)
        );
        got.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn a_trickled_body_is_answered_408_and_closed_and_holds_no_handler() {
    let servers = servers().await;
    for (tls, keep_alive) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut tcp = raw_connection(servers[usize::from(tls)].addr, tls, keep_alive).await;
        let started = Instant::now();
        tcp.write_all(b"POST /slow HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\nslow")
            .await
            .unwrap();
        let response = read_all(&mut tcp).await;
        let context = format!("tls {tls}, keep-alive {keep_alive}");
        assert!(
            response.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{context}: {response}"
        );
        assert!(
            response.contains("connection: close"),
            "{context}: {response}"
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{context}: {took:?}"
        );
    }
    assert_eq!(SLOW_STARTS.load(Ordering::SeqCst), 0, "no handler ran");
}

static TOKENS: AtomicU64 = AtomicU64::new(0);

/// A token every 10 ms, sends' failures ignored: only its cancellation
/// stops it.
#[sse("/tokens", method = "POST", handler_grace = "0s")]
async fn tokens(session: TokensSession, _prompt: Bytes) {
    loop {
        TOKENS.fetch_add(1, Ordering::SeqCst);
        let _ = session.send("token").await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_handler_stops_within_100_ms_of_its_client_leaving_on_every_path() {
    let make = || Server::new().route(tokens);
    let servers = [start_on(false, make()).await, start_on(true, make()).await];
    for via in every_path() {
        let addr = server_for(&servers, via);
        let mut client = Client::connect(via, addr).await;
        let response = client
            .send(with_body(Method::POST, addr, "/tokens", "", "go"))
            .await;
        client.check_served(&response);
        let mut stream = EventStream::new(response);
        for _ in 0..3 {
            assert_eq!(
                stream.next_block().await.as_deref(),
                Some("data: token\n\n"),
                "{via:?}"
            );
        }
        drop((stream, client));
        let left = Instant::now();
        // Settled: no token for 50 ms, at most 100 ms after the client left.
        let mut last = TOKENS.load(Ordering::SeqCst);
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < Duration::from_millis(50) {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let now = TOKENS.load(Ordering::SeqCst);
            if now != last {
                last = now;
                quiet_since = Instant::now();
            }
            assert!(
                left.elapsed() < Duration::from_secs(2),
                "{via:?}: the handler went on"
            );
        }
        let stopped_after = quiet_since.duration_since(left);
        assert!(
            stopped_after < Duration::from_millis(100),
            "{via:?}: stopped {stopped_after:?} after the client left"
        );
    }
}

/// What a `HEAD` of `path` gets on `via`: its status and headers, checking
/// that no body came and that the connection carries the next request.
async fn head_of(via: Via, addr: SocketAddr, path: &str) -> (StatusCode, http::HeaderMap) {
    let mut client = Client::connect(via, addr).await;
    let mut head = with_body(Method::HEAD, addr, path, "", "");
    head.headers_mut()
        .insert("accept-encoding", "gzip".parse().unwrap());
    let (status, headers, body) = text(client.send(head).await).await;
    assert_eq!(body, "", "{via:?} HEAD {path}");
    let next = client
        .send(with_body(Method::GET, addr, "/feed", "", ""))
        .await;
    assert_eq!(
        EventStream::new(next).rest().await,
        "data: got\n\n",
        "{via:?}"
    );
    (status, headers)
}

#[tokio::test]
async fn head_gets_a_streams_head_without_starting_its_handler_on_every_path() {
    let servers = servers().await;
    let before = COUNTED_STARTS.load(Ordering::SeqCst);
    for via in every_path() {
        let addr = server_for(&servers, via);
        let (status, headers) = head_of(via, addr, "/counted?n=1").await;
        assert_eq!(status, StatusCode::OK, "{via:?}");
        assert_eq!(headers["content-type"], "text/event-stream", "{via:?}");
        assert_eq!(headers["cache-control"], "no-store", "{via:?}");
        assert_eq!(headers["content-encoding"], "gzip", "{via:?}");
        assert!(
            !headers.contains_key("content-length"),
            "{via:?}: {headers:?}"
        );
        // The route's extractors still judge the request, as for `GET`.
        let (status, _) = head_of(via, addr, "/counted?n=x").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{via:?}");
        // A path only `POST` opens has no `GET`, so no `HEAD`.
        let (status, headers) = head_of(via, addr, "/complete").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{via:?}");
        assert_eq!(headers["allow"], "POST", "{via:?}");
    }
    assert_eq!(COUNTED_STARTS.load(Ordering::SeqCst), before);

    // On the wire, HTTP/1.1: the head, then at once the next response.
    let addr = servers[0].addr;
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        b"HEAD /counted?n=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /feed HTTP/1.1\r\nHost: a\r\n\r\n",
    )
    .await
    .unwrap();
    let mut wire = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while !String::from_utf8_lossy(&wire).contains("data: got") {
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&wire));
            wire.extend_from_slice(&buf[..n]);
        }
    });
    read.await.expect("both answers");
    let wire = String::from_utf8_lossy(&wire);
    let (first, rest) = wire.split_once("\r\n\r\n").unwrap();
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    // No length: a stream has none (RFC 9110 lets a `HEAD` leave out the
    // framing a `GET` would have had).
    assert!(!first.contains("content-length"), "{first}");
    assert!(
        rest.starts_with("HTTP/1.1 200 OK"),
        "a body after HEAD's head: {rest:?}"
    );
    assert_eq!(COUNTED_STARTS.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn mounted_in_axum_head_gets_a_streams_head_without_starting_its_handler() {
    let sse = Router::builder().route(counted).build().unwrap();
    let app = axum::Router::new().route_service("/counted", sse);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let before = COUNTED_STARTS.load(Ordering::SeqCst);
    let mut client = Client::connect(Via::KeepAlive, addr).await;
    let head = with_body(Method::HEAD, addr, "/counted?n=1", "", "");
    let (status, headers, body) = text(client.send(head).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(body, "");
    assert_eq!(COUNTED_STARTS.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn mounted_in_axum_a_post_stream_reads_any_body_type_under_the_same_limit() {
    let sse = Router::builder().route(complete).build().unwrap();
    let app = axum::Router::new()
        .route_service("/complete", sse)
        .layer(tower_http::decompression::RequestDecompressionLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut client = Client::connect(Via::KeepAlive, addr).await;
    let response = client
        .send(post_json(addr, "/complete", r#"{"words": ["x", "y"]}"#))
        .await;
    assert_eq!(
        EventStream::new(response).rest().await,
        "data: x\n\ndata: y\n\n"
    );

    // A gzip-encoded body arrives decoded through tower-http's layer.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzip, br#"{"words": ["zipped"]}"#).unwrap();
    let mut request = post_json(addr, "/complete", "");
    *request.body_mut() = http_body_util::Full::new(Bytes::from(gzip.finish().unwrap()));
    request
        .headers_mut()
        .insert("content-encoding", "gzip".parse().unwrap());
    let response = client.send(request).await;
    assert_eq!(EventStream::new(response).rest().await, "data: zipped\n\n");

    let big = format!(r#"{{"words": ["{}"]}}"#, "x".repeat(2000));
    let (status, _, _) = text(client.send(post_json(addr, "/complete", &big)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Order {
    item: String,
    count: u32,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Shipped {
    n: u32,
}

/// What `/orders` was sent, request by request: its `Last-Event-ID` and body.
static ORDERS: std::sync::Mutex<Vec<(Option<String>, String)>> = std::sync::Mutex::new(Vec::new());

/// One `shipped` event per item ordered, with ids, resuming after
/// `Last-Event-ID`.
#[sse("/orders", method = "POST", serializer = Json, events(Shipped = "shipped"))]
async fn orders(
    session: OrdersSession,
    Json(order): Json<Order>,
) -> Result<(), sse_runtime::Error> {
    let last = session.request().last_event_id().map(str::to_owned);
    ORDERS
        .lock()
        .unwrap()
        .push((last.clone(), order.item.clone()));
    let from = last
        .and_then(|id| id.parse::<u32>().ok())
        .map_or(0, |n| n + 1);
    for n in from..order.count {
        session.send(Shipped { n }).id(n).await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_client_posts_a_typed_body_decodes_typed_events_and_resends_only_when_told() {
    use sse_runtime::client::EventSource;
    let server = start(Server::new().route(orders).retry(Duration::from_millis(50))).await;
    let url = server.url("/orders");
    let order = Order {
        item: "tea".into(),
        count: 3,
    };

    // Typed both ways: the body is the route's `Order`, the events its enum.
    let mut typed = EventSource::builder(&url)
        .body_for::<OrdersRoute>(&order)
        .build()
        .unwrap()
        .typed::<OrdersRoute>();
    let mut got = Vec::new();
    while let Some(event) = typed.next().await {
        match event.unwrap() {
            OrdersEvent::Shipped(shipped) => got.push(shipped.n),
        }
    }
    assert_eq!(
        got,
        [0, 1, 2],
        "ended with the response: a POST is not re-sent"
    );
    assert_eq!(
        ORDERS.lock().unwrap().drain(..).collect::<Vec<_>>(),
        [(None, "tea".to_owned())]
    );

    // Told it may: re-sent, body included, with `Last-Event-ID`.
    let mut events = EventSource::builder(&url)
        .json(&Order {
            item: "milk".into(),
            count: 2,
        })
        .resend(true)
        .max_attempts(2)
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let message = events.next_message().await.unwrap().unwrap();
        ids.push(message.last_event_id);
    }
    // The stream ended after `1`; the re-sent request resumes after it and
    // gets nothing more, so wait for its request to arrive.
    let deadline = Instant::now() + Duration::from_secs(5);
    while ORDERS.lock().unwrap().len() < 2 {
        tokio::select! {
            _ = events.next() => {}
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        assert!(Instant::now() < deadline, "the request was not sent again");
    }
    assert_eq!(ids, ["0", "1"]);
    let sent = ORDERS.lock().unwrap().clone();
    assert_eq!(
        sent[..2],
        [
            (None, "milk".to_owned()),
            (Some("1".to_owned()), "milk".to_owned())
        ]
    );
}

#[tokio::test]
async fn behind_a_decompression_layer_a_gzip_body_arrives_decoded_on_every_path() {
    use sse_runtime::server::RequestBody;
    let layered = || {
        server().layer(
            tower::ServiceBuilder::new()
                .layer(tower_http::decompression::RequestDecompressionLayer::new())
                .layer(tower_http::map_request_body::MapRequestBodyLayer::new(
                    RequestBody::new,
                )),
        )
    };
    let servers = [
        start_on(false, layered()).await,
        start_on(true, layered()).await,
    ];
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzip, r#"{"words": ["un", "zipped"]}"#.as_bytes()).unwrap();
    let zipped = Bytes::from(gzip.finish().unwrap());
    for via in every_path() {
        let addr = server_for(&servers, via);
        let mut client = Client::connect(via, addr).await;
        let mut request = post_json(addr, "/complete", "");
        *request.body_mut() = http_body_util::Full::new(zipped.clone());
        request
            .headers_mut()
            .insert("content-encoding", "gzip".parse().unwrap());
        let response = client.send(request).await;
        assert_eq!(response.status(), StatusCode::OK, "{via:?}");
        assert_eq!(
            EventStream::new(response).rest().await,
            "data: un\n\ndata: zipped\n\n",
            "{via:?}"
        );
    }
}

/// Waits for the end of the stream, sending nothing.
#[sse("/idle", method = "POST")]
async fn idle(session: IdleSession, _body: Bytes) {
    session.closed().await;
}

#[tokio::test]
async fn an_idle_post_stream_gets_its_head_and_heartbeats_and_ends_at_shutdown_on_every_path() {
    let make = || {
        Server::new()
            .route(idle)
            .heartbeat(sse_runtime::Heartbeat::every(Duration::from_millis(100)))
            .shutdown_deadline(Duration::from_secs(2))
    };
    for tls in [false, true] {
        let server = start_on(tls, make()).await;
        let mut streams = Vec::new();
        for via in Via::over(tls) {
            let mut client = Client::connect(via, server.addr).await;
            let sent = Instant::now();
            let response = client
                .send(with_body(Method::POST, server.addr, "/idle", "", "x"))
                .await;
            // Opened after a heartbeat period without an event: idle
            // streams still get their head (clients and proxies wait for it).
            let waited = sent.elapsed();
            assert!(
                waited >= Duration::from_millis(90) && waited < Duration::from_secs(2),
                "{via:?}: {waited:?}"
            );
            client.check_served(&response);
            let mut stream = EventStream::new(response);
            stream.expect_heartbeats(2, &format!("{via:?}")).await;
            streams.push((via, stream, client));
        }
        let took = server.stop().await;
        assert!(
            took < Duration::from_secs(2),
            "the handlers returned at shutdown: {took:?}"
        );
        for (via, mut stream, _client) in streams {
            // What is left is heartbeats at most, then the end.
            let rest = tokio::time::timeout(Duration::from_secs(2), stream.rest())
                .await
                .unwrap();
            assert!(
                rest.lines()
                    .all(|line| line.is_empty() || line.starts_with(':')),
                "{via:?}: {rest:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_post_stream_whose_client_stops_reading_ends_at_the_write_timeout_on_every_path() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for via in every_path() {
        let server = Server::new()
            .write_timeout(Duration::from_millis(300))
            .route(support::routes::flood_of(
                "/flood",
                sse_runtime::Methods::POST,
                tx.clone(),
            ));
        let server = start_on(via.is_tls(), server).await;
        let mut client = Client::connect(via, server.addr).await;
        let response = client
            .send(with_body(Method::POST, server.addr, "/flood", "", "go"))
            .await;
        client.check_served(&response); // never read
        let sent = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{via:?}: the stalled stream was not closed"))
            .unwrap();
        assert!(sent > 0, "{via:?}");
        drop((response, client));
        server.stop().await;
    }
}

#[tokio::test]
async fn over_http2_a_trickled_body_is_answered_408_and_holds_no_handler() {
    use http_body_util::StreamBody;
    use tokio_stream::StreamExt as _;
    let servers = servers().await;
    for tls in [false, true] {
        let addr = servers[usize::from(tls)].addr;
        let io: Box<dyn Raw> = match tls {
            true => Box::new(support::tls::connect(addr, &[b"h2"]).await),
            false => Box::new(TcpStream::connect(addr).await.unwrap()),
        };
        let (mut sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(io),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        // Four bytes of a declared hundred, then nothing more.
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        tx.send(Bytes::from_static(b"slow")).await.unwrap();
        let frames = tokio_stream::wrappers::ReceiverStream::new(rx)
            .map(|data| Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(data)));
        let request = http::Request::post(format!("http://{addr}/slow"))
            .header("content-length", "100")
            .body(StreamBody::new(frames))
            .unwrap();
        let started = Instant::now();
        let (status, _, _) = text(sender.send_request(request).await.unwrap()).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "tls {tls}");
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{took:?}"
        );
        drop(tx);
    }
    assert_eq!(SLOW_STARTS.load(Ordering::SeqCst), 0, "no handler ran");
}
