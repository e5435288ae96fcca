//! `retry`: a failed attempt is tried again when that is safe, each attempt signed afresh (the
//! layer sits outside `signer`) and, after a connection failure, sent to the backup domain.
//!
//! What is retried (see [`RetryPolicy`]): a failure to connect, on any method — the request never
//! left; and, for `GET`/`HEAD` and endpoints the catalog says take an `Idempotency-Key` (a repeat
//! is safe), also `429`, `5xx` answers and connections that broke after sending. Never: other
//! `4xx`, a failed signature check (the `verifier` is outside this layer), or a POST that may have
//! reached WeChat Pay. The call's `timeout` is one deadline over every attempt and wait.

use std::time::Duration;

use futures_util::future::BoxFuture;
use http::{Method, StatusCode, Uri};

use super::{Middleware, Next};
use crate::error::{Error, Result, RetriedError, TransportKind};
use crate::request::{Call, Endpoint, Request};
use crate::response::Response;

/// WeChat Pay's backup domain for cross-city disaster recovery.
pub(crate) const BACKUP_HOST: &str = "api2.mch.weixin.qq.com";
const PRIMARY_HOST: &str = "api.mch.weixin.qq.com";

/// The longest `Retry-After` honoured; a longer one is treated as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// How often and how patiently a call is retried.
///
/// Retried: a failure to connect (or a connect timeout), on any method — the request never left,
/// and the retry goes to the backup domain under the default base URI (or to
/// [`Builder::backup_base_uri`](crate::Builder::backup_base_uri)). For `GET`/`HEAD` and endpoints
/// whose catalog entry takes an `Idempotency-Key`, also `429` and `5xx` answers (a `Retry-After`
/// header is honoured) and connections that broke after sending. Never: other `4xx`, an answer
/// whose signature fails (the `verifier` is outside this layer), a POST that may have reached
/// WeChat Pay, or an APIv2 `FAIL` (checked in the `verifier` layer). Waits are exponential with
/// full jitter (a `Retry-After` is honoured up to 120 s); the call's `timeout` is one deadline
/// over every attempt and wait, and a wait that would pass it ends the call at once with the
/// last failure. When more than one attempt failed, the error is
/// [`Error::Retried`](crate::Error::Retried).
///
/// ```
/// use std::time::Duration;
/// use wechatpay::RetryPolicy;
///
/// let patient = RetryPolicy::default().attempts(5).base_delay(Duration::from_millis(50));
/// assert_eq!(patient.max_attempts(), 5);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, waits of up to 200 ms, 400 ms, … (full jitter), at most 5 s.
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The most attempts a policy may ask for: more only adds load to a service that is failing.
    pub const MAX_ATTEMPTS: u32 = 10;

    /// One attempt: nothing is retried.
    pub fn none() -> Self {
        Self {
            attempts: 1,
            ..Self::default()
        }
    }

    /// At most `attempts` attempts in all (at least 1, at most [`MAX_ATTEMPTS`](Self::MAX_ATTEMPTS)).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.clamp(1, Self::MAX_ATTEMPTS);
        self
    }

    /// The first wait's upper bound; it doubles with every retry.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest wait between attempts (a `Retry-After` header may ask for longer).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The most attempts a call makes.
    pub fn max_attempts(&self) -> u32 {
        self.attempts
    }

    /// The wait before retry number `retry` (1-based): uniform in `0..=min(max, base·2^(retry-1))`.
    fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let mut random = [0u8; 8];
        if crate::crypto::backend::fill_random(&mut random).is_err() {
            return ceiling;
        }
        let fraction = u64::from_le_bytes(random) as f64 / u64::MAX as f64;
        ceiling.mul_f64(fraction)
    }
}

/// Where a retry after a connection failure goes.
#[derive(Debug, Clone)]
pub(crate) enum Failover {
    /// Stay where the request was going.
    None,
    /// The default base URI: `api.mch.weixin.qq.com` → `api2.mch.weixin.qq.com` (endpoints routed to
    /// other hosts keep theirs).
    BackupDomain,
    /// `Builder::backup_base_uri`: requests under `primary` go to `backup` instead.
    Origin { primary: String, backup: String },
}

impl Failover {
    fn rewrite(&self, uri: &Uri) -> Option<Uri> {
        let text = uri.to_string();
        let moved = match self {
            Failover::None => return None,
            Failover::BackupDomain => {
                if uri.host() != Some(PRIMARY_HOST) {
                    return None;
                }
                text.replacen(PRIMARY_HOST, BACKUP_HOST, 1)
            }
            Failover::Origin { primary, backup } => format!("{backup}{}", text.strip_prefix(primary.as_str())?),
        };
        moved.parse().ok()
    }
}

/// What to do after a failed attempt.
enum Verdict {
    /// Give the result to the caller.
    Stop,
    /// Try again, after at least this long (a `Retry-After`), perhaps on the backup.
    Retry { at_least: Option<Duration>, failover: bool },
}

fn verdict(error: &Error, idempotent: bool) -> Verdict {
    match error {
        // Connecting failed or timed out: nothing was sent.
        Error::Transport(e) if matches!(e.kind(), TransportKind::Connect | TransportKind::ConnectTimeout) => {
            Verdict::Retry {
                at_least: None,
                failover: true,
            }
        }
        // The connection broke after the request may have been written.
        Error::Transport(e) if e.kind() == TransportKind::Io && idempotent => Verdict::Retry {
            at_least: None,
            failover: true,
        },
        Error::Api(api)
            if idempotent && (api.status() == StatusCode::TOO_MANY_REQUESTS || api.status().is_server_error()) =>
        {
            let at_least = api
                .response()
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            Verdict::Retry {
                at_least,
                failover: false,
            }
        }
        _ => Verdict::Stop,
    }
}

/// A copy of `request` for another attempt (the signer replaces `Authorization`).
fn copy(request: &Request) -> Request {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    copy
}

/// The `retry` layer.
pub(crate) struct RetryLayer {
    pub(crate) policy: RetryPolicy,
    pub(crate) failover: Failover,
}

impl Middleware for RetryLayer {
    fn handle<'a>(&'a self, request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>> {
        if self.policy.attempts <= 1 {
            return next.run(request);
        }
        Box::pin(async move {
            let idempotent = matches!(*request.method(), Method::GET | Method::HEAD)
                || request
                    .extensions()
                    .get::<Endpoint>()
                    .and_then(Endpoint::catalog_entry)
                    .is_some_and(|entry| entry.idempotency_key);
            let deadline = request.extensions().get::<Call>().and_then(|call| call.deadline);
            let mut history = Vec::new();
            let mut current = request;
            loop {
                let spare = copy(&current);
                let error = match next.run(current).await {
                    Ok(response) => return Ok(response),
                    Err(error) => error,
                };
                // History holds fewer than `attempts` (a u32) entries.
                let attempt = u32::try_from(history.len()).unwrap_or(u32::MAX).saturating_add(1);
                let (at_least, failover) = match verdict(&error, idempotent) {
                    Verdict::Retry { at_least, failover } if attempt < self.policy.attempts => (at_least, failover),
                    _ if history.is_empty() => return Err(error),
                    _ => return Err(RetriedError::new(history, error).into()),
                };
                let wait = self
                    .policy
                    .backoff(attempt)
                    .max(at_least.unwrap_or_default().min(MAX_RETRY_AFTER));
                // The call's timeout is one deadline: a wait that would reach it ends the call
                // now, with what failed, rather than later with a bare timeout.
                let resume = std::time::Instant::now().checked_add(wait);
                if deadline.is_some_and(|deadline| resume.is_none_or(|resume| resume >= deadline)) {
                    tracing::info!(
                        target: "wechatpay",
                        attempt,
                        reason = %crate::call_trace::kind(&error),
                        wait_ms = crate::clock::millis(wait),
                        "not retrying: the wait would pass the call's deadline"
                    );
                    return Err(if history.is_empty() {
                        error
                    } else {
                        RetriedError::new(history, error).into()
                    });
                }
                tracing::info!(
                    target: "wechatpay",
                    attempt,
                    reason = %crate::call_trace::kind(&error),
                    wait_ms = crate::clock::millis(wait),
                    failover,
                    "retrying"
                );
                history.push(error.to_string());
                pause(wait).await;
                current = spare;
                if failover {
                    if let Some(uri) = self.failover.rewrite(current.uri()) {
                        *current.uri_mut() = uri;
                    }
                }
            }
        })
    }
}

async fn pause(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_doubles() {
        let policy = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(300));
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(9) <= Duration::from_millis(300));
        }
        assert!((0..200).any(|_| policy.backoff(2) > Duration::from_millis(100)));
    }

    #[test]
    fn failover_moves_only_the_primary_host_or_the_configured_origin() {
        let uri: Uri = "https://api.mch.weixin.qq.com/v3/pay/transactions/native"
            .parse()
            .unwrap();
        assert_eq!(
            Failover::BackupDomain.rewrite(&uri).unwrap().to_string(),
            "https://api2.mch.weixin.qq.com/v3/pay/transactions/native"
        );
        let hk: Uri = "https://apihk.mch.weixin.qq.com/v3/global/x".parse().unwrap();
        assert!(Failover::BackupDomain.rewrite(&hk).is_none());
        let explicit = Failover::Origin {
            primary: "http://127.0.0.1:1/".into(),
            backup: "http://127.0.0.1:2/".into(),
        };
        let local: Uri = "http://127.0.0.1:1/v3/a?b=1".parse().unwrap();
        assert_eq!(
            explicit.rewrite(&local).unwrap().to_string(),
            "http://127.0.0.1:2/v3/a?b=1"
        );
        assert!(Failover::None.rewrite(&local).is_none());
    }
}
