//! A test server on `127.0.0.1:0` and a real HTTP client (hyper) to talk to it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_runtime::{ServeError, Server};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in the background until `stop`.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

/// Starts `server` over TLS (the test certificate) when `tls` is set.
pub async fn start_on<S: Send + Sync + 'static>(tls: bool, server: Server<S>) -> TestServer {
    match tls {
        true => start(server.tls(super::tls::server_config())).await,
        false => start(server).await,
    }
}

pub async fn start<S: Send + Sync + 'static>(server: Server<S>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let server = server.with_graceful_shutdown(async move {
        let _ = stopped.await;
    });
    let task = tokio::spawn(server.serve_on(listener));
    TestServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestServer {
    /// Sends the shutdown signal; returns how long `serve` took to return.
    pub async fn stop(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
        started.elapsed()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Sends a request over a fresh HTTP/1.1 connection.
pub async fn request(
    addr: SocketAddr,
    req: http::Request<Empty<Bytes>>,
) -> http::Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender.send_request(req).await.unwrap()
}

/// Sends a request over a fresh HTTP/2 (prior knowledge, cleartext) connection.
pub async fn request_h2(
    addr: SocketAddr,
    req: http::Request<Empty<Bytes>>,
) -> http::Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    sender.send_request(req).await.unwrap()
}

/// `GET path` with the headers an `EventSource` sends, plus `extra`.
pub fn get(addr: SocketAddr, path: &str, extra: &[(&str, &[u8])]) -> http::Request<Empty<Bytes>> {
    let mut builder = http::Request::get(format!("http://{addr}{path}"))
        .header("host", addr.to_string())
        .header("accept", "text/event-stream")
        .header("cache-control", "no-cache");
    for (name, value) in extra {
        builder = builder.header(*name, http::HeaderValue::from_bytes(value).unwrap());
    }
    builder.body(Empty::new()).unwrap()
}

/// Opens a stream with `GET path`.
pub async fn open(addr: SocketAddr, path: &str) -> EventStream {
    EventStream::new(request(addr, get(addr, path, &[])).await)
}

/// A response body read event block by event block.
pub struct EventStream {
    pub head: http::response::Parts,
    body: Incoming,
    buf: String,
    /// Decodes a gzip stream as it arrives.
    gzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
    /// Bytes received, before decoding.
    pub received: usize,
}

impl EventStream {
    pub fn new(response: http::Response<Incoming>) -> Self {
        let (head, body) = response.into_parts();
        let gzip = match head.headers.get("content-encoding") {
            Some(encoding) if encoding == "gzip" => Some(flate2::write::GzDecoder::new(Vec::new())),
            Some(other) => panic!("unexpected content-encoding {other:?}"),
            None => None,
        };
        Self {
            head,
            body,
            buf: String::new(),
            gzip,
            received: 0,
        }
    }

    /// The next raw block up to and including its blank line (the server
    /// writes LF line endings), or `None` once the body ends.
    pub async fn next_block(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let rest = self.buf.split_off(end + 2);
                return Some(std::mem::replace(&mut self.buf, rest));
            }
            match self.body.frame().await {
                None => {
                    if let Some(gzip) = &mut self.gzip {
                        gzip.try_finish().expect("the gzip stream ends whole");
                    }
                    return None;
                }
                Some(Err(err)) => panic!("body error: {err}"),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.received += data.len();
                        let data = match &mut self.gzip {
                            None => data.to_vec(),
                            Some(gzip) => {
                                use std::io::Write;
                                gzip.write_all(&data).expect("valid gzip");
                                gzip.flush().expect("valid gzip");
                                std::mem::take(gzip.get_mut())
                            }
                        };
                        self.buf
                            .push_str(std::str::from_utf8(&data).expect("UTF-8 body"));
                    }
                }
            }
        }
    }

    /// Expects the next block to be `want`, within 2 s.
    pub async fn expect_block(&mut self, want: &str, context: &str) {
        let block = self.next_block_within(Duration::from_secs(2)).await;
        assert_eq!(block.as_deref(), Some(want), "{context}");
    }

    /// Expects `count` heartbeats (empty comments), each within 2 s.
    pub async fn expect_heartbeats(&mut self, count: usize, context: &str) {
        for _ in 0..count {
            self.expect_block(":\n\n", context).await;
        }
    }

    /// Like `next_block`, but fails the test after `limit`.
    pub async fn next_block_within(&mut self, limit: Duration) -> Option<String> {
        tokio::time::timeout(limit, self.next_block())
            .await
            .expect("no event in time")
    }

    /// Reads everything until the body ends.
    pub async fn rest(&mut self) -> String {
        let mut all = String::new();
        while let Some(block) = self.next_block_within(Duration::from_secs(10)).await {
            all.push_str(&block);
        }
        all.push_str(&std::mem::take(&mut self.buf));
        all
    }

    /// Waits for the body to end, ignoring what it carries.
    pub async fn body_end(&mut self) {
        while let Some(frame) = self.body.frame().await {
            if frame.is_err() {
                return;
            }
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Reads a whole non-stream response as text.
pub async fn text(
    response: http::Response<Incoming>,
) -> (http::StatusCode, http::HeaderMap, String) {
    let (head, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        head.status,
        head.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

/// POSTs a JSON body and returns the response status.
pub async fn post_json(addr: SocketAddr, path: &str, json: &str) -> u16 {
    post_json_text(addr, path, json).await.0
}

/// POSTs a JSON body and returns the response status and body.
pub async fn post_json_text(addr: SocketAddr, path: &str, json: &str) -> (u16, String) {
    let post = http::Request::post(format!("http://{addr}{path}"))
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from(json.to_owned())))
        .unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let response = sender.send_request(post).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// The ways a stream can be served: by the HTTP/1.1 fast path (the first
/// request on a connection), by hyper on an HTTP/1.1 keep-alive connection
/// (a page first, then the stream, as a browser does), and by hyper over
/// HTTP/2; each in cleartext, or over TLS (the protocol chosen by ALPN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    FastPath,
    KeepAlive,
    H2,
    TlsFastPath,
    TlsKeepAlive,
    TlsH2,
}

impl Via {
    /// The cleartext paths.
    pub const ALL: [Via; 3] = [Via::FastPath, Via::KeepAlive, Via::H2];
    /// The paths over TLS.
    pub const TLS: [Via; 3] = [Via::TlsFastPath, Via::TlsKeepAlive, Via::TlsH2];

    /// The paths of a server with TLS (`tls`) or without.
    pub fn over(tls: bool) -> [Via; 3] {
        match tls {
            true => Self::TLS,
            false => Self::ALL,
        }
    }

    pub fn is_tls(self) -> bool {
        Self::TLS.contains(&self)
    }

    /// The path, whatever the transport.
    fn protocol(self) -> Via {
        match self {
            Via::TlsFastPath => Via::FastPath,
            Via::TlsKeepAlive => Via::KeepAlive,
            Via::TlsH2 => Via::H2,
            plain => plain,
        }
    }
}

/// A stream opened on `path`, and what keeps its connection open.
pub struct Opened {
    pub stream: EventStream,
    /// The client's side of the connection; dropping it (and the stream)
    /// closes the connection.
    pub conn: Box<dyn std::any::Any + Send>,
}

/// Opens `GET stream` with `extra` headers, served as `path` says. For
/// `KeepAlive` the connection first gets `page` (which must answer with a
/// complete response) and the stream is its second request. Checks that
/// the intended path served it.
pub async fn open_on(
    via: Via,
    addr: SocketAddr,
    page: &str,
    stream: &str,
    extra: &[(&str, &[u8])],
) -> Opened {
    if !via.is_tls() {
        let tcp = TcpStream::connect(addr).await.unwrap();
        return open_over(via, tcp, addr, page, stream, extra).await;
    }
    let alpn: &[&[u8]] = match via.protocol() {
        Via::H2 => &[b"h2"],
        _ => &[b"http/1.1"],
    };
    let tls = super::tls::connect(addr, alpn).await;
    open_over(via, tls, addr, page, stream, extra).await
}

async fn open_over<Io>(
    via: Via,
    io: Io,
    addr: SocketAddr,
    page: &str,
    stream: &str,
    extra: &[(&str, &[u8])],
) -> Opened
where
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (response, conn): (_, Box<dyn std::any::Any + Send>) = match via.protocol() {
        Via::FastPath | Via::KeepAlive => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
                .await
                .unwrap();
            tokio::spawn(conn);
            if via.protocol() == Via::KeepAlive {
                let first = sender.send_request(get(addr, page, &[])).await.unwrap();
                first.into_body().collect().await.unwrap();
                sender.ready().await.expect("the connection is kept alive");
            }
            let response = sender.send_request(get(addr, stream, extra)).await.unwrap();
            (response, Box::new(sender))
        }
        _ => {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let response = sender.send_request(get(addr, stream, extra)).await.unwrap();
            (response, Box::new(sender))
        }
    };
    let stream = EventStream::new(response);
    // The fast path always closes the connection after its one stream; hyper
    // keeps it (HTTP/1.1) or has no such header (HTTP/2).
    let close = stream.header("connection") == Some("close");
    assert_eq!(
        close,
        via.protocol() == Via::FastPath,
        "{via:?} served the stream"
    );
    let version = stream.head.version;
    assert_eq!(
        version == http::Version::HTTP_2,
        via.protocol() == Via::H2,
        "{via:?}"
    );
    Opened { stream, conn }
}

/// A client connection served as `Via` says, for requests of any method
/// with a body: for `KeepAlive` it first sends `GET /` (whatever it is
/// answered), so that what follows is not the connection's first request.
pub struct Client {
    sender: Sender,
    pub via: Via,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<http_body_util::Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<http_body_util::Full<Bytes>>),
}

impl Client {
    pub async fn connect(via: Via, addr: SocketAddr) -> Self {
        if !via.is_tls() {
            let tcp = TcpStream::connect(addr).await.unwrap();
            return Self::over(via, tcp, addr).await;
        }
        let alpn: &[&[u8]] = match via.protocol() {
            Via::H2 => &[b"h2"],
            _ => &[b"http/1.1"],
        };
        let tls = super::tls::connect(addr, alpn).await;
        Self::over(via, tls, addr).await
    }

    async fn over<Io>(via: Via, io: Io, addr: SocketAddr) -> Self
    where
        Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let sender = match via.protocol() {
            Via::H2 => {
                let (sender, conn) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
                        .await
                        .unwrap();
                tokio::spawn(conn);
                Sender::H2(sender)
            }
            _ => {
                let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
                    .await
                    .unwrap();
                tokio::spawn(conn);
                Sender::H1(sender)
            }
        };
        let mut client = Self { sender, via };
        if via.protocol() == Via::KeepAlive {
            let page = get(addr, "/", &[]).map(|_| http_body_util::Full::new(Bytes::new()));
            let first = client.send(page).await;
            first.into_body().collect().await.unwrap();
        }
        client
    }

    /// Sends `request` once the connection is ready for it; `None` if the
    /// connection is gone.
    pub async fn try_send(
        &mut self,
        request: http::Request<http_body_util::Full<Bytes>>,
    ) -> Option<http::Response<Incoming>> {
        match &mut self.sender {
            Sender::H1(sender) => {
                sender.ready().await.ok()?;
                sender.send_request(request).await.ok()
            }
            Sender::H2(sender) => {
                sender.ready().await.ok()?;
                sender.send_request(request).await.ok()
            }
        }
    }

    pub async fn send(
        &mut self,
        request: http::Request<http_body_util::Full<Bytes>>,
    ) -> http::Response<Incoming> {
        self.try_send(request)
            .await
            .expect("the connection takes a request")
    }

    /// Checks that a stream's response was written by the path this client
    /// is for (the fast path always closes its connection after the stream).
    pub fn check_served(&self, response: &http::Response<Incoming>) {
        let close = response
            .headers()
            .get("connection")
            .is_some_and(|v| v == "close");
        assert_eq!(
            close,
            self.via.protocol() == Via::FastPath,
            "{:?} served the stream",
            self.via
        );
        assert_eq!(
            response.version() == http::Version::HTTP_2,
            self.via.protocol() == Via::H2,
            "{:?}",
            self.via
        );
    }
}

/// `method path` with `body` of `content_type` (none when empty).
pub fn with_body(
    method: http::Method,
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: impl Into<Bytes>,
) -> http::Request<http_body_util::Full<Bytes>> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("host", addr.to_string())
        .header("accept", "text/event-stream");
    if !content_type.is_empty() {
        builder = builder.header("content-type", content_type);
    }
    builder
        .body(http_body_util::Full::new(body.into()))
        .unwrap()
}
