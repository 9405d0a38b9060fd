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

async fn announce(hub: Hub<NotesRoute>) {
    let _ = hub.publish(String::from("not a note")).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(notes);
}
