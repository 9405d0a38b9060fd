//! Dispatch: what a request gets, decided once per request by whoever read
//! it (the router as a service, or one of the server's protocol paths).
//! Matching the route and its method, running the route's extractors,
//! reading the body and starting its handler all happen here, exactly once; the server's fast
//! path hands the decision on when hyper writes the answer.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http::request::Parts;
use http::{Method, Response, StatusCode};
use tracing::Instrument as _;

#[cfg(doc)]
use super::body::not_found;
use super::body::{
    answer_response, head_only, method_not_allowed, rejection_response, stream_response, Body,
};
use super::routes::CompiledRoute;
use super::supervise::supervise;
use super::Inner;
use crate::answer::Answer;
use crate::body;
use crate::compression::Compression;
use crate::error::BoxError;
use crate::heartbeat::Heartbeat;
use crate::link::Link;
use crate::metrics::{self, StreamMetrics};
use crate::outbox::{Outbox, StreamBody};
use crate::request::{last_event_id_is_readable, Request};
use crate::route::{Rejection, Started};
use crate::session::Session;

/// What a request gets.
pub(crate) enum Decision<B> {
    /// A stream: its handler is running; serve this body.
    Stream(StreamBody),
    /// A short answer: a rejection, `405`, or the handler's answer.
    Respond(Response<Body>),
    /// No route matches: the fallback's (or `404`), which needs the
    /// request's parts and body, so they come back.
    Fallback(Parts, B),
}

impl<B> Decision<B> {
    /// Answers with `response`; its head alone for a `HEAD` (`head`).
    fn respond(response: Response<Body>, head: bool) -> Self {
        Decision::Respond(match head {
            true => head_only(response),
            false => response,
        })
    }

    /// The response to write, unless no route matched: then the request's
    /// parts and body come back, for a fallback (or [`not_found`]).
    // The `Err` hands the request on, moved once; boxing it would allocate
    // for every fallback request to save nothing.
    #[allow(clippy::result_large_err)]
    pub(crate) fn into_response(self) -> Result<Response<Body>, (Parts, B)> {
        match self {
            Decision::Stream(body) => Ok(stream_response(body)),
            Decision::Respond(response) => Ok(response),
            Decision::Fallback(parts, body) => Err((parts, body)),
        }
    }
}

impl Inner {
    /// Decides what the request `parts` from `peer`, with `body`, gets, on
    /// the connection of `link` (if the server made it); opening a stream
    /// starts its handler.
    pub(crate) async fn decide<B>(
        &self,
        parts: Parts,
        peer: Option<SocketAddr>,
        link: Option<Arc<Link>>,
        body: B,
    ) -> Decision<B>
    where
        B: http_body::Body + Send,
        B::Error: Into<BoxError>,
    {
        let matched = match self.routes.find(parts.uri.path()) {
            None => return Decision::Fallback(parts, body),
            Some(Err((route, rejection))) => {
                metrics::request_refused(route, rejection.status());
                let head = parts.method == Method::HEAD;
                return Decision::respond(rejection_response(&rejection), head);
            }
            Some(Ok(matched)) => matched,
        };
        // `HEAD` is answered wherever `GET` is (RFC 9110 §9.3.2): the
        // stream's head, with no handler started.
        let head_only = parts.method == Method::HEAD;
        let method = match head_only {
            true => &Method::GET,
            false => &parts.method,
        };
        let Some(route) = matched.path.answering(method) else {
            metrics::request_refused(&matched.path.pattern, StatusCode::METHOD_NOT_ALLOWED);
            return Decision::respond(method_not_allowed(matched.path.allow), head_only);
        };
        match self
            .open_stream(route, matched.params, parts, (peer, link), body, head_only)
            .await
        {
            Ok(Opened::Stream(body)) => Decision::Stream(body),
            Ok(Opened::Answer(response) | Opened::Head(response)) => {
                Decision::respond(response, head_only)
            }
            Err(rejection) => Decision::respond(rejection_response(&rejection), head_only),
        }
    }

    /// Runs the route's extractors, reads the body and starts the handler,
    /// in the stream's span; a refused request starts nothing, nor does a
    /// `HEAD` (`head_only`), which gets the stream's head once its
    /// extractors accept it.
    async fn open_stream<B>(
        &self,
        route: &CompiledRoute,
        params: Vec<(String, String)>,
        parts: Parts,
        client: (Option<SocketAddr>, Option<Arc<Link>>),
        body: B,
        head_only: bool,
    ) -> Result<Opened, Rejection>
    where
        B: http_body::Body + Send,
        B::Error: Into<BoxError>,
    {
        let number = self.streams.fetch_add(1, Ordering::Relaxed) + 1;
        let span = tracing::info_span!(
            "sse_stream",
            route = %route.pattern,
            method = %parts.method,
            path = parts.uri.path(),
            peer = ?client.0,
            stream = number,
        );
        let opened = self
            .start_stream(
                route,
                params,
                parts,
                client,
                body,
                head_only,
                number,
                span.clone(),
            )
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        match &opened {
            Ok(Opened::Stream(_)) => tracing::debug!("stream opened"),
            Ok(Opened::Head(_)) => tracing::debug!("stream's head sent (HEAD)"),
            Ok(Opened::Answer(response)) => {
                let status = response.status();
                metrics::request_answered(&route.pattern, status);
                tracing::info!(status = status.as_u16(), "stream answered");
            }
            Err(rejection) => {
                metrics::request_refused(&route.pattern, rejection.status());
                tracing::info!(
                    status = rejection.status().as_u16(),
                    reason = rejection.message(),
                    "stream refused"
                );
            }
        }
        opened
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_stream<B>(
        &self,
        route: &CompiledRoute,
        params: Vec<(String, String)>,
        parts: Parts,
        (peer, link): (Option<SocketAddr>, Option<Arc<Link>>),
        body: B,
        head_only: bool,
        number: u64,
        span: tracing::Span,
    ) -> Result<Opened, Rejection>
    where
        B: http_body::Body + Send,
        B::Error: Into<BoxError>,
    {
        if !last_event_id_is_readable(&parts.headers) {
            return Err(Rejection::bad_request(
                "the Last-Event-ID header is not valid UTF-8",
            ));
        }
        let version = parts.version;
        // An `EventSource` waits for the head: a `GET` stream opens at once.
        // Any other method's may be answered instead, until it begins.
        let open = parts.method == Method::GET;
        let encoder = route
            .compression
            .negotiate(parts.headers.get(http::header::ACCEPT_ENCODING));
        let outbox = Outbox::new(
            Request::new(parts, params, peer, link),
            self.shutdown.drain.child_token(),
            self.max_buffered,
            self.write_timeout,
            route.preamble.for_stream(number).as_ref(),
            StreamMetrics::new(&route.pattern),
            open,
        );
        let started = route.route.start(Session::new(outbox.clone())).await?;
        if head_only {
            // The handler (made, never polled) is dropped unstarted; the
            // headers are the stream's, and the body is none at all (an
            // HTTP/2 `HEAD` answer may not carry even a compressor's trailer).
            drop(started);
            outbox.end();
            let body = StreamBody::new(outbox, None);
            let response = stream_response(match route.compression {
                Compression::Off => body,
                _ => body.compressed(encoder),
            });
            return Ok(Opened::Head(response));
        }
        // The body is read only once the head is accepted (so `100
        // Continue` is sent only then), and whole before the handler starts.
        let running = match started {
            Started::Handler(running) => {
                body::read(body, version, route.body).await?;
                running
            }
            Started::Body(then) => {
                let bytes = body::read(body, version, route.body).await?;
                match then(bytes).await? {
                    Started::Handler(running) => running,
                    Started::Body(_) => {
                        return Err(Rejection::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "this route asked for the request body twice",
                        ))
                    }
                }
            }
        };
        self.shutdown.tasks.spawn(supervise(
            running,
            outbox.clone(),
            route.pattern.clone(),
            span,
            &self.shutdown,
            route.handler_grace,
        ));
        // Made before waiting for the stream to open: if this request is
        // dropped meanwhile (its client left), the body's drop tells the
        // handler.
        let body = StreamBody::new(outbox.clone(), route.heartbeat.clone());
        if !open {
            if let Some(answer) = opened(&outbox, route.heartbeat.as_ref()).await {
                drop(body);
                return Ok(Opened::Answer(answer_response(answer)));
            }
        }
        outbox.opened();
        Ok(Opened::Stream(match route.compression {
            Compression::Off => body,
            _ => body.compressed(encoder),
        }))
    }
}

/// How a request to a route was served.
enum Opened {
    Stream(StreamBody),
    /// A `HEAD`: the stream's response head, with no body.
    Head(Response<Body>),
    /// The handler answered instead of streaming.
    Answer(Response<Body>),
}

/// Waits until the handler of a stream that is not yet open answers
/// (`Some`) or begins the stream (`None`): its first event, its end, or a
/// heartbeat period without either (an idle stream still gets its head
/// while clients and proxies wait for it).
async fn opened(outbox: &Outbox, heartbeat: Option<&Heartbeat>) -> Option<Answer> {
    let decided = std::future::poll_fn(|cx| outbox.poll_opened(cx));
    let Some(heartbeat) = heartbeat else {
        return decided.await;
    };
    match tokio::time::timeout(heartbeat.period(), decided).await {
        Ok(decided) => decided,
        Err(_) => outbox.open_now(),
    }
}
