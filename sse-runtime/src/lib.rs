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
//! [`heartbeat`], [`request`], [`route`] and [`server`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod event;
pub mod heartbeat;
pub mod request;
pub mod route;
pub mod serializer;
pub mod server;
pub mod session;
mod stream;

pub use error::Error;
pub use event::{Encoder, Event, EventError};
pub use heartbeat::Heartbeat;
pub use request::Request;
pub use route::{Rejection, Route, RoutePath};
pub use server::{ServeError, Server};
pub use session::Session;
