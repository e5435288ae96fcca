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
}

impl Endpoint {
    /// An endpoint.
    pub fn new(method: Method, template: impl Into<String>) -> Self {
        Self {
            method,
            template: template.into(),
        }
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
