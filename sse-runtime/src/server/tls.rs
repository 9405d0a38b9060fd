//! TLS (feature `tls`): HTTPS with rustls, HTTP/2 and HTTP/1.1 by ALPN.
//!
//! Browsers speak HTTP/2 only over TLS, and over HTTP/1.1 they open at most
//! six connections per origin: a page with several `EventSource`s (or a user
//! with several tabs) stalls on the seventh. Over HTTP/2 every stream shares
//! one connection. So the server terminates TLS itself, on any
//! [`Listener`](super::Listener), and offers `h2` and `http/1.1` by ALPN; an
//! HTTP/1.1 stream over TLS keeps the fast path (no hyper buffers), and an
//! HTTP/2 stream gets the same heartbeat, backpressure, write timeout and
//! shutdown as any other.
//!
//! ```no_run
//! use sse_runtime::server::tls::TlsConfig;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//! sse_runtime::Server::new()
//!     .tls(tls.clone())
//!     .serve("0.0.0.0:8443")
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Certificates can be replaced while the server runs
//! ([`TlsConfig::reload_from_pem_files`]): connections made from then on
//! use the new ones, open ones keep theirs.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The rustls this crate is built with, to build a [`ServerConfig`] for
/// [`TlsConfig::from_server_config`] with the same version.
pub use tokio_rustls::rustls;

/// What ALPN offers when the configuration names nothing: HTTP/2 first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The server's TLS settings: a certificate chain and its key (PEM), or a
/// rustls [`ServerConfig`] of your own. Cheap to clone; clones share the
/// settings, so a clone kept aside can [reload](Self::reload_from_pem_files)
/// the certificates of a running server.
///
/// ```
/// use sse_runtime::server::tls::TlsConfig;
/// let err = TlsConfig::from_pem(b"not PEM", b"").unwrap_err();
/// assert!(err.to_string().contains("no certificate"), "{err}");
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

/// Why TLS settings could not be made.
///
/// ```
/// use sse_runtime::server::tls::{TlsConfig, TlsError};
/// let err = TlsConfig::from_pem_files("/no/such/cert.pem", "/no/such/key.pem").unwrap_err();
/// assert!(matches!(err, TlsError::Read { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The certificate PEM holds no `CERTIFICATE` section.
    #[error("no certificate in the certificate PEM")]
    NoCertificate,
    /// The key PEM holds no private key (PKCS#8, PKCS#1 or SEC1).
    #[error("no private key in the key PEM")]
    NoKey,
    /// A PEM section does not parse.
    #[error("the PEM does not parse: {0}")]
    Pem(#[source] rustls_pki_types::pem::Error),
    /// rustls refused the certificate and key (a key that does not match the
    /// certificate, an unsupported key type).
    #[error("rustls refused the certificate and key: {0}")]
    Rustls(#[source] rustls::Error),
}

impl TlsConfig {
    /// Reads a certificate chain (the server's certificate first) and its
    /// private key from PEM files.
    ///
    /// ```no_run
    /// let tls = sse_runtime::server::tls::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// # Ok::<(), sse_runtime::server::tls::TlsError>(())
    /// ```
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        Ok(Self::new(config_from_files(
            cert_chain.as_ref(),
            key.as_ref(),
        )?))
    }

    /// A certificate chain (the server's certificate first) and its private
    /// key, as PEM.
    ///
    /// ```no_run
    /// # let (cert, key) = (Vec::<u8>::new(), Vec::<u8>::new());
    /// let tls = sse_runtime::server::tls::TlsConfig::from_pem(&cert, &key)?;
    /// # Ok::<(), sse_runtime::server::tls::TlsError>(())
    /// ```
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        Ok(Self::new(config_from_pem(cert_chain, key)?))
    }

    /// A rustls configuration of your own (client certificates, a
    /// certificate resolver, another crypto provider). If it offers no ALPN
    /// protocol, `h2` and `http/1.1` are offered.
    ///
    /// ```no_run
    /// use sse_runtime::server::tls::{rustls, TlsConfig};
    /// # fn f(certs: Vec<rustls::pki_types::CertificateDer<'static>>, key: rustls::pki_types::PrivateKeyDer<'static>) -> Result<(), rustls::Error> {
    /// let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    /// let config = rustls::ServerConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_no_client_auth()
    ///     .with_single_cert(certs, key)?;
    /// let tls = TlsConfig::from_server_config(config);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_server_config(config: ServerConfig) -> Self {
        Self::new(with_alpn(config))
    }

    /// Replaces the certificate chain and key with those in the PEM files,
    /// for connections made from now on. On an error nothing changes.
    ///
    /// ```no_run
    /// # fn f(tls: sse_runtime::server::tls::TlsConfig) {
    /// // On SIGHUP, say, after the certificates were renewed:
    /// if let Err(err) = tls.reload_from_pem_files("cert.pem", "key.pem") {
    ///     eprintln!("keeping the old certificate: {err}");
    /// }
    /// # }
    /// ```
    pub fn reload_from_pem_files(
        &self,
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<(), TlsError> {
        let config = config_from_files(cert_chain.as_ref(), key.as_ref())?;
        self.replace(config);
        Ok(())
    }

    /// Replaces the whole configuration, for connections made from now on.
    ///
    /// ```no_run
    /// # fn f(tls: sse_runtime::server::tls::TlsConfig, config: sse_runtime::server::tls::rustls::ServerConfig) {
    /// tls.reload(config);
    /// # }
    /// ```
    pub fn reload(&self, config: ServerConfig) {
        self.replace(with_alpn(config));
    }

    fn new(config: ServerConfig) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(config))),
        }
    }

    fn replace(&self, config: ServerConfig) {
        let config = Arc::new(config);
        match self.current.write() {
            Ok(mut current) => *current = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
    }

    /// An acceptor with the configuration of the moment.
    pub(super) fn acceptor(&self) -> TlsAcceptor {
        let current = match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        TlsAcceptor::from(current)
    }
}

fn with_alpn(mut config: ServerConfig) -> ServerConfig {
    if config.alpn_protocols.is_empty() {
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    }
    config
}

fn config_from_files(cert_chain: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    config_from_pem(&read(cert_chain)?, &read(key)?)
}

fn config_from_pem(cert_chain: &[u8], key: &[u8]) -> Result<ServerConfig, TlsError> {
    let certs = CertificateDer::pem_slice_iter(cert_chain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsError::Pem)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let key = match PrivateKeyDer::from_pem_slice(key) {
        Ok(key) => key,
        Err(rustls_pki_types::pem::Error::NoItemsFound) => return Err(TlsError::NoKey),
        Err(err) => return Err(TlsError::Pem(err)),
    };
    // The provider is named, not taken from the process default: a program
    // whose dependencies enable two providers would otherwise panic here.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::Rustls)?;
    Ok(with_alpn(config))
}
