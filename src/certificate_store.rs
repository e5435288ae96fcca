//! `CertificateStore`: where one instance's downloaded platform certificates wait for the others.
//!
//! The client puts only certificates (public) there, with a MAC keyed from the APIv3 key so that
//! whoever can write to the store cannot slip in a certificate of their own; never a private key
//! or the APIv3 key. The protocol on top (who downloads, who waits) is in `shared_certificates`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::{ready, BoxFuture};

use crate::error::Result;

/// Values and locks with a time to live, shared by every instance that uses the same store, so
/// that instances built with [`Builder::auto_certificates`](crate::Builder::auto_certificates)
/// make one `v3/certificates` download between them.
///
/// `RedisStore` (feature `redis`) implements it across processes,
/// [`InProcessStore`](crate::InProcessStore) across the clients of one process. Give one to
/// [`Builder::store`](crate::Builder::store), which uses it for the rate limits too.
///
/// An implementation returns `Err` when it cannot answer (unreachable, slow); the client then
/// downloads on its own.
///
/// ```
/// use std::time::Duration;
/// use wechatpay::{CertificateStore, InProcessStore};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = InProcessStore::new();
/// assert!(store.lock("refresh", "me", Duration::from_secs(5)).await?);
/// assert!(!store.lock("refresh", "someone else", Duration::from_secs(5)).await?);
/// store.save("set", b"certificates".to_vec(), Duration::from_secs(60)).await?;
/// store.unlock("refresh", "me").await?;
/// assert_eq!(store.load("set").await?.as_deref(), Some(&b"certificates"[..]));
/// # Ok::<(), wechatpay::Error>(()) }).unwrap();
/// ```
pub trait CertificateStore: Send + Sync + 'static {
    /// The value saved under `key`, if there is one that has not expired.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>>>;

    /// Saves `value` under `key`, for `ttl`.
    fn save<'a>(&'a self, key: &'a str, value: Vec<u8>, ttl: Duration) -> BoxFuture<'a, Result<()>>;

    /// Takes lock `key` for `ttl` on behalf of `token`, unless someone holds it; `true` when taken.
    fn lock<'a>(&'a self, key: &'a str, token: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool>>;

    /// Releases lock `key` if `token` still holds it (a lock that expired and was taken by
    /// someone else stays theirs).
    fn unlock<'a>(&'a self, key: &'a str, token: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// A store shared by several builders (`Arc<InProcessStore>`, …).
impl<T: CertificateStore + ?Sized> CertificateStore for Arc<T> {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        (**self).load(key)
    }

    fn save<'a>(&'a self, key: &'a str, value: Vec<u8>, ttl: Duration) -> BoxFuture<'a, Result<()>> {
        (**self).save(key, value, ttl)
    }

    fn lock<'a>(&'a self, key: &'a str, token: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool>> {
        (**self).lock(key, token, ttl)
    }

    fn unlock<'a>(&'a self, key: &'a str, token: &'a str) -> BoxFuture<'a, Result<()>> {
        (**self).unlock(key, token)
    }
}

/// Values and locks in this process's memory (the certificate half of `InProcessStore`).
#[derive(Debug, Default)]
pub(crate) struct LocalValues {
    /// Per key: the value and when it expires.
    values: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
    /// Per lock: the holder's token and when the lock expires.
    locks: Mutex<HashMap<String, (String, Instant)>>,
}

impl LocalValues {
    fn load(&self, key: &str) -> Option<Vec<u8>> {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(value, _)| value.clone())
    }

    fn save(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        let now = Instant::now();
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.retain(|_, (_, until)| now < *until);
        if let Some(until) = now.checked_add(ttl) {
            values.insert(key.to_owned(), (value, until));
        }
    }

    fn lock(&self, key: &str, token: &str, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.retain(|_, (_, until)| now < *until);
        if locks.contains_key(key) {
            return false;
        }
        let until = now.checked_add(ttl).unwrap_or(now);
        locks.insert(key.to_owned(), (token.to_owned(), until));
        true
    }

    fn unlock(&self, key: &str, token: &str) {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if locks.get(key).is_some_and(|(holder, _)| holder == token) {
            locks.remove(key);
        }
    }
}

impl CertificateStore for crate::InProcessStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        Box::pin(ready(Ok(self.values().load(key))))
    }

    fn save<'a>(&'a self, key: &'a str, value: Vec<u8>, ttl: Duration) -> BoxFuture<'a, Result<()>> {
        self.values().save(key, value, ttl);
        Box::pin(ready(Ok(())))
    }

    fn lock<'a>(&'a self, key: &'a str, token: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool>> {
        Box::pin(ready(Ok(self.values().lock(key, token, ttl))))
    }

    fn unlock<'a>(&'a self, key: &'a str, token: &'a str) -> BoxFuture<'a, Result<()>> {
        self.values().unlock(key, token);
        Box::pin(ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_held_until_released_by_its_holder_or_expired() {
        let local = LocalValues::default();
        assert!(local.lock("l", "a", Duration::from_secs(60)));
        assert!(!local.lock("l", "b", Duration::from_secs(60)));
        local.unlock("l", "b");
        assert!(
            !local.lock("l", "b", Duration::from_secs(60)),
            "only the holder releases"
        );
        local.unlock("l", "a");
        assert!(local.lock("l", "b", Duration::ZERO));
        assert!(local.lock("l", "c", Duration::from_secs(60)), "an expired lock is free");
    }

    #[test]
    fn a_value_expires() {
        let local = LocalValues::default();
        local.save("k", b"v".to_vec(), Duration::from_secs(60));
        assert_eq!(local.load("k").as_deref(), Some(&b"v"[..]));
        local.save("k", b"w".to_vec(), Duration::ZERO);
        assert_eq!(local.load("k"), None);
    }
}
