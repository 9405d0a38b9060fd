use sse_runtime::sse;

struct Point { x: i32, y: i32 }

#[sse("/points")]
async fn points(session: PointsSession) -> Result<(), sse_runtime::Error> {
    session.send(Point { x: 1, y: 2 }).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(points);
}
