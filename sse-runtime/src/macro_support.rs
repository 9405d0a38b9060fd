//! What the code `#[sse]` generates calls, and nothing else does: public
//! only through `__private`, so none of it is API and it may change in any
//! release. Each item exists so that a misuse is reported on the user's
//! token (see the `on_unimplemented` messages).

use std::marker::PhantomData;

use http::StatusCode;

use crate::request::Request;
use crate::route::Rejection;
use crate::serializer::{DataWriter, Decode, DecodeError, SerializeError, Serializer};
use crate::session::{SendValue, Session};
use crate::typed::EventOf;

/// The serializer of the types declared on route `R`: each encodes itself
/// through [`EventOf::encode`].
///
/// ```
/// use sse_runtime::__private::Declared;
/// struct MyRoute;
/// let serializer: Declared<MyRoute> = Declared::new();
/// # drop(serializer);
/// ```
pub struct Declared<R>(PhantomData<fn() -> R>);

impl<R> Declared<R> {
    /// The serializer of route `R`'s declared types.
    ///
    /// ```
    /// struct MyRoute;
    /// let serializer = sse_runtime::__private::Declared::<MyRoute>::new();
    /// # drop(serializer);
    /// ```
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<R> Default for Declared<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> std::fmt::Debug for Declared<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Declared<{}>", std::any::type_name::<R>())
    }
}

impl<R: 'static, T: EventOf<R>> Serializer<T> for Declared<R> {
    fn serialize(&self, value: &T, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
        value.encode(out)
    }
}

/// Compiles only for a serialization format: what `#[sse]` asks of the type
/// its `serializer = ..` names, on that token, even if nothing is sent.
///
/// ```
/// const _: () = sse_runtime::__private::assert_format::<sse_runtime::serializer::Json>();
/// ```
pub const fn assert_format<F: crate::serializer::Format>() {}

/// Encodes `Self` with the serializer `S`; the code `#[sse]` generates calls
/// it so that a declared type its serializer cannot encode is reported on that
/// type in the attribute.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is declared as an event type, but the route's serializer `{S}` cannot encode it",
    label = "`{S}` cannot encode `{Self}`",
    note = "`Text` encodes types that implement `std::fmt::Display`; `Json` encodes types that implement `serde::Serialize` (add `#[derive(serde::Serialize)]`)"
)]
pub trait EncodeWith<S> {
    /// Encodes `self` with `S`'s default value.
    fn encode_with(&self, out: &mut DataWriter<'_>) -> Result<(), SerializeError>;
}

impl<S: Serializer<T> + Default, T> EncodeWith<S> for T {
    fn encode_with(&self, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
        S::default().serialize(self, out)
    }
}

/// Sends `value`, a declared event type of route `R`, with its event name.
///
/// ```no_run
/// # use sse_runtime::{__private::send_declared, typed::EventOf};
/// # async fn f<R: 'static, T: EventOf<R>>(session: &sse_runtime::Session, value: T) -> Result<(), sse_runtime::Error> {
/// send_declared::<R, T>(session, value).id("7").await
/// # }
/// ```
pub fn send_declared<R: 'static, T: EventOf<R>>(
    session: &Session,
    value: T,
) -> SendDeclared<'_, R, T> {
    let send = session.send_value(Declared::new(), value);
    SendDeclared {
        inner: match T::NAME {
            Some(name) => send.event(name),
            None => send,
        },
    }
}

pin_project_lite::pin_project! {
    /// The future of a declared type's `send`: its id, retry and comment can
    /// be set, its event name cannot (it comes from the declaration, and the
    /// typed client decodes by it).
    #[must_use = "futures do nothing unless you `.await` them"]
    pub struct SendDeclared<'a, R, T> {
        #[pin]
        inner: SendValue<'a, Declared<R>, T>,
    }
}

impl<R, T> SendDeclared<'_, R, T> {
    /// Sets the event id.
    pub fn id(self, id: impl crate::event::IntoEventId) -> Self {
        Self {
            inner: self.inner.id(id),
        }
    }

    /// Sets the client's reconnection delay.
    pub fn retry(self, retry: std::time::Duration) -> Self {
        Self {
            inner: self.inner.retry(retry),
        }
    }

    /// Adds a comment.
    pub fn comment(self, text: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self {
            inner: self.inner.comment(text),
        }
    }

    /// Not available: a declared type's event name is its declaration's.
    pub fn event<N: FixedEventName>(self, _name: N) -> Self {
        self
    }
}

impl<R, T> std::fmt::Debug for SendDeclared<'_, R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SendDeclared").field(&self.inner).finish()
    }
}

impl<R, T> std::future::Future for SendDeclared<'_, R, T> {
    type Output = Result<(), crate::Error>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

/// Implemented by nothing: what makes `.event(..)` on a declared send one
/// error that says what to do instead.
#[diagnostic::on_unimplemented(
    message = "a declared event type's name comes from the route's declaration and cannot be changed at the send",
    label = "the declaration names this event",
    note = "declare the type under the name you want, `events(MyType = \"name\")`, or send a raw event with `session.send_event(Event::new().event(\"name\").data(..))`"
)]
pub trait FixedEventName {}

/// Decodes `Self` with the serializer `S`; the generated
/// [`DecodeEvent`](crate::typed::DecodeEvent)
/// calls it so that a declared type that cannot be decoded is named.
#[diagnostic::on_unimplemented(
    message = "the typed client cannot decode `{Self}` with the route's serializer `{S}`",
    label = "`{S}` cannot decode `{Self}`",
    note = "`Text` decodes types that implement `std::str::FromStr`; `Json` decodes types that implement `serde::Deserialize` (add `#[derive(serde::Deserialize)]`)"
)]
pub trait DecodeWith<S>: Sized {
    /// Decodes `data` with `S`'s default value.
    fn decode_with(data: &str) -> Result<Self, DecodeError>;
}

impl<S: Decode<T> + Default, T> DecodeWith<S> for T {
    fn decode_with(data: &str) -> Result<Self, DecodeError> {
        S::default().decode(data)
    }
}

/// A path parameter parsed with `FromStr`; a value that does not parse is
/// refused with 400 and the parser's reason.
pub fn path_param<T>(request: &Request, name: &str) -> Result<T, Rejection>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let Some(raw) = request.param(name) else {
        return Err(Rejection::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("this route is mounted at a path without the parameter `{{{name}}}`"),
        ));
    };
    raw.parse()
        .map_err(|err| Rejection::bad_request(format!("invalid path parameter `{name}`: {err}")))
}

/// An extractor's result with its refusal as a [`Rejection`] (whatever
/// `FromRequest::Rejection` it declared), converted here rather than in the
/// user's code, where an identity conversion would trip a lint.
pub fn refusal<T, R: Into<Rejection>>(extracted: Result<T, R>) -> Result<T, Rejection> {
    extracted.map_err(Into::into)
}

/// Reads a `Json<Self>` body argument: called by the code `#[sse]`
/// generates, spanned on the `T` of `Json<T>`, so that a type that does not
/// deserialize is one error on it (a bound on the route would be checked
/// again where it is registered).
#[diagnostic::on_unimplemented(
    message = "the request body cannot be read as `{Self}`: it does not implement `serde::Deserialize`",
    label = "`Json<{Self}>` reads the body into this type",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}` (with owned fields: `String`, not `&str`)"
)]
pub trait JsonBody: Sized {
    /// The body as `Json<Self>`, or its refusal.
    fn json_body(request: &Request, body: &[u8]) -> Result<crate::body::Json<Self>, Rejection>;
}

impl<T: serde::de::DeserializeOwned> JsonBody for T {
    fn json_body(request: &Request, body: &[u8]) -> Result<crate::body::Json<Self>, Rejection> {
        crate::body::read_json(request, body)
    }
}

/// Reads a `Form<Self>` body argument; see [`JsonBody`].
#[diagnostic::on_unimplemented(
    message = "the form body cannot be read as `{Self}`: it does not implement `serde::Deserialize`",
    label = "`Form<{Self}>` reads the body into this type",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}` (with owned fields: `String`, not `&str`)"
)]
pub trait FormBody: Sized {
    /// The body as `Form<Self>`, or its refusal.
    fn form_body(request: &Request, body: &[u8]) -> Result<crate::body::Form<Self>, Rejection>;
}

impl<T: serde::de::DeserializeOwned> FormBody for T {
    fn form_body(request: &Request, body: &[u8]) -> Result<crate::body::Form<Self>, Rejection> {
        crate::body::read_form(request, body)
    }
}
