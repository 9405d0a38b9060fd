//! The server's HTTP service: the router, then the fallback for what no
//! route takes, wrapped in the layers the user added. The hyper path calls
//! it for every request it serves.
//!
//! Without layers, the HTTP/1.1 fast path decides a connection's first
//! request itself, through the router alone. With layers, it calls this
//! service instead, with a [`RequestBody`] that is empty, and writes a
//! stream it answers with the head the layers gave it: a layer sees every
//! request before its stream starts, on every path.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use tower::util::BoxCloneSyncService;

use super::FallbackFn;
use crate::error::BoxError;
use crate::link::Link;
use crate::request::PeerAddr;
use crate::router::{not_found, text_response, Body, Decision, Router};

/// The service a [`Server::layer`](super::Server::layer) wraps: the routes
/// and the fallback, type-erased, answering every request (a failure is
/// answered `500` inside).
pub type HttpService = BoxCloneSyncService<http::Request<RequestBody>, Response<Body>, Infallible>;

/// The body of a request as the server's layers and fallback see it: what
/// the client sent, or nothing for a request the HTTP/1.1 fast path read
/// (a request without a body). A layer that changes the body type (request
/// decompression) gives the routes one of these again with
/// [`RequestBody::new`]:
///
/// ```
/// use http_body_util::BodyExt;
/// async fn page(request: http::Request<sse_runtime::server::RequestBody>) -> http::Response<String> {
///     let sent = request.into_body().collect().await.map(|b| b.to_bytes().len()).unwrap_or(0);
///     http::Response::new(format!("{sent} bytes"))
/// }
/// # let _ = sse_runtime::Server::new().fallback(page);
/// ```
#[derive(Debug, Default)]
pub struct RequestBody(Kind);

#[derive(Default)]
enum Kind {
    #[default]
    Empty,
    Incoming(Incoming),
    /// Another body, boxed: what a layer made of the client's.
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Empty => "Empty",
            Kind::Incoming(_) => "Incoming",
            Kind::Boxed(_) => "Boxed",
        })
    }
}

impl RequestBody {
    /// Any body, as the routes and the fallback take one: what a layer
    /// that changes the body type (tower-http's `RequestDecompressionLayer`)
    /// maps its body back with.
    ///
    /// ```
    /// let body = sse_runtime::server::RequestBody::new(http_body_util::Full::new(bytes::Bytes::from("hi")));
    /// # drop(body);
    /// ```
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(Kind::Boxed(
            http_body_util::BodyExt::map_err(body, Into::into).boxed_unsync(),
        ))
    }
}

impl From<Incoming> for RequestBody {
    fn from(body: Incoming) -> Self {
        Self(Kind::Incoming(body))
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        match &mut self.0 {
            Kind::Empty => Poll::Ready(None),
            Kind::Incoming(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
            Kind::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Empty => true,
            Kind::Incoming(body) => body.is_end_stream(),
            Kind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &self.0 {
            Kind::Empty => http_body::SizeHint::with_exact(0),
            Kind::Incoming(body) => body.size_hint(),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}

/// Wraps the service built so far in one more layer.
pub(super) type Wrap = Box<dyn FnOnce(HttpService) -> HttpService + Send>;

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

/// The router, then the fallback (or `404`). The client's address is the
/// request's [`PeerAddr`] extension, which the server sets.
#[derive(Clone)]
pub(super) struct Dispatch {
    pub(super) router: Router,
    pub(super) fallback: Option<Arc<FallbackFn>>,
}

impl Dispatch {
    /// Answers `request`, whose route the router decides.
    pub(super) fn respond(&self, request: http::Request<RequestBody>) -> BoxFuture {
        let (parts, body) = request.into_parts();
        let peer = parts.extensions.get::<PeerAddr>().map(|peer| peer.0);
        let link = parts.extensions.get::<Arc<Link>>().cloned();
        let dispatch = self.clone();
        Box::pin(async move {
            let decision = dispatch
                .router
                .inner()
                .decide(parts, peer, link, body)
                .await;
            dispatch.answer(decision).await
        })
    }

    /// Answers a request already decided.
    pub(super) fn answer(&self, decision: Decision<RequestBody>) -> BoxFuture {
        let response = match (decision.into_response(), &self.fallback) {
            (Ok(response), _) => response,
            (Err((parts, body)), Some(fallback)) => {
                let answered = fallback(http::Request::from_parts(parts, body));
                return Box::pin(async move { Ok(answered.await) });
            }
            (Err(_), None) => not_found(),
        };
        Box::pin(std::future::ready(Ok(response)))
    }
}

impl tower_service::Service<http::Request<RequestBody>> for Dispatch {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> BoxFuture {
        self.respond(request)
    }
}

/// A user's service (a layered one, or a fallback) as the server needs it:
/// its response body boxed into [`Body`], its errors answered `500` and
/// logged.
#[derive(Clone)]
pub(super) struct Normalize<S>(pub(super) S);

impl<S, B> tower_service::Service<http::Request<RequestBody>> for Normalize<S>
where
    S: tower_service::Service<http::Request<RequestBody>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Readiness is awaited in `call`, on a clone, so that a service that
        // is not ready fails only its own request.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> BoxFuture {
        let mut service = self.0.clone();
        Box::pin(async move {
            let called = async {
                std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
                service.call(request).await
            };
            Ok(match called.await {
                Ok(response) => response.map(Body::boxed),
                Err(err) => {
                    let err: BoxError = err.into();
                    tracing::error!(error = &*err as &dyn std::error::Error, "service failed");
                    text_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
                }
            })
        })
    }
}
