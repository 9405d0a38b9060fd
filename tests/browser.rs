//! End-to-end: headless Chromium, driven over WebDriver (chromedriver), against
//! the flagship chat example and the two Ktor samples. What the page's own
//! `EventSource` receives is compared with what the examples send.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; override with `CHROMIUM` and `CHROMEDRIVER`).
//! Without them each test prints a skip notice and passes, unless
//! `SSE_REQUIRE_BROWSER=1` (set by `.ci/run`) makes the skip a failure.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use support::example::Example;

/// The flags that work on our machines and in CI: as root, offline, no GPU.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// A chromedriver process, the Chromium it started, and its throwaway profile.
struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
}

fn program(variable: &str, default: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os(variable).unwrap_or_else(|| default.into()));
    path.exists().then_some(path)
}

impl Browser {
    /// Starts a browser, or returns `None` after printing why the test is skipped.
    async fn start(test: &str) -> Option<Self> {
        Self::start_with(test, &[]).await
    }

    /// Starts a browser with `extra` flags.
    async fn start_with(test: &str, extra: &[&str]) -> Option<Self> {
        let chromium = program("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            let why = "Chromium or chromedriver not found \
                       (apt-get install chromium chromium-driver, or set CHROMIUM and CHROMEDRIVER)";
            assert!(
                !matches!(std::env::var("SSE_REQUIRE_BROWSER").as_deref(), Ok("1")),
                "{test}: {why}, and SSE_REQUIRE_BROWSER=1 forbids skipping"
            );
            eprintln!("SKIPPED {test}: {why}");
            return None;
        };

        let mut driver = Command::new(chromedriver)
            .arg("--port=0")
            // Its own process group, so a failed test can kill Chromium with it.
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let port = driver_port(&mut driver);

        let profile =
            std::env::temp_dir().join(format!("sse-dsl-browser-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("profile directory");
        let mut args: Vec<String> = CHROMIUM_FLAGS
            .iter()
            .chain(extra)
            .map(|f| f.to_string())
            .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "goog:chromeOptions": { "binary": chromium, "args": args },
            "timeouts": { "script": 20_000 },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session in headless Chromium");
        Some(Self {
            client,
            driver,
            profile,
        })
    }

    /// Polls `condition` (a JavaScript expression) until it is true.
    async fn wait_for(&self, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let script = format!("return Boolean({condition});");
        loop {
            if self.client.execute(&script, vec![]).await.unwrap() == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {condition}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ends the WebDriver session, which quits Chromium.
    async fn stop(self) {
        self.client
            .clone()
            .close()
            .await
            .expect("closes the session");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Also reached when a test fails midway: take Chromium down too.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Reads chromedriver's "started successfully on port N" line.
fn driver_port(driver: &mut Child) -> u16 {
    let stdout = driver.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("chromedriver output");
        if let Some(rest) = line.split("on port ").nth(1) {
            if line.contains("started successfully") {
                return rest.trim_end_matches('.').parse().expect("a port number");
            }
        }
    }
    panic!("chromedriver exited without saying its port")
}

/// Opens an `EventSource` on `path` in the page, records the events named in
/// `names` until `count` arrived (or the connection fails), then closes it.
/// Each record is `{type, data, id, at}` with `at` in milliseconds.
const RECORD: &str = r#"
const [path, names, count, done] = arguments;
const got = [];
const source = new EventSource(path);
const finish = (error) => { source.close(); done({ got, error }); };
for (const name of names) {
  source.addEventListener(name, (e) => {
    got.push({ type: e.type, data: e.data, id: e.lastEventId, at: performance.now() });
    if (got.length === count) finish(null);
  });
}
source.onerror = () => finish("error after " + got.length + " events");
"#;

/// Fetches `path` from the page and returns the response's status and headers
/// as the browser saw them, then cancels the (endless) body.
const HEADERS: &str = r#"
const [path, done] = arguments;
fetch(path).then(async (response) => {
  const headers = {};
  response.headers.forEach((value, name) => { headers[name] = value; });
  await response.body.cancel();
  done({ status: response.status, headers });
}, (error) => done({ error: String(error) }));
"#;

async fn record(browser: &Browser, path: &str, names: &[&str], count: usize) -> Vec<Value> {
    let result = browser
        .client
        .execute_async(RECORD, vec![json!(path), json!(names), json!(count)])
        .await
        .expect("the recording script runs");
    assert_eq!(result["error"], Value::Null, "{result}");
    result["got"].as_array().expect("an array").clone()
}

async fn assert_stream_headers(browser: &Browser, path: &str) {
    let seen = browser
        .client
        .execute_async(HEADERS, vec![json!(path)])
        .await
        .expect("the fetch script runs");
    assert_eq!(seen["status"], 200, "{seen}");
    let headers = &seen["headers"];
    assert_eq!(headers["content-type"], "text/event-stream", "{seen}");
    assert_eq!(headers["cache-control"], "no-store", "{seen}");
    assert_eq!(headers["x-accel-buffering"], "no", "{seen}");
}

/// The events as `(type, data)` pairs, for comparing with what was sent.
fn names_and_data(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().into(),
                e["data"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test]
async fn ktor_events_sample_in_chromium() {
    let Some(browser) = Browser::start("ktor_events_sample_in_chromium").await else {
        return;
    };
    let example = Example::start("events");
    // Any page of the example's origin will do: the stream is same-origin then.
    browser
        .client
        .goto(&format!("http://{}/", example.addr))
        .await
        .unwrap();

    let events = record(&browser, "/events", &["message"], 6).await;
    let want: Vec<(String, String)> = (0..6)
        .map(|n| ("message".to_string(), format!("demo{n}")))
        .collect();
    assert_eq!(names_and_data(&events), want);
    for pair in events.windows(2) {
        let gap = pair[1]["at"].as_f64().unwrap() - pair[0]["at"].as_f64().unwrap();
        assert!((900.0..2500.0).contains(&gap), "events {gap} ms apart");
    }
    assert_stream_headers(&browser, "/events").await;

    browser.stop().await;
    example.interrupt();
}

#[tokio::test]
async fn ktor_serialization_sample_in_chromium() {
    let Some(browser) = Browser::start("ktor_serialization_sample_in_chromium").await else {
        return;
    };
    let example = Example::start("serialization");
    browser
        .client
        .goto(&format!("http://{}/", example.addr))
        .await
        .unwrap();

    let events = record(&browser, "/serialization", &["customer", "product"], 2).await;
    assert_eq!(
        names_and_data(&events),
        [
            (
                "customer".to_string(),
                r#"{"id":0,"firstName":"Jet","lastName":"Brains"}"#.to_string()
            ),
            (
                "product".to_string(),
                r#"{"id":0,"prices":[100,200]}"#.to_string()
            ),
        ]
    );
    assert_stream_headers(&browser, "/serialization").await;

    browser.stop().await;
    example.interrupt();
}

/// Starts recording what `source` (the chat page's own `EventSource`) receives.
const TAP: &str = r#"
window.seen = [];
for (const name of ["join", "message", "leave"]) {
  source.addEventListener(name, (e) => window.seen.push({ type: e.type, data: e.data }));
}
"#;

#[tokio::test]
async fn chat_page_in_chromium() {
    let Some(browser) = Browser::start("chat_page_in_chromium").await else {
        return;
    };
    let example = Example::start("chat");
    let client = &browser.client;

    client
        .goto(&format!("http://{}/?name=ana", example.addr))
        .await
        .unwrap();
    browser
        .wait_for("document.getElementById('status').textContent === 'connected as ana'")
        .await;
    browser
        .wait_for("document.getElementById('log').textContent.includes('ana joined')")
        .await;
    client.execute(TAP, vec![]).await.unwrap();
    let ana = client.window().await.unwrap();

    // A second tab: bo joins and says something through the page's form.
    let bo = client.new_window(true).await.unwrap().handle;
    client.switch_to_window(bo).await.unwrap();
    client
        .goto(&format!("http://{}/?name=bo", example.addr))
        .await
        .unwrap();
    browser
        .wait_for("document.getElementById('status').textContent === 'connected as bo'")
        .await;
    let said = "héllo, “ana” ✓ <b>not bold</b>";
    client
        .find(Locator::Id("text"))
        .await
        .unwrap()
        .send_keys(said)
        .await
        .unwrap();
    client
        .find(Locator::Css("#form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("document.getElementById('log').textContent.includes('bo: héllo')")
        .await;
    client.close_window().await.unwrap();

    client.switch_to_window(ana).await.unwrap();
    browser.wait_for("window.seen.length === 3").await;
    let seen = client.execute("return window.seen;", vec![]).await.unwrap();
    let seen = seen.as_array().unwrap();
    let message = json!({ "name": "bo", "text": said }).to_string();
    assert_eq!(
        names_and_data(seen),
        [
            ("join".to_string(), r#"{"name":"bo"}"#.to_string()),
            ("message".to_string(), message),
            ("leave".to_string(), r#"{"name":"bo"}"#.to_string()),
        ]
    );
    // The page shows the text as text, not as markup.
    let shown = client
        .find(Locator::Css("#log li.message"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown, format!("bo: {said}"));

    browser.stop().await;
    example.interrupt();
}

/// The chat page's messages, as shown.
async fn shown_messages(browser: &Browser) -> Vec<String> {
    let shown = browser
        .client
        .execute(
            "return [...document.querySelectorAll('#log li.message')].map(li => li.textContent);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(shown).unwrap()
}

async fn say(addr: std::net::SocketAddr, text: &str) {
    let body = json!({ "name": "bo", "text": text }).to_string();
    assert_eq!(support::http::post_json(addr, "/send", &body).await, 204);
}

#[tokio::test]
async fn chat_page_resumes_after_a_reload_and_a_server_restart_in_chromium() {
    let Some(browser) =
        Browser::start("chat_page_resumes_after_a_reload_and_a_server_restart_in_chromium").await
    else {
        return;
    };
    let example = Example::start("chat");
    let addr = example.addr;
    let page = format!("http://{addr}/?name=ana");
    let connected = "document.getElementById('status').textContent === 'connected as ana'";
    let showing =
        |text: &str| format!("document.getElementById('log').textContent.includes('{text}')");

    browser.client.goto(&page).await.unwrap();
    browser.wait_for(connected).await;
    say(addr, "one").await;
    browser.wait_for(&showing("bo: one")).await;

    // Away from the page while bo goes on, then back: exactly what was missed.
    browser.client.goto("about:blank").await.unwrap();
    say(addr, "two").await;
    say(addr, "three").await;
    browser.client.goto(&page).await.unwrap();
    browser.wait_for(&showing("bo: three")).await;
    assert_eq!(
        shown_messages(&browser).await,
        ["bo: one", "bo: two", "bo: three"]
    );

    // The server restarts on the same port: EventSource reconnects with
    // Last-Event-ID, and the page is told the old history is gone.
    example.interrupt();
    let example = Example::start_on("chat", addr.port());
    browser
        .wait_for(&showing("(some messages were missed)"))
        .await;
    browser.wait_for(connected).await;
    say(addr, "four").await;
    browser.wait_for(&showing("bo: four")).await;
    assert_eq!(
        shown_messages(&browser).await,
        ["bo: one", "bo: two", "bo: three", "bo: four"]
    );

    browser.stop().await;
    example.interrupt();
}

/// A page that opens `count` `EventSource`s to one origin and records what
/// each receives in `window.got[i]`.
fn many_streams_page(count: usize) -> String {
    format!(
        "<!doctype html><script>\
         window.got = [];\
         for (let i = 0; i < {count}; i++) {{\
           window.got.push([]);\
           const source = new EventSource('/streams/' + i);\
           source.onmessage = (e) => window.got[i].push(e.data);\
         }}\
         </script>"
    )
}

/// Serves `many_streams_page(12)` and streams that never end, each saying
/// which HTTP version carries it; over TLS when `tls`.
async fn many_streams_server(tls: bool) -> support::http::TestServer {
    async fn stream(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
        let version = format!("{:?}", session.request().version());
        loop {
            session
                .send(sse_runtime::Event::new().data(version.clone()))
                .await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    async fn page(
        _request: http::Request<sse_runtime::server::RequestBody>,
    ) -> http::Response<String> {
        http::Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(many_streams_page(12))
            .unwrap()
    }
    let server = sse_runtime::Server::new()
        .route(sse_runtime::route::handler(stream).at("/streams/{i}"))
        .fallback(page);
    support::http::start_on(tls, server).await
}

/// How many of the page's streams received an event.
async fn streams_with_events(browser: &Browser) -> usize {
    let script = "return window.got.filter((g) => g.length > 0).length;";
    let got = browser.client.execute(script, vec![]).await.unwrap();
    got.as_u64().unwrap() as usize
}

#[tokio::test]
async fn twelve_streams_to_one_origin_over_https_share_one_http2_connection_in_chromium() {
    let test = "twelve_streams_to_one_origin_over_https_share_one_http2_connection_in_chromium";
    // The test's certificate is self-signed.
    let Some(browser) = Browser::start_with(test, &["--ignore-certificate-errors"]).await else {
        return;
    };
    let server = many_streams_server(true).await;
    let url = format!("https://localhost:{}/", server.addr.port());
    browser.client.goto(&url).await.unwrap();
    // All twelve at once: over HTTP/1.1 the seventh would wait for one of
    // the first six to end, and these never end.
    browser
        .wait_for("window.got.length === 12 && window.got.every((g) => g.length > 0)")
        .await;
    let versions = browser
        .client
        .execute("return window.got.map((g) => g[0]);", vec![])
        .await
        .unwrap();
    assert_eq!(versions, json!(vec!["HTTP/2.0"; 12]));
    browser.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn over_plain_http1_chromium_opens_only_six_streams_to_one_origin() {
    // The control for the test above: the same page without TLS.
    let test = "over_plain_http1_chromium_opens_only_six_streams_to_one_origin";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let server = many_streams_server(false).await;
    browser.client.goto(&server.url("/")).await.unwrap();
    browser
        .wait_for("window.got.filter((g) => g.length > 0).length >= 6")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(streams_with_events(&browser).await, 6);
    browser.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn chromium_reads_a_gzip_stream_event_by_event_while_it_stays_open() {
    let test = "chromium_reads_a_gzip_stream_event_by_event_while_it_stays_open";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    // Says what the browser asked for, then counts, never ending.
    async fn counting(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
        let asked = session
            .request()
            .header("accept-encoding")
            .unwrap_or("")
            .to_owned();
        session.send(sse_runtime::Event::new().data(asked)).await?;
        for n in 0.. {
            tokio::time::sleep(Duration::from_millis(100)).await;
            session
                .send(sse_runtime::Event::new().data(n.to_string()))
                .await?;
        }
        Ok(())
    }
    async fn page(
        _request: http::Request<sse_runtime::server::RequestBody>,
    ) -> http::Response<String> {
        let script = "<!doctype html><script>window.got = [];\
            new EventSource('/count').onmessage = (e) => window.got.push(e.data);</script>";
        http::Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(script.to_owned())
            .unwrap()
    }
    let server = sse_runtime::Server::new()
        .compression(sse_runtime::compression::Compression::Gzip)
        .route(sse_runtime::route::handler(counting).at("/count"))
        .fallback(page);
    let server = support::http::start(server).await;
    browser.client.goto(&server.url("/")).await.unwrap();
    // Events 0..4 arrive one by one while the stream stays open: nothing
    // waits in the compressor.
    browser.wait_for("window.got.length >= 6").await;
    let got = browser
        .client
        .execute("return window.got;", vec![])
        .await
        .unwrap();
    let asked = got[0].as_str().unwrap();
    assert!(asked.contains("gzip"), "Chromium asked for {asked:?}");
    assert_eq!(
        got.as_array().unwrap()[1..6],
        [json!("0"), json!("1"), json!("2"), json!("3"), json!("4")]
    );
    browser.stop().await;
    server.stop().await;
}
