//! Runs the example programs as a user would (built by `cargo test`), on a free
//! port, and checks what they serve and that Ctrl-C stops them cleanly.

mod support;

use std::time::{Duration, Instant};

use support::example::Example;
use support::http::{get, open, request, text};

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
async fn chat_serves_its_page_and_relays_typed_events() {
    let example = Example::start("chat");
    let addr = example.addr;
    let (status, headers, page) = text(request(addr, get(addr, "/", &[])).await).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(page.contains("new EventSource(\"/chat?name=\""));

    let mut ana = open(addr, "/chat?name=ana").await;
    assert_eq!(
        ana.next_block().await.unwrap(),
        "event: join\ndata: {\"name\":\"ana\"}\n\n"
    );
    let mut bo = open(addr, "/chat?name=bo").await;
    assert_eq!(
        bo.next_block().await.unwrap(),
        "event: join\ndata: {\"name\":\"bo\"}\n\n"
    );
    assert_eq!(
        ana.next_block().await.unwrap(),
        "event: join\ndata: {\"name\":\"bo\"}\n\n"
    );

    let post = http::Request::post(format!("http://{addr}/send"))
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            r#"{"name":"bo","text":"hi\nthere"}"#,
        )))
        .unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    assert_eq!(sender.send_request(post).await.unwrap().status(), 204);

    let said = "event: message\ndata: {\"name\":\"bo\",\"text\":\"hi\\nthere\"}\n\n";
    assert_eq!(ana.next_block().await.unwrap(), said);
    assert_eq!(bo.next_block().await.unwrap(), said);
    drop(bo);
    assert_eq!(
        ana.next_block().await.unwrap(),
        "event: leave\ndata: {\"name\":\"bo\"}\n\n"
    );
    drop(ana);
    example.interrupt();
}
