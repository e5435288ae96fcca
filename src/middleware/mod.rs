//! The request pipeline: named middleware around the transport, like Guzzle's `HandlerStack`.
//!
//! The default order, outermost first (a request passes down the list, its response back up):
//!
//! | name | on the request | on the response |
//! | --- | --- | --- |
//! | `verifier` | — | checks WeChat Pay's signature on 2xx answers ([`Verifier`]) |
//! | `retry` | sends again when safe, each attempt re-signed ([`RetryPolicy`]) | sees failures |
//! | `rate_limit` | waits for the endpoint's documented rate ([`RateLimits`](crate::RateLimits)) | — |
//! | `http_errors` | — | turns non-2xx answers into [`Error::Api`](crate::Error::Api) |
//! | `signer` | adds `Authorization` ([`Signer`]) | — |
//! | (transport) | sends the bytes | reads the whole body |
//!
//! Insert your own with [`Builder::middleware_before`](crate::Builder::middleware_before) /
//! [`middleware_after`](crate::Builder::middleware_after): the built-in `retry` sits before `signer`, so
//! each attempt is signed afresh; a logging layer after `signer` sees the exact bytes sent.

mod http_errors;
mod rate_limit;
mod retry;
mod signer;
mod verifier;

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

pub(crate) use rate_limit::RateLimitLayer;
pub use retry::RetryPolicy;
pub(crate) use retry::{Failover, RetryLayer};
pub(crate) use signer::SignedBody;
pub use signer::{MerchantSigner, Signer, SigningRequest};
pub use verifier::{Verifier, WechatpayVerifier};

use crate::error::{ConfigError, Result};
use crate::request::Request;
use crate::response::Response;
use crate::transport::Transport;

/// One layer of the pipeline. Implement it, or wrap a closure with [`from_fn`].
pub trait Middleware: Send + Sync + 'static {
    /// Handles `request`, usually by calling `next.run(request)` once (or again, to retry).
    fn handle<'a>(&'a self, request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>>;
}

/// A middleware from a closure (written inline, so its lifetimes are inferred):
///
/// ```
/// use wechatpay::middleware::from_fn;
///
/// let log = from_fn(|request, next| {
///     Box::pin(async move {
///         let target = request.uri().path().to_owned();
///         let response = next.run(request).await;
///         eprintln!("{target}: {:?}", response.as_ref().map(|r| r.status()));
///         response
///     })
/// });
/// # let _ = wechatpay::Builder::new().middleware_after("signer", "log", log);
/// ```
pub fn from_fn<F>(f: F) -> FromFn<F>
where
    F: for<'a> Fn(Request, Next<'a>) -> BoxFuture<'a, Result<Response>> + Send + Sync + 'static,
{
    FromFn(f)
}

/// A closure middleware; see [`from_fn`].
#[derive(Clone)]
pub struct FromFn<F>(F);

impl<F> Middleware for FromFn<F>
where
    F: for<'a> Fn(Request, Next<'a>) -> BoxFuture<'a, Result<Response>> + Send + Sync + 'static,
{
    fn handle<'a>(&'a self, request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>> {
        (self.0)(request, next)
    }
}

/// A closure shows as its name only.
impl<F> fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromFn").finish_non_exhaustive()
    }
}

/// The rest of the pipeline below a middleware. `Copy`, so a retry layer can run it again.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    layers: &'a [Layer],
    transport: &'a Transport,
}

/// The names of the layers still to run.
impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field(
                "layers",
                &self.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<'a> Next<'a> {
    /// Passes `request` to the next layer (finally the transport) and returns its response.
    pub fn run(self, request: Request) -> BoxFuture<'a, Result<Response>> {
        match self.layers.split_first() {
            Some((layer, rest)) => layer.middleware.handle(
                request,
                Next {
                    layers: rest,
                    transport: self.transport,
                },
            ),
            None => Box::pin(self.transport.send(request)),
        }
    }
}

#[derive(Clone)]
struct Layer {
    name: String,
    middleware: Arc<dyn Middleware>,
}

/// The named layers, outermost first.
#[derive(Clone)]
pub(crate) struct Stack {
    layers: Vec<Layer>,
}

impl fmt::Debug for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Stack {
    /// `verifier`, `retry`, `rate_limit`, `http_errors`, `signer`.
    pub(crate) fn new(
        signer: Arc<dyn Signer>,
        verifier: Arc<dyn Verifier>,
        retry: RetryLayer,
        rate_limit: RateLimitLayer,
    ) -> Self {
        let layer = |name: &str, middleware: Arc<dyn Middleware>| Layer {
            name: name.to_owned(),
            middleware,
        };
        Self {
            layers: vec![
                layer("verifier", Arc::new(verifier::VerifierLayer(verifier))),
                layer("retry", Arc::new(retry)),
                layer("rate_limit", Arc::new(rate_limit)),
                layer("http_errors", Arc::new(http_errors::HttpErrors)),
                layer("signer", Arc::new(signer::SignerLayer(signer))),
            ],
        }
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(|l| l.name.as_str())
    }

    fn position(&self, name: &str) -> Result<usize> {
        self.layers.iter().position(|l| l.name == name).ok_or_else(|| {
            ConfigError::new(
                "middleware",
                format!(
                    "no layer named `{name}` (the stack has: {})",
                    self.names().collect::<Vec<_>>().join(", ")
                ),
            )
            .into()
        })
    }

    /// Inserts `middleware` as `name` at `index`; names are unique.
    pub(crate) fn insert(&mut self, index: usize, name: &str, middleware: Arc<dyn Middleware>) -> Result<()> {
        if self.position(name).is_ok() {
            return Err(ConfigError::new("middleware", format!("a layer named `{name}` already exists")).into());
        }
        self.layers.insert(
            index,
            Layer {
                name: name.to_owned(),
                middleware,
            },
        );
        Ok(())
    }

    /// The index just outside (`before`) or inside (`after`) the layer `anchor`.
    pub(crate) fn index_of(&self, anchor: &str, after: bool) -> Result<usize> {
        Ok(self.position(anchor)? + usize::from(after))
    }

    pub(crate) fn remove(&mut self, name: &str) -> Result<()> {
        let at = self.position(name)?;
        self.layers.remove(at);
        Ok(())
    }

    /// Runs `request` through every layer and the transport.
    pub(crate) fn run<'a>(&'a self, transport: &'a Transport, request: Request) -> BoxFuture<'a, Result<Response>> {
        Next {
            layers: &self.layers,
            transport,
        }
        .run(request)
    }
}
