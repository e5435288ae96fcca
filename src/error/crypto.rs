//! Cryptographic operations that failed.

/// Why a cryptographic operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A symmetric key has the wrong length.
    #[error("{algorithm} needs a {expected}-byte key, got {actual} bytes")]
    KeyLength {
        /// The algorithm.
        algorithm: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A nonce/IV has the wrong length.
    #[error("{algorithm} needs a {expected}-byte nonce, got {actual} bytes")]
    NonceLength {
        /// The algorithm.
        algorithm: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// An input that must be base64 is not.
    #[error("invalid base64 in {what}: {detail}")]
    Base64 {
        /// Which input.
        what: &'static str,
        /// The decoder's complaint.
        detail: String,
    },
    /// Decryption failed: wrong key, nonce or associated data, or altered ciphertext.
    #[error("{algorithm} decryption failed: wrong key, nonce or associated data, or altered ciphertext")]
    Decrypt {
        /// The algorithm.
        algorithm: &'static str,
    },
    /// The plaintext is too long for RSA-OAEP with this key.
    #[error("plaintext of {actual} bytes is too long for RSA-OAEP with this key (at most {max})")]
    MessageTooLong {
        /// The largest plaintext the key takes.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A decrypted value is not UTF-8 text.
    #[error("the decrypted {what} is not UTF-8 text")]
    NotUtf8 {
        /// Which value.
        what: &'static str,
    },
    /// An algorithm name the crate does not implement.
    #[error("unsupported algorithm `{name}` (expected {expected})")]
    UnsupportedAlgorithm {
        /// The name found.
        name: String,
        /// The name(s) supported.
        expected: &'static str,
    },
    /// The backend failed (random source, signing).
    #[error("the crypto backend failed to {operation}")]
    Backend {
        /// What it was doing.
        operation: &'static str,
    },
}
