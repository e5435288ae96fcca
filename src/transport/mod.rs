//! The HTTP transport: hyper 1.x through hyper-util's pooled client and hyper-rustls.
//!
//! HTTP/1.1 and HTTP/2 (ALPN), TLS with the crypto backend's rustls provider and webpki roots
//! (native roots with the `native-roots` feature), an optional `http://` proxy reached by
//! CONNECT (for `https://` and `http://` targets alike), one connect timeout over TCP, tunnel and
//! TLS, and pooled connections that idle out before WeChat Pay's 8 s keep-alive
//! closes them (a stale pooled connection is the classic "connection reset" of other SDKs).
//!
//! A request that carries [`Call::mutual_tls`](crate::request::Call) goes out on connections that
//! present the merchant certificate (APIv2 `security` calls); one with `Call::streamed` comes back
//! with its 2xx body unread, for a download to stream.

mod connector;
mod pools;
mod tls;

use std::time::Duration;

use http::Uri;
use http_body_util::{BodyExt, Full, Limited};

use crate::error::{ConfigError, Error, Result, TransportError, TransportKind};
use crate::request::{Call, Request};
use crate::response::Response;
use connector::Connector;
use pools::Pools;

/// WeChat Pay closes idle keep-alive connections after 8 s; ours are dropped well before.
pub(crate) const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which HTTP versions the client may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpVersions {
    /// HTTP/2 where the server offers it (ALPN), else HTTP/1.1. The default.
    #[default]
    Any,
    /// HTTP/1.1 only.
    Http1Only,
    /// HTTP/2 only (ALPN on `https://`, prior knowledge on `http://`).
    Http2Only,
}

/// Transport settings, from the [`Builder`](crate::Builder).
#[derive(Clone)]
pub(crate) struct TransportConfig {
    pub(crate) connect_timeout: Duration,
    pub(crate) versions: HttpVersions,
    pub(crate) proxy: Option<(Uri, Option<http::HeaderValue>)>,
    pub(crate) max_body: usize,
    /// Certificates trusted besides the bundled roots (a TLS-inspecting proxy, the emulator's CA).
    pub(crate) extra_roots: Vec<Vec<u8>>,
    /// A client certificate chain and key (mutual TLS, APIv2 `security` calls).
    pub(crate) client_auth: Option<(Vec<u8>, zeroize::Zeroizing<Vec<u8>>)>,
}

/// Never shows the mutual-TLS key or the proxy's credentials.
impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("versions", &self.versions)
            .field("proxy", &self.proxy.as_ref().map(|(uri, _)| uri))
            .field("max_body", &self.max_body)
            .field("extra_roots", &self.extra_roots.len())
            .field("client_auth", &self.client_auth.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The pooled HTTP client. Cheap to clone; clones share the pools.
#[derive(Clone)]
pub(crate) struct Transport {
    plain: Pools,
    /// Connections presenting the merchant certificate, when one is configured.
    mutual: Option<Pools>,
    max_body: usize,
    connect_timeout: Duration,
}

impl Transport {
    /// The transport for `config`; with `merchant_tls` (certificate, PKCS#8 key), a second set of
    /// connections presents that certificate to calls that ask for it.
    pub(crate) fn new(
        config: &TransportConfig,
        merchant_tls: Option<(Vec<u8>, zeroize::Zeroizing<Vec<u8>>)>,
    ) -> Result<Self> {
        let plain = Pools::new(Connector::new(config)?, config.versions);
        let mutual = match merchant_tls {
            Some(client_auth) => {
                let config = TransportConfig {
                    client_auth: Some(client_auth),
                    ..config.clone()
                };
                Some(Pools::new(Connector::new(&config)?, config.versions))
            }
            None => None,
        };
        Ok(Self {
            plain,
            mutual,
            max_body: config.max_body,
            connect_timeout: config.connect_timeout,
        })
    }

    /// Whether calls asking for mutual TLS can be sent.
    pub(crate) fn has_mutual_tls(&self) -> bool {
        self.mutual.is_some()
    }

    /// Sends the request; reads the whole body up to the cap, unless the request is a streamed
    /// download with a 2xx answer, whose body is left for the download to read.
    pub(crate) async fn send(&self, request: Request) -> Result<Response> {
        let (mutual_tls, streamed) = request
            .extensions()
            .get::<Call>()
            .map_or((false, false), |call| (call.mutual_tls, call.streamed));
        let pools = if mutual_tls {
            self.mutual.as_ref().ok_or_else(|| {
                ConfigError::new(
                    "merchant_tls",
                    "this call needs the merchant API certificate (mutual TLS): Builder::merchant_tls",
                )
            })?
        } else {
            &self.plain
        };
        let client = pools.current()?;
        let (parts, body) = request.into_parts();
        let response = client
            .request(http::Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|e| request_error(e, self.connect_timeout))?;
        let (parts, body) = response.into_parts();
        if streamed && parts.status.is_success() {
            return Ok(Response::streamed(parts.status, parts.headers, body));
        }
        let body = Limited::new(body, self.max_body)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    Error::from(TransportError::new(
                        TransportKind::BodyTooLarge,
                        format!(
                            "the response body is larger than the {} byte cap (Builder::max_response_size)",
                            self.max_body
                        ),
                        Some(e),
                    ))
                } else {
                    Error::from(TransportError::new(
                        TransportKind::Io,
                        format!("reading the response body failed: {e}"),
                        Some(e),
                    ))
                }
            })?
            .to_bytes();
        Ok(Response::new(parts.status, parts.headers, body))
    }
}

/// Connect failures (including a connect timeout) and mid-request failures, told apart.
fn request_error(e: hyper_util::client::legacy::Error, connect_timeout: Duration) -> Error {
    let timed_out = {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut found = false;
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                found |= io.kind() == std::io::ErrorKind::TimedOut;
            }
            found |= err.to_string().contains("timed out");
            source = err.source();
        }
        found
    };
    let connect = e.is_connect();
    let detail = {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(err) = source {
            text.push_str(": ");
            text.push_str(&err.to_string());
            source = err.source();
        }
        text
    };
    let kind = match (connect, timed_out) {
        (true, true) => {
            return TransportError::new(
                TransportKind::ConnectTimeout,
                format!("no connection within the connect timeout of {connect_timeout:?}: {detail}"),
                Some(Box::new(e)),
            )
            .into()
        }
        (true, false) => TransportKind::Connect,
        (false, _) => TransportKind::Io,
    };
    TransportError::new(kind, detail, Some(Box::new(e))).into()
}
