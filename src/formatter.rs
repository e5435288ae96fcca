//! wechatpay-php's `Formatter`: nonces, timestamps, and the messages WeChat Pay signs.

use std::fmt::Display;

use serde_json::{Map, Value};

use crate::crypto::backend;
use crate::error::{ConfigError, Result};

const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Builders for the strings the APIv3 and APIv2 protocols sign and send.
///
/// ```
/// use wechatpay::Formatter;
///
/// let message = Formatter::request("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", "");
/// assert_eq!(message, "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n");
///
/// let header = Formatter::authorization("1900009191", "NONCE", "SIG", 1554208460, "SERIAL");
/// assert_eq!(
///     header,
///     r#"WECHATPAY2-SHA256-RSA2048 mchid="1900009191",serial_no="SERIAL",timestamp="1554208460",nonce_str="NONCE",signature="SIG""#
/// );
/// ```
#[derive(Debug)]
pub struct Formatter;

impl Formatter {
    /// The nonce length WeChat Pay expects.
    pub const NONCE_SIZE: usize = 32;
    /// The longest nonce [`nonce`](Self::nonce) makes (1 MiB).
    pub const MAX_NONCE_SIZE: usize = 1 << 20;

    /// `size` random characters from `[0-9A-Za-z]`, drawn from the OS CSPRNG without modulo bias.
    /// A `size` of 0 is an error, as in PHP.
    ///
    /// ```
    /// let nonce = wechatpay::Formatter::nonce(wechatpay::Formatter::NONCE_SIZE)?;
    /// assert_eq!(nonce.len(), 32);
    /// assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn nonce(size: usize) -> Result<String> {
        if size == 0 || size > Self::MAX_NONCE_SIZE {
            return Err(ConfigError::new(
                "nonce size",
                format!("must be from 1 to {}, got {size}", Self::MAX_NONCE_SIZE),
            )
            .into());
        }
        let mut out = String::with_capacity(size);
        let mut pool = [0u8; 64];
        while out.len() < size {
            backend::fill_random(&mut pool)?;
            // 248 = 4 × 62: bytes at or above it would favour the first characters.
            for byte in pool.iter().filter(|&&b| b < 248) {
                if out.len() == size {
                    break;
                }
                out.push(ALPHANUMERIC[usize::from(*byte % 62)] as char);
            }
        }
        Ok(out)
    }

    /// Seconds since the Unix epoch, now.
    pub fn timestamp() -> i64 {
        crate::clock::Clock::now(&crate::clock::SystemClock)
    }

    /// The `Authorization` header value, fields in the order WeChat Pay documents.
    pub fn authorization(mchid: &str, nonce: &str, signature: &str, timestamp: impl Display, serial: &str) -> String {
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\",serial_no=\"{serial}\",timestamp=\"{timestamp}\",nonce_str=\"{nonce}\",signature=\"{signature}\""
        )
    }

    /// The request message: `METHOD\nURI\nTIMESTAMP\nNONCE\nBODY\n`.
    pub fn request(method: &str, uri: &str, timestamp: impl Display, nonce: &str, body: &str) -> String {
        Self::joined_by_line_feed([method, uri, &timestamp.to_string(), nonce, body])
    }

    /// The response/notification message: `TIMESTAMP\nNONCE\nBODY\n`.
    pub fn response(timestamp: impl Display, nonce: &str, body: &str) -> String {
        Self::joined_by_line_feed([&timestamp.to_string(), nonce, body])
    }

    /// Every piece followed by `\n`.
    pub fn joined_by_line_feed<I, S>(pieces: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        pieces.into_iter().fold(String::new(), |mut out, piece| {
            out.push_str(piece.as_ref());
            out.push('\n');
            out
        })
    }

    /// The response message over raw body bytes, which need not be UTF-8.
    pub(crate) fn response_bytes(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
        for piece in [timestamp.as_bytes(), nonce.as_bytes(), body] {
            out.extend_from_slice(piece);
            out.push(b'\n');
        }
        out
    }

    /// The map sorted by key, byte-wise (PHP `ksort` with `SORT_STRING`). The order holds even
    /// when serde_json's `preserve_order` feature is on.
    pub fn ksort(thing: Map<String, Value>) -> Map<String, Value> {
        let mut entries: Vec<_> = thing.into_iter().collect();
        entries.sort_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
        entries.into_iter().collect()
    }

    /// `k=v&k=v` in the map's order (insertion order, as a PHP array; [`ksort`](Self::ksort)
    /// first for APIv2), skipping `sign`, nulls and empty strings (APIv2's string to sign).
    /// Booleans are `1`/empty and whole floats print without `.0`, as PHP prints them; arrays and
    /// objects are compact JSON.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::Formatter;
    ///
    /// let map = json!({"b": 2, "a": "x", "sign": "S", "c": "", "d": null});
    /// let sorted = Formatter::ksort(map.as_object().unwrap().clone());
    /// assert_eq!(Formatter::query_string_like(&sorted), "a=x&b=2");
    /// ```
    pub fn query_string_like(thing: &Map<String, Value>) -> String {
        let mut out = String::new();
        for (key, value) in thing {
            let text = match value {
                _ if key == "sign" => continue,
                Value::Null => continue,
                Value::String(s) if s.is_empty() => continue,
                Value::String(s) => s.clone(),
                Value::Bool(true) => "1".into(),
                Value::Bool(false) => String::new(),
                Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => i.to_string(),
                    (_, Some(u), _) => u.to_string(),
                    // Rust's shortest round-trip float form: `1` for 1.0, `1.5`, `0.1`, like PHP's.
                    (_, _, Some(f)) => f.to_string(),
                    _ => n.to_string(),
                },
                Value::Array(_) | Value::Object(_) => value.to_string(),
            };
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(&text);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_has_the_size_asked_and_varies() {
        for size in [1, 31, 32, 100, 1000] {
            assert_eq!(Formatter::nonce(size).unwrap().len(), size);
        }
        assert_ne!(Formatter::nonce(32).unwrap(), Formatter::nonce(32).unwrap());
        assert!(Formatter::nonce(0).unwrap_err().is_config());
        assert!(Formatter::nonce(usize::MAX).unwrap_err().is_config());
    }

    #[test]
    fn nonce_uses_every_character() {
        let sample = Formatter::nonce(20_000).unwrap();
        for c in ALPHANUMERIC {
            assert!(sample.as_bytes().contains(c), "{} never drawn", *c as char);
        }
    }

    #[test]
    fn messages_end_every_piece_with_a_line_feed() {
        assert_eq!(Formatter::response(1, "n", "{}"), "1\nn\n{}\n");
        assert_eq!(Formatter::response("1", "n", ""), "1\nn\n\n");
        assert_eq!(Formatter::joined_by_line_feed(Vec::<String>::new()), "");
        assert_eq!(Formatter::response_bytes("1", "n", b"\xff"), b"1\nn\n\xff\n");
    }

    #[test]
    fn ksort_is_bytewise() {
        let map: Map<String, Value> = [("b", 1), ("B", 2), ("a_b", 3), ("aB", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect();
        let keys: Vec<_> = Formatter::ksort(map).keys().cloned().collect();
        assert_eq!(keys, ["B", "aB", "a_b", "b"]);
    }

    #[test]
    fn query_string_like_prints_values_as_php() {
        let map: Map<String, Value> =
            serde_json::from_str(r#"{"t":true,"f":false,"o":{"x":1},"n":1.5,"w":2.0,"i":-3}"#).unwrap();
        assert_eq!(Formatter::query_string_like(&map), "t=1&f=&o={\"x\":1}&n=1.5&w=2&i=-3");
        let map = Formatter::ksort(map);
        assert_eq!(Formatter::query_string_like(&map), "f=&i=-3&n=1.5&o={\"x\":1}&t=1&w=2");
    }
}
