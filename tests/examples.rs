//! Runs the example programs as a user would (built by `cargo test`), on a free
//! port, and checks what they serve and that Ctrl-C stops them cleanly.

mod support;

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use sse_runtime::client::EventSource;
use support::example::Example;
use support::http::{get, open, post_json, post_json_text, request, text};

#[test]
fn every_example_queues_a_reconnect_storm_before_it_accepts() {
    let cap: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(u32::MAX);
    let want = sse_runtime::server::DEFAULT_BACKLOG.min(cap);
    for name in [
        "events",
        "serialization",
        "completions",
        "chat",
        "llm",
        "axum",
    ] {
        let example = Example::start(name);
        assert_eq!(example.listen_queue(), want, "{name}");
        example.interrupt();
    }
}

#[tokio::test]
async fn events_sends_six_demo_events_one_second_apart_then_closes() {
    let example = Example::start("events");
    let mut stream = open(example.addr, "/events").await;
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    let mut arrivals = Vec::new();
    while let Some(block) = stream.next_block_within(Duration::from_secs(5)).await {
        arrivals.push((Instant::now(), block));
    }
    let data: Vec<&str> = arrivals.iter().map(|(_, b)| b.as_str()).collect();
    let want: Vec<String> = (0..6).map(|n| format!("data: demo{n}\n\n")).collect();
    assert_eq!(data, want);
    for pair in arrivals.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= Duration::from_millis(900) && gap < Duration::from_millis(2500),
            "{gap:?}"
        );
    }
    example.interrupt();
}

#[tokio::test]
async fn serialization_sends_typed_json_events_with_names() {
    let example = Example::start("serialization");
    let mut stream = open(example.addr, "/serialization").await;
    assert_eq!(
        stream.rest().await,
        "event: customer\ndata: {\"id\":0,\"firstName\":\"Jet\",\"lastName\":\"Brains\"}\n\n\
         event: product\ndata: {\"id\":0,\"prices\":[100,200]}\n\n"
    );
    example.interrupt();
}

#[tokio::test]
async fn completions_streams_a_post_word_by_word_or_answers_it_whole() {
    let example = Example::start("completions");
    let addr = example.addr;
    // What the README's `curl -N -d ...` sends.
    let curl = |body: &str| {
        let body = body.to_owned();
        async move {
            let post = http::Request::post(format!("http://{addr}/v1/completions"))
                .header("host", addr.to_string())
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                .unwrap();
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            text(sender.send_request(post).await.unwrap()).await
        }
    };
    let (status, headers, body) = curl(r#"{"prompt": "hello there"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(
        body,
        "data: {\"text\":\"HELLO\"}\n\ndata: {\"text\":\"THERE\"}\n\n"
    );
    let (status, headers, body) = curl(r#"{"prompt": "hello there", "stream": false}"#).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body, r#"{"text":"HELLO THERE"}"#);
    let (status, _, body) = curl(r#"{"prompt": 7}"#).await;
    assert_eq!(status, 422, "{body}");
    example.interrupt();
}

#[tokio::test]
async fn chat_serves_its_page_relays_typed_events_and_resumes() {
    let example = Example::start_with("chat", 0, &quick_leave());
    let addr = example.addr;
    let (status, headers, page) = text(request(addr, get(addr, "/", &[])).await).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(page.contains("new EventSource(\"/chat?name=\""));

    let chat = |query: &str| {
        EventSource::builder(format!("http://{addr}/chat?{query}"))
            .build()
            .unwrap()
    };
    let said = r#"{"name":"bo","text":"hi\nthere"}"#;
    let mut ana = chat("name=ana");
    assert_eq!(event(&mut ana).await, ("join", r#"{"name":"ana"}"#.into()));
    let mut bo = chat("name=bo");
    assert_eq!(event(&mut bo).await, ("join", r#"{"name":"bo"}"#.into()));
    assert_eq!(event(&mut ana).await, ("join", r#"{"name":"bo"}"#.into()));
    let joined_bo = ana.last_event_id().to_owned();

    assert_eq!(post_json(addr, "/send", said).await, 204);
    assert_eq!(event(&mut ana).await, ("message", said.into()));
    assert_eq!(event(&mut bo).await, ("message", said.into()));
    drop(bo);
    assert_eq!(event(&mut ana).await, ("leave", r#"{"name":"bo"}"#.into()));

    // A reloaded page passes the last id it saw and gets exactly what
    // followed; it is someone already here, so it announces nothing.
    let mut back = chat(&format!("name=cy&last={joined_bo}"));
    assert_eq!(event(&mut back).await, ("message", said.into()));
    assert_eq!(event(&mut back).await, ("leave", r#"{"name":"bo"}"#.into()));

    // Its metrics, in the Prometheus text format, on the page's port.
    let (status, headers, metrics) = text(request(addr, get(addr, "/metrics", &[])).await).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/plain; version=0.0.4");
    for line in [
        "# TYPE sse_streams_opened_total counter",
        "sse_streams_opened_total{route=\"/chat\"} 3",
        "sse_streams_open{route=\"/chat\"} 2",
        "sse_hub_published_total{hub=\"ChatRoute\"} 4",
        "sse_streams_ended_total{route=\"/chat\",reason=\"client_left\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line:?} not in\n{metrics}"
        );
    }
    drop((ana, back));
    example.interrupt();
}

#[tokio::test]
async fn chat_instances_sharing_redis_are_one_room() {
    let Some(redis) = support::redis::RedisServer::start("chat over Redis") else {
        return;
    };
    let url = redis.url();
    let env = [
        ("REDIS_URL", std::ffi::OsStr::new(&url)),
        ("CHAT_LEAVE_AFTER_MS", std::ffi::OsStr::new("100")),
    ];
    let one = Example::start_with("chat", 0, &env);
    let two = Example::start_with("chat", 0, &env);
    let chat = |addr: std::net::SocketAddr, query: &str| {
        EventSource::builder(format!("http://{addr}/chat?{query}"))
            .build()
            .unwrap()
    };
    let mut ana = chat(one.addr, "name=ana");
    assert_eq!(event(&mut ana).await, ("join", r#"{"name":"ana"}"#.into()));
    let mut bo = chat(two.addr, "name=bo");
    assert_eq!(event(&mut bo).await, ("join", r#"{"name":"bo"}"#.into()));
    assert_eq!(event(&mut ana).await, ("join", r#"{"name":"bo"}"#.into()));
    let joined_bo = ana.last_event_id().to_owned();

    // Posted to one instance, read on both.
    let said = r#"{"name":"ana","text":"hello, two"}"#;
    assert_eq!(post_json(one.addr, "/send", said).await, 204);
    assert_eq!(event(&mut ana).await, ("message", said.into()));
    assert_eq!(event(&mut bo).await, ("message", said.into()));
    let answer = r#"{"name":"bo","text":"hello, one"}"#;
    assert_eq!(post_json(two.addr, "/send", answer).await, 204);
    assert_eq!(event(&mut ana).await, ("message", answer.into()));
    assert_eq!(event(&mut bo).await, ("message", answer.into()));

    // A page that saw events on instance one resumes on instance two with
    // exactly what it missed.
    let mut back = chat(two.addr, &format!("name=cy&last={joined_bo}"));
    assert_eq!(event(&mut back).await, ("message", said.into()));
    assert_eq!(event(&mut back).await, ("message", answer.into()));
    drop((ana, bo, back));
    one.interrupt();
    two.interrupt();
}

#[tokio::test]
async fn chat_announces_a_leave_for_every_join_even_when_clients_leave_at_once() {
    use tokio::io::AsyncWriteExt;
    let example = Example::start_with("chat", 0, &quick_leave());
    let addr = example.addr;
    let mut watcher = EventSource::builder(format!("http://{addr}/chat?name=watcher"))
        .build()
        .unwrap();
    assert_eq!(event(&mut watcher).await.0, "join");
    // Clients that leave as soon as they asked: some before the handler's
    // first send, some while it serves them.
    const QUICK: usize = 20;
    for i in 0..QUICK {
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!("GET /chat?name=quick{i} HTTP/1.1\r\nHost: a\r\n\r\n");
        conn.write_all(head.as_bytes()).await.unwrap();
        drop(conn);
    }
    let (mut joins, mut leaves) = (0, 0);
    while joins < QUICK || leaves < joins {
        let (kind, data) = tokio::time::timeout(Duration::from_secs(10), event(&mut watcher))
            .await
            .unwrap_or_else(|_| panic!("{joins} joins but only {leaves} leaves"));
        if data.contains("quick") {
            match kind {
                "join" => joins += 1,
                "leave" => leaves += 1,
                _ => {}
            }
        }
    }
    assert_eq!((joins, leaves), (QUICK, QUICK));
    drop(watcher);
    example.interrupt();
}

#[tokio::test]
async fn axum_serves_the_route_behind_a_bearer_check_with_cors_for_its_front_end() {
    use http_body_util::Empty;
    let example = Example::start("axum");
    let addr = example.addr;
    let (status, headers, page) = text(request(addr, get(addr, "/", &[])).await).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.contains("/events"), "{page}");

    // No token, or another: 401, saying which scheme.
    for token in [None, Some(&b"Bearer nope"[..])] {
        let extra: Vec<(&str, &[u8])> = token.map(|t| ("authorization", t)).into_iter().collect();
        let (status, headers, _) = text(request(addr, get(addr, "/events", &extra)).await).await;
        assert_eq!(status, 401);
        assert_eq!(headers["www-authenticate"], "Bearer");
    }

    // The front end's preflight, answered by the CORS layer.
    let preflight = http::Request::builder()
        .method("OPTIONS")
        .uri(format!("http://{addr}/events"))
        .header("host", addr.to_string())
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .body(Empty::new())
        .unwrap();
    let (status, headers, _) = text(request(addr, preflight).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));

    // The stream: typed JSON ticks, one a second, readable from that origin.
    let token: &[(&str, &[u8])] = &[
        ("authorization", b"Bearer demo"),
        ("origin", b"http://localhost:3000"),
    ];
    let mut stream =
        support::http::EventStream::new(request(addr, get(addr, "/events", token)).await);
    assert_eq!(stream.head.status, 200);
    assert_eq!(stream.head.headers["content-type"], "text/event-stream");
    assert_eq!(
        stream.head.headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let started = Instant::now();
    assert_eq!(
        stream.next_block().await.unwrap(),
        "event: tick\ndata: {\"n\":1}\n\n"
    );
    assert_eq!(
        stream.next_block().await.unwrap(),
        "event: tick\ndata: {\"n\":2}\n\n"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    drop(stream);
    example.interrupt();
}

/// Leaves announced 100 ms after a person's last page closed (5 s by default).
fn quick_leave() -> [(&'static str, &'static OsStr); 1] {
    [("CHAT_LEAVE_AFTER_MS", OsStr::new("100"))]
}

/// A chat client named by `query`'s `name`.
fn chat_client(addr: std::net::SocketAddr, query: &str) -> EventSource {
    EventSource::builder(format!("http://{addr}/chat?{query}"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn chat_a_reconnect_is_the_same_person_and_a_leave_waits_for_the_last_page() {
    let leave_after = Duration::from_millis(1500);
    let env = [("CHAT_LEAVE_AFTER_MS", OsStr::new("1500"))];
    let example = Example::start_with("chat", 0, &env);
    let addr = example.addr;
    let mut ana = chat_client(addr, "name=ana");
    assert_eq!(event(&mut ana).await, ("join", r#"{"name":"ana"}"#.into()));
    let mut bo = chat_client(addr, "name=bo");
    assert_eq!(event(&mut bo).await, ("join", r#"{"name":"bo"}"#.into()));
    assert_eq!(event(&mut ana).await, ("join", r#"{"name":"bo"}"#.into()));
    let seen = bo.last_event_id().to_owned();

    // Bo's connection drops and comes back with `Last-Event-ID` (what
    // `EventSource` does); a second tab of theirs opens: the same person.
    drop(bo);
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("GET /chat?name=bo HTTP/1.1\r\nHost: a\r\nLast-Event-ID: {seen}\r\n\r\n");
    tokio::io::AsyncWriteExt::write_all(&mut conn, head.as_bytes())
        .await
        .unwrap();
    let second_tab = chat_client(addr, "name=bo");
    let said = r#"{"name":"ana","text":"still there?"}"#;
    tokio::time::sleep(leave_after + Duration::from_millis(500)).await;
    assert_eq!(post_json(addr, "/send", said).await, 204);
    assert_eq!(
        event(&mut ana).await,
        ("message", said.into()),
        "no leave, no join: nobody came or went"
    );

    // Both of bo's pages close: one leave, once the last has been gone a while.
    let closed = Instant::now();
    drop((conn, second_tab));
    assert_eq!(event(&mut ana).await, ("leave", r#"{"name":"bo"}"#.into()));
    assert!(closed.elapsed() >= leave_after, "{:?}", closed.elapsed());
    assert_eq!(post_json(addr, "/send", said).await, 204);
    assert_eq!(event(&mut ana).await, ("message", said.into()), "one leave");
    drop(ana);
    example.interrupt();
}

#[tokio::test]
async fn chat_tells_a_sender_why_redis_did_not_take_a_message_and_a_retry_appears_once() {
    let Some(redis) = support::redis::RedisServer::start("chat: Redis frozen, full") else {
        return;
    };
    let url = redis.url();
    // Ana's own stream may end while Redis is frozen (its subscription
    // cannot be served) and come back after it: a pause that long is not
    // her leaving, which this test is not about.
    let env = [
        ("REDIS_URL", OsStr::new(&url)),
        ("CHAT_LEAVE_AFTER_MS", OsStr::new("60000")),
    ];
    let example = Example::start_with("chat", 0, &env);
    let addr = example.addr;
    let mut ana = chat_client(addr, "name=ana");
    assert_eq!(event(&mut ana).await, ("join", r#"{"name":"ana"}"#.into()));

    // Frozen: no answer in time, so the message may yet appear, and the
    // sender is told to send it again with its id.
    let first = r#"{"name":"ana","text":"one","id":"m-1"}"#;
    redis.freeze();
    for _ in 0..2 {
        let (status, why) = post_json_text(addr, "/send", first).await;
        assert_eq!(status, 503, "{why}");
        assert!(why.contains("may still appear"), "{why}");
        assert!(why.contains("the same \"id\""), "{why}");
    }
    redis.thaw();
    let deadline = Instant::now() + Duration::from_secs(10);
    while post_json(addr, "/send", first).await != 204 {
        assert!(Instant::now() < deadline, "Redis is back within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = r#"{"name":"ana","text":"two","id":"m-2"}"#;
    assert_eq!(post_json(addr, "/send", second).await, 204);
    let text = |m: &str| format!(r#"{{"name":"ana","text":"{m}"}}"#);
    assert_eq!(event(&mut ana).await, ("message", text("one")));
    assert_eq!(event(&mut ana).await, ("message", text("two")), "once");

    // Full: Redis refuses, so nothing was sent, and the sender is told why.
    let mut client = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let full = |limit: &str| {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("SET").arg("maxmemory").arg(limit);
        cmd
    };
    let _: () = full("1").query_async(&mut client).await.unwrap();
    let (status, why) = post_json_text(addr, "/send", r#"{"name":"ana","text":"three"}"#).await;
    assert_eq!(status, 503, "{why}");
    assert!(why.contains("was not sent") && why.contains("OOM"), "{why}");
    let _: () = full("0").query_async(&mut client).await.unwrap();
    let fourth = r#"{"name":"ana","text":"four"}"#;
    assert_eq!(post_json(addr, "/send", fourth).await, 204);
    assert_eq!(event(&mut ana).await, ("message", text("four")));
    drop(ana);
    example.interrupt();
}

#[test]
fn chat_with_redis_unreachable_exits_at_once_naming_redis_and_where() {
    let Some(redis) = support::redis::RedisServer::start("chat: Redis down at start") else {
        return;
    };
    let url = redis.url();
    redis.freeze();
    let mut redis = Some(redis);
    // Frozen: the connection opens but nothing answers. Down: refused.
    for (state, limit) in [("frozen", 6), ("down", 2)] {
        if state == "down" {
            drop(redis.take());
        }
        let env = [("REDIS_URL", OsStr::new(&url))];
        let (status, stdout, stderr, took) =
            Example::run_to_exit("chat", &env, Duration::from_secs(30));
        assert!(!status.success(), "{state}");
        assert!(
            stderr.contains(&format!(
                "chat: backplane failure: cannot connect to Redis at {url}"
            )),
            "{state}: {stderr}"
        );
        assert!(
            !stdout.contains("listening"),
            "{state}: it never listened: {stdout}"
        );
        assert!(took < Duration::from_secs(limit), "{state}: {took:?}");
    }
}

/// The next message's event name and data.
async fn event(events: &mut EventSource) -> (&'static str, String) {
    let message = tokio::time::timeout(Duration::from_secs(5), events.next_message())
        .await
        .expect("an event in time")
        .expect("the client goes on")
        .expect("no error");
    let name = match message.event.as_str() {
        "join" => "join",
        "message" => "message",
        "leave" => "leave",
        other => panic!("unexpected event {other:?}"),
    };
    (name, message.data)
}

#[tokio::test]
async fn chat_serves_https_over_http2_and_http1_with_a_certificate() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let cert = support::tls::cert();
    let dir = std::env::temp_dir().join(format!("sse-chat-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, &cert.cert_pem).unwrap();
    std::fs::write(&key_file, &cert.key_pem).unwrap();
    let example = Example::start_with(
        "chat",
        0,
        &[
            ("TLS_CERT", cert_file.as_os_str()),
            ("TLS_KEY", key_file.as_os_str()),
        ],
    );
    let addr = example.addr;

    // HTTP/2: the stream.
    let tls = support::tls::connect(addr, &[b"h2"]).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let response = sender
        .send_request(get(addr, "/chat?name=ana", &[]))
        .await
        .unwrap();
    let mut stream = support::http::EventStream::new(response);
    assert_eq!(stream.head.version, http::Version::HTTP_2);
    // Reconnects are spread over 1 to 3 s.
    let retry = stream.next_block().await.unwrap();
    let ms: u64 = retry
        .trim()
        .strip_prefix("retry: ")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1000..=3000).contains(&ms), "{retry:?}");
    let block = stream.next_block().await.unwrap();
    assert!(
        block.contains("event: join") && block.contains("ana"),
        "{block}"
    );

    // HTTP/1.1: the page.
    let tls = support::tls::connect(addr, &[b"http/1.1"]).await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let (status, _, page) = text(sender.send_request(get(addr, "/", &[])).await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains("new EventSource"));
    drop(stream);
    example.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}
