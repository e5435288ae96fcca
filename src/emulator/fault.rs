//! Faults the emulator can inject, per request or for every request.

use std::str::FromStr;
use std::time::Duration;

use crate::error::ConfigError;

/// The request header that asks for a fault on one request: `Wechatpay-Emulator-Fault: stale`.
/// Several faults may be given, comma-separated.
pub const FAULT_HEADER: &str = "Wechatpay-Emulator-Fault";

/// A way for the emulator to misbehave, to test a client's error handling.
///
/// Names (for [`FAULT_HEADER`] and the CLI): `bad-signature`, `tamper-body`, `missing-timestamp`,
/// `missing-nonce`, `missing-signature`, `missing-serial`, `stale` (−600 s), `future` (+600 s),
/// `unknown-serial`, `system-error` (500), `frequency-limited` (429), `delay-<ms>`.
///
/// ```
/// use wechatpay::emulator::Fault;
/// assert_eq!("delay-250".parse::<Fault>()?, Fault::Delay(std::time::Duration::from_millis(250)));
/// assert_eq!("missing-serial".parse::<Fault>()?, Fault::MissingHeader("Wechatpay-Serial"));
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The answer's signature does not verify.
    BadSignature,
    /// The body is changed after signing.
    TamperBody,
    /// One `Wechatpay-*` header is left out.
    MissingHeader(&'static str),
    /// The signed timestamp is this many seconds off.
    TimestampSkew(i64),
    /// The answer names a serial the client does not know.
    UnknownSerial,
    /// 500 `SYSTEM_ERROR`.
    SystemError,
    /// 429 `FREQUENCY_LIMITED`.
    FrequencyLimited,
    /// The answer is delayed.
    Delay(Duration),
}

impl FromStr for Fault {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "bad-signature" => Fault::BadSignature,
            "tamper-body" => Fault::TamperBody,
            "missing-timestamp" => Fault::MissingHeader("Wechatpay-Timestamp"),
            "missing-nonce" => Fault::MissingHeader("Wechatpay-Nonce"),
            "missing-signature" => Fault::MissingHeader("Wechatpay-Signature"),
            "missing-serial" => Fault::MissingHeader("Wechatpay-Serial"),
            "stale" => Fault::TimestampSkew(-600),
            "future" => Fault::TimestampSkew(600),
            "unknown-serial" => Fault::UnknownSerial,
            "system-error" => Fault::SystemError,
            "frequency-limited" => Fault::FrequencyLimited,
            other => match other.strip_prefix("delay-").and_then(|ms| ms.parse::<u64>().ok()) {
                Some(ms) => Fault::Delay(Duration::from_millis(ms)),
                None => {
                    return Err(ConfigError::new(
                        FAULT_HEADER,
                        format!("unknown fault `{other}` (see wechatpay::emulator::Fault for the names)"),
                    )
                    .into())
                }
            },
        })
    }
}

/// Parses a comma-separated fault list.
pub(crate) fn parse_list(text: &str) -> crate::Result<Vec<Fault>> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}
