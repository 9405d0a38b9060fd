use sse_runtime::sse;

#[sse("/prices")]
async fn prices(session: PricesSession) -> Result<(), sse_runtime::Error> {
    let at = 1.5f64;
    session.send(at).id(at).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(prices);
}
