//! The one door every call goes through: prepare (options → request), the named layers, the
//! transport, under one timeout.
//!
//! v3 JSON calls, uploads, APIv2 XML calls (mutual-TLS `security` ones included) and streamed
//! downloads all pass here, so a layer added with
//! [`Builder::middleware_before`](crate::Builder::middleware_before) sees every request the client
//! sends. What differs per call is recorded in the request's `Call` extension when it is prepared.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method};
use tracing::Instrument;

use crate::base_uri::BaseUri;
use crate::error::{Error, Result};
use crate::middleware::Stack;
use crate::options::Options;
use crate::prepare::EncryptionSerial;
use crate::request::Call;
use crate::response::Response;
use crate::transport::Transport;

/// How the answer's body is delivered.
#[derive(Debug, Clone, Default)]
pub(crate) enum Delivery {
    /// Read whole (up to the client's cap) before the layers see it.
    #[default]
    Buffered,
    /// A download: the 2xx body stays on the connection for the caller to stream; `origin`
    /// replaces the base URI when the download URL names another WeChat Pay host.
    Streamed {
        /// `https://host[:port]/prefix/`, already checked.
        origin: Option<String>,
    },
}

/// Everything a call needs, shared by every clone of a [`Client`](crate::Client).
pub(crate) struct Pipeline {
    pub(crate) mchid: Option<String>,
    pub(crate) apiv2_key: Option<Arc<zeroize::Zeroizing<String>>>,
    pub(crate) keys: crate::KeyRing,
    /// Downloaded platform certificates (`Builder::auto_certificates`).
    pub(crate) certificates: Option<crate::PlatformCertificates>,
    /// The merchant key, when the default signer holds it (for decrypting fields).
    pub(crate) private_key: Option<crate::PrivateKey>,
    pub(crate) base: BaseUri,
    pub(crate) encryption: EncryptionSerial,
    pub(crate) headers: HeaderMap,
    pub(crate) stack: Stack,
    pub(crate) transport: Transport,
    pub(crate) timeout: Option<Duration>,
}

impl Pipeline {
    /// Prepares the call, runs it through every layer to the transport and back, under the
    /// call's timeout (the `timeout` option, else the client's; zero means none).
    pub(crate) async fn run(
        &self,
        method: Method,
        template: &str,
        options: Options,
        delivery: Delivery,
    ) -> Result<Response> {
        let debug = options.debug;
        let span = crate::call_trace::span(&method, template, debug);
        let started = std::time::Instant::now();
        let result = self
            .run_untraced(method, template, options, delivery)
            .instrument(span.clone())
            .await;
        crate::call_trace::finish(&span, debug, started, &result);
        result
    }

    async fn run_untraced(
        &self,
        method: Method,
        template: &str,
        options: Options,
        delivery: Delivery,
    ) -> Result<Response> {
        options.validate()?;
        // Zero means no timeout, however it was given (Guzzle's `timeout => 0`).
        let timeout = options.timeout.or(self.timeout).filter(|t| !t.is_zero());
        let (origin, streamed) = match delivery {
            Delivery::Buffered => (None, false),
            Delivery::Streamed { origin } => (origin, true),
        };
        let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
        let sending = async move {
            if let EncryptionSerial::Auto { certificates, .. } = &self.encryption {
                // The serial to encrypt with comes from the certificates: download them first
                // (within this call's timeout).
                if crate::catalog::find(method.as_str(), template).is_some_and(|e| e.wechatpay_serial) {
                    certificates.ensure_loaded().await?;
                }
            }
            let mut request = if crate::v2::is_v2(template) {
                crate::v2::prepare(self, method, template, options)?
            } else {
                crate::prepare::v3(self, method, template, options, origin.as_deref())?
            };
            if let Some(call) = request.extensions_mut().get_mut::<Call>() {
                call.streamed = streamed;
                call.deadline = deadline;
            }
            self.stack.run(&self.transport, request).await
        };
        match timeout {
            Some(limit) => tokio::time::timeout(limit, sending)
                .await
                .map_err(|_| Error::Timeout(limit))?,
            None => sending.await,
        }
    }

    /// The client's base URI.
    pub(crate) fn base(&self) -> &BaseUri {
        &self.base
    }

    /// Headers sent with every call (`Builder::default_header`).
    pub(crate) fn default_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Which serial goes into `Wechatpay-Serial`.
    pub(crate) fn encryption(&self) -> &EncryptionSerial {
        &self.encryption
    }

    /// The host an endpoint lives on when it is not the default one, if the client uses the
    /// default base URI (an explicit base URI — an emulator, a proxy — always wins).
    pub(crate) fn routed_host(&self, entry: Option<&'static crate::catalog::Entry>) -> Option<&'static str> {
        let entry = entry.filter(|_| self.base.is_default())?;
        let first = *entry.hosts.first()?;
        (!entry.hosts.contains(&crate::DEFAULT_BASE_URI)).then_some(first)
    }
}

/// The two ways a verb runs the same pipeline future.
impl Pipeline {
    /// A blocking verb: the future driven to completion for this thread (see `runtime::block_on`).
    pub(crate) fn blocking(self: &Arc<Self>, method: Method, template: Arc<str>, options: Options) -> Result<Response> {
        let pipeline = Arc::clone(self);
        crate::runtime::block_on(async move { pipeline.run(method, &template, options, Delivery::Buffered).await })
    }

    /// An async verb: the future, run in the caller's task (see `runtime::in_caller`).
    pub(crate) fn future(
        self: &Arc<Self>,
        method: Method,
        template: Arc<str>,
        options: Options,
    ) -> impl std::future::Future<Output = Result<Response>> + Send + 'static {
        let pipeline = Arc::clone(self);
        crate::runtime::in_caller(async move { pipeline.run(method, &template, options, Delivery::Buffered).await })
    }
}
