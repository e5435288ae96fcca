//! An RSA public key: WeChat Pay's platform key or public key, or the merchant's own.

use std::fmt;
use std::sync::Arc;

use super::backend::{self, OaepEncryptor};
use super::pem;
use super::rsa_der::{self, RsaPublicDer};
use crate::error::{CryptoError, Result};

/// An RSA public key (at least 2048 bits), parsed once and ready to verify and encrypt.
///
/// Cheap to clone and shareable across threads. Two keys are equal when their
/// SubjectPublicKeyInfo is. Load one with [`Rsa::from_public`](crate::Rsa::from_public), which also
/// takes a certificate.
///
/// ```
/// # let pem = std::fs::read_to_string("tests/fixtures/keys/platform_cert.pem").unwrap();
/// let key = wechatpay::Rsa::from_public(&pem)?;
/// assert_eq!(key.bits(), 2048);
/// assert!(key.to_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Clone)]
pub struct PublicKey(Arc<Inner>);

struct Inner {
    der: RsaPublicDer,
    encryptor: OaepEncryptor,
}

impl PublicKey {
    pub(crate) fn from_der(der: RsaPublicDer) -> Result<Self> {
        let encryptor = OaepEncryptor::new(&der)?;
        Ok(Self(Arc::new(Inner { der, encryptor })))
    }

    /// From an X.509 `SubjectPublicKeyInfo` in DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        Self::from_der(rsa_der::public_from_spki(der)?)
    }

    /// From a PKCS#1 `RSAPublicKey` in DER.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self> {
        Self::from_der(rsa_der::public_from_pkcs1(der)?)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.der.bits
    }

    pub(crate) fn modulus_len(&self) -> usize {
        self.0.der.bits.div_ceil(8)
    }

    /// The `SubjectPublicKeyInfo` DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.0.der.spki
    }

    /// The PKCS#1 `RSAPublicKey` DER.
    pub fn pkcs1_der(&self) -> &[u8] {
        &self.0.der.pkcs1
    }

    /// `-----BEGIN PUBLIC KEY-----` PEM (SPKI), as WeChat Pay publishes its public keys.
    pub fn to_pem(&self) -> String {
        pem::encode(pem::Label::PublicKey, &self.0.der.spki)
    }

    /// Lowercase hex SHA-256 of the SPKI DER: a short, stable name for logs.
    pub fn fingerprint(&self) -> String {
        super::hex::lower(&backend::sha256(&self.0.der.spki))
    }

    pub(crate) fn verify_raw(&self, message: &[u8], signature: &[u8]) -> bool {
        backend::verify_rsa_sha256(&self.0.der.pkcs1, message, signature)
    }

    pub(crate) fn encrypt_raw(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0.encryptor.encrypt(plaintext)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.der.spki == other.0.der.spki
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .field("sha256", &&self.fingerprint()[..16])
            .finish()
    }
}
