//! X.509 certificates (merchant API certificate, WeChat Pay platform certificates) and `PemUtil`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use super::{hex, key_input, pem, rsa_der, PrivateKey, PublicKey};
use crate::error::Result;

/// A parsed X.509 certificate holding an RSA key.
///
/// ```
/// use wechatpay::PemUtil;
///
/// let cert = PemUtil::load_certificate("tests/fixtures/keys/platform_cert.pem")?;
/// assert_eq!(PemUtil::parse_certificate_serial_no(&cert), cert.serial_no());
/// assert!(cert.not_before() < cert.not_after());
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Clone)]
pub struct Certificate(Arc<Inner>);

struct Inner {
    der: Vec<u8>,
    serial_no: String,
    subject: String,
    issuer: String,
    not_before: SystemTime,
    not_after: SystemTime,
    public_key: PublicKey,
}

impl Certificate {
    /// From PEM text (the first `CERTIFICATE` block) or DER bytes.
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Self> {
        let der = key_input::certificate_bytes(bytes.as_ref())?;
        let cert = key_input::certificate_from_der(&der)?;
        let tbs = &cert.tbs_certificate;
        let public_key = PublicKey::from_der(rsa_der::public_from_certificate(&cert)?)?;
        Ok(Self(Arc::new(Inner {
            serial_no: serial_hex(tbs.serial_number.as_bytes()),
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            public_key,
            der,
        })))
    }

    /// The serial number as uppercase hex, exactly as `openssl x509 -serial` prints it.
    pub fn serial_no(&self) -> &str {
        &self.0.serial_no
    }

    /// The subject distinguished name (RFC 4514).
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The issuer distinguished name (RFC 4514).
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// Start of the validity window.
    pub fn not_before(&self) -> SystemTime {
        self.0.not_before
    }

    /// End of the validity window.
    pub fn not_after(&self) -> SystemTime {
        self.0.not_after
    }

    /// Whether `at` falls inside the validity window.
    pub fn is_valid_at(&self, at: SystemTime) -> bool {
        self.0.not_before <= at && at <= self.0.not_after
    }

    /// The subject public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.0.public_key
    }

    /// Whether `key` is the private half of this certificate's key.
    pub fn matches(&self, key: &PrivateKey) -> bool {
        key.public_key() == self.public_key()
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// `-----BEGIN CERTIFICATE-----` PEM.
    pub fn to_pem(&self) -> String {
        pem::encode(pem::Label::Certificate, &self.0.der)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("serial_no", &self.0.serial_no)
            .field("subject", &self.0.subject)
            .field("not_before", &self.0.not_before)
            .field("not_after", &self.0.not_after)
            .finish()
    }
}

/// DER INTEGER content → uppercase hex without the sign-padding 00 byte(s).
fn serial_hex(bytes: &[u8]) -> String {
    let first_significant = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    hex::upper(&bytes[first_significant..])
}

/// wechatpay-php's `PemUtil`: file loading helpers for keys and certificates.
#[derive(Debug)]
pub struct PemUtil;

impl PemUtil {
    /// Loads a private key from a file path (with or without `file://`).
    ///
    /// ```
    /// let key = wechatpay::PemUtil::load_private_key("tests/fixtures/keys/merchant_pkcs1.pem")?;
    /// assert_eq!(key.bits(), 2048);
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn load_private_key(path: impl AsRef<Path>) -> Result<PrivateKey> {
        let path = path.as_ref();
        let text = path.to_string_lossy();
        let uri = if text.starts_with("file://") {
            text.into_owned()
        } else {
            format!("file://{text}")
        };
        super::Rsa::from_private(uri)
    }

    /// Loads a private key from PEM text.
    pub fn load_private_key_from_string(content: impl AsRef<str>) -> Result<PrivateKey> {
        super::Rsa::from_private(content)
    }

    /// Loads an X.509 certificate (PEM or DER) from a file path, with or without `file://`.
    pub fn load_certificate(path: impl AsRef<Path>) -> Result<Certificate> {
        let text = path.as_ref().to_string_lossy();
        let path = text
            .strip_prefix("file://")
            .map_or_else(|| path.as_ref().to_owned(), Into::into);
        Certificate::from_bytes(&*key_input::read_file(&path)?)
    }

    /// Loads an X.509 certificate from PEM text (or a `file://` URI, as OpenSSL allows).
    pub fn load_certificate_from_string(content: impl AsRef<str>) -> Result<Certificate> {
        let content = content.as_ref();
        if content.trim_start().starts_with("file://") {
            return Self::load_certificate(content.trim());
        }
        Certificate::from_bytes(content)
    }

    /// Loads `apiclient_cert.p12` (the merchant API certificate and key WeChat Pay issues; its
    /// password is the mchid unless changed). Legacy RC2/3DES files and AES ones both load.
    ///
    /// ```
    /// let p12 = std::fs::read("tests/fixtures/keys/apiclient_cert_legacy.p12").unwrap();
    /// let (certificate, key) = wechatpay::PemUtil::load_pkcs12(&p12, "1900000109")?;
    /// assert!(certificate.matches(&key));
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    #[cfg(feature = "pkcs12")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pkcs12")))]
    pub fn load_pkcs12(bytes: impl AsRef<[u8]>, password: &str) -> Result<(Certificate, PrivateKey)> {
        use crate::error::KeyError;
        let store =
            p12_keystore::KeyStore::from_pkcs12(bytes.as_ref(), password, p12_keystore::Pkcs12ImportPolicy::Relaxed)
                .map_err(|e| match e {
                    p12_keystore::error::Error::MacError(_) => KeyError::WrongPassphrase,
                    other => KeyError::Der {
                        what: "PKCS#12 (apiclient_cert.p12)",
                        detail: other.to_string(),
                    },
                })?;
        let (_, chain) = store.private_key_chain().ok_or_else(|| KeyError::Der {
            what: "PKCS#12 (apiclient_cert.p12)",
            detail: "it holds no private key".into(),
        })?;
        let key = PrivateKey::from_pkcs8_der(chain.key().as_der())?;
        let certificate = chain
            .certs()
            .iter()
            .filter_map(|c| Certificate::from_bytes(c.as_der()).ok())
            .find(|c| c.matches(&key))
            .ok_or_else(|| KeyError::Der {
                what: "PKCS#12 (apiclient_cert.p12)",
                detail: "it holds no certificate for its private key".into(),
            })?;
        Ok((certificate, key))
    }

    /// The certificate's serial number as uppercase hex (`openssl x509 -serial`).
    pub fn parse_certificate_serial_no(certificate: &Certificate) -> String {
        certificate.serial_no().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::serial_hex;

    #[test]
    fn serial_drops_sign_padding_only() {
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8F01");
        assert_eq!(serial_hex(&[0x0a, 0x00]), "0A00");
        assert_eq!(serial_hex(&[0x00]), "00");
    }
}
