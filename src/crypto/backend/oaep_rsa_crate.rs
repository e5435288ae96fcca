//! RSA-OAEP (SHA-1, MGF1-SHA-1) with the RustCrypto `rsa` crate, since ring has no OAEP.
//!
//! Decryption is blinded; the `rsa` crate is still subject to the Marvin timing advisory
//! (RUSTSEC-2023-0071), so a service that decrypts attacker-chosen ciphertexts on a shared host
//! should prefer the `aws-lc-rs` feature.

use der::Decode;
use pkcs8::DecodePrivateKey;
use rsa::{rand_core::OsRng, BigUint, Oaep, RsaPrivateKey, RsaPublicKey};

use crate::crypto::rsa_der::RsaPublicDer;
use crate::error::{CryptoError, KeyError};

/// The `rsa` crate refuses keys over 4096 bits by default; WeChat Pay verification accepts up to
/// 8192 on both backends, so allow the same here.
const MAX_BITS: usize = 8192;

fn rejected(e: impl std::fmt::Display) -> KeyError {
    KeyError::Rejected { detail: e.to_string() }
}

fn oaep() -> Oaep {
    Oaep::new::<sha1::Sha1>()
}

/// Encrypts sensitive fields for WeChat Pay.
pub(crate) struct OaepEncryptor(RsaPublicKey);

impl OaepEncryptor {
    pub(crate) fn new(der: &RsaPublicDer) -> Result<Self, KeyError> {
        let key = pkcs1::RsaPublicKey::from_der(&der.pkcs1).map_err(rejected)?;
        RsaPublicKey::new_with_max_size(
            BigUint::from_bytes_be(key.modulus.as_bytes()),
            BigUint::from_bytes_be(key.public_exponent.as_bytes()),
            MAX_BITS,
        )
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
