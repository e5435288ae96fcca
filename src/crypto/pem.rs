//! PEM: a small, tolerant reader of our own, and `pem-rfc7468`'s writer.
//!
//! The reader is tolerant of what real key files and pasted keys contain (CRLF, text before the
//! first block, several blocks, any line width, lost padding, a whole key flattened onto one line
//! by an environment variable, indentation); strict about what matters (matching END line, valid
//! base64, no legacy encryption headers), with errors that say which of these went wrong and never
//! quote key material. The crates we measured are not: `pem-rfc7468` follows RFC 7468 strictly
//! (64-column lines, padding, one block per call, no trailing spaces) and rejects most of the
//! shapes above; `rustls-pki-types` skips labels it does not know (`ENCRYPTED PRIVATE KEY`,
//! `RSA PUBLIC KEY`), misses indented blocks, and its unclosed-BEGIN error quotes the key's bytes.
//! What we write is plain RFC 7468, so the writer is `pem-rfc7468`'s.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
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

/// The labels this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    Certificate,
    PublicKey,
    /// PKCS#8, unencrypted (the emulator's generated keys).
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    PrivateKey,
}

impl Label {
    fn as_str(self) -> &'static str {
        match self {
            Self::Certificate => "CERTIFICATE",
            Self::PublicKey => "PUBLIC KEY",
            Self::PrivateKey => "PRIVATE KEY",
        }
    }
}

/// Encodes DER as PEM with 64-column lines and a trailing newline, as `openssl` writes it.
pub(crate) fn encode(label: Label, der: &[u8]) -> String {
    // Fails only for a label RFC 7468 does not allow; every `Label` is one it does (tested).
    pem_rfc7468::encode_string(label.as_str(), pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_crlf_and_preamble() {
        let pem = encode(Label::PublicKey, &[1, 2, 3, 250, 251]).replace('\n', "\r\n");
        let text = format!("Certificate:\n  some openssl -text output\n{pem}");
        let blocks = parse_all(text.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert_eq!(&blocks[0].der[..], &[1, 2, 3, 250, 251]);
    }

    #[test]
    fn several_blocks_in_order() {
        let text = encode(Label::Certificate, &[6, 1]) + &encode(Label::PrivateKey, &[48, 0]);
        let labels: Vec<_> = parse_all(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|b| b.label)
            .collect();
        assert_eq!(labels, ["CERTIFICATE", "PRIVATE KEY"]);
    }

    #[test]
    fn every_label_encodes_as_openssl_writes_it() {
        for label in [Label::Certificate, Label::PublicKey, Label::PrivateKey] {
            // 100 bytes: 136 base64 characters, two full 64-column lines and a padded rest.
            let der: Vec<u8> = (0..100).collect();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
            let name = label.as_str();
            let expected = format!(
                "-----BEGIN {name}-----\n{}\n{}\n{}\n-----END {name}-----\n",
                &b64[..64],
                &b64[64..128],
                &b64[128..]
            );
            assert_eq!(encode(label, &der), expected);
        }
    }

    /// Shapes real keys arrive in, each read to the same DER.
    #[test]
    fn pasted_and_reflowed_keys_are_read() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode(Label::PrivateKey, &der);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let wrap = |width: usize, text: &str| {
            let lines: Vec<&str> = text
                .as_bytes()
                .chunks(width)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            lines.join("\n")
        };
        let block = |body: String| format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
        for (shape, text) in [
            ("wrapped at 76 columns", block(wrap(76, &body))),
            ("body on one line", block(body.clone())),
            ("padding lost", block(wrap(64, body.trim_end_matches('=')))),
            ("flattened onto one line", pem.replace('\n', " ")),
            ("trailing spaces", pem.replace('\n', "  \n")),
            ("indented", pem.lines().map(|l| format!("    {l}\n")).collect()),
            ("no final newline", pem.trim_end().to_owned()),
        ] {
            let blocks = parse_all(text.as_bytes()).unwrap_or_else(|e| panic!("{shape}: {e}"));
            assert_eq!(blocks.len(), 1, "{shape}");
            assert_eq!(&blocks[0].der[..], &der[..], "{shape}");
        }
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
