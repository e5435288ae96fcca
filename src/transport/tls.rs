//! The rustls client configuration: the crypto backend's provider, the bundled (or native)
//! roots plus any extra ones, and the merchant certificate for mutual TLS.

use super::TransportConfig;
use crate::error::{ConfigError, Result};

pub(super) fn client_config(config: &TransportConfig) -> Result<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(crate::crypto::backend::rustls_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new("tls", e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    #[cfg(feature = "native-roots")]
    {
        let native = rustls_native_certs::load_native_certs();
        if native.certs.is_empty() {
            return Err(ConfigError::new(
                "tls",
                "no root certificates found on this system (feature native-roots)",
            )
            .into());
        }
        roots.add_parsable_certificates(native.certs);
    }
    #[cfg(not(feature = "native-roots"))]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &config.extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| ConfigError::new("root_certificate", format!("not usable as a trust anchor: {e}")))?;
    }
    let builder = builder.with_root_certificates(roots);
    match &config.client_auth {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let cert = rustls::pki_types::CertificateDer::from(cert.clone());
            let key =
                rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(key.to_vec()));
            builder.with_client_auth_cert(vec![cert], key).map_err(|e| {
                ConfigError::new(
                    "merchant_tls",
                    format!("the certificate and key are not usable for TLS: {e}"),
                )
                .into()
            })
        }
    }
}
