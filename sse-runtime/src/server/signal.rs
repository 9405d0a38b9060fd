//! The signal that starts a graceful shutdown.

/// Resolves on Ctrl-C, or on SIGTERM on Unix: pass it to
/// [`Server::with_graceful_shutdown`](super::Server::with_graceful_shutdown).
///
/// ```no_run
/// # async fn run() -> Result<(), sse_runtime::ServeError> {
/// sse_runtime::Server::new()
///     .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
///     .serve("127.0.0.1:8080")
///     .await
/// # }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
