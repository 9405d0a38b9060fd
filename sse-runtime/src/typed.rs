//! Typed routes: the event types a route declares and how they are encoded.
//!
//! `#[sse(..., serializer = Json, events(Customer = "customer", Product))]`
//! implements [`EventOf<route>`](EventOf) for `Customer` and `Product`: each
//! knows its event name and encodes itself with the route's serializer. A
//! session's `send::<T>()` requires `T: EventOf<route>`, so sending any other
//! type is a compile error that names the route.
//!
//! ```compile_fail
//! use sse_runtime::sse;
//!
//! #[derive(serde::Serialize)]
//! struct Customer { id: u32 }
//!
//! #[sse("/customers", serializer = Json, events(Customer = "customer"))]
//! async fn customers(session: CustomersSession) -> Result<(), sse_runtime::Error> {
//!     session.send("not a customer").await // error: `&str` is not an event type of `customers`
//! }
//! ```

use std::marker::PhantomData;

use crate::serializer::{DataWriter, Decode, DecodeError, SerializeError, Serializer};
use crate::session::{SendValue, Session};

/// A type declared in the `events(...)` of the route `R`.
///
/// Implemented by the `#[sse]` attribute; by hand only for routes written
/// without it.
///
/// ```
/// use sse_runtime::serializer::{DataWriter, Json, SerializeError, Serializer};
/// use sse_runtime::typed::EventOf;
///
/// struct MyRoute;
/// #[derive(serde::Serialize)]
/// struct Tick(u64);
///
/// impl EventOf<MyRoute> for Tick {
///     const NAME: Option<&'static str> = Some("tick");
///     fn encode(&self, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
///         Json.serialize(self, out)
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event type of the route `{R}`",
    label = "`{R}` does not declare `{Self}`",
    note = "declare it in the route's attribute, `#[sse(..., events({Self}))]`, or send a raw `sse_runtime::Event` with `send_event`"
)]
pub trait EventOf<R>: Send {
    /// The event name its sends write as `event:`; `None` for the default
    /// (`message`).
    const NAME: Option<&'static str>;

    /// Encodes the value with the route's serializer.
    fn encode(&self, out: &mut DataWriter<'_>) -> Result<(), SerializeError>;
}

/// The serializer of the types declared on route `R`: each encodes itself
/// through [`EventOf::encode`].
///
/// ```
/// use sse_runtime::typed::Declared;
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
    /// let serializer = sse_runtime::typed::Declared::<MyRoute>::new();
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

/// Encodes `Self` with the serializer `S`; the code `#[sse]` generates calls
/// it so that a declared type its serializer cannot encode is reported on that
/// type in the attribute.
#[doc(hidden)]
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
/// # use sse_runtime::typed::{send_declared, EventOf};
/// # async fn f<R: 'static, T: EventOf<R>>(session: &sse_runtime::Session, value: T) -> Result<(), sse_runtime::Error> {
/// send_declared::<R, T>(session, value).id("7").await
/// # }
/// ```
pub fn send_declared<R: 'static, T: EventOf<R>>(
    session: &Session,
    value: T,
) -> SendValue<'_, Declared<R>, T> {
    let send = session.send_value(Declared::new(), value);
    match T::NAME {
        Some(name) => send.event(name),
        None => send,
    }
}

/// A route whose attribute declares event types: `#[sse(..., events(...))]`
/// implements it, with `Event` the generated enum of those types (for
/// `#[sse] async fn feed`, `FeedEvent`, one variant per type).
///
/// The typed client (`EventSource::typed`, the `client` feature) uses it to decode
/// each event by name with the route's serializer.
///
/// ```
/// use sse_runtime::{sse, typed::DeclaredEvents};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Tick(u64);
///
/// #[sse("/ticks", serializer = Json, events(Tick = "tick"))]
/// async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
///     session.send(Tick(1)).await
/// }
///
/// fn event_of<R: DeclaredEvents>() {}
/// event_of::<TicksRoute>(); // with `type Event = TicksEvent`
/// ```
#[diagnostic::on_unimplemented(
    message = "the route `{Self}` declares no event types",
    label = "no `events(...)` in this route's attribute",
    note = "declare them, `#[sse(\"/path\", serializer = Json, events(MyEvent = \"name\"))]`, or read raw messages from `EventSource::next`"
)]
pub trait DeclaredEvents {
    /// One variant per declared type.
    type Event;
    /// The route's serializer, which also decodes.
    type Serializer;
}

/// Decodes an event of the enum a route's attribute generates, choosing the
/// variant by event name. Generated by `#[sse]`; generic over the serializer
/// so that it only applies when every declared type can be decoded.
#[doc(hidden)]
pub trait DecodeEvent<S>: Sized {
    /// `None` when `event` is not a declared name.
    fn decode_event(event: &str, data: &str) -> Option<Result<Self, DecodeError>>;
}

/// Decodes `Self` with the serializer `S`; the generated [`DecodeEvent`]
/// calls it so that a declared type that cannot be decoded is named.
#[doc(hidden)]
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

/// The session of route `R`: what a [`Hub<R>`](crate::hub::Hub) serves into.
/// `#[sse]` implements it for the session type it generates, so a hub can
/// only feed the route whose events it publishes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the session of the route `{R}`",
    label = "a `Hub<{R}>` serves only the session of `{R}`",
    note = "serve the hub of this route, `Hub<ThisRoute>`, whose `publish` accepts this route's event types"
)]
pub trait SessionOf<R> {
    /// The untyped session.
    fn session(&self) -> &Session;
}
