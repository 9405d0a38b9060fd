// Every accepted form of `method` and of a body argument.
use bytes::Bytes;
use sse_runtime::extract::{Form, FromBody, Json, Query};
use sse_runtime::route::Answer;
use sse_runtime::{sse, Rejection, Request, Server};

#[derive(serde::Deserialize)]
struct Prompt {
    text: String,
    stream: bool,
}

#[derive(serde::Deserialize)]
struct Page {
    n: Option<u32>,
}

#[derive(serde::Serialize)]
struct Token {
    text: String,
}

// `Json` the extractor is imported: as the serializer, it is JSON still.
#[sse("/complete", method = "POST", serializer = Json, events(Token = "token"), handler_grace = "0s")]
async fn complete(
    session: CompleteSession,
    page: Query<Page>,
    Json(prompt): Json<Prompt>,
) -> Result<(), sse_runtime::Error> {
    let _ = page.0.n;
    if !prompt.stream {
        return session.answer(Answer::json(&prompt.text));
    }
    session.send(Token { text: prompt.text }).await
}

#[derive(serde::Deserialize)]
struct Search {
    q: String,
}

#[sse("/search", method = ["GET", "POST"], body_limit = "16KiB", body_timeout = "5s")]
async fn search(session: SearchSession, Form(search): Form<Search>) {
    let _ = (session, search.q);
}

#[sse("/rooms/{room}", method = "PUT")]
async fn rooms(session: RoomsSession, room: String, body: String) {
    let _ = (session, room, body);
}

#[sse("/raw", method = ["PATCH", "DELETE"], body_limit = "100B")]
async fn raw(session: RawSession, body: Bytes) {
    let _ = (session, body);
}

/// A body of comma-separated numbers.
struct Numbers(Vec<u64>);

impl<S: Sync> FromBody<S> for Numbers {
    type Rejection = Rejection;

    async fn from_body(_request: &Request, body: Bytes, _state: &S) -> Result<Self, Rejection> {
        let text = std::str::from_utf8(&body).map_err(|_| Rejection::bad_request("not UTF-8"))?;
        text.split(',')
            .map(|n| n.trim().parse().map_err(|_| Rejection::bad_request("not a number")))
            .collect::<Result<_, _>>()
            .map(Numbers)
    }
}

#[sse("/sum", method = "POST")]
async fn sum(session: SumSession, #[body] numbers: Numbers) -> Result<(), sse_runtime::Error> {
    session.send(numbers.0.iter().sum::<u64>()).await
}

// The owned type an unsized event type's error suggests.
#[sse("/notes", events(String = "note"))]
async fn notes(session: NotesSession) -> Result<(), sse_runtime::Error> {
    session.send("hi".to_owned()).await
}

// `GET` and `POST` at one path, by two functions.
#[sse("/feed")]
async fn feed(session: FeedSession) {
    let _ = session;
}

#[sse("/feed", method = "POST")]
async fn feed_post(session: FeedPostSession, body: Bytes) {
    let _ = (session, body);
}

fn main() {
    let _ = Server::new()
        .route(complete)
        .route(search)
        .route(rooms)
        .route(raw)
        .route(sum)
        .route(feed)
        .route(feed_post)
        .route(notes);
}
