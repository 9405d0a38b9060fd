//! Server-Sent Events on hyper 1 and tokio.
//!
//! `sse-runtime` serves SSE endpoints: it encodes events exactly as the
//! WHATWG standard says `EventSource` reads them, keeps idle streams alive with
//! heartbeats, gives handlers the request (`Last-Event-ID` included) and a
//! [`Session`] to write to, applies backpressure, and shuts down gracefully.
//!
//! ```no_run
//! use std::time::Duration;
//! use sse_runtime::{route::handler, Event, Server, Session};
//!
//! async fn events(session: Session) -> Result<(), sse_runtime::Error> {
//!     for i in 0..6 {
//!         session.send(Event::new().data(format!("demo{i}"))).await?;
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!     }
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), sse_runtime::ServeError> {
//!     Server::new()
//!         .route(handler(events).at("/events"))
//!         .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
//!         .serve("127.0.0.1:8080")
//!         .await
//! }
//! ```
//!
//! Modules, one concept each: [`event`] (events and their encoding, the
//! only writer of SSE bytes), [`serializer`] (typed data), [`session`] (what
//! a handler writes to), [`heartbeat`], [`request`], [`extract`] (handler
//! arguments), [`route`], [`hub`] (broadcast with replay), [`typed`] (what
//! `#[sse]` declares), [`server`], and with the `client` feature, `client` (a
//! conforming `EventSource`, typed by the same declarations). The
//! repository's `ARCHITECTURE.md` maps the layers and where each concept
//! lives.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Lets the runtime's own tests and docs use the macro, whose code names `::sse_runtime`.
extern crate self as sse_runtime;

mod answer;
mod body;
#[cfg(feature = "client")]
pub mod client;
pub mod compression;
mod error;
pub mod event;
pub mod extract;
pub mod heartbeat;
pub mod hub;
mod link;
mod macro_support;
mod methods;
pub mod metrics;
mod outbox;
pub mod request;
pub mod route;
pub mod router;
pub mod serializer;
pub mod server;
pub mod session;
pub mod typed;

pub use error::{BoxError, Error, RouteError, ServeError};
pub use event::{Encoder, Event, EventError};
pub use heartbeat::Heartbeat;
pub use methods::Methods;
pub use request::{PeerAddr, Request};
pub use route::{Rejection, Route, RoutePath};
pub use router::Router;
pub use server::Server;
pub use session::Session;

#[doc = include_str!("sse_attribute.md")]
pub use sse_macros::sse;

#[cfg(fuzzing)]
#[doc(hidden)]
pub use server::fuzz as __fuzz;

/// What the code `#[sse]` generates uses. Not public API: it may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use http::StatusCode;
    pub use sse_macros::__emit;

    pub use crate::compression::Compression;

    /// What a bare `serializer = Json` or `Text` falls back to, imported by a
    /// glob that any item of the user's own by that name shadows.
    pub mod serializers {
        pub use crate::serializer::{Json, Text};
    }
    pub use bytes::Bytes;

    pub use crate::extract::{FromBody, FromRef, FromRequest};
    pub use crate::macro_support::{
        assert_format, path_param, refusal, send_declared, Declared, DecodeWith, EncodeWith,
        FixedEventName, FormBody, JsonBody, SendDeclared,
    };
    pub use crate::methods::Methods;
    pub use crate::route::{
        BodyThen, HandlerFuture, HandlerOutput, RouteOptions, StartFuture, Started,
    };
    pub use crate::serializer::{DataWriter, DecodeError, Json, SerializeError, Serializer, Text};
    pub use crate::session::{SendEvent, SendValue};
    pub use crate::typed::{
        DeclaredBody, DeclaredEvents, DecodeEvent, EventEnum, EventOf, SessionOf,
    };
    pub use crate::{Event, Heartbeat, Rejection, Route, RoutePath, Session};
    pub use http::Method;
}

/// The README's code compiles (`cargo test --doc`, with the features it shows).
#[cfg(all(doctest, feature = "client", feature = "tls", feature = "redis"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
