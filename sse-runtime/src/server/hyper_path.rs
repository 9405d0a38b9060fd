//! The hyper path: every request the HTTP/1.1 fast path does not serve
//! (HTTP/2, HTTP/1.0, other methods, later requests on a keep-alive
//! connection, the fallback) is served by hyper on this connection.

use std::convert::Infallible;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::accept::Conn;
use super::service::RequestBody;
use super::write_timeout::WriteTimeout;
use super::Running;
use crate::link::Link;
use crate::request::PeerAddr;
use tower_service::Service as _;

use crate::router::{head_only, Body, Decision};

/// What the fast path already decided for the connection's first request,
/// so that hyper answers it without matching or extracting again.
pub(super) enum Decided {
    /// Answer this (boxed: a response is large, and this waits in every
    /// connection the fast path hands over).
    Respond(Box<Response<Body>>),
    /// No route: straight to the fallback.
    Fallback,
}

impl Running {
    /// Serves a connection with hyper. The first request must have arrived
    /// by `head_deadline` (one deadline per head, however the connection
    /// was handed here); `decided` answers it if the fast path already did.
    pub(super) async fn serve_hyper<Io>(
        self: Arc<Self>,
        io: Rewind<Io>,
        conn: Conn,
        link: Arc<Link>,
        head_deadline: Instant,
        decided: Option<Decided>,
    ) where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = conn.peer;
        let requested = Arc::new(AtomicBool::new(false));
        let decided = Arc::new(Mutex::new(decided));
        let service = {
            let running = self.clone();
            let requested = requested.clone();
            hyper::service::service_fn(move |request| {
                let first = !requested.swap(true, Ordering::Relaxed);
                let decided = match first {
                    true => decided.lock().ok().and_then(|mut d| d.take()),
                    false => None,
                };
                let running = running.clone();
                let link = link.clone();
                async move {
                    let response = running.respond(request, conn, link, decided).await;
                    Ok::<_, Infallible>(response)
                }
            })
        };
        let conn = self.builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        // hyper times out slow request headers only once it knows the HTTP
        // version, and its clock would start again here: the first request
        // keeps the deadline its connection started with.
        let first_request = tokio::time::sleep_until(head_deadline);
        tokio::pin!(first_request);
        let mut deadline_passed = false;
        let mut draining = false;
        loop {
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(?peer, error = %err, "connection ended with an error");
                    }
                    return;
                }
                // A branch's condition is only read when `select!` starts over,
                // so check again when the deadline fires: a request that came
                // in the meantime (a stream being served) keeps the connection.
                () = &mut first_request, if !deadline_passed => {
                    if requested.load(Ordering::Relaxed) {
                        deadline_passed = true;
                        continue;
                    }
                    tracing::debug!(?peer, "no request headers within the timeout; closing");
                    return;
                }
                () = self.shutdown().drain.cancelled(), if !draining => {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = self.shutdown().force.cancelled() => return,
            }
        }
    }

    async fn respond(
        self: Arc<Self>,
        request: http::Request<Incoming>,
        conn: Conn,
        link: Arc<Link>,
        decided: Option<Decided>,
    ) -> Response<Body> {
        let head = request.method() == http::Method::HEAD;
        let mut request = request.map(RequestBody::from);
        let client = self.client(request.headers(), conn);
        client.mark(request.extensions_mut());
        if let Some(peer) = client.peer {
            request.extensions_mut().insert(PeerAddr(peer));
        }
        request.extensions_mut().insert(link);
        let answered = match (decided, &self.layered) {
            (Some(Decided::Respond(response)), _) => return *response,
            (Some(Decided::Fallback), _) => {
                let (parts, body) = request.into_parts();
                self.dispatch.answer(Decision::Fallback(parts, body))
            }
            (None, Some(layered)) => layered.clone().call(request),
            (None, None) => self.dispatch.respond(request),
        };
        let response = match answered.await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        // The fallback's and the layers' answers to a `HEAD` too.
        match head {
            true => head_only(response),
            false => response,
        }
    }
}

/// A connection for hyper: the bytes already read put back in front, and
/// writes that fail with `TimedOut` once the client took nothing for the
/// write timeout.
pub(super) struct Rewind<Io> {
    prefix: Bytes,
    inner: Io,
    write_timeout: WriteTimeout,
}

impl<Io> Rewind<Io> {
    pub(super) fn new(prefix: Vec<u8>, inner: Io, write_timeout: WriteTimeout) -> Self {
        Self {
            prefix: Bytes::from(prefix),
            inner,
            write_timeout,
        }
    }

    /// Times a write, flush or shutdown: progress (`moved`) resets the
    /// timeout, waiting past it fails. Flushes count as writes: a TLS
    /// stream takes a write into its own buffer, and it is its flush that
    /// waits on the client.
    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
        moved: impl FnOnce(&T) -> bool,
    ) -> Poll<io::Result<T>> {
        match &polled {
            Poll::Ready(Ok(done)) if moved(done) => self.write_timeout.progressed(),
            Poll::Pending if self.write_timeout.expired(cx) => {
                return Poll::Ready(Err(timed_out()))
            }
            _ => {}
        }
        polled
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the client took nothing for the write timeout",
    )
}

impl<Io: AsyncRead + Unpin> AsyncRead for Rewind<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Rewind<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.timed(cx, written, |&n| n > 0)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.timed(cx, written, |&n| n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.inner).poll_flush(cx);
        self.timed(cx, flushed, |()| true)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shut = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.timed(cx, shut, |()| true)
    }
}
