//! Every attempt of a retried call that failed.

use super::Error;

/// The attempts of a call that failed every time (see [`RetryPolicy`](crate::RetryPolicy)).
///
/// ```
/// # use wechatpay::{Error, RetriedError};
/// # fn show(err: &Error) {
/// if let Error::Retried(retried) = err {
///     eprintln!("{} attempts; earlier failures: {:?}", retried.count(), retried.attempts());
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{} attempts failed ({}); the last: {last}", self.count(), self.earlier())]
pub struct RetriedError {
    attempts: Vec<String>,
    last: Error,
}

impl RetriedError {
    pub(crate) fn new(attempts: Vec<String>, last: Error) -> Self {
        Self { attempts, last }
    }

    /// How many attempts were made.
    pub fn count(&self) -> usize {
        self.attempts.len() + 1
    }

    /// Why each attempt before the last failed, in order.
    pub fn attempts(&self) -> &[String] {
        &self.attempts
    }

    /// The last attempt's error.
    pub fn last(&self) -> &Error {
        &self.last
    }

    fn earlier(&self) -> String {
        self.attempts
            .iter()
            .enumerate()
            .map(|(i, why)| format!("{}: {why}", i + 1))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl From<RetriedError> for Error {
    fn from(e: RetriedError) -> Self {
        Error::Retried(Box::new(e))
    }
}
