//! `Client`: one pipeline, shared by every chain node and both verb styles.

use std::fmt;
use std::future::Future;
use std::ops::Index;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use std::path::Path;

use crate::chain::{Chain, Nodes};
use crate::download::{BillLocation, Downloaded};
use crate::error::{ConfigError, Error, Result};
use crate::middleware::SignedBody;
use crate::middleware::Stack;
use crate::options::Options;
use crate::request::{Endpoint, Request};
use crate::response::Response;
use crate::transport::Transport;
use crate::{runtime, template};

const JSON: &str = "application/json; charset=utf-8";
const WECHATPAY_SERIAL: &str = "Wechatpay-Serial";

/// The base URI split for joining: `https://host[:port]` and a path prefix ending in `/`.
#[derive(Debug, Clone)]
pub(crate) struct BaseUri {
    origin: String,
    prefix: String,
}

impl BaseUri {
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let shown = crate::redact::userinfo(text);
        let bad = |reason: &str| ConfigError::new("base_uri", format!("{shown:?} {reason}"));
        let uri: Uri = text.parse().map_err(|_| bad("is not a URI"))?;
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(bad("must not carry credentials (user:password@)").into());
        }
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s,
            _ => return Err(bad("must start with https:// (or http:// for a local emulator)").into()),
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if uri.query().is_some() {
            return Err(bad("must not have a query").into());
        }
        let mut prefix = uri.path().to_owned();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Self {
            origin: format!("{scheme}://{authority}"),
            prefix,
        })
    }

    /// Whether this is WeChat Pay's production base URI.
    pub(crate) fn is_default(&self) -> bool {
        format!("{}{}", self.origin, self.prefix) == crate::DEFAULT_BASE_URI
    }

    fn join(&self, path: &str, query: Option<&str>) -> String {
        let mut url = format!("{}{}{}", self.origin, self.prefix, path.trim_start_matches('/'));
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            // A path that already has a query (`…/file?token=…`) gets the option's parameters after it.
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(q);
        }
        url
    }
}

/// Parses a header, naming it in the error.
pub(crate) fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ConfigError::new(format!("headers.{name}"), "is not a valid header name"))?;
    let header_value = HeaderValue::from_str(value)
        .map_err(|_| ConfigError::new(format!("headers.{name}"), "is not a valid header value"))?;
    Ok((header_name, header_value))
}

/// Headers the transport and the signer own: framing and routing (a caller's value would make the
/// bytes on the wire differ from the bytes signed, or smuggle a second request) and
/// `Authorization` (the signer's; to send your own, replace the signer with `Builder::signer`).
const RESERVED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "authorization",
];

/// A header from the `headers` option or `Builder::default_header`: parsed, naming it in the
/// error, and refused if the transport or the signer owns it.
pub(crate) fn caller_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let (header_name, header_value) = header_pair(name, value)?;
    if RESERVED_HEADERS.contains(&header_name.as_str()) {
        let reason = if header_name == http::header::AUTHORIZATION {
            "is set by the signer on every request; to send your own, replace the signer (Builder::signer)"
        } else {
            "is set by the transport from the body and the URL; it cannot be given as an option"
        };
        return Err(ConfigError::new(format!("headers.{name}"), reason).into());
    }
    Ok((header_name, header_value))
}

/// Which key's serial goes into `Wechatpay-Serial` when an endpoint requires it.
#[derive(Debug, Clone)]
pub(crate) enum EncryptionSerial {
    /// One key configured, or the one chosen with `Builder::encrypt_with`.
    Chosen(String),
    /// Several keys and no choice.
    Ambiguous(Vec<String>),
    /// No key (a replaced verifier without certs).
    NoKey,
}

pub(crate) struct ClientInner {
    /// The merchant id (APIv2 checks and signs with it).
    pub(crate) mchid: Option<String>,
    /// The APIv2 key.
    pub(crate) apiv2_key: Option<zeroize::Zeroizing<String>>,
    /// The transport that presents the merchant certificate (APIv2 `security` calls).
    pub(crate) tls_transport: Option<Transport>,
    /// The signer, also used on its own by streamed downloads.
    pub(crate) signer: Arc<dyn crate::Signer>,
    /// WeChat Pay's keys (for sensitive-field encryption).
    pub(crate) keys: crate::KeyRing,
    /// The merchant key, when the default signer holds it (for decrypting fields).
    pub(crate) private_key: Option<crate::PrivateKey>,
    pub(crate) base: BaseUri,
    /// The base URI is WeChat Pay's default, so endpoints on other hosts go there.
    pub(crate) default_base: bool,
    pub(crate) encryption: EncryptionSerial,
    pub(crate) headers: HeaderMap,
    pub(crate) stack: Stack,
    pub(crate) transport: Transport,
    pub(crate) timeout: Option<Duration>,
}

impl ClientInner {
    /// Options → the exact request to send. Every input error surfaces here, before any I/O.
    pub(crate) fn prepare(
        &self,
        method: Method,
        template: &str,
        options: Options,
    ) -> Result<(Request, Option<Duration>)> {
        options.validate()?;
        for (key, given) in [
            ("xml", options.xml.is_some()),
            ("security", options.security.is_some()),
            ("nonceless", options.nonceless),
        ] {
            if given {
                return Err(ConfigError::new(key, "is an APIv2 option: it applies to v2/… paths only").into());
            }
        }
        // chain() joins segments with one `/`, so `https://host/…` arrives as `https:/host/…`.
        let first = template.split('/').next().unwrap_or_default().to_ascii_lowercase();
        if template.contains("://") || first == "http:" || first == "https:" {
            return Err(ConfigError::new(
                "path",
                format!(
                    "{:?} is an absolute URL; chain() takes a path such as v3/pay/transactions/native. To fetch a \
                     download_url use Client::download_bill (bills) or Client::download (other files)",
                    crate::signed_headers::excerpt(&crate::redact::userinfo(template))
                ),
            )
            .into());
        }
        crate::option_keys::check(template, &options.variables)?;
        let path = template::expand(template, &options.variables)?;
        let entry = crate::catalog::find(method.as_str(), template);
        // Endpoints that live on another host (apihk, …/hk/) go there under the default base
        // URI; an explicit base URI (an emulator, a proxy) always wins.
        let overridden = options.base_override.as_deref().map(BaseUri::parse).transpose()?;
        let routed = self.routed_host(entry).map(BaseUri::parse).transpose()?;
        let url = overridden
            .as_ref()
            .or(routed.as_ref())
            .unwrap_or(&self.base)
            .join(&path, options.query.as_deref());
        let uri: Uri = url
            .parse()
            .map_err(|e| ConfigError::new("path", format!("{url:?} is not a valid URI: {e}")))?;
        let mut signed_body = options.signed_body;
        let mut multipart = None;
        if let Some(media) = options.media {
            if let Some(limit) = crate::media::size_limit(template) {
                if media.len() > limit {
                    return Err(ConfigError::new(
                        "file",
                        format!(
                            "{} bytes is over the {} MiB that {template} accepts",
                            media.len(),
                            limit >> 20
                        ),
                    )
                    .into());
                }
            }
            // Part names and order as the catalog documents them for this endpoint.
            let (file_part, file_first) = media.layout(entry.map_or(&[][..], |e| e.form_fields));
            signed_body = Some(media.meta_bytes());
            multipart = Some((media.body_with(&file_part, file_first), media.content_type()));
        }
        let multipart_type = multipart.as_ref().map(|(_, content_type)| content_type.clone());
        let body = match (multipart, options.json, options.body) {
            (Some((multipart, _)), _, _) => multipart,
            (None, Some(json), _) => {
                Bytes::from(serde_json::to_vec(&json).map_err(|e| ConfigError::new("json", e.to_string()))?)
            }
            (None, None, Some(body)) => body,
            (None, None, None) => Bytes::new(),
        };
        let mut headers = self.headers.clone();
        if let Some(content_type) = multipart_type {
            let (name, value) = header_pair("Content-Type", &content_type)?;
            headers.insert(name, value);
        } else if !body.is_empty() && signed_body.is_none() && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        }
        for (name, value) in &options.headers {
            let (name, value) = caller_header(name, value)?;
            headers.insert(name, value);
        }
        if entry.is_some_and(|e| e.wechatpay_serial) && !headers.contains_key(WECHATPAY_SERIAL) {
            headers.insert(WECHATPAY_SERIAL, self.encryption_serial(template)?);
        }
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(body)
            .map_err(|e| ConfigError::new("request", e.to_string()))?;
        *request.headers_mut() = headers;
        // The endpoint carries its catalog entry, so the verifier need not look it up again.
        request
            .extensions_mut()
            .insert(Endpoint::new(method, template).with_entry(entry));
        if let Some(meta) = signed_body {
            request.extensions_mut().insert(SignedBody(meta));
        }
        // Zero means no timeout, however it was given (Guzzle's `timeout => 0`).
        let timeout = options.timeout.or(self.timeout).filter(|t| !t.is_zero());
        Ok((request, timeout))
    }

    /// The host an endpoint lives on when it is not the default one, if the client uses the
    /// default base URI (an explicit base URI — an emulator, a proxy — always wins).
    pub(crate) fn routed_host(&self, entry: Option<&'static crate::catalog::Entry>) -> Option<&'static str> {
        let entry = entry.filter(|_| self.default_base)?;
        let first = *entry.hosts.first()?;
        (!entry.hosts.contains(&crate::DEFAULT_BASE_URI)).then_some(first)
    }

    /// The base URI as given (normalised with a trailing `/`).
    pub(crate) fn base_uri(&self) -> String {
        format!("{}{}", self.base.origin, self.base.prefix)
    }

    /// The serial to send with encrypted fields, or why there is none.
    fn encryption_serial(&self, template: &str) -> Result<HeaderValue> {
        let reason = match &self.encryption {
            EncryptionSerial::Chosen(serial) => {
                return HeaderValue::from_str(serial).map_err(|_| {
                    ConfigError::new("Wechatpay-Serial", format!("{serial:?} is not a valid header value")).into()
                })
            }
            EncryptionSerial::Ambiguous(serials) => format!(
                "{template} needs it, and several WeChat Pay keys are configured ({}): choose the one you encrypt with \
                 (Builder::encrypt_with), or send the header yourself",
                serials.join(", ")
            ),
            EncryptionSerial::NoKey => {
                format!("{template} needs it, and no WeChat Pay key is configured: add one with Builder::cert")
            }
        };
        Err(ConfigError::new("Wechatpay-Serial", reason).into())
    }

    /// The pipeline, as one `'static` future: prepare, run every layer, apply the timeout.
    pub(crate) fn send(
        self: &Arc<Self>,
        method: Method,
        template: Arc<str>,
        options: Options,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        let inner = Arc::clone(self);
        async move {
            if crate::v2::client::is_v2(&template) {
                return crate::v2::client::send(inner, method, template, options).await;
            }
            let (request, timeout) = inner.prepare(method, &template, options)?;
            let run = inner.stack.run(&inner.transport, request);
            match timeout {
                Some(limit) => tokio::time::timeout(limit, run)
                    .await
                    .map_err(|_| Error::Timeout(limit))?,
                None => run.await,
            }
        }
    }

    /// Blocking: the same future, run on the I/O runtime while this thread waits.
    pub(crate) fn blocking(self: &Arc<Self>, method: Method, template: Arc<str>, options: Options) -> Result<Response> {
        runtime::block_on(self.send(method, template, options))
    }

    /// Async: the same future, run on the I/O runtime and awaited from any executor.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        method: Method,
        template: Arc<str>,
        options: Options,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        let future = self.send(method, template, options);
        async move { runtime::spawn(future)?.await }
    }
}

/// A WeChat Pay APIv3 client: cheap to clone (an `Arc` inside), `Send + Sync`, one connection
/// pool shared by all clones. Build it with [`Builder`](crate::Builder).
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
    inner: Arc<ClientInner>,
    /// Interned nodes for `client["…"]`; never refers back to the client, so no cycle.
    root: Arc<Nodes>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field(
                "base_uri",
                &format_args!("{}{}", self.inner.base.origin, self.inner.base.prefix),
            )
            .field("middleware", &self.inner.stack)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(inner: ClientInner) -> Self {
        Self {
            inner: Arc::new(inner),
            root: Arc::default(),
        }
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
    pub fn v3(&self) -> crate::catalog::accessors::V3 {
        crate::catalog::accessors::V3(self.chain("v3"))
    }

    /// The typed accessors for every APIv2 endpoint: `client.v2().pay().micropay()…`, sent
    /// through the APIv2 pipeline (XML, `sign`).
    #[cfg(feature = "accessors")]
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
        let serial = self.inner.encryption_serial("sensitive-field encryption")?;
        let serial = serial.to_str().unwrap_or_default().to_owned();
        let key = self
            .inner
            .keys
            .get(&serial)
            .cloned()
            .ok_or_else(|| ConfigError::new("encrypt_with", format!("{serial} is not a configured key")))?;
        Ok(Encryptor { serial, key })
    }

    /// Downloads a bill to `destination`, streaming: the signed GET of `bill.download_url` (through
    /// the client's base URI), the body written as it arrives (gunzipped when gzip), its digest
    /// checked against `bill.hash_value`. Only a file whose digest matches is moved to
    /// `destination`; on any failure no file is left behind. Memory use does not grow with the
    /// bill's size. Blocking; see [`download_bill_async`](Self::download_bill_async).
    ///
    /// The request is signed by the client's signer and sent by its transport; other middleware
    /// does not see downloads, whose bodies are never held in memory.
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

    /// [`download_bill`](Self::download_bill), async.
    pub fn download_bill_async(
        &self,
        bill: &BillLocation,
        destination: impl AsRef<Path>,
    ) -> impl Future<Output = Result<Downloaded>> + Send + 'static {
        let future = crate::download::bill(Arc::clone(&self.inner), bill.clone(), destination.as_ref().to_owned());
        async move { runtime::spawn(future)?.await }
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
            .spawn(method, Arc::from(path.trim_start_matches('/')), options.into())
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
