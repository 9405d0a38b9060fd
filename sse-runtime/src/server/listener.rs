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

/// How many connections may wait to be accepted, by default: after a
/// deploy every `EventSource` reconnects at once (browsers add no jitter to
/// `retry`), and with the usual 1,024 the rest wait seconds for SYN
/// retransmits. The kernel caps it at `net.core.somaxconn`.
///
/// ```
/// assert_eq!(sse_runtime::server::DEFAULT_BACKLOG, 4096);
/// ```
pub const DEFAULT_BACKLOG: u32 = 4096;

/// Binds a TCP listener on the first of `addr`'s addresses that binds, with
/// a queue of `backlog` waiting connections (the kernel caps it at
/// `net.core.somaxconn`): what [`Server::serve`](super::Server::serve)
/// binds, for a program that needs the listener (its port, say) before it
/// serves on it with [`Server::serve_on`](super::Server::serve_on). tokio's
/// own `TcpListener::bind` queues far fewer (128 on Linux).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use sse_runtime::server::{bind, DEFAULT_BACKLOG};
/// let listener = bind("127.0.0.1:0", DEFAULT_BACKLOG).await?;
/// println!("listening on {}", listener.local_addr()?);
/// sse_runtime::Server::new().serve_on(listener).await?;
/// # Ok(())
/// # }
/// ```
pub async fn bind(
    addr: impl tokio::net::ToSocketAddrs,
    backlog: u32,
) -> io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        // As std and tokio's own `bind` do on Unix: a restarted server can
        // bind while the old connections are in TIME_WAIT.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(backlog)) {
            Ok(listener) => return Ok(listener),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        )
    }))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue length the kernel reports for a listening socket (`ss`
    /// shows it as Send-Q), if `ss` is here.
    fn queue_of(port: u16) -> Option<u32> {
        let out = std::process::Command::new("ss")
            .args(["-ltnH", &format!("sport = :{port}")])
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        text.split_whitespace().nth(2)?.parse().ok()
    }

    #[tokio::test]
    async fn binds_with_the_backlog_asked_for() {
        let listener = bind("127.0.0.1:0", 777).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        if let Some(queue) = queue_of(port) {
            let cap: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
                .ok()
                .and_then(|text| text.trim().parse().ok())
                .unwrap_or(u32::MAX);
            assert_eq!(queue, 777.min(cap));
        }
        // Rebinding the port at once works (SO_REUSEADDR), as a restart needs.
        drop(listener);
        let again = bind(("127.0.0.1", port), DEFAULT_BACKLOG).await.unwrap();
        assert_eq!(again.local_addr().unwrap().port(), port);
        assert!(bind("no-such-host.invalid:1", 1).await.is_err());
    }
}
