use sse_runtime::extract::State;
use sse_runtime::hub::Hub;
use sse_runtime::sse;

#[derive(serde::Serialize)]
struct Note {
    text: String,
}

#[sse("/notes", serializer = Json, events(Note = "note"))]
async fn notes(session: NotesSession) {
    session.close();
}

#[sse("/other", serializer = Json, events(Note = "note"))]
async fn other(session: OtherSession, hub: State<Hub<NotesRoute>>) -> Result<(), sse_runtime::Error> {
    hub.0.subscribe().serve(&session).await?;
    Ok(())
}

fn main() {
    let _ = sse_runtime::Server::new().route(notes);
}
