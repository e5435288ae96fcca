//! `RedisStore`: rate-limit buckets in Redis, so every instance of a merchant shares one limit.
//!
//! One atomic step per call: a Lua script runs GCRA on Redis's own clock (`TIME`), so instances
//! whose clocks differ still space their calls on one timeline. Keys expire once their slot has
//! passed, so nothing piles up. When Redis is unreachable or slow, the call is not held up: it
//! falls back to an in-process bucket (with a warning) and Redis is tried again a second later.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{ConfigError, Result};
use crate::rate_limits::{InProcessStore, Rate, RateLimitStore};

/// GCRA in one step. KEYS[1]: the bucket. ARGV: interval, tolerance and longest wait, in µs.
/// Returns the wait in µs, or -1 when the slot comes later than the longest wait (nothing is
/// reserved then).
const GCRA: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
local wait = arrival - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return -1 end
local following = arrival + interval
redis.call('SET', KEYS[1], string.format('%.0f', following), 'PX', math.ceil((following - now) / 1000) + 1000)
return wait
";

/// How long a call waits for Redis before it uses the in-process bucket instead.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// After Redis failed, how long calls use the in-process bucket before trying Redis again.
const RETRY_REDIS_AFTER: Duration = Duration::from_secs(1);

struct Inner {
    client: redis::Client,
    /// Made on the crate's I/O runtime on first use, so it outlives the callers' runtimes.
    manager: tokio::sync::OnceCell<ConnectionManager>,
    script: redis::Script,
    fallback: InProcessStore,
    /// Until when Redis is skipped after a failure.
    down_until: Mutex<Option<Instant>>,
    /// The URL with any password removed, for messages.
    shown: String,
}

/// Rate-limit buckets kept in Redis and shared by every client that uses the same server: N
/// instances of one merchant together keep the merchant's documented limits.
///
/// If Redis cannot be reached or answers slower than the store's timeout (250 ms by default),
/// a call uses an in-process bucket instead and logs a warning; Redis is tried again a second
/// later, and shared limiting resumes as soon as it answers.
///
/// ```no_run
/// use wechatpay::{Builder, RedisStore};
/// let store = RedisStore::connect("redis://127.0.0.1:6379/")?;
/// let builder = Builder::new().store(store);
/// # let _ = builder;
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    shared: Arc<Inner>,
    timeout: Duration,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shared.shown)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis server at `url` (`redis://[user:password@]host:port/[db]`). Nothing is
    /// connected yet: the first call that needs a bucket connects.
    pub fn connect(url: &str) -> Result<Self> {
        let shown = crate::redact::userinfo(url);
        let client = redis::Client::open(url)
            .map_err(|e| ConfigError::new("redis", format!("{shown:?} is not a Redis URL: {}", e.kind_text())))?;
        Ok(Self {
            shared: Arc::new(Inner {
                client,
                manager: tokio::sync::OnceCell::new(),
                script: redis::Script::new(GCRA),
                fallback: InProcessStore::new(),
                down_until: Mutex::new(None),
                shown,
            }),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// How long a call waits for Redis before using the in-process bucket (default 250 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn is_down(&self) -> bool {
        let down = self.shared.down_until.lock().unwrap_or_else(PoisonError::into_inner);
        down.is_some_and(|until| Instant::now() < until)
    }

    fn mark(&self, up: bool) {
        let mut down = self.shared.down_until.lock().unwrap_or_else(PoisonError::into_inner);
        *down = if up {
            None
        } else {
            Instant::now().checked_add(RETRY_REDIS_AFTER)
        };
    }

    /// The GCRA step in Redis, on the crate's I/O runtime (where the connection lives).
    async fn reserve_in_redis(
        &self,
        key: &str,
        rate: Rate,
        burst: u32,
        max_wait: Duration,
    ) -> Result<Option<Duration>> {
        let inner = Arc::clone(&self.shared);
        let timeout = self.timeout;
        let key = key.to_owned();
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX).min(1 << 52);
        let interval = micros(rate.interval());
        let tolerance = micros(rate.interval().saturating_mul(burst.saturating_sub(1)));
        let max_wait = micros(max_wait);
        let step = async move {
            let manager = inner
                .manager
                .get_or_try_init(|| {
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(timeout))
                        .set_response_timeout(Some(timeout))
                        .set_number_of_retries(1);
                    ConnectionManager::new_with_config(inner.client.clone(), config)
                })
                .await?;
            let mut connection = manager.clone();
            inner
                .script
                .key(key)
                .arg(interval)
                .arg(tolerance)
                .arg(max_wait)
                .invoke_async::<i64>(&mut connection)
                .await
        };
        let task = crate::runtime::get()?.spawn(tokio::time::timeout(timeout, step));
        let failed = |reason: String| ConfigError::new("redis", reason);
        match task.await {
            Ok(Ok(Ok(wait))) => Ok(u64::try_from(wait).ok().map(Duration::from_micros)),
            Ok(Ok(Err(e))) => Err(failed(e.to_string()).into()),
            Ok(Err(_)) => Err(failed(format!("no answer within {timeout:?}")).into()),
            Err(e) => Err(failed(e.to_string()).into()),
        }
    }
}

impl RateLimitStore for RedisStore {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        rate: Rate,
        burst: u32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Duration>>> {
        Box::pin(async move {
            if !self.is_down() {
                match self.reserve_in_redis(key, rate, burst, max_wait).await {
                    Ok(wait) => {
                        self.mark(true);
                        return Ok(wait);
                    }
                    Err(e) => {
                        tracing::warn!(
                            target: "wechatpay",
                            store = %self.shared.shown,
                            error = %e,
                            "wechatpay: Redis rate-limit store unavailable; using the in-process bucket"
                        );
                        self.mark(false);
                    }
                }
            }
            self.shared.fallback.reserve(key, rate, burst, max_wait).await
        })
    }
}

/// The error kind's text without the URL (which may hold a password).
trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for redis::RedisError {
    fn kind_text(&self) -> String {
        format!("{:?}", self.kind())
    }
}
