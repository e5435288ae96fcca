//! Platform certificates shared between instances through a [`CertificateStore`].
//!
//! An instance that needs the set reads the store first. If what is there does not answer its
//! question, it takes the store's refresh lock and downloads, or, if another instance holds the
//! lock, waits and reads that instance's result: N instances starting together make one
//! download. A store that cannot answer never blocks anyone: the instance downloads on its own.
//!
//! The stored value is JSON holding the certificates as PEM, when they were downloaded and an
//! HMAC-SHA256 over both with a key derived from the APIv3 key. Anyone who can write to the store
//! but does not hold the APIv3 key cannot make an instance trust a certificate: a value whose MAC
//! does not check is ignored, like a missing one.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::certificate_store::CertificateStore;
use crate::crypto::Certificate;
use crate::error::Result;

/// The longest a refresh lock is held; a lock found held for longer was planted and is taken over.
pub(crate) const MAX_LOCK: Duration = Duration::from_secs(300);

/// How far the writers' clocks may be behind ours for a set they stored while we waited to
/// still count as downloaded after we asked.
const CLOCK_SKEW: Duration = Duration::from_secs(30);

/// How often a waiting instance looks whether the download it waits for has finished.
const POLL: Duration = Duration::from_millis(50);

/// A stored value larger than this is not read (a set holds a few certificates of ~1.5 KB).
const MAX_VALUE: usize = 256 * 1024;

/// At most this many certificates are read from a stored value.
const MAX_CERTIFICATES: usize = 32;

/// Keeps the derived MAC key apart from every other use of the APIv3 key.
const MAC_CONTEXT: &[u8] = b"wechatpay-sdk shared platform certificates v1";

/// What a caller needs the set for, which decides whether a stored set will do.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Want<'a> {
    /// A set downloaded less than this long ago (first use, or the scheduled refresh).
    Fresh(Duration),
    /// A set that holds this serial (an answer or notification named it).
    Serial(&'a str),
    /// A download made after this request (`refresh()`).
    Forced,
}

impl Want<'_> {
    fn answered_by(self, stored: &Stored) -> bool {
        match self {
            Want::Fresh(interval) => stored.age < interval,
            Want::Serial(serial) => stored.certificates.iter().any(|c| c.serial_no() == serial),
            Want::Forced => false,
        }
    }
}

/// A set read from the store.
#[derive(Debug)]
pub(crate) struct Stored {
    /// Unique per download: a changed id means someone downloaded again.
    pub(crate) id: String,
    /// How long ago it was downloaded (zero when the writer's clock is ahead of ours).
    pub(crate) age: Duration,
    /// The certificates that have not expired.
    pub(crate) certificates: Vec<Certificate>,
}

/// What [`Shared::obtain`] found.
#[derive(Debug)]
pub(crate) enum Obtained {
    /// Someone's download answers the question.
    Stored(Stored),
    /// The caller downloads; with a lease it holds the refresh lock and releases it after
    /// [`Shared::publish`].
    Download(Option<Lease>),
}

/// The refresh lock, held. Released by [`Shared::publish`] or [`Shared::release`], or, if the
/// download is dropped (its call timed out), from a task on the crate's runtime, so that the
/// other instances do not wait for the lock to expire.
pub(crate) struct Lease {
    token: String,
    shared: Option<Shared>,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease").finish_non_exhaustive()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let token = std::mem::take(&mut self.token);
        if let Ok(runtime) = crate::runtime::get() {
            runtime.spawn(async move {
                let _ = shared.store.unlock(&shared.lock_key, &token).await;
            });
        }
    }
}

/// One merchant's certificates in a store.
#[derive(Clone)]
pub(crate) struct Shared {
    store: Arc<dyn CertificateStore>,
    key: String,
    lock_key: String,
    /// How long the lock is held at most: as long as a download can take (the call timeout).
    lock_ttl: Duration,
}

impl Shared {
    /// `download_timeout` is the client's timeout (`None`: none), which bounds a download.
    pub(crate) fn new(store: Arc<dyn CertificateStore>, mchid: &str, download_timeout: Option<Duration>) -> Self {
        let key = format!("wechatpay:certificates:{mchid}");
        // The lock outlives the download by a little (the store's own round trips); a client
        // without a timeout holds it a minute, and no client longer than MAX_LOCK.
        let download = download_timeout
            .filter(|t| !t.is_zero())
            .unwrap_or(Duration::from_secs(60));
        Self {
            store,
            lock_key: format!("{key}:lock"),
            key,
            lock_ttl: download
                .saturating_add(Duration::from_secs(1))
                .clamp(Duration::from_secs(2), MAX_LOCK),
        }
    }

    /// A stored set that answers `want`, or the go-ahead to download.
    pub(crate) async fn obtain(&self, want: Want<'_>, apiv3_key: &[u8]) -> Obtained {
        match self.try_obtain(want, apiv3_key).await {
            Ok(obtained) => obtained,
            Err(error) => {
                tracing::warn!(
                    target: "wechatpay",
                    error = %error,
                    "wechatpay: the certificate store is unavailable; downloading the platform certificates alone"
                );
                Obtained::Download(None)
            }
        }
    }

    async fn try_obtain(&self, want: Want<'_>, apiv3_key: &[u8]) -> Result<Obtained> {
        let asked = Instant::now();
        let first = match self.read(apiv3_key).await? {
            Some(stored) if want.answered_by(&stored) => return Ok(Obtained::Stored(stored)),
            other => other,
        };
        // A set stored from now on answers the question, whatever it holds, if it is a new
        // download (not an older set put back) made after we asked.
        let seen = first.map(|stored| stored.id);
        let is_new = |stored: &Stored| {
            seen.as_deref() != Some(stored.id.as_str())
                && (want.answered_by(stored) || stored.age <= asked.elapsed().saturating_add(CLOCK_SKEW))
        };
        let token = random_token()?;
        // Half the lock's life: if its holder died, this caller still has time to download.
        let give_up = asked.checked_add(self.lock_ttl / 2).unwrap_or(asked);
        loop {
            let taken = match self.store.lock(&self.lock_key, &token, self.lock_ttl).await {
                Ok(taken) => taken,
                Err(error) => {
                    // The lock may have been set with its answer lost: let it go, in the background.
                    drop(Lease {
                        token,
                        shared: Some(self.clone()),
                    });
                    return Err(error);
                }
            };
            if taken {
                let lease = Lease {
                    token,
                    shared: Some(self.clone()),
                };
                // Someone may have finished between our read and our lock.
                return match self.read(apiv3_key).await {
                    Ok(Some(stored)) if is_new(&stored) => {
                        self.release(lease).await;
                        Ok(Obtained::Stored(stored))
                    }
                    Ok(_) => Ok(Obtained::Download(Some(lease))),
                    Err(error) => {
                        self.release(lease).await;
                        Err(error)
                    }
                };
            }
            if Instant::now() >= give_up {
                tracing::warn!(
                    target: "wechatpay",
                    waited_ms = crate::clock::millis(self.lock_ttl / 2),
                    "wechatpay: another instance's certificate download did not finish; downloading alone"
                );
                return Ok(Obtained::Download(None));
            }
            tokio::time::sleep(POLL).await;
            if let Some(stored) = self.read(apiv3_key).await?.filter(|stored| is_new(stored)) {
                return Ok(Obtained::Stored(stored));
            }
        }
    }

    /// Stores a set this instance downloaded and verified, then releases the lock, if held.
    pub(crate) async fn publish(&self, lease: Option<Lease>, certificates: &[Certificate], apiv3_key: &[u8]) {
        let saved = async {
            let id = random_token()?;
            let value = encode(&self.key, &id, SystemTime::now(), certificates, apiv3_key);
            let ttl = keep_for(certificates);
            self.store.save(&self.key, value, ttl).await
        };
        if let Err(error) = saved.await {
            tracing::warn!(target: "wechatpay", error = %error, "wechatpay: could not store the platform certificates for other instances");
        }
        if let Some(lease) = lease {
            self.release(lease).await;
        }
    }

    /// Releases the lock (a failure only means the lock expires on its own).
    pub(crate) async fn release(&self, mut lease: Lease) {
        lease.shared = None;
        if let Err(error) = self.store.unlock(&self.lock_key, &lease.token).await {
            tracing::warn!(target: "wechatpay", error = %error, "wechatpay: could not release the certificate refresh lock; it expires on its own");
        }
    }

    /// The stored set, if there is one that checks and holds a certificate still valid.
    async fn read(&self, apiv3_key: &[u8]) -> Result<Option<Stored>> {
        let Some(value) = self.store.load(&self.key).await? else {
            return Ok(None);
        };
        match decode(&self.key, &value, apiv3_key, SystemTime::now()) {
            Ok(stored) if stored.certificates.is_empty() => Ok(None),
            Ok(stored) => Ok(Some(stored)),
            Err(reason) => {
                tracing::warn!(target: "wechatpay", key = %self.key, reason, "wechatpay: ignoring the stored platform certificates");
                Ok(None)
            }
        }
    }
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    crate::crypto::backend::fill_random(&mut bytes)?;
    Ok(crate::crypto::hex::lower(&bytes))
}

/// How long a stored set is kept: until its last certificate expires, at most a week (a set that
/// old is downloaded again anyway).
fn keep_for(certificates: &[Certificate]) -> Duration {
    let now = SystemTime::now();
    certificates
        .iter()
        .filter_map(|c| c.not_after().duration_since(now).ok())
        .max()
        .unwrap_or(Duration::ZERO)
        .clamp(Duration::from_secs(60), Duration::from_secs(7 * 86_400))
}

#[derive(Serialize, Deserialize)]
struct Value {
    version: u32,
    id: String,
    downloaded_at_ms: u64,
    certificates: Vec<String>,
    mac: String,
}

/// The MAC over the store key the value is kept under (so a set cannot be moved to another
/// merchant's key) and everything else in the value, each piece length-prefixed so that no two
/// values share a message.
fn mac(apiv3_key: &[u8], store_key: &str, id: &str, downloaded_at_ms: u64, pems: &[String]) -> Vec<u8> {
    let key = crate::crypto::backend::hmac_sha256(apiv3_key, &[MAC_CONTEXT]);
    let at = downloaded_at_ms.to_string();
    let mut message = Vec::new();
    for piece in [store_key.as_bytes(), id.as_bytes(), at.as_bytes()]
        .into_iter()
        .chain(pems.iter().map(String::as_bytes))
    {
        message.extend_from_slice(&(piece.len() as u64).to_be_bytes());
        message.extend_from_slice(piece);
    }
    crate::crypto::backend::hmac_sha256(&key, &[&message])
}

/// The stored form of a downloaded set.
pub(crate) fn encode(
    store_key: &str,
    id: &str,
    downloaded_at: SystemTime,
    certificates: &[Certificate],
    apiv3_key: &[u8],
) -> Vec<u8> {
    let downloaded_at_ms = downloaded_at.duration_since(UNIX_EPOCH).map_or(0, crate::clock::millis);
    let pems: Vec<String> = certificates.iter().map(Certificate::to_pem).collect();
    let value = Value {
        version: 1,
        id: id.to_owned(),
        downloaded_at_ms,
        mac: crate::crypto::hex::lower(&mac(apiv3_key, store_key, id, downloaded_at_ms, &pems)),
        certificates: pems,
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// Reads a stored value: the reason it is not usable, or its certificates still valid at `now`.
pub(crate) fn decode(
    store_key: &str,
    bytes: &[u8],
    apiv3_key: &[u8],
    now: SystemTime,
) -> std::result::Result<Stored, String> {
    if bytes.len() > MAX_VALUE {
        return Err(format!("{} bytes is more than a stored set holds", bytes.len()));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not a stored set: {e}"))?;
    if value.version != 1 {
        return Err(format!("version {} is not one this client reads", value.version));
    }
    if value.certificates.len() > MAX_CERTIFICATES {
        return Err(format!(
            "{} certificates is more than a set holds",
            value.certificates.len()
        ));
    }
    let expected = crate::crypto::hex::lower(&mac(
        apiv3_key,
        store_key,
        &value.id,
        value.downloaded_at_ms,
        &value.certificates,
    ));
    if !bool::from(expected.as_bytes().ct_eq(value.mac.as_bytes())) {
        return Err("the MAC does not check with this APIv3 key".into());
    }
    let mut certificates = Vec::with_capacity(value.certificates.len());
    for pem in &value.certificates {
        let certificate = Certificate::from_bytes(pem).map_err(|e| format!("a certificate does not load: {e}"))?;
        if certificate.not_before() <= now && now < certificate.not_after() {
            certificates.push(certificate);
        }
    }
    let downloaded_at = UNIX_EPOCH + Duration::from_millis(value.downloaded_at_ms);
    Ok(Stored {
        id: value.id,
        age: now.duration_since(downloaded_at).unwrap_or(Duration::ZERO),
        certificates,
    })
}

/// `bytes` with its MAC made good for `apiv3_key`, if it has a stored set's shape: lets the fuzz
/// target reach what is read after the MAC check.
#[cfg(any(all(test, feature = "emulator"), feature = "fuzzing"))]
pub(crate) fn reseal(store_key: &str, bytes: &[u8], apiv3_key: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    value.mac = crate::crypto::hex::lower(&mac(
        apiv3_key,
        store_key,
        &value.id,
        value.downloaded_at_ms,
        &value.certificates,
    ));
    serde_json::to_vec(&value).ok()
}

#[cfg(all(test, feature = "emulator"))]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const K: &str = "wechatpay:certificates:1900000109";

    fn certificate(serial: u8, from_days: i64, to_days: i64) -> Certificate {
        crate::emulator::identity::platform_certificate_for_days(serial, from_days, to_days)
    }

    #[test]
    fn a_stored_set_reads_back_with_its_age_and_without_expired_certificates() {
        let valid = certificate(1, -1, 300);
        let expired = certificate(2, -300, -1);
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let value = encode(K, "id-1", an_hour_ago, &[valid.clone(), expired], KEY);
        let stored = decode(K, &value, KEY, SystemTime::now()).unwrap();
        assert_eq!(stored.id, "id-1");
        assert!(stored.age >= Duration::from_secs(3600) && stored.age < Duration::from_secs(3660));
        let serials: Vec<&str> = stored.certificates.iter().map(Certificate::serial_no).collect();
        assert_eq!(serials, [valid.serial_no()]);
        // A writer whose clock is ahead: age zero, not an error.
        let ahead = encode(K, "id-2", SystemTime::now() + Duration::from_secs(60), &[valid], KEY);
        assert_eq!(decode(K, &ahead, KEY, SystemTime::now()).unwrap().age, Duration::ZERO);
    }

    #[test]
    fn a_set_does_not_read_with_another_key_or_once_anything_in_it_changed() {
        let value = encode(K, "id", SystemTime::now(), &[certificate(1, -1, 300)], KEY);
        let other_key = [b'x'; 32];
        assert!(decode(K, &value, &other_key, SystemTime::now())
            .unwrap_err()
            .contains("MAC"));
        let original: serde_json::Value = serde_json::from_slice(&value).unwrap();
        let changes: [(&str, serde_json::Value); 3] = [
            ("id", "another".into()),
            ("downloaded_at_ms", 1.into()),
            ("certificates", vec![certificate(3, -1, 300).to_pem()].into()),
        ];
        for (field, changed) in changes {
            let mut tampered = original.clone();
            tampered[field] = changed;
            let tampered = serde_json::to_vec(&tampered).unwrap();
            let error = decode(K, &tampered, KEY, SystemTime::now()).unwrap_err();
            assert!(error.contains("MAC"), "{field}: {error}");
            // Only the MAC stood in the way.
            assert!(decode(K, &reseal(K, &tampered, KEY).unwrap(), KEY, SystemTime::now()).is_ok());
        }
    }

    #[test]
    fn malformed_values_are_refused_with_a_reason_and_never_quote_the_key() {
        let mut version_two: serde_json::Value =
            serde_json::from_slice(&encode(K, "id", SystemTime::now(), &[], KEY)).unwrap();
        version_two["version"] = 2.into();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{".to_vec(), "not a stored set"),
            (vec![b' '; MAX_VALUE + 1], "more than a stored set holds"),
            (serde_json::to_vec(&version_two).unwrap(), "version 2"),
        ];
        for (value, reason) in cases {
            let error = decode(K, &value, KEY, SystemTime::now()).unwrap_err();
            assert!(error.contains(reason), "{error}");
            assert!(!error.contains("0123456789abcdef"));
        }
    }

    #[test]
    fn a_stored_set_answers_by_age_or_serial_and_never_a_forced_refresh() {
        let stored = Stored {
            id: "id".into(),
            age: Duration::from_secs(10),
            certificates: vec![certificate(1, -1, 300)],
        };
        let serial = stored.certificates[0].serial_no().to_owned();
        assert!(Want::Fresh(Duration::from_secs(11)).answered_by(&stored));
        assert!(!Want::Fresh(Duration::from_secs(10)).answered_by(&stored));
        assert!(Want::Serial(&serial).answered_by(&stored));
        assert!(!Want::Serial("ABC").answered_by(&stored));
        assert!(!Want::Forced.answered_by(&stored));
    }
}
