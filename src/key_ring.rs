//! The WeChat Pay public keys a merchant trusts, by serial.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::crypto::PublicKey;

/// WeChat Pay's verification keys, each under the name answers carry in `Wechatpay-Serial`:
/// a platform-certificate serial, or a `PUB_KEY_ID_…` for the WeChat Pay public key. Both kinds
/// mix freely (merchants migrating from certificates to the public key hold both).
///
/// Cheap to clone; shared by the client's verifier and notification checks.
///
/// ```
/// use wechatpay::{KeyRing, Rsa};
///
/// let ring = KeyRing::new()
///     .with("PUB_KEY_ID_0114232134912410000000000000", Rsa::from_public("file://tests/fixtures/keys/pubkey.pem")?);
/// assert!(ring.get("PUB_KEY_ID_0114232134912410000000000000").is_some());
/// assert!(ring.get("unknown").is_none());
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyRing(Arc<BTreeMap<String, PublicKey>>);

impl KeyRing {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `serial`.
    pub fn with(mut self, serial: impl Into<String>, key: PublicKey) -> Self {
        self.insert(serial, key);
        self
    }

    /// Adds (or replaces) the key for `serial`.
    pub fn insert(&mut self, serial: impl Into<String>, key: PublicKey) {
        Arc::make_mut(&mut self.0).insert(serial.into(), key);
    }

    /// The key for `serial`.
    pub fn get(&self, serial: &str) -> Option<&PublicKey> {
        self.0.get(serial)
    }

    /// Whether `serial` is known.
    pub fn contains(&self, serial: &str) -> bool {
        self.0.contains_key(serial)
    }

    /// The serials and keys, ordered by serial.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &PublicKey)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl<S: Into<String>> FromIterator<(S, PublicKey)> for KeyRing {
    fn from_iter<I: IntoIterator<Item = (S, PublicKey)>>(iter: I) -> Self {
        Self(Arc::new(iter.into_iter().map(|(s, k)| (s.into(), k)).collect()))
    }
}
