//! RSA key structures in DER: PKCS#1, PKCS#8 and SubjectPublicKeyInfo, and the conversions
//! between them. Everything leaves here in one canonical form per key kind, so the backends only
//! ever see PKCS#8 v1 (private) and SPKI / PKCS#1 `RSAPublicKey` (public).

use der::asn1::BitStringRef;
use der::{Decode, Encode};
use zeroize::Zeroizing;

use crate::error::KeyError;

/// WeChat Pay signs with RSA-2048; anything smaller is refused outright.
pub(crate) const MIN_BITS: usize = 2048;

/// A validated RSA public key in both encodings.
pub(crate) struct RsaPublicDer {
    pub(crate) spki: Vec<u8>,
    pub(crate) pkcs1: Vec<u8>,
    pub(crate) bits: usize,
}

/// A validated RSA private key, canonical PKCS#8 v1, and its public half.
pub(crate) struct RsaPrivateDer {
    pub(crate) pkcs8: Zeroizing<Vec<u8>>,
    pub(crate) public: RsaPublicDer,
}

fn der_error(what: &'static str) -> impl Fn(der::Error) -> KeyError {
    move |e| KeyError::Der {
        what,
        detail: e.to_string(),
    }
}

/// Names the common non-RSA algorithms so the error says what the key actually is.
fn algorithm_name(oid: &der::asn1::ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => "EC (id-ecPublicKey)",
        "1.2.156.10197.1.301" => "SM2",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS (WeChat Pay needs a plain rsaEncryption key)",
        "1.2.840.10040.4.1" => "DSA",
        _ => "unknown algorithm",
    };
    format!("{name}, OID {oid}")
}

/// SM2 keys are id-ecPublicKey on the curve sm2p256v1 (OID 1.2.156.10197.1.301).
const SM2_CURVE: &str = "1.2.156.10197.1.301";

fn require_rsa(algorithm: &spki::AlgorithmIdentifierRef<'_>) -> Result<(), KeyError> {
    if algorithm.oid == pkcs1::ALGORITHM_OID {
        return Ok(());
    }
    let curve = algorithm
        .parameters
        .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
        .map(|oid| oid.to_string());
    let name = match curve.as_deref() {
        Some(SM2_CURVE) => format!("SM2 (curve {SM2_CURVE})"),
        Some(curve) => format!("{}, curve {curve}", algorithm_name(&algorithm.oid)),
        None => algorithm_name(&algorithm.oid),
    };
    Err(KeyError::NotRsa { algorithm: name })
}

fn bits_of(modulus: pkcs1::UintRef<'_>) -> usize {
    let bytes = modulus.as_bytes();
    match bytes.first() {
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// From a PKCS#1 `RSAPublicKey`.
pub(crate) fn public_from_pkcs1(der: &[u8]) -> Result<RsaPublicDer, KeyError> {
    let key = pkcs1::RsaPublicKey::from_der(der).map_err(der_error("PKCS#1 RSAPublicKey"))?;
    let bits = bits_of(key.modulus);
    if bits < MIN_BITS {
        return Err(KeyError::TooSmall { bits });
    }
    let pkcs1 = key.to_der().map_err(der_error("PKCS#1 RSAPublicKey"))?;
    let spki = spki::SubjectPublicKeyInfoRef {
        algorithm: pkcs1::ALGORITHM_ID,
        subject_public_key: BitStringRef::from_bytes(&pkcs1).map_err(der_error("SubjectPublicKeyInfo"))?,
    }
    .to_der()
    .map_err(der_error("SubjectPublicKeyInfo"))?;
    Ok(RsaPublicDer { spki, pkcs1, bits })
}

/// From an X.509 `SubjectPublicKeyInfo` holding an RSA key.
pub(crate) fn public_from_spki(der: &[u8]) -> Result<RsaPublicDer, KeyError> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(der_error("SubjectPublicKeyInfo"))?;
    require_rsa(&info.algorithm)?;
    let pkcs1 = info.subject_public_key.as_bytes().ok_or_else(|| KeyError::Der {
        what: "SubjectPublicKeyInfo",
        detail: "the key bit string has unused bits".into(),
    })?;
    public_from_pkcs1(pkcs1)
}

/// From a PKCS#1 `RSAPrivateKey`.
pub(crate) fn private_from_pkcs1(der: &[u8]) -> Result<RsaPrivateDer, KeyError> {
    let key = pkcs1::RsaPrivateKey::from_der(der).map_err(der_error("PKCS#1 RSAPrivateKey"))?;
    let public = pkcs1::RsaPublicKey {
        modulus: key.modulus,
        public_exponent: key.public_exponent,
    }
    .to_der()
    .map_err(der_error("PKCS#1 RSAPrivateKey"))?;
    let public = public_from_pkcs1(&public)?;
    // Re-encode so that whatever arrived, the backend sees canonical DER.
    let pkcs1_der = Zeroizing::new(key.to_der().map_err(der_error("PKCS#1 RSAPrivateKey"))?);
    let pkcs8 = pkcs8::PrivateKeyInfo::new(pkcs1::ALGORITHM_ID, &pkcs1_der)
        .to_der()
        .map_err(der_error("PKCS#8 PrivateKeyInfo"))?;
    Ok(RsaPrivateDer {
        pkcs8: Zeroizing::new(pkcs8),
        public,
    })
}

/// From an unencrypted PKCS#8 `PrivateKeyInfo` holding an RSA key.
pub(crate) fn private_from_pkcs8(der: &[u8]) -> Result<RsaPrivateDer, KeyError> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(der_error("PKCS#8 PrivateKeyInfo"))?;
    require_rsa(&info.algorithm)?;
    private_from_pkcs1(info.private_key)
}

/// From an encrypted PKCS#8 `EncryptedPrivateKeyInfo` (PBES2: PBKDF2 or scrypt with AES-CBC).
pub(crate) fn private_from_encrypted_pkcs8(der: &[u8], passphrase: &[u8]) -> Result<RsaPrivateDer, KeyError> {
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(der).map_err(der_error("PKCS#8 EncryptedPrivateKeyInfo"))?;
    let plain = info.decrypt(passphrase).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid }) => {
            KeyError::UnsupportedEncryption {
                detail: format!(
                    "PKCS#8 encryption scheme {oid}; re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                ),
            }
        }
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::NoPbes1CryptSupport) => {
            KeyError::UnsupportedEncryption {
                detail: "PKCS#5 v1.5 (PBES1) encryption; re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
            }
        }
        _ => KeyError::WrongPassphrase,
    })?;
    private_from_pkcs8(plain.as_bytes())
}

/// Best-effort classification of an unlabelled DER private key (from a `.der` file).
pub(crate) fn private_from_unlabelled(der: &[u8], passphrase: Option<&[u8]>) -> Result<RsaPrivateDer, KeyError> {
    if pkcs8::PrivateKeyInfo::from_der(der).is_ok() {
        return private_from_pkcs8(der);
    }
    if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        return private_from_pkcs1(der);
    }
    if pkcs8::EncryptedPrivateKeyInfo::from_der(der).is_ok() {
        return match passphrase {
            Some(passphrase) => private_from_encrypted_pkcs8(der, passphrase),
            None => Err(KeyError::PassphraseRequired),
        };
    }
    if x509_cert::Certificate::from_der(der).is_ok() {
        return Err(KeyError::CertificateGiven);
    }
    if spki::SubjectPublicKeyInfoRef::from_der(der).is_ok() || pkcs1::RsaPublicKey::from_der(der).is_ok() {
        return Err(KeyError::PublicKeyGiven);
    }
    // Report the PKCS#8 parser's complaint: it is the form WeChat Pay issues keys in.
    private_from_pkcs8(der)
}

/// Best-effort classification of an unlabelled DER public key or certificate.
pub(crate) fn public_from_unlabelled(der: &[u8]) -> Result<RsaPublicDer, KeyError> {
    if spki::SubjectPublicKeyInfoRef::from_der(der).is_ok() {
        return public_from_spki(der);
    }
    if pkcs1::RsaPublicKey::from_der(der).is_ok() {
        return public_from_pkcs1(der);
    }
    if let Ok(cert) = x509_cert::Certificate::from_der(der) {
        return public_from_certificate(&cert);
    }
    if pkcs8::PrivateKeyInfo::from_der(der).is_ok() || pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        return Err(KeyError::PrivateKeyGiven);
    }
    public_from_spki(der)
}

/// The subject public key of an X.509 certificate.
pub(crate) fn public_from_certificate(cert: &x509_cert::Certificate) -> Result<RsaPublicDer, KeyError> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(der_error("certificate SubjectPublicKeyInfo"))?;
    public_from_spki(&spki)
}
