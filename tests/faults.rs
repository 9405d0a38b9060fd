//! Faults an attacker or bad luck brings: a client that stalls an HTTP/2
//! stream's window while it reads the socket, and what a stream records as
//! the reason it ended.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_runtime::extract::State;
use sse_runtime::hub::Hub;
use sse_runtime::route::handler;
use sse_runtime::{sse, Event, Heartbeat, Server, Session};

#[derive(serde::Serialize)]
struct Tick(u64);

/// Fed by the hub: nothing waits on a full buffer, nothing sends.
#[sse("/ticks", serializer = Json, events(Tick = "tick"))]
async fn ticks(
    session: TicksSession,
    hub: State<Hub<TicksRoute>>,
) -> Result<(), sse_runtime::Error> {
    let _alive = Alive::new();
    hub.0.subscribe().serve(&session).await?;
    Ok(())
}

/// How many handlers are running now.
static ALIVE: AtomicUsize = AtomicUsize::new(0);

struct Alive;

impl Alive {
    fn new() -> Self {
        ALIVE.fetch_add(1, Ordering::SeqCst);
        Alive
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        ALIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An HTTP/2 connection whose client reads the socket but never opens a
/// stream's window (announced as 0): nothing a stream writes gets through.
async fn stalling_h2(
    addr: std::net::SocketAddr,
    tls: bool,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<Bytes>> {
    let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
    builder.initial_stream_window_size(0);
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    if tls {
        let tls = support::tls::connect_over(tcp, &[b"h2"]).await;
        let (sender, conn) = builder.handshake(TokioIo::new(tls)).await.unwrap();
        tokio::spawn(conn);
        return sender;
    }
    let (sender, conn) = builder.handshake(TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    sender
}

/// One connection that stalls every stream it opens must not hold their
/// handlers or hub subscriptions: whatever feeds a stream (a hub, a small
/// sender, heartbeats alone), it is reset once it could write nothing for
/// the write timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_stream_whose_window_stays_shut_is_reset_at_the_write_timeout() {
    let sender = handler(|session: Session| async move {
        let _alive = Alive::new();
        let mut n = 0u64;
        while session.send(Event::new().data(n.to_string())).await.is_ok() {
            n += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let quiet = handler(|session: Session| async move {
        let _alive = Alive::new();
        session.closed().await;
    });
    for tls in [false, true] {
        let hub = Hub::<TicksRoute>::new();
        let server = Server::new()
            .write_timeout(Duration::from_millis(300))
            .heartbeat(Heartbeat::every(Duration::from_millis(100)))
            .with_state(hub.clone())
            .route(ticks)
            .route(sender.clone().at("/sender"))
            .route(quiet.clone().at("/quiet"));
        let server = support::http::start_on(tls, server).await;
        let addr = server.addr;
        let publisher = tokio::spawn({
            let hub = hub.clone();
            async move {
                for n in 0.. {
                    let _ = hub.publish(Tick(n)).await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
        let mut client = stalling_h2(addr, tls).await;
        const EACH: usize = 40;
        let mut responses = Vec::new();
        for path in ["/ticks", "/sender", "/quiet"] {
            for _ in 0..EACH {
                let request = http::Request::get(format!("http://{addr}{path}"))
                    .body(http_body_util::Empty::new())
                    .unwrap();
                client.ready().await.unwrap();
                let response = client.send_request(request).await.unwrap();
                assert_eq!(response.status(), 200, "{path}");
                responses.push(response);
            }
        }
        let began = Instant::now();
        // Before the timeout: everything is held, as it should be.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(hub.stats().subscribers, EACH as u64, "tls {tls}");
        while hub.stats().subscribers > 0 || ALIVE.load(Ordering::SeqCst) > 0 {
            assert!(
                began.elapsed() < Duration::from_secs(5),
                "tls {tls}: {} subscribers and {} handlers still held",
                hub.stats().subscribers,
                ALIVE.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            began.elapsed() >= Duration::from_millis(250),
            "not before the timeout"
        );
        // The hub saw its subscribers as the slow consumers they were.
        assert_eq!(hub.stats().lagged, EACH as u64, "tls {tls}");
        // Each stream was reset, not ended as if it were complete.
        for response in responses {
            let read = tokio::time::timeout(Duration::from_secs(5), response.into_body().collect());
            let ended = read.await.expect("the stream is over");
            assert!(ended.is_err(), "tls {tls}: a stalled stream ended cleanly");
        }
        // The connection itself still serves.
        let request = http::Request::get(format!("http://{addr}/quiet"))
            .body(http_body_util::Empty::new())
            .unwrap();
        client.ready().await.unwrap();
        assert_eq!(client.send_request(request).await.unwrap().status(), 200);
        publisher.abort();
        server.stop().await;
    }
}
