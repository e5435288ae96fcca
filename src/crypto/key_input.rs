//! The key inputs wechatpay-php's `Rsa::from` accepts, told apart and decoded to DER.
//!
//! Private: PEM text (`PRIVATE KEY`, `RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), `file://` to a
//! PEM or DER file, `private.pkcs8://BASE64`, `private.pkcs1://BASE64`.
//! Public: PEM text (`PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE`), `file://` to a PEM or DER
//! file, `public.spki://BASE64`, `public.pkcs1://BASE64`.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::pem::{self, PemBlock};
use super::rsa_der::{self, RsaPrivateDer, RsaPublicDer};
use crate::error::KeyError;

const FILE: &str = "file://";
const PRIVATE_PKCS8: &str = "private.pkcs8://";
const PRIVATE_PKCS1: &str = "private.pkcs1://";
const PUBLIC_SPKI: &str = "public.spki://";
const PUBLIC_PKCS1: &str = "public.pkcs1://";

const PRIVATE_FORMS: &str = "PEM text, file:///path/to/key.pem, private.pkcs8://BASE64 or private.pkcs1://BASE64";
const PUBLIC_FORMS: &str =
    "PEM text (public key or certificate), file:///path/to/cert.pem, public.spki://BASE64 or public.pkcs1://BASE64";

/// `file:///abs/path` → `/abs/path`; also accepts `file://relative` as PHP does.
fn file_path(uri: &str) -> PathBuf {
    PathBuf::from(&uri[FILE.len()..])
}

/// Reads a key or certificate file; the bytes are zeroized on drop.
pub(crate) fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    // A "path" that is really a key would be quoted by the I/O error: refuse it unread.
    if crate::redact::is_key_material(&path.to_string_lossy()) {
        return Err(KeyError::KeyTextAsPath);
    }
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| KeyError::File {
            path: path.to_owned(),
            source,
        })
}

/// Loads a private key from any accepted input.
pub(crate) fn private(thing: &str, passphrase: Option<&[u8]>) -> Result<RsaPrivateDer, KeyError> {
    let thing = thing.trim_start();
    if thing.starts_with(FILE) {
        return private_from_bytes(&read_file(&file_path(thing))?, passphrase);
    }
    if let Some(b64) = thing.strip_prefix(PRIVATE_PKCS8) {
        let der = pem::decode_base64(b64, "private.pkcs8://")?;
        return match passphrase {
            // An encrypted PKCS#8 body is also PKCS#8; try it when a passphrase is given.
            Some(p) if rsa_der::private_from_pkcs8(&der).is_err() => rsa_der::private_from_encrypted_pkcs8(&der, p),
            _ => rsa_der::private_from_pkcs8(&der),
        };
    }
    if let Some(b64) = thing.strip_prefix(PRIVATE_PKCS1) {
        return rsa_der::private_from_pkcs1(&pem::decode_base64(b64, "private.pkcs1://")?);
    }
    if thing.starts_with(PUBLIC_SPKI) || thing.starts_with(PUBLIC_PKCS1) {
        return Err(KeyError::PublicKeyGiven);
    }
    if pem::is_pem(thing.as_bytes()) {
        return private_from_pem(&pem::parse_all(thing.as_bytes())?, passphrase);
    }
    Err(KeyError::UnrecognizedInput {
        expected: "private key",
        accepted: PRIVATE_FORMS,
    })
}

/// A file's contents: PEM if it looks like PEM, DER otherwise.
fn private_from_bytes(bytes: &[u8], passphrase: Option<&[u8]>) -> Result<RsaPrivateDer, KeyError> {
    if pem::is_pem(bytes) {
        private_from_pem(&pem::parse_all(bytes)?, passphrase)
    } else {
        rsa_der::private_from_unlabelled(bytes, passphrase)
    }
}

/// A PEM label as an error may show it: cut to 64 characters, control characters escaped.
fn shown_label(label: &str) -> String {
    crate::signed_headers::excerpt(label)
}

fn is_private_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

fn private_from_pem(blocks: &[PemBlock], passphrase: Option<&[u8]>) -> Result<RsaPrivateDer, KeyError> {
    // A key file may carry other blocks (EC PARAMETERS, a certificate chain): use the key.
    let block = blocks.iter().find(|b| is_private_label(&b.label)).unwrap_or(&blocks[0]);
    match block.label.as_str() {
        "PRIVATE KEY" => rsa_der::private_from_pkcs8(&block.der),
        "RSA PRIVATE KEY" => rsa_der::private_from_pkcs1(&block.der),
        "ENCRYPTED PRIVATE KEY" => match passphrase {
            Some(p) => rsa_der::private_from_encrypted_pkcs8(&block.der, p),
            None => Err(KeyError::PassphraseRequired),
        },
        "EC PRIVATE KEY" => Err(KeyError::NotRsa {
            algorithm: "EC (`EC PRIVATE KEY` PEM)".into(),
        }),
        "DSA PRIVATE KEY" => Err(KeyError::NotRsa {
            algorithm: "DSA (`DSA PRIVATE KEY` PEM)".into(),
        }),
        "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE" => Err(KeyError::CertificateGiven),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(KeyError::PublicKeyGiven),
        label => Err(KeyError::UnsupportedPemLabel {
            label: shown_label(label),
            expected: "private key",
        }),
    }
}

/// Loads a public key from any accepted input (a certificate gives its subject public key).
pub(crate) fn public(thing: &str) -> Result<RsaPublicDer, KeyError> {
    let thing = thing.trim_start();
    if thing.starts_with(FILE) {
        return public_from_bytes(&read_file(&file_path(thing))?);
    }
    if let Some(b64) = thing.strip_prefix(PUBLIC_SPKI) {
        return rsa_der::public_from_spki(&pem::decode_base64(b64, "public.spki://")?);
    }
    if let Some(b64) = thing.strip_prefix(PUBLIC_PKCS1) {
        return rsa_der::public_from_pkcs1(&pem::decode_base64(b64, "public.pkcs1://")?);
    }
    if thing.starts_with(PRIVATE_PKCS8) || thing.starts_with(PRIVATE_PKCS1) {
        return Err(KeyError::PrivateKeyGiven);
    }
    if pem::is_pem(thing.as_bytes()) {
        return public_from_pem(&pem::parse_all(thing.as_bytes())?);
    }
    Err(KeyError::UnrecognizedInput {
        expected: "public key",
        accepted: PUBLIC_FORMS,
    })
}

fn public_from_bytes(bytes: &[u8]) -> Result<RsaPublicDer, KeyError> {
    if pem::is_pem(bytes) {
        public_from_pem(&pem::parse_all(bytes)?)
    } else {
        rsa_der::public_from_unlabelled(bytes)
    }
}

fn is_public_label(label: &str) -> bool {
    matches!(
        label,
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" | "X509 CERTIFICATE"
    )
}

fn public_from_pem(blocks: &[PemBlock]) -> Result<RsaPublicDer, KeyError> {
    // A combined file (key + certificate) is fine: use the public part, as OpenSSL does.
    let block = blocks.iter().find(|b| is_public_label(&b.label)).unwrap_or(&blocks[0]);
    match block.label.as_str() {
        "PUBLIC KEY" => rsa_der::public_from_spki(&block.der),
        "RSA PUBLIC KEY" => rsa_der::public_from_pkcs1(&block.der),
        "CERTIFICATE" | "X509 CERTIFICATE" => rsa_der::public_from_certificate(&certificate_from_der(&block.der)?),
        label if is_private_label(label) => Err(KeyError::PrivateKeyGiven),
        label => Err(KeyError::UnsupportedPemLabel {
            label: shown_label(label),
            expected: "public key or certificate",
        }),
    }
}

/// Parses an X.509 certificate from DER.
pub(crate) fn certificate_from_der(der: &[u8]) -> Result<x509_cert::Certificate, KeyError> {
    use der::Decode;
    x509_cert::Certificate::from_der(der).map_err(|e| KeyError::Der {
        what: "X.509 certificate",
        detail: e.to_string(),
    })
}

/// Loads a certificate from PEM text or a PEM/DER file's bytes; returns its DER.
pub(crate) fn certificate_bytes(bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
    if !pem::is_pem(bytes) {
        return Ok(bytes.to_vec());
    }
    let blocks = pem::parse_all(bytes)?;
    match blocks
        .iter()
        .find(|b| b.label == "CERTIFICATE" || b.label == "X509 CERTIFICATE")
    {
        Some(block) => Ok(block.der.to_vec()),
        None if blocks.iter().any(|b| is_private_label(&b.label)) => Err(KeyError::PrivateKeyGiven),
        None => Err(KeyError::UnsupportedPemLabel {
            label: shown_label(&blocks[0].label),
            expected: "certificate",
        }),
    }
}
