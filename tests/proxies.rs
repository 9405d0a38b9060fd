//! Behind real reverse proxies started by the test: nginx configured as the
//! README says (`X-Forwarded-For` appended, `X-Forwarded-Proto` set,
//! buffering off), and HAProxy in TCP mode sending PROXY protocol v1 and v2,
//! in cleartext and before TLS. Each proxy connects from a loopback address
//! of its own, which the server trusts; the client connects from another,
//! and sends forged forwarded headers the server must not believe.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_runtime::route::handler;
use sse_runtime::server::proxy::TrustedProxies;
use sse_runtime::{Event, PeerAddr, Server, Session};
use support::http::{start, text, EventStream};
use support::proxies::{connect_from, Proxy};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
const NGINX: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const HAPROXY: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4));

/// Streams who the server thinks the client is, then stays open.
async fn whois(session: Session) -> Result<(), sse_runtime::Error> {
    let request = session.request();
    let line = format!(
        "peer={:?} scheme={}",
        request.peer_addr().map(|peer| peer.ip()),
        request.scheme().as_str()
    );
    session.send(Event::new().data(line)).await?;
    session.closed().await;
    Ok(())
}

/// A server trusting `proxies`: `/whois` streams, any other path is a
/// page (hyper's path) saying the same, with the client's port.
fn server(proxies: TrustedProxies) -> Server {
    Server::new()
        .trusted_proxies(proxies)
        .route(handler(whois).at("/whois"))
        .fallback(
            |request: http::Request<sse_runtime::server::RequestBody>| async move {
                let peer = request.extensions().get::<PeerAddr>().map(|peer| peer.0);
                http::Response::new(format!("peer={peer:?}"))
            },
        )
}

/// A request with forged forwarded headers, as any client can send.
fn forged(path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(path)
        .header("host", "proxied.test")
        .header("accept", "text/event-stream")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-proto", "https")
        .header("forwarded", "for=7.7.7.7;proto=https")
        .body(Empty::new())
        .unwrap()
}

async fn http1(
    tcp: tokio::net::TcpStream,
) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// The first event of a stream, which must come while the stream stays
/// open: a proxy that buffered it would hold it back.
async fn first_event(response: http::Response<hyper::body::Incoming>) -> String {
    let mut stream = EventStream::new(response);
    let block = stream
        .next_block_within(Duration::from_secs(5))
        .await
        .expect("the first event, unbuffered, while the stream is open");
    block.trim_end().strip_prefix("data: ").unwrap().to_owned()
}

#[tokio::test]
async fn behind_nginx_the_client_is_who_nginx_saw_and_forged_headers_are_not_believed() {
    let proxies = TrustedProxies::parse([&*NGINX.to_string()])
        .unwrap()
        .x_forwarded_for();
    let app = start(server(proxies)).await;
    let Some(nginx) = Proxy::nginx("behind nginx", app.addr, NGINX) else {
        return;
    };
    let client = format!("peer=Some({CLIENT})");
    // The page (hyper's path) and the stream (the fast path), over one
    // connection to nginx and its kept-alive connection to the server.
    let mut sender = http1(connect_from(CLIENT, nginx.addr).await).await;
    let (status, _, page) = text(sender.send_request(forged("/")).await.unwrap()).await;
    assert_eq!(status, 200, "{}", nginx.log());
    assert_eq!(
        page,
        format!("peer=Some({CLIENT}:0)"),
        "a header gives no port"
    );
    let response = sender.send_request(forged("/whois")).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    // Not 7.7.7.7 (a Forwarded nginx does not write), nor 6.6.6.6 (before
    // the hop nginx appended), nor https (nginx sets the scheme it served).
    assert_eq!(first_event(response).await, format!("{client} scheme=http"));
    drop(sender);
    app.stop().await;
}

#[tokio::test]
async fn behind_haproxy_the_proxy_protocol_names_the_client_in_cleartext_and_before_tls() {
    let trusted = || {
        TrustedProxies::parse([&*HAPROXY.to_string()])
            .unwrap()
            .proxy_protocol()
    };
    let app = start(server(trusted())).await;
    let Some((haproxy, v2)) = Proxy::haproxy("behind haproxy", app.addr, HAPROXY) else {
        return;
    };
    // v1 and v2, HTTP/1.1: the stream and the page, with the client's port.
    for via in [haproxy.addr, v2] {
        let tcp = connect_from(CLIENT, via).await;
        let port = tcp.local_addr().unwrap().port();
        let mut sender = http1(tcp).await;
        let (status, _, page) = text(sender.send_request(forged("/")).await.unwrap()).await;
        let client = SocketAddr::new(CLIENT, port);
        assert_eq!(
            (status.as_u16(), page),
            (200, format!("peer=Some({client})"))
        );
        let response = sender.send_request(forged("/whois")).await.unwrap();
        assert_eq!(
            first_event(response).await,
            format!("peer=Some({CLIENT}) scheme=http")
        );
    }
    // v2, HTTP/2 in cleartext.
    let tcp = connect_from(CLIENT, v2).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let response = sender
        .send_request(forged("http://proxied.test/whois"))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(
        first_event(response).await,
        format!("peer=Some({CLIENT}) scheme=http")
    );
    app.stop().await;
    drop(haproxy);

    // TLS passed through: the PROXY header comes before the handshake.
    let app = start(server(trusted()).tls(support::tls::server_config())).await;
    let Some((haproxy, v2)) = Proxy::haproxy("behind haproxy, TLS", app.addr, HAPROXY) else {
        return;
    };
    for (via, alpn) in [(haproxy.addr, &b"http/1.1"[..]), (v2, &b"h2"[..])] {
        let tls = support::tls::connect_over(connect_from(CLIENT, via).await, &[alpn]).await;
        let response = match alpn {
            b"h2" => {
                let (mut sender, conn) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                        .await
                        .unwrap();
                tokio::spawn(conn);
                sender
                    .send_request(forged("https://proxied.test/whois"))
                    .await
                    .unwrap()
            }
            _ => {
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                    .await
                    .unwrap();
                tokio::spawn(conn);
                sender.send_request(forged("/whois")).await.unwrap()
            }
        };
        assert_eq!(
            first_event(response).await,
            format!("peer=Some({CLIENT}) scheme=https")
        );
    }
    app.stop().await;
}

/// Not a proxy test as such: the client's own address, to show the proxies
/// above changed what the server saw.
#[tokio::test]
async fn without_a_proxy_the_client_is_its_own_address() {
    let app = start(server(
        TrustedProxies::parse(["127.0.0.2"])
            .unwrap()
            .x_forwarded_for(),
    ))
    .await;
    let mut sender = http1(connect_from(CLIENT, app.addr).await).await;
    let response = sender.send_request(forged("/whois")).await.unwrap();
    assert_eq!(
        first_event(response).await,
        format!("peer=Some({CLIENT}) scheme=http")
    );
    app.stop().await;
}
