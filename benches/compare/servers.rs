//! The two servers under test, with the same endpoints and payloads:
//!
//! - `GET /broadcast`: a stream of the broadcast events, heartbeat on; the
//!   same answered to `POST /broadcast` with a JSON body `{"topic": ..}`;
//! - `GET /start?rate=R&size=B&count=N`: starts the publisher: `N` events of
//!   `B` bytes at `R` per second, each starting with its send time;
//! - `GET /subscribers`: how many streams the broadcast has now;
//! - `GET /hot?count=N&size=B`: one stream of `N` events as fast as it goes.
//!
//! This project's server uses its hub (encode once, share the bytes); the
//! axum one uses what axum users write: a `tokio::sync::broadcast` channel
//! and `Sse` with `KeepAlive`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::net::TcpListener;

/// The publisher's settings.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Publish {
    pub rate: u64,
    pub size: usize,
    pub count: u64,
}

/// What a `POST /broadcast` sends.
#[derive(Clone, Debug, Deserialize)]
pub struct Subscribe {
    pub topic: String,
}

/// One stream of `count` events of `size` bytes.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Hot {
    pub count: u64,
    pub size: usize,
}

/// `<send time in µs since the Unix epoch>,` padded with `x` to `size` bytes;
/// on a compressed run, followed by a JSON quote instead, as a price feed
/// sends (about 100 bytes).
pub fn payload(size: usize) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros();
    if crate::compressing() {
        let cents = (now % 10_000) as u64;
        let ask = cents + 5;
        return format!(
            "{now},{{\"symbol\":\"ACME\",\"bid\":{}.{:02},\"ask\":{}.{:02},\"venue\":\"XNAS\",\"size\":{}}}",
            100 + cents / 100,
            cents % 100,
            100 + ask / 100,
            ask % 100,
            now % 900 + 100
        );
    }
    let mut data = format!("{now},");
    if data.len() < size {
        data.push_str(&"x".repeat(size - data.len()));
    }
    data
}

/// Calls `publish` `settings.count` times at `settings.rate` per second,
/// ticking every millisecond (timers are no finer) and catching up on the
/// events due.
pub async fn run_publisher<F>(settings: Publish, mut publish: impl FnMut(String) -> F)
where
    F: std::future::Future<Output = ()>,
{
    let start = tokio::time::Instant::now();
    let mut sent = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while sent < settings.count {
        tick.tick().await;
        let due = (start.elapsed().as_secs_f64() * settings.rate as f64) as u64;
        while sent < due.min(settings.count) {
            publish(payload(settings.size)).await;
            sent += 1;
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    // The same for both: one worker thread (the load generator has the other core).
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A listener on a free loopback port, announced on stdout for the load
/// generator. Its backlog is 4,096 (what `Server::serve` uses), deep enough
/// for thousands of connections opened at once, unless the storm scenario
/// sets another (`SSE_BENCH_BACKLOG`: axum's `TcpListener::bind` gets tokio's
/// 1,024).
pub fn listen() -> TcpListener {
    let backlog = std::env::var("SSE_BENCH_BACKLOG")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(sse_runtime::server::DEFAULT_BACKLOG);
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(([127, 0, 0, 1], 0).into()).expect("bind");
    let listener = socket.listen(backlog).expect("listen");
    println!("port {}", listener.local_addr().expect("bound").port());
    listener
}

pub mod project {
    use super::*;
    use sse_runtime::extract::{Json, Query, State};
    use sse_runtime::hub::Hub;
    use sse_runtime::{sse, Server};

    use crate::gateway::Chunk;

    /// One broadcast event: its data is the payload.
    #[derive(Clone)]
    pub struct Tick(String);

    impl std::fmt::Display for Tick {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    #[sse("/broadcast", events(Tick))]
    async fn broadcast(
        session: BroadcastSession,
        hub: State<Hub<BroadcastRoute>>,
    ) -> Result<(), sse_runtime::Error> {
        hub.0.subscribe().serve(&session).await?;
        Ok(())
    }

    /// `/broadcast` answered to a `POST` with a JSON body (`BENCH_POST=1`):
    /// its own hub, since a hub serves one route's sessions.
    #[sse("/broadcast", method = "POST", events(Tick))]
    async fn broadcast_post(
        session: BroadcastPostSession,
        hub: State<Hub<BroadcastPostRoute>>,
        Json(subscribe): Json<Subscribe>,
    ) -> Result<(), sse_runtime::Error> {
        let _ = subscribe.topic;
        hub.0.subscribe().serve(&session).await?;
        Ok(())
    }

    /// S9: one producer per stream, a serde-serialized chunk every 20 ms.
    #[sse(
        "/v1/chat/completions",
        method = "POST",
        serializer = Json,
        events(Chunk),
        handler_grace = "0s"
    )]
    async fn gateway(
        session: GatewaySession,
        Json(ask): Json<crate::gateway::Ask>,
    ) -> Result<(), sse_runtime::Error> {
        let mut tick = tokio::time::interval(crate::gateway::TOKEN_EVERY);
        for n in 0..ask.tokens {
            tick.tick().await;
            session.send(crate::gateway::chunk(n)).await?;
        }
        Ok(())
    }

    #[sse("/hot")]
    async fn hot(session: HotSession, hot: Query<Hot>) -> Result<(), sse_runtime::Error> {
        let data = payload(hot.0.size);
        for _ in 0..hot.0.count {
            session.send(data.as_str()).await?;
        }
        Ok(())
    }

    /// Serves with the hub in memory, or on the Redis at `redis`; streams
    /// opened by `GET /broadcast`, or by `POST` with `BENCH_POST=1`.
    pub fn serve(redis: Option<String>) {
        // One body for both hubs' route types.
        macro_rules! serve_hub {
            ($route:ty, $broadcast:expr) => {
                runtime().block_on(async {
                    let listener = listen();
                    // The whole run fits in the history: every event is delivered.
                    let hub = match redis {
                        None => Hub::<$route>::builder().history(1 << 16).build(),
                        Some(url) => Hub::with_backplane(
                            sse_runtime::hub::RedisBackplane::builder(url)
                                .history(1 << 16)
                                .connect()
                                .await
                                .expect("Redis"),
                        ),
                    };
                    let control = hub.clone();
                    let server = Server::new()
                        .with_state(hub)
                        .route($broadcast)
                        .route(gateway)
                        .route(hot)
                        .fallback(
                            move |request: http::Request<sse_runtime::server::RequestBody>| {
                                let hub = control.clone();
                                async move {
                                    let query = request.uri().query().unwrap_or_default();
                                    let body = match request.uri().path() {
                                        "/subscribers" => hub.stats().subscribers.to_string(),
                                        "/start" => {
                                            let settings: Publish =
                                                serde_urlencoded::from_str(query)
                                                    .expect("rate, size, count");
                                            tokio::spawn(run_publisher(settings, move |data| {
                                                let publish = hub.publish(Tick(data));
                                                async move {
                                                    publish.await.expect("the hub is open");
                                                }
                                            }));
                                            "started".to_owned()
                                        }
                                        _ => "not found".to_owned(),
                                    };
                                    http::Response::new(body)
                                }
                            },
                        );
                    serve_on(server, listener).await;
                })
            };
        }
        match crate::posting() {
            true => serve_hub!(BroadcastPostRoute, broadcast_post),
            false => serve_hub!(BroadcastRoute, broadcast),
        }
    }

    /// Serves `server` with the settings the run asks for (a layer, TLS,
    /// compression).
    async fn serve_on<S: Send + Sync + 'static>(server: Server<S>, listener: TcpListener) {
        // What a layer costs: `BENCH_LAYER=1` adds one that does nothing.
        let server = match std::env::var("BENCH_LAYER").as_deref() {
            Ok("1") => server.layer(tower_layer::Identity::new()),
            _ => server,
        };
        let server = match crate::tls::files() {
            Some((cert, key)) => server
                .tls(sse_runtime::server::tls::TlsConfig::from_pem_files(cert, key).expect("PEM")),
            None => server,
        };
        let server = match crate::compressing() {
            true => server.compression(sse_runtime::compression::Compression::Gzip),
            false => server,
        };
        server.serve_on(listener).await.expect("serves");
    }
}

pub mod axum_baseline {
    use super::*;
    use axum::extract::{Query, State};
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::routing::get;
    use axum::serve::ListenerExt;
    use axum::Router;
    use tokio::sync::broadcast;
    use tokio_stream::wrappers::BroadcastStream;
    use tokio_stream::{Stream, StreamExt};

    type Channel = broadcast::Sender<Arc<str>>;

    async fn broadcast_stream(
        State(channel): State<Channel>,
    ) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        let events = BroadcastStream::new(channel.subscribe())
            .filter_map(Result::ok)
            .map(|data| Ok(Event::default().data(&*data)));
        Sse::new(events).keep_alive(KeepAlive::default())
    }

    async fn broadcast_post(
        State(channel): State<Channel>,
        axum::Json(subscribe): axum::Json<Subscribe>,
    ) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        let _ = subscribe.topic;
        broadcast_stream(State(channel)).await
    }

    async fn hot(Query(hot): Query<Hot>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        let data = payload(hot.size);
        let events =
            tokio_stream::iter(0..hot.count).map(move |_| Ok(Event::default().data(&data)));
        Sse::new(events)
    }

    /// S9: what an axum gateway writes, `post(handler) -> Sse<_>`.
    async fn gateway(
        axum::Json(ask): axum::Json<crate::gateway::Ask>,
    ) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        let ticks = tokio::time::interval(crate::gateway::TOKEN_EVERY);
        let tokens = tokio_stream::wrappers::IntervalStream::new(ticks)
            .take(ask.tokens as usize)
            .map({
                let mut n = 0;
                move |_| {
                    let chunk = crate::gateway::chunk(n);
                    n += 1;
                    Ok(Event::default().json_data(chunk).expect("serializes"))
                }
            });
        Sse::new(tokens).keep_alive(KeepAlive::default())
    }

    async fn start(
        State(channel): State<Channel>,
        Query(settings): Query<Publish>,
    ) -> &'static str {
        tokio::spawn(run_publisher(settings, move |data| {
            let _ = channel.send(data.into());
            std::future::ready(())
        }));
        "started"
    }

    async fn subscribers(State(channel): State<Channel>) -> String {
        channel.receiver_count().to_string()
    }

    pub fn serve() {
        runtime().block_on(async {
            // Deep enough that no receiver lags: every event is delivered.
            let (channel, _) = broadcast::channel::<Arc<str>>(1 << 16);
            let app = Router::new()
                .route("/broadcast", get(broadcast_stream).post(broadcast_post))
                .route("/hot", get(hot))
                .route("/v1/chat/completions", axum::routing::post(gateway))
                .route("/start", get(start))
                .route("/subscribers", get(subscribers))
                .with_state(channel);
            if let Some(config) = crate::tls::server_config() {
                return serve_tls(listen(), app, config).await;
            }
            let listener = listen().tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            axum::serve(listener, app).await.expect("serves");
        });
    }

    /// What axum's TLS example does (`axum::serve` has no TLS): accept,
    /// hand each connection to a task that does the handshake, then serve it
    /// with hyper-util's HTTP/1.1 and HTTP/2 builder.
    async fn serve_tls(
        listener: TcpListener,
        app: Router,
        config: tokio_rustls::rustls::ServerConfig,
    ) {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        use hyper_util::server::conn::auto;
        use hyper_util::service::TowerToHyperService;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = TowerToHyperService::new(app);
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    }
}
