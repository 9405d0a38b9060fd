//! What the errors of `misspelled_key`, `path_as_key` and `two_paths` suggest
//! compiles, and so do the names the `name_*` and `colliding_names` cases
//! suggest, the percent-encoded paths of `path_with_space`, and the explicit
//! import the compiler suggests for `serializer_named_by_two_globs`.
//! `path_constant` and `path_macro` suggest `route_at` with the path, and
//! `untyped_session` the route's session with `send_event`.

use sse_runtime::{sse, Server};

#[derive(serde::Serialize)]
struct Customer {
    id: u32,
}

#[sse("/customers", serializer = Json, events(Customer = "customer"))]
async fn customers(session: CustomersSession) -> Result<(), sse_runtime::Error> {
    session.send(Customer { id: 1 }).await
}

#[sse("/a")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = Server::new()
        .route(customers)
        .route(events)
        .route_at("/b", events);
    let _ = names::all();
    let _ = paths_as_sent::all().route(own_serializer_by_glob::numbers);
    let _ = paths::mounted();
    let _ = parameters::all();
}

// What `path_param_case`, `path_param_misspelled`, `path_param_raw_identifier` and
// `path_param_by_reference` suggest; and an argument the body does not use, `_room`, which
// binds `{room}`.
mod parameters {
    use sse_runtime::sse;

    #[sse("/rooms/{room_id}")]
    pub async fn by_id(session: ByIdSession, room_id: u64) {
        let _ = session.send(room_id).await;
    }

    #[sse("/rooms/{room}")]
    pub async fn room(session: RoomSession, room: String) {
        let _ = session.send(room.to_uppercase()).await;
    }

    #[sse("/kinds/{type}")]
    pub async fn kinds(session: KindsSession, r#type: String) {
        let _ = session.send(r#type).await;
    }

    #[sse("/quiet/{room}")]
    pub async fn quiet(session: QuietSession, _room: String) {
        session.close();
    }

    pub fn all() -> sse_runtime::Server {
        sse_runtime::Server::new()
            .route(by_id)
            .route(room)
            .route(kinds)
            .route(quiet)
    }
}

// What `path_colon_param`, `path_star_param`, `path_with_query`,
// `path_with_fragment` and `path_unquoted` suggest.
mod paths {
    use sse_runtime::extract::Query;
    use sse_runtime::sse;

    #[derive(serde::Deserialize)]
    pub struct Since {
        #[allow(dead_code)]
        since: Option<u64>,
    }

    #[sse("/rooms/{room}")]
    pub async fn room(session: RoomSession, room: String) {
        let _ = room;
        session.close();
    }

    #[sse("/files/{*rest}")]
    pub async fn files(session: FilesSession, rest: String) {
        let _ = rest;
        session.close();
    }

    #[sse("/events")]
    pub async fn events(session: EventsSession, since: Query<Since>) {
        let _ = since;
        session.close();
    }

    const EVENTS_PATH: &str = "/events";

    #[sse]
    pub async fn anywhere(session: AnywhereSession) -> Result<(), sse_runtime::Error> {
        session.send_event(sse_runtime::Event::new().data("hello")).await?;
        session.closed().await;
        Ok(())
    }

    pub fn mounted() -> sse_runtime::Server {
        sse_runtime::Server::new()
            .route_at(EVENTS_PATH, anywhere)
            .route_at(concat!("/api", "/events"), anywhere)
    }
}

// What `session_by_reference`, `path_param_named_like_the_session`,
// `path_param_named_like_an_extractor`, `send_reference`, `never_returns`,
// `impl_trait_argument`, `on_trait_fn`, `session_in_a_wrapper`, `session_misspelled`,
// `session_with_generic_arguments`, `untyped_session` and `error_not_send_sync` suggest.
mod arguments {
    use sse_runtime::extract::{LastEventId, Query};
    use sse_runtime::{sse, Event};

    #[derive(serde::Serialize)]
    pub struct Customer {
        id: u32,
    }

    /// An alias names a type the attribute cannot: a reference.
    pub type Note = &'static str;

    #[sse("/customers", serializer = Json, events(Customer = "customer", Note = "note"))]
    pub async fn customers(session: CustomersSession) -> Result<(), sse_runtime::Error> {
        let customer = Customer { id: 1 };
        session.send(customer).await?;
        session.send("a note").await?;
        session.send_event(Event::new().data("raw")).await
    }

    #[sse("/events")]
    pub async fn events(session: EventsSession) {
        session.close();
    }

    #[sse("/streams/{id}")]
    pub async fn streams(stream: StreamsSession, id: String) {
        let _ = id;
        stream.close();
    }

    #[sse("/feeds/{last_id}")]
    pub async fn feeds(session: FeedsSession, last_id: String, last: LastEventId) {
        let _ = (last_id, last);
        session.close();
    }

    #[derive(serde::Deserialize)]
    pub struct Filter {
        #[allow(dead_code)]
        level: Option<String>,
    }

    #[sse("/forever")]
    pub async fn forever(session: ForeverSession, filter: Query<Filter>) -> Result<(), sse_runtime::Error> {
        let _ = filter;
        loop {
            session.send("tick").await?;
        }
    }

    pub trait Feeds {
        fn greeting(&self) -> &'static str;
    }

    pub struct English;

    impl Feeds for English {
        fn greeting(&self) -> &'static str {
            "hello"
        }
    }

    /// What `session_in_a_wrapper` suggests: the session as it is, cloned
    /// where it is shared.
    #[sse("/shared")]
    pub async fn shared(session: SharedSession) -> Result<(), sse_runtime::Error> {
        let clone = session.clone();
        tokio::spawn(async move { clone.send("from a task").await }).await.ok();
        session.send("from the handler").await
    }

    /// What `event_type_named_like_the_enum` suggests: the enum keeps its
    /// name, `ChatEvent`, and has a variant for the renamed type.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct ChatMessage {
        text: String,
    }

    #[sse("/chat", serializer = Json, events(ChatMessage = "message"))]
    pub async fn chat(session: ChatSession) {
        let _ = session.send(ChatMessage { text: "hi".into() }).await;
        let _ = ChatEvent::ChatMessage(ChatMessage { text: "hi".into() });
    }

    /// What `error_not_send_sync` suggests.
    #[sse("/counts")]
    pub async fn counts(
        session: CountsSession,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        session.send(1u32).await?;
        let count: u32 = "12".parse()?;
        session.send(count).await?;
        Err("done".into())
    }

    #[sse("/greetings")]
    pub async fn greetings(session: GreetingsSession) -> Result<(), sse_runtime::Error> {
        session.send(English.greeting()).await
    }
}

// What `colliding_names`, `name_not_snake_case`, `name_with_digit_word` and
// `name_with_trailing_underscore` suggest: names in snake_case, a raw
// identifier for a keyword; and a leading `_`, which the types keep.
mod names {
    use sse_runtime::sse;

    #[sse("/a")]
    pub async fn my_feed(session: MyFeedSession) {
        session.close();
    }

    #[sse("/v2")]
    pub async fn feed2(session: Feed2Session) {
        session.close();
    }

    #[sse("/types")]
    pub async fn r#type(session: TypeSession) {
        session.close();
    }

    #[sse("/draft")]
    pub async fn _draft(session: _DraftSession) {
        session.close();
    }

    #[sse("/draft-too")]
    pub async fn draft(session: DraftSession) {
        session.close();
    }

    pub fn all() -> sse_runtime::Server {
        let _: (_DraftRoute, DraftRoute) = (_draft(), draft());
        sse_runtime::Server::new()
            .route(my_feed)
            .route(feed2)
            .route(r#type)
            .route(_draft)
            .route(draft)
    }
}

mod paths_as_sent {
    use sse_runtime::sse;

    #[sse("/rooms/{room}")]
    pub async fn room(session: RoomSession, room: String) {
        let _ = room;
        session.close();
    }

    #[sse("/live%20feed/{room}")]
    pub async fn live(session: LiveSession, room: String) {
        let _ = room;
        session.close();
    }

    pub fn all() -> sse_runtime::Server {
        sse_runtime::Server::new().route(room).route(live)
    }
}

mod own_serializer_by_glob {
    mod mine {
        use sse_runtime::serializer::{DataWriter, Format, SerializeError, Serializer};

        #[derive(Default)]
        pub struct Json;

        impl Format for Json {}

        impl<T: std::fmt::Debug> Serializer<T> for Json {
            fn serialize(&self, value: &T, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
                use std::fmt::Write;
                write!(out, "{value:?}").map_err(SerializeError::new)
            }
        }
    }

    #[allow(unused_imports)]
    use mine::*;
    use mine::Json;
    use sse_runtime::sse;

    #[sse("/numbers", serializer = Json)]
    pub async fn numbers(session: NumbersSession) -> Result<(), sse_runtime::Error> {
        session.send(vec![1, 2]).await
    }
}
