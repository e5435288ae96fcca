//! Invalid configuration or arguments.

/// An invalid argument or setting, naming the field.
///
/// ```
/// use wechatpay::Hash;
///
/// let err = Hash::sign("SHA1", "a=1", "key").unwrap_err();
/// assert!(err.is_config());
/// assert!(err.to_string().contains("sign_type"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ConfigError {
    field: String,
    reason: String,
}

impl ConfigError {
    /// An error about `field` (e.g. for a custom [`Signer`](crate::Signer) to report).
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The option, argument or builder field that was wrong.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Why it was wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
