//! `RedisStore`: rate-limit buckets and platform certificates in Redis, so every instance of a
//! merchant shares one limit and one certificate download.
//!
//! Rate limits take one atomic step per call: a Lua script runs GCRA on Redis's own clock
//! (`TIME`), so instances whose clocks differ still space their calls on one timeline. Keys expire
//! once their slot has passed, so nothing piles up. Certificates are a value with a TTL and a
//! refresh lock (`SET NX PX`, released by a compare-and-delete script).
//!
//! When Redis is unreachable or slow, no call is held up: rate limiting falls back to an
//! in-process bucket (with a warning), certificates to the instance's own download, and Redis is
//! tried again a second later.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use std::future::Future;

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::certificate_store::CertificateStore;
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

/// Takes the lock in KEYS[1] for token ARGV[1] and ARGV[2] ms if it is free, or held without a
/// TTL or for longer than ARGV[3] ms: no client sets such a lock, so it was planted, and would
/// hold every instance up.
const LOCK: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
local left = redis.call('PTTL', KEYS[1])
if left == -1 or left > tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
";

/// The value in KEYS[1], at most ARGV[1] + 1 bytes of it; nothing when it is missing or not a
/// string (a planted hash or list reads as no value, and the next save replaces it).
const LOAD: &str = r"
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return false end
return redis.call('GETRANGE', KEYS[1], 0, tonumber(ARGV[1]))
";

/// At most this much of a stored value is read: a platform-certificate set is a few KB (and one
/// over 256 KiB is refused anyway), and a huge value planted in Redis must not be pulled into
/// memory whole.
const MAX_VALUE: usize = 256 * 1024 + 1;

/// The longest a refresh lock is held (the longest lock a client asks for).
pub(crate) const MAX_LOCK: Duration = crate::shared_certificates::MAX_LOCK;

/// Releases the lock in KEYS[1] only if it still holds the token in ARGV[1].
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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
    lock: redis::Script,
    load: redis::Script,
    unlock: redis::Script,
    fallback: InProcessStore,
    /// Until when Redis is skipped after a failure.
    down_until: Mutex<Option<Instant>>,
    /// The URL with any password removed, for messages.
    shown: String,
}

/// State shared through Redis by every client that uses the same server, given to
/// [`Builder::store`](crate::Builder::store): N instances of one merchant together keep the
/// merchant's documented rate limits, and with
/// [`auto_certificates`](crate::Builder::auto_certificates) they make one `v3/certificates`
/// download between them and read the platform certificates from Redis.
///
/// Keys: `wechatpay:rate:{METHOD} {template}:{merchant}` (expiring once their slot has passed),
/// `wechatpay:certificates:{mchid}` (certificates only, with a MAC keyed from the APIv3 key; never
/// a private key or the APIv3 key) and `wechatpay:certificates:{mchid}:lock`.
///
/// If Redis cannot be reached or answers slower than the store's timeout (250 ms by default),
/// a call uses an in-process bucket instead and the certificates are downloaded by the instance
/// itself, with a warning; Redis is tried again a second later, and the shared state is used as
/// soon as it answers.
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
                lock: redis::Script::new(LOCK),
                load: redis::Script::new(LOAD),
                unlock: redis::Script::new(UNLOCK),
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

    /// Runs `command` on the crate's I/O runtime (where the connection lives, so callers'
    /// runtimes can come and go) within the store's timeout, and records whether Redis answered.
    ///
    /// `Gate::Resting` skips Redis for a second after it failed (the hot path: a rate-limit step
    /// or a read, which have a fallback); `Gate::Always` tries anyway, for the writes that others
    /// wait for (publishing a set, releasing a lock).
    async fn run<T, F, Fut>(&self, gate: Gate, command: F) -> std::result::Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(ConnectionManager, Arc<Inner>) -> Fut + Send + 'static,
        Fut: Future<Output = redis::RedisResult<T>> + Send,
    {
        if gate == Gate::Resting && self.is_down() {
            return Err(Unavailable::Resting);
        }
        let inner = Arc::clone(&self.shared);
        let timeout = self.timeout;
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
                .await?
                .clone();
            command(manager, inner).await
        };
        let runtime = crate::runtime::get().map_err(|e| Unavailable::Failed(e.to_string()))?;
        let (outcome, reachable) = match runtime.spawn(tokio::time::timeout(timeout, step)).await {
            Ok(Ok(Ok(value))) => (Ok(value), true),
            // Redis answered with an error (a key of the wrong type, say): it is up, and only
            // this step falls back.
            Ok(Ok(Err(e))) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) => {
                (Err(Unavailable::Failed(e.to_string())), true)
            }
            Ok(Ok(Err(e))) => (Err(Unavailable::Failed(e.to_string())), false),
            Ok(Err(_)) => (Err(Unavailable::Failed(format!("no answer within {timeout:?}"))), false),
            Err(e) => (Err(Unavailable::Failed(e.to_string())), false),
        };
        self.mark(reachable);
        outcome
    }

    /// The GCRA step in Redis.
    async fn reserve_in_redis(
        &self,
        key: &str,
        rate: Rate,
        burst: u32,
        max_wait: Duration,
    ) -> std::result::Result<Option<Duration>, Unavailable> {
        let key = key.to_owned();
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX).min(1 << 52);
        let interval = micros(rate.interval());
        let tolerance = micros(rate.interval().saturating_mul(burst.saturating_sub(1)));
        let max_wait = micros(max_wait);
        let wait = self
            .run(Gate::Resting, move |mut connection, inner| async move {
                inner
                    .script
                    .key(key)
                    .arg(interval)
                    .arg(tolerance)
                    .arg(max_wait)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await?;
        Ok(u64::try_from(wait).ok().map(Duration::from_micros))
    }

    /// One command for the certificate store, its failure as the crate's error.
    async fn query<T: redis::FromRedisValue + Send + 'static>(&self, gate: Gate, command: redis::Cmd) -> Result<T> {
        let outcome = self
            .run(gate, move |mut connection, _| async move {
                command.query_async::<T>(&mut connection).await
            })
            .await;
        self.answer(outcome)
    }

    /// A certificate-store command's outcome as the crate's error.
    fn answer<T>(&self, outcome: std::result::Result<T, Unavailable>) -> Result<T> {
        outcome.map_err(|unavailable| {
            let reason = match unavailable {
                Unavailable::Resting => format!("{} failed less than {RETRY_REDIS_AFTER:?} ago", self.shared.shown),
                Unavailable::Failed(reason) => format!("{}: {reason}", self.shared.shown),
            };
            ConfigError::new("redis", reason).into()
        })
    }
}

/// Whether a step is skipped while Redis rests after a failure.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gate {
    Resting,
    Always,
}

/// Why Redis was not used for a step.
enum Unavailable {
    /// It failed less than [`RETRY_REDIS_AFTER`] ago, and was not asked.
    Resting,
    /// It failed now (error or timeout).
    Failed(String),
}

/// A TTL for `PX`, which refuses 0.
fn millis(ttl: Duration) -> u64 {
    crate::clock::millis(ttl).max(1)
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
            match self.reserve_in_redis(key, rate, burst, max_wait).await {
                Ok(wait) => return Ok(wait),
                Err(Unavailable::Resting) => {}
                Err(Unavailable::Failed(error)) => tracing::warn!(
                    target: "wechatpay",
                    store = %self.shared.shown,
                    error = %error,
                    "wechatpay: Redis rate-limit store unavailable; using the in-process bucket"
                ),
            }
            self.shared.fallback.reserve(key, rate, burst, max_wait).await
        })
    }
}

impl CertificateStore for RedisStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        let key = key.to_owned();
        Box::pin(async move {
            let outcome = self
                .run(Gate::Resting, move |mut connection, inner| async move {
                    let mut invocation = inner.load.key(key);
                    invocation.arg(MAX_VALUE - 1);
                    invocation.invoke_async::<Option<Vec<u8>>>(&mut connection).await
                })
                .await;
            self.answer(outcome)
        })
    }

    fn save<'a>(&'a self, key: &'a str, value: Vec<u8>, ttl: Duration) -> BoxFuture<'a, Result<()>> {
        let mut set = redis::cmd("SET");
        set.arg(key).arg(value).arg("PX").arg(millis(ttl));
        // Others wait for this set: it is sent even if Redis failed a moment ago.
        Box::pin(self.query(Gate::Always, set))
    }

    fn lock<'a>(&'a self, key: &'a str, token: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool>> {
        let (key, token) = (key.to_owned(), token.to_owned());
        Box::pin(async move {
            let outcome = self
                .run(Gate::Resting, move |mut connection, inner| async move {
                    let mut invocation = inner.lock.key(key);
                    invocation.arg(token).arg(millis(ttl)).arg(millis(MAX_LOCK));
                    invocation.invoke_async::<i64>(&mut connection).await
                })
                .await;
            self.answer(outcome).map(|taken| taken == 1)
        })
    }

    fn unlock<'a>(&'a self, key: &'a str, token: &'a str) -> BoxFuture<'a, Result<()>> {
        let (key, token) = (key.to_owned(), token.to_owned());
        Box::pin(async move {
            let outcome = self
                .run(Gate::Always, move |mut connection, inner| async move {
                    let mut invocation = inner.unlock.key(key);
                    invocation.arg(token);
                    invocation.invoke_async::<i64>(&mut connection).await
                })
                .await;
            self.answer(outcome).map(|_| ())
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
