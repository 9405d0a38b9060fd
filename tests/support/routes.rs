//! Routes more than one test file serves.

use sse_runtime::route::handler;
use sse_runtime::{Event, Methods, Route, RoutePath, Session};
use tokio::sync::mpsc;

/// At `path`: sends 16 KiB events until the stream is closed, then tells
/// `sent` how many went out. A client that never reads fills the
/// connection (or, over HTTP/2, the stream's window), after which sends
/// wait for room that never comes, until the write timeout ends the stream.
pub fn flood_at(
    path: &'static str,
    sent: mpsc::UnboundedSender<usize>,
) -> impl Route<()> + RoutePath {
    flood_of(path, Methods::GET, sent)
}

/// `flood_at`, opened with `methods`.
pub fn flood_of(
    path: &'static str,
    methods: Methods,
    sent: mpsc::UnboundedSender<usize>,
) -> impl Route<()> + RoutePath {
    handler(move |session: Session| {
        let sent = sent.clone();
        async move {
            let chunk = "x".repeat(16 * 1024);
            let mut count = 0usize;
            while session.send(Event::new().data(chunk.clone())).await.is_ok() {
                count += 1;
            }
            let _ = sent.send(count);
        }
    })
    .methods(methods)
    .at(path)
}
