//! Failed WeChat Pay signature checks, and which check failed.

use crate::response::Response;

use super::Error;

/// A failed WeChat Pay signature check (responses and callback notifications).
///
/// [`check`](Self::check) says which step failed, so a caller can treat a
/// [`VerifyCheck::SignatureProbe`] (WeChat Pay's own signature-probing traffic) differently from a
/// forged message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("WeChat Pay signature verification failed: {check}")]
pub struct VerifyError {
    check: VerifyCheck,
    response: Option<Box<Response>>,
}

impl VerifyError {
    /// A failure of `check`, optionally keeping the response that failed it.
    pub fn new(check: VerifyCheck) -> Self {
        Self { check, response: None }
    }

    pub(crate) fn with_response(mut self, response: Response) -> Self {
        self.response = Some(Box::new(response));
        self
    }

    /// Which check failed.
    pub fn check(&self) -> &VerifyCheck {
        &self.check
    }

    /// The response that failed verification (absent for notifications).
    pub fn response(&self) -> Option<&Response> {
        self.response.as_deref()
    }

    /// `true` for WeChat Pay's signature-probe traffic (`Wechatpay-Signature: WECHATPAY/SIGNTEST/…`),
    /// which is expected to fail and needs no alarm.
    pub fn is_signature_probe(&self) -> bool {
        self.check == VerifyCheck::SignatureProbe
    }
}

impl From<VerifyCheck> for Error {
    fn from(check: VerifyCheck) -> Self {
        Error::Verify(VerifyError::new(check))
    }
}

/// The verification step that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyCheck {
    /// A `Wechatpay-*` header is absent or empty.
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    /// A `Wechatpay-*` header's value is not visible ASCII text.
    #[error("header {0} is not visible ASCII text")]
    InvalidHeader(&'static str),
    /// A `Wechatpay-*` header appears more than once; no value is picked.
    #[error("header {0} appears more than once")]
    DuplicateHeader(&'static str),
    /// WeChat Pay's signature-probe traffic: its signature is meant not to verify. Reported only
    /// for messages whose timestamp and serial passed.
    #[error("signature-probe message (Wechatpay-Signature starts with WECHATPAY/SIGNTEST/)")]
    SignatureProbe,
    /// `Wechatpay-Timestamp` is not a whole number of seconds written in digits only (the value,
    /// cut to 64 characters, control characters escaped).
    #[error("Wechatpay-Timestamp `{0}` is not a Unix timestamp")]
    InvalidTimestamp(String),
    /// `Wechatpay-Timestamp` is too far from the local clock.
    #[error("Wechatpay-Timestamp {timestamp} is {skew} s from the local clock {now} (at most {tolerance} s allowed)")]
    TimestampSkew {
        /// The header's timestamp.
        timestamp: i64,
        /// The local clock.
        now: i64,
        /// The difference in seconds.
        skew: u64,
        /// The largest difference accepted.
        tolerance: u64,
    },
    /// `Wechatpay-Serial` names no configured platform certificate or public key (the value, cut
    /// to 64 characters).
    #[error("Wechatpay-Serial {0} is not a configured platform certificate serial or PUB_KEY_ID")]
    UnknownSerial(String),
    /// The signature does not verify over `TIMESTAMP\nNONCE\nBODY\n`.
    #[error("the signature does not match the message (key {serial})")]
    BadSignature {
        /// The serial of the key it was checked with.
        serial: String,
    },
    /// `Wechatpay-Serial` names no known key, and the platform certificates could not be
    /// refreshed to learn it (the serial, cut to 64 characters, and why).
    #[error("Wechatpay-Serial {serial} is not known and the platform certificates could not be refreshed: {reason}")]
    CertificatesUnavailable {
        /// The serial the message named.
        serial: String,
        /// Why the certificates could not be downloaded or opened.
        reason: String,
    },
    /// A 204 answer carried a body, which WeChat Pay never sends.
    #[error("a 204 No Content answer carried a {0}-byte body")]
    UnexpectedBody(usize),
    /// An APIv2 message's `sign` is missing or wrong.
    #[error("the APIv2 sign is missing or does not match")]
    V2Sign,
    /// A downloaded bill does not hash to the `hash_value` its bill answer gave.
    #[error("the downloaded file's digest {actual} does not match hash_value {expected}")]
    DownloadDigest {
        /// The `hash_value`.
        expected: String,
        /// The file's digest, lowercase hex.
        actual: String,
    },
    /// A statement's body does not hash to its `Wechatpay-Statement-Sha1` header.
    #[error("the body's SHA-1 {actual} does not match Wechatpay-Statement-Sha1 {expected}")]
    StatementDigest {
        /// The header's value.
        expected: String,
        /// The body's SHA-1, lowercase hex.
        actual: String,
    },
}
