//! APIv2 signatures: MD5 and HMAC-SHA256 over `k=v&…&key=SECRET`.

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use super::{backend, hex};
use crate::error::{ConfigError, Result};

/// wechatpay-php's `Hash`: the digests behind APIv2's `sign`.
///
/// ```
/// use wechatpay::Hash;
///
/// let data = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA";
/// let key = "192006250b4c09247ec02edce69f6a2d";
/// assert_eq!(Hash::sign("MD5", data, key)?, "9A0A8659F005D6984697E2CA0A9CF3B7");
/// assert_eq!(
///     Hash::sign("HMAC-SHA256", data, key)?,
///     "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
/// );
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Debug)]
pub struct Hash;

/// APIv2 `sign_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignType {
    /// `MD5`, the APIv2 default.
    Md5,
    /// `HMAC-SHA256`.
    HmacSha256,
}

impl SignType {
    /// The name WeChat Pay uses in `sign_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// The type a received `sign` was made with, told by its length (64 hex digits: HMAC-SHA256).
    pub fn of_signature(sign: &str) -> Self {
        if sign.len() == 64 {
            SignType::HmacSha256
        } else {
            SignType::Md5
        }
    }

    /// Uppercase hex signature of `data` (the `k=v&…` string) with the APIv2 key.
    pub fn sign(self, data: &str, key: &str) -> String {
        match self {
            SignType::Md5 => Hash::md5(data, key, false),
            SignType::HmacSha256 => Hash::hmac(data, key),
        }
        .to_ascii_uppercase()
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignType {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "MD5" => Ok(SignType::Md5),
            "HMAC-SHA256" => Ok(SignType::HmacSha256),
            other => Err(ConfigError::new("sign_type", format!("`{other}` is not MD5 or HMAC-SHA256")).into()),
        }
    }
}

impl Hash {
    /// Lowercase hex MD5 of `thing`, followed by `&key=KEY` (or `&secret=KEY` for agency
    /// calls) when `key` is not empty.
    pub fn md5(thing: &str, key: &str, agency: bool) -> String {
        let mut md5 = Md5::new();
        md5.update(thing.as_bytes());
        if !key.is_empty() {
            md5.update(if agency { b"&secret=" as &[u8] } else { b"&key=" });
            md5.update(key.as_bytes());
        }
        hex::lower(&md5.finalize())
    }

    /// Lowercase hex HMAC-SHA256 keyed with `key` over `thing` + `&key=` + `key`.
    pub fn hmac(thing: &str, key: &str) -> String {
        hex::lower(&backend::hmac_sha256(
            key.as_bytes(),
            &[thing.as_bytes(), b"&key=", key.as_bytes()],
        ))
    }

    /// Compares two strings in constant time (for a given length), like PHP's `hash_equals`.
    pub fn equals(known: &str, user: &str) -> bool {
        known.len() == user.len() && bool::from(known.as_bytes().ct_eq(user.as_bytes()))
    }

    /// Uppercase hex APIv2 signature; `sign_type` is `MD5` or `HMAC-SHA256`, anything else is an
    /// error (PHP returns `null`).
    pub fn sign(sign_type: &str, data: &str, key: &str) -> Result<String> {
        Ok(sign_type.parse::<SignType>()?.sign(data, key))
    }
}
