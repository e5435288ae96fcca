//! Opening connections: TCP (optionally through an `http://` proxy's CONNECT tunnel), then TLS,
//! under one deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{HttpVersions, TransportConfig};
use crate::error::Result;

pub(super) type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;
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
pub(super) struct Connector {
    route: Route,
    timeout: Duration,
}

impl Connector {
    /// A connector for `config`, presenting `config.client_auth` when set (mutual TLS).
    pub(super) fn new(config: &TransportConfig) -> Result<Self> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(config.connect_timeout));
        let tls = super::tls::client_config(config)?;
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
        Ok(Self {
            route,
            timeout: config.connect_timeout,
        })
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
