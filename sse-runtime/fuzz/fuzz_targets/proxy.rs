//! What the server reads from proxies: a PROXY protocol header at the start
//! of a connection, and `Forwarded` / `X-Forwarded-*` headers. On any bytes
//! neither may panic; the PROXY header reads the same however the bytes
//! arrive, and consumes exactly the header (the request after it is intact).
#![no_main]

mod runtime;

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use runtime::runtime;
use sse_runtime::server::proxy::TrustedProxies;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The header read from `bytes` sent in pieces of `piece` bytes, and what
/// was left to read after it.
async fn read(bytes: &[u8], piece: usize) -> (Result<Option<SocketAddr>, String>, Vec<u8>) {
    let (mut client, mut server) = tokio::io::duplex(piece);
    let bytes = bytes.to_vec();
    let writer = tokio::spawn(async move {
        for chunk in bytes.chunks(piece) {
            if client.write_all(chunk).await.is_err() {
                return;
            }
        }
    });
    let header = sse_runtime::__fuzz::proxy_header(&mut server)
        .await
        .map_err(|err| err.kind().to_string());
    let mut rest = Vec::new();
    if header.is_ok() {
        let _ = server.read_to_end(&mut rest).await;
    }
    drop(server);
    let _ = writer.await;
    (header, rest)
}

fuzz_target!(|input: &[u8]| {
    let Some((&choice, bytes)) = input.split_first() else {
        return;
    };
    // PROXY: whole against pieces of 1..=16 bytes.
    let whole = runtime().block_on(read(bytes, bytes.len().max(1)));
    let pieces = runtime().block_on(read(bytes, usize::from(choice % 16) + 1));
    assert_eq!(whole, pieces);
    if let (Ok(_), rest) = &whole {
        assert!(
            bytes.ends_with(rest),
            "the bytes after the header are intact"
        );
    }
    // Forwarded headers: the same bytes as the values of each header, read
    // as either header a proxy may be said to write.
    let trusted = TrustedProxies::parse(["10.0.0.0/8", "fd00::/8"]).unwrap();
    let proxies = match choice & 0x80 {
        0 => trusted.x_forwarded_for(),
        _ => trusted.forwarded(),
    };
    let peer: SocketAddr = "10.1.2.3:443".parse().unwrap();
    let text = String::from_utf8_lossy(bytes);
    let mut headers = http::HeaderMap::new();
    for (i, value) in text.split('\n').enumerate() {
        let Ok(value) = http::HeaderValue::from_str(value) else {
            continue;
        };
        let name = ["forwarded", "x-forwarded-for", "x-forwarded-proto"][i % 3];
        headers.append(name, value);
    }
    let _ = sse_runtime::__fuzz::forwarded_client(&proxies, &headers, peer);
});
