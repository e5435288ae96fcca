//! `rate_limit`: waits for the endpoint's documented rate (see [`RateLimits`]) before each
//! attempt, or fails at once without sending when the wait would pass the call's deadline.

use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use super::{Middleware, Next};
use crate::error::{Error, Result};
use crate::rate_limits::RateLimits;
use crate::request::{Call, Endpoint, Request};
use crate::response::Response;

/// The `rate_limit` layer.
pub(crate) struct RateLimitLayer {
    pub(crate) limits: RateLimits,
    pub(crate) mchid: Option<String>,
}

impl Middleware for RateLimitLayer {
    fn handle<'a>(&'a self, request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>> {
        let entry = request.extensions().get::<Endpoint>().and_then(Endpoint::catalog_entry);
        let bucket = entry.map(|e| {
            let target = crate::rate_limits::target_merchant(e, request.uri().query(), request.body());
            let merchant = target.as_deref().or(self.mchid.as_deref());
            self.limits.bucket(request.method().as_str(), e, merchant)
        });
        let bucket = match bucket {
            Some(Ok(Some(bucket))) => bucket,
            Some(Err(e)) => return Box::pin(async move { Err(e) }),
            _ => return next.run(request),
        };
        Box::pin(async move {
            let (rate, key) = bucket;
            let deadline = request.extensions().get::<Call>().and_then(|call| call.deadline);
            let max_wait = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            let wait = self.limits.store_ref().reserve(&key, rate.paced(), 1, max_wait).await?;
            let Some(wait) = wait else {
                return Err(Error::RateLimited(rate.interval()));
            };
            if !wait.is_zero() {
                tracing::debug!(target: "wechatpay", wait_ms = crate::clock::millis(wait), "rate limit wait");
                tokio::time::sleep(wait).await;
            }
            next.run(request).await
        })
    }
}
