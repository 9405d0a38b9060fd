//! TLS for tests: one self-signed certificate for `localhost`, made once,
//! the server's settings from it, and a client that trusts it.

use std::sync::{Arc, OnceLock};

use sse_runtime::server::tls::TlsConfig;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// A self-signed certificate for `localhost` and `127.0.0.1`, as PEM.
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

pub fn cert() -> &'static TestCert {
    static CERT: OnceLock<TestCert> = OnceLock::new();
    CERT.get_or_init(|| {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).expect("a certificate");
        TestCert {
            cert_pem: certified.cert.pem(),
            key_pem: certified.signing_key.serialize_pem(),
            der: certified.cert.der().clone(),
        }
    })
}

/// The server's TLS settings for the test certificate.
pub fn server_config() -> TlsConfig {
    let cert = cert();
    TlsConfig::from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).expect("valid PEM")
}

/// A TLS connection to `addr` that offers `alpn` and trusts only the test
/// certificate; checks that the server chose the first protocol offered.
pub async fn connect(addr: std::net::SocketAddr, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let tls = handshake(addr, alpn, &cert().der)
        .await
        .expect("the TLS handshake");
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        alpn.first().copied(),
        "the server's ALPN choice"
    );
    tls
}

/// A TLS handshake with `addr` that trusts only `trusted`.
pub async fn try_connect(
    addr: std::net::SocketAddr,
    trusted: &CertificateDer<'static>,
) -> std::io::Result<TlsStream<TcpStream>> {
    handshake(addr, &[b"http/1.1"], trusted).await
}

/// A TLS handshake on `tcp` (which may carry something first, such as a
/// PROXY protocol header), trusting the test certificate.
pub async fn connect_over(tcp: TcpStream, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let name = ServerName::try_from("localhost").unwrap();
    client(alpn, &cert().der)
        .connect(name, tcp)
        .await
        .expect("the TLS handshake")
}

async fn handshake(
    addr: std::net::SocketAddr,
    alpn: &[&[u8]],
    trusted: &CertificateDer<'static>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    client(alpn, trusted).connect(name, tcp).await
}

fn client(alpn: &[&[u8]], trusted: &CertificateDer<'static>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(trusted.clone()).expect("a certificate");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}
