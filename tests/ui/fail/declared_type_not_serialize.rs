use sse_runtime::sse;

struct Customer { id: u32 }

#[sse("/customers", serializer = Json, events(Customer = "customer"))]
async fn customers(session: CustomersSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(customers);
}
