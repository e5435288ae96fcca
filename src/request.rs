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

/// How the pipeline treats a request beyond its bytes, set when it is prepared and read by the
/// built-in layers and the transport (a user's layer sees the request, not this).
#[derive(Clone, Default)]
pub(crate) struct Call {
    /// An APIv2 call: signed inside its body, answered in XML checked with the APIv2 key.
    pub(crate) v2: Option<V2Call>,
    /// Send it on connections that present the merchant certificate.
    pub(crate) mutual_tls: bool,
    /// A download: a 2xx body is left unread for the caller to stream.
    pub(crate) streamed: bool,
    /// When the call's timeout runs out (a rate-limit wait must end before).
    pub(crate) deadline: Option<std::time::Instant>,
}

/// What the `verifier` layer needs to check an APIv2 answer.
#[derive(Clone)]
pub(crate) struct V2Call {
    pub(crate) key: std::sync::Arc<zeroize::Zeroizing<String>>,
    pub(crate) entry: Option<&'static crate::catalog::Entry>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("v2", &self.v2.is_some())
            .field("mutual_tls", &self.mutual_tls)
            .field("streamed", &self.streamed)
            .field("deadline", &self.deadline)
            .finish()
    }
}
