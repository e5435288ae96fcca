//! wechatpay-php's `Rsa`: loading keys, signing, verifying, and RSA-OAEP for sensitive fields.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{key_input, pem, rsa_der, PrivateKey, PublicKey};
use crate::error::{CryptoError, Result};

/// RSA as WeChat Pay uses it: RSA-SHA256 PKCS#1 v1.5 signatures and RSA-OAEP (SHA-1, MGF1-SHA-1)
/// encryption, every binary value base64 encoded.
///
/// ```
/// use wechatpay::Rsa;
///
/// let private = Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?;
/// let public = Rsa::from_public("file://tests/fixtures/keys/merchant_cert.pem")?;
///
/// let signature = Rsa::sign("GET\n/v3/certificates\n1554208460\nNONCE\n\n", &private)?;
/// assert!(Rsa::verify("GET\n/v3/certificates\n1554208460\nNONCE\n\n", &signature, &public)?);
///
/// let ciphertext = Rsa::encrypt("张三", &public)?;
/// assert_eq!(Rsa::decrypt(&ciphertext, &private)?, "张三");
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Debug)]
pub struct Rsa;

impl Rsa {
    /// Loads a private key from PEM text (`PRIVATE KEY` or `RSA PRIVATE KEY`), `file:///path`
    /// (PEM or DER), `private.pkcs8://BASE64` or `private.pkcs1://BASE64`.
    ///
    /// An `ENCRYPTED PRIVATE KEY` needs [`from_private_with_passphrase`](Self::from_private_with_passphrase).
    pub fn from_private(thing: impl AsRef<str>) -> Result<PrivateKey> {
        PrivateKey::from_der(key_input::private(thing.as_ref(), None)?)
    }

    /// As [`from_private`](Self::from_private), decrypting an encrypted PKCS#8 key (PBES2:
    /// PBKDF2 or scrypt with AES-CBC, what `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes).
    pub fn from_private_with_passphrase(thing: impl AsRef<str>, passphrase: impl AsRef<[u8]>) -> Result<PrivateKey> {
        PrivateKey::from_der(key_input::private(thing.as_ref(), Some(passphrase.as_ref()))?)
    }

    /// Loads a public key from PEM text (`PUBLIC KEY`, `RSA PUBLIC KEY` or a `CERTIFICATE`, whose
    /// subject key is taken), `file:///path` (PEM or DER), `public.spki://BASE64` or
    /// `public.pkcs1://BASE64`.
    pub fn from_public(thing: impl AsRef<str>) -> Result<PublicKey> {
        PublicKey::from_der(key_input::public(thing.as_ref())?)
    }

    /// `Rsa::fromPkcs8`: a private key from base64 PKCS#8 DER.
    pub fn from_pkcs8(base64: impl AsRef<str>) -> Result<PrivateKey> {
        Self::from_private(format!("private.pkcs8://{}", base64.as_ref()))
    }

    /// `Rsa::fromPkcs1` (private): a private key from base64 PKCS#1 DER.
    pub fn from_pkcs1(base64: impl AsRef<str>) -> Result<PrivateKey> {
        Self::from_private(format!("private.pkcs1://{}", base64.as_ref()))
    }

    /// `Rsa::fromPkcs1` (public): a public key from base64 PKCS#1 DER.
    pub fn from_pkcs1_public(base64: impl AsRef<str>) -> Result<PublicKey> {
        Self::from_public(format!("public.pkcs1://{}", base64.as_ref()))
    }

    /// `Rsa::fromSpki`: a public key from base64 SubjectPublicKeyInfo DER.
    pub fn from_spki(base64: impl AsRef<str>) -> Result<PublicKey> {
        Self::from_public(format!("public.spki://{}", base64.as_ref()))
    }

    /// Wraps a base64 PKCS#1 `RSAPublicKey` into a base64 SubjectPublicKeyInfo.
    ///
    /// ```
    /// # let spki = std::fs::read_to_string("tests/fixtures/keys/platform_public_spki.b64").unwrap();
    /// # let pkcs1 = std::fs::read_to_string("tests/fixtures/keys/platform_public_pkcs1.b64").unwrap();
    /// assert_eq!(wechatpay::Rsa::pkcs1_to_spki(pkcs1.trim())?, spki.trim());
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn pkcs1_to_spki(base64: impl AsRef<str>) -> Result<String> {
        let der = pem::decode_base64(base64.as_ref(), "PKCS#1 public key")?;
        Ok(STANDARD.encode(rsa_der::public_from_pkcs1(&der)?.spki))
    }

    /// Signs `message` with RSA-SHA256 PKCS#1 v1.5; returns base64. Deterministic.
    pub fn sign(message: impl AsRef<[u8]>, key: &PrivateKey) -> Result<String> {
        Ok(STANDARD.encode(key.sign_raw(message.as_ref())?))
    }

    /// Verifies a base64 RSA-SHA256 PKCS#1 v1.5 signature: `Ok(false)` when it does not match,
    /// an error when `signature` is not base64.
    pub fn verify(message: impl AsRef<[u8]>, signature: &str, key: &PublicKey) -> Result<bool> {
        let signature = STANDARD.decode(signature.trim()).map_err(|e| CryptoError::Base64 {
            what: "signature",
            detail: e.to_string(),
        })?;
        Ok(key.verify_raw(message.as_ref(), &signature))
    }

    /// Encrypts with RSA-OAEP (SHA-1, MGF1-SHA-1); returns base64. Randomized: each call differs.
    pub fn encrypt(plaintext: impl AsRef<[u8]>, key: &PublicKey) -> Result<String> {
        Ok(STANDARD.encode(key.encrypt_raw(plaintext.as_ref())?))
    }

    /// Decrypts base64 RSA-OAEP (SHA-1, MGF1-SHA-1) ciphertext to UTF-8 text.
    pub fn decrypt(ciphertext: &str, key: &PrivateKey) -> Result<String> {
        let data = STANDARD.decode(ciphertext.trim()).map_err(|e| CryptoError::Base64 {
            what: "RSA-OAEP ciphertext",
            detail: e.to_string(),
        })?;
        let plain = key.decrypt_raw(&data)?;
        String::from_utf8(plain).map_err(|_| {
            CryptoError::NotUtf8 {
                what: "RSA-OAEP plaintext",
            }
            .into()
        })
    }
}
