//! RSA-OAEP (SHA-1, MGF1-SHA-1) with the RustCrypto `rsa` crate, since ring has no OAEP.
//!
//! Decryption is blinded; the `rsa` crate is still subject to the Marvin timing advisory
//! (RUSTSEC-2023-0071), so a service that decrypts attacker-chosen ciphertexts on a shared host
//! should prefer the `aws-lc-rs` feature.

use pkcs8::DecodePrivateKey;
use rsa::{pkcs1::DecodeRsaPublicKey, rand_core::OsRng, Oaep, RsaPrivateKey, RsaPublicKey};
use spki::DecodePublicKey;

use crate::error::{CryptoError, KeyError};

fn rejected(e: impl std::fmt::Display) -> KeyError {
    KeyError::Rejected { detail: e.to_string() }
}

fn oaep() -> Oaep {
    Oaep::new::<sha1::Sha1>()
}

/// Encrypts sensitive fields for WeChat Pay.
pub(crate) struct OaepEncryptor(RsaPublicKey);

impl OaepEncryptor {
    pub(crate) fn from_spki(spki_der: &[u8]) -> Result<Self, KeyError> {
        RsaPublicKey::from_public_key_der(spki_der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(spki_der))
            .map(Self)
            .map_err(rejected)
    }

    pub(crate) fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use rsa::traits::PublicKeyParts;
        // OAEP with SHA-1: k - 2·hLen - 2 bytes fit.
        let max = self.0.size().saturating_sub(2 * 20 + 2);
        if plaintext.len() > max {
            return Err(CryptoError::MessageTooLong {
                max,
                actual: plaintext.len(),
            });
        }
        self.0
            .encrypt(&mut OsRng, oaep(), plaintext)
            .map_err(|_| CryptoError::Backend {
                operation: "encrypt with RSA-OAEP",
            })
    }
}

/// Decrypts fields WeChat Pay encrypted with the merchant's public key.
pub(crate) struct OaepDecryptor(RsaPrivateKey);

impl OaepDecryptor {
    pub(crate) fn from_pkcs8(pkcs8_der: &[u8]) -> Result<Self, KeyError> {
        RsaPrivateKey::from_pkcs8_der(pkcs8_der).map(Self).map_err(rejected)
    }

    pub(crate) fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0
            .decrypt_blinded(&mut OsRng, oaep(), ciphertext)
            .map_err(|_| CryptoError::Decrypt { algorithm: "RSA-OAEP" })
    }
}
