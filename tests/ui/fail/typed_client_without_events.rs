use sse_runtime::client::EventSource;
use sse_runtime::sse;

#[sse("/plain")]
async fn plain(session: PlainSession) -> Result<(), sse_runtime::Error> {
    session.send("text").await
}

fn main() {
    let source = EventSource::builder("http://127.0.0.1:8080/plain").build().unwrap();
    let _typed = source.typed::<PlainRoute>();
}
