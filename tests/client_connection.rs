//! The client's connection behaviour against every case of the vendored
//! `connection_cases.json`: a scripted HTTP/1.1 server on loopback answers as
//! the case says, and the client must open, dispatch, reconnect (with
//! `Last-Event-ID`), follow redirects, or stop, as a browser's `EventSource`
//! does.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use sse_runtime::client::{ClientError, EventSource, Received};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request the scripted server received.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// Serves `case["response"]` to the first request for `/events`,
/// `reconnect_response` (if any) to later ones, and `then` to `/stream`,
/// each on its own connection, closed after the body.
async fn scripted(case: Value) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let request = parse_head(&head);
            let earlier = log.lock().unwrap().len();
            let response = &case["response"];
            let answer = if request.path == "/stream" {
                &response["then"]
            } else if earlier > 0 && response.get("reconnect_response").is_some() {
                &response["reconnect_response"]
            } else {
                response
            };
            log.lock().unwrap().push(request);
            let _ = socket.write_all(&http_response(answer)).await;
            let _ = socket.shutdown().await;
        }
    });
    (addr, seen)
}

fn parse_head(head: &[u8]) -> Seen {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = String::from_utf8_lossy(lines.next().unwrap()).into_owned();
    let path = request_line.split(' ').nth(1).unwrap().to_owned();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let colon = line.iter().position(|&b| b == b':').unwrap();
            let name = String::from_utf8_lossy(&line[..colon]).into_owned();
            (name, line[colon + 1..].trim_ascii().to_vec())
        })
        .collect();
    Seen { path, headers }
}

fn http_response(answer: &Value) -> Vec<u8> {
    let status = answer["status"].as_u64().unwrap();
    let mut out = format!("HTTP/1.1 {status} Scripted\r\nconnection: close\r\n");
    if let Some(content_type) = answer["content_type"].as_str() {
        out += &format!("content-type: {content_type}\r\n");
    }
    if let Some(location) = answer["location"].as_str() {
        out += &format!("location: {location}\r\n");
    }
    out += "\r\n";
    if status != 204 {
        out += answer["body"].as_str().unwrap_or("");
    }
    out.into_bytes()
}

/// Everything the client yields until it stops or goes quiet.
async fn drain(events: &mut EventSource, until: impl Fn(&[Item]) -> bool) -> Vec<Item> {
    let mut items = Vec::new();
    while !until(&items) {
        match tokio::time::timeout(Duration::from_secs(5), events.next()).await {
            Ok(Some(Ok(received))) => items.push(Item::Ok(received)),
            Ok(Some(Err(err))) => items.push(Item::Err(err)),
            Ok(None) => {
                items.push(Item::End);
                break;
            }
            Err(_) => panic!("client went quiet after {items:?}"),
        }
    }
    items
}

#[derive(Debug)]
enum Item {
    Ok(Received),
    Err(ClientError),
    End,
}

fn opens(items: &[Item]) -> usize {
    items
        .iter()
        .filter(|i| matches!(i, Item::Ok(Received::Open)))
        .count()
}

fn messages(items: &[Item]) -> Vec<&sse_runtime::client::Message> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Ok(Received::Message(m)) => Some(m),
            _ => None,
        })
        .collect()
}

fn stops(items: &[Item]) -> bool {
    matches!(items.last(), Some(Item::End))
}

/// What only a browser does: CORS preflights for cross-origin requests.
const BROWSER_ONLY: &[&str] =
    &["cross-origin reconnect with CORS-unsafe Last-Event-ID needs preflight"];

#[tokio::test]
async fn connection_cases() {
    let cases = support::conformance("connection_cases.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 17);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        if BROWSER_ONLY.contains(&name) {
            eprintln!("not applicable outside a browser: {name}");
            continue;
        }
        run_case(name, case).await;
    }
}

async fn run_case(name: &str, case: &Value) {
    let expected = &case["expected"];
    let (addr, seen) = scripted(case.clone()).await;
    let mut events = EventSource::builder(format!("http://{addr}/events"))
        .reconnection_time(Duration::from_millis(20))
        .build()
        .unwrap();

    let succeeds = expected["open_event"] != false && expected["ready_state_after"] != "CLOSED"
        || expected["reconnects"] == "once, then stops";
    if !succeeds {
        // Failed for good: one error, then nothing, and no second request.
        let items = drain(&mut events, stops).await;
        assert!(
            matches!(&items[..], [Item::Err(err), Item::End] if err.is_terminal()),
            "{name}: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(seen.lock().unwrap().len(), 1, "{name}: reconnected");
        return;
    }

    // Cases that list no messages expect what their body holds.
    let body = case["response"]["body"].as_str().unwrap_or("");
    let in_body = support::parser::parse(body.as_bytes(), "").events;
    let want: Vec<&str> = match expected["messages"].as_array() {
        Some(listed) => listed.iter().map(|d| d.as_str().unwrap()).collect(),
        None => in_body.iter().map(|m| m.data.as_str()).collect(),
    };
    let items = drain(&mut events, |items| messages(items).len() == want.len()).await;
    assert!(
        matches!(items.first(), Some(Item::Ok(Received::Open))),
        "{name}: {items:?}"
    );
    let data: Vec<&str> = messages(&items).iter().map(|m| m.data.as_str()).collect();
    assert_eq!(data, want, "{name}: messages");
    if let Some(id) = expected["lastEventId"].as_str() {
        assert_eq!(messages(&items)[0].last_event_id, id, "{name}: lastEventId");
    }
    if expected.get("origin").is_some() || case["response"].get("then").is_some() {
        assert_eq!(events.url().path(), "/stream", "{name}: final URL");
    }

    if expected.get("ready_state_after_close").is_some() {
        events.close();
        assert!(events.next().await.is_none(), "{name}: events after close");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "{name}: reconnected after close"
        );
        return;
    }

    // The body ended: the client reconnects, to the original URL.
    let after = drain(&mut events, |items| opens(items) == 1 || stops(items)).await;
    let requests = seen.lock().unwrap().clone();
    let first = &requests[0];
    assert_eq!(
        first.header("accept"),
        Some(&b"text/event-stream"[..]),
        "{name}"
    );
    assert_eq!(first.header("last-event-id"), None, "{name}");
    let reconnect = requests.iter().rfind(|r| r.path == "/events").unwrap();
    assert!(requests.len() >= 2, "{name}: no reconnect");
    if let Some(headers) = case.pointer("/request_expectations/second_request_headers") {
        let want = match &headers["Last-Event-ID"] {
            Value::Null => None,
            // The vectors spell the expected bytes out after the text.
            Value::String(text) => Some(text.split(" as ").next().unwrap().as_bytes()),
            other => panic!("{other}"),
        };
        assert_eq!(
            reconnect.header("last-event-id"),
            want,
            "{name}: Last-Event-ID"
        );
    }
    if expected["reconnects"] == "once, then stops" {
        assert!(
            matches!(&after[..], [Item::Err(ClientError::Status(s)), Item::End] if s.as_u16() == 204),
            "{name}: {after:?}"
        );
    } else {
        assert!(
            matches!(&after[..], [Item::Ok(Received::Open)]),
            "{name}: {after:?}"
        );
        events.close();
        assert!(events.next().await.is_none(), "{name}");
    }
}

#[tokio::test]
async fn too_many_redirects_stop() {
    // A redirect loop: /events → /events.
    let case = serde_json::json!({
        "response": { "status": 302, "location": "/events" },
    });
    let (addr, seen) = scripted(case).await;
    let mut events = EventSource::builder(format!("http://{addr}/events"))
        .max_redirects(3)
        .build()
        .unwrap();
    let items = drain(&mut events, stops).await;
    assert!(
        matches!(&items[..], [Item::Err(ClientError::Redirect(_)), Item::End]),
        "{items:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn gives_up_after_the_allowed_attempts() {
    // A port nobody listens on: every attempt fails to connect.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let mut events = EventSource::builder(format!("http://{addr}/events"))
        .reconnection_time(Duration::from_millis(1))
        .max_attempts(3)
        .build()
        .unwrap();
    let items = drain(&mut events, stops).await;
    assert!(
        matches!(
            &items[..],
            [
                Item::Err(ClientError::GaveUp { attempts: 3, .. }),
                Item::End
            ]
        ),
        "{items:?}"
    );
}

#[tokio::test]
async fn no_attempts_means_the_stream_just_ends() {
    let case = serde_json::json!({
        "response": { "status": 200, "content_type": "text/event-stream", "body": "data: once\n\n" },
    });
    let (addr, seen) = scripted(case).await;
    let mut events = EventSource::builder(format!("http://{addr}/events"))
        .max_attempts(0)
        .build()
        .unwrap();
    let items = drain(&mut events, stops).await;
    assert_eq!(opens(&items), 1);
    assert_eq!(messages(&items).len(), 1);
    assert!(stops(&items), "{items:?}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn comments_and_retries_are_shown_when_asked() {
    let case = serde_json::json!({
        "response": {
            "status": 200, "content_type": "text/event-stream",
            "body": ": hello\nretry: 1234\ndata: x\n\n",
        },
    });
    let (addr, _) = scripted(case).await;
    let mut events = EventSource::builder(format!("http://{addr}/events"))
        .comments(true)
        .retry_events(true)
        .max_attempts(0)
        .build()
        .unwrap();
    let items = drain(&mut events, stops).await;
    let shown: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    assert_eq!(
        shown,
        [
            "Ok(Open)",
            "Ok(Comment(\"hello\"))",
            "Ok(Retry(1.234s))",
            "Ok(Message(Message { event: \"message\", data: \"x\", last_event_id: \"\" }))",
            "End",
        ]
    );
    assert_eq!(events.reconnection_time(), Duration::from_millis(1234));
}
