//! The fast path's parse of a request head, measured against hyper's: on any
//! bytes it must not panic, and whatever head it accepts, hyper's HTTP/1.1
//! server must accept too and hand a service the same method, target,
//! version and headers. (What the fast path declines goes to hyper anyway.)
#![no_main]

mod runtime;

use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;
use runtime::runtime;
use tokio::io::AsyncWriteExt;

/// The request hyper's server hands its service for `head`, if it does.
async fn hyper_parts(head: &[u8]) -> Option<http::request::Parts> {
    let (mut client, server) = tokio::io::duplex(128 * 1024);
    let seen = std::sync::Arc::new(Mutex::new(None));
    let service = {
        let seen = seen.clone();
        service_fn(move |request: http::Request<hyper::body::Incoming>| {
            let (parts, _) = request.into_parts();
            seen.lock().unwrap().get_or_insert(parts);
            async { Ok::<_, Infallible>(http::Response::new(Empty::<Bytes>::new())) }
        })
    };
    // As the server configures hyper (`Server::build`: a 64 KiB buffer).
    let conn = hyper::server::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(server), service);
    client.write_all(head).await.unwrap();
    client.shutdown().await.unwrap();
    // Served or refused, the connection ends once the client's bytes do.
    let _ = tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("hyper finishes with a closed client");
    let parts = seen.lock().unwrap().take();
    parts
}

fuzz_target!(|head: &[u8]| {
    let Some(ours) = sse_runtime::__fuzz::fast_path_request(head) else {
        return;
    };
    let hypers = runtime().block_on(hyper_parts(head)).unwrap_or_else(|| {
        panic!(
            "the fast path accepts a head hyper refuses: {:?}",
            String::from_utf8_lossy(head)
        )
    });
    assert_eq!(ours.method, hypers.method);
    assert_eq!(ours.uri, hypers.uri);
    assert_eq!(ours.version, hypers.version);
    assert_eq!(ours.headers, hypers.headers);
});
