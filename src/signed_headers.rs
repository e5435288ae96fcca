//! The `Wechatpay-*` signature headers on answers and callback notifications, and their check.
//!
//! One implementation serves response verification and notification verification: WeChat Pay
//! signs both the same way, over `TIMESTAMP\nNONCE\nBODY\n`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::VerifyCheck;
use crate::formatter::Formatter;
use crate::key_ring::KeyRing;

/// `Wechatpay-Timestamp`.
pub const WECHATPAY_TIMESTAMP: &str = "Wechatpay-Timestamp";
/// `Wechatpay-Nonce`.
pub const WECHATPAY_NONCE: &str = "Wechatpay-Nonce";
/// `Wechatpay-Signature`.
pub const WECHATPAY_SIGNATURE: &str = "Wechatpay-Signature";
/// `Wechatpay-Serial`.
pub const WECHATPAY_SERIAL: &str = "Wechatpay-Serial";

/// How far (in seconds) a signed timestamp may be from the local clock, either way.
pub const MAX_CLOCK_SKEW: u64 = 300;

/// WeChat Pay's signature-probe traffic carries a signature starting with this.
const PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Read access to request or response headers, by case-insensitive name.
///
/// Implemented for `http::HeaderMap` and for lists of `(name, value)` pairs, so any web
/// framework's headers can be passed in.
///
/// ```
/// use wechatpay::Headers;
///
/// let pairs = [("wechatpay-nonce", "abc")];
/// assert_eq!(pairs.header("Wechatpay-Nonce"), Some("abc"));
/// ```
pub trait Headers {
    /// The first value of header `name` (case-insensitive), if present and text.
    fn header(&self, name: &str) -> Option<&str>;

    /// Whether header `name` is present at all, even with a value that is not text.
    fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// How many times header `name` is present. Signature checks refuse a repeated
    /// `Wechatpay-*` header rather than pick one of its values.
    fn header_count(&self, name: &str) -> usize {
        usize::from(self.has_header(name))
    }
}

impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.to_str().ok())
    }

    fn has_header(&self, name: &str) -> bool {
        self.contains_key(name)
    }

    fn header_count(&self, name: &str) -> usize {
        self.get_all(name).iter().count()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    fn header_count(&self, name: &str) -> usize {
        self.iter()
            .filter(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .count()
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Headers for [(K, V); N] {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }

    fn header_count(&self, name: &str) -> usize {
        self.as_slice().header_count(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }

    fn header_count(&self, name: &str) -> usize {
        self.as_slice().header_count(name)
    }
}

impl<H: Headers + ?Sized> Headers for &H {
    fn header(&self, name: &str) -> Option<&str> {
        (**self).header(name)
    }

    fn has_header(&self, name: &str) -> bool {
        (**self).has_header(name)
    }

    fn header_count(&self, name: &str) -> usize {
        (**self).header_count(name)
    }
}

/// At most 64 characters of an outside value for an error message, control characters escaped:
/// the value is the sender's, who may be an attacker filling logs or forging lines.
pub(crate) fn excerpt(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", crate::redact::control_chars(&value[..cut])),
        None => crate::redact::control_chars(value).to_string(),
    }
}

/// The four signature headers, all present.
pub(crate) struct SignedHeaders<'a> {
    pub(crate) timestamp: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) signature: &'a str,
    pub(crate) serial: &'a str,
}

impl<'a> SignedHeaders<'a> {
    /// Collects the headers; the first one missing, empty or repeated is the error. A repeated
    /// header is refused rather than one of its values picked: WeChat Pay sends each once, and a
    /// proxy or attacker that adds a second must not choose what is checked.
    pub(crate) fn read<H: Headers + ?Sized>(headers: &'a H) -> Result<Self, VerifyCheck> {
        let get = |name: &'static str| match headers.header(name).map(str::trim) {
            _ if headers.header_count(name) > 1 => Err(VerifyCheck::DuplicateHeader(name)),
            Some(value) if !value.is_empty() => Ok(value),
            None if headers.has_header(name) => Err(VerifyCheck::InvalidHeader(name)),
            _ => Err(VerifyCheck::MissingHeader(name)),
        };
        Ok(Self {
            timestamp: get(WECHATPAY_TIMESTAMP)?,
            nonce: get(WECHATPAY_NONCE)?,
            signature: get(WECHATPAY_SIGNATURE)?,
            serial: get(WECHATPAY_SERIAL)?,
        })
    }

    /// Timestamp window, known serial, probe, then the signature over `TIMESTAMP\nNONCE\nBODY\n`.
    ///
    /// The probe is recognised only after the timestamp and serial passed, so a forged message
    /// cannot pass itself off as WeChat Pay's harmless probe to avoid alerts.
    pub(crate) fn verify(&self, body: &[u8], keys: &KeyRing, now: i64) -> Result<(), VerifyCheck> {
        // Digits only: Rust's integer parsing would also take `+1796283095`, which WeChat Pay
        // never sends and which signs differently from the number it reads as.
        let timestamp: i64 = Some(self.timestamp)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| VerifyCheck::InvalidTimestamp(excerpt(self.timestamp)))?;
        let skew = timestamp.abs_diff(now);
        if skew > MAX_CLOCK_SKEW {
            return Err(VerifyCheck::TimestampSkew {
                timestamp,
                now,
                skew,
                tolerance: MAX_CLOCK_SKEW,
            });
        }
        let key = keys
            .get(self.serial)
            .ok_or_else(|| VerifyCheck::UnknownSerial(excerpt(self.serial)))?;
        if self.signature.starts_with(PROBE_PREFIX) {
            return Err(VerifyCheck::SignatureProbe);
        }
        let bad = || VerifyCheck::BadSignature {
            serial: excerpt(self.serial),
        };
        let signature = STANDARD.decode(self.signature).map_err(|_| bad())?;
        let message = Formatter::response_bytes(self.timestamp, self.nonce, body);
        if key.verify_raw(&message, &signature) {
            Ok(())
        } else {
            Err(bad())
        }
    }
}
