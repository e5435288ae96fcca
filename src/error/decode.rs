//! Bodies that did not decode.

/// A body that did not decode.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {what}: {source}")]
pub struct DecodeError {
    what: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl DecodeError {
    pub(crate) fn json(what: &'static str, source: serde_json::Error) -> Self {
        Self {
            what,
            source: Box::new(source),
        }
    }

    /// Keeps only where and what kind of JSON error happened: serde's message may quote values,
    /// and decrypted notification values (openids, bank accounts) must not reach logs.
    pub(crate) fn json_redacted(what: &'static str, source: serde_json::Error) -> Self {
        let summary = format!(
            "{:?} error at line {}, column {} (value details withheld)",
            source.classify(),
            source.line(),
            source.column()
        );
        Self {
            what,
            source: summary.into(),
        }
    }

    /// A body that parsed but says something impossible (`reason` holds no secret values).
    pub(crate) fn invalid(what: &'static str, reason: String) -> Self {
        Self {
            what,
            source: reason.into(),
        }
    }

    pub(crate) fn xml(reason: String) -> Self {
        Self {
            what: "XML",
            source: reason.into(),
        }
    }

    pub(crate) fn utf8(what: &'static str, source: std::str::Utf8Error) -> Self {
        Self {
            what,
            source: Box::new(source),
        }
    }

    /// What was being decoded.
    pub fn what(&self) -> &str {
        self.what
    }
}
