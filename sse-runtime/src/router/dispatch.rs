//! Dispatch: what a request gets, decided once per request by whoever read
//! it (the router as a service, or one of the server's protocol paths).
//! Matching the route, the method check, running the route's extractors and
//! starting its handler all happen here, exactly once; the server's fast
//! path hands the decision on when hyper writes the answer.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use http::request::Parts;
use http::{Method, Response, StatusCode};
use tracing::Instrument as _;

#[cfg(doc)]
use super::body::not_found;
use super::body::{method_not_allowed, rejection_response, stream_response, Body};
use super::routes::Matched;
use super::supervise::supervise;
use super::Inner;
use crate::compression::Compression;
use crate::metrics::{self, StreamMetrics};
use crate::outbox::{Outbox, StreamBody};
use crate::request::{last_event_id_is_readable, Request};
use crate::route::Rejection;
use crate::session::Session;

/// What a request gets.
pub(crate) enum Decision {
    /// A stream: its handler is running; serve this body.
    Stream(StreamBody),
    /// A short answer: a rejection, or `405`.
    Respond(Response<Body>),
    /// No route matches: the fallback's (or `404`), which needs the request's
    /// body, so the parts come back.
    Fallback(Parts),
}

impl Decision {
    /// The response to write, unless no route matched: then the request's
    /// parts come back, for a fallback (or [`not_found`]).
    // The `Err` hands the request's parts on, moved once; boxing them would
    // allocate for every fallback request to save nothing.
    #[allow(clippy::result_large_err)]
    pub(crate) fn into_response(self) -> Result<Response<Body>, Parts> {
        match self {
            Decision::Stream(body) => Ok(stream_response(body)),
            Decision::Respond(response) => Ok(response),
            Decision::Fallback(parts) => Err(parts),
        }
    }
}

impl Inner {
    /// Decides what the request `parts` from `peer` gets; opening a stream
    /// starts its handler.
    pub(crate) async fn decide(&self, parts: Parts, peer: Option<SocketAddr>) -> Decision {
        let matched = match self.routes.find(parts.uri.path()) {
            None => return Decision::Fallback(parts),
            Some(Err((route, rejection))) => {
                metrics::request_refused(route, rejection.status());
                return Decision::Respond(rejection_response(&rejection));
            }
            Some(Ok(matched)) => matched,
        };
        if parts.method != Method::GET {
            metrics::request_refused(&matched.route.pattern, StatusCode::METHOD_NOT_ALLOWED);
            return Decision::Respond(method_not_allowed());
        }
        match self.open_stream(matched, parts, peer).await {
            Ok(body) => Decision::Stream(body),
            Err(rejection) => Decision::Respond(rejection_response(&rejection)),
        }
    }

    /// Runs the route's extractors and starts its handler, in the stream's
    /// span; a refused request starts nothing.
    async fn open_stream(
        &self,
        matched: Matched<'_>,
        parts: Parts,
        peer: Option<SocketAddr>,
    ) -> Result<StreamBody, Rejection> {
        let number = self.streams.fetch_add(1, Ordering::Relaxed) + 1;
        let route = matched.route.pattern.clone();
        let span = tracing::info_span!(
            "sse_stream",
            route = %matched.route.pattern,
            path = parts.uri.path(),
            peer = ?peer,
            stream = number,
        );
        let opened = self
            .start_stream(matched, parts, peer, number, span.clone())
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        match &opened {
            Ok(_) => tracing::debug!("stream opened"),
            Err(rejection) => {
                metrics::request_refused(&route, rejection.status());
                tracing::info!(
                    status = rejection.status().as_u16(),
                    reason = rejection.message(),
                    "stream refused"
                );
            }
        }
        opened
    }

    async fn start_stream(
        &self,
        matched: Matched<'_>,
        parts: Parts,
        peer: Option<SocketAddr>,
        number: u64,
        span: tracing::Span,
    ) -> Result<StreamBody, Rejection> {
        let Matched { route, params } = matched;
        if !last_event_id_is_readable(&parts.headers) {
            return Err(Rejection::bad_request(
                "the Last-Event-ID header is not valid UTF-8",
            ));
        }
        let encoder = route
            .compression
            .negotiate(parts.headers.get(http::header::ACCEPT_ENCODING));
        let outbox = Outbox::new(
            Request::new(parts, params, peer),
            self.shutdown.drain.child_token(),
            self.max_buffered,
            self.write_timeout,
            route.preamble.for_stream(number).as_ref(),
            StreamMetrics::new(&route.pattern),
        );
        let running = route.route.start(Session::new(outbox.clone())).await?;
        outbox.metrics().opened();
        self.shutdown.tasks.spawn(supervise(
            running,
            outbox.clone(),
            route.pattern.clone(),
            span,
            &self.shutdown,
            self.handler_grace,
        ));
        let body = StreamBody::new(outbox, route.heartbeat.clone());
        Ok(match route.compression {
            Compression::Off => body,
            _ => body.compressed(encoder),
        })
    }
}
