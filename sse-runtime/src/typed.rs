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

use crate::serializer::{DataWriter, DecodeError, SerializeError};
use crate::session::Session;

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
    note = "declare its type in the route's attribute, `#[sse(..., events(MyType))]` (a named type: a struct, or an alias such as `type Note = &'static str;`), and send values of it, not references to them; or send a raw `sse_runtime::Event` with `send_event`"
)]
pub trait EventOf<R>: Send {
    /// The event name its sends write as `event:`; `None` for the default
    /// (`message`).
    const NAME: Option<&'static str>;

    /// Encodes the value with the route's serializer.
    fn encode(&self, out: &mut DataWriter<'_>) -> Result<(), SerializeError>;
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
    message = "`{Self}` is not a route that declares event types",
    label = "a route type whose `#[sse]` has `events(...)`",
    note = "name the route type, `FeedRoute` for `fn feed` (not its session or event enum), and declare its types in its attribute, `#[sse(\"/path\", serializer = Json, events(MyEvent = \"name\"))]`; or read raw messages from `EventSource::next`"
)]
pub trait DeclaredEvents {
    /// One variant per declared type.
    type Event;
    /// The route's serializer, which also decodes.
    type Serializer;
}

/// Decodes an event of the enum a route's attribute generates, choosing the
/// variant by event name. Implemented by `#[sse]`; generic over the
/// serializer so that it only applies when every declared type can be
/// decoded. Code generic over routes names it in its bounds:
///
/// ```
/// use sse_runtime::typed::{DeclaredEvents, DecodeEvent};
///
/// fn decode<R: DeclaredEvents>(event: &str, data: &str) -> Option<R::Event>
/// where
///     R::Event: DecodeEvent<R::Serializer>,
/// {
///     R::Event::decode_event(event, data)?.ok()
/// }
/// ```
pub trait DecodeEvent<S>: Sized {
    /// `None` when `event` is not a declared name.
    fn decode_event(event: &str, data: &str) -> Option<Result<Self, DecodeError>>;
}

/// A value of the enum a route's attribute generates: which event it is.
/// Implemented by `#[sse]`.
///
/// ```
/// use sse_runtime::{sse, typed::EventEnum};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Tick { n: u32 }
///
/// #[sse("/ticks", serializer = Json, events(Tick = "tick"))]
/// async fn ticks(session: TicksSession) {}
///
/// assert_eq!(TicksEvent::Tick(Tick { n: 1 }).event_name(), "tick");
/// ```
pub trait EventEnum {
    /// The event's name on the wire (`message` for the unnamed type).
    fn event_name(&self) -> &'static str;
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

/// The request body a route declares: the `T` of its `Json<T>` or
/// `Form<T>` argument, and the method that sends it. Implemented by
/// `#[sse]`; the client's `Builder::body_for` (feature `client`) takes it,
/// so that a client sending a body of another type does not compile.
///
/// ```
/// use sse_runtime::extract::Json;
/// use sse_runtime::sse;
/// use sse_runtime::typed::DeclaredBody;
///
/// #[derive(serde::Deserialize)]
/// struct Prompt { text: String }
///
/// #[sse("/complete", method = "POST")]
/// async fn complete(session: CompleteSession, Json(prompt): Json<Prompt>) {
///     let _ = (session, prompt.text);
/// }
///
/// assert_eq!(<CompleteRoute as DeclaredBody>::METHOD, http::Method::POST);
/// assert!(!<CompleteRoute as DeclaredBody>::FORM);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` declares no typed request body",
    label = "not a route that takes `Json<T>` or `Form<T>`",
    note = "`body_for::<R>` sends the body route `R` reads with a `Json<T>` or `Form<T>` argument; for any other body, use `.json(&value)` or `.body(bytes, content_type)`"
)]
pub trait DeclaredBody {
    /// The body's type.
    type Body;
    /// The first method the route answers that sends a body.
    const METHOD: http::Method;
    /// Whether the body is a form (`application/x-www-form-urlencoded`)
    /// rather than JSON.
    const FORM: bool;
}
