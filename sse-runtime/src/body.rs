//! Request bodies: the one place a body is read (whole, under a limit and a
//! deadline, for every protocol path and for a router mounted in another
//! app), and the extractors that take it: [`Json`], [`Form`], and the raw
//! body as `Bytes` or `String`.
//!
//! A body extractor runs after the route's other extractors accepted the
//! request (so `Expect: 100-continue` is answered only then), and before
//! the handler starts or any response head is sent: a body that is too
//! large (`413`), too slow (`408`), of the wrong type (`415`), malformed
//! (`400`) or of the wrong shape (`422`) is refused, and no handler runs.

use std::future::Future;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use http::{StatusCode, Version};
use http_body_util::BodyExt as _;

use crate::error::BoxError;
use crate::request::Request;
use crate::route::Rejection;

/// A value taken from the request's body, read whole before the handler
/// starts: [`Json`], [`Form`], `Bytes` or `String`, or one of your own. A
/// handler takes at most one (there is one body); its other arguments are
/// [`FromRequest`](crate::extract::FromRequest) extractors, which see the
/// request's head and run first.
///
/// An `#[sse]` handler's argument is a body extractor when its type is
/// `Json<T>`, `Form<T>`, `Bytes` or `String` (not named like a path
/// parameter), or when it is marked `#[body]`: the attribute must know
/// which argument takes the body, to say at compile time that a handler
/// takes two, or that a `GET` route has none.
///
/// ```
/// use sse_runtime::extract::FromBody;
/// use sse_runtime::{Rejection, Request};
///
/// /// A body of comma-separated numbers.
/// struct Numbers(Vec<u64>);
///
/// impl<S: Sync> FromBody<S> for Numbers {
///     type Rejection = Rejection;
///
///     async fn from_body(_request: &Request, body: bytes::Bytes, _state: &S) -> Result<Self, Rejection> {
///         let text = std::str::from_utf8(&body).map_err(|_| Rejection::bad_request("not UTF-8"))?;
///         text.split(',')
///             .map(|n| n.trim().parse().map_err(|_| Rejection::bad_request("not a number")))
///             .collect::<Result<_, _>>()
///             .map(Numbers)
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take the request's body",
    label = "marked `#[body]`, but not a body extractor for state `{S}`",
    note = "a body extractor implements `sse_runtime::extract::FromBody` (built in: `Json<T>`, `Form<T>`, `Bytes`, `String`)"
)]
pub trait FromBody<S>: Sized + Send + 'static {
    /// What a refusal answers: a [`Rejection`], or anything that converts
    /// into one.
    type Rejection: Into<Rejection>;

    /// Extracts the value from the request, its whole `body` and the
    /// router's state, or refuses the request.
    fn from_body(
        request: &Request,
        body: Bytes,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send;
}

/// How much of a body a route reads, and for how long.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyLimits {
    pub(crate) max: usize,
    pub(crate) timeout: Option<Duration>,
}

/// Reads `body` whole, under `limits`: the one place every path reads a
/// request body. A body declared larger than the limit is refused before a
/// byte of it is read (`413`); one that grows past it, or is still arriving
/// at the deadline (`408`), or fails (`400`), is refused where it stands, and
/// on HTTP/1 the connection is then closed (the rest of the body would be
/// read as the next request).
pub(crate) async fn read<B>(
    body: B,
    version: Version,
    limits: BodyLimits,
) -> Result<Bytes, Rejection>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let too_large = || {
        close_after(
            version,
            Rejection::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {} bytes", limits.max),
            ),
        )
    };
    if body.size_hint().lower() > limits.max as u64 {
        return Err(too_large());
    }
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let collect = async {
        let mut body = std::pin::pin!(body);
        // The first data frame is kept as it is: a body that arrives in
        // one piece (most do) is never copied.
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|err| {
                let err: BoxError = err.into();
                close_after(
                    version,
                    Rejection::bad_request(format!("the request body could not be read: {err}")),
                )
            })?;
            let Ok(mut data) = frame.into_data() else {
                continue;
            };
            let had = first.as_ref().map_or(0, Bytes::len) + rest.len();
            if had + data.remaining() > limits.max {
                return Err(too_large());
            }
            match &first {
                None => first = Some(data.copy_to_bytes(data.remaining())),
                Some(_) => {
                    while data.has_remaining() {
                        let chunk = data.chunk();
                        rest.extend_from_slice(chunk);
                        let n = chunk.len();
                        data.advance(n);
                    }
                }
            }
        }
        Ok(match first {
            None => Bytes::new(),
            Some(first) if rest.is_empty() => first,
            Some(first) => {
                let mut whole = BytesMut::with_capacity(first.len() + rest.len());
                whole.extend_from_slice(&first);
                whole.extend_from_slice(&rest);
                whole.freeze()
            }
        })
    };
    match limits.timeout {
        None => collect.await,
        Some(timeout) => match tokio::time::timeout(timeout, collect).await {
            Ok(read) => read,
            Err(_) => Err(close_after(
                version,
                Rejection::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive within {} ms",
                        timeout.as_millis()
                    ),
                ),
            )),
        },
    }
}

/// `rejection`, closing an HTTP/1 connection after it: what is left of the
/// body must not be read as the next request. (HTTP/2 ends the stream alone.)
fn close_after(version: Version, rejection: Rejection) -> Rejection {
    match version {
        Version::HTTP_2 | Version::HTTP_3 => rejection,
        _ => rejection.header(CONNECTION, HeaderValue::from_static("close")),
    }
}

/// The request body as JSON, deserialized with serde: the request must say
/// `Content-Type: application/json` (or a `+json` type such as
/// `application/merge-patch+json`), else `415`; JSON that does not parse is
/// refused `400`, and JSON of another shape `422`, each with serde's reason,
/// where in the value (`messages[0].role`) and where in the text (line and
/// column).
///
/// As a route's `serializer = Json`, `Json` is the JSON serializer,
/// whichever `Json` is imported.
///
/// ```
/// use sse_runtime::extract::Json;
/// use sse_runtime::sse;
///
/// #[derive(serde::Deserialize)]
/// struct Prompt { text: String }
///
/// #[sse("/complete", method = "POST")]
/// async fn complete(session: CompleteSession, Json(prompt): Json<Prompt>) -> Result<(), sse_runtime::Error> {
///     for word in prompt.text.split_whitespace() {
///         session.send(word).await?;
///     }
///     Ok(())
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json<T = ()>(pub T);

impl<S: Sync, T: serde::de::DeserializeOwned + Send + 'static> FromBody<S> for Json<T> {
    type Rejection = Rejection;

    async fn from_body(request: &Request, body: Bytes, _state: &S) -> Result<Self, Rejection> {
        read_json(request, &body)
    }
}

/// What `Json<T>` extracts from `request`'s `body`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    request: &Request,
    body: &[u8],
) -> Result<Json<T>, Rejection> {
    if !is_json(request.headers().get(CONTENT_TYPE)) {
        return Err(Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected a request with `Content-Type: application/json`",
        ));
    }
    json(body).map(Json)
}

/// Deserializes `body`, telling a malformed text (`400`) from a value of the
/// wrong shape (`422`).
fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Rejection> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| (err.path().to_string(), err.into_inner()))
        .and_then(|value| {
            // Nothing but whitespace after the value.
            deserializer
                .end()
                .map(|()| value)
                .map_err(|err| (String::new(), err))
        });
    value.map_err(|(path, inner)| {
        let status = match inner.classify() {
            serde_json::error::Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        let at = match path.as_str() {
            "." | "" => String::new(),
            path => format!(" at `{path}`"),
        };
        let what = match status {
            StatusCode::UNPROCESSABLE_ENTITY => "the JSON body does not match the expected shape",
            _ => "the JSON body is malformed",
        };
        Rejection::new(status, format!("{what}{at}: {inner}"))
    })
}

/// `application/json`, or any `+json` type, with any parameters.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(essence) = essence(content_type) else {
        return false;
    };
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.trim().eq_ignore_ascii_case("application")
        && (subtype.trim().eq_ignore_ascii_case("json")
            || subtype.trim().to_ascii_lowercase().ends_with("+json"))
}

/// A content type without its parameters.
fn essence(content_type: Option<&HeaderValue>) -> Option<&str> {
    let text = content_type?.to_str().ok()?;
    Some(text.split(';').next().unwrap_or("").trim())
}

impl crate::serializer::Format for Json {}

impl<V: serde::Serialize + ?Sized> crate::serializer::Serializer<V> for Json {
    fn serialize(
        &self,
        value: &V,
        out: &mut crate::serializer::DataWriter<'_>,
    ) -> Result<(), crate::serializer::SerializeError> {
        crate::serializer::Json.serialize(value, out)
    }
}

impl<V: serde::de::DeserializeOwned> crate::serializer::Decode<V> for Json {
    fn decode(&self, data: &str) -> Result<V, crate::serializer::DecodeError> {
        crate::serializer::Decode::<V>::decode(&crate::serializer::Json, data)
    }
}

/// The request body as an HTML form (`application/x-www-form-urlencoded`,
/// else `415`), deserialized with serde; a form of another shape is refused
/// `422` with serde's reason.
///
/// ```
/// use sse_runtime::extract::Form;
/// use sse_runtime::sse;
///
/// #[derive(serde::Deserialize)]
/// struct Search { q: String }
///
/// #[sse("/search", method = "POST")]
/// async fn search(session: SearchSession, Form(search): Form<Search>) -> Result<(), sse_runtime::Error> {
///     session.send(search.q).await
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<S: Sync, T: serde::de::DeserializeOwned + Send + 'static> FromBody<S> for Form<T> {
    type Rejection = Rejection;

    async fn from_body(request: &Request, body: Bytes, _state: &S) -> Result<Self, Rejection> {
        read_form(request, &body)
    }
}

/// What `Form<T>` extracts from `request`'s `body`.
pub(crate) fn read_form<T: serde::de::DeserializeOwned>(
    request: &Request,
    body: &[u8],
) -> Result<Form<T>, Rejection> {
    {
        let form = essence(request.headers().get(CONTENT_TYPE)).is_some_and(|essence| {
            essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if !form {
            return Err(Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request with `Content-Type: application/x-www-form-urlencoded`",
            ));
        }
        serde_urlencoded::from_bytes(body).map(Form).map_err(|err| {
            Rejection::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the form body does not match the expected shape: {err}"),
            )
        })
    }
}

/// The raw body, whatever its type.
impl<S: Sync> FromBody<S> for Bytes {
    type Rejection = std::convert::Infallible;

    async fn from_body(
        _request: &Request,
        body: Bytes,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(body)
    }
}

/// The raw body as text: UTF-8, else `400`.
impl<S: Sync> FromBody<S> for String {
    type Rejection = Rejection;

    async fn from_body(_request: &Request, body: Bytes, _state: &S) -> Result<Self, Rejection> {
        String::from_utf8(body.into()).map_err(|err| {
            Rejection::bad_request(format!(
                "the request body is not UTF-8 (at byte {})",
                err.utf8_error().valid_up_to()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let is = |value: &str| is_json(Some(&HeaderValue::from_str(value).unwrap()));
        assert!(is("application/json"));
        assert!(is("application/json; charset=utf-8"));
        assert!(is("Application/JSON"));
        assert!(is("application/merge-patch+json"));
        assert!(is("application/vnd.api+json;v=1"));
        assert!(!is("text/json"));
        assert!(!is("application/jsonx"));
        assert!(!is("text/plain"));
        assert!(!is(""));
        assert!(!is_json(None));
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Chat {
        model: String,
        messages: Vec<Message>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Message {
        role: String,
    }

    #[test]
    fn malformed_json_is_400_and_the_wrong_shape_422_with_where() {
        let malformed = json::<Chat>(br#"{"model": "x",,}"#).unwrap_err();
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        assert!(
            malformed.message().contains("line 1 column 15"),
            "{}",
            malformed.message()
        );

        let shape = json::<Chat>(br#"{"model": "x", "messages": [{"role": 7}]}"#).unwrap_err();
        assert_eq!(shape.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            shape.message().contains("`messages[0].role`"),
            "{}",
            shape.message()
        );
        assert!(shape.message().contains("column"), "{}", shape.message());

        let trailing = json::<Chat>(br#"{"model": "x", "messages": []} x"#).unwrap_err();
        assert_eq!(trailing.status(), StatusCode::BAD_REQUEST);
        let empty = json::<Chat>(b"").unwrap_err();
        assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_body_is_read_whole_or_refused_at_its_limit() {
        use http_body_util::Full;
        let limits = |max| BodyLimits { max, timeout: None };
        let full = Full::new(Bytes::from_static(b"hello"));
        let read_ok = read(full, Version::HTTP_11, limits(5)).await.unwrap();
        assert_eq!(&read_ok[..], b"hello");

        let declared = Full::new(Bytes::from_static(b"hello!"));
        let refused = read(declared, Version::HTTP_11, limits(5))
            .await
            .unwrap_err();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(refused.headers()[CONNECTION], "close");

        let frames = Frames::of;
        let grown = read(frames(&[b"abc", b"def"]), Version::HTTP_2, limits(5))
            .await
            .unwrap_err();
        assert_eq!(grown.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            grown.headers().get(CONNECTION).is_none(),
            "no connection header on HTTP/2"
        );
        let joined = read(frames(&[b"abc", b"de"]), Version::HTTP_11, limits(5))
            .await
            .unwrap();
        assert_eq!(&joined[..], b"abcde");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_still_arriving_at_the_deadline_is_408() {
        let never = Pending;
        let limits = BodyLimits {
            max: 10,
            timeout: Some(Duration::from_secs(1)),
        };
        let refused = read(never, Version::HTTP_11, limits).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::REQUEST_TIMEOUT);
    }

    /// A body of `parts`, one data frame each, with no declared length.
    struct Frames(std::iter::Copied<std::slice::Iter<'static, &'static [u8]>>);

    impl Frames {
        fn of(parts: &'static [&'static [u8]]) -> Self {
            Self(parts.iter().copied())
        }
    }

    impl http_body::Body for Frames {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            let next = self
                .0
                .next()
                .map(|p| Ok(http_body::Frame::data(Bytes::from_static(p))));
            std::task::Poll::Ready(next)
        }
    }

    struct Pending;

    impl http_body::Body for Pending {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Pending
        }
    }
}
