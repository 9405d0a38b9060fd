//! An answer: the plain response a route gives instead of a stream, once it
//! has read the request (see [`Session::answer`](crate::Session::answer)).

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue};
use http::StatusCode;

/// A plain response a route gives instead of a stream, once it has read the
/// request: OpenAI's `"stream": false` gets one JSON object, an MCP
/// notification `202`. Given with [`Session::answer`](crate::Session::answer) before the stream's
/// first event; unlike a [`Rejection`](crate::Rejection), it is logged and counted as an
/// answer (`sse_requests_answered_total`), not a refusal.
///
/// ```
/// use sse_runtime::route::Answer;
/// let accepted = Answer::from(http::StatusCode::ACCEPTED);
/// assert_eq!(accepted.status(), 202);
///
/// let reply = Answer::json(&serde_json::json!({"object": "chat.completion"}));
/// assert_eq!(reply.headers()["content-type"], "application/json");
/// assert_eq!(&reply.body()[..], br#"{"object":"chat.completion"}"#);
/// ```
#[derive(Clone, Debug)]
pub struct Answer {
    response: http::Response<Bytes>,
}

impl Answer {
    /// `value` as a `200` JSON response. A value that does not serialize
    /// (a map with non-string keys, a failing `Serialize`) is answered
    /// `500`, and the error logged.
    ///
    /// ```
    /// let answer = sse_runtime::route::Answer::json(&[1, 2, 3]);
    /// assert_eq!(&answer.body()[..], b"[1,2,3]");
    /// ```
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(json) => {
                let mut response = http::Response::new(Bytes::from(json));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Self { response }
            }
            Err(err) => {
                tracing::error!(error = %err, "an answer's JSON did not serialize");
                Self::from(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// The same answer with another status.
    ///
    /// ```
    /// use sse_runtime::route::Answer;
    /// let created = Answer::json(&"ok").status_code(http::StatusCode::CREATED);
    /// assert_eq!(created.status(), 201);
    /// ```
    pub fn status_code(mut self, status: StatusCode) -> Self {
        *self.response.status_mut() = status;
        self
    }

    /// The response status.
    ///
    /// ```
    /// assert_eq!(sse_runtime::route::Answer::from(http::StatusCode::NO_CONTENT).status(), 204);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The response headers.
    ///
    /// ```
    /// assert!(sse_runtime::route::Answer::from(http::StatusCode::ACCEPTED).headers().is_empty());
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The response body.
    ///
    /// ```
    /// assert!(sse_runtime::route::Answer::from(http::StatusCode::ACCEPTED).body().is_empty());
    /// ```
    pub fn body(&self) -> &Bytes {
        self.response.body()
    }

    pub(crate) fn into_response(self) -> http::Response<Bytes> {
        self.response
    }
}

/// The status alone, with no body: `202 Accepted` for an MCP notification.
///
/// ```
/// let answer = sse_runtime::route::Answer::from(http::StatusCode::ACCEPTED);
/// assert!(answer.body().is_empty());
/// ```
impl From<StatusCode> for Answer {
    fn from(status: StatusCode) -> Self {
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = status;
        Self { response }
    }
}

/// A whole response of your making.
///
/// ```
/// let response = http::Response::builder()
///     .header("content-type", "text/plain")
///     .body("done".to_owned())
///     .unwrap();
/// let answer = sse_runtime::route::Answer::from(response);
/// assert_eq!(&answer.body()[..], b"done");
/// ```
impl<B: Into<Bytes>> From<http::Response<B>> for Answer {
    fn from(response: http::Response<B>) -> Self {
        Self {
            response: response.map(Into::into),
        }
    }
}
