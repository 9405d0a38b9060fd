//! Where connections come from: the [`Listener`] trait, for TCP, Unix
//! sockets, or any transport of your own.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};

/// A source of connections for [`Server::serve_on`](super::Server::serve_on):
/// a tokio `TcpListener` (each connection gets `TCP_NODELAY`), a tokio
/// `UnixListener`, or your own. Every path of the server (the HTTP/1.1 fast
/// path, hyper's HTTP/1.1 and HTTP/2, TLS on top) works over any of them.
///
/// `accept` must be cancel-safe: the server drops its future when shutdown
/// begins.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join("events.sock");
/// # let _ = std::fs::remove_file(&path);
/// let listener = tokio::net::UnixListener::bind(&path)?;
/// sse_runtime::Server::new().serve_on(listener).await?;
/// # Ok(())
/// # }
/// ```
pub trait Listener: Send + 'static {
    /// A connection.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Waits for the next connection, and the client's address if it has
    /// one (a Unix socket's peer has none; handlers see `None`).
    fn accept(&mut self)
        -> impl Future<Output = io::Result<(Self::Io, Option<SocketAddr>)>> + Send;
}

impl Listener for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<(Self::Io, Option<SocketAddr>)> {
        let (stream, peer) = tokio::net::TcpListener::accept(self).await?;
        // Events are small and must not wait for Nagle's algorithm.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %err, "could not set TCP_NODELAY");
        }
        Ok((stream, Some(peer)))
    }
}

#[cfg(unix)]
impl Listener for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;

    async fn accept(&mut self) -> io::Result<(Self::Io, Option<SocketAddr>)> {
        let (stream, _) = tokio::net::UnixListener::accept(self).await?;
        Ok((stream, None))
    }
}
