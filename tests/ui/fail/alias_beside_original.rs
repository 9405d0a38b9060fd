use sse_runtime::sse;

#[derive(serde::Serialize)]
struct Note {
    text: String,
}

type Memo = Note;

#[sse("/notes", serializer = Json, events(Note = "note", Memo = "memo"))]
async fn notes(session: NotesSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(notes);
}
