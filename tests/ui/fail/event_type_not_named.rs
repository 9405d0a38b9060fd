use sse_runtime::sse;

#[sse("/notes", events(&'static str = "note"))]
async fn notes(session: NotesSession) -> Result<(), sse_runtime::Error> {
    session.send("hello").await
}

fn main() {
    let _ = sse_runtime::Server::new().route(notes);
}
