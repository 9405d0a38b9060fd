use sse_runtime::client::EventSource;
use sse_runtime::extract::Json;
use sse_runtime::sse;

#[derive(serde::Serialize, serde::Deserialize)]
struct Order {
    item: String,
}

#[sse("/orders", method = "POST")]
async fn orders(session: OrdersSession, Json(order): Json<Order>) {
    let _ = (session, order.item);
}

fn main() {
    let _ = sse_runtime::Server::new().route(orders);
    let _ = EventSource::builder("http://127.0.0.1:8080/orders").body_for::<OrdersRoute>(&"tea");
}
