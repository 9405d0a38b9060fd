use sse_runtime::sse;

struct Point { x: i32, y: i32 }

#[sse("/points", events(Point))]
async fn points(session: PointsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(points);
}
