//! Extractors: handler arguments taken from the request before the stream
//! opens.
//!
//! An `#[sse]` handler's arguments other than its session and its path
//! parameters are extractors: types that implement [`FromRequest`], which see
//! the request's head, and at most one body extractor ([`FromBody`]: [`Json`],
//! [`Form`], `Bytes`, `String`), which takes its body, read whole. A failed
//! extraction refuses the request with its [`Rejection`] (400 unless it says
//! otherwise) instead of opening a stream, so an `EventSource` with a bad URL
//! stops reconnecting.
//!
//! # State
//!
//! Shared state is typed: the router holds one state value, given with
//! [`with_state`](crate::Server::with_state), and a handler takes any part of
//! it with [`State<T>`], where `T` implements [`FromRef`] of the router's
//! state. A route that asks for state the router does not provide does not
//! compile where it is registered. The router keeps the state in an `Arc`
//! that each request shares, so it need not be `Clone`; a part taken with
//! `State<T>` is cloned (an `Arc<Db>`, a handle). Several state types live in
//! one struct that derives [`FromRef`](macro@FromRef):
//!
//! ```
//! use std::sync::Arc;
//! use sse_runtime::extract::{FromRef, LastEventId, Query, State};
//! use sse_runtime::sse;
//!
//! #[derive(serde::Deserialize)]
//! struct Filter { level: Option<String> }
//!
//! struct Db;
//!
//! #[derive(FromRef)]
//! struct App { db: Arc<Db>, greeting: &'static str }
//!
//! #[sse("/logs")]
//! async fn logs(
//!     session: LogsSession,
//!     filter: Query<Filter>,
//!     last: LastEventId,
//!     db: State<Arc<Db>>,
//!     greeting: State<&'static str>,
//! ) {
//!     let _ = (filter.0.level, last.0, db.0, greeting.0);
//! }
//!
//! let app = App { db: Arc::new(Db), greeting: "hi" };
//! let server = sse_runtime::Server::new().with_state(app).route(logs);
//! # let _ = server;
//! ```
//!
//! # Why not axum's extractor traits
//!
//! The runtime serves streams without axum (its own HTTP/1.1 path keeps an
//! idle stream at a few kilobytes), so its extractors cannot be axum's
//! `FromRequestParts`, which takes `http::request::Parts` by `&mut` and needs
//! axum's request types. [`FromRequest`] has the same shape (async, typed
//! state, a rejection that is a response), so porting an extractor is a
//! rename; a route mounted in an axum app still sits under the app's layers.

use std::convert::Infallible;
use std::future::Future;

use http::StatusCode;

use crate::request::{PeerAddr, Request};
use crate::route::Rejection;

pub use crate::body::{Form, FromBody, Json};

/// A value taken from the request that opens a stream, before the stream
/// opens: extraction may await (a database, a token introspection), and a
/// refusal answers the request instead of a stream, so no handler runs and
/// the client never sees a `200` with an empty stream.
///
/// ```
/// use sse_runtime::extract::FromRequest;
/// use sse_runtime::{Rejection, Request};
///
/// /// The signed-in user, looked up by the session cookie.
/// struct User(String);
///
/// impl<S: Sync> FromRequest<S> for User {
///     type Rejection = Rejection;
///
///     async fn from_request(request: &Request, _state: &S) -> Result<Self, Rejection> {
///         let cookie = request.header("cookie").unwrap_or_default().to_owned();
///         match look_up(&cookie).await {
///             Some(name) => Ok(User(name)),
///             None => Err(Rejection::new(http::StatusCode::FORBIDDEN, "sign in first")
///                 .header(http::header::WWW_AUTHENTICATE, "Cookie")),
///         }
///     }
/// }
/// # async fn look_up(_cookie: &str) -> Option<String> { None }
/// ```
///
/// An extractor that needs state takes it from the router's state `S`
/// through [`FromRef`], so that it works in any app whose state provides it:
///
/// ```
/// use std::sync::Arc;
/// use sse_runtime::extract::{FromRef, FromRequest};
/// use sse_runtime::{Rejection, Request};
///
/// struct Tokens;
/// impl Tokens {
///     async fn user_of(&self, _token: &str) -> Option<String> { None }
/// }
///
/// struct User(String);
///
/// impl<S> FromRequest<S> for User
/// where
///     Arc<Tokens>: FromRef<S>,
///     S: Sync,
/// {
///     type Rejection = http::StatusCode;
///
///     async fn from_request(request: &Request, state: &S) -> Result<Self, http::StatusCode> {
///         let tokens = Arc::<Tokens>::from_ref(state);
///         let token = request.header("authorization").unwrap_or_default();
///         tokens.user_of(token).await.map(User).ok_or(http::StatusCode::UNAUTHORIZED)
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument: it is neither the session, a path parameter, nor an extractor for state `{S}`",
    label = "not the session, not a `{{param}}` of the path, and not an extractor",
    note = "a path parameter's argument has the name of its `{{param}}` in the path; an extractor implements `sse_runtime::extract::FromRequest` (built in: `Query<T>`, `LastEventId`, `State<T>`, `PeerAddr`); the body's, `sse_runtime::extract::FromBody` (`Json<T>`, `Form<T>`, `Bytes`, `String`, or one marked `#[body]`)"
)]
pub trait FromRequest<S>: Sized + Send + 'static {
    /// What a refusal answers: a [`Rejection`], or anything that converts
    /// into one (a status, a status and a text, an `http::Response<String>`).
    type Rejection: Into<Rejection>;

    /// Extracts the value from the request and the router's state, or
    /// refuses the request.
    fn from_request(
        request: &Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send;
}

/// The query string, deserialized with serde (`serde_urlencoded`). A query
/// that does not deserialize is refused with 400 and serde's reason.
///
/// ```
/// # use sse_runtime::sse;
/// use sse_runtime::extract::Query;
///
/// #[derive(serde::Deserialize)]
/// struct Page { since: Option<u64> }
///
/// #[sse("/feed")]
/// async fn feed(session: FeedSession, page: Query<Page>) {
///     let _since = page.0.since;
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<S: Sync, T: serde::de::DeserializeOwned + Send + 'static> FromRequest<S> for Query<T> {
    type Rejection = Rejection;

    async fn from_request(request: &Request, _state: &S) -> Result<Self, Rejection> {
        let query = request.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|err| Rejection::bad_request(format!("invalid query string: {err}")))
    }
}

/// The `Last-Event-ID` a reconnecting client sent, or `None` on a first
/// connection.
///
/// ```
/// # use sse_runtime::sse;
/// use sse_runtime::extract::LastEventId;
///
/// #[sse("/feed")]
/// async fn feed(session: FeedSession, last: LastEventId) {
///     let _resume_after: Option<String> = last.0;
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastEventId(pub Option<String>);

impl<S: Sync> FromRequest<S> for LastEventId {
    type Rejection = Rejection;

    async fn from_request(request: &Request, _state: &S) -> Result<Self, Rejection> {
        Ok(Self(request.last_event_id().map(str::to_owned)))
    }
}

/// A part of the router's state (the value given to
/// [`with_state`](crate::Server::with_state)): any `T` that implements
/// [`FromRef`] of it; the whole state, or one field of a state struct that
/// derives [`FromRef`](macro@FromRef). Taken by clone for each stream, so
/// wrap what is large in an `Arc`. A route that asks for state its router
/// does not provide is a compile error where it is registered.
///
/// ```
/// # use sse_runtime::sse;
/// use std::sync::Arc;
/// use sse_runtime::extract::State;
///
/// struct Db;
///
/// #[sse("/feed")]
/// async fn feed(session: FeedSession, db: State<Arc<Db>>) {
///     let _db: Arc<Db> = db.0;
/// }
///
/// let server = sse_runtime::Server::new().with_state(Arc::new(Db)).route(feed);
/// # let _ = server;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State<T>(pub T);

impl<S: Sync, T: FromRef<S> + Send + 'static> FromRequest<S> for State<T> {
    type Rejection = Infallible;

    async fn from_request(_request: &Request, state: &S) -> Result<Self, Infallible> {
        Ok(State(T::from_ref(state)))
    }
}

/// How a part of the router's state `S` is taken from it: what
/// [`State<T>`] needs of `T`. Every `Clone` type is a part of itself; derive
/// it on a state struct to make each of its fields a part.
///
/// ```
/// use std::sync::Arc;
/// use sse_runtime::extract::FromRef;
///
/// struct Db;
/// #[derive(FromRef)]
/// struct App {
///     db: Arc<Db>,
///     name: String,
///     // Two fields cannot have one type: which would `State<T>` take?
///     #[from_ref(skip)]
///     motto: String,
/// }
///
/// let app = App { db: Arc::new(Db), name: "chat".into(), motto: "hi".into() };
/// assert_eq!(String::from_ref(&app), "chat");
/// let _db: Arc<Db> = Arc::from_ref(&app);
/// ```
#[diagnostic::on_unimplemented(
    message = "the router's state `{S}` does not provide `{Self}`, which this route takes",
    label = "the route is registered here",
    note = "a route takes state with `State<T>` (or an extractor that needs it): give the state with `.with_state(value)` before `.route(..)`; for several state types, put them in one struct with `#[derive(FromRef)]` and give that"
)]
pub trait FromRef<S> {
    /// Takes this part of `state`.
    fn from_ref(state: &S) -> Self;
}

impl<T: Clone> FromRef<T> for T {
    fn from_ref(state: &T) -> T {
        state.clone()
    }
}

/// Derives [`FromRef`](trait@FromRef) of a state struct for the type of each
/// of its fields, so that `State<FieldType>` takes a clone of the field. Two
/// fields of one type are an error, unless all but one are marked
/// `#[from_ref(skip)]`. `#[from_ref(crate = "path")]` on the struct names the
/// runtime when it is a renamed dependency.
pub use sse_macros::FromRef;

impl<S: Sync> FromRequest<S> for PeerAddr {
    type Rejection = Rejection;

    async fn from_request(request: &Request, _state: &S) -> Result<Self, Rejection> {
        request
            .peer_addr()
            .map(PeerAddr)
            .ok_or_else(|| Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "no peer address"))
    }
}
