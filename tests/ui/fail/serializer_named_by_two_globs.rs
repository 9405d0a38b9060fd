//! A serializer of your own named `Json`, brought in by a glob import: the
//! runtime's `Json` is a glob too (the fallback for a bare `Json`), so the
//! name is ambiguous; the compiler says to import yours by name.

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

use mine::*;
use sse_runtime::sse;

#[sse("/numbers", serializer = Json)]
async fn numbers(session: NumbersSession) -> Result<(), sse_runtime::Error> {
    session.send(vec![1, 2]).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(numbers);
}
