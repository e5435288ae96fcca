//! A completed HTTP answer.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, Result};

/// An answer from WeChat Pay: status, headers and the whole body (read up to the client's cap).
///
/// By the time a verb returns it, the pipeline has verified the signature (unless the endpoint is
/// an unsigned download) and turned non-2xx statuses into [`Error::Api`](crate::Error::Api).
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Response {
    /// Assembles a response (for middleware and test doubles).
    ///
    /// ```
    /// let r = wechatpay::Response::new(http::StatusCode::OK, http::HeaderMap::new(), "{\"a\":1}");
    /// assert_eq!(r.json::<serde_json::Value>()?["a"], 1);
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn new(status: StatusCode, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers,
            body: body.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body bytes, exactly as received.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body).map_err(|e| DecodeError::utf8("response body", e).into())
    }

    /// The body deserialized from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| DecodeError::json("response body", e).into())
    }

    /// The body parsed as APIv2 XML (root stripped, values as strings).
    pub fn xml(&self) -> Result<serde_json::Value> {
        crate::v2::Transformer::to_array(self.text()?)
    }

    /// The `Request-ID` header WeChat Pay sets on every answer (quote it to support).
    pub fn request_id(&self) -> Option<&str> {
        self.headers.get("Request-ID").and_then(|v| v.to_str().ok())
    }

    /// Takes the body out.
    pub fn into_bytes(self) -> Bytes {
        self.body
    }
}
