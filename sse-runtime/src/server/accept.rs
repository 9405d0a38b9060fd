//! The accept loop, the connection limit, and which protocol path serves a
//! connection.
//!
//! Every connection starts the same way: its first request head is read
//! here, under one deadline (`header_read_timeout`, however the connection is
//! then handed on). A plain HTTP/1.1 request (with its body, if any) is decided at once
//! (the [router](crate::router)'s dispatch): a stream is served by the fast path; any
//! other answer, or a request the fast path does not take, goes to hyper with
//! the bytes already read put back in front and the decision already made, so
//! nothing is matched or extracted twice.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderValue, CONNECTION, RETRY_AFTER};
use http::StatusCode;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, TryAcquireError};
use tokio::time::Instant;
use tower::ServiceExt as _;

use super::fast_path::{self, FastBody, Framing};
use super::hyper_path::{Decided, Rewind};
use super::listener::Listener;
use super::proxy::read_proxy_header;
use super::service::{HttpService, RequestBody};
use super::write_timeout::WriteTimeout;
use super::{Running, Signal};
use crate::link::Link;
use crate::metrics::{self, ConnectionMetric};
use crate::request::PeerAddr;
use crate::request::Scheme;
use crate::router::text_response;
use crate::router::Body;
use crate::router::Decision;

/// What a connection says of the client of its requests, before any
/// forwarded header: its peer, and whether it is TLS.
#[derive(Clone, Copy, Debug)]
pub(super) struct Conn {
    pub(super) peer: Option<SocketAddr>,
    pub(super) scheme: Scheme,
}

impl Conn {
    /// Tells the request its scheme. Only `https` is written: a plain
    /// stream keeps its extensions empty (no allocation held for hours), and
    /// no extension reads as `http`.
    pub(super) fn mark(self, extensions: &mut http::Extensions) {
        if self.scheme == Scheme::Https {
            extensions.insert(Scheme::Https);
        }
    }
}

impl Running {
    /// Accepts until `shutdown` resolves, then shuts down gracefully.
    pub(super) async fn run<L: Listener>(self: Arc<Self>, mut listener: L, mut shutdown: Signal) {
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => self.clone().accept(stream, peer),
                    Err(err) => accept_failed(err).await,
                },
            }
        }
        drop(listener);
        self.dispatch
            .router
            .shut_down(self.config.shutdown_deadline)
            .await;
    }

    fn accept<Io>(self: Arc<Self>, stream: Io, peer: Option<SocketAddr>)
    where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // One deadline for a PROXY header, the TLS handshake and the first
        // request head.
        let deadline = Instant::now() + self.config.header_read_timeout;
        let admitted = match &self.limit {
            None => Ok(None),
            Some(limit) => limit.clone().try_acquire_owned().map(Some),
        };
        let tasks = self.shutdown().tasks.clone();
        // Two tasks, not one with a branch: a plain connection's task should
        // not carry the size of a TLS connection's.
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            let acceptor = tls.acceptor();
            tasks.spawn(async move {
                let Some((stream, peer)) = self.proxied(stream, peer, deadline).await else {
                    return;
                };
                if let Some(stream) = self.handshake(acceptor, stream, peer, deadline).await {
                    let conn = Conn {
                        peer,
                        scheme: Scheme::Https,
                    };
                    self.serve_connection(stream, conn, deadline, admitted)
                        .await;
                }
            });
            return;
        }
        tasks.spawn(async move {
            let Some((stream, peer)) = self.proxied(stream, peer, deadline).await else {
                return;
            };
            let conn = Conn {
                peer,
                scheme: Scheme::Http,
            };
            self.serve_connection(stream, conn, deadline, admitted)
                .await;
        });
    }

    /// Reads the PROXY protocol header of a connection from a trusted proxy
    /// that sends one: the client's address, or `None` (the connection is
    /// closed) if the header is missing, invalid or late.
    async fn proxied<Io>(
        &self,
        mut stream: Io,
        peer: Option<SocketAddr>,
        deadline: Instant,
    ) -> Option<(Io, Option<SocketAddr>)>
    where
        Io: AsyncRead + Unpin,
    {
        let expects = self.proxies.as_ref();
        if !expects.is_some_and(|proxies| proxies.expects_proxy_header(peer)) {
            return Some((stream, peer));
        }
        tokio::select! {
            header = read_proxy_header(&mut stream) => match header {
                Ok(source) => Some((stream, source.or(peer))),
                Err(err) => {
                    tracing::debug!(?peer, error = %err, "no valid PROXY protocol header; closing");
                    None
                }
            },
            () = tokio::time::sleep_until(deadline) => {
                tracing::debug!(?peer, "no PROXY protocol header within the header read timeout");
                None
            }
            () = self.shutdown().force.cancelled() => None,
        }
    }

    /// The client of a request on `conn`, and the scheme it used: the
    /// connection's, or what a trusted proxy says.
    pub(super) fn client(&self, headers: &http::HeaderMap, conn: Conn) -> Conn {
        match &self.proxies {
            None => conn,
            Some(proxies) => {
                let (peer, scheme) = proxies.client(headers, conn.peer, conn.scheme);
                Conn { peer, scheme }
            }
        }
    }

    /// Serves a connection that is admitted under the connection limit, or
    /// answers it `503`.
    async fn serve_connection<Io>(
        self: Arc<Self>,
        stream: Io,
        conn: Conn,
        deadline: Instant,
        admitted: Result<Option<OwnedSemaphorePermit>, TryAcquireError>,
    ) where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match admitted {
            Ok(permit) => {
                let held = Held {
                    _permit: permit,
                    _open: ConnectionMetric::open(),
                };
                self.connection(stream, conn, deadline, held).await;
            }
            Err(_) => {
                metrics::connection_refused();
                self.refuse(stream).await;
            }
        }
    }

    /// The TLS handshake, by `deadline`; `None` if it failed or shutdown
    /// came first.
    #[cfg(feature = "tls")]
    async fn handshake<Io>(
        &self,
        acceptor: tokio_rustls::TlsAcceptor,
        stream: Io,
        peer: Option<SocketAddr>,
        deadline: Instant,
    ) -> Option<tokio_rustls::server::TlsStream<Io>>
    where
        Io: AsyncRead + AsyncWrite + Unpin,
    {
        tokio::select! {
            handshake = acceptor.accept(stream) => match handshake {
                Ok(stream) => Some(stream),
                Err(err) => {
                    tracing::debug!(?peer, error = %err, "TLS handshake failed");
                    None
                }
            },
            () = tokio::time::sleep_until(deadline) => {
                tracing::debug!(?peer, "no TLS handshake within the header read timeout; closing");
                None
            }
            () = self.shutdown().drain.cancelled() => None,
            () = self.shutdown().force.cancelled() => None,
        }
    }

    async fn connection<Io>(
        self: Arc<Self>,
        mut stream: Io,
        conn: Conn,
        head_deadline: Instant,
        held: Held,
    ) where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let head = tokio::select! {
            head = fast_path::read_head(&mut stream) => head,
            () = tokio::time::sleep_until(head_deadline) => {
                tracing::debug!(peer = ?conn.peer, "no request headers within the timeout; closing");
                return;
            }
            () = self.shutdown().drain.cancelled() => return,
            () = self.shutdown().force.cancelled() => return,
        };
        let Some(mut head) = head else {
            return;
        };
        // What the connection tells its streams (why it closed, whether its
        // writes wait), and its write timeout, which does the telling.
        let link = Arc::new(Link::default());
        let timeout = WriteTimeout::new(self.config.write_timeout, link.clone());
        let mut decided = None;
        let request = fast_path::parse(&head);
        // Layers see a request body as hyper's: one the fast path reads is
        // not for them (it borrows the connection).
        let request = request.filter(|r| self.layered.is_none() || r.framing == Framing::None);
        if let Some(request) = request {
            match &self.layered {
                // Boxed: the decision (its extractors may await) is short,
                // and a stream's connection should not carry its space for
                // hours.
                None => {
                    // What follows the head: the body, and what came after
                    // it, all kept so that hyper can be given the request
                    // whole if it is not answered with a stream.
                    let mut raw = head.split_off(request.head_len);
                    let body =
                        FastBody::new(&mut stream, &mut raw, request.framing, request.expect);
                    let decide = self.decide_first(request.parts, conn, link.clone(), body);
                    match Box::pin(decide).await {
                        None => return,
                        Some(Decision::Stream(body)) => {
                            drop((head, raw, link));
                            let head = fast_path::stream_head(&body);
                            self.serve_stream(stream, head, body, timeout, held);
                            return;
                        }
                        Some(Decision::Respond(response)) => {
                            decided = Some(Decided::Respond(Box::new(response)));
                        }
                        Some(Decision::Fallback(..)) => decided = Some(Decided::Fallback),
                    }
                    head.append(&mut raw);
                }
                // The layers see the request first; a stream they let through
                // is still written here, with whatever headers they gave it.
                Some(layered) => {
                    let through =
                        self.through_layers(layered.clone(), request.parts, conn, link.clone());
                    match Box::pin(through).await {
                        None => return,
                        Some(Ok((head, body))) => {
                            self.serve_stream(stream, head, body, timeout, held);
                            return;
                        }
                        Some(Err(response)) => decided = Some(Decided::Respond(Box::new(response))),
                    }
                }
            }
        }
        let io = Rewind::new(head, stream, timeout);
        // Boxed: hyper's connection state is large, and the task is sized
        // for its largest state.
        Box::pin(self.serve_hyper(io, conn, link, head_deadline, decided)).await;
        drop(held);
    }

    /// Serves a stream the fast path decided, in a task of its own: this
    /// connection's task ends, and the stream (idle for hours, thousands of
    /// them) holds only what writing it needs, not the space of reading a
    /// head, deciding, or hyper. It keeps the connection's place under the
    /// limit and in the metrics (`held`).
    fn serve_stream<Io, B>(
        &self,
        stream: Io,
        head: bytes::Bytes,
        body: B,
        timeout: WriteTimeout,
        held: Held,
    ) where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Unpin + Send + 'static,
    {
        let shutdown = self.shutdown();
        let (drain, force) = (shutdown.drain.clone(), shutdown.force.clone());
        shutdown.tasks.spawn(async move {
            fast_path::serve_stream(stream, head, body, timeout, &drain, &force).await;
            drop(held);
        });
    }

    /// Decides a request the fast path read, with its `body` (its
    /// extractors may await); `None` at the shutdown deadline.
    async fn decide_first<B>(
        &self,
        mut parts: http::request::Parts,
        conn: Conn,
        link: Arc<Link>,
        body: B,
    ) -> Option<Decision<B>>
    where
        B: http_body::Body + Send,
        B::Error: Into<crate::BoxError>,
    {
        let client = self.client(&parts.headers, conn);
        client.mark(&mut parts.extensions);
        tokio::select! {
            decision = self.router().decide(parts, client.peer, Some(link), body) => Some(decision),
            () = self.shutdown().force.cancelled() => None,
        }
    }

    /// Calls the layered service for a request the fast path read: a stream
    /// comes back as its head and body, anything else as the response for
    /// hyper to write; `None` at the shutdown deadline.
    async fn through_layers(
        &self,
        layered: HttpService,
        mut parts: http::request::Parts,
        conn: Conn,
        link: Arc<Link>,
    ) -> Option<Result<(bytes::Bytes, Body), http::Response<Body>>> {
        let client = self.client(&parts.headers, conn);
        client.mark(&mut parts.extensions);
        if let Some(peer) = client.peer {
            parts.extensions.insert(PeerAddr(peer));
        }
        parts.extensions.insert(link);
        let request = http::Request::from_parts(parts, RequestBody::default());
        let response = tokio::select! {
            response = layered.oneshot(request) => match response {
                Ok(response) => response,
                Err(never) => match never {},
            },
            () = self.shutdown().force.cancelled() => return None,
        };
        if !fast_path::is_stream(&response) {
            return Some(Err(response));
        }
        // The head is written from the response's parts, which are dropped
        // here: the stream keeps only its body.
        let (parts, body) = response.into_parts();
        let headers = parts.headers.iter();
        let head = fast_path::response_head(
            parts.status,
            headers.map(|(name, value)| (name.as_str(), value.as_bytes())),
        );
        Some(Ok((head, body)))
    }

    /// Answers a connection over the limit with 503, then closes it.
    async fn refuse<Io>(self: Arc<Self>, stream: Io)
    where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = hyper::service::service_fn(|_request| async {
            let mut response = text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is at its connection limit; retry later",
            );
            let headers = response.headers_mut();
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
            Ok::<_, std::convert::Infallible>(response)
        });
        let conn = self.builder.serve_connection(TokioIo::new(stream), service);
        tokio::select! {
            _ = tokio::time::timeout(self.config.header_read_timeout, conn) => {}
            () = self.shutdown().force.cancelled() => {}
        }
    }
}

async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    // These concern one connection only; anything else (such as running out of
    // file descriptors) would fail again at once, so pause before retrying.
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::debug!(error = %err, "a connection failed while being accepted");
        return;
    }
    tracing::error!(error = %err, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What an admitted connection holds until it closes, whichever task
/// serves it last: its place under the connection limit, and its count in
/// `sse_connections_open`.
struct Held {
    _permit: Option<OwnedSemaphorePermit>,
    _open: ConnectionMetric,
}
