//! Faults the emulator can inject, per request or for every request.

use std::str::FromStr;
use std::time::Duration;

use crate::error::ConfigError;

/// The request header that asks for a fault on one request: `Wechatpay-Emulator-Fault: stale`.
/// Several faults may be given, comma-separated.
pub const FAULT_HEADER: &str = "Wechatpay-Emulator-Fault";

/// The longest delay one request may ask for (`delay-60000`, and at most this in total over all
/// the delays it names), so a request cannot park a connection indefinitely.
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(60);

/// A way for the emulator to misbehave, to test a client's error handling.
///
/// Names (for [`FAULT_HEADER`] and the CLI): `bad-signature`, `tamper-body`, `missing-timestamp`,
/// `missing-nonce`, `missing-signature`, `missing-serial`, `stale` (−600 s), `future` (+600 s),
/// `unknown-serial`, `system-error` (500), `frequency-limited` (429), `delay-<ms>` (at most
/// [`MAX_FAULT_DELAY`]).
///
/// Faults apply only to requests whose signature verified, whether the request names them or
/// [`Emulator::set_faults`](super::Emulator::set_faults) set them: a request the emulator refuses
/// gets its refusal at once and unaltered, so an unauthenticated client cannot make it wait.
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
                Some(ms) if Duration::from_millis(ms) <= MAX_FAULT_DELAY => Fault::Delay(Duration::from_millis(ms)),
                Some(ms) => {
                    return Err(ConfigError::new(
                        FAULT_HEADER,
                        format!(
                            "delay-{ms} is longer than the {} ms a request may ask for",
                            MAX_FAULT_DELAY.as_millis()
                        ),
                    )
                    .into())
                }
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

/// Refuses a request's faults whose delays add up to more than [`MAX_FAULT_DELAY`].
pub(crate) fn check_total_delay(faults: &[Fault]) -> crate::Result<()> {
    let total = faults
        .iter()
        .filter_map(|f| if let Fault::Delay(d) = f { Some(*d) } else { None })
        .try_fold(Duration::ZERO, Duration::checked_add);
    match total {
        Some(total) if total <= MAX_FAULT_DELAY => Ok(()),
        _ => Err(ConfigError::new(
            FAULT_HEADER,
            format!(
                "the delays add up to more than the {} ms a request may ask for",
                MAX_FAULT_DELAY.as_millis()
            ),
        )
        .into()),
    }
}
