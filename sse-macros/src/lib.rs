//! The `#[sse]` attribute.
