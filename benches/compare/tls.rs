//! `BENCH_TLS=1`: one self-signed certificate for the run, written where
//! the server processes read it, and the load generator's client that
//! trusts it.

use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

const CERT: &str = "SSE_BENCH_CERT";
const KEY: &str = "SSE_BENCH_KEY";

fn enabled() -> bool {
    std::env::var("BENCH_TLS").is_ok_and(|v| v == "1")
}

/// In the load generator, before any server starts: makes the certificate
/// and tells the servers (through the environment they inherit) where it is.
pub fn prepare() {
    if !enabled() || std::env::var_os(CERT).is_some() {
        return;
    }
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let dir = std::env::temp_dir().join(format!("sse-bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("written");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("written");
    // Single-threaded here: nothing reads the environment concurrently.
    std::env::set_var(CERT, &cert);
    std::env::set_var(KEY, &key);
}

/// In a server process: the certificate and key files, on a TLS run.
pub fn files() -> Option<(String, String)> {
    Some((std::env::var(CERT).ok()?, std::env::var(KEY).ok()?))
}

/// The server configuration both servers use: ring, ALPN h2 and http/1.1.
pub fn server_config() -> Option<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    let (cert, key) = files()?;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(cert)
        .expect("cert")
        .collect::<Result<Vec<_>, _>>()
        .expect("cert");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a key that matches");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Some(config)
}

/// The load generator's TLS client (HTTP/1.1), on a TLS run.
pub fn connector() -> Option<&'static TlsConnector> {
    static CONNECTOR: OnceLock<Option<TlsConnector>> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            use rustls::pki_types::pem::PemObject;
            let (cert, _) = files()?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls::pki_types::CertificateDer::pem_file_iter(cert).expect("cert") {
                roots.add(cert.expect("cert")).expect("trusted");
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some(TlsConnector::from(Arc::new(config)))
        })
        .as_ref()
}
