//! What middleware sees of a request.

use bytes::Bytes;
use http::Method;

/// A request on its way through the pipeline: the exact bytes that will be sent.
///
/// Its extensions carry the [`Endpoint`] it was made for.
pub type Request = http::Request<Bytes>;

/// The endpoint a request was made for: method and path template as chained
/// (`v3/pay/transactions/id/{transaction_id}`), before variables were filled in.
///
/// ```
/// let endpoint = wechatpay::Endpoint::new(http::Method::GET, "v3/pay/transactions/id/{transaction_id}");
/// assert_eq!(endpoint.template(), "v3/pay/transactions/id/{transaction_id}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    method: Method,
    template: String,
    entry: Option<&'static crate::catalog::Entry>,
}

impl Endpoint {
    /// An endpoint.
    pub fn new(method: Method, template: impl Into<String>) -> Self {
        Self {
            method,
            template: template.into(),
            entry: None,
        }
    }

    /// The endpoint's catalog entry, as looked up when the request was prepared.
    pub(crate) fn with_entry(mut self, entry: Option<&'static crate::catalog::Entry>) -> Self {
        self.entry = entry;
        self
    }

    /// The catalog entry: the one found when the request was prepared, else looked up now.
    pub fn catalog_entry(&self) -> Option<&'static crate::catalog::Entry> {
        self.entry
            .or_else(|| crate::catalog::find(self.method.as_str(), &self.template))
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template, without a leading `/`.
    pub fn template(&self) -> &str {
        &self.template
    }
}
