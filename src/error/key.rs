//! Keys and certificates that did not load.

use std::path::PathBuf;

/// Why a key or certificate did not load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A `file://` path could not be read.
    #[error("cannot read key file {path}: {source}")]
    File {
        /// The path after `file://`.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Key or certificate text was given where a file path was expected (e.g. PEM text passed
    /// to `PemUtil::load_private_key`, or after `file://`). The text is not repeated: it may be
    /// a private key.
    #[error("key or certificate text was given where a file path was expected: pass the text itself to Rsa::from_private / Rsa::from_public / PemUtil::load_*_from_string, or give a path")]
    KeyTextAsPath,
    /// The input is none of the accepted forms.
    #[error("unrecognized {expected} input: expected {accepted}")]
    UnrecognizedInput {
        /// `"private key"`, `"public key"` or `"certificate"`.
        expected: &'static str,
        /// The forms that are accepted.
        accepted: &'static str,
    },
    /// A PEM block is malformed (no END line, stray header, …).
    #[error("malformed PEM: {detail}")]
    Pem {
        /// What is wrong with it.
        detail: String,
    },
    /// A PEM block has a label this function does not take.
    #[error("unsupported PEM block `{label}` where a {expected} was expected")]
    UnsupportedPemLabel {
        /// The label after `BEGIN`.
        label: String,
        /// What was expected.
        expected: &'static str,
    },
    /// Base64 text (in PEM or after `private.pkcs8://` etc.) is invalid or truncated.
    #[error("invalid base64 in {what}: {detail}")]
    Base64 {
        /// Where the base64 was.
        what: &'static str,
        /// The decoder's complaint.
        detail: String,
    },
    /// The DER structure is malformed or truncated.
    #[error("malformed {what}: {detail}")]
    Der {
        /// The structure expected, e.g. `"PKCS#8 PrivateKeyInfo"`.
        what: &'static str,
        /// The parser's complaint.
        detail: String,
    },
    /// A certificate was given where a private key was expected.
    #[error("a certificate was given where a private key was expected (load it with Rsa::from_public or PemUtil::load_certificate)")]
    CertificateGiven,
    /// A public key was given where a private key was expected.
    #[error("a public key was given where a private key was expected")]
    PublicKeyGiven,
    /// A private key was given where a public key or certificate was expected.
    #[error("a private key was given where a public key or certificate was expected")]
    PrivateKeyGiven,
    /// The key is not an RSA key.
    #[error("not an RSA key: {algorithm}")]
    NotRsa {
        /// The algorithm found (name and OID where known).
        algorithm: String,
    },
    /// The RSA modulus is smaller than WeChat Pay's 2048 bits.
    #[error("RSA key of {bits} bits is too small: WeChat Pay requires at least 2048 bits")]
    TooSmall {
        /// The modulus size found.
        bits: usize,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted: load it with Rsa::from_private_with_passphrase")]
    PassphraseRequired,
    /// The passphrase did not decrypt the key.
    #[error("cannot decrypt the private key: wrong passphrase or corrupt key")]
    WrongPassphrase,
    /// The key uses an encryption the crate does not support (legacy OpenSSL PEM encryption).
    #[error("unsupported key encryption: {detail}")]
    UnsupportedEncryption {
        /// What was found and how to convert it.
        detail: String,
    },
    /// The crypto backend refused the key.
    #[error("the crypto backend rejected the key: {detail}")]
    Rejected {
        /// The backend's reason.
        detail: String,
    },
}
