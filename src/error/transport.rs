//! Requests that did not complete.

/// What went wrong in transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection (TCP, proxy tunnel or TLS handshake) could not be made.
    Connect,
    /// The connection was not made within the connect timeout (nothing was sent).
    /// [`Error::is_timeout`](super::Error::is_timeout) is true for it too.
    ConnectTimeout,
    /// The request or response failed mid-way.
    Io,
    /// The response body was larger than the configured cap.
    BodyTooLarge,
}

/// A request that did not complete.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    kind: TransportKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportKind,
        message: impl Into<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }
}
