//! Ktor's serialization sample: typed `Customer` and `Product` events, encoded
//! as JSON, each with its event name.
//!
//! ```sh
//! cargo run --example serialization     # then: curl -N http://127.0.0.1:8080/serialization
//! ```

mod common;

use serde::Serialize;
use sse_runtime::{sse, Server};

#[derive(Serialize)]
struct Customer {
    id: u32,
    #[serde(rename = "firstName")]
    first_name: String,
    #[serde(rename = "lastName")]
    last_name: String,
}

#[derive(Serialize)]
struct Product {
    id: u32,
    prices: Vec<u32>,
}

// Ktor: sse("/serialization", serialize = { typeInfo, it -> ... }) {
//     send(Customer(0, "Jet", "Brains")); send(Product(0, listOf(100, 200)))
// }
#[sse("/serialization", serializer = Json, events(Customer = "customer", Product = "product"))]
async fn serialization(session: SerializationSession) -> Result<(), sse_runtime::Error> {
    session
        .send(Customer {
            id: 0,
            first_name: "Jet".into(),
            last_name: "Brains".into(),
        })
        .await?;
    session
        .send(Product {
            id: 0,
            prices: vec![100, 200],
        })
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (listener, addr) = common::listen().await?;
    println!("listening on http://{addr}");
    println!("try: curl -N http://{addr}/serialization");
    Server::new()
        .route(serialization)
        .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
        .serve_on(listener)
        .await?;
    println!("stopped");
    Ok(())
}
