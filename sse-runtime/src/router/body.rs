//! What the router and the server answer: the body of every response, the
//! headers of a stream's response (one list, for every protocol path), and
//! the short plain-text answers (rejections, 404, 405, 503).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;

use crate::answer::Answer;
use crate::error::BoxError;
use crate::methods::Methods;
use crate::outbox::StreamBody;
use crate::route::Rejection;

/// The headers of every stream's response, whichever path writes it:
/// `no-store` so nothing caches a stream, `x-accel-buffering: no` so nginx
/// does not buffer it.
pub(crate) const STREAM_HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-store"),
    ("x-accel-buffering", "no"),
];

/// The headers of `body`'s response: [`STREAM_HEADERS`], and for a route
/// that compresses, its encoding and `Vary`.
pub(crate) fn stream_headers(
    body: &StreamBody,
) -> impl Iterator<Item = (&'static str, &'static str)> {
    let encoding = body
        .content_encoding()
        .map(|encoding| ("content-encoding", encoding));
    let vary = body.varies().then_some(("vary", "accept-encoding"));
    STREAM_HEADERS.into_iter().chain(encoding).chain(vary)
}

/// A stream's response, for hyper to write.
pub(crate) fn stream_response(body: StreamBody) -> Response<Body> {
    let mut headers = http::HeaderMap::new();
    for (name, value) in stream_headers(&body) {
        headers.insert(name, HeaderValue::from_static(value));
    }
    let mut response = Response::new(Body::stream(body));
    *response.headers_mut() = headers;
    response
}

pub(crate) fn text_response(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::full(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

pub(crate) fn rejection_response(rejection: &Rejection) -> Response<Body> {
    let headers = rejection.headers();
    if !headers.contains_key(CONTENT_TYPE) {
        let mut response = text_response(rejection.status(), rejection.message());
        for (name, value) in headers {
            response.headers_mut().append(name, value.clone());
        }
        return response;
    }
    // A response of the user's making: its body as it is.
    let body = Bytes::from(rejection.message().to_owned());
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = rejection.status();
    *response.headers_mut() = headers.clone();
    response
}

/// `404`: what a request no route (and no fallback) takes gets.
pub(crate) fn not_found() -> Response<Body> {
    text_response(StatusCode::NOT_FOUND, "not found")
}

/// `405` for a route's path asked with a method none of its routes
/// answers: `Allow` lists those they do, and `HEAD` with `GET`.
pub(crate) fn method_not_allowed(allow: Methods) -> Response<Body> {
    let listed = allow.to_string();
    let mut response = text_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("this event stream is opened with {listed}"),
    );
    let allowed = match allow.contains(&http::Method::GET) {
        true => listed.replacen("GET", "GET, HEAD", 1),
        false => listed,
    };
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// `response` as the answer to a `HEAD`: its head alone. HTTP/1.1 writes no
/// body for a `HEAD` whatever the response holds, but HTTP/2 would send it
/// (and a client resets the stream), so every `HEAD` answer is emptied here.
pub(crate) fn head_only<B>(response: Response<B>) -> Response<Body> {
    response.map(|_| Body::default())
}

/// What a handler answered instead of a stream, as it made it.
pub(crate) fn answer_response(answer: Answer) -> Response<Body> {
    answer.into_response().map(Body::full)
}

/// The body of every response the router and the server send: a stream, a
/// short text, or a fallback's body.
///
/// ```
/// use http_body::Body as _;
/// fn is_streaming(response: &http::Response<sse_runtime::router::Body>) -> bool {
///     !response.body().is_end_stream()
/// }
/// ```
pub struct Body(BodyKind);

/// An empty body, as layers answer by themselves (a CORS preflight, a `401`).
impl Default for Body {
    fn default() -> Self {
        Self(BodyKind::Full(None))
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.0 {
            BodyKind::Stream(_) => "stream",
            BodyKind::Full(_) => "full",
            BodyKind::Boxed(_) => "boxed",
        };
        f.debug_tuple("Body").field(&kind).finish()
    }
}

enum BodyKind {
    Stream(StreamBody),
    Full(Option<Bytes>),
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl Body {
    pub(crate) fn stream(body: StreamBody) -> Self {
        Self(BodyKind::Stream(body))
    }

    pub(crate) fn full(bytes: Bytes) -> Self {
        Self(BodyKind::Full(Some(bytes)))
    }

    /// `body` as a `Body`: boxed, unless it is one already (what a layer
    /// that keeps the body type, such as CORS, hands back), so a stream is
    /// not wrapped once more per layer.
    pub(crate) fn boxed<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut body = Some(body);
        if let Some(ours) = (&mut body as &mut dyn std::any::Any).downcast_mut::<Option<Self>>() {
            if let Some(ours) = ours.take() {
                return ours;
            }
        }
        match body {
            Some(body) => Self(BodyKind::Boxed(body.map_err(Into::into).boxed_unsync())),
            // Taken only when it was a `Body`, which returned above.
            None => Self::default(),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().0 {
            BodyKind::Stream(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|frame| frame.map(|frame| frame.map_err(|never| match never {}))),
            BodyKind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            BodyKind::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            BodyKind::Stream(_) => false,
            BodyKind::Full(bytes) => bytes.is_none(),
            BodyKind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &self.0 {
            BodyKind::Stream(_) => http_body::SizeHint::default(),
            BodyKind::Full(bytes) => {
                http_body::SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            BodyKind::Boxed(body) => body.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_handed_back_by_a_layer_is_not_boxed_again() {
        let body = Body::boxed(Body::full(Bytes::from_static(b"x")));
        assert!(matches!(body.0, BodyKind::Full(Some(_))));
        let other = Body::boxed(http_body_util::Full::new(Bytes::from_static(b"x")));
        assert!(matches!(other.0, BodyKind::Boxed(_)));
    }
}
