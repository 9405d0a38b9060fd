//! The broadcast hub over loopback, read with the project's client:
//! exactly-once in-order delivery across reconnects, the history-lost signal,
//! topics and filters, concurrent publishers, and a stalled subscriber that
//! slows no one.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use sse_runtime::client::{EventSource, Message};
use sse_runtime::extract::{Query, State};
use sse_runtime::hub::{Hub, Lagging, MemoryBackplane, HISTORY_LOST};
use sse_runtime::{sse, Server};
use support::http::{start, TestServer};
use tokio::io::AsyncReadExt;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tick {
    publisher: u32,
    n: u32,
    #[serde(default)]
    pad: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Alert {
    text: String,
}

#[derive(Deserialize)]
struct Params {
    topic: Option<String>,
    only: Option<String>,
}

/// Serves the hub's topic `?topic=` (default topic without), optionally only
/// the events named `?only=`.
#[sse("/feed", serializer = Json, events(Tick = "tick", Alert = "alert"))]
async fn feed(
    session: FeedSession,
    hub: State<Hub<FeedRoute>>,
    params: Query<Params>,
) -> Result<(), sse_runtime::Error> {
    let hub = hub.0;
    let topic = hub.topic(params.0.topic.unwrap_or_default());
    let mut subscription = topic.subscribe();
    if let Some(only) = params.0.only {
        subscription = subscription.filter(move |entry| entry.event() == Some(only.as_str()));
    }
    subscription.serve(&session).await?;
    Ok(())
}

async fn serve(hub: &Hub<FeedRoute>) -> TestServer {
    start(Server::new().with_state(hub.clone()).route(feed)).await
}

fn tick(publisher: u32, n: u32) -> Tick {
    Tick {
        publisher,
        n,
        pad: String::new(),
    }
}

async fn next(events: &mut EventSource) -> Message {
    tokio::time::timeout(Duration::from_secs(10), events.next_message())
        .await
        .expect("a message in time")
        .expect("the client goes on")
        .expect("no error")
}

fn decode(message: &Message) -> Tick {
    assert_eq!(message.event, "tick");
    serde_json::from_str(&message.data).unwrap()
}

/// Waits until the hub serves `n` subscribers, so publishes after it reach them.
async fn subscribers(hub: &Hub<FeedRoute>, n: u64) {
    for _ in 0..500 {
        if hub.stats().subscribers == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{} subscribers, not {n}", hub.stats().subscribers);
}

#[tokio::test]
async fn every_subscriber_gets_each_event_once_with_the_hubs_id() {
    let hub = Hub::<FeedRoute>::new();
    let server = serve(&hub).await;
    let mut a = EventSource::builder(server.url("/feed")).build().unwrap();
    let mut b = EventSource::builder(server.url("/feed")).build().unwrap();
    // Opening is lazy: read until both are subscribed.
    let (ra, rb) = tokio::join!(a.next(), b.next());
    assert!(ra.is_some() && rb.is_some());
    subscribers(&hub, 2).await;

    let id = hub.publish(tick(0, 1)).await.unwrap();
    hub.publish(Alert { text: "hi".into() }).await.unwrap();
    for events in [&mut a, &mut b] {
        let first = next(events).await;
        assert_eq!(first.last_event_id, &*id);
        assert_eq!(decode(&first), tick(0, 1));
        let second = next(events).await;
        assert_eq!(
            (second.event.as_str(), second.data.as_str()),
            ("alert", r#"{"text":"hi"}"#)
        );
    }
    let stats = hub.stats();
    assert_eq!(
        (stats.published, stats.delivered, stats.subscribers),
        (2, 4, 2)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_stale_last_event_id_gets_the_history_lost_signal_then_what_is_kept() {
    let hub = Hub::<FeedRoute>::builder().history(5).build();
    let server = serve(&hub).await;
    let mut ids = Vec::new();
    for n in 1..=10 {
        ids.push(hub.publish(tick(0, n)).await.unwrap());
    }
    assert_eq!(hub.backplane::<MemoryBackplane>().unwrap().retained(""), 5);

    // Event 2 left the history: signal, then 6..=10.
    let mut events = EventSource::builder(server.url("/feed"))
        .last_event_id(&*ids[1])
        .build()
        .unwrap();
    let signal = next(&mut events).await;
    assert_eq!(
        (signal.event.as_str(), signal.data.as_str()),
        (HISTORY_LOST, &*ids[1])
    );
    for n in 6..=10 {
        assert_eq!(decode(&next(&mut events).await).n, n);
    }

    // An id the hub still has: exactly what followed it, no signal.
    let mut events = EventSource::builder(server.url("/feed"))
        .last_event_id(&*ids[7])
        .build()
        .unwrap();
    let resumed = next(&mut events).await;
    assert_eq!(
        (decode(&resumed).n, resumed.last_event_id.as_str()),
        (9, &*ids[8])
    );

    // An id from another run of the hub (or no id of ours at all).
    let mut events = EventSource::builder(server.url("/feed"))
        .last_event_id("1-3")
        .build()
        .unwrap();
    assert_eq!(next(&mut events).await.event, HISTORY_LOST);
    assert_eq!(decode(&next(&mut events).await).n, 6);
    assert_eq!(hub.stats().history_lost, 2);
    server.stop().await;
}

#[tokio::test]
async fn topics_are_separate_and_filters_apply_per_subscriber() {
    let hub = Hub::<FeedRoute>::new();
    let server = serve(&hub).await;
    let mut room = EventSource::builder(server.url("/feed?topic=room-1"))
        .build()
        .unwrap();
    let mut alerts = EventSource::builder(server.url("/feed?topic=room-1&only=alert"))
        .build()
        .unwrap();
    let mut lobby = EventSource::builder(server.url("/feed")).build().unwrap();
    let _ = tokio::join!(room.next(), alerts.next(), lobby.next());
    subscribers(&hub, 3).await;

    let room_1 = hub.topic("room-1");
    room_1.publish(tick(1, 1)).await.unwrap();
    hub.publish(tick(0, 1)).await.unwrap();
    room_1
        .publish(Alert {
            text: "fire".into(),
        })
        .await
        .unwrap();

    assert_eq!(decode(&next(&mut room).await), tick(1, 1));
    assert_eq!(next(&mut room).await.event, "alert");
    assert_eq!(next(&mut alerts).await.data, r#"{"text":"fire"}"#);
    assert_eq!(decode(&next(&mut lobby).await), tick(0, 1));
    // Topics number their events separately.
    assert_eq!(
        hub.backplane::<MemoryBackplane>()
            .unwrap()
            .retained("room-1"),
        2
    );
    assert_eq!(hub.backplane::<MemoryBackplane>().unwrap().retained(""), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_are_delivered_in_id_order_each_in_its_own_order() {
    let hub = Hub::<FeedRoute>::builder().history(10_000).build();
    let server = serve(&hub).await;
    let mut events = EventSource::builder(server.url("/feed")).build().unwrap();
    let _ = events.next().await;
    subscribers(&hub, 1).await;

    let publishers: Vec<_> = (0..8)
        .map(|publisher| {
            let hub = hub.clone();
            tokio::spawn(async move {
                for n in 0..250 {
                    hub.publish(tick(publisher, n)).await.unwrap();
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let mut last_seen: HashMap<u32, u32> = HashMap::new();
    let mut last_number = 0;
    for _ in 0..2000 {
        let message = next(&mut events).await;
        let number: u64 = message
            .last_event_id
            .rsplit('-')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(number > last_number, "ids must increase");
        last_number = number;
        let tick = decode(&message);
        let previous = last_seen.insert(tick.publisher, tick.n);
        assert_eq!(
            previous.map_or(0, |p| p + 1),
            tick.n,
            "publisher {}",
            tick.publisher
        );
    }
    assert_eq!(last_seen.len(), 8);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_closed_and_slows_no_one() {
    const EVENTS: u32 = 2_000;
    const HISTORY: usize = 100;
    let hub = Hub::<FeedRoute>::builder()
        .history(HISTORY)
        .lagging(Lagging::Close)
        .build();
    let server = serve(&hub).await;

    // Subscribes, then never reads again.
    let mut stalled = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stalled,
        b"GET /feed HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut fast: Vec<EventSource> = (0..8)
        .map(|_| EventSource::builder(server.url("/feed")).build().unwrap())
        .collect();
    for events in &mut fast {
        let _ = events.next().await;
    }
    subscribers(&hub, 9).await;

    let readers: Vec<_> = fast
        .into_iter()
        .map(|mut events| {
            tokio::spawn(async move {
                for n in 0..EVENTS {
                    assert_eq!(decode(&next(&mut events).await).n, n);
                }
                events
            })
        })
        .collect();
    // 4 KiB events, paced so that readers that read keep up.
    let pad = "x".repeat(4096);
    for n in 0..EVENTS {
        let mut event = tick(0, n);
        event.pad.clone_from(&pad);
        hub.publish(event).await.unwrap();
        assert!(hub.backplane::<MemoryBackplane>().unwrap().retained("") <= HISTORY);
        if n % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let mut still_open = Vec::new();
    for reader in readers {
        still_open.push(reader.await.unwrap());
    }
    // Nothing of the stalled subscriber is queued but its place in the
    // history: memory stayed bounded by the history (checked above).
    assert_eq!(hub.stats().lagged, 0, "not polled while it does not read");

    // When it reads again, it has fallen behind the history: its stream is
    // closed after what was already written, and it would resume with its
    // Last-Event-ID.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stalled.read_to_end(&mut rest))
        .await
        .expect("the stalled stream ends")
        .unwrap();
    assert!(rest.ends_with(b"\r\n0\r\n\r\n"), "the response ended");
    let stats = hub.stats();
    assert_eq!(stats.lagged, 1, "{stats:?}");
    assert_eq!(stats.subscribers, 8, "the stalled one is gone");
    server.stop().await;
}

/// A reader that keeps up but falls behind the history because the server
/// did not get to it (here: a burst published with no await point between
/// the events, so its connection's task cannot run) is not the slow one: it
/// is told `history-lost` and goes on from the oldest event kept, on the
/// same stream, on every path.
#[tokio::test]
async fn a_reader_behind_only_because_the_server_was_busy_is_not_closed() {
    const HISTORY: usize = 10;
    for via in support::http::Via::ALL {
        let hub = Hub::<FeedRoute>::builder()
            .history(HISTORY)
            .lagging(Lagging::Close)
            .build();
        let server = Server::new()
            .with_state(hub.clone())
            .route(feed)
            .fallback(|_| async { http::Response::new("page".to_owned()) });
        let server = start(server).await;
        let mut opened = support::http::open_on(via, server.addr, "/", "/feed", &[]).await;
        subscribers(&hub, 1).await;
        for n in 0..50 {
            hub.publish(tick(0, n)).await.unwrap();
        }
        let context = format!("{via:?}");
        let lost = opened.stream.next_block().await.expect(&context);
        assert!(
            lost.starts_with("event: history-lost\n"),
            "{context}: {lost}"
        );
        let mut seen = Vec::new();
        while seen.len() < HISTORY {
            let block = opened.stream.next_block().await.expect(&context);
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            seen.push(serde_json::from_str::<Tick>(data).unwrap().n);
        }
        assert_eq!(seen, (40..50).collect::<Vec<_>>(), "{context}");
        // Still the same stream: the next event arrives on it.
        hub.publish(tick(0, 50)).await.unwrap();
        let block = opened.stream.next_block().await.expect(&context);
        assert!(block.contains(r#""n":50"#), "{context}: {block}");
        let stats = hub.stats();
        assert_eq!(
            (stats.lagged, stats.history_lost, stats.subscribers),
            (1, 1, 1),
            "{context}"
        );
        drop(opened);
        server.stop().await;
    }
}

/// Publishes `total` events while a client reads, dropping its connection
/// after each count in `cuts` and coming back with its `Last-Event-ID`.
async fn read_with_disconnects(total: u32, cuts: Vec<u32>, publish_every: u64) -> Vec<u32> {
    let hub = Hub::<FeedRoute>::builder().history(total as usize).build();
    let server = serve(&hub).await;
    // The first connection has no Last-Event-ID, so it starts with the next
    // event published: subscribe it before publishing starts.
    let mut events = EventSource::builder(server.url("/feed")).build().unwrap();
    let _ = events.next().await;
    subscribers(&hub, 1).await;
    let publisher = {
        let hub = hub.clone();
        tokio::spawn(async move {
            for n in 0..total {
                hub.publish(tick(0, n)).await.unwrap();
                if n as u64 % publish_every == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut got = Vec::new();
    let mut cuts = cuts.into_iter();
    loop {
        let take = cuts.next().unwrap_or(total);
        let mut last_id = String::new();
        for _ in 0..take {
            if got.len() == total as usize {
                break;
            }
            let message = next(&mut events).await;
            got.push(decode(&message).n);
            last_id = message.last_event_id;
        }
        if got.len() == total as usize {
            break;
        }
        // Drop the connection mid-stream and come back after the last id.
        let last_id = if last_id.is_empty() {
            events.last_event_id().to_owned()
        } else {
            last_id
        };
        events = EventSource::builder(server.url("/feed"))
            .last_event_id(last_id)
            .build()
            .unwrap();
    }
    publisher.await.unwrap();
    server.stop().await;
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Exactly once, in order, whatever the points at which the client drops
    /// its connection and resumes with `Last-Event-ID`.
    #[test]
    fn resuming_delivers_exactly_once_in_order(
        cuts in prop::collection::vec(1u32..40, 0..12),
        publish_every in 1u64..20,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let got = runtime.block_on(read_with_disconnects(200, cuts, publish_every));
        prop_assert_eq!(got, (0..200).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_ahead_signals_the_gap_and_goes_on_from_the_oldest_kept() {
    const EVENTS: u32 = 2_000;
    let hub = Hub::<FeedRoute>::builder()
        .history(100)
        .lagging(Lagging::SkipAhead)
        .build();
    let server = serve(&hub).await;
    let mut events = EventSource::builder(server.url("/feed")).build().unwrap();
    let _ = events.next().await;
    subscribers(&hub, 1).await;

    // Not reading while 8 MB are published: far more than the socket buffers,
    // the session's buffer and the history hold.
    let pad = "x".repeat(4096);
    for n in 0..EVENTS {
        let mut event = tick(0, n);
        event.pad.clone_from(&pad);
        hub.publish(event).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut gap_at = None;
    while seen.last() != Some(&(EVENTS - 1)) {
        let message = next(&mut events).await;
        if message.event == HISTORY_LOST {
            assert!(gap_at.is_none(), "one gap, one signal");
            // The signal names the last event the client got.
            let last = seen.last().map_or(0, |&n| n + 1);
            assert!(
                message.data.ends_with(&format!("-{last}")),
                "{}",
                message.data
            );
            gap_at = Some(seen.len());
            continue;
        }
        seen.push(decode(&message).n);
    }
    let gap_at = gap_at.expect("a history-lost signal");
    assert!(gap_at > 0);
    // In order on both sides of the gap, and the gap is real.
    assert!(seen
        .windows(2)
        .enumerate()
        .all(|(i, w)| w[1] == w[0] + 1 || i + 1 == gap_at));
    assert!(seen[gap_at] > seen[gap_at - 1] + 1);
    assert_eq!(hub.stats().lagged, 1);
    server.stop().await;
}
