//! The router as a tower `Service`: mounted in an axum app with
//! `route_service`, `nest_service` and `fallback_service`, served by
//! `axum::serve` and by hyper alone, and shut down from axum's graceful
//! shutdown.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use sse_runtime::{sse, Event, PeerAddr, Router};
use support::http::{get, open, request, text};
use tokio::net::TcpListener;

#[sse("/events")]
async fn events(session: EventsSession) -> Result<(), sse_runtime::Error> {
    let peer = session.request().peer_addr();
    let data = format!("hello {}", peer.is_some());
    session.send_event(Event::new().data(data)).await
}

#[sse("/rooms/{room}")]
async fn room(session: RoomSession, room: u32) -> Result<(), sse_runtime::Error> {
    session.send(format!("room {room}")).await
}

/// Waits for the session to be closed, then says goodbye.
#[sse("/polite")]
async fn polite(session: PoliteSession) -> Result<(), sse_runtime::Error> {
    session.send("hi").await?;
    session.closed().await;
    session.send("bye").await
}

fn router() -> Router {
    Router::builder()
        .route(events)
        .route(room)
        .route(polite)
        .build()
        .unwrap()
}

/// Serves `app` with `axum::serve` on a fresh port.
async fn serve(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn mounted_with_route_service_beside_axum_routes() {
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the page" }))
        .route_service("/events", router())
        .route_service("/rooms/{room}", router());
    let addr = serve(app).await;
    let (status, _, page) = text(request(addr, get(addr, "/", &[])).await).await;
    assert_eq!((status, page.as_str()), (StatusCode::OK, "the page"));
    let mut stream = open(addr, "/events").await;
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.rest().await, "data: hello false\n\n");
    assert_eq!(
        open(addr, "/rooms/7").await.rest().await,
        "data: room 7\n\n"
    );
    let (status, _, body) = text(request(addr, get(addr, "/rooms/x", &[])).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn nested_under_a_prefix_its_path_parameters_still_bind() {
    let app = axum::Router::new().nest_service("/sse", router());
    let addr = serve(app).await;
    assert_eq!(
        open(addr, "/sse/rooms/42").await.rest().await,
        "data: room 42\n\n"
    );
    let (status, _, _) = text(request(addr, get(addr, "/sse/nothing", &[])).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn as_the_fallback_it_answers_404_and_405_itself() {
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the page" }))
        .fallback_service(router());
    let addr = serve(app).await;
    assert_eq!(
        open(addr, "/events").await.rest().await,
        "data: hello false\n\n"
    );
    let (status, _, _) = text(request(addr, get(addr, "/nothing", &[])).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let post = http::Request::post(format!("http://{addr}/events"))
        .header("host", addr.to_string())
        .body(http_body_util::Empty::new())
        .unwrap();
    let (status, headers, _) = text(request(addr, post).await).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET, HEAD");
}

#[tokio::test]
async fn a_middleware_can_give_it_the_peer_address() {
    use axum::extract::ConnectInfo;
    let app =
        axum::Router::new()
            .route_service("/events", router())
            .layer(axum::middleware::map_request(
                |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                 mut request: axum::extract::Request| async move {
                    request.extensions_mut().insert(PeerAddr(peer));
                    request
                },
            ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    assert_eq!(
        open(addr, "/events").await.rest().await,
        "data: hello true\n\n"
    );
}

#[tokio::test]
async fn served_by_hyper_alone() {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    let router = router();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    assert_eq!(
        open(addr, "/rooms/3").await.rest().await,
        "data: room 3\n\n"
    );
}

#[tokio::test]
async fn shut_down_from_axums_graceful_shutdown_ends_the_streams() {
    let router = router();
    let app = axum::Router::new().route_service("/polite", router.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                router.shut_down(Duration::from_secs(5)).await;
            })
            .await
    });
    let mut stream = open(addr, "/polite").await;
    assert_eq!(stream.next_block().await.as_deref(), Some("data: hi\n\n"));
    stop.send(()).unwrap();
    let rest = tokio::time::timeout(Duration::from_secs(3), stream.rest())
        .await
        .expect("the stream ended");
    assert_eq!(rest, "data: bye\n\n");
    tokio::time::timeout(Duration::from_secs(3), served)
        .await
        .expect("axum::serve returned")
        .unwrap()
        .unwrap();
}

/// Refuses everyone after an async lookup, with a JSON body of its own.
struct Nobody;

impl<S: Sync> sse_runtime::extract::FromRequest<S> for Nobody {
    type Rejection = http::Response<String>;

    async fn from_request(
        _request: &sse_runtime::Request,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        tokio::task::yield_now().await; // a lookup would await here
        Err(http::Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header("content-type", "application/json")
            .body(r#"{"error":"not yours"}"#.to_owned())
            .unwrap())
    }
}

#[sse("/private")]
async fn private(session: PrivateSession, _who: Nobody) -> Result<(), sse_runtime::Error> {
    session.send("secret").await
}

#[tokio::test]
async fn an_async_extractor_refuses_with_a_response_of_its_own_and_no_stream_starts() {
    let router = Router::builder().route(private).build().unwrap();
    let addr = serve(axum::Router::new().route_service("/private", router)).await;
    let (status, headers, body) = text(request(addr, get(addr, "/private", &[])).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body, r#"{"error":"not yours"}"#);
}
