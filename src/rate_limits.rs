//! The documented rate limits, enforced on the client side: a call waits for its turn instead of
//! drawing `429 FREQUENCY_LIMITED` from WeChat Pay.
//!
//! 45 endpoints document a limit (the catalog's `rate_limit` and `rate_dim` columns), e.g. the
//! seed call's "5/s per service-provider merchant". Each becomes a bucket keyed by endpoint and
//! dimension, spaced evenly (GCRA with bursts of one) and 3% wider than the limit: `5/s` lets a
//! call through every 206 ms.
//! A call that would have to wait past its deadline fails at once with
//! [`Error::RateLimited`](crate::Error::RateLimited), without sending.
//!
//! Buckets live in a [`RateLimitStore`]: [`InProcessStore`] by default (one process); a shared
//! store (Redis) makes several instances share one merchant's limit. Keys are
//! `wechatpay:rate:{METHOD} {template}:{dimension}`, the dimension being the merchant id, or
//! `*` for limits counted per endpoint (`接口`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::{ready, BoxFuture};

use crate::catalog::Entry;
use crate::error::{ConfigError, Result};

/// How much wider than the documented limit the client spaces calls (as a fraction, 3%).
const PACING_MARGIN: (u32, u32) = (103, 100);

/// `count` calls per `per`.
///
/// ```
/// use std::time::Duration;
/// let rate = wechatpay::Rate::parse("10/min").unwrap();
/// assert_eq!((rate.count, rate.per), (10, Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Calls allowed…
    pub count: u32,
    /// …per this long.
    pub per: Duration,
}

impl Rate {
    /// `N/s` or `N/min`, the catalog's notation.
    pub fn parse(text: &str) -> Option<Rate> {
        let (count, unit) = text.trim().split_once('/')?;
        let count: u32 = count.trim().parse().ok().filter(|n| *n > 0)?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            _ => return None,
        };
        Some(Rate { count, per })
    }

    /// The longest `per` a rate may have (a day): longer windows are not a rate limit.
    pub const MAX_PER: Duration = Duration::from_secs(86_400);

    /// The even spacing between two calls (`per` when `count` is zero, so it never divides by
    /// zero; [`check`](Self::check) refuses such a rate before it is used).
    pub fn interval(&self) -> Duration {
        self.per.checked_div(self.count).unwrap_or(self.per)
    }

    /// The rate the client keeps for this limit: spaced [`PACING_MARGIN`] wider, because delays on
    /// the way differ from call to call, and a call held up a little longer than the one
    /// `count` calls after it would otherwise put one call too many into the server's window.
    pub(crate) fn paced(self) -> Rate {
        Rate {
            count: self.count,
            per: self.per.saturating_mul(PACING_MARGIN.0) / PACING_MARGIN.1,
        }
    }

    /// Whether this rate can be kept: at least one call, over more than zero and at most
    /// [`MAX_PER`](Self::MAX_PER).
    ///
    /// ```
    /// use std::time::Duration;
    /// use wechatpay::Rate;
    /// assert!(Rate::parse("5/s").unwrap().check().is_ok());
    /// assert!(Rate { count: 0, per: Duration::from_secs(1) }.check().is_err());
    /// assert!(Rate { count: 1, per: Duration::MAX }.check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        if self.count == 0 || self.per.is_zero() || self.per > Self::MAX_PER {
            return Err(ConfigError::new(
                "rate_limits",
                format!(
                    "{} calls per {:?} is not a rate: it needs at least one call over more than zero and at most a day",
                    self.count, self.per
                ),
            )
            .into());
        }
        Ok(())
    }
}

/// Where the buckets are kept. Implement it to share limits between processes.
pub trait RateLimitStore: Send + Sync + 'static {
    /// Reserves the next slot of bucket `key` (spaced by `rate`, at most `burst` at once) if it
    /// comes within `max_wait`, and says how long to wait for it (zero: now). `None` means the
    /// slot would come later, and nothing was reserved.
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        rate: Rate,
        burst: u32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Duration>>>;
}

/// A store shared by several builders (`Arc<InProcessStore>`, `Arc<RedisStore>`, …).
impl<T: RateLimitStore + ?Sized> RateLimitStore for Arc<T> {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        rate: Rate,
        burst: u32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Duration>>> {
        (**self).reserve(key, rate, burst, max_wait)
    }
}

/// Buckets in this process's memory (the default store). Given to
/// [`Builder::store`](crate::Builder::store), it also lets the clients of one process share
/// their downloaded platform certificates ([`CertificateStore`](crate::CertificateStore)).
#[derive(Debug, Default)]
pub struct InProcessStore {
    /// Per key: the theoretical arrival time of the next call (GCRA).
    next: Mutex<HashMap<String, Instant>>,
    values: crate::certificate_store::LocalValues,
}

impl InProcessStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn values(&self) -> &crate::certificate_store::LocalValues {
        &self.values
    }

    /// The GCRA step at `now`, shared with the emulator.
    pub(crate) fn reserve_at(
        &self,
        key: &str,
        rate: Rate,
        burst: u32,
        max_wait: Duration,
        now: Instant,
    ) -> Option<Duration> {
        let mut next = self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if next.len() > 4096 {
            // Buckets whose slot has passed hold nothing a fresh bucket would not.
            next.retain(|_, at| *at > now);
        }
        let interval = rate.interval();
        let tolerance = interval.saturating_mul(burst.saturating_sub(1));
        let arrival = next.get(key).copied().unwrap_or(now).max(now);
        let allowed_at = arrival.checked_sub(tolerance).unwrap_or(now).max(now);
        let wait = allowed_at - now;
        // A slot that cannot be written down (an instant past what the clock holds) is never.
        let following = arrival.checked_add(interval)?;
        if wait > max_wait {
            return None;
        }
        next.insert(key.to_owned(), following);
        Some(wait)
    }
}

impl RateLimitStore for InProcessStore {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        rate: Rate,
        burst: u32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Duration>>> {
        Box::pin(ready(Ok(self.reserve_at(key, rate, burst, max_wait, Instant::now()))))
    }
}

/// Which limits the client keeps, and where.
///
/// ```
/// use wechatpay::{Builder, Rate, RateLimits};
/// // The documented limits, but this merchant's seed-call limit was raised to 20/s.
/// let limits = RateLimits::documented()
///     .set("POST", "v3/brand/partner/card-member/user-points/sync", Rate::parse("20/s"));
/// let builder = Builder::new().rate_limits(limits); // or RateLimits::none()
/// # let _ = builder;
/// ```
#[derive(Clone)]
pub struct RateLimits {
    enabled: bool,
    overrides: Vec<(String, String, Option<Rate>)>,
    store: Arc<dyn RateLimitStore>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("enabled", &self.enabled)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::documented()
    }
}

impl RateLimits {
    /// Every limit the catalog documents, kept in this process (the default).
    pub fn documented() -> Self {
        Self {
            enabled: true,
            overrides: Vec::new(),
            store: Arc::new(InProcessStore::new()),
        }
    }

    /// No client-side limiting.
    pub fn none() -> Self {
        Self {
            enabled: false,
            ..Self::documented()
        }
    }

    /// This endpoint's limit instead of the documented one (`None`: unlimited), e.g. for a
    /// merchant whose limit was raised.
    pub fn set(mut self, method: &str, template: &str, rate: Option<Rate>) -> Self {
        self.overrides.push((
            method.to_ascii_uppercase(),
            template.trim_start_matches('/').to_owned(),
            rate,
        ));
        self
    }

    /// Keeps the buckets in `store` (shared between processes).
    pub fn store(self, store: impl RateLimitStore) -> Self {
        self.shared_store(Arc::new(store))
    }

    pub(crate) fn shared_store(mut self, store: Arc<dyn RateLimitStore>) -> Self {
        self.store = store;
        self
    }

    pub(crate) fn store_ref(&self) -> &dyn RateLimitStore {
        self.store.as_ref()
    }

    /// The limit for a call and its bucket key, if it has one. `mchid` is the merchant the limit
    /// counts for: the client's, or the target merchant the request names
    /// ([`target_merchant`]).
    pub(crate) fn bucket(&self, method: &str, entry: &Entry, mchid: Option<&str>) -> Result<Option<(Rate, String)>> {
        if !self.enabled {
            return Ok(None);
        }
        let rate = match self
            .overrides
            .iter()
            .rev()
            .find(|(m, t, _)| m == method && t == entry.path)
        {
            Some((_, _, rate)) => *rate,
            None if entry.rate_limit.is_empty() => None,
            None => Some(Rate::parse(entry.rate_limit).ok_or_else(|| {
                ConfigError::new(
                    "rate_limits",
                    format!(
                        "the catalog's limit {:?} for {} is not N/s or N/min",
                        entry.rate_limit, entry.path
                    ),
                )
            })?),
        };
        let Some(rate) = rate else { return Ok(None) };
        rate.check()
            .map_err(|_| ConfigError::new("rate_limits", format!("{method} {}: {} calls per {:?} is not a rate (at least one call, over more than zero and at most a day)", entry.path, rate.count, rate.per)))?;
        // `接口`: counted for the endpoint as a whole; every other dimension is a merchant.
        let dimension = if entry.rate_dim == "接口" {
            "*"
        } else {
            mchid.unwrap_or("*")
        };
        Ok(Some((
            rate,
            format!("wechatpay:rate:{method} {}:{dimension}", entry.path),
        )))
    }
}

/// For limits counted per target merchant (`特殊减额目标商户号`, `查询渠道额度目标商户号`: a
/// merchant whose funds the call acts on, named by `mchid` in the query or the JSON body), that
/// merchant; `None` for other limits, or when the request names none (the client's merchant
/// counts then, which is never looser).
pub(crate) fn target_merchant(entry: &Entry, query: Option<&str>, body: &[u8]) -> Option<String> {
    if !entry.rate_dim.contains("目标商户号") {
        return None;
    }
    let from_query = query.into_iter().flat_map(|q| q.split('&')).find_map(|pair| {
        let value = pair.strip_prefix("mchid=")?;
        Some(
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned(),
        )
    });
    from_query
        .or_else(|| {
            let body: serde_json::Value = serde_json::from_slice(body).ok()?;
            body.get("mchid")?.as_str().map(str::to_owned)
        })
        .filter(|mchid| !mchid.is_empty() && mchid.len() <= 32 && mchid.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_client_paces_three_percent_wider_than_the_limit() {
        let rate = Rate::parse("5/s").unwrap();
        assert_eq!(rate.interval(), Duration::from_millis(200));
        assert_eq!(rate.paced().interval(), Duration::from_millis(206));
        assert_eq!(rate.paced().count, 5);
    }

    use super::*;

    #[test]
    fn calls_are_spaced_evenly_and_a_late_slot_is_not_taken() {
        let store = InProcessStore::new();
        let rate = Rate::parse("5/s").unwrap();
        let now = Instant::now();
        let waits: Vec<_> = (0..4)
            .map(|_| store.reserve_at("k", rate, 1, Duration::from_secs(10), now).unwrap())
            .collect();
        assert_eq!(
            waits,
            [0, 200, 400, 600].map(Duration::from_millis),
            "one call every 200 ms"
        );
        // The next slot is 800 ms away: refused within 500 ms, and not reserved.
        assert_eq!(store.reserve_at("k", rate, 1, Duration::from_millis(500), now), None);
        assert_eq!(
            store.reserve_at("k", rate, 1, Duration::from_secs(1), now),
            Some(Duration::from_millis(800))
        );
        // Another key is its own bucket; a burst lets that many through at once.
        let burst: Vec<_> = (0..6)
            .map(|_| store.reserve_at("b", rate, 5, Duration::ZERO, now))
            .collect();
        assert_eq!(burst.iter().filter(|w| w.is_some()).count(), 5);
        assert!(Rate::parse("0/s").is_none() && Rate::parse("5/h").is_none());
    }

    #[test]
    fn target_merchant_limits_count_the_merchant_the_request_names() {
        let reduction = crate::catalog::find("POST", "v3/aggracct-bc/wb-channel/special-reduction").unwrap();
        let query =
            crate::catalog::find("GET", "v3/aggracct-bc/wb-channel/special-reduction/{out_request_no}").unwrap();
        let seed = crate::catalog::find("POST", "v3/brand/partner/card-member/user-points/sync").unwrap();
        assert_eq!(
            target_merchant(reduction, None, br#"{"mchid":"1900016681","amount":1}"#).as_deref(),
            Some("1900016681")
        );
        assert_eq!(
            target_merchant(query, Some("mchid=1900016682&bal_account_no=x"), b"").as_deref(),
            Some("1900016682")
        );
        // Not a target-merchant limit, no mchid, or one that cannot be a merchant id.
        assert_eq!(target_merchant(seed, None, br#"{"mchid":"1900016681"}"#), None);
        assert_eq!(target_merchant(reduction, None, b"{}"), None);
        assert_eq!(target_merchant(reduction, None, br#"{"mchid":"19:00 *"}"#), None);
        let limits = RateLimits::documented();
        let (_, a) = limits.bucket("POST", reduction, Some("1900016681")).unwrap().unwrap();
        let (_, b) = limits.bucket("POST", reduction, Some("1900016682")).unwrap().unwrap();
        assert_ne!(a, b, "one bucket per target merchant");
    }

    #[test]
    fn rates_that_cannot_be_kept_are_refused_and_never_panic() {
        let store = InProcessStore::new();
        let now = Instant::now();
        for (count, per) in [(0, Duration::from_secs(1)), (1, Duration::MAX), (1, Duration::ZERO)] {
            let rate = Rate { count, per };
            assert!(rate.check().is_err(), "{rate:?}");
            // Even unchecked, the store neither divides by zero nor overflows the clock.
            for _ in 0..3 {
                let _ = store.reserve_at("odd", rate, u32::MAX, Duration::MAX, now);
            }
        }
        let seed = crate::catalog::find("POST", "v3/brand/partner/card-member/user-points/sync").unwrap();
        let zero = RateLimits::documented().set(
            "POST",
            seed.path,
            Some(Rate {
                count: 0,
                per: Duration::from_secs(1),
            }),
        );
        let err = zero.bucket("POST", seed, Some("1900000109")).unwrap_err();
        assert!(err.is_config() && err.to_string().contains("not a rate"), "{err}");
    }
}
