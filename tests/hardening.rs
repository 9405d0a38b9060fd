//! What a hostile or unusual client does to the server, with hyper alone as
//! the reference for what is right; and exactly one extraction per request
//! on every path.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use sse_runtime::extract::{FromRef, FromRequest};
use sse_runtime::route::handler;
use sse_runtime::{sse, Event, Rejection, Request, Server, Session};
use support::http::{get, open_on, request, request_h2, start, text, Via};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn hello(session: Session) -> Result<(), sse_runtime::Error> {
    session.send(Event::new().data("hello")).await
}

/// Writes `bytes`, then reads until the server closes or `limit` passes.
async fn exchange(addr: std::net::SocketAddr, bytes: &[u8], limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, conn.read_to_end(&mut answer)).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn heads_with_bare_lf_line_ends_are_answered_at_once() {
    // RFC 9112 §2.2 lets a server accept LF alone as a line end; hyper does.
    let server = start(Server::new().route(handler(hello).at("/events"))).await;
    let (answer, took) = exchange(
        server.addr,
        b"GET /events HTTP/1.1\nHost: a\n\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert!(answer.contains("data: hello\n\n"), "{answer:?}");
    assert!(took < Duration::from_secs(2), "answered in {took:?}");
    let (answer, took) = exchange(
        server.addr,
        b"GET /nothing HTTP/1.1\nHost: a\nConnection: close\n\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer:?}");
    assert!(took < Duration::from_secs(2), "answered in {took:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_head_after_many_blank_lines_sent_one_at_a_time_is_still_answered() {
    // Each line is parsed once (a head can only end at a line end), and the
    // fast path stops parsing after a bound and leaves the rest to hyper.
    let server = start(Server::new().route(handler(hello).at("/events"))).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..300 {
        conn.write_all(b"\r\n").await.unwrap();
        tokio::task::yield_now().await;
    }
    conn.write_all(b"GET /events HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert!(answer.contains("data: hello\n\n"), "{answer:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_tls_client_hello_on_the_plain_port_gets_400_at_once() {
    let server = start(Server::new().route(handler(hello).at("/events"))).await;
    // The start of a TLS 1.2/1.3 ClientHello record.
    let hello = [
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
    ];
    let (answer, took) = exchange(server.addr, &hello, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    assert!(took < Duration::from_secs(2), "answered in {took:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_slow_head_gets_one_deadline_however_it_is_handed_on() {
    let timeout = Duration::from_millis(800);
    let server = start(Server::new().header_read_timeout(timeout)).await;
    let started = Instant::now();
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    // Blank lines (which a server skips before a request line), the second
    // late in the deadline, then one byte at a time, never completing the
    // head.
    conn.write_all(b"\r\n").await.unwrap();
    tokio::time::sleep(timeout * 3 / 4).await;
    conn.write_all(b"\r\n").await.unwrap();
    let trickle = async {
        for byte in b"GET /slow HTTP/1.1\r\nHost: a\r\nX: ".iter().cycle() {
            if conn.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), trickle).await;
    let took = started.elapsed();
    assert!(took >= timeout, "closed after {took:?}");
    assert!(
        took < timeout * 3 / 2,
        "closed after {took:?}: the deadline started again"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_floods_a_stream_is_closed_not_read_forever() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let route = handler(move |session: Session| {
        let tx = tx.clone();
        async move {
            session.send(Event::new().data("first")).await?;
            session.closed().await;
            let _ = tx.send(());
            Ok::<(), sse_runtime::Error>(())
        }
    });
    let server = start(Server::new().route(route.at("/s"))).await;
    let conn = TcpStream::connect(server.addr).await.unwrap();
    let (mut read, mut write) = conn.into_split();
    write
        .write_all(b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("data: first") {
        let n = read.read(&mut buf).await.unwrap();
        assert!(n > 0, "the stream ended early");
        answer.extend_from_slice(&buf[..n]);
    }
    // Up to 1 GiB of junk: the server must stop taking it.
    let flood = tokio::spawn(async move {
        let junk = vec![b'j'; 1 << 20];
        let mut sent = 0usize;
        while sent < 1 << 30 {
            if write.write_all(&junk).await.is_err() {
                break;
            }
            sent += junk.len();
        }
        sent
    });
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("the flooding client's stream was closed")
        .unwrap();
    let sent = tokio::time::timeout(Duration::from_secs(5), flood)
        .await
        .expect("the connection was closed under the flood")
        .unwrap();
    // What the socket buffers on both sides take, plus the server's bound.
    assert!(sent < 64 << 20, "the server took {sent} bytes");
    server.stop().await;
}

/// Counts its extractions in the server's state; after an async lookup, lets
/// in only "let me in" and refuses the rest with a challenge.
struct Counted;

impl<S: Sync> FromRequest<S> for Counted
where
    Arc<AtomicUsize>: FromRef<S>,
{
    type Rejection = Rejection;

    async fn from_request(request: &Request, state: &S) -> Result<Self, Rejection> {
        let count = Arc::<AtomicUsize>::from_ref(state);
        count.fetch_add(1, Ordering::SeqCst);
        // Where a real extractor would ask a database or an identity provider.
        tokio::time::sleep(Duration::from_millis(5)).await;
        match request.header("authorization") {
            Some("let me in") => Ok(Counted),
            _ => Err(Rejection::new(StatusCode::UNAUTHORIZED, "who are you?")
                .header(http::header::WWW_AUTHENTICATE, "Basic realm=\"feeds\"")),
        }
    }
}

#[sse("/guarded")]
async fn guarded(session: GuardedSession, _who: Counted) -> Result<(), sse_runtime::Error> {
    session.send_event(Event::new().data("in")).await
}

#[tokio::test]
async fn every_request_is_extracted_exactly_once_on_every_path() {
    async fn page(
        _request: http::Request<sse_runtime::server::RequestBody>,
    ) -> http::Response<String> {
        http::Response::new("page".to_owned())
    }
    let count = Arc::new(AtomicUsize::new(0));
    let server = Server::new()
        .with_state(count.clone())
        .route(guarded)
        .fallback(page);
    let server = start(server).await;
    let addr = server.addr;
    let auth: &[(&str, &[u8])] = &[("authorization", b"let me in")];

    // Refused: on a fresh HTTP/1.1 connection (decided by the fast path,
    // answered by hyper), on HTTP/2, and on HTTP/1.0.
    let before = count.load(Ordering::SeqCst);
    let (status, _, body) = text(request(addr, get(addr, "/guarded", &[])).await).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::UNAUTHORIZED, "who are you?\n")
    );
    assert_eq!(count.load(Ordering::SeqCst) - before, 1, "HTTP/1.1 refused");

    let before = count.load(Ordering::SeqCst);
    let (status, headers, _) = text(request_h2(addr, get(addr, "/guarded", &[])).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], "Basic realm=\"feeds\"");
    assert_eq!(count.load(Ordering::SeqCst) - before, 1, "HTTP/2 refused");

    let before = count.load(Ordering::SeqCst);
    let (answer, _) = exchange(
        addr,
        b"GET /guarded HTTP/1.0\r\nHost: a\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.0 401"), "{answer:?}");
    assert_eq!(count.load(Ordering::SeqCst) - before, 1, "HTTP/1.0 refused");

    // Let in, on every path a stream is served by.
    for via in Via::ALL {
        let before = count.load(Ordering::SeqCst);
        let mut opened = open_on(via, addr, "/", "/guarded", auth).await;
        opened
            .stream
            .expect_block("data: in\n\n", &format!("{via:?}"))
            .await;
        assert_eq!(count.load(Ordering::SeqCst) - before, 1, "{via:?} let in");
    }
    server.stop().await;
}
