//! What the errors of `misspelled_key`, `path_as_key` and `two_paths` suggest
//! compiles.

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
}

// What `path_colon_param`, `path_star_param` and `path_with_query` suggest.
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
}
