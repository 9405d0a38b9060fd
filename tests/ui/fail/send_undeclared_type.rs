use sse_runtime::sse;

#[derive(serde::Serialize)]
struct Customer { id: u32 }

#[sse("/customers", serializer = Json, events(Customer = "customer"))]
async fn customers(session: CustomersSession) -> Result<(), sse_runtime::Error> {
    session.send(String::from("not a customer")).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(customers);
}
