use sse_runtime::sse;

struct Customer { id: u32 }

#[sse("/customers", serializer = Json, events(Customer = "customer"))]
async fn customers(session: CustomersSession) {
    session.close();
}

fn main() {}
