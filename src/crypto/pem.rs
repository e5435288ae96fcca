//! A small, tolerant PEM reader and writer.
//!
//! Tolerant of what real key files contain (CRLF, text before the first block, several blocks);
//! strict about what matters (matching END line, valid base64, no legacy encryption headers), with
//! errors that say which of these went wrong.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use zeroize::Zeroizing;

use crate::error::KeyError;

/// Standard alphabet; padding optional, because hand-copied keys often lose it.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One `-----BEGIN LABEL-----` … `-----END LABEL-----` block, decoded.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    /// Zeroized on drop: the block may hold a private key.
    pub(crate) der: Zeroizing<Vec<u8>>,
}

/// Shows the label and size only: the body may be a private key.
impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemBlock")
            .field("label", &self.label)
            .field("len", &self.der.len())
            .finish()
    }
}

/// Whether the text looks like PEM at all.
pub(crate) fn is_pem(text: &[u8]) -> bool {
    text.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Decodes base64 with whitespace (line breaks) ignored.
pub(crate) fn decode_base64(text: &str, what: &'static str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let compact: Zeroizing<String> = Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    if compact.is_empty() {
        return Err(KeyError::Base64 {
            what,
            detail: "it is empty".into(),
        });
    }
    LENIENT
        .decode(compact.as_bytes())
        .map(Zeroizing::new)
        .map_err(|e| KeyError::Base64 {
            what,
            detail: e.to_string(),
        })
}

/// RFC 7468 labels are short runs of visible ASCII and spaces (`ENCRYPTED PRIVATE KEY`).
fn valid_label(label: &str) -> bool {
    label.len() <= 64
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'-' | b'.'))
}

/// Parses every PEM block in `text`, in order.
pub(crate) fn parse_all(text: &[u8]) -> Result<Vec<PemBlock>, KeyError> {
    let text = std::str::from_utf8(text).map_err(|_| KeyError::Pem {
        detail: "the text is not UTF-8".into(),
    })?;
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = &rest[start + "-----BEGIN ".len()..];
        let label_end = after_begin.find("-----").ok_or_else(|| KeyError::Pem {
            detail: "a BEGIN line is not closed with -----".into(),
        })?;
        let label = &after_begin[..label_end];
        // Checked before the label is used anywhere: with its closing `-----` missing, the
        // "label" runs on into the key's base64, and error messages quote labels.
        if !valid_label(label) {
            return Err(KeyError::Pem {
                detail: "a BEGIN line is not closed with ----- (or its label is not plain text)".into(),
            });
        }
        let body_and_rest = &after_begin[label_end + 5..];
        let end_line = format!("-----END {label}-----");
        let body_end = body_and_rest.find(&end_line).ok_or_else(|| KeyError::Pem {
            detail: format!("no `{end_line}` line after BEGIN {label} (truncated?)"),
        })?;
        let body = &body_and_rest[..body_end];
        if body.contains(':') {
            if body.contains("ENCRYPTED") {
                return Err(KeyError::UnsupportedEncryption {
                    detail: format!(
                        "legacy OpenSSL-encrypted `{label}` (Proc-Type header); convert it with \
                         `openssl pkcs8 -topk8 -v2 aes-256-cbc` and use Rsa::from_private_with_passphrase"
                    ),
                });
            }
            return Err(KeyError::Pem {
                detail: format!("unexpected header line inside BEGIN {label}"),
            });
        }
        blocks.push(PemBlock {
            label: label.to_owned(),
            der: decode_base64(body, "PEM")?,
        });
        rest = &body_and_rest[body_end + end_line.len()..];
    }
    if blocks.is_empty() {
        return Err(KeyError::Pem {
            detail: "no -----BEGIN line found".into(),
        });
    }
    Ok(blocks)
}

/// Encodes DER as PEM with 64-column lines and a trailing newline.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_crlf_and_preamble() {
        let pem = encode("PUBLIC KEY", &[1, 2, 3, 250, 251]).replace('\n', "\r\n");
        let text = format!("Certificate:\n  some openssl -text output\n{pem}");
        let blocks = parse_all(text.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert_eq!(&blocks[0].der[..], &[1, 2, 3, 250, 251]);
    }

    #[test]
    fn several_blocks_in_order() {
        let text = encode("EC PARAMETERS", &[6, 1]) + &encode("EC PRIVATE KEY", &[48, 0]);
        let labels: Vec<_> = parse_all(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|b| b.label)
            .collect();
        assert_eq!(labels, ["EC PARAMETERS", "EC PRIVATE KEY"]);
    }

    #[test]
    fn missing_end_line_is_named() {
        let text = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
        let err = parse_all(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("-----END PRIVATE KEY-----"), "{err}");
    }

    #[test]
    fn bad_base64_is_named() {
        let text = "-----BEGIN PRIVATE KEY-----\nAA*A\n-----END PRIVATE KEY-----\n";
        assert!(matches!(parse_all(text.as_bytes()), Err(KeyError::Base64 { .. })));
    }

    #[test]
    fn legacy_encryption_is_explained() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            parse_all(text.as_bytes()),
            Err(KeyError::UnsupportedEncryption { .. })
        ));
    }

    #[test]
    fn an_unclosed_begin_line_never_quotes_what_follows() {
        // Found by the `keys` fuzz target: the label ran on into the key and errors quoted it.
        for text in [
            "-----BEGIN PRIVATE KEY\rMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r-----END PRIVATE KEY-----\r",
            "-----BEGIN PRIVATE KEY MIIEvQIBADANBgkqhkiG9w0BAQEFAASC== -----END PRIVATE KEY-----",
        ] {
            let err = parse_all(text.as_bytes()).unwrap_err().to_string();
            assert!(!err.contains("MIIEvQ"), "{err}");
        }
    }

    #[test]
    fn no_block_at_all() {
        assert!(matches!(parse_all(b"hello"), Err(KeyError::Pem { .. })));
        assert!(!is_pem(b"hello"));
    }
}
