use sse_runtime::sse;

mod v1 {
    #[derive(serde::Serialize)]
    pub struct Customer {
        pub id: u32,
    }
}

mod v2 {
    #[derive(serde::Serialize)]
    pub struct Customer {
        pub id: String,
    }
}

#[sse("/customers", serializer = Json, events(v1::Customer = "v1", v2::Customer = "v2"))]
async fn customers(session: CustomersSession) -> Result<(), sse_runtime::Error> {
    session.send(v1::Customer { id: 1 }).await?;
    session.send(v2::Customer { id: "2".into() }).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(customers);
}
