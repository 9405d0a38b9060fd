//! Stream compression: negotiated by `Accept-Encoding`, flushed at every
//! write, on every path a stream can be served by.

mod support;

use std::time::Duration;

use sse_runtime::compression::Compression;
use sse_runtime::{sse, Heartbeat, Server};
use support::http::{open_on, start_on, Via};

#[derive(serde::Serialize)]
struct Tick {
    n: u32,
    symbol: &'static str,
    price: f64,
}

/// Ticks until the client leaves: the test reads them while the stream is
/// open, so each must arrive decodable on its own.
#[sse("/ticks", serializer = Json, events(Tick = "tick"), compression = "gzip")]
async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
    for n in 0.. {
        let tick = Tick {
            n,
            symbol: "ACME",
            price: 100.0 + f64::from(n),
        };
        session.send(tick).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[sse("/plain", compression = "off")]
async fn plain(session: PlainSession) -> Result<(), sse_runtime::Error> {
    session.send("not compressed").await
}

#[sse("/inherits")]
async fn inherits(session: InheritsSession) -> Result<(), sse_runtime::Error> {
    session.send("as the server says").await
}

async fn page(_request: http::Request<sse_runtime::server::RequestBody>) -> http::Response<String> {
    http::Response::new("page".to_owned())
}

fn server() -> Server {
    Server::new()
        .heartbeat(Heartbeat::every(Duration::from_millis(100)))
        .compression(Compression::Gzip)
        .route(ticks)
        .route(plain)
        .route(inherits)
        .fallback(page)
}

const GZIP: &[(&str, &[u8])] = &[("accept-encoding", b"gzip, deflate, br")];

#[tokio::test]
async fn a_compressed_stream_is_readable_event_by_event_on_every_path() {
    for tls in [false, true] {
        let server = start_on(tls, server()).await;
        for via in Via::over(tls) {
            let mut opened = open_on(via, server.addr, "/", "/ticks", GZIP).await;
            let stream = &mut opened.stream;
            assert_eq!(stream.header("content-encoding"), Some("gzip"), "{via:?}");
            assert_eq!(stream.header("vary"), Some("accept-encoding"), "{via:?}");
            for n in 0..3 {
                let block = stream
                    .next_block_within(Duration::from_secs(2))
                    .await
                    .unwrap_or_else(|| panic!("{via:?}: tick {n} did not arrive"));
                let want = format!("event: tick\ndata: {{\"n\":{n},\"symbol\":\"ACME\",");
                assert!(block.starts_with(&want), "{via:?}: {block}");
            }
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn heartbeats_of_a_compressed_stream_stay_heartbeats() {
    #[sse("/quiet", compression = "gzip")]
    async fn quiet(session: QuietSession) {
        session.closed().await;
    }
    let server = Server::new()
        .heartbeat(Heartbeat::every(Duration::from_millis(50)))
        .route(quiet)
        .fallback(page);
    let server = start_on(false, server).await;
    for via in Via::ALL {
        let mut opened = open_on(via, server.addr, "/", "/quiet", GZIP).await;
        assert_eq!(opened.stream.header("content-encoding"), Some("gzip"));
        opened
            .stream
            .expect_heartbeats(2, &format!("{via:?}"))
            .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn never_compressed_unless_asked_for_and_on() {
    let server = start_on(false, server()).await;
    for via in Via::ALL {
        // Not asked for: plain, but it says it could have varied.
        let mut opened = open_on(via, server.addr, "/", "/ticks", &[]).await;
        assert_eq!(opened.stream.header("content-encoding"), None, "{via:?}");
        assert_eq!(opened.stream.header("vary"), Some("accept-encoding"));
        let block = opened.stream.next_block().await.unwrap();
        assert!(block.starts_with("event: tick\n"), "{block}");
        // Refused by q=0.
        let refused: &[(&str, &[u8])] = &[("accept-encoding", b"gzip;q=0, br")];
        let opened = open_on(via, server.addr, "/", "/ticks", refused).await;
        assert_eq!(opened.stream.header("content-encoding"), None, "{via:?}");
        // A route that says off.
        let mut opened = open_on(via, server.addr, "/", "/plain", GZIP).await;
        assert_eq!(opened.stream.header("content-encoding"), None, "{via:?}");
        assert_eq!(opened.stream.header("vary"), None);
        assert_eq!(opened.stream.rest().await, "data: not compressed\n\n");
        // A route that says nothing takes the server's default.
        let mut opened = open_on(via, server.addr, "/", "/inherits", GZIP).await;
        assert_eq!(opened.stream.header("content-encoding"), Some("gzip"));
        assert_eq!(opened.stream.rest().await, "data: as the server says\n\n");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_repetitive_json_stream_compresses_well() {
    let server = start_on(false, server()).await;
    let mut opened = open_on(Via::H2, server.addr, "/", "/ticks", GZIP).await;
    let mut plain = 0;
    for _ in 0..50 {
        plain += opened.stream.next_block().await.unwrap().len();
    }
    // Each write is flushed on its own, so the ratio is far from a whole
    // file's; the dictionary still pays.
    let ratio = opened.stream.received as f64 / plain as f64;
    assert!(ratio < 0.6, "compressed to {ratio:.2} of {plain} bytes");
    server.stop().await;
}
