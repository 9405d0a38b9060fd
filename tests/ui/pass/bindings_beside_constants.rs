// Lower-case constants in scope named like what generated code binds (as a
// user may name a constant anything) do not break a route: the expansion's
// own bindings are `__sse_`-prefixed, a namespace left to it. (serde's
// derive is broken by some of them, so its types are declared apart.)
#![allow(non_upper_case_globals, dead_code)]

mod types {
    #[derive(serde::Deserialize)]
    pub struct Page {
        pub n: Option<u32>,
    }

    #[derive(serde::Deserialize, serde::Serialize)]
    pub struct Note {
        pub text: String,
    }
}

mod routes {
    use super::types::{Note, Page};
    use sse_runtime::extract::{Json, LastEventId, Query};
    use sse_runtime::sse;

    const __session: u8 = 0;
    const __state: u8 = 0;
    const __request: u8 = 0;
    const __arg0: u8 = 0;
    const __arg1: u8 = 0;
    const __arg2: u8 = 0;
    const __running: u8 = 0;
    const __options: u8 = 0;
    const __value: u8 = 0;
    const __body: u8 = 0;
    const __out: u8 = 0;
    const __event: u8 = 0;
    const __data: u8 = 0;
    const session: u8 = 0;

    #[sse("/notes/{room}", method = "POST", serializer = Json, events(Note = "note"))]
    pub async fn notes(
        stream: NotesSession,
        room: String,
        page: Query<Page>,
        last: LastEventId,
        Json(note): Json<Note>,
    ) -> Result<(), sse_runtime::Error> {
        let _ = (room, page.0.n, last.0);
        stream.send(note).await
    }
}

fn main() {
    let _ = sse_runtime::Server::new().route(routes::notes);
}
