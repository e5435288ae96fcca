//! Headers a caller gives (the `headers` option, `Builder::default_header`): parsed, named in
//! errors, and refused where the transport or the signer owns them.

use http::{HeaderName, HeaderValue};

use crate::error::{ConfigError, Result};

/// Parses a header, naming it in the error.
pub(crate) fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ConfigError::new(format!("headers.{name}"), "is not a valid header name"))?;
    let header_value = HeaderValue::from_str(value)
        .map_err(|_| ConfigError::new(format!("headers.{name}"), "is not a valid header value"))?;
    Ok((header_name, header_value))
}

/// Headers the transport and the signer own: framing and routing (a caller's value would make the
/// bytes on the wire differ from the bytes signed, or smuggle a second request) and
/// `Authorization` (the signer's; to send your own, replace the signer with `Builder::signer`).
const RESERVED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "authorization",
];

/// A header from the `headers` option or `Builder::default_header`: parsed, naming it in the
/// error, and refused if the transport or the signer owns it.
pub(crate) fn caller_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let (header_name, header_value) = header_pair(name, value)?;
    if RESERVED_HEADERS.contains(&header_name.as_str()) {
        let reason = if header_name == http::header::AUTHORIZATION {
            "is set by the signer on every request; to send your own, replace the signer (Builder::signer)"
        } else {
            "is set by the transport from the body and the URL; it cannot be given as an option"
        };
        return Err(ConfigError::new(format!("headers.{name}"), reason).into());
    }
    Ok((header_name, header_value))
}
