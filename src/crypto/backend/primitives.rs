//! Signatures, AEAD, HMAC, digests and randomness, written once against the backend alias.

use super::provider::{aead, digest, hmac, rand, signature};
use crate::error::{CryptoError, KeyError};
use rand::SecureRandom;

/// An RSA private key ready to sign with RSA-SHA256 PKCS#1 v1.5.
pub(crate) struct SigningKey {
    pair: signature::RsaKeyPair,
    rng: rand::SystemRandom,
}

impl SigningKey {
    /// Takes an unencrypted PKCS#8 `PrivateKeyInfo` holding an RSA key.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let pair = signature::RsaKeyPair::from_pkcs8(der).map_err(|e| KeyError::Rejected { detail: e.to_string() })?;
        Ok(Self {
            pair,
            rng: rand::SystemRandom::new(),
        })
    }

    /// RSA-SHA256 PKCS#1 v1.5: deterministic, so the same key and message give the same bytes.
    pub(crate) fn sign(&self, message: &[u8], modulus_len: usize) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0; modulus_len];
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut out)
            .map_err(|_| CryptoError::Backend { operation: "sign" })?;
        Ok(out)
    }
}

/// Verifies RSA-SHA256 PKCS#1 v1.5 with a PKCS#1 `RSAPublicKey` DER (2048–8192 bits).
pub(crate) fn verify_rsa_sha256(pkcs1_public_der: &[u8], message: &[u8], sig: &[u8]) -> bool {
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pkcs1_public_der)
        .verify(message, sig)
        .is_ok()
}

fn aes_256_gcm_key(key: &[u8], nonce: &[u8]) -> Result<(aead::LessSafeKey, aead::Nonce), CryptoError> {
    const ALGORITHM: &str = "AEAD_AES_256_GCM";
    let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, key).map_err(|_| CryptoError::KeyLength {
        algorithm: ALGORITHM,
        expected: 32,
        actual: key.len(),
    })?;
    let nonce = aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::NonceLength {
        algorithm: ALGORITHM,
        expected: aead::NONCE_LEN,
        actual: nonce.len(),
    })?;
    Ok((aead::LessSafeKey::new(unbound), nonce))
}

/// AES-256-GCM: returns ciphertext ‖ 16-byte tag.
pub(crate) fn aes_256_gcm_seal(key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (key, nonce) = aes_256_gcm_key(key, nonce)?;
    let mut buffer = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, aead::Aad::from(aad), &mut buffer)
        .map_err(|_| CryptoError::Backend {
            operation: "encrypt with AES-256-GCM",
        })?;
    Ok(buffer)
}

/// AES-256-GCM: takes ciphertext ‖ 16-byte tag, returns the plaintext only if the tag checks.
pub(crate) fn aes_256_gcm_open(key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (key, nonce) = aes_256_gcm_key(key, nonce)?;
    let mut buffer = sealed.to_vec();
    let len = key
        .open_in_place(nonce, aead::Aad::from(aad), &mut buffer)
        .map_err(|_| CryptoError::Decrypt {
            algorithm: "AEAD_AES_256_GCM",
        })?
        .len();
    buffer.truncate(len);
    Ok(buffer)
}

/// HMAC-SHA256.
pub(crate) fn hmac_sha256(key: &[u8], pieces: &[&[u8]]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut context = hmac::Context::with_key(&key);
    for piece in pieces {
        context.update(piece);
    }
    context.sign().as_ref().to_vec()
}

/// SHA-256.
pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

/// A digest computed piece by piece (for streamed downloads).
pub(crate) struct StreamingDigest(digest::Context);

impl StreamingDigest {
    pub(crate) fn sha1() -> Self {
        Self(digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY))
    }

    pub(crate) fn sha256() -> Self {
        Self(digest::Context::new(&digest::SHA256))
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

/// SHA-1, for WeChat Pay's statement and bill digests (not for security decisions of our own).
pub(crate) fn sha1(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    rand::SystemRandom::new().fill(buf).map_err(|_| CryptoError::Backend {
        operation: "read the system random source",
    })
}
