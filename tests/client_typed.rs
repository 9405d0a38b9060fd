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
        session.send(n).id(n.to_string()).await?;
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
