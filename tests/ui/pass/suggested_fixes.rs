//! What the errors of `misspelled_key`, `path_as_key` and `two_paths` suggest
//! compiles.

use sse_runtime::{sse, Server};

#[derive(serde::Serialize)]
struct Customer {
    id: u32,
}

#[sse("/customers", serializer = Json, events(Customer = "customer"))]
async fn customers(session: CustomersSession) -> Result<(), sse_runtime::Error> {
    session.send(Customer { id: 1 }).await
}

#[sse("/a")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = Server::new()
        .route(customers)
        .route(events)
        .route_at("/b", events);
}
