//! Platform certificates that refresh themselves (`Builder::auto_certificates`).
//!
//! The client downloads `v3/certificates` through its own pipeline (signed, rate-limited,
//! retried), opens each certificate with the APIv3 key, checks the answer with the certificate it
//! just received, and keeps the set fresh: on a schedule, and at once when an answer or a
//! notification names a serial it does not know. Downloads are single-flight; a failed one keeps
//! the old set and is not tried again before a backoff. With a shared
//! [`CertificateStore`](crate::CertificateStore) the flight spans instances: one downloads, the
//! others read its result (`shared_certificates`).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::BoxFuture;
use http::Method;
use zeroize::Zeroizing;

use crate::crypto::{AesGcm, Certificate};
use crate::error::{ConfigError, Result, VerifyCheck, VerifyError};
use crate::key_ring::KeyRing;
use crate::options::Options;
use crate::pipeline::{Delivery, Pipeline};
use crate::shared_certificates::{Obtained, Shared, Want};

/// How often the set is downloaded again when nothing asks sooner.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(12 * 3600);

/// After a download that did not name a serial, that serial does not cause another download
/// for this long (a stray serial must not turn every call into a download).
const UNKNOWN_SERIAL_QUIET: Duration = Duration::from_secs(60);

/// At most this many serials are remembered as recently looked for and not found.
const UNKNOWN_SERIALS_KEPT: usize = 64;

/// The first wait after a failed download; it doubles with each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between failed downloads.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

const PATH: &str = "v3/certificates";

/// One downloaded platform certificate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlatformCertificate {
    /// The serial answers name in `Wechatpay-Serial`.
    pub serial: String,
    /// When it becomes valid (the certificate's notBefore; `effective_time` in the answer).
    pub effective: SystemTime,
    /// When it expires (the certificate's notAfter; `expire_time` in the answer).
    pub expires: SystemTime,
    /// The certificate.
    pub certificate: Certificate,
}

impl PlatformCertificate {
    fn from_certificate(certificate: Certificate) -> Self {
        Self {
            serial: certificate.serial_no().to_owned(),
            effective: certificate.not_before(),
            expires: certificate.not_after(),
            certificate,
        }
    }

    fn valid_at(&self, at: SystemTime) -> bool {
        self.effective <= at && at < self.expires
    }
}

/// What the last download brought.
#[derive(Default)]
struct Loaded {
    certificates: Vec<PlatformCertificate>,
    /// When it was downloaded (`None`: never).
    at: Option<Instant>,
}

/// The failure state, behind the single-flight lock.
#[derive(Default)]
struct Backoff {
    failures: u32,
    /// No download before this instant unless asked for explicitly.
    not_before: Option<Instant>,
    /// Why the last download failed, for callers that waited on it.
    last_error: Option<String>,
}

struct Inner {
    apiv3_key: Zeroizing<Vec<u8>>,
    /// Keys given with `Builder::cert` (e.g. `PUB_KEY_ID_…`), used alongside.
    fixed: KeyRing,
    interval: Duration,
    loaded: RwLock<Arc<Loaded>>,
    /// Held by the one download in flight; waiters queue here.
    flight: tokio::sync::Mutex<Backoff>,
    /// Downloads started, ever.
    attempts: AtomicU64,
    /// Downloads finished (the set installed, or the failure recorded): a caller reads it before
    /// looking at the set, and if it has moved by the time the caller holds the lock, someone
    /// else's download answered the same question.
    finished: AtomicU64,
    /// Set while a scheduled refresh is claimed, so only one caller does it.
    scheduled: AtomicBool,
    /// Serials a download did not contain, and when it found that out.
    unknown: Mutex<HashMap<String, Instant>>,
    /// The client that downloads (weak: the client owns this set through its verifier).
    pipeline: OnceLock<Weak<Pipeline>>,
    /// Where other instances of the merchant find this one's download, and it theirs.
    shared: Option<Shared>,
}

/// The platform certificates a client downloads and keeps fresh, shared by every clone of the
/// client and by any [`NotificationVerifier`](crate::NotificationVerifier) made with
/// [`NotificationVerifier::with_certificates`](crate::NotificationVerifier::with_certificates),
/// so a webhook learns about a rotated certificate too. Cheap to clone.
///
/// Get it from [`Client::certificates`](crate::Client::certificates) on a client built with
/// [`Builder::auto_certificates`](crate::Builder::auto_certificates).
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # fn main() -> wechatpay::Result<()> {
/// use wechatpay::emulator::{Emulator, Mode};
///
/// let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start()?;
/// let client = emulator
///     .merchant_builder()
///     .auto_certificates(emulator.identity().apiv3_key.as_bytes())
///     .build()?;
/// let certificates = client.certificates().expect("auto_certificates is on");
/// certificates.refresh()?; // or let the first call download them
/// assert_eq!(certificates.newest().as_deref(), Some(emulator.identity().platform_serial()));
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct PlatformCertificates(Arc<Inner>);

impl fmt::Debug for PlatformCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loaded = self.snapshot();
        f.debug_struct("PlatformCertificates")
            .field(
                "downloaded",
                &loaded.certificates.iter().map(|c| &c.serial).collect::<Vec<_>>(),
            )
            .field("fixed", &self.0.fixed)
            .field("interval", &self.0.interval)
            .field("apiv3_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl PlatformCertificates {
    pub(crate) fn new(apiv3_key: &[u8], fixed: KeyRing, interval: Duration, shared: Option<Shared>) -> Result<Self> {
        if apiv3_key.len() != AesGcm::KEY_LENGTH {
            return Err(ConfigError::new(
                "auto_certificates",
                format!("the APIv3 key must be 32 bytes, got {} bytes", apiv3_key.len()),
            )
            .into());
        }
        if interval.is_zero() {
            return Err(ConfigError::new("certificate_refresh", "the interval must be more than zero").into());
        }
        Ok(Self(Arc::new(Inner {
            apiv3_key: Zeroizing::new(apiv3_key.to_vec()),
            fixed,
            interval,
            loaded: RwLock::default(),
            flight: tokio::sync::Mutex::default(),
            attempts: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            scheduled: AtomicBool::new(false),
            unknown: Mutex::default(),
            pipeline: OnceLock::new(),
            shared,
        })))
    }

    /// Connects the set to the client that downloads it (once, when the client is built).
    pub(crate) fn attach(&self, pipeline: Weak<Pipeline>) {
        let _ = self.0.pipeline.set(pipeline);
    }

    pub(crate) fn apiv3_key(&self) -> &[u8] {
        &self.0.apiv3_key
    }

    fn snapshot(&self) -> Arc<Loaded> {
        Arc::clone(&self.0.loaded.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The keys to verify with now: the fixed keys and every downloaded certificate valid now.
    pub fn keys(&self) -> KeyRing {
        let now = SystemTime::now();
        let mut ring = self.0.fixed.clone();
        for certificate in self.snapshot().certificates.iter().filter(|c| c.valid_at(now)) {
            ring.insert(certificate.serial.clone(), certificate.certificate.public_key().clone());
        }
        ring
    }

    /// The downloaded certificates, expired ones included, oldest first.
    pub fn downloaded(&self) -> Vec<PlatformCertificate> {
        self.snapshot().certificates.clone()
    }

    /// The serial of the newest certificate valid now (the latest `effective`): the one
    /// sensitive fields are encrypted with unless
    /// [`Builder::encrypt_with`](crate::Builder::encrypt_with) names another.
    pub fn newest(&self) -> Option<String> {
        let now = SystemTime::now();
        self.snapshot()
            .certificates
            .iter()
            .filter(|c| c.valid_at(now))
            .max_by_key(|c| c.effective)
            .map(|c| c.serial.clone())
    }

    /// How many downloads this client started (successful or not) since it was built; sets
    /// read from a shared [`CertificateStore`](crate::CertificateStore) do not count.
    pub fn downloads(&self) -> u64 {
        self.0.attempts.load(Ordering::Relaxed)
    }

    /// Whether a download has succeeded yet.
    pub fn is_loaded(&self) -> bool {
        self.snapshot().at.is_some()
    }

    /// Downloads the set now (blocking), unless a download that finished while this call waited
    /// for it succeeded. On failure the old set stays.
    pub fn refresh(&self) -> Result<()> {
        let this = self.clone();
        crate::runtime::block_on(async move { this.refresh_async().await })
    }

    /// Downloads the set now, unless a download that finished while this call waited for it
    /// succeeded. On failure the old set stays.
    pub async fn refresh_async(&self) -> Result<()> {
        let this = self.clone();
        let seen = self.finished();
        crate::runtime::in_caller(async move { this.download_single_flight(seen, Want::Forced, "requested").await })
            .await
    }

    /// Makes sure a set was downloaded once (the first call that needs keys waits for it).
    pub(crate) async fn ensure_loaded(&self) -> Result<()> {
        let seen = self.finished();
        if self.is_loaded() {
            return Ok(());
        }
        self.download_single_flight(seen, Want::Fresh(self.0.interval), "first use")
            .await
    }

    fn finished(&self) -> u64 {
        self.0.finished.load(Ordering::Acquire)
    }

    /// The keys to check a message signed by `serial` with: downloads first when the set is
    /// missing, stale (the scheduled refresh) or lacks `serial`.
    pub(crate) async fn keys_for(&self, serial: &str) -> std::result::Result<KeyRing, VerifyCheck> {
        let unavailable = |e: crate::Error| VerifyCheck::CertificatesUnavailable {
            serial: crate::signed_headers::excerpt(serial),
            reason: e.to_string(),
        };
        if self.0.fixed.contains(serial) {
            self.scheduled_refresh().await;
            return Ok(self.keys());
        }
        if !self.is_loaded() {
            self.ensure_loaded().await.map_err(unavailable)?;
            return Ok(self.keys());
        }
        self.scheduled_refresh().await;
        let seen = self.finished();
        let keys = self.keys();
        if keys.contains(serial) || self.recently_unknown(serial) {
            return Ok(keys);
        }
        tracing::info!(target: "wechatpay", serial = %crate::signed_headers::excerpt(serial), "wechatpay: unknown Wechatpay-Serial; downloading platform certificates");
        self.download_single_flight(seen, Want::Serial(serial), "unknown serial")
            .await
            .map_err(unavailable)?;
        let keys = self.keys();
        if !keys.contains(serial) {
            self.remember_unknown(serial);
        }
        Ok(keys)
    }

    /// The check for a `v3/certificates` answer itself: the keys known so far plus the
    /// certificates the answer carries, which the APIv3 key has just authenticated (the
    /// bootstrap wechatpay-php's certificate downloader does).
    pub(crate) fn bootstrap_keys(&self, serial: &str, body: &[u8]) -> std::result::Result<KeyRing, VerifyCheck> {
        let opened = crate::certificates_answer::open(body, self.apiv3_key()).map_err(|e| {
            VerifyCheck::CertificatesUnavailable {
                serial: crate::signed_headers::excerpt(serial),
                reason: format!("the v3/certificates answer does not open with the APIv3 key: {e}"),
            }
        })?;
        let mut keys = self.keys();
        for certificate in opened {
            keys.insert(certificate.serial_no().to_owned(), certificate.public_key().clone());
        }
        Ok(keys)
    }

    /// When the set is older than the interval, one caller downloads it again (its failure is
    /// only logged: the old set is still good).
    async fn scheduled_refresh(&self) {
        let seen = self.finished();
        let stale = self.snapshot().at.is_some_and(|at| at.elapsed() >= self.0.interval);
        if !stale || self.0.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        // Cleared however this ends, the call's timeout dropping the download included: a claim
        // left behind would stop every later scheduled refresh.
        let _claim = ClearOnDrop(&self.0.scheduled);
        let _ = self
            .download_single_flight(seen, Want::Fresh(self.0.interval), "scheduled")
            .await;
    }

    fn recently_unknown(&self, serial: &str) -> bool {
        let unknown = self.0.unknown.lock().unwrap_or_else(PoisonError::into_inner);
        unknown
            .get(serial)
            .is_some_and(|since| since.elapsed() < UNKNOWN_SERIAL_QUIET)
    }

    fn remember_unknown(&self, serial: &str) {
        let mut unknown = self.0.unknown.lock().unwrap_or_else(PoisonError::into_inner);
        unknown.retain(|_, since| since.elapsed() < UNKNOWN_SERIAL_QUIET);
        if unknown.len() < UNKNOWN_SERIALS_KEPT {
            unknown.insert(crate::signed_headers::excerpt(serial), Instant::now());
        }
    }

    /// One download at a time. `seen` is [`finished`](Self::finished) as read before the caller
    /// looked at the set: if a download finished since, the caller takes that outcome instead of
    /// downloading again (forced callers download again only if it failed). Unforced callers
    /// respect the backoff after failures.
    fn download_single_flight<'a>(
        &'a self,
        seen: u64,
        want: Want<'a>,
        reason: &'static str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let forced = matches!(want, Want::Forced);
            let mut backoff = self.0.flight.lock().await;
            if self.finished() != seen {
                match (&backoff.last_error, forced) {
                    (None, _) => return Ok(()),
                    (Some(error), false) => return Err(failed_earlier(error)),
                    (Some(_), true) => {}
                }
            }
            if let (Some(not_before), false) = (backoff.not_before, forced) {
                if Instant::now() < not_before {
                    let error = backoff.last_error.as_deref().unwrap_or("an earlier download failed");
                    return Err(failed_earlier(error));
                }
            }
            let started = Instant::now();
            match self.fetch(want).await {
                Ok((certificates, at, source)) => {
                    tracing::info!(
                        target: "wechatpay",
                        reason,
                        source,
                        serials = ?certificates.iter().map(|c| c.serial.as_str()).collect::<Vec<_>>(),
                        elapsed_ms = crate::clock::millis(started.elapsed()),
                        "wechatpay: platform certificates refreshed"
                    );
                    *self.0.loaded.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Loaded {
                        certificates,
                        at: Some(at),
                    });
                    self.0.unknown.lock().unwrap_or_else(PoisonError::into_inner).clear();
                    *backoff = Backoff::default();
                    self.0.finished.fetch_add(1, Ordering::AcqRel);
                    Ok(())
                }
                Err(error) => {
                    backoff.failures = backoff.failures.saturating_add(1);
                    let wait = FIRST_BACKOFF
                        .saturating_mul(1 << backoff.failures.saturating_sub(1).min(16))
                        .min(MAX_BACKOFF);
                    backoff.not_before = Instant::now().checked_add(wait);
                    backoff.last_error = Some(error.to_string());
                    self.0.finished.fetch_add(1, Ordering::AcqRel);
                    tracing::warn!(
                        target: "wechatpay",
                        reason,
                        failures = backoff.failures,
                        retry_in_ms = crate::clock::millis(wait),
                        error = %error,
                        "wechatpay: platform certificate download failed; keeping the old set"
                    );
                    Err(error)
                }
            }
        })
    }

    /// The set: another instance's download from the shared store when it answers `want`, else
    /// this instance's own (published for the others). Also says when it was downloaded and by
    /// whom, for the schedule and the log.
    async fn fetch(&self, want: Want<'_>) -> Result<(Vec<PlatformCertificate>, Instant, &'static str)> {
        let Some(shared) = &self.0.shared else {
            return Ok((self.download().await?, Instant::now(), "downloaded"));
        };
        let lease = match shared.obtain(want, self.apiv3_key()).await {
            Obtained::Stored(stored) => {
                let at = Instant::now().checked_sub(stored.age).unwrap_or_else(Instant::now);
                let certificates = stored
                    .certificates
                    .into_iter()
                    .map(PlatformCertificate::from_certificate)
                    .collect();
                return Ok((certificates, at, "shared store"));
            }
            Obtained::Download(lease) => lease,
        };
        match self.download().await {
            Ok(certificates) => {
                let plain: Vec<Certificate> = certificates.iter().map(|c| c.certificate.clone()).collect();
                shared.publish(lease, &plain, self.apiv3_key()).await;
                Ok((certificates, Instant::now(), "downloaded"))
            }
            Err(error) => {
                if let Some(lease) = lease {
                    shared.release(lease).await;
                }
                Err(error)
            }
        }
    }

    /// `GET v3/certificates` through the client's pipeline, opened and checked.
    async fn download(&self) -> Result<Vec<PlatformCertificate>> {
        self.0.attempts.fetch_add(1, Ordering::AcqRel);
        let pipeline = self.0.pipeline.get().and_then(Weak::upgrade).ok_or_else(|| {
            ConfigError::new(
                "auto_certificates",
                "the client that downloads the certificates was dropped",
            )
        })?;
        let response = pipeline
            .run(Method::GET, PATH, Options::default(), Delivery::Buffered)
            .await?;
        let opened = crate::certificates_answer::open(response.bytes(), self.apiv3_key())?;
        // Checked here too, whatever the client's verifier layer is (replaced or removed): the
        // set is trusted only if the answer is signed by a key it holds or one already known.
        let mut keys = self.keys();
        for certificate in &opened {
            keys.insert(certificate.serial_no().to_owned(), certificate.public_key().clone());
        }
        crate::WechatpayVerifier::new(keys)
            .check(&crate::Endpoint::new(Method::GET, PATH), &response)
            .map_err(|check| VerifyError::new(check).with_response(response))?;
        let now = SystemTime::now();
        let certificates: Vec<PlatformCertificate> = opened
            .into_iter()
            .map(PlatformCertificate::from_certificate)
            .filter(|c| c.expires > now)
            .collect();
        if certificates.is_empty() {
            return Err(ConfigError::new(
                "auto_certificates",
                "v3/certificates listed no certificate that is still valid",
            )
            .into());
        }
        Ok(certificates)
    }
}

/// Clears a flag when dropped.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn failed_earlier(reason: &str) -> crate::Error {
    ConfigError::new(
        "auto_certificates",
        format!("the platform certificate download failed and waits before the next try: {reason}"),
    )
    .into()
}

#[cfg(all(test, feature = "emulator"))]
mod tests {
    use super::*;

    fn certificate(serial: u8, from_days: i64, to_days: i64) -> PlatformCertificate {
        PlatformCertificate::from_certificate(crate::emulator::identity::platform_certificate_for_days(
            serial, from_days, to_days,
        ))
    }

    #[test]
    fn expired_and_not_yet_valid_certificates_are_not_used_and_the_newest_valid_one_encrypts() {
        let set = PlatformCertificates::new(&[7; 32], KeyRing::new(), DEFAULT_REFRESH_INTERVAL, None).unwrap();
        let expired = certificate(1, -400, -1);
        let older = certificate(2, -300, 300);
        let newer = certificate(3, -10, 700);
        let future = certificate(4, 5, 900);
        *set.0.loaded.write().unwrap() = Arc::new(Loaded {
            certificates: vec![expired.clone(), older.clone(), newer.clone(), future.clone()],
            at: Some(Instant::now()),
        });
        let keys = set.keys();
        assert!(!keys.contains(&expired.serial));
        assert!(!keys.contains(&future.serial));
        assert!(keys.contains(&older.serial) && keys.contains(&newer.serial));
        assert_eq!(set.newest(), Some(newer.serial));
        assert_eq!(set.downloaded().len(), 4);
    }

    #[test]
    fn debug_output_names_serials_and_never_the_apiv3_key() {
        let set = PlatformCertificates::new(
            b"0123456789abcdef0123456789abcdef",
            KeyRing::new(),
            DEFAULT_REFRESH_INTERVAL,
            None,
        )
        .unwrap();
        let shown = format!("{set:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn a_zero_interval_is_refused() {
        let err = PlatformCertificates::new(&[7; 32], KeyRing::new(), Duration::ZERO, None).unwrap_err();
        assert!(err.is_config());
    }
}
