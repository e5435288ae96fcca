//! AES-256-ECB with PKCS#7 padding: APIv2 refund notifications (`req_info`).

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::{CryptoError, Result};

type Encryptor = ecb::Encryptor<aes::Aes256>;
type Decryptor = ecb::Decryptor<aes::Aes256>;

const ALGORITHM: &str = "AES-256-ECB";

/// AES-256-ECB with PKCS#7 padding, base64 encoded.
///
/// WeChat Pay encrypts APIv2 refund notifications' `req_info` this way, under the lowercase hex MD5
/// of the APIv2 key (32 ASCII bytes). ECB is WeChat Pay's choice, not a recommendation.
///
/// ```
/// use wechatpay::{AesEcb, Hash};
///
/// let key = Hash::md5("the 32-byte APIv2 key you set", "", false); // 32 hex chars
/// let sealed = AesEcb::encrypt("<root><refund_id>1</refund_id></root>", &key)?;
/// assert_eq!(AesEcb::decrypt(&sealed, &key)?, "<root><refund_id>1</refund_id></root>");
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Debug)]
pub struct AesEcb;

fn check_key(key: &[u8]) -> Result<(), CryptoError> {
    if key.len() == 32 {
        Ok(())
    } else {
        Err(CryptoError::KeyLength {
            algorithm: ALGORITHM,
            expected: 32,
            actual: key.len(),
        })
    }
}

impl AesEcb {
    /// Encrypts `plaintext` with a 32-byte key; returns base64.
    pub fn encrypt(plaintext: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<String> {
        let key = key.as_ref();
        check_key(key)?;
        let cipher = Encryptor::new_from_slice(key).map_err(|_| CryptoError::Backend {
            operation: "set the AES key",
        })?;
        Ok(STANDARD.encode(cipher.encrypt_padded_vec_mut::<Pkcs7>(plaintext.as_ref())))
    }

    /// Decrypts base64 with a 32-byte key to UTF-8 text; bad padding (a wrong key) is an error.
    pub fn decrypt(ciphertext: &str, key: impl AsRef<[u8]>) -> Result<String> {
        let key = key.as_ref();
        check_key(key)?;
        let data = STANDARD.decode(ciphertext.trim()).map_err(|e| CryptoError::Base64 {
            what: "AES-ECB ciphertext",
            detail: e.to_string(),
        })?;
        let cipher = Decryptor::new_from_slice(key).map_err(|_| CryptoError::Backend {
            operation: "set the AES key",
        })?;
        let plain = cipher
            .decrypt_padded_vec_mut::<Pkcs7>(&data)
            .map_err(|_| CryptoError::Decrypt { algorithm: ALGORITHM })?;
        String::from_utf8(plain).map_err(|_| {
            CryptoError::NotUtf8 {
                what: "AES-ECB plaintext",
            }
            .into()
        })
    }
}
