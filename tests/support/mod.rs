//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod example;
pub mod http;
pub mod parser;
pub mod proxies;
pub mod redis;
pub mod routes;
pub mod tls;
pub mod traces;

use std::path::Path;

/// Reads a vendored conformance file from `tests/conformance`.
pub fn conformance(file: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("conformance")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("conformance files are JSON")
}
