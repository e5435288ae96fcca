//! Callback notifications as WeChat Pay sends them: the resource encrypted under the APIv3 key,
//! the envelope signed, ready to check with a webhook handler or to POST to one.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use crate::crypto::{AesGcm, Rsa};
use crate::error::{ConfigError, Result, TransportError, TransportKind};
use crate::formatter::Formatter;

/// A signed, encrypted notification: the exact headers and body WeChat Pay would POST.
#[derive(Clone)]
pub struct SignedNotification {
    /// `Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial`, `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// The body bytes, exactly as signed.
    pub body: Bytes,
}

impl fmt::Debug for SignedNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedNotification")
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

impl SignedNotification {
    /// The headers as an `http::HeaderMap`.
    pub fn header_map(&self) -> HeaderMap {
        self.headers
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    HeaderName::from_bytes(k.as_bytes()).ok()?,
                    HeaderValue::from_str(v).ok()?,
                ))
            })
            .collect()
    }

    /// POSTs it to `url` (your webhook), as WeChat Pay does; returns the status your server
    /// answered. Blocking; see [`post_async`](Self::post_async).
    pub fn post(&self, url: &str) -> Result<StatusCode> {
        crate::runtime::block_on(self.post_async(url))
    }

    /// POSTs it to `url` (your webhook); returns the status your server answered.
    pub fn post_async(&self, url: &str) -> impl std::future::Future<Output = Result<StatusCode>> + Send + 'static {
        let (headers, body, url) = (self.header_map(), self.body.clone(), url.to_owned());
        crate::runtime::in_caller(async move {
            let uri: http::Uri = url
                .parse()
                .map_err(|_| ConfigError::new("url", format!("{url:?} is not a URI")))?;
            let transport = crate::transport::Transport::new(
                &crate::transport::TransportConfig {
                    connect_timeout: std::time::Duration::from_secs(10),
                    versions: crate::transport::HttpVersions::Any,
                    proxy: None,
                    max_body: 1 << 20,
                    client_auth: None,
                    extra_roots: Vec::new(),
                },
                None,
            )?;
            let mut request = http::Request::builder()
                .method(Method::POST)
                .uri(uri)
                .body(body)
                .map_err(|e| TransportError::new(TransportKind::Io, e.to_string(), None))?;
            *request.headers_mut() = headers;
            Ok(transport.send(request).await?.status())
        })
    }
}

/// Encrypts `resource` and signs the envelope with `key` under `serial`.
pub(crate) fn build(
    event_type: &str,
    summary: &str,
    original_type: &str,
    resource: &Value,
    apiv3_key: &[u8],
    key: &crate::crypto::PrivateKey,
    serial: &str,
) -> Result<SignedNotification> {
    let nonce = Formatter::nonce(12)?;
    let ciphertext = AesGcm::encrypt(resource.to_string(), apiv3_key, &nonce, original_type)?;
    let id = format!("EV-{}", Formatter::nonce(20)?);
    let body = json!({
        "id": id,
        "create_time": super::state::now_rfc3339(),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": {
            "original_type": original_type,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": original_type,
            "nonce": nonce,
        }
    })
    .to_string();
    let timestamp = Formatter::timestamp();
    let header_nonce = Formatter::nonce(32)?;
    let signature = Rsa::sign(Formatter::response(timestamp, &header_nonce, &body), key)?;
    Ok(SignedNotification {
        headers: vec![
            ("Wechatpay-Timestamp".into(), timestamp.to_string()),
            ("Wechatpay-Nonce".into(), header_nonce),
            ("Wechatpay-Signature".into(), signature),
            ("Wechatpay-Serial".into(), serial.to_owned()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Bytes::from(body),
    })
}
