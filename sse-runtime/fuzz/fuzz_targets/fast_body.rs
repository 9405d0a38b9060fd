//! The fast path's reading of a request body (`Content-Length` or chunked),
//! measured against hyper's: on any bytes it must not panic, and whatever
//! body it reads whole, hyper's HTTP/1.1 server must read too, as the same
//! bytes (a body the two delimit differently is a request smuggled past
//! one of them). Where the fast path refuses a body hyper would read, it is
//! stricter, which is allowed.
#![no_main]

mod runtime;

use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;
use runtime::runtime;
use tokio::io::AsyncWriteExt;

/// The first request's body as hyper's server reads it from `bytes`.
async fn hyper_body(bytes: &[u8]) -> Option<Result<Bytes, String>> {
    let (mut client, server) = tokio::io::duplex(128 * 1024);
    let seen = std::sync::Arc::new(Mutex::new(None));
    let service = {
        let seen = seen.clone();
        service_fn(move |request: http::Request<hyper::body::Incoming>| {
            let seen = seen.clone();
            async move {
                let read = request.into_body().collect().await;
                let read = read.map(|c| c.to_bytes()).map_err(|err| err.to_string());
                seen.lock().unwrap().get_or_insert(read);
                Ok::<_, Infallible>(http::Response::new(Empty::<Bytes>::new()))
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(server), service);
    client.write_all(bytes).await.unwrap();
    client.shutdown().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("hyper finishes with a closed client");
    let read = seen.lock().unwrap().take();
    read
}

fuzz_target!(|bytes: &[u8]| {
    runtime().block_on(async {
        let Some((_, ours)) = sse_runtime::__fuzz::fast_path_request_with_body(bytes).await else {
            return;
        };
        let Ok(ours) = ours else {
            return;
        };
        match hyper_body(bytes).await {
            Some(Ok(hypers)) => assert_eq!(
                ours,
                hypers,
                "the fast path and hyper read different bodies from {:?}",
                String::from_utf8_lossy(bytes)
            ),
            other => panic!(
                "the fast path reads a body hyper does not ({other:?}) from {:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    });
});
