//! The TLS server configuration: a certificate chain and its private key from
//! PEM files, TLS 1.2 and 1.3 with rustls's aws-lc-rs provider, ALPN `http/1.1`.
//! It can be replaced while the server runs (a renewed certificate): each
//! connection keeps the configuration its handshake began with, and new
//! connections take the current one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// Why the files could not be used: the option (`tls_cert` or `tls_key`) and
/// a message naming the file.
#[derive(Debug)]
pub(crate) struct TlsFileError {
    pub option: &'static str,
    pub message: String,
}

/// The files and the configuration last built from them.
pub(crate) struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

impl TlsFiles {
    pub(crate) fn load(cert: &Path, key: &Path) -> Result<TlsFiles, TlsFileError> {
        Ok(TlsFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(build(cert, key)?),
        })
    }

    /// Reads the files again; on an error the configuration in use stays.
    pub(crate) fn reload(&self) -> Result<(), TlsFileError> {
        let config = build(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
        Ok(())
    }

    /// The configuration for a new connection.
    pub(crate) fn current(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn build(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsFileError> {
    let cert_error = |message: String| TlsFileError {
        option: "tls_cert",
        message: format!("{}: {message}", cert.display()),
    };
    let key_error = |message: String| TlsFileError {
        option: "tls_key",
        message: format!("{}: {message}", key.display()),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error("no PEM certificate in it".into()));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => key_error("no PEM private key in it".into()),
        e => key_error(e.to_string()),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cert_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            key_error(format!(
                "does not fit the certificate in {} ({e})",
                cert.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
