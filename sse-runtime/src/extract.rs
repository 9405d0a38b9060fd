//! Extractors: handler arguments taken from the request before the stream
//! opens.
//!
//! An `#[sse]` handler's arguments other than its session and its path
//! parameters are extractors: types that implement [`FromRequest`]. A failed
//! extraction refuses the request with its [`Rejection`] (400 unless it says
//! otherwise) instead of opening a stream, so an `EventSource` with a bad URL
//! stops reconnecting.
//!
//! ```
//! use sse_runtime::extract::{LastEventId, Query, State};
//! use sse_runtime::sse;
//!
//! #[derive(serde::Deserialize)]
//! struct Filter { level: Option<String> }
//!
//! #[derive(Clone)]
//! struct Config { greeting: &'static str }
//!
//! #[sse("/logs")]
//! async fn logs(session: LogsSession, filter: Query<Filter>, last: LastEventId, config: State<Config>) {
//!     let _ = (filter.0.level, last.0, config.0.greeting);
//! }
//! # let _ = sse_runtime::Server::new().state(Config { greeting: "hi" }).route(logs);
//! ```

use std::future::Future;

use http::StatusCode;

use crate::request::{PeerAddr, Request};
use crate::route::Rejection;

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
/// impl FromRequest for User {
///     type Rejection = Rejection;
///
///     async fn from_request(request: &Request) -> Result<Self, Rejection> {
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument: it is neither the session, a path parameter, nor an extractor",
    label = "not the session, not a `{{param}}` of the path, and not an extractor",
    note = "a path parameter's argument has the name of its `{{param}}` in the path; an extractor implements `sse_runtime::extract::FromRequest` (built in: `Query<T>`, `LastEventId`, `State<T>`, `PeerAddr`)"
)]
pub trait FromRequest: Sized + Send + 'static {
    /// What a refusal answers: a [`Rejection`], or anything that converts
    /// into one (a status, a status and a text, an `http::Response<String>`).
    type Rejection: Into<Rejection>;

    /// Extracts the value, or refuses the request.
    fn from_request(
        request: &Request,
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

impl<T: serde::de::DeserializeOwned + Send + 'static> FromRequest for Query<T> {
    type Rejection = Rejection;

    async fn from_request(request: &Request) -> Result<Self, Rejection> {
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

impl FromRequest for LastEventId {
    type Rejection = Rejection;

    async fn from_request(request: &Request) -> Result<Self, Rejection> {
        Ok(Self(request.last_event_id().map(str::to_owned)))
    }
}

/// Shared state registered with [`Server::state`](crate::Server::state),
/// cloned for each stream (wrap large state in an `Arc`). A type that was
/// never registered is a server bug: the request gets 500 and the log says
/// which type is missing.
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
/// let server = sse_runtime::Server::new().state(Arc::new(Db)).route(feed);
/// # let _ = server;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromRequest for State<T> {
    type Rejection = Rejection;

    async fn from_request(request: &Request) -> Result<Self, Rejection> {
        match request.state::<T>() {
            Some(state) => Ok(State(state.clone())),
            None => {
                let type_name = std::any::type_name::<T>();
                tracing::error!(
                    state = type_name,
                    "a handler asked for state that was never registered with Server::state"
                );
                Err(Rejection::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server misconfigured: missing state",
                ))
            }
        }
    }
}

impl FromRequest for PeerAddr {
    type Rejection = Rejection;

    async fn from_request(request: &Request) -> Result<Self, Rejection> {
        request
            .peer_addr()
            .map(PeerAddr)
            .ok_or_else(|| Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "no peer address"))
    }
}
