//! `signer`: the `Authorization` header, WECHATPAY2-SHA256-RSA2048.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::{ready, BoxFuture};
use http::header::AUTHORIZATION;
use http::{HeaderValue, Method};

use super::{Middleware, Next};
use crate::crypto::{PrivateKey, Rsa};
use crate::error::{ConfigError, Result};
use crate::formatter::Formatter;
use crate::request::{Call, Request};
use crate::response::Response;

/// What is signed: method, request target as sent (path and query) and body bytes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SigningRequest {
    /// The method.
    pub method: Method,
    /// Path and query exactly as sent, e.g. `/v3/pay/transactions/id/42?mchid=1`.
    pub target: String,
    /// The body bytes as sent (the `meta` part for uploads); empty for GET.
    pub body: Bytes,
}

impl SigningRequest {
    /// `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n`, the message WeChat Pay checks.
    pub fn message(&self, timestamp: i64, nonce: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.target.len() + self.body.len() + 64);
        for piece in [
            self.method.as_str().as_bytes(),
            self.target.as_bytes(),
            timestamp.to_string().as_bytes(),
            nonce.as_bytes(),
            &self.body,
        ] {
            out.extend_from_slice(piece);
            out.push(b'\n');
        }
        out
    }
}

/// Produces the `Authorization` header value for a request.
///
/// The default is [`MerchantSigner`] with the merchant private key. Replace it to sign elsewhere —
/// a remote signing service or an HSM — with [`Builder::signer`](crate::Builder::signer); any
/// `Fn(SigningRequest) -> impl Future<Output = Result<String>>` is a signer. It is called for every
/// attempt, so retries are signed afresh.
pub trait Signer: Send + Sync + 'static {
    /// The `Authorization` header value for `request`.
    fn authorization(&self, request: SigningRequest) -> BoxFuture<'static, Result<String>>;
}

impl<F, Fut> Signer for F
where
    F: Fn(SigningRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String>> + Send + 'static,
{
    fn authorization(&self, request: SigningRequest) -> BoxFuture<'static, Result<String>> {
        Box::pin(self(request))
    }
}

type RemoteSign = dyn Fn(Vec<u8>) -> BoxFuture<'static, Result<String>> + Send + Sync;

#[derive(Clone)]
enum KeyHolder {
    Local(PrivateKey),
    Remote(Arc<RemoteSign>),
}

/// The standard signer: a fresh nonce and timestamp per request, RSA-SHA256 over the message,
/// and the `Authorization` header in WeChat Pay's field order.
///
/// ```
/// use wechatpay::{MerchantSigner, Rsa, Signer, SigningRequest};
/// # let key = Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?;
/// // The private key stays in a signing service: only the signature function is given.
/// let remote = MerchantSigner::remote("1900000109", "SERIAL", move |message: Vec<u8>| {
///     let key = key.clone(); // stands in for an RPC to the service
///     async move { Rsa::sign(&message, &key) }
/// });
/// # let _ = remote;
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Clone)]
pub struct MerchantSigner {
    mchid: String,
    serial: String,
    key: KeyHolder,
}

impl MerchantSigner {
    /// Signs with `key`, the merchant API private key whose certificate has serial `serial`.
    pub fn new(mchid: impl Into<String>, serial: impl Into<String>, key: PrivateKey) -> Self {
        Self {
            mchid: mchid.into(),
            serial: serial.into(),
            key: KeyHolder::Local(key),
        }
    }

    /// Signs through `sign`, which receives the message bytes and returns the base64 signature.
    pub fn remote<F, Fut>(mchid: impl Into<String>, serial: impl Into<String>, sign: F) -> Self
    where
        F: Fn(Vec<u8>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String>> + Send + 'static,
    {
        Self {
            mchid: mchid.into(),
            serial: serial.into(),
            key: KeyHolder::Remote(Arc::new(move |message| Box::pin(sign(message)))),
        }
    }
}

impl fmt::Debug for MerchantSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantSigner")
            .field("mchid", &self.mchid)
            .field("serial", &self.serial)
            .field(
                "key",
                &matches!(self.key, KeyHolder::Local(_))
                    .then_some("local")
                    .unwrap_or("remote"),
            )
            .finish()
    }
}

impl Signer for MerchantSigner {
    fn authorization(&self, request: SigningRequest) -> BoxFuture<'static, Result<String>> {
        let nonce = match Formatter::nonce(Formatter::NONCE_SIZE) {
            Ok(n) => n,
            Err(e) => return Box::pin(ready(Err(e))),
        };
        let timestamp = Formatter::timestamp();
        let message = request.message(timestamp, &nonce);
        let header = {
            let (mchid, serial) = (self.mchid.clone(), self.serial.clone());
            move |signature: String| Formatter::authorization(&mchid, &nonce, &signature, timestamp, &serial)
        };
        match &self.key {
            // Local signing is CPU work (~0.3–0.5 ms): do it now, no extra allocation of a task.
            KeyHolder::Local(key) => Box::pin(ready(Rsa::sign(&message, key).map(header))),
            KeyHolder::Remote(sign) => {
                let signing = sign(message);
                Box::pin(async move { signing.await.map(header) })
            }
        }
    }
}

/// In a request's extensions: the bytes the signature covers instead of the body (a multipart
/// upload signs its `meta` JSON: the protocol signs the part describing the file, not the file).
#[derive(Debug, Clone)]
pub(crate) struct SignedBody(pub(crate) Bytes);

/// Adds `Authorization` to `request`, signed by `signer` over the request as it will be sent.
async fn sign(signer: &dyn Signer, request: &mut Request) -> Result<()> {
    let body = match request.extensions().get::<SignedBody>() {
        Some(SignedBody(meta)) => meta.clone(),
        None => request.body().clone(),
    };
    let signing = SigningRequest {
        method: request.method().clone(),
        target: request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
        body,
    };
    let authorization = signer.authorization(signing).await?;
    let mut value = HeaderValue::from_str(&authorization)
        .map_err(|_| ConfigError::new("signer", "the Authorization value is not a valid header value"))?;
    // Keeps it out of `Debug` output of the request (and so out of logs).
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

/// The `signer` layer: builds the [`SigningRequest`] from the request as it will be sent.
/// APIv2 calls pass unchanged: their `sign` is a field of the body, made when it was prepared.
pub(super) struct SignerLayer(pub(super) Arc<dyn Signer>);

impl Middleware for SignerLayer {
    fn handle<'a>(&'a self, mut request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>> {
        if request.extensions().get::<Call>().is_some_and(|call| call.v2.is_some()) {
            return next.run(request);
        }
        Box::pin(async move {
            sign(self.0.as_ref(), &mut request).await?;
            next.run(request).await
        })
    }
}
