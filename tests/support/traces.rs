//! A `tracing` subscriber that records what it sees, for tests that check
//! what the runtime logs: install it with `tracing::subscriber::set_default`
//! in a current-thread test, where every task runs on the test's thread.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the subscriber saw: each event's message, fields and the spans it
/// was in (innermost last), each span's name and fields.
#[derive(Clone, Default)]
pub struct Recorded(Arc<Mutex<Inner>>);

#[derive(Default)]
struct Inner {
    spans: Vec<(String, HashMap<String, String>)>,
    stack: Vec<u64>,
    events: Vec<Seen>,
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub message: String,
    pub fields: HashMap<String, String>,
    /// The innermost span's name and fields, if any.
    pub span: Option<(String, HashMap<String, String>)>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl tracing::Subscriber for Recorded {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = HashMap::new();
        span.record(&mut Fields(&mut fields));
        let mut inner = self.0.lock().unwrap();
        inner
            .spans
            .push((span.metadata().name().to_owned(), fields));
        tracing::span::Id::from_u64(inner.spans.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let mut inner = self.0.lock().unwrap();
        let span = inner
            .stack
            .last()
            .map(|id| inner.spans[*id as usize - 1].clone());
        inner.events.push(Seen {
            message,
            fields,
            span,
        });
    }
    fn enter(&self, span: &tracing::span::Id) {
        self.0.lock().unwrap().stack.push(span.into_u64());
    }
    fn exit(&self, _: &tracing::span::Id) {
        self.0.lock().unwrap().stack.pop();
    }
}

impl Recorded {
    pub fn events(&self, message: &str) -> Vec<Seen> {
        let inner = self.0.lock().unwrap();
        inner
            .events
            .iter()
            .filter(|seen| seen.message == message)
            .cloned()
            .collect()
    }

    /// Waits (a little) for an event with `message` to be seen.
    pub async fn wait_for(&self, message: &str) -> Seen {
        for _ in 0..200 {
            if let Some(seen) = self.events(message).pop() {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no {message:?} event");
    }
}
