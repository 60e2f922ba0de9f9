//! TLS settings shared by the generator, the reference server and the runner:
//! rustls with the aws-lc-rs provider (as the server), ALPN `http/1.1`, TLS 1.2 and 1.3; the
//! client never resumes a session, so every connection makes a full
//! handshake. The runner's certificate is self-signed, made at run time.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

pub const ALPN: &[u8] = b"http/1.1";

fn provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// The client offers what current browsers prefer, in their order: the
/// post-quantum hybrid X25519MLKEM768, then X25519 (not P-384, whose key
/// exchange costs both sides many times more), AES-128-GCM first. Servers
/// take the client's order by default, so this is what a server under test
/// negotiates with browsers.
fn client_provider() -> Arc<CryptoProvider> {
    use rustls::crypto::aws_lc_rs::cipher_suite::*;
    use rustls::crypto::aws_lc_rs::kx_group::{SECP256R1, SECP384R1, X25519, X25519MLKEM768};
    let mut provider = provider();
    provider.kx_groups = vec![X25519MLKEM768, X25519, SECP256R1, SECP384R1];
    provider.cipher_suites = vec![
        TLS13_AES_128_GCM_SHA256,
        TLS13_AES_256_GCM_SHA384,
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    Arc::new(provider)
}

/// What a `wss://` target needs: the client settings and the name the
/// server's certificate is checked against (sent as SNI when it is a DNS name).
#[derive(Debug, Clone)]
pub struct ClientTls {
    pub config: Arc<ClientConfig>,
    pub name: ServerName<'static>,
    /// The `--ca` file the certificate is verified against; none: not verified.
    pub ca: Option<PathBuf>,
}

impl ClientTls {
    /// Settings for a server named `host` (an IP address or a DNS name),
    /// trusting the certificates in the PEM file `ca`, or, without one,
    /// accepting any certificate (loads only ever target the loopback range).
    pub fn new(host: &str, ca: Option<&Path>) -> Result<ClientTls, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| format!("{host:?} is not a valid TLS server name"))?;
        let provider = client_provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS client settings: {e}"))?;
        let mut config = match ca {
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for cert in read_certs(path)? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Remembering {
                        webpki,
                        verified: Mutex::new(None),
                    }))
                    .with_no_client_auth()
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth(),
        };
        config.alpn_protocols = vec![ALPN.to_vec()];
        config.resumption = Resumption::disabled();
        Ok(ClientTls {
            config: Arc::new(config),
            name,
            ca: ca.map(Path::to_path_buf),
        })
    }

    /// How the server's certificate is checked, for the report.
    pub fn trust_note(&self) -> String {
        match &self.ca {
            Some(path) => format!("certificate verified against {}", path.display()),
            None => "certificate not verified (no --ca)".into(),
        }
    }
}

/// The webpki verifier, remembering the last certificate chain it accepted
/// (with the name it was checked for): the same server presents the same
/// chain on every connection, and checking it again on each would make the
/// generator, not the server, the limit of a handshake run. The handshake
/// signature, which proves the server holds the key, is checked every time.
/// A chain stays accepted for the run, even past its expiry.
#[derive(Debug)]
struct Remembering {
    webpki: Arc<WebPkiServerVerifier>,
    verified: Mutex<Option<(Vec<CertificateDer<'static>>, ServerName<'static>)>>,
}

impl ServerCertVerifier for Remembering {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let same = |(chain, name): &(Vec<CertificateDer<'static>>, ServerName<'static>)| {
            name == server_name
                && chain.first() == Some(end_entity)
                && chain.get(1..) == Some(intermediates)
        };
        // A poisoned lock only loses the memory of a verified chain.
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.as_ref().is_some_and(same) {
            return Ok(ServerCertVerified::assertion());
        }
        let ok = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        *verified = Some((chain, server_name.to_owned()));
        Ok(ok)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Accepts any certificate and handshake signature: for `wss://` without `--ca`.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Every certificate in a PEM file; an error names the file.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", path.display()));
    }
    Ok(certs)
}

/// Server settings from PEM files: the certificate chain and its private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs = read_certs(cert)?;
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS server settings: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| format!("{} and {}: {e}", cert.display(), key.display()))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// A self-signed certificate for 127.0.0.1, ::1 and localhost, written as
/// `cert.pem` and `key.pem` to a fresh directory that is removed on drop.
pub struct SelfSigned {
    dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl SelfSigned {
    pub fn create() -> Result<SelfSigned, String> {
        let made = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_string(),
            "::1".to_string(),
            "localhost".to_string(),
        ])
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "switchboard-bench-tls-{}-{nanos:08x}",
            std::process::id()
        ));
        fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let out = SelfSigned {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            dir,
        };
        write_private(&out.cert, made.cert.pem().as_bytes())?;
        write_private(&out.key, made.key_pair.serialize_pem().as_bytes())?;
        Ok(out)
    }
}

impl Drop for SelfSigned {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Writes a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_files_load_on_both_sides() {
        let made = SelfSigned::create().expect("certificate");
        assert!(server_config(&made.cert, &made.key).is_ok());
        let client = ClientTls::new("127.0.0.1", Some(&made.cert)).expect("client");
        assert!(matches!(client.name, ServerName::IpAddress(_)));
        assert!(ClientTls::new("localhost", None).is_ok());
        // A key where the certificate should be: no certificate in it.
        assert!(ClientTls::new("127.0.0.1", Some(&made.key)).is_err());
        assert!(server_config(&made.key, &made.key).is_err());
        let dir = made.dir.clone();
        drop(made);
        assert!(!dir.exists());
    }
}
