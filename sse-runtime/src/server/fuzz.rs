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
