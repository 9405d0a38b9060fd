//! `Server::layer`: tower layers around the SSE routes and the fallback,
//! seen by every request before any stream starts, on every path.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use sse_runtime::route::{handler, RoutePath};
use sse_runtime::{Event, Route, Server, Session};
use support::http::{get, open_on, request, request_h2, start, text, Via};

async fn page(_request: http::Request<sse_runtime::server::RequestBody>) -> http::Response<String> {
    http::Response::new("the page".to_owned())
}

/// A stream that counts how many handlers started.
fn counted(starts: Arc<AtomicUsize>) -> impl Route<()> + RoutePath {
    handler(move |session: Session| {
        starts.fetch_add(1, Ordering::SeqCst);
        async move { session.send(Event::new().data("in")).await }
    })
    .at("/events")
}

#[tokio::test]
async fn a_pass_through_layer_keeps_every_stream_working_on_every_path() {
    let starts = Arc::new(AtomicUsize::new(0));
    let server = Server::new()
        .route(counted(starts.clone()))
        .fallback(page)
        .layer(tower_layer::Identity::new());
    let server = start(server).await;
    for via in Via::ALL {
        let mut opened = open_on(via, server.addr, "/", "/events", &[]).await;
        assert_eq!(opened.stream.rest().await, "data: in\n\n", "{via:?}");
    }
    assert_eq!(starts.load(Ordering::SeqCst), 3, "one start per request");
    let (status, _, body) = text(request(server.addr, get(server.addr, "/", &[])).await).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "the page"));
    server.stop().await;
}

#[tokio::test]
async fn a_layer_that_refuses_starts_no_handler_on_any_path() {
    use tower_http::validate_request::ValidateRequestHeaderLayer;
    let starts = Arc::new(AtomicUsize::new(0));
    #[allow(deprecated)] // `bearer` is the simplest refusing layer at hand
    let auth = ValidateRequestHeaderLayer::bearer("sesame");
    let server = Server::new()
        .route(counted(starts.clone()))
        .fallback(page)
        .layer(auth);
    let server = start(server).await;
    let addr = server.addr;
    for h2 in [false, true] {
        let req = get(addr, "/events", &[]);
        let response = match h2 {
            true => request_h2(addr, req).await,
            false => request(addr, req).await,
        };
        let (status, headers, _) = text(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "h2: {h2}");
        assert_eq!(headers.get("content-type").map(|v| v.as_bytes()), None);
    }
    let (status, _, _) = text(request(addr, get(addr, "/", &[])).await).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the fallback is behind the layer too"
    );
    assert_eq!(starts.load(Ordering::SeqCst), 0, "no handler started");

    let auth: &[(&str, &[u8])] = &[("authorization", b"Bearer sesame")];
    for via in Via::ALL {
        let mut opened = open_on(via, addr, "/", "/events", auth).await;
        opened
            .stream
            .expect_block("data: in\n\n", &format!("{via:?}"))
            .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn cors_preflights_are_answered_and_streams_carry_the_headers() {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::exact("https://app.example".parse().unwrap()))
        .allow_credentials(true)
        .allow_headers([http::header::HeaderName::from_static("last-event-id")]);
    let starts = Arc::new(AtomicUsize::new(0));
    let server = start(Server::new().route(counted(starts.clone())).layer(cors)).await;
    let addr = server.addr;
    let preflight = http::Request::builder()
        .method(http::Method::OPTIONS)
        .uri(format!("http://{addr}/events"))
        .header("host", addr.to_string())
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "last-event-id")
        .body(http_body_util::Empty::new())
        .unwrap();
    let (status, headers, _) = text(request(addr, preflight).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(
        starts.load(Ordering::SeqCst),
        0,
        "a preflight starts no stream"
    );

    let origin: &[(&str, &[u8])] = &[("origin", b"https://app.example")];
    let response = request(addr, get(addr, "/events", origin)).await;
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    let (_, _, body) = text(response).await;
    assert_eq!(body, "data: in\n\n");
    server.stop().await;
}

#[tokio::test]
async fn behind_a_layer_a_client_that_leaves_is_noticed_and_heartbeats_flow_on_every_path() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let route = handler(move |session: Session| {
        let tx = tx.clone();
        async move {
            session.closed().await;
            let _ = tx.send(());
        }
    });
    let server = Server::new()
        .heartbeat(sse_runtime::Heartbeat::every(Duration::from_millis(50)))
        .route(route.at("/events"))
        .fallback(page)
        .layer(tower_layer::Identity::new());
    let server = start(server).await;
    for via in Via::ALL {
        let mut opened = open_on(via, server.addr, "/", "/events", &[]).await;
        opened
            .stream
            .expect_block(":\n\n", &format!("{via:?}"))
            .await;
        drop(opened);
        tokio::time::timeout(Duration::from_secs(1), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{via:?}: the handler did not see the client leave"))
            .unwrap();
    }
    server.stop().await;
}
