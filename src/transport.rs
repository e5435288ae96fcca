//! The HTTP transport: hyper 1.x through hyper-util's pooled client and hyper-rustls.
//!
//! HTTP/1.1 and HTTP/2 (ALPN), TLS with the crypto backend's rustls provider and webpki roots
//! (native roots with the `native-roots` feature), an optional `http://` proxy reached by
//! CONNECT (for `https://` and `http://` targets alike), one connect timeout over TCP, tunnel and
//! TLS, and pooled connections that idle out before WeChat Pay's 8 s keep-alive
//! closes them (a stale pooled connection is the classic "connection reset" of other SDKs).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use crate::error::{ConfigError, Error, Result, TransportError, TransportKind};
use crate::request::Request;
use crate::response::Response;

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
#[derive(Debug, Clone)]
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

type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Direct or through a proxy tunnel.
#[derive(Clone)]
enum Route {
    Direct(HttpsConnector<HttpConnector>),
    Proxied(HttpsConnector<Tunnel<HttpConnector>>),
}

/// One connector type for the pooled client, with one deadline over TCP, the proxy tunnel and
/// the TLS handshake (the TCP connector's own timeout covers only the first).
#[derive(Clone)]
struct Connector {
    route: Route,
    timeout: Duration,
}

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), BoxError>> {
        match &mut self.route {
            Route::Direct(c) => c.poll_ready(cx),
            Route::Proxied(c) => c.poll_ready(cx),
        }
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting: Self::Future = match &mut self.route {
            Route::Direct(c) => Box::pin(c.call(uri)),
            Route::Proxied(c) => Box::pin(c.call(uri)),
        };
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(result) => result,
                Err(_) => Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting (TCP, proxy tunnel, TLS) took longer than {timeout:?}"),
                )) as BoxError),
            }
        })
    }
}

/// The pooled HTTP client. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub(crate) struct Transport {
    client: Client<Connector, Full<Bytes>>,
    max_body: usize,
    connect_timeout: Duration,
}

fn tls_config(config: &TransportConfig) -> Result<rustls::ClientConfig> {
    let client_auth = config.client_auth.as_ref();
    let builder = rustls::ClientConfig::builder_with_provider(crate::crypto::backend::rustls_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new("tls", e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    #[cfg(feature = "native-roots")]
    {
        let native = rustls_native_certs::load_native_certs();
        if native.certs.is_empty() {
            return Err(ConfigError::new(
                "tls",
                "no root certificates found on this system (feature native-roots)",
            )
            .into());
        }
        roots.add_parsable_certificates(native.certs);
    }
    #[cfg(not(feature = "native-roots"))]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &config.extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| ConfigError::new("root_certificate", format!("not usable as a trust anchor: {e}")))?;
    }
    let builder = builder.with_root_certificates(roots);
    match client_auth {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let cert = rustls::pki_types::CertificateDer::from(cert.clone());
            let key =
                rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(key.to_vec()));
            builder.with_client_auth_cert(vec![cert], key).map_err(|e| {
                ConfigError::new(
                    "merchant_tls",
                    format!("the certificate and key are not usable for TLS: {e}"),
                )
                .into()
            })
        }
    }
}

fn https<C>(tls: rustls::ClientConfig, versions: HttpVersions, inner: C) -> HttpsConnector<C> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    match versions {
        HttpVersions::Any => builder.enable_http1().enable_http2().wrap_connector(inner),
        HttpVersions::Http1Only => builder.enable_http1().wrap_connector(inner),
        HttpVersions::Http2Only => builder.enable_http2().wrap_connector(inner),
    }
}

impl Transport {
    /// Builds the pooled client. Must run inside the shared runtime (the pool spawns tasks).
    pub(crate) fn new(config: &TransportConfig) -> Result<Self> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(config.connect_timeout));
        let tls = tls_config(config)?;
        let route = match &config.proxy {
            None => Route::Direct(https(tls, config.versions, tcp)),
            Some((proxy, auth)) => {
                let tunnel = Tunnel::new(proxy.clone(), tcp);
                let tunnel = match auth {
                    Some(auth) => tunnel.with_auth(auth.clone()),
                    None => tunnel,
                };
                Route::Proxied(https(tls, config.versions, tunnel))
            }
        };
        let connector = Connector {
            route,
            timeout: config.connect_timeout,
        };
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .http2_only(config.versions == HttpVersions::Http2Only);
        Ok(Self {
            client: builder.build(connector),
            max_body: config.max_body,
            connect_timeout: config.connect_timeout,
        })
    }

    /// Sends the request and returns the answer with its body still streaming (downloads).
    pub(crate) async fn send_streaming(&self, request: Request) -> Result<http::Response<hyper::body::Incoming>> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(body));
        self.client
            .request(request)
            .await
            .map_err(|e| request_error(e, self.connect_timeout))
    }

    /// Sends the request and reads the whole body, up to the cap.
    pub(crate) async fn send(&self, request: Request) -> Result<Response> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(body));
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| request_error(e, self.connect_timeout))?;
        let (parts, body) = response.into_parts();
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
    if connect && timed_out {
        return Error::Timeout(connect_timeout);
    }
    let kind = if connect {
        TransportKind::Connect
    } else {
        TransportKind::Io
    };
    TransportError::new(kind, detail, Some(Box::new(e))).into()
}
