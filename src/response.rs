//! A completed HTTP answer.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, Result};

/// An answer from WeChat Pay: status, headers and the whole body (read up to the client's cap).
///
/// By the time a verb returns it, the pipeline has verified the signature (unless the endpoint is
/// an unsigned download) and turned non-2xx statuses into [`Error::Api`](crate::Error::Api).
///
/// Middleware also sees the answers of [`Client::download_bill`](crate::Client::download_bill) and
/// [`Client::download`](crate::Client::download): those are [streamed](Self::is_streamed), their
/// body is written to disk after the pipeline returns and [`bytes`](Self::bytes) is empty.
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// A download's unread body, taken once by the download.
    stream: Option<Arc<Mutex<Option<hyper::body::Incoming>>>>,
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
            stream: None,
        }
    }

    /// A download's answer, its body still on the connection.
    pub(crate) fn streamed(status: StatusCode, headers: HeaderMap, body: hyper::body::Incoming) -> Self {
        Self {
            status,
            headers,
            body: Bytes::new(),
            stream: Some(Arc::new(Mutex::new(Some(body)))),
        }
    }

    /// Whether the body is a download's stream, read after the pipeline returns rather than
    /// held here ([`bytes`](Self::bytes) is then empty).
    ///
    /// ```
    /// let r = wechatpay::Response::new(http::StatusCode::OK, http::HeaderMap::new(), "{}");
    /// assert!(!r.is_streamed());
    /// ```
    pub fn is_streamed(&self) -> bool {
        self.stream.is_some()
    }

    /// Takes a download's body stream (once).
    pub(crate) fn take_stream(&self) -> Option<hyper::body::Incoming> {
        let slot = self.stream.as_ref()?;
        slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, for a layer that adds or rewrites some on the way back.
    ///
    /// ```
    /// let mut r = wechatpay::Response::new(http::StatusCode::OK, http::HeaderMap::new(), "");
    /// r.headers_mut().insert("x-cache", http::HeaderValue::from_static("hit"));
    /// assert_eq!(r.headers()["x-cache"], "hit");
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
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
