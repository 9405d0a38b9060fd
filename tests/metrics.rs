//! What the server and the hub count through the `metrics` facade, read
//! back from a recording recorder. One test: the recorder is global to the
//! process, and the counts are checked as deltas, one step at a time.

mod support;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use sse_runtime::extract::{Query, State};
use sse_runtime::hub::Hub;
use sse_runtime::route::handler;
use sse_runtime::{sse, Heartbeat, Server, Session};
use support::http::{open, open_on, request, start, Via};

/// What the recorder recorded so far. Taking a snapshot zeroes its
/// counters and gauges, so the totals are kept here.
struct Recorded {
    snapshotter: Snapshotter,
    totals: Mutex<HashMap<String, f64>>,
}

fn key_of(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    format!("{name}{labels:?}")
}

impl Recorded {
    /// The current value of `name` with exactly `labels` (0 if never recorded).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut totals = self.totals.lock().unwrap();
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key_labels: Vec<(&str, &str)> =
                key.key().labels().map(|l| (l.key(), l.value())).collect();
            let total = totals
                .entry(key_of(key.key().name(), &key_labels))
                .or_default();
            match value {
                DebugValue::Counter(n) => *total += n as f64,
                // Swapped to zero too: what it holds is the change since.
                DebugValue::Gauge(g) => *total += g.into_inner(),
                DebugValue::Histogram(_) => panic!("no histograms here"),
            }
        }
        totals
            .get(&key_of(name, labels))
            .copied()
            .unwrap_or_default()
    }

    /// Waits (up to 5 s) until `name{labels}` reaches `want`.
    async fn reaches(&self, name: &str, labels: &[(&str, &str)], want: f64) {
        for _ in 0..500 {
            if self.value(name, labels) == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "{name}{labels:?} is {}, expected {want}",
            self.value(name, labels)
        );
    }
}

#[derive(serde::Serialize)]
struct Note(u32);

#[sse("/notes", serializer = Json, events(Note = "note"))]
async fn notes(
    session: NotesSession,
    hub: State<Hub<NotesRoute>>,
) -> Result<(), sse_runtime::Error> {
    hub.0.subscribe().serve(&session).await?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct Count {
    n: u32,
}

#[sse("/count")]
async fn count(session: CountSession, count: Query<Count>) -> Result<(), sse_runtime::Error> {
    for i in 0..count.0.n {
        session.send(i).await?;
    }
    Ok(())
}

/// Streams its body back, or answers `202` to the body `answer`.
#[sse("/ask", method = "POST", body_limit = "64B")]
async fn ask(session: AskSession, body: String) -> Result<(), sse_runtime::Error> {
    if body == "answer" {
        return session.answer(sse_runtime::route::Answer::from(http::StatusCode::ACCEPTED));
    }
    session.send(body).await
}

async fn page(_request: http::Request<sse_runtime::server::RequestBody>) -> http::Response<String> {
    http::Response::new("page".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_and_the_hub_count_what_they_do() {
    let recorder = DebuggingRecorder::new();
    let recorded = Recorded {
        snapshotter: recorder.snapshotter(),
        totals: Mutex::default(),
    };
    recorder
        .install()
        .expect("the only recorder of this process");
    sse_runtime::metrics::describe();

    // Streams of n events that then end (`count`), and a quiet one for heartbeats.
    let quiet = handler(|session: Session| async move { session.closed().await });
    let hub = Hub::<NotesRoute>::new();
    let server = Server::new()
        .with_state(hub.clone())
        .route(notes)
        .route(count)
        .route(ask)
        .route(
            quiet
                .clone()
                .heartbeat(Heartbeat::every(Duration::from_millis(30)))
                .at("/quiet"),
        )
        .fallback(page);
    let server = start(server).await;
    let addr = server.addr;
    let count = [("route", "/count")];

    // On each protocol path: opened, events, bytes, ended, open again 0.
    for (i, via) in Via::ALL.into_iter().enumerate() {
        let done = i as f64;
        let mut opened = open_on(via, addr, "/", "/count?n=3", &[]).await;
        let mut blocks = Vec::new();
        while let Some(block) = opened.stream.next_block().await {
            blocks.push(block);
        }
        assert_eq!(blocks.len(), 3, "{via:?}");
        let bytes: usize = blocks.iter().map(String::len).sum();
        let context = format!("{via:?}");
        recorded
            .reaches("sse_streams_opened_total", &count, done + 1.0)
            .await;
        recorded
            .reaches("sse_events_written_total", &count, 3.0 * (done + 1.0))
            .await;
        let written = recorded.value("sse_bytes_written_total", &count);
        assert!(
            written >= (bytes * (i + 1)) as f64,
            "{context}: {written} bytes"
        );
        let ended = [("route", "/count"), ("reason", "handler_returned")];
        recorded
            .reaches("sse_streams_ended_total", &ended, done + 1.0)
            .await;
        recorded.reaches("sse_streams_open", &count, 0.0).await;
    }

    // Refused: a failed extraction (400) and a method (405).
    let bad = request(addr, support::http::get(addr, "/count?n=x", &[])).await;
    assert_eq!(bad.status(), 400);
    let post = http::Request::post(format!("http://{addr}/count"))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    assert_eq!(request(addr, post).await.status(), 405);
    let refused = |status| [("route", "/count"), ("status", status)];
    recorded
        .reaches("sse_requests_refused_total", &refused("400"), 1.0)
        .await;
    recorded
        .reaches("sse_requests_refused_total", &refused("405"), 1.0)
        .await;
    assert_eq!(recorded.value("sse_streams_opened_total", &count), 3.0);

    // A `POST`, on each path: a stream counts as a `GET`'s does; an answer
    // as an answer (no stream opened or ended); a body over the limit as
    // refused.
    let asked = [("route", "/ask")];
    for (i, via) in Via::ALL.into_iter().enumerate() {
        let done = i as f64;
        let post = |body: &str| {
            support::http::with_body(
                http::Method::POST,
                addr,
                "/ask",
                "text/plain",
                body.to_owned(),
            )
        };
        let mut client = support::http::Client::connect(via, addr).await;
        let streamed = client.send(post("hi")).await;
        assert_eq!(
            support::http::EventStream::new(streamed).rest().await,
            "data: hi

"
        );
        recorded
            .reaches("sse_streams_opened_total", &asked, done + 1.0)
            .await;
        let ended = [("route", "/ask"), ("reason", "handler_returned")];
        recorded
            .reaches("sse_streams_ended_total", &ended, done + 1.0)
            .await;
        recorded.reaches("sse_streams_open", &asked, 0.0).await;

        let mut client = support::http::Client::connect(via, addr).await;
        assert_eq!(client.send(post("answer")).await.status(), 202, "{via:?}");
        let answered = [("route", "/ask"), ("status", "202")];
        recorded
            .reaches("sse_requests_answered_total", &answered, done + 1.0)
            .await;

        let mut client = support::http::Client::connect(via, addr).await;
        assert_eq!(
            client.send(post(&"x".repeat(65))).await.status(),
            413,
            "{via:?}"
        );
        let refused = [("route", "/ask"), ("status", "413")];
        recorded
            .reaches("sse_requests_refused_total", &refused, done + 1.0)
            .await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        recorded.value("sse_streams_opened_total", &asked),
        3.0,
        "answers open no stream"
    );
    let answered_ended = [("route", "/ask"), ("reason", "answered")];
    assert_eq!(
        recorded.value("sse_streams_ended_total", &answered_ended),
        0.0
    );

    // A client that stops reading, on every path, cleartext and TLS: the
    // stream ends for the write timeout and is counted so (the connection's
    // own timeout, which closes it, tells the stream why).
    let (sent, mut floods) = tokio::sync::mpsc::unbounded_channel();
    let flooded = [("route", "/flood")];
    let timed_out = [("route", "/flood"), ("reason", "write_timeout")];
    let mut done = 0.0;
    for tls in [false, true] {
        let server = Server::new()
            .write_timeout(Duration::from_millis(300))
            .route(support::routes::flood_at("/flood", sent.clone()))
            .fallback(page);
        let server = support::http::start_on(tls, server).await;
        for via in Via::over(tls) {
            let opened = open_on(via, server.addr, "/", "/flood", &[]).await; // never read
            let closed = tokio::time::timeout(Duration::from_secs(30), floods.recv()).await;
            assert!(closed.is_ok(), "{via:?}: the stalled stream was not closed");
            done += 1.0;
            recorded
                .reaches("sse_streams_ended_total", &timed_out, done)
                .await;
            recorded.reaches("sse_streams_open", &flooded, 0.0).await;
            drop(opened);
        }
        server.stop().await;
    }
    let left = [("route", "/flood"), ("reason", "client_left")];
    assert_eq!(recorded.value("sse_streams_ended_total", &left), 0.0);

    // Heartbeats, and a stream that is open until its client leaves.
    let quiet_route = [("route", "/quiet")];
    let mut stream = open(addr, "/quiet").await;
    stream.expect_heartbeats(2, "quiet").await;
    assert!(recorded.value("sse_heartbeats_total", &quiet_route) >= 2.0);
    assert_eq!(recorded.value("sse_streams_open", &quiet_route), 1.0);
    assert!(recorded.value("sse_connections_open", &[]) >= 1.0);
    drop(stream);
    let left = [("route", "/quiet"), ("reason", "client_left")];
    recorded
        .reaches("sse_streams_ended_total", &left, 1.0)
        .await;
    recorded
        .reaches("sse_streams_open", &quiet_route, 0.0)
        .await;

    // The hub: subscribers, publishes, deliveries.
    let hub_label = [("hub", "NotesRoute")];
    let mut a = open(addr, "/notes").await;
    let mut b = open(addr, "/notes").await;
    recorded
        .reaches("sse_hub_subscribers", &hub_label, 2.0)
        .await;
    for n in 0..4 {
        hub.publish(Note(n)).await.unwrap();
    }
    for stream in [&mut a, &mut b] {
        for _ in 0..4 {
            stream.next_block().await.expect("a note");
        }
    }
    assert_eq!(recorded.value("sse_hub_published_total", &hub_label), 4.0);
    recorded
        .reaches("sse_hub_delivered_total", &hub_label, 8.0)
        .await;
    recorded
        .reaches("sse_events_written_total", &[("route", "/notes")], 8.0)
        .await;
    // A resume from an unknown id: one history-lost signal.
    let resume = support::http::get(addr, "/notes", &[("last-event-id", b"nope")]);
    let mut lost = support::http::EventStream::new(request(addr, resume).await);
    assert!(lost.next_block().await.unwrap().contains("history-lost"));
    recorded
        .reaches("sse_hub_history_lost_total", &hub_label, 1.0)
        .await;
    drop((a, b, lost));
    recorded
        .reaches("sse_hub_subscribers", &hub_label, 0.0)
        .await;
    server.stop().await;
    recorded.reaches("sse_connections_open", &[], 0.0).await;

    // The connection limit: the second connection is answered 503.
    let limited = Server::new().max_connections(1).route(quiet.at("/quiet"));
    let limited = start(limited).await;
    let _held = open(limited.addr, "/quiet").await;
    let over = request(
        limited.addr,
        support::http::get(limited.addr, "/quiet", &[]),
    )
    .await;
    assert_eq!(over.status(), 503);
    recorded
        .reaches("sse_connections_refused_total", &[], 1.0)
        .await;

    // `describe` gave them units and help.
    let described = recorded.snapshotter.snapshot().into_vec();
    let (_, unit, help, _) = described
        .iter()
        .find(|(key, ..)| key.key().name() == "sse_bytes_written_total")
        .expect("recorded");
    assert_eq!(*unit, Some(metrics::Unit::Bytes));
    assert!(help.is_some());
}
