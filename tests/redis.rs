//! The Redis Streams backplane against a real `redis-server` (started per
//! test on a free loopback port; skipped with a notice when the binary is
//! missing, a failure under `SSE_REQUIRE_REDIS=1`).

mod support;

use std::future::poll_fn;
use std::time::Duration;

use sse_runtime::event::EventBody;
use sse_runtime::hub::{Backplane, BackplaneError, Cursor, CursorError, Entry, RedisBackplane};
use support::redis::RedisServer;

fn body(n: usize) -> EventBody {
    EventBody::text(Some("n"), &n.to_string()).unwrap()
}

async fn connect(redis: &RedisServer) -> RedisBackplane {
    RedisBackplane::builder(redis.url())
        .history(100)
        .connect()
        .await
        .expect("connects")
}

/// The next batch, within 5 s.
async fn next(cursor: &mut impl Cursor) -> Result<Vec<Entry>, CursorError> {
    let mut batch = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(5),
        poll_fn(|cx| cursor.poll_next_batch(cx, &mut batch, 1000)),
    )
    .await
    .expect("a batch within 5 s")?;
    Ok(batch)
}

/// The data of the next `n` events, in order.
async fn take(cursor: &mut impl Cursor, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < n {
        for entry in next(cursor).await.expect("events") {
            got.push(data(&entry));
        }
    }
    assert_eq!(got.len(), n, "no more than asked for");
    got
}

fn data(entry: &Entry) -> String {
    let frame = std::str::from_utf8(entry.frame()).unwrap();
    frame
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap()
        .to_owned()
}

fn numbers(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn an_event_published_on_one_instance_reaches_the_other_under_the_same_id() {
    let Some(redis) = RedisServer::start("redis: two instances") else {
        return;
    };
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let mut on_b = b.subscribe("room", None).await.unwrap().cursor;
    let id = a.publish("room", body(1), None).await.unwrap();
    let batch = next(&mut on_b).await.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].id(), &*id);
    assert_eq!(batch[0].event(), Some("n"));
    assert_eq!(
        &batch[0].frame()[..],
        format!("event: n\nid: {id}\ndata: 1\n\n").as_bytes()
    );
    // Ids are <epoch>-<n>, numbered from 1 in each stream.
    assert!(id.ends_with("-1"), "{id}");
    let second = b.publish("room", body(2), None).await.unwrap();
    assert_eq!(
        second.split('-').next(),
        id.split('-').next(),
        "one epoch per stream"
    );
    assert!(second.ends_with("-2"), "{second}");
}

#[tokio::test]
async fn a_client_resumes_on_another_instance_with_what_it_missed() {
    let Some(redis) = RedisServer::start("redis: resume elsewhere") else {
        return;
    };
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let mut ids = Vec::new();
    for n in 1..=10 {
        ids.push(a.publish("t", body(n), None).await.unwrap());
    }
    // B has never read the topic: the replay comes from Redis.
    let resumed = b.subscribe("t", Some(&ids[4])).await.unwrap();
    assert!(!resumed.history_lost);
    let mut cursor = resumed.cursor;
    assert_eq!(take(&mut cursor, 5).await, numbers(6..=10));
    // Then the live events, once.
    a.publish("t", body(11), None).await.unwrap();
    assert_eq!(take(&mut cursor, 1).await, ["11"]);
    // Now B reads the topic: a second resume is served from its ring.
    let again = b.subscribe("t", Some(&ids[8])).await.unwrap();
    assert!(!again.history_lost);
    let mut cursor = again.cursor;
    assert_eq!(take(&mut cursor, 2).await, numbers(10..=11));
}

#[tokio::test]
async fn history_is_lost_only_when_redis_no_longer_has_the_next_event() {
    let Some(redis) = RedisServer::start("redis: trimmed history") else {
        return;
    };
    let backplane = RedisBackplane::builder(redis.url())
        .history(10)
        .connect()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 1..=400 {
        ids.push(backplane.publish("t", body(n), None).await.unwrap());
    }
    // `MAXLEN ~ 10` trims whole nodes: find the oldest event kept.
    let everything = backplane.subscribe("t", Some("not-an-id")).await.unwrap();
    assert!(everything.history_lost, "an id that is not ours");
    let mut cursor = everything.cursor;
    let first_kept: usize = next(&mut cursor).await.unwrap()[0]
        .id()
        .rsplit('-')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(first_kept > 1 && first_kept <= 391, "{first_kept}");
    // Resuming after the event before the oldest kept misses nothing.
    let clean = backplane
        .subscribe("t", Some(&ids[first_kept - 2]))
        .await
        .unwrap();
    assert!(!clean.history_lost);
    let mut cursor = clean.cursor;
    let replay = take(&mut cursor, 400 - first_kept + 1).await;
    assert_eq!(replay, numbers(first_kept..=400));
    // One earlier, and the next event is gone.
    let lost = backplane
        .subscribe("t", Some(&ids[first_kept - 3]))
        .await
        .unwrap();
    assert!(lost.history_lost);
    let mut cursor = lost.cursor;
    assert_eq!(
        take(&mut cursor, 400 - first_kept + 1).await,
        numbers(first_kept..=400)
    );
    // An id of another stream (another epoch), or from the future, or one
    // Redis cannot even range after (the largest id there is): lost, and
    // everything kept is replayed.
    let epoch: u64 = ids[0].split('-').next().unwrap().parse().unwrap();
    let max = u64::MAX;
    for other in [
        format!("{}-5", epoch - 1),
        format!("{epoch}-401"),
        format!("{max}-{max}"),
        format!("{epoch}-{max}"),
        format!("{max}-0"),
        "0-0".to_owned(),
    ] {
        let subscribed = backplane.subscribe("t", Some(&other)).await;
        let subscribed = subscribed.unwrap_or_else(|err| panic!("{other}: {err}"));
        assert!(subscribed.history_lost, "{other}");
        let mut cursor = subscribed.cursor;
        assert_eq!(
            take(&mut cursor, 400 - first_kept + 1).await,
            numbers(first_kept..=400),
            "{other}"
        );
    }
}

#[tokio::test]
async fn a_new_topic_is_read_at_once_while_the_reader_waits_on_others() {
    let Some(redis) = RedisServer::start("redis: new topic") else {
        return;
    };
    // A wait far longer than the test: only CLIENT UNBLOCK can end it.
    let backplane = RedisBackplane::builder(redis.url())
        .block(Duration::from_secs(60))
        .connect()
        .await
        .unwrap();
    let mut first = backplane.subscribe("one", None).await.unwrap().cursor;
    backplane.publish("one", body(1), None).await.unwrap();
    assert_eq!(take(&mut first, 1).await, ["1"]);
    for topic in ["two", "three", "four"] {
        let mut cursor = backplane.subscribe(topic, None).await.unwrap().cursor;
        backplane.publish(topic, body(2), None).await.unwrap();
        assert_eq!(take(&mut cursor, 1).await, ["2"], "{topic}");
    }
}

#[tokio::test]
async fn redis_restarting_loses_nothing_and_publishing_meanwhile_is_an_error() {
    let Some(mut redis) = RedisServer::start("redis: restart") else {
        return;
    };
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let mut cursor = b.subscribe("t", None).await.unwrap().cursor;
    for n in 1..=50 {
        a.publish("t", body(n), None).await.unwrap();
    }
    redis.stop();
    // The first may have been on its way when the connection broke (its
    // outcome unknown); once Redis is known to be down, nothing is sent.
    match a.publish("t", body(0), None).await {
        Err(BackplaneError::Unanswered(err) | BackplaneError::Failed(err)) => {
            eprintln!("as Redis went: {err}")
        }
        other => panic!("a publish as Redis went down: {other:?}"),
    }
    for _ in 0..3 {
        let started = std::time::Instant::now();
        match a.publish("t", body(0), None).await {
            Err(BackplaneError::Failed(err)) => eprintln!("while down: {err}"),
            other => panic!("a publish while Redis is down: {other:?}"),
        }
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "it fails at once, not after {took:?}"
        );
    }
    redis.start_again(true);
    let mut published = 50;
    while published < 100 {
        // The connection comes back on its own; until then, typed errors.
        match a.publish("t", body(published + 1), None).await {
            Ok(_) => published += 1,
            Err(BackplaneError::Failed(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(err) => panic!("{err}"),
        }
    }
    assert_eq!(
        take(&mut cursor, 100).await,
        numbers(1..=100),
        "no gap, no duplicate"
    );
}

#[tokio::test]
async fn redis_losing_its_data_is_history_lost() {
    let Some(mut redis) = RedisServer::start("redis: data lost") else {
        return;
    };
    let backplane = connect(&redis).await;
    let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
    let mut last = None;
    for n in 1..=5 {
        last = Some(backplane.publish("t", body(n), None).await.unwrap());
    }
    assert_eq!(take(&mut cursor, 5).await, numbers(1..=5));
    redis.start_again(false);
    loop {
        match backplane.publish("t", body(6), None).await {
            Ok(_) => break,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    // The reader sees a stream made again: the subscriber is told.
    match next(&mut cursor).await {
        Err(CursorError::Lagged { last_delivered }) => {
            assert_eq!(last_delivered.as_deref(), last.as_deref());
        }
        other => panic!("expected the loss to be reported: {other:?}"),
    }
    cursor.skip_to_oldest();
    assert_eq!(take(&mut cursor, 1).await, ["6"]);
    // And a client resuming with an id from before is told too.
    let resumed = backplane.subscribe("t", last.as_deref()).await.unwrap();
    assert!(resumed.history_lost);
}

#[tokio::test]
async fn entries_written_by_others_are_skipped_not_mangled() {
    let Some(redis) = RedisServer::start("redis: foreign entries") else {
        return;
    };
    let backplane = connect(&redis).await;
    let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
    let first = backplane.publish("t", body(1), None).await.unwrap();
    let epoch = first.split('-').next().unwrap();
    let client = redis_client(&redis).await;
    let mut connection = client;
    // Same numbering, wrong fields; then a well-formed one by hand.
    let _: String = redis_cmd(
        &mut connection,
        &["XADD", "sse:t", &format!("{epoch}-*"), "body", "x"],
    )
    .await;
    let _: String = redis_cmd(
        &mut connection,
        &["XADD", "sse:t", &format!("{epoch}-*"), "data", "by hand"],
    )
    .await;
    backplane.publish("t", body(4), None).await.unwrap();
    assert_eq!(take(&mut cursor, 3).await, ["1", "by hand", "4"]);
}

async fn redis_client(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn redis_cmd<T: redis::FromRedisValue>(
    connection: &mut redis::aio::MultiplexedConnection,
    args: &[&str],
) -> T {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async(connection).await.unwrap()
}

#[tokio::test]
async fn close_ends_cursors_and_refuses_publishes() {
    let Some(redis) = RedisServer::start("redis: close") else {
        return;
    };
    let backplane = connect(&redis).await;
    let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
    backplane.publish("t", body(1), None).await.unwrap();
    assert_eq!(take(&mut cursor, 1).await, ["1"]);
    backplane.close();
    assert!(matches!(
        backplane.publish("t", body(2), None).await,
        Err(BackplaneError::Closed)
    ));
    assert_eq!(next(&mut cursor).await, Err(CursorError::Closed));
}

mod scale_out {
    //! Two servers, each with its own hub on the one Redis, 100 clients
    //! over both, 10,000 events published through both hubs; one server is
    //! killed mid-stream (its clients move to the other with their
    //! `Last-Event-ID`) and Redis is restarted once. Every client ends with
    //! every event exactly once, in order.

    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use sse_runtime::client::{EventSource, Received};
    use sse_runtime::extract::State;
    use sse_runtime::hub::{Hub, PublishError, RedisBackplane};
    use sse_runtime::{sse, Server};

    use super::support::redis::RedisServer;

    #[derive(serde::Serialize)]
    struct Tick(usize);

    #[sse("/ticks", serializer = Json, events(Tick = "tick"))]
    async fn ticks(
        session: TicksSession,
        hub: State<Hub<TicksRoute>>,
    ) -> Result<(), sse_runtime::Error> {
        hub.0.subscribe().serve(&session).await?;
        Ok(())
    }

    const EVENTS: usize = 10_000;
    const CLIENTS: usize = 100;

    /// A server in a runtime of its own, so that killing it ends its
    /// connections, its hub's reader and its Redis connections at once, as
    /// a process that dies would.
    struct Instance {
        runtime: Option<tokio::runtime::Runtime>,
        addr: SocketAddr,
        hub: Hub<TicksRoute>,
    }

    impl Instance {
        fn start(url: String) -> Self {
            // Built and started on a thread of its own: the test's runtime
            // cannot block on another one.
            std::thread::spawn(move || Self::start_here(url))
                .join()
                .unwrap()
        }

        fn start_here(url: String) -> Self {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let (addr, hub) = runtime.block_on(async move {
                let backplane = RedisBackplane::builder(url)
                    .history(2 * EVENTS)
                    .connect()
                    .await
                    .unwrap();
                let hub = Hub::<TicksRoute>::with_backplane(backplane);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = Server::new().with_state(hub.clone()).route(ticks);
                tokio::spawn(server.serve_on(listener));
                (addr, hub)
            });
            Self {
                runtime: Some(runtime),
                addr,
                hub,
            }
        }

        fn kill(&mut self) {
            if let Some(runtime) = self.runtime.take() {
                runtime.shutdown_background();
            }
        }
    }

    impl Drop for Instance {
        fn drop(&mut self) {
            self.kill();
        }
    }

    /// Reads from `first`, moving to `then` with its last event id whenever
    /// a connection fails; returns every tick, in the order received.
    async fn client(first: SocketAddr, then: SocketAddr, events: usize) -> Vec<usize> {
        let mut got = Vec::with_capacity(events);
        let mut last_id = None;
        let mut addr = first;
        while got.len() < events {
            let mut builder = EventSource::builder(format!("http://{addr}/ticks"))
                .reconnection_time(Duration::from_millis(10))
                .max_attempts(0);
            if let Some(id) = &last_id {
                builder = builder.last_event_id(id);
            }
            let mut source = builder.build().unwrap();
            while let Some(received) = source.next().await {
                match received {
                    Ok(Received::Message(message)) => {
                        assert_eq!(message.event, "tick", "no history-lost");
                        got.push(message.data.parse().unwrap());
                        last_id = Some(message.last_event_id);
                        if got.len() == events {
                            return got;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            addr = then;
        }
        got
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_client_gets_every_event_once_in_order_through_a_kill_and_a_redis_restart() {
        let Some(mut redis) = RedisServer::start("redis: scale-out") else {
            return;
        };
        let mut a = Instance::start(redis.url());
        let b = Instance::start(redis.url());
        let clients: Vec<_> = (0..CLIENTS)
            .map(|n| {
                let (first, then) = match n % 2 {
                    0 => (a.addr, b.addr),
                    _ => (b.addr, a.addr),
                };
                tokio::spawn(client(first, then, EVENTS))
            })
            .collect();
        let subscribed = |hub: &Hub<TicksRoute>| hub.stats().subscribers;
        while subscribed(&a.hub) + subscribed(&b.hub) < CLIENTS as u64 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let a_alive = AtomicBool::new(true);
        let mut failed_while_down = 0;
        let mut n = 0;
        while n < EVENTS {
            if n == EVENTS / 3 {
                a.kill();
                a_alive.store(false, Ordering::Relaxed);
            }
            if n == EVENTS / 2 && failed_while_down == 0 {
                redis.stop();
                match b.hub.publish(Tick(usize::MAX)).await {
                    Err(PublishError::Backplane(_)) => failed_while_down += 1,
                    other => panic!("a publish while Redis is down: {other:?}"),
                }
                redis.start_again(true);
            }
            // Alternately through both hubs while both live.
            let hub = match n % 2 == 0 && a_alive.load(Ordering::Relaxed) {
                true => &a.hub,
                false => &b.hub,
            };
            match hub.publish(Tick(n)).await {
                Ok(_) => n += 1,
                // Redis is coming back: the caller is told, and retries.
                Err(PublishError::Backplane(_)) => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(failed_while_down, 1);

        let expected: Vec<usize> = (0..EVENTS).collect();
        for (i, client) in clients.into_iter().enumerate() {
            let got = tokio::time::timeout(Duration::from_secs(60), client)
                .await
                .unwrap_or_else(|_| panic!("client {i} got every event within 60 s"))
                .unwrap();
            assert!(
                got == expected,
                "client {i}: {} events, first difference at {:?}",
                got.len(),
                got.iter().zip(&expected).position(|(g, e)| g != e)
            );
        }
    }
}

mod interleavings {
    //! Publish, subscribe, reconnect elsewhere and trim, in any order, on two
    //! instances: every subscriber gets the events after its start in order,
    //! and skips ahead only where it was told events were lost (and is told
    //! only when it does skip).

    use std::future::poll_fn;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use proptest::prelude::*;
    use sse_runtime::hub::{Backplane, Cursor, CursorError, Entry, RedisBackplane, RedisCursor};

    use super::support::redis::RedisServer;
    use super::{body, data};

    #[derive(Clone, Debug)]
    enum Op {
        /// Publish through instance `via`.
        Publish { via: usize },
        /// A new subscriber on `via`, from the start, or resuming after the
        /// `from`-th event published so far (modulo their number).
        Subscribe { via: usize, from: Option<usize> },
        /// Subscriber `who` (modulo their number) leaves and resumes on `via`
        /// after the last event it got.
        Reconnect { who: usize, via: usize },
        /// Redis keeps only the last `keep` events (`XTRIM MAXLEN keep`).
        Trim { keep: usize },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..2usize).prop_map(|via| Op::Publish { via }),
            2 => (0..2usize, proptest::option::of(0..64usize))
                .prop_map(|(via, from)| Op::Subscribe { via, from }),
            2 => (0..8usize, 0..2usize).prop_map(|(who, via)| Op::Reconnect { who, via }),
            1 => (1..6usize).prop_map(|keep| Op::Trim { keep }),
        ]
    }

    struct Subscriber {
        cursor: RedisCursor,
        /// The number of the next event it must get (events count from 0).
        next: usize,
        /// Told that events are lost, and not yet shown a later event.
        told_lost: bool,
    }

    /// The event's number, from its data.
    fn number(entry: &Entry) -> usize {
        data(entry).parse().unwrap()
    }

    /// Reads until the subscriber has the last event published, checking
    /// each step.
    async fn drain(subscriber: &mut Subscriber, published: usize) -> Result<(), TestCaseError> {
        while subscriber.next < published {
            let mut batch = Vec::new();
            let polled = tokio::time::timeout(
                Duration::from_secs(5),
                poll_fn(|cx| subscriber.cursor.poll_next_batch(cx, &mut batch, 16)),
            )
            .await;
            let Ok(polled) = polled else {
                return Err(TestCaseError::fail(format!(
                    "stuck before event {} of {published}",
                    subscriber.next
                )));
            };
            match polled {
                Ok(()) => {
                    for entry in &batch {
                        let n = number(entry);
                        prop_assert!(n >= subscriber.next, "event {n} again, or out of order");
                        prop_assert_eq!(
                            n > subscriber.next,
                            subscriber.told_lost,
                            "skipped to {} from {} (told lost: {})",
                            n,
                            subscriber.next,
                            subscriber.told_lost
                        );
                        subscriber.next = n + 1;
                        subscriber.told_lost = false;
                    }
                }
                Err(CursorError::Lagged { .. }) => {
                    subscriber.told_lost = true;
                    subscriber.cursor.skip_to_oldest();
                }
                Err(CursorError::Closed) => return Err(TestCaseError::fail("closed")),
                Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
        }
        Ok(())
    }

    async fn run(
        instances: &[RedisBackplane; 2],
        topic: &str,
        ops: Vec<Op>,
        url: &str,
    ) -> Result<(), TestCaseError> {
        let mut redis = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let key = instances[0].key(topic);
        let mut ids: Vec<std::sync::Arc<str>> = Vec::new();
        let mut subscribers: Vec<Subscriber> = Vec::new();
        for op in ops {
            match op {
                Op::Publish { via } => {
                    ids.push(
                        instances[via]
                            .publish(topic, body(ids.len()), None)
                            .await
                            .unwrap(),
                    );
                }
                Op::Subscribe { via, from } => {
                    let from = from.filter(|_| !ids.is_empty()).map(|i| i % ids.len());
                    let last = from.map(|i| ids[i].to_string());
                    let subscribed = instances[via]
                        .subscribe(topic, last.as_deref())
                        .await
                        .unwrap();
                    subscribers.push(Subscriber {
                        cursor: subscribed.cursor,
                        next: from.map_or(ids.len(), |i| i + 1),
                        told_lost: subscribed.history_lost,
                    });
                }
                Op::Reconnect { who, via } => {
                    if subscribers.is_empty() {
                        continue;
                    }
                    let who = who % subscribers.len();
                    let mut old = subscribers.swap_remove(who);
                    // Caught up first, so that its last id is the last published.
                    drain(&mut old, ids.len()).await?;
                    let last = old.next.checked_sub(1).map(|i| ids[i].to_string());
                    drop(old.cursor);
                    let subscribed = instances[via]
                        .subscribe(topic, last.as_deref())
                        .await
                        .unwrap();
                    subscribers.push(Subscriber {
                        cursor: subscribed.cursor,
                        next: old.next,
                        told_lost: subscribed.history_lost,
                    });
                }
                Op::Trim { keep } => {
                    let _: usize = redis::cmd("XTRIM")
                        .arg(&key)
                        .arg("MAXLEN")
                        .arg(keep)
                        .query_async(&mut redis)
                        .await
                        .unwrap();
                }
            }
        }
        // One more event, so that a reader that missed trimmed ones sees the gap.
        ids.push(
            instances[0]
                .publish(topic, body(ids.len()), None)
                .await
                .unwrap(),
        );
        for subscriber in &mut subscribers {
            drain(subscriber, ids.len()).await?;
        }
        Ok(())
    }

    #[test]
    fn any_interleaving_delivers_in_order_and_reports_every_skip() {
        let Some(redis) = RedisServer::start("redis: interleavings") else {
            return;
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let url = redis.url();
        let instances = runtime.block_on(async {
            let connect = || {
                RedisBackplane::builder(url.as_str())
                    .history(1000)
                    .connect()
            };
            [connect().await.unwrap(), connect().await.unwrap()]
        });
        static CASE: AtomicUsize = AtomicUsize::new(0);
        let config = ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(ops in proptest::collection::vec(op(), 1..40))| {
            let topic = format!("case-{}", CASE.fetch_add(1, Ordering::Relaxed));
            runtime.block_on(run(&instances, &topic, ops, &url))?;
        });
    }
}

mod unavailable {
    use std::time::Duration;

    use sse_runtime::extract::{FromRef, State};
    use sse_runtime::hub::{Ended, Hub, RedisBackplane};
    use sse_runtime::{sse, Server};
    use tokio::sync::mpsc;

    use super::support::http::{open, start};
    use super::support::redis::RedisServer;

    #[derive(Clone, FromRef)]
    struct App {
        hub: Hub<NotesRoute>,
        ended: mpsc::UnboundedSender<Ended>,
    }

    #[sse("/notes")]
    async fn notes(
        session: NotesSession,
        hub: State<Hub<NotesRoute>>,
        ended: State<mpsc::UnboundedSender<Ended>>,
    ) -> Result<(), sse_runtime::Error> {
        let how = hub.0.subscribe().serve(&session).await?;
        let _ = ended.0.send(how);
        Ok(())
    }

    #[tokio::test]
    async fn a_subscribe_while_redis_is_down_ends_the_stream_as_unavailable() {
        let Some(mut redis) = RedisServer::start("redis: unavailable") else {
            return;
        };
        let backplane = RedisBackplane::builder(redis.url())
            .connect()
            .await
            .unwrap();
        let (sender, mut ended) = mpsc::unbounded_channel();
        let app = App {
            hub: Hub::with_backplane(backplane),
            ended: sender,
        };
        let server = start(Server::new().with_state(app).route(notes)).await;
        redis.stop();
        let mut stream = open(server.addr, "/notes").await;
        tokio::time::timeout(Duration::from_secs(10), stream.body_end())
            .await
            .expect("the stream ends");
        assert_eq!(ended.recv().await, Some(Ended::Unavailable));
    }
}

#[tokio::test]
async fn a_publish_retried_with_its_key_while_redis_is_frozen_is_stored_once() {
    let Some(redis) = RedisServer::start("redis: frozen") else {
        return;
    };
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let mut cursor = b.subscribe("t", None).await.unwrap().cursor;
    a.publish("t", body(1), Some("m-1")).await.unwrap();
    redis.freeze();
    // No answer: Redis has the command and will run it once thawed, so the
    // error says the outcome is unknown; the publisher retries.
    for _ in 0..2 {
        match a.publish("t", body(2), Some("m-2")).await {
            Err(BackplaneError::Unanswered(err)) => eprintln!("while frozen: {err}"),
            other => panic!("a publish to a frozen Redis: {other:?}"),
        }
    }
    redis.thaw();
    let id = loop {
        match a.publish("t", body(2), Some("m-2")).await {
            Ok(id) => break id,
            Err(BackplaneError::Unanswered(_) | BackplaneError::Failed(_)) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(err) => panic!("{err}"),
        }
    };
    // Another instance's retry of an older message, much later: still once.
    let again = b.publish("t", body(1), Some("m-1")).await.unwrap();
    a.publish("t", body(3), None).await.unwrap();
    assert_eq!(
        take(&mut cursor, 3).await,
        ["1", "2", "3"],
        "every message once"
    );
    let mut client = redis_client(&redis).await;
    let len: usize = redis_cmd(&mut client, &["XLEN", "sse:t"]).await;
    assert_eq!(len, 3);
    assert_ne!(id, again);
    let kept: String = redis_cmd(&mut client, &["GET", "sse:t\0m-2"]).await;
    assert_eq!(kept, &*id, "the key names the event it published");
    let ttl: i64 = redis_cmd(&mut client, &["PTTL", "sse:t\0m-2"]).await;
    assert!(ttl > 0 && ttl <= 600_000, "kept for the window: {ttl} ms");
}

#[tokio::test]
async fn a_backplane_that_cannot_reach_redis_says_so_at_once_and_where() {
    let Some(mut redis) = RedisServer::start("redis: unreachable at start") else {
        return;
    };
    let url = redis.url();
    redis.freeze();
    let started = std::time::Instant::now();
    let frozen = RedisBackplane::builder(&url).connect().await.unwrap_err();
    let took = started.elapsed();
    eprintln!("frozen: {frozen} after {took:?}");
    assert!(
        frozen.to_string().contains(&format!("Redis at {url}")),
        "{frozen}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
    redis.stop();
    let started = std::time::Instant::now();
    let down = RedisBackplane::builder(&url).connect().await.unwrap_err();
    let took = started.elapsed();
    eprintln!("down: {down} after {took:?}");
    assert!(
        down.to_string().contains(&format!("Redis at {url}")),
        "{down}"
    );
    assert!(took < Duration::from_secs(1), "refused at once: {took:?}");
    let secret = url.replace("redis://", "redis://:s3cret@");
    let hidden = RedisBackplane::builder(secret).connect().await.unwrap_err();
    assert!(!hidden.to_string().contains("s3cret"), "{hidden}");
}

mod refused {
    //! A publish Redis refuses (out of memory) stores nothing, says so, and
    //! is logged once per outage with Redis's own error.

    use sse_runtime::hub::{Hub, PublishOutcome, RedisBackplane};
    use sse_runtime::sse;

    use super::support::redis::RedisServer;
    use super::support::traces::Recorded;
    use super::{redis_client, redis_cmd};

    #[derive(serde::Serialize)]
    struct Note(u32);

    /// A route, for its hub's type (never served).
    #[sse("/notes", serializer = Json, events(Note = "note"))]
    async fn notes(_session: NotesSession) {}

    const FAILED: &str =
        "hub: a publish failed; further failures are counted, not logged, until one succeeds";

    #[tokio::test]
    async fn a_publish_redis_refuses_is_not_published_and_logged_once_per_outage() {
        let Some(redis) = RedisServer::start("redis: out of memory") else {
            return;
        };
        let recorded = Recorded::default();
        let _default = tracing::subscriber::set_default(recorded.clone());
        let backplane = RedisBackplane::builder(redis.url())
            .connect()
            .await
            .unwrap();
        let _never_served = notes;
        let hub = Hub::<NotesRoute>::with_backplane(backplane);
        hub.publish(Note(1)).await.unwrap();
        let mut client = redis_client(&redis).await;
        let full = |limit: &'static str| ["CONFIG", "SET", "maxmemory", limit];
        let _: () = redis_cmd(
            &mut client,
            &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        )
        .await;
        for outage in 1..=2 {
            let _: () = redis_cmd(&mut client, &full("1")).await;
            for _ in 0..5 {
                let err = hub.publish(Note(2)).await.unwrap_err();
                assert_eq!(err.outcome(), PublishOutcome::NotPublished, "{err}");
                assert!(err.to_string().contains("OOM"), "Redis's own error: {err}");
            }
            let logged = recorded.events(FAILED);
            assert_eq!(logged.len(), outage, "once per outage");
            let last = &logged[outage - 1].fields;
            assert!(last["error"].contains("OOM"), "{last:?}");
            assert_eq!(last["outcome"], "not_published");
            assert_eq!(last["hub"], "NotesRoute");
            let _: () = redis_cmd(&mut client, &full("0")).await;
            hub.publish(Note(3)).await.unwrap();
            assert_eq!(recorded.events("hub: publishing works again").len(), outage);
        }
        let len: usize = redis_cmd(&mut client, &["XLEN", "sse:"]).await;
        assert_eq!(len, 3, "nothing refused was stored");
    }
}
