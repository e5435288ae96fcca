//! The `GET v3/certificates` answer: each platform certificate is AES-256-GCM encrypted under the
//! APIv3 key, so a certificate that opens is one only WeChat Pay (or the merchant) could have made.

use serde::Deserialize;

use crate::crypto::{AesGcm, Certificate};
use crate::error::{CryptoError, DecodeError, Result};

#[derive(Deserialize)]
struct Answer {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    serial_no: String,
    encrypt_certificate: Encrypted,
}

#[derive(Deserialize)]
struct Encrypted {
    algorithm: String,
    nonce: String,
    #[serde(default)]
    associated_data: String,
    ciphertext: String,
}

/// Decrypts and parses every certificate in a `v3/certificates` body. A certificate whose
/// serial differs from the `serial_no` it was listed under is refused: the listing names the key
/// that will sign answers, and it must be the key inside.
pub(crate) fn open(body: &[u8], apiv3_key: &[u8]) -> Result<Vec<Certificate>> {
    let answer: Answer = serde_json::from_slice(body).map_err(|e| DecodeError::json("v3/certificates answer", e))?;
    let mut certificates = Vec::with_capacity(answer.data.len());
    for item in answer.data {
        let encrypted = item.encrypt_certificate;
        if encrypted.algorithm != "AEAD_AES_256_GCM" {
            return Err(CryptoError::UnsupportedAlgorithm {
                name: crate::signed_headers::excerpt(&encrypted.algorithm),
                expected: "AEAD_AES_256_GCM",
            }
            .into());
        }
        let pem = AesGcm::decrypt_bytes(
            &encrypted.ciphertext,
            apiv3_key,
            &encrypted.nonce,
            &encrypted.associated_data,
        )?;
        let certificate = Certificate::from_bytes(&pem)?;
        if !certificate.serial_no().eq_ignore_ascii_case(&item.serial_no) {
            return Err(DecodeError::invalid(
                "v3/certificates answer",
                format!(
                    "certificate listed as {} has serial {}",
                    crate::signed_headers::excerpt(&item.serial_no),
                    certificate.serial_no()
                ),
            )
            .into());
        }
        certificates.push(certificate);
    }
    Ok(certificates)
}
