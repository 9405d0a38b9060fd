//! The package of the axum example (`axum.rs` here): an `#[sse]` route
//! mounted in an axum 0.8 app, behind a bearer check, tower-http's CORS and
//! trace layers. Nothing to import; run it from the workspace root:
//!
//! ```sh
//! cargo run --example axum
//! ```
#![forbid(unsafe_code)]
