//! What every example shares: where to listen, and saying where to look.

use std::net::SocketAddr;

use sse_runtime::server::{bind, DEFAULT_BACKLOG};
use tokio::net::TcpListener;

/// Binds `127.0.0.1` on the port given as the first argument, or in `PORT`,
/// or 8080. Port 0 picks a free port (the tests use it).
pub async fn listen() -> std::io::Result<(TcpListener, SocketAddr)> {
    let port = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .map_or(Ok(8080), |port| port.parse::<u16>())
        .map_err(|err| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad port: {err}"))
        })?;
    let listener = bind(("127.0.0.1", port), DEFAULT_BACKLOG).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
