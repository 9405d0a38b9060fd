use sse_runtime::sse;

#[derive(serde::Serialize)]
struct Customer {
    id: u32,
}

#[derive(serde::Serialize)]
struct Product {
    id: u32,
}

#[sse("/shop", serializer = Json, events(Customer = "customer", Product = "product"))]
async fn shop(session: ShopSession) -> Result<(), sse_runtime::Error> {
    // The typed client would decode this customer as a product.
    session.send(Customer { id: 1 }).event("product").await
}

fn main() {
    let _ = sse_runtime::Server::new().route(shop);
}
