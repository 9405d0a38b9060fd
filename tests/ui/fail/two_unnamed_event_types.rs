use sse_runtime::sse;

#[derive(serde::Serialize)]
struct Customer {
    id: u32,
}

#[derive(serde::Serialize)]
struct Product {
    id: u32,
}

#[sse("/shop", serializer = Json, events(Customer, Product))]
async fn shop(session: ShopSession) -> Result<(), sse_runtime::Error> {
    session.send(Customer { id: 1 }).await?;
    session.send(Product { id: 2 }).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(shop);
}
