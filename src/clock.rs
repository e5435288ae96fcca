//! Time, injectable so verification can be tested at any instant.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of Unix time in seconds.
///
/// Any `Fn() -> i64 + Send + Sync` is a clock, so tests can pin time:
///
/// ```
/// use wechatpay::Clock;
///
/// let fixed = || 1_700_000_000_i64;
/// assert_eq!(fixed.now(), 1_700_000_000);
/// assert!(wechatpay::SystemClock.now() > 1_700_000_000);
/// ```
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970: report negative seconds rather than panic.
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }
}

impl<F> Clock for F
where
    F: Fn() -> i64 + Send + Sync,
{
    fn now(&self) -> i64 {
        self()
    }
}

/// A duration in whole milliseconds as a `u64`, saturating rather than wrapping: for log fields
/// (a `u64` every subscriber reads as a number) and for Redis `PX` arguments.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
