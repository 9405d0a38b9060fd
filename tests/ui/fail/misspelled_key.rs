use sse_runtime::sse;

// Only JSON can encode it: read as `Text`, each declared type would be an
// error of its own.
#[derive(serde::Serialize)]
struct Customer {
    id: u32,
}

#[sse("/customers", serialiser = Json, events(Customer = "customer"))]
async fn customers(session: CustomersSession) -> Result<(), sse_runtime::Error> {
    session.send(Customer { id: 1 }).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(customers);
}
