//! Transports: a Unix socket, and what TLS adds (ALPN, reloading
//! certificates). Every stream guarantee over TLS is in `paths.rs`.

mod support;

use std::time::Duration;

use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_runtime::route::handler;
use sse_runtime::server::proxy::TrustedProxies;
use sse_runtime::server::tls::TlsConfig;
use sse_runtime::{Event, Server, Session};
use support::http::{open_on, start, EventStream, Via};
use tokio::io::AsyncReadExt as _;
use tokio::net::{UnixListener, UnixStream};

async fn who(session: Session) -> Result<(), sse_runtime::Error> {
    let line = format!("peer={:?}", session.request().peer_addr());
    session.send(Event::new().data(line)).await
}

fn get(path: &str) -> http::Request<Empty<bytes::Bytes>> {
    http::Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

#[tokio::test]
async fn streams_over_a_unix_socket_by_http1_and_http2() {
    let dir = std::env::temp_dir().join(format!("sse-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = Server::new()
        .route(handler(who).at("/events"))
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
    let served = tokio::spawn(server.serve_on(listener));

    // HTTP/1.1: the fast path (it closes the connection after its stream).
    let io = TokioIo::new(UnixStream::connect(&path).await.unwrap());
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    let mut stream = EventStream::new(sender.send_request(get("/events")).await.unwrap());
    assert_eq!(stream.header("connection"), Some("close"));
    assert_eq!(stream.next_block().await.unwrap(), "data: peer=None\n\n");

    // HTTP/2 with prior knowledge: hyper.
    let io = TokioIo::new(UnixStream::connect(&path).await.unwrap());
    let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut stream = EventStream::new(sender.send_request(get("/events")).await.unwrap());
    assert_eq!(stream.head.version, http::Version::HTTP_2);
    assert_eq!(stream.next_block().await.unwrap(), "data: peer=None\n\n");

    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn alpn_offers_http2_first_then_http1() {
    let server = start(
        Server::new()
            .route(handler(who).at("/events"))
            .tls(support::tls::server_config()),
    )
    .await;
    // A client that offers both gets HTTP/2 (`connect` checks the choice).
    let tls = support::tls::connect(server.addr, &[b"h2", b"http/1.1"]).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut stream = EventStream::new(sender.send_request(get("/events")).await.unwrap());
    let block = stream.next_block().await.unwrap();
    assert!(block.starts_with("data: peer=Some(127.0.0.1:"), "{block}");
    // One that offers only HTTP/1.1 gets it, on the fast path.
    let tls = support::tls::connect(server.addr, &[b"http/1.1"]).await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut stream = EventStream::new(sender.send_request(get("/events")).await.unwrap());
    assert_eq!(stream.header("connection"), Some("close"));
    assert!(stream
        .next_block()
        .await
        .unwrap()
        .starts_with("data: peer="));
    server.stop().await;
}

#[tokio::test]
async fn certificates_are_reloaded_without_a_restart() {
    let tls = support::tls::server_config();
    let server = start(
        Server::new()
            .route(handler(who).at("/events"))
            .tls(tls.clone()),
    )
    .await;
    let first = support::tls::cert();
    assert!(support::tls::try_connect(server.addr, &first.der)
        .await
        .is_ok());

    let renewed = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("sse-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, renewed.cert.pem()).unwrap();
    std::fs::write(&key, renewed.signing_key.serialize_pem()).unwrap();
    // A broken file changes nothing.
    std::fs::write(dir.join("empty.pem"), "").unwrap();
    let err = tls
        .reload_from_pem_files(dir.join("empty.pem"), &key)
        .unwrap_err();
    assert!(err.to_string().contains("no certificate"), "{err}");
    assert!(support::tls::try_connect(server.addr, &first.der)
        .await
        .is_ok());

    tls.reload_from_pem_files(&cert, &key).unwrap();
    let new_der = renewed.cert.der().clone();
    assert!(support::tls::try_connect(server.addr, &new_der)
        .await
        .is_ok());
    assert!(
        support::tls::try_connect(server.addr, &first.der)
            .await
            .is_err(),
        "new connections get the new certificate"
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_closed_at_the_header_deadline() {
    let server = start(
        Server::new()
            .header_read_timeout(Duration::from_millis(200))
            .route(handler(who).at("/events"))
            .tls(support::tls::server_config()),
    )
    .await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf))
        .await
        .expect("closed by the server within the deadline");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    server.stop().await;
}

#[test]
fn bad_pem_is_a_typed_error() {
    use sse_runtime::server::tls::TlsError;
    let cert = support::tls::cert();
    assert!(matches!(
        TlsConfig::from_pem(b"", cert.key_pem.as_bytes()),
        Err(TlsError::NoCertificate)
    ));
    assert!(matches!(
        TlsConfig::from_pem(cert.cert_pem.as_bytes(), b""),
        Err(TlsError::NoKey)
    ));
    let other = rcgen::generate_simple_self_signed(vec!["x".to_owned()]).unwrap();
    assert!(matches!(
        TlsConfig::from_pem(
            cert.cert_pem.as_bytes(),
            other.signing_key.serialize_pem().as_bytes()
        ),
        Err(TlsError::Rustls(_))
    ));
}

async fn whois(session: Session) -> Result<(), sse_runtime::Error> {
    let request = session.request();
    let line = format!(
        "peer={:?} scheme={}",
        request.peer_addr(),
        request.scheme().as_str()
    );
    session.send(Event::new().data(line)).await
}

fn proxied_server(proxies: TrustedProxies) -> Server {
    Server::new()
        .trusted_proxies(proxies)
        .route(handler(whois).at("/whois"))
        .fallback(|_request| async { http::Response::new("page".to_owned()) })
}

#[tokio::test]
async fn forwarded_headers_from_a_trusted_proxy_name_the_client_on_every_path() {
    // The proxy appends to X-Forwarded-For; the client also sent a
    // `Forwarded` of its own choosing, which the proxy passed on.
    let sent: &[(&str, &[u8])] = &[
        ("x-forwarded-for", b"6.6.6.6, 203.0.113.9"),
        ("x-forwarded-proto", b"http"),
        ("forwarded", b"for=6.6.6.6;proto=https"),
    ];
    let proxies = TrustedProxies::parse(["127.0.0.1"]).unwrap();
    let server = start(proxied_server(proxies.clone().x_forwarded_for())).await;
    for via in Via::ALL {
        let mut opened = open_on(via, server.addr, "/", "/whois", sent).await;
        assert_eq!(
            opened.stream.next_block().await.unwrap(),
            "data: peer=Some(203.0.113.9:0) scheme=http\n\n",
            "{via:?}: X-Forwarded-For is read, Forwarded is not"
        );
    }
    server.stop().await;
    // The proxy writes `Forwarded`: the X-Forwarded-* a client sent are not read.
    let server = start(proxied_server(proxies.forwarded())).await;
    let sent: &[(&str, &[u8])] = &[
        ("x-forwarded-for", b"6.6.6.6"),
        ("x-forwarded-proto", b"http"),
        ("forwarded", b"for=203.0.113.9;proto=https"),
    ];
    for via in Via::ALL {
        let mut opened = open_on(via, server.addr, "/", "/whois", sent).await;
        assert_eq!(
            opened.stream.next_block().await.unwrap(),
            "data: peer=Some(203.0.113.9:0) scheme=https\n\n",
            "{via:?}: Forwarded is read, X-Forwarded-* are not"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn forwarded_headers_from_anyone_else_are_ignored() {
    // The test client (127.0.0.1) is not one of the proxies.
    let proxies = TrustedProxies::parse(["10.0.0.0/8"])
        .unwrap()
        .x_forwarded_for();
    let server = start(proxied_server(proxies)).await;
    let spoofed: &[(&str, &[u8])] = &[
        ("x-forwarded-for", b"203.0.113.9"),
        ("forwarded", b"for=203.0.113.9;proto=https"),
        ("x-forwarded-proto", b"https"),
    ];
    for via in Via::ALL {
        let mut opened = open_on(via, server.addr, "/", "/whois", spoofed).await;
        let block = opened.stream.next_block().await.unwrap();
        assert!(
            block.starts_with("data: peer=Some(127.0.0.1:") && block.ends_with("scheme=http\n\n"),
            "{via:?}: {block}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_proxy_protocol_header_names_the_client_in_cleartext_and_before_tls() {
    use tokio::io::AsyncWriteExt;
    let proxies = || {
        TrustedProxies::parse(["127.0.0.1"])
            .unwrap()
            .proxy_protocol()
    };
    let v1 = b"PROXY TCP4 198.51.100.4 10.0.0.1 4711 443\r\n";

    let server = start(proxied_server(proxies())).await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(v1).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let response = sender.send_request(get("/whois")).await.unwrap();
    let mut stream = EventStream::new(response);
    assert_eq!(
        stream.next_block().await.unwrap(),
        "data: peer=Some(198.51.100.4:4711) scheme=http\n\n"
    );
    // Before TLS, as load balancers send it.
    let server_tls = start(proxied_server(proxies()).tls(support::tls::server_config())).await;
    let mut tcp = tokio::net::TcpStream::connect(server_tls.addr)
        .await
        .unwrap();
    tcp.write_all(v1).await.unwrap();
    let tls = support::tls::connect_over(tcp, &[b"h2"]).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut stream = EventStream::new(sender.send_request(get("/whois")).await.unwrap());
    assert_eq!(
        stream.next_block().await.unwrap(),
        "data: peer=Some(198.51.100.4:4711) scheme=https\n\n"
    );
    server_tls.stop().await;

    // A connection from the proxy without the header is closed unanswered.
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET /whois HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?} {buf:?}");
    server.stop().await;

    // From a peer that is not a trusted proxy, a PROXY header is not read:
    // it is a bad request like any other.
    let untrusted = TrustedProxies::parse(["10.0.0.0/8"])
        .unwrap()
        .proxy_protocol();
    let server = start(proxied_server(untrusted)).await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(v1).await.unwrap();
    tcp.write_all(b"GET /whois HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut buf)).await;
    let answer = String::from_utf8_lossy(&buf);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    server.stop().await;
}
