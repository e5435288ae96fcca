//! `verifier`: every 2xx answer must carry a valid WeChat Pay signature.

use std::fmt;
use std::sync::Arc;

use futures_util::future::{ready, BoxFuture};

use super::{Middleware, Next};
use crate::catalog::ResponseKind;
use crate::clock::{Clock, SystemClock};
use crate::crypto::backend;
use crate::crypto::hex;
use crate::error::{Result, VerifyCheck, VerifyError};
use crate::key_ring::KeyRing;
use crate::request::{Call, Endpoint, Request};
use crate::response::Response;
use crate::signed_headers::SignedHeaders;

/// Checks a 2xx answer's signature.
///
/// The default is [`WechatpayVerifier`] over the configured keys. Replace it with
/// [`Builder::verifier`](crate::Builder::verifier) (e.g. to ask a remote service); any
/// `Fn(&Endpoint, &Response) -> Result<(), VerifyCheck>` is a verifier.
pub trait Verifier: Send + Sync + 'static {
    /// `Ok(())` if `response` (an answer from `endpoint`) is authentic.
    fn verify<'a>(&'a self, endpoint: &'a Endpoint, response: &'a Response) -> BoxFuture<'a, Result<(), VerifyCheck>>;
}

impl<F> Verifier for F
where
    F: Fn(&Endpoint, &Response) -> Result<(), VerifyCheck> + Send + Sync + 'static,
{
    fn verify<'a>(&'a self, endpoint: &'a Endpoint, response: &'a Response) -> BoxFuture<'a, Result<(), VerifyCheck>> {
        Box::pin(ready(self(endpoint, response)))
    }
}

/// How an endpoint's answers are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    /// `TIMESTAMP\nNONCE\nBODY\n`.
    Body,
    /// Unsigned file downloads.
    Unsigned,
    /// Signed over `{"sha1":"<Wechatpay-Statement-Sha1>"}`; the body must hash to that header.
    StatementSha1,
}

/// How the catalog says an endpoint's answers are signed (column `response`); endpoints outside
/// the catalog are expected to be signed over their body.
fn signing_of(endpoint: &Endpoint) -> Signing {
    match endpoint.catalog_entry().map(|e| e.response) {
        Some(ResponseKind::Download) => Signing::Unsigned,
        Some(ResponseKind::StatementSha1) => Signing::StatementSha1,
        _ => Signing::Body,
    }
}

/// The standard verification: the four `Wechatpay-*` headers, the timestamp within 300 s, a
/// known serial (platform certificate or `PUB_KEY_ID_…`), and the signature over
/// `TIMESTAMP\nNONCE\nBODY\n`. Unsigned downloads pass; statements are checked over
/// `{"sha1":…}` and their body's SHA-1 against `Wechatpay-Statement-Sha1` — which endpoints are
/// which comes from the [catalog](crate::catalog) (`response` = `download` / `statement-sha1`).
#[derive(Clone)]
pub struct WechatpayVerifier {
    keys: KeyRing,
    /// Downloaded, self-refreshing keys (`Builder::auto_certificates`), used instead of `keys`.
    certificates: Option<crate::PlatformCertificates>,
    clock: Arc<dyn Clock>,
}

impl WechatpayVerifier {
    /// Verifies against `keys` with the system clock.
    pub fn new(keys: KeyRing) -> Self {
        Self {
            keys,
            certificates: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Verifies against platform certificates that refresh themselves: an answer naming a
    /// serial they lack downloads them again (once, however many calls meet it), then is
    /// checked. `v3/certificates` answers are checked with the certificates they carry.
    pub fn with_certificates(certificates: crate::PlatformCertificates) -> Self {
        Self {
            keys: KeyRing::new(),
            certificates: Some(certificates),
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the clock (for tests and replays).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The synchronous check, with the keys known now (with self-refreshing certificates, the
    /// ones downloaded so far; [`Verifier::verify`] downloads first when needed).
    pub fn check(&self, endpoint: &Endpoint, response: &Response) -> Result<(), VerifyCheck> {
        match &self.certificates {
            Some(certificates) => self.check_with(&certificates.keys(), endpoint, response),
            None => self.check_with(&self.keys, endpoint, response),
        }
    }

    /// The check against `keys`, with the keys fetched first for self-refreshing certificates.
    async fn verify_live(
        &self,
        certificates: &crate::PlatformCertificates,
        endpoint: &Endpoint,
        response: &Response,
    ) -> Result<(), VerifyCheck> {
        if signing_of(endpoint) == Signing::Unsigned {
            return Ok(());
        }
        if endpoint.method() == http::Method::GET && endpoint.template().trim_start_matches('/') == "v3/certificates" {
            if !response.status().is_success() {
                return Ok(());
            }
            let serial = SignedHeaders::read(response.headers())?.serial;
            return self.check_with(
                &certificates.bootstrap_keys(serial, response.bytes())?,
                endpoint,
                response,
            );
        }
        let serial = SignedHeaders::read(response.headers())?.serial;
        let keys = certificates.keys_for(serial).await?;
        self.check_with(&keys, endpoint, response)
    }

    fn check_with(&self, keys: &KeyRing, endpoint: &Endpoint, response: &Response) -> Result<(), VerifyCheck> {
        let signing = signing_of(endpoint);
        if signing == Signing::Unsigned {
            return Ok(());
        }
        let body = response.bytes();
        if response.status() == http::StatusCode::NO_CONTENT && !body.is_empty() {
            return Err(VerifyCheck::UnexpectedBody(body.len()));
        }
        let signed = SignedHeaders::read(response.headers())?;
        let now = self.clock.now();
        match signing {
            Signing::StatementSha1 => {
                let expected = response
                    .headers()
                    .get("Wechatpay-Statement-Sha1")
                    .and_then(|v| v.to_str().ok())
                    .ok_or(VerifyCheck::MissingHeader("Wechatpay-Statement-Sha1"))?;
                signed.verify(format!("{{\"sha1\":\"{expected}\"}}").as_bytes(), keys, now)?;
                let actual = hex::lower(&backend::sha1(body));
                if !actual.eq_ignore_ascii_case(expected) {
                    return Err(VerifyCheck::StatementDigest {
                        expected: expected.to_owned(),
                        actual,
                    });
                }
                Ok(())
            }
            _ => signed.verify(body, keys, now),
        }
    }
}

impl fmt::Debug for WechatpayVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatpayVerifier")
            .field("keys", &self.keys)
            .field("certificates", &self.certificates)
            .finish_non_exhaustive()
    }
}

impl Verifier for WechatpayVerifier {
    fn verify<'a>(&'a self, endpoint: &'a Endpoint, response: &'a Response) -> BoxFuture<'a, Result<(), VerifyCheck>> {
        match &self.certificates {
            Some(certificates) => Box::pin(self.verify_live(certificates, endpoint, response)),
            None => Box::pin(ready(self.check(endpoint, response))),
        }
    }
}

/// The `verifier` layer: runs the [`Verifier`] on 2xx answers; a failure keeps the response.
/// APIv2 answers are checked the APIv2 way instead (`return_code`, `result_code`, `sign`).
pub(super) struct VerifierLayer(pub(super) Arc<dyn Verifier>);

impl Middleware for VerifierLayer {
    fn handle<'a>(&'a self, request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>> {
        if let Some(v2) = request.extensions().get::<Call>().and_then(|call| call.v2.clone()) {
            return Box::pin(async move {
                let response = next.run(request).await?;
                crate::v2::check(response, v2.entry, &v2.key)
            });
        }
        Box::pin(async move {
            let endpoint = request
                .extensions()
                .get::<Endpoint>()
                .cloned()
                .unwrap_or_else(|| Endpoint::new(request.method().clone(), request.uri().path()));
            let response = next.run(request).await?;
            if !response.status().is_success() {
                return Ok(response);
            }
            match self.0.verify(&endpoint, &response).await {
                Ok(()) => Ok(response),
                Err(check) => Err(VerifyError::new(check).with_response(response).into()),
            }
        })
    }
}
