//! Entry points for the fuzz targets (`sse-runtime/fuzz`): the parsers of
//! network bytes that are not public API. Compiled only with `--cfg fuzzing`,
//! which cargo-fuzz sets; re-exported as `sse_runtime::__fuzz`.

use std::io;
use std::net::SocketAddr;

use http::HeaderMap;
use tokio::io::AsyncRead;

use super::proxy::TrustedProxies;
use crate::request::Scheme;

/// The fast path's parse of a request head (`None`: hyper's to serve).
pub fn fast_path_request(head: &[u8]) -> Option<http::request::Parts> {
    super::fast_path::parse(head).map(|request| request.parts)
}

/// The fast path's reading of a whole request: its head, and the body its
/// framing delimits in the bytes after it (the connection then closes), or
/// why the body is refused. `None`: hyper's to serve.
pub async fn fast_path_request_with_body(
    bytes: &[u8],
) -> Option<(http::request::Parts, Result<bytes::Bytes, String>)> {
    use http_body_util::BodyExt as _;
    let request = super::fast_path::parse(bytes)?;
    let mut raw = bytes[request.head_len..].to_vec();
    // The client's side is closed: only what `raw` holds can be the body.
    let (mut stream, _) = tokio::io::duplex(64);
    let body = super::fast_body::FastBody::new(&mut stream, &mut raw, request.framing, false);
    let read = body.collect().await.map(|collected| collected.to_bytes());
    Some((request.parts, read.map_err(|err| err.to_string())))
}

/// Reads a PROXY protocol header from the start of a connection.
pub async fn proxy_header<Io: AsyncRead + Unpin>(io: &mut Io) -> io::Result<Option<SocketAddr>> {
    super::proxy::read_proxy_header(io).await
}

/// The client `Forwarded` / `X-Forwarded-*` headers name when `peer` is a
/// proxy trusted by `proxies` (with forwarded headers read).
pub fn forwarded_client(
    proxies: &TrustedProxies,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> (Option<SocketAddr>, Scheme) {
    proxies.client(headers, Some(peer), Scheme::Http)
}
