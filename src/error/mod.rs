//! The crate's one error type.
//!
//! Every fallible function returns [`Result<T>`](crate::Result), whose error is [`Error`]. The
//! variants are the kinds a caller acts on differently; each carries a detail type that names
//! exactly what was wrong. Secrets (key material, APIv3/APIv2 keys, plaintexts) never appear in
//! any message.

use std::time::Duration;

mod api;
mod config;
mod crypto;
mod decode;
mod key;
mod retried;
mod template;
mod transport;
mod verify;

pub use api::ApiError;
pub use config::ConfigError;
pub use crypto::CryptoError;
pub use decode::DecodeError;
pub use key::KeyError;
pub use retried::RetriedError;
pub use template::TemplateError;
pub use transport::{TransportError, TransportKind};
pub use verify::{VerifyCheck, VerifyError};

/// `Result<T, wechatpay::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by kind.
///
/// Match on the variant, or ask with the `is_*` predicates:
///
/// ```
/// use wechatpay::{Error, KeyError, Rsa};
///
/// let err = Rsa::from_private("file:///no/such/apiclient_key.pem").unwrap_err();
/// assert!(err.is_key());
/// assert!(matches!(err, Error::Key(KeyError::File { .. })));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid configuration or argument, found before any I/O.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A key or certificate could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A cryptographic operation failed (wrong key size, failed tag check, …).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A WeChat Pay signature check failed; [`VerifyError::check`] says which one.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A body could not be decoded into the expected shape.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A path template could not be expanded (missing or mistyped variable, bad syntax).
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The request did not complete: connection, TLS, I/O, or a body over the size cap.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request took longer than its timeout.
    #[error("the request timed out after {0:?}")]
    Timeout(Duration),
    /// WeChat Pay answered with a non-2xx status.
    #[error(transparent)]
    Api(#[from] Box<ApiError>),
    /// The endpoint's documented rate limit (see [`RateLimits`](crate::RateLimits)) would let the
    /// call go only after its deadline; nothing was sent. The duration is the limit's spacing.
    #[error(
        "the endpoint's rate limit (one call every {0:?}) leaves no slot before the call's timeout; nothing was sent"
    )]
    RateLimited(Duration),
    /// Every attempt of a retried call failed. The `is_*` predicates and accessors answer for the
    /// last attempt's error; [`RetriedError::attempts`] says why each earlier one failed.
    #[error(transparent)]
    Retried(Box<RetriedError>),
}

impl Error {
    /// The error that decides the kind: the last attempt's, for a retried call.
    fn kind(&self) -> &Error {
        match self {
            Error::Retried(retried) => retried.last().kind(),
            other => other,
        }
    }

    /// Invalid configuration or argument.
    pub fn is_config(&self) -> bool {
        matches!(self.kind(), Error::Config(_))
    }

    /// A key or certificate failed to load.
    pub fn is_key(&self) -> bool {
        matches!(self.kind(), Error::Key(_))
    }

    /// A cryptographic operation failed.
    pub fn is_crypto(&self) -> bool {
        matches!(self.kind(), Error::Crypto(_))
    }

    /// A signature verification failed.
    pub fn is_verify(&self) -> bool {
        matches!(self.kind(), Error::Verify(_))
    }

    /// A body did not decode.
    pub fn is_decode(&self) -> bool {
        matches!(self.kind(), Error::Decode(_))
    }

    /// A path template did not expand.
    pub fn is_template(&self) -> bool {
        matches!(self.kind(), Error::Template(_))
    }

    /// The request failed in transport (connect, TLS, I/O, body cap).
    pub fn is_transport(&self) -> bool {
        matches!(self.kind(), Error::Transport(_))
    }

    /// The request (or its connection attempt) timed out.
    pub fn is_timeout(&self) -> bool {
        match self.kind() {
            Error::Timeout(_) => true,
            Error::Transport(e) => e.kind() == TransportKind::ConnectTimeout,
            _ => false,
        }
    }

    /// The client's rate limiting refused the call before sending.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.kind(), Error::RateLimited(_))
    }

    /// WeChat Pay answered with a non-2xx status.
    pub fn is_api(&self) -> bool {
        matches!(self.kind(), Error::Api(_))
    }

    /// The API error (status, code, message, detail, Request-ID), if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self.kind() {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The verification failure, if this is one.
    pub fn verify(&self) -> Option<&VerifyError> {
        match self.kind() {
            Error::Verify(e) => Some(e),
            _ => None,
        }
    }
}
