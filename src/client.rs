//! `Client`: one pipeline, shared by every chain node and both verb styles.

use std::fmt;
use std::future::Future;
use std::ops::Index;
use std::path::Path;
use std::sync::Arc;

use http::Method;

use crate::chain::{Chain, Nodes};
use crate::download::{BillLocation, Downloaded};
use crate::error::{ConfigError, Result};
use crate::options::Options;
use crate::pipeline::Pipeline;
use crate::response::Response;
use crate::runtime;

/// A WeChat Pay client: cheap to clone (an `Arc` inside), `Send + Sync`, connection pools shared
/// by all clones. Build it with [`Builder`](crate::Builder).
///
/// # Where calls run
///
/// An `_async` verb's future runs the whole pipeline in the task that awaits it; inside a tokio
/// runtime (with I/O and time enabled, as `#[tokio::main]` gives) its connections are opened and
/// driven on that runtime, and on any other executor the future enters the crate's own I/O
/// runtime for sockets and timers. (Inside tokio, that runtime must be running: a future polled
/// by `futures::executor::block_on` on a thread of a runtime that is not driving its I/O never
/// completes; use the blocking verb there.) A blocking verb on a thread outside any runtime
/// drives the same future on a runtime of that thread; called from async code or `spawn_blocking`
/// it hands the future to the crate's I/O runtime and waits for the answer. Connections are pooled per runtime and dropped
/// with it, so one client serves runtimes that come and go.
///
/// Three ways to name a path, one pipeline:
///
/// ```no_run
/// # fn demo(client: wechatpay::Client) -> wechatpay::Result<()> {
/// use serde_json::json;
/// let options = json!({"json": {"out_request_no": "1", "brand_id": "1004"}});
/// client.chain("v3/brand/partner/card-member/user-points/sync").post(&options)?;
/// client["v3/brand/partner/card-member/user-points/sync"].post(&options)?;
/// client.seg("v3").seg("brand").seg("partner").seg("cardMember").seg("userPoints").seg("sync").post(&options)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Pipeline>,
    /// Interned nodes for `client["…"]`; never refers back to the client, so no cycle.
    root: Arc<Nodes>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_uri", &format_args!("{}", self.inner.base()))
            .field("middleware", &self.inner.stack)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(inner: Pipeline) -> Self {
        let inner = Arc::new(inner);
        if let Some(certificates) = &inner.certificates {
            certificates.attach(Arc::downgrade(&inner));
        }
        Self {
            inner,
            root: Arc::default(),
        }
    }

    /// The platform certificates this client downloads and keeps fresh
    /// ([`Builder::auto_certificates`](crate::Builder::auto_certificates)); `None` when they
    /// were not asked for.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # fn main() -> wechatpay::Result<()> {
    /// let client = wechatpay::emulator::Emulator::start()?.client_builder().build()?;
    /// assert!(client.certificates().is_none());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn certificates(&self) -> Option<&crate::PlatformCertificates> {
        self.inner.certificates.as_ref()
    }

    /// The node for a literal path (split on `/`, no case mangling; `{var}` templates allowed).
    pub fn chain(&self, path: &str) -> Chain {
        Chain::root(Arc::clone(&self.inner)).chain(path)
    }

    /// The node for one segment named the PHP way (`cardMember` → `card-member`, `_id_` → `{id}`).
    pub fn seg(&self, segment: &str) -> Chain {
        Chain::root(Arc::clone(&self.inner)).seg(segment)
    }

    /// The typed accessors for every APIv3 endpoint: `client.v3().pay().transactions()…`.
    ///
    /// ```no_run
    /// # fn demo(client: wechatpay::Client) -> wechatpay::Result<()> {
    /// client.v3().pay().transactions().out_trade_no()._out_trade_no_().close()
    ///     .post(serde_json::json!({"out_trade_no": "T1", "json": {"mchid": "1900000109"}}))?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "accessors")]
    #[cfg_attr(docsrs, doc(cfg(feature = "accessors")))]
    pub fn v3(&self) -> crate::catalog::accessors::V3 {
        crate::catalog::accessors::V3(self.chain("v3"))
    }

    /// The typed accessors for every APIv2 endpoint: `client.v2().pay().micropay()…`, sent
    /// through the APIv2 pipeline (XML, `sign`).
    #[cfg(feature = "accessors")]
    #[cfg_attr(docsrs, doc(cfg(feature = "accessors")))]
    pub fn v2(&self) -> crate::catalog::accessors::V2 {
        crate::catalog::accessors::V2(self.chain("v2"))
    }

    /// Encrypts sensitive fields with the WeChat Pay key whose serial the client sends as
    /// `Wechatpay-Serial` (the only key configured, or the one chosen with
    /// [`Builder::encrypt_with`](crate::Builder::encrypt_with)), so ciphertext and header always
    /// match.
    ///
    /// ```
    /// # use wechatpay::{Builder, Rsa};
    /// let client = Builder::new()
    ///     .mchid("1900000109")
    ///     .serial("MERCHANT_SERIAL")
    ///     .private_key(Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?)
    ///     .cert("PUB_KEY_ID_0114232134912410000000000000", Rsa::from_public("file://tests/fixtures/keys/pubkey.pem")?)
    ///     .build()?;
    /// let encryptor = client.encryptor()?;
    /// let name = encryptor.encrypt("张三")?;
    /// assert!(encryptor.serial().starts_with("PUB_KEY_ID_"));
    /// # let _ = name; Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn encryptor(&self) -> Result<Encryptor> {
        if self.inner.certificates.is_none() {
            return self.encryptor_with(&self.inner.keys);
        }
        let client = self.clone();
        runtime::block_on(async move { client.encryptor_async().await })
    }

    /// [`encryptor`](Self::encryptor) for async code: with
    /// [`auto_certificates`](crate::Builder::auto_certificates) it may download them first.
    pub async fn encryptor_async(&self) -> Result<Encryptor> {
        let keys = match self.inner.certificates.clone() {
            Some(certificates) => {
                let loading = certificates.clone();
                runtime::in_caller(async move { loading.ensure_loaded().await }).await?;
                certificates.keys()
            }
            None => self.inner.keys.clone(),
        };
        self.encryptor_with(&keys)
    }

    fn encryptor_with(&self, keys: &crate::KeyRing) -> Result<Encryptor> {
        let serial = self.inner.encryption().header("sensitive-field encryption")?;
        let serial = serial.to_str().unwrap_or_default().to_owned();
        let key = keys
            .get(&serial)
            .cloned()
            .ok_or_else(|| ConfigError::new("encrypt_with", format!("{serial} is not a known WeChat Pay key")))?;
        Ok(Encryptor { serial, key })
    }

    /// Downloads a bill to `destination`, streaming: the signed GET of `bill.download_url` (through
    /// the client's base URI), the body written as it arrives (gunzipped when gzip), its digest
    /// checked against `bill.hash_value`. Only a file whose digest matches is moved to
    /// `destination`; on any failure no file is left behind. The file is created readable by the
    /// owner only (0600 on Unix): a bill holds the merchant's transactions. Memory use does not grow with the
    /// bill's size. Blocking; see [`download_bill_async`](Self::download_bill_async).
    ///
    /// The request goes through the client's middleware like any call; layers see its status and
    /// headers, and a [streamed](Response::is_streamed) body that is written to disk afterwards.
    ///
    /// ```no_run
    /// # fn demo(client: wechatpay::Client) -> wechatpay::Result<()> {
    /// let bill: wechatpay::BillLocation = client
    ///     .chain("v3/bill/tradebill")
    ///     .get(serde_json::json!({"query": {"bill_date": "2026-11-26", "tar_type": "GZIP"}}))?
    ///     .json()?;
    /// let saved = client.download_bill(&bill, "bills/2026-11-26.csv")?;
    /// println!("{} bytes, {}", saved.bytes, saved.digest);
    /// # Ok(()) }
    /// ```
    pub fn download_bill(&self, bill: &BillLocation, destination: impl AsRef<Path>) -> Result<Downloaded> {
        runtime::block_on(crate::download::bill(
            Arc::clone(&self.inner),
            bill.clone(),
            destination.as_ref().to_owned(),
            None,
        ))
    }

    /// [`download_bill`](Self::download_bill), calling `progress` after each chunk with the bytes
    /// received so far and the length the server announced, if it did (for a progress bar).
    ///
    /// ```no_run
    /// # fn demo(client: wechatpay::Client, bill: wechatpay::BillLocation) -> wechatpay::Result<()> {
    /// client.download_bill_with_progress(&bill, "bill.csv", |received, total| {
    ///     eprint!("\r{received} of {} bytes", total.map_or("?".into(), |t| t.to_string()));
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn download_bill_with_progress(
        &self,
        bill: &BillLocation,
        destination: impl AsRef<Path>,
        progress: impl Fn(u64, Option<u64>) + Send + Sync + 'static,
    ) -> Result<Downloaded> {
        runtime::block_on(crate::download::bill(
            Arc::clone(&self.inner),
            bill.clone(),
            destination.as_ref().to_owned(),
            Some(Arc::new(progress)),
        ))
    }

    /// Downloads any file endpoint (`v3/transferdownload/signfile`, complaint images
    /// `v3/merchant-service/images/{media_id}`, …) to `destination`, streamed like
    /// [`download_bill`](Self::download_bill); `path` is a template filled from `options`, and
    /// [`Downloaded::digest`] is the SHA-256 of what was written (these answers carry no hash to
    /// check). Blocking.
    pub fn download(
        &self,
        path: &str,
        options: impl Into<Options>,
        destination: impl AsRef<Path>,
    ) -> Result<Downloaded> {
        runtime::block_on(crate::download::any(
            Arc::clone(&self.inner),
            path.trim_start_matches('/').to_owned(),
            options.into(),
            destination.as_ref().to_owned(),
        ))
    }

    /// [`download`](Self::download), async.
    pub fn download_async(
        &self,
        path: &str,
        options: impl Into<Options>,
        destination: impl AsRef<Path>,
    ) -> impl Future<Output = Result<Downloaded>> + Send + 'static {
        runtime::in_caller(crate::download::any(
            Arc::clone(&self.inner),
            path.trim_start_matches('/').to_owned(),
            options.into(),
            destination.as_ref().to_owned(),
        ))
    }

    /// [`download_bill`](Self::download_bill), async.
    pub fn download_bill_async(
        &self,
        bill: &BillLocation,
        destination: impl AsRef<Path>,
    ) -> impl Future<Output = Result<Downloaded>> + Send + 'static {
        runtime::in_caller(crate::download::bill(
            Arc::clone(&self.inner),
            bill.clone(),
            destination.as_ref().to_owned(),
            None,
        ))
    }

    /// Decrypts a field WeChat Pay encrypted for the merchant (RSA-OAEP with the merchant key).
    /// Needs the private key given to the builder (not a remote signer).
    pub fn decrypt(&self, ciphertext: &str) -> Result<String> {
        let key = self.inner.private_key.as_ref().ok_or_else(|| {
            ConfigError::new(
                "private_key",
                "the client has no merchant private key (a replaced signer): use Rsa::decrypt with your key",
            )
        })?;
        crate::Rsa::decrypt(ciphertext, key)
    }

    /// The middleware names, outermost first.
    pub fn middleware(&self) -> Vec<String> {
        self.inner.stack.names().map(str::to_owned).collect()
    }

    /// Blocking request to `path` (a template) with `method`.
    pub fn request(&self, method: Method, path: &str, options: impl Into<Options>) -> Result<Response> {
        self.inner
            .blocking(method, Arc::from(path.trim_start_matches('/')), options.into())
    }

    /// Async request to `path` (a template) with `method`; the future is `Send + 'static`.
    pub fn request_async(
        &self,
        method: Method,
        path: &str,
        options: impl Into<Options>,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        self.inner
            .future(method, Arc::from(path.trim_start_matches('/')), options.into())
    }
}

/// `client["v3/…"]`: an interned node. Only `&'static str` keys are accepted, so the intern
/// table grows only with the paths written in the program, never with runtime data — put dynamic
/// values in template variables (`client["v3/pay/transactions/id/{transaction_id}"]`).
impl Index<&'static str> for Client {
    type Output = Chain;

    fn index(&self, path: &'static str) -> &Chain {
        match self.root.get(path) {
            Some(node) => node,
            None => self.root.insert(path, Box::new(self.chain(path))),
        }
    }
}

/// Encrypts sensitive fields for WeChat Pay; see [`Client::encryptor`].
#[derive(Clone, Debug)]
pub struct Encryptor {
    serial: String,
    key: crate::PublicKey,
}

impl Encryptor {
    /// The serial or `PUB_KEY_ID_…` to send as `Wechatpay-Serial`.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// RSA-OAEP (SHA-1) ciphertext, base64.
    pub fn encrypt(&self, plaintext: &str) -> Result<String> {
        crate::Rsa::encrypt(plaintext, &self.key)
    }
}
