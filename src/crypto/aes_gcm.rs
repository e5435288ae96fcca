//! AEAD_AES_256_GCM, as WeChat Pay uses it for notifications and platform certificates.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::backend;
use crate::error::{CryptoError, Result};

/// AES-256-GCM with a 12-byte nonce and a 16-byte tag appended to the ciphertext, base64 encoded.
///
/// The key is the 32-byte APIv3 key; nonce and associated data come with each encrypted payload.
///
/// ```
/// use wechatpay::AesGcm;
///
/// let key = "0123456789abcdef0123456789abcdef"; // the APIv3 key
/// let sealed = AesGcm::encrypt("hello", key, "0123456789ab", "transaction")?;
/// assert_eq!(AesGcm::decrypt(&sealed, key, "0123456789ab", "transaction")?, "hello");
/// assert!(AesGcm::decrypt(&sealed, key, "0123456789ab", "refund").is_err());
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Debug)]
pub struct AesGcm;

impl AesGcm {
    /// The key length in bytes.
    pub const KEY_LENGTH: usize = 32;
    /// The nonce length in bytes.
    pub const NONCE_LENGTH: usize = 12;
    /// The tag length in bytes.
    pub const TAG_LENGTH: usize = 16;

    /// Encrypts `plaintext`; returns base64(ciphertext ‖ tag).
    pub fn encrypt(
        plaintext: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        nonce: impl AsRef<[u8]>,
        aad: impl AsRef<[u8]>,
    ) -> Result<String> {
        let sealed = backend::aes_256_gcm_seal(key.as_ref(), nonce.as_ref(), aad.as_ref(), plaintext.as_ref())?;
        Ok(STANDARD.encode(sealed))
    }

    /// Decrypts base64(ciphertext ‖ tag) to UTF-8 text; a failed tag check is an error.
    pub fn decrypt(
        ciphertext: &str,
        key: impl AsRef<[u8]>,
        nonce: impl AsRef<[u8]>,
        aad: impl AsRef<[u8]>,
    ) -> Result<String> {
        let plain = Self::decrypt_bytes(ciphertext, key, nonce, aad)?;
        String::from_utf8(plain).map_err(|_| {
            CryptoError::NotUtf8 {
                what: "AES-GCM plaintext",
            }
            .into()
        })
    }

    /// Decrypts base64(ciphertext ‖ tag) to bytes.
    pub fn decrypt_bytes(
        ciphertext: &str,
        key: impl AsRef<[u8]>,
        nonce: impl AsRef<[u8]>,
        aad: impl AsRef<[u8]>,
    ) -> Result<Vec<u8>> {
        let sealed = STANDARD.decode(ciphertext.trim()).map_err(|e| CryptoError::Base64 {
            what: "AES-GCM ciphertext",
            detail: e.to_string(),
        })?;
        // Check sizes first so a short input names the real problem, not a tag failure.
        let (key, nonce) = (key.as_ref(), nonce.as_ref());
        if key.len() != Self::KEY_LENGTH {
            return Err(CryptoError::KeyLength {
                algorithm: "AEAD_AES_256_GCM",
                expected: Self::KEY_LENGTH,
                actual: key.len(),
            }
            .into());
        }
        if nonce.len() != Self::NONCE_LENGTH {
            return Err(CryptoError::NonceLength {
                algorithm: "AEAD_AES_256_GCM",
                expected: Self::NONCE_LENGTH,
                actual: nonce.len(),
            }
            .into());
        }
        if sealed.len() < Self::TAG_LENGTH {
            return Err(CryptoError::Decrypt {
                algorithm: "AEAD_AES_256_GCM",
            }
            .into());
        }
        Ok(backend::aes_256_gcm_open(key, nonce, aad.as_ref(), &sealed)?)
    }
}
