//! Server-Sent Events on hyper 1 and tokio.
//!
//! `sse-runtime` serves SSE endpoints: it encodes events exactly as the
//! WHATWG standard says `EventSource` reads them, keeps idle streams alive with
//! heartbeats, gives handlers the request (`Last-Event-ID` included) and a
//! [`Session`] to write to, applies backpressure, and shuts down gracefully.
//!
//! ```no_run
//! use std::time::Duration;
//! use sse_runtime::{route::handler, Event, Route, Server, Session};
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
//! Modules, one concept each: [`event`] (events and their encoding),
//! [`serializer`] (typed data), [`session`] (what a handler writes to),
//! [`heartbeat`], [`request`], [`extract`] (handler arguments), [`route`],
//! [`hub`] (broadcast with replay),
//! [`typed`] (what `#[sse]` declares), [`server`], and with the `client`
//! feature, `client` (a conforming `EventSource`, typed by the same
//! declarations).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Lets the runtime's own tests and docs use the macro, whose code names `::sse_runtime`.
extern crate self as sse_runtime;

#[cfg(feature = "client")]
pub mod client;
mod error;
pub mod event;
pub mod extract;
pub mod heartbeat;
pub mod hub;
mod outbox;
pub mod request;
pub mod route;
pub mod serializer;
pub mod server;
pub mod session;
pub mod typed;
mod write_timeout;

pub use error::{BoxError, Error};
pub use event::{Encoder, Event, EventError};
pub use heartbeat::Heartbeat;
pub use request::{PeerAddr, Request};
pub use route::{Rejection, Route, RoutePath};
pub use server::{ServeError, Server};
pub use session::Session;

#[doc = include_str!("sse_attribute.md")]
pub use sse_macros::sse;

/// What the code `#[sse]` generates uses. Not public API: it may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use http::StatusCode;

    pub use crate::extract::FromRequest;
    pub use crate::route::{HandlerFuture, HandlerOutput, RouteOptions};
    pub use crate::serializer::{DataWriter, DecodeError, Json, SerializeError, Serializer, Text};
    pub use crate::session::{SendEvent, SendValue};
    pub use crate::typed::{
        send_declared, Declared, DeclaredEvents, DecodeEvent, DecodeWith, EncodeWith, EventOf,
        SessionOf,
    };
    pub use crate::{Event, Heartbeat, Rejection, Route, RoutePath, Session};

    use crate::Request;

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
        raw.parse().map_err(|err| {
            Rejection::bad_request(format!("invalid path parameter `{name}`: {err}"))
        })
    }
}

/// The README's code compiles (`cargo test --doc`).
#[cfg(all(doctest, feature = "client"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
