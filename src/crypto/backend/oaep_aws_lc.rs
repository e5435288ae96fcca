//! RSA-OAEP (SHA-1, MGF1-SHA-1) with aws-lc-rs.

use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
};

use crate::crypto::rsa_der::RsaPublicDer;
use crate::error::{CryptoError, KeyError};

fn rejected(e: impl std::fmt::Display) -> KeyError {
    KeyError::Rejected { detail: e.to_string() }
}

/// Encrypts sensitive fields for WeChat Pay.
pub(crate) struct OaepEncryptor(OaepPublicEncryptingKey);

impl OaepEncryptor {
    pub(crate) fn new(der: &RsaPublicDer) -> Result<Self, KeyError> {
        let key = PublicEncryptingKey::from_der(&der.spki).map_err(rejected)?;
        OaepPublicEncryptingKey::new(key).map(Self).map_err(rejected)
    }

    pub(crate) fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let max = self.0.max_plaintext_size(&OAEP_SHA1_MGF1SHA1);
        if plaintext.len() > max {
            return Err(CryptoError::MessageTooLong {
                max,
                actual: plaintext.len(),
            });
        }
        let mut out = vec![0; self.0.ciphertext_size()];
        let len = self
            .0
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut out, None)
            .map_err(|_| CryptoError::Backend {
                operation: "encrypt with RSA-OAEP",
            })?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

/// Decrypts fields WeChat Pay encrypted with the merchant's public key.
pub(crate) struct OaepDecryptor(OaepPrivateDecryptingKey);

impl OaepDecryptor {
    pub(crate) fn from_pkcs8(pkcs8_der: &[u8]) -> Result<Self, KeyError> {
        let key = PrivateDecryptingKey::from_pkcs8(pkcs8_der).map_err(rejected)?;
        OaepPrivateDecryptingKey::new(key).map(Self).map_err(rejected)
    }

    pub(crate) fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0; self.0.min_output_size()];
        let len = self
            .0
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None)
            .map_err(|_| CryptoError::Decrypt { algorithm: "RSA-OAEP" })?
            .len();
        out.truncate(len);
        Ok(out)
    }
}
