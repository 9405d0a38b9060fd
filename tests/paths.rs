//! Every stream guarantee on every path a stream can be served by: the
//! HTTP/1.1 fast path, hyper on an HTTP/1.1 keep-alive connection, and hyper
//! over HTTP/2, each in cleartext and over TLS. What the handler observes is
//! sent to the test body, which does all the asserting.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sse_runtime::route::handler;
use sse_runtime::{Event, Heartbeat, Server, Session};
use support::http::{open_on, start_on, Via};
use support::routes::flood_at;
use tokio::sync::mpsc;

/// The page a keep-alive connection asks for before its stream.
async fn page(_request: http::Request<sse_runtime::server::RequestBody>) -> http::Response<String> {
    http::Response::new("<script>new EventSource('/events')</script>".to_owned())
}

#[tokio::test]
async fn heartbeats_on_every_path() {
    async fn quiet(session: Session) {
        session.closed().await;
    }
    for tls in [false, true] {
        let server = Server::new()
            .heartbeat(Heartbeat::every(Duration::from_millis(50)))
            .route(handler(quiet).at("/events"))
            .fallback(page);
        let server = start_on(tls, server).await;
        for via in Via::over(tls) {
            let mut opened = open_on(via, server.addr, "/", "/events", &[]).await;
            opened
                .stream
                .expect_heartbeats(2, &format!("{via:?}"))
                .await;
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_client_that_leaves_is_noticed_on_every_path() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let route = handler(move |session: Session| {
        let tx = tx.clone();
        async move {
            session.send(Event::new().data("hello")).await?;
            session.closed().await;
            let after = session.send(Event::new().data("gone")).await;
            let _ = tx.send((Instant::now(), after.is_err()));
            Ok::<(), sse_runtime::Error>(())
        }
    });
    for tls in [false, true] {
        let server = Server::new()
            .route(route.clone().at("/events"))
            .fallback(page);
        let server = start_on(tls, server).await;
        for via in Via::over(tls) {
            let mut opened = open_on(via, server.addr, "/", "/events", &[]).await;
            opened
                .stream
                .expect_block("data: hello\n\n", &format!("{via:?}"))
                .await;
            let left = Instant::now();
            drop(opened);
            let (noticed, send_failed) =
                tokio::time::timeout(Duration::from_millis(100), rx.recv())
                    .await
                    .unwrap_or_else(|_| {
                        panic!("{via:?}: the handler did not see the client leave within 100 ms")
                    })
                    .unwrap();
            assert!(noticed >= left, "{via:?}");
            assert!(send_failed, "{via:?}: a send after the client left fails");
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_client_that_does_not_read_makes_sends_wait_on_every_path() {
    const EVENT: usize = 1024;
    const LIMIT: usize = 4096;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sent = Arc::new(AtomicUsize::new(0));
    let route = handler({
        let sent = sent.clone();
        move |session: Session| {
            let (tx, sent) = (tx.clone(), sent.clone());
            async move {
                let _ = tx.send(session.clone());
                let payload = "x".repeat(EVENT);
                while session
                    .send(Event::new().data(payload.clone()))
                    .await
                    .is_ok()
                {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    for via in Via::ALL.into_iter().chain(Via::TLS) {
        let server = Server::new()
            .max_buffered(LIMIT)
            .route(route.clone().at("/events"))
            .fallback(page);
        let server = start_on(via.is_tls(), server).await;
        sent.store(0, Ordering::Relaxed);
        let opened = open_on(via, server.addr, "/", "/events", &[]).await; // never read
        let session = rx.recv().await.unwrap();
        // Wait until the sends stop making progress: the handler is blocked.
        let mut last = usize::MAX;
        let waited = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = sent.load(Ordering::Relaxed);
            if now == last {
                break;
            }
            last = now;
            assert!(
                waited.elapsed() < Duration::from_secs(20),
                "{via:?}: sends never wait"
            );
        }
        assert!(last > 0, "{via:?}");
        let buffered = session.buffered();
        assert!(
            buffered <= LIMIT + EVENT + 16,
            "{via:?}: buffered {buffered}"
        );
        drop(opened);
        tokio::time::timeout(Duration::from_secs(2), session.closed())
            .await
            .unwrap_or_else(|_| panic!("{via:?}: the blocked stream was not released"));
        server.stop().await;
    }
}

#[tokio::test]
async fn shutdown_ends_streams_on_every_path() {
    async fn polite(session: Session) -> Result<(), sse_runtime::Error> {
        session.send(Event::new().data("hi")).await?;
        session.closed().await;
        session
            .send(Event::new().event("bye").data("going away"))
            .await
    }
    for via in Via::ALL.into_iter().chain(Via::TLS) {
        let server = Server::new()
            .shutdown_deadline(Duration::from_secs(5))
            .route(handler(polite).at("/events"))
            .fallback(page);
        let server = start_on(via.is_tls(), server).await;
        let mut opened = open_on(via, server.addr, "/", "/events", &[]).await;
        opened
            .stream
            .expect_block("data: hi\n\n", &format!("{via:?}"))
            .await;
        let took = server.stop().await;
        assert!(
            took < Duration::from_secs(2),
            "{via:?}: took {took:?}, not the deadline"
        );
        let rest = tokio::time::timeout(Duration::from_secs(2), opened.stream.rest())
            .await
            .unwrap_or_else(|_| panic!("{via:?}: the stream did not end"));
        assert_eq!(rest, "event: bye\ndata: going away\n\n", "{via:?}");
    }
}

#[tokio::test]
async fn a_handler_that_ignores_its_session_is_cancelled_after_its_client_left() {
    /// Tells the test when the handler's future is dropped.
    struct Dropped(mpsc::UnboundedSender<Instant>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            let _ = self.0.send(Instant::now());
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let route = handler(move |session: Session| {
        let guard = Dropped(tx.clone());
        async move {
            let _guard = guard;
            session.send(Event::new().data("hello")).await?;
            // Neither sends nor waits for `closed()`.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<(), sse_runtime::Error>(())
        }
    });
    let grace = Duration::from_millis(200);
    for via in Via::ALL.into_iter().chain(Via::TLS) {
        let server = Server::new()
            .handler_grace(grace)
            .route(route.clone().at("/events"))
            .fallback(page);
        let server = start_on(via.is_tls(), server).await;
        let mut opened = open_on(via, server.addr, "/", "/events", &[]).await;
        opened
            .stream
            .expect_block("data: hello\n\n", &format!("{via:?}"))
            .await;
        let left = Instant::now();
        drop(opened);
        let dropped = tokio::time::timeout(Duration::from_secs(3), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{via:?}: the handler outlived its client"))
            .unwrap();
        let after = dropped - left;
        assert!(
            after >= grace,
            "{via:?}: cancelled after {after:?}, before the grace"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_the_write_timeout_on_every_path() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for via in Via::ALL.into_iter().chain(Via::TLS) {
        let server = Server::new()
            .write_timeout(Duration::from_millis(300))
            .route(flood_at("/flood", tx.clone()))
            .fallback(page);
        let server = start_on(via.is_tls(), server).await;
        let opened = open_on(via, server.addr, "/", "/flood", &[]).await; // never read
        let sent = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{via:?}: the stalled stream was not closed"))
            .unwrap();
        assert!(sent > 0, "{via:?}");
        drop(opened);
        server.stop().await;
    }
}

#[sse_runtime::sse("/café/{who}")]
async fn cafe(session: CafeSession, who: String) -> Result<(), sse_runtime::Error> {
    session.send(who).await
}

/// A non-ASCII path arrives as the client writes it: percent-encoded by
/// every browser, as it is by curl, in upper or lower case hex by hand. A
/// route written either way matches all of them, on every path.
#[tokio::test]
async fn a_non_ascii_path_matches_as_sent_raw_or_percent_encoded_on_every_path() {
    let spelled_out = handler(|session: Session| async move {
        let _ = session.send(Event::new().data("spelled out")).await;
    });
    for tls in [false, true] {
        let server = Server::new()
            .route(cafe)
            .route(spelled_out.clone().at("/th%C3%A9"))
            .fallback(page);
        let server = start_on(tls, server).await;
        for via in Via::over(tls) {
            for (path, data) in [
                ("/caf%C3%A9/%C3%A9t%C3%A9", "été"),
                ("/café/été", "été"),
                ("/caf%c3%a9/d%c3%a9j%c3%a0", "déjà"),
                ("/thé", "spelled out"),
                ("/th%c3%a9", "spelled out"),
            ] {
                let mut opened = open_on(via, server.addr, "/", path, &[]).await;
                assert_eq!(
                    opened.stream.next_block().await.as_deref(),
                    Some(format!("data: {data}\n\n").as_str()),
                    "{path} via {via:?}"
                );
            }
        }
        server.stop().await;
    }
}
