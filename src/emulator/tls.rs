//! The emulator over TLS: its own CA-issued server certificate, and the merchant certificate
//! requested from clients (optional at the handshake; APIv2 `security` endpoints refuse a
//! connection that did not present it, as WeChat Pay's do).

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;

use super::identity::Identity;
use crate::error::{ConfigError, Result};

/// The acceptor for a generated identity.
pub(crate) fn acceptor(identity: &Identity) -> Result<tokio_rustls::TlsAcceptor> {
    let failed = |e: &dyn std::fmt::Display| ConfigError::new("emulator", format!("cannot set up TLS: {e}"));
    let (Some(ca), Some(server)) = (&identity.tls_ca, &identity.tls_server) else {
        return Err(ConfigError::new("emulator", "TLS needs a generated identity (Identity::generate)").into());
    };
    let server_cert = server.certificate().ok_or_else(|| failed(&"no server certificate"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.der().to_vec()))
        .map_err(|e| failed(&e))?;
    let provider = crate::crypto::backend::rustls_provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .allow_unauthenticated()
        .build()
        .map_err(|e| failed(&e))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.private_key().pkcs8_der().to_vec()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(server_cert.der().to_vec())], key)
        .map_err(|e| failed(&e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
