//! WeChat Pay's platform certificates as the emulator holds them: the newest signs answers, and
//! older ones stay listed by `v3/certificates` (and accepted for field encryption) until retired,
//! like WeChat Pay's overlap when it rotates a certificate.

use std::sync::{Arc, PoisonError, RwLock};

use super::identity::KeyMaterial;
use crate::crypto::{Certificate, PrivateKey};

/// The certificates served at one moment.
#[derive(Clone)]
pub(crate) struct Served {
    /// Still valid, no longer signing; oldest first.
    older: Vec<KeyMaterial>,
    /// Signs answers.
    newest: KeyMaterial,
}

impl Served {
    /// Every certificate served, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &KeyMaterial> {
        self.older.iter().chain(std::iter::once(&self.newest))
    }

    /// The one that signs answers now.
    pub(crate) fn newest(&self) -> &KeyMaterial {
        &self.newest
    }

    /// The key whose certificate has `serial`.
    pub(crate) fn find(&self, serial: &str) -> Option<&KeyMaterial> {
        self.iter().find(|m| serial_of(m) == serial)
    }
}

pub(crate) fn serial_of(material: &KeyMaterial) -> &str {
    material.certificate().map_or("", Certificate::serial_no)
}

/// The platform certificates, swapped whole so a request sees one consistent set.
pub(super) struct Platforms(RwLock<Arc<Served>>);

impl Platforms {
    pub(super) fn new(first: KeyMaterial) -> Self {
        Self(RwLock::new(Arc::new(Served {
            older: Vec::new(),
            newest: first,
        })))
    }

    /// What is served now.
    pub(super) fn served(&self) -> Arc<Served> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The key and serial that sign answers now.
    pub(super) fn current(&self) -> (PrivateKey, String) {
        let served = self.served();
        (
            served.newest.private_key().clone(),
            serial_of(&served.newest).to_owned(),
        )
    }

    /// Adds `next`, which signs from now on; the previous one stays served.
    pub(super) fn rotate(&self, next: KeyMaterial) {
        let mut served = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let mut older = served.older.clone();
        older.push(served.newest.clone());
        *served = Arc::new(Served { older, newest: next });
    }

    /// Stops serving `serial`, unless it is the newest. Whether it was retired.
    pub(super) fn retire(&self, serial: &str) -> bool {
        let mut served = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let older: Vec<KeyMaterial> = served
            .older
            .iter()
            .filter(|m| serial_of(m) != serial)
            .cloned()
            .collect();
        if older.len() == served.older.len() {
            return false;
        }
        *served = Arc::new(Served {
            older,
            newest: served.newest.clone(),
        });
        true
    }
}
