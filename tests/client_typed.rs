//! The client against the project's own server: typed events decoded by the
//! same `#[sse]` declaration that typed the sends, and exactly-once resume
//! with `Last-Event-ID` across reconnects.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sse_runtime::client::{ClientError, EventSource};
use sse_runtime::extract::LastEventId;
use sse_runtime::{sse, Event, Server};
use support::http::start;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Customer {
    id: u32,
    name: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Product {
    id: u32,
    prices: Vec<u32>,
}

#[sse("/shop", serializer = Json, events(Customer = "customer", Product))]
async fn shop(session: ShopSession) -> Result<(), sse_runtime::Error> {
    session
        .send(Customer {
            id: 1,
            name: "Jet".into(),
        })
        .await?;
    session
        .send(Product {
            id: 2,
            prices: vec![100, 200],
        })
        .await?;
    session
        .send_event(Event::new().event("restock").data("{}"))
        .await?;
    session
        .send_event(Event::new().event("customer").data("not json"))
        .await?;
    session
        .send(Product {
            id: 3,
            prices: vec![],
        })
        .await?;
    // Keep the stream open so the client reads it in one connection.
    session.closed().await;
    Ok(())
}

async fn next(
    events: &mut sse_runtime::client::TypedEventSource<ShopRoute>,
) -> Result<ShopEvent, ClientError> {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event")
        .expect("the stream goes on")
}

#[tokio::test]
async fn the_route_declaration_types_the_client() {
    let server = start(Server::new().route(shop)).await;
    let mut events = EventSource::builder(server.url("/shop"))
        .build()
        .unwrap()
        .typed::<ShopRoute>();
    match next(&mut events).await.unwrap() {
        ShopEvent::Customer(customer) => assert_eq!(
            customer,
            Customer {
                id: 1,
                name: "Jet".into()
            }
        ),
        ShopEvent::Product(product) => panic!("{product:?}"),
    }
    assert!(matches!(
        next(&mut events).await,
        Ok(ShopEvent::Product(Product { id: 2, .. }))
    ));
    // Not declared, and not decodable: typed errors, and the stream goes on.
    match next(&mut events).await {
        Err(ClientError::Undeclared(name)) => assert_eq!(name, "restock"),
        _ => panic!("expected an undeclared event"),
    }
    match next(&mut events).await {
        Err(err @ ClientError::Decode { .. }) => {
            assert!(!err.is_terminal());
            assert!(
                err.to_string()
                    .starts_with("the \"customer\" event did not decode"),
                "{err}"
            );
        }
        _ => panic!("expected a decode error"),
    }
    assert!(matches!(
        next(&mut events).await,
        Ok(ShopEvent::Product(Product { id: 3, .. }))
    ));
    events.source_mut().close();
    assert!(events.next().await.is_none());
    server.stop().await;
}

/// Sends three numbered events after the client's last one, then ends the
/// stream, so that the client must reconnect to get more.
#[sse("/count", retry = "10ms")]
async fn count(session: CountSession, last: LastEventId) -> Result<(), sse_runtime::Error> {
    let from: u64 = last.0.as_deref().map_or(0, |id| id.parse().unwrap_or(0));
    for n in from + 1..=from + 3 {
        session.send(n).id(n).await?;
    }
    Ok(())
}

#[tokio::test]
async fn reconnects_resume_after_the_last_event_exactly_once() {
    let server = start(Server::new().route(count)).await;
    let mut events = EventSource::builder(server.url("/count"))
        .last_event_id("100")
        .build()
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 9 {
        let message = tokio::time::timeout(Duration::from_secs(5), events.next_message())
            .await
            .expect("a message")
            .expect("not stopped")
            .expect("no error");
        assert_eq!(message.last_event_id, message.data);
        got.push(message.data.parse::<u64>().unwrap());
    }
    assert_eq!(got, (101..=109).collect::<Vec<_>>());
    assert_eq!(events.reconnection_time(), Duration::from_millis(10));
    server.stop().await;
}

/// Two types of one shape: only the event name tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Celsius {
    value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Fahrenheit {
    value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Reading {
    value: f64,
}

/// The readings the server sends: a fixed pseudo-random mix of the three.
fn readings() -> Vec<(u8, f64)> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    (0..300)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ((seed % 3) as u8, f64::from(i))
        })
        .collect()
}

#[sse(
    "/weather",
    serializer = Json,
    events(Celsius = "celsius", Fahrenheit = "fahrenheit", Reading)
)]
async fn weather(session: WeatherSession) -> Result<(), sse_runtime::Error> {
    for (kind, value) in readings() {
        match kind {
            0 => session.send(Celsius { value }).await?,
            1 => session.send(Fahrenheit { value }).await?,
            _ => session.send(Reading { value }).await?,
        }
    }
    session.closed().await;
    Ok(())
}

#[tokio::test]
async fn the_typed_client_never_yields_another_variant_than_was_sent() {
    let server = start(Server::new().route(weather)).await;
    let mut events = EventSource::builder(server.url("/weather"))
        .build()
        .unwrap()
        .typed::<WeatherRoute>();
    for (kind, value) in readings() {
        let got = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("an event")
            .expect("the stream goes on")
            .expect("a declared event");
        let as_sent = match (kind, got) {
            (0, WeatherEvent::Celsius(c)) => c.value,
            (1, WeatherEvent::Fahrenheit(f)) => f.value,
            (2, WeatherEvent::Reading(r)) => r.value,
            (kind, other) => panic!("sent kind {kind} as {value}, got {:?}", debug(&other)),
        };
        assert_eq!(as_sent, value);
    }
    events.source_mut().close();
    server.stop().await;
}

fn debug(event: &WeatherEvent) -> String {
    match event {
        WeatherEvent::Celsius(c) => format!("{c:?}"),
        WeatherEvent::Fahrenheit(f) => format!("{f:?}"),
        WeatherEvent::Reading(r) => format!("{r:?}"),
    }
}
