//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod example;
pub mod http;
pub mod parser;
pub mod proxies;
pub mod redis;
pub mod routes;
pub mod sdk;
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

/// A loopback port no other server of this test process was given: the
/// kernel's free port, which two tests starting at once could otherwise
/// both get (one server would then answer for two, and vanish with one).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}
