//! The merchant's RSA private key.

use std::fmt;
use std::sync::Arc;

use super::backend::{OaepDecryptor, SigningKey};
use super::public_key::PublicKey;
use super::rsa_der::{self, RsaPrivateDer};
use crate::error::{CryptoError, Result};

/// An RSA private key (at least 2048 bits), parsed once and ready to sign and decrypt.
///
/// Cheap to clone (an `Arc` inside) and shareable across threads. `Debug` shows the key size,
/// never key material. Load one with [`Rsa::from_private`](crate::Rsa::from_private).
///
/// ```
/// # let pem = std::fs::read_to_string("tests/fixtures/keys/merchant_pkcs8.pem").unwrap();
/// let key = wechatpay::Rsa::from_private(&pem)?;
/// assert_eq!(key.bits(), 2048);
/// assert_eq!(format!("{key:?}"), "PrivateKey { bits: 2048, .. }");
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Clone)]
pub struct PrivateKey(Arc<Inner>);

struct Inner {
    /// Kept for mutual TLS (APIv2 `security` calls), zeroized on drop.
    pkcs8: zeroize::Zeroizing<Vec<u8>>,
    signer: SigningKey,
    decryptor: OaepDecryptor,
    public: PublicKey,
}

impl PrivateKey {
    pub(crate) fn from_der(der: RsaPrivateDer) -> Result<Self> {
        let signer = SigningKey::from_pkcs8(&der.pkcs8)?;
        let decryptor = OaepDecryptor::from_pkcs8(&der.pkcs8)?;
        let public = PublicKey::from_der(der.public)?;
        Ok(Self(Arc::new(Inner {
            pkcs8: der.pkcs8,
            signer,
            decryptor,
            public,
        })))
    }

    /// From an unencrypted PKCS#8 `PrivateKeyInfo` in DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        Self::from_der(rsa_der::private_from_pkcs8(der)?)
    }

    /// From a PKCS#1 `RSAPrivateKey` in DER.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self> {
        Self::from_der(rsa_der::private_from_pkcs1(der)?)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.public.bits()
    }

    /// The matching public key (e.g. to check it against the merchant certificate).
    pub fn public_key(&self) -> &PublicKey {
        &self.0.public
    }

    /// The PKCS#8 DER, for the TLS client certificate.
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.0.pkcs8
    }

    /// RSA-SHA256 PKCS#1 v1.5 signature bytes.
    pub(crate) fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0.signer.sign(message, self.0.public.modulus_len())
    }

    /// RSA-OAEP (SHA-1) decryption.
    pub(crate) fn decrypt_raw(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0.decryptor.decrypt(ciphertext)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}
