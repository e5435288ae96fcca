//! `Builder` → `Client`, validated as wechatpay-php's `Builder::factory`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use http::{HeaderMap, HeaderValue, Uri};

use crate::base_uri::BaseUri;
use crate::client::Client;
use crate::crypto::{PrivateKey, PublicKey};
use crate::error::{ConfigError, Result};
use crate::key_ring::KeyRing;
use crate::middleware::{Failover, RetryLayer, RetryPolicy};
use crate::middleware::{MerchantSigner, Middleware, Signer, Stack, Verifier, WechatpayVerifier};
use crate::pipeline::Pipeline;
use crate::platform_certificates::PlatformCertificates;
use crate::prepare::EncryptionSerial;
use crate::transport::{HttpVersions, Transport, TransportConfig};

/// WeChat Pay's production API host.
pub const DEFAULT_BASE_URI: &str = "https://api.mch.weixin.qq.com/";

/// What WeChat Pay answers with; the same list wechatpay-php sends.
const ACCEPT: &str = "application/json, text/plain, application/x-gzip, application/pdf, image/png, image/*;q=0.5";

enum StackEdit {
    Insert {
        anchor: String,
        after: bool,
        name: String,
        middleware: Arc<dyn Middleware>,
    },
    Remove(String),
}

/// Configures and builds a [`Client`].
///
/// ```
/// use wechatpay::{Builder, Rsa};
///
/// let client = Builder::new()
///     .mchid("1900000109")
///     .serial("8F3A0C5E7D2B4A6918E0F1C2D3B4A59687766554")
///     .private_key(Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?)
///     .cert("PUB_KEY_ID_0114232134912410000000000000", Rsa::from_public("file://tests/fixtures/keys/pubkey.pem")?)
///     .timeout(std::time::Duration::from_secs(10))
///     .build()?;
/// # let _ = client;
/// # Ok::<(), wechatpay::Error>(())
/// ```
///
/// Missing or contradictory settings fail in `build`, naming the field:
///
/// ```
/// let err = wechatpay::Builder::new().serial("S").build().unwrap_err();
/// assert!(err.is_config());
/// assert!(err.to_string().contains("mchid"));
/// ```
pub struct Builder {
    mchid: Option<String>,
    serial: Option<String>,
    private_key: Option<PrivateKey>,
    keys: KeyRing,
    base_uri: String,
    connect_timeout: Duration,
    timeout: Option<Duration>,
    headers: Vec<(String, String)>,
    proxy: Option<String>,
    versions: HttpVersions,
    max_response_size: usize,
    signer: Option<Arc<dyn Signer>>,
    verifier: Option<Arc<dyn Verifier>>,
    edits: Vec<StackEdit>,
    encrypt_with: Option<String>,
    apiv2_key: Option<String>,
    merchant_tls: Option<(crate::Certificate, PrivateKey)>,
    extra_roots: Vec<crate::Certificate>,
    retry: RetryPolicy,
    backup_base_uri: Option<String>,
    rate_limits: crate::RateLimits,
    /// The APIv3 key, when platform certificates are downloaded (`auto_certificates`).
    auto_certificates: Option<zeroize::Zeroizing<Vec<u8>>>,
    certificate_refresh: Duration,
    /// Where instances share downloaded platform certificates (`store`).
    certificate_store: Option<Arc<dyn crate::CertificateStore>>,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("mchid", &self.mchid)
            .field("serial", &self.serial)
            .field("private_key", &self.private_key)
            .field("certs", &self.keys)
            .field("base_uri", &self.base_uri)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A builder with the defaults: base URI `https://api.mch.weixin.qq.com/`, 10 s connect
    /// timeout, 30 s request timeout, HTTP/2 or HTTP/1.1, 64 MiB response cap.
    pub fn new() -> Self {
        Self {
            mchid: None,
            serial: None,
            private_key: None,
            keys: KeyRing::new(),
            base_uri: DEFAULT_BASE_URI.to_owned(),
            connect_timeout: Duration::from_secs(10),
            timeout: Some(Duration::from_secs(30)),
            headers: Vec::new(),
            proxy: None,
            versions: HttpVersions::Any,
            max_response_size: 64 << 20,
            signer: None,
            verifier: None,
            edits: Vec::new(),
            encrypt_with: None,
            apiv2_key: None,
            merchant_tls: None,
            extra_roots: Vec::new(),
            retry: RetryPolicy::default(),
            backup_base_uri: None,
            rate_limits: crate::RateLimits::documented(),
            auto_certificates: None,
            certificate_refresh: crate::DEFAULT_REFRESH_INTERVAL,
            certificate_store: None,
        }
    }

    /// The merchant id (商户号).
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = Some(mchid.into());
        self
    }

    /// The merchant API certificate's serial number.
    pub fn serial(mut self, serial: impl Into<String>) -> Self {
        self.serial = Some(serial.into());
        self
    }

    /// The merchant API private key (`apiclient_key.pem`).
    pub fn private_key(mut self, key: PrivateKey) -> Self {
        self.private_key = Some(key);
        self
    }

    /// A WeChat Pay verification key: a platform certificate's serial or a `PUB_KEY_ID_…`, with its
    /// public key. Repeatable; both kinds mix.
    pub fn cert(mut self, serial_or_pub_key_id: impl Into<String>, key: PublicKey) -> Self {
        self.keys.insert(serial_or_pub_key_id, key);
        self
    }

    /// All verification keys at once (added to any given with [`cert`](Self::cert)).
    pub fn certs(mut self, keys: &KeyRing) -> Self {
        for (serial, key) in keys.iter() {
            self.keys.insert(serial, key.clone());
        }
        self
    }

    /// Where requests go; an emulator's `http://127.0.0.1:PORT/` for tests.
    pub fn base_uri(mut self, uri: impl Into<String>) -> Self {
        self.base_uri = uri.into();
        self
    }

    /// How long to wait for a connection: TCP, the proxy tunnel and the TLS handshake together.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The whole-request timeout (signing, sending, reading the answer); the `timeout` option
    /// overrides it per request. `None` or zero waits forever.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// A header sent with every request (a request's own `headers` option wins).
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// An HTTP proxy, `http://[user:password@]host:port`, reached with CONNECT (merchants whose
    /// egress IP must be on WeChat Pay's allow-list often need one).
    pub fn proxy(mut self, uri: impl Into<String>) -> Self {
        self.proxy = Some(uri.into());
        self
    }

    /// The HTTP versions allowed.
    pub fn http_versions(mut self, versions: HttpVersions) -> Self {
        self.versions = versions;
        self
    }

    /// The largest response body read into memory; larger ones are an error, not an OOM.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// The WeChat Pay key (serial or `PUB_KEY_ID_…`, one given to [`cert`](Self::cert)) that
    /// sensitive fields are encrypted with. Its serial is sent as `Wechatpay-Serial` to the
    /// endpoints that require it. Needed only when several keys are configured (e.g. a platform
    /// certificate and the public key during a migration): with one key, that one is used.
    pub fn encrypt_with(mut self, serial_or_pub_key_id: impl Into<String>) -> Self {
        self.encrypt_with = Some(serial_or_pub_key_id.into());
        self
    }

    /// The APIv2 key (32 characters), for `v2/…` paths. A client with only this and the mchid is
    /// an APIv2-only client; its v3 calls then fail, naming what is missing.
    pub fn secret(mut self, apiv2_key: impl Into<String>) -> Self {
        self.apiv2_key = Some(apiv2_key.into());
        self
    }

    /// The merchant API certificate and its key, presented for APIv2 `security` calls (mutual
    /// TLS; catalog column `v2_security`). A separate connection pool is used for them.
    pub fn merchant_tls(mut self, certificate: crate::Certificate, key: PrivateKey) -> Self {
        self.merchant_tls = Some((certificate, key));
        self
    }

    /// The merchant certificate and key for mutual TLS from `apiclient_cert.p12`; the password
    /// defaults to the mchid, as WeChat Pay issues it.
    #[cfg(feature = "pkcs12")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pkcs12")))]
    pub fn merchant_pkcs12(mut self, p12: impl AsRef<[u8]>, password: Option<&str>) -> Result<Self> {
        let password = match (password, self.mchid.as_deref()) {
            (Some(password), _) => password.to_owned(),
            (None, Some(mchid)) => mchid.to_owned(),
            (None, None) => {
                return Err(
                    ConfigError::new("mchid", "set it before merchant_pkcs12: it is the default password").into(),
                )
            }
        };
        let (certificate, key) = crate::PemUtil::load_pkcs12(p12, &password)?;
        self.merchant_tls = Some((certificate, key));
        Ok(self)
    }

    /// Trusts `certificate` as a TLS root besides the bundled ones (a TLS-inspecting corporate
    /// proxy, or a TLS emulator's CA).
    pub fn add_root_certificate(mut self, certificate: crate::Certificate) -> Self {
        self.extra_roots.push(certificate);
        self
    }

    /// Replaces the `signer` (e.g. a remote signing service). Then `mchid`, `serial` and
    /// `private_key` are not required.
    pub fn signer(mut self, signer: impl Signer) -> Self {
        self.signer = Some(Arc::new(signer));
        self
    }

    /// Replaces the `verifier`. Then no `cert` is required.
    pub fn verifier(mut self, verifier: impl Verifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Inserts `middleware` as `name` just outside the layer `anchor` (it sees the request first
    /// and the response last). See [`middleware`](crate::middleware) for the order.
    pub fn middleware_before(mut self, anchor: &str, name: &str, middleware: impl Middleware) -> Self {
        self.edits.push(StackEdit::Insert {
            anchor: anchor.to_owned(),
            after: false,
            name: name.to_owned(),
            middleware: Arc::new(middleware),
        });
        self
    }

    /// Inserts `middleware` as `name` just inside the layer `anchor`.
    pub fn middleware_after(mut self, anchor: &str, name: &str, middleware: impl Middleware) -> Self {
        self.edits.push(StackEdit::Insert {
            anchor: anchor.to_owned(),
            after: true,
            name: name.to_owned(),
            middleware: Arc::new(middleware),
        });
        self
    }

    /// How calls are retried ([`RetryPolicy::default`]: 3 attempts; [`RetryPolicy::none`] turns
    /// retries off): connection failures on any method, `429`/`5xx`/broken connections only where a
    /// repeat is safe — see [`RetryPolicy`].
    ///
    /// ```
    /// use wechatpay::{Builder, RetryPolicy};
    /// let builder = Builder::new().retry(RetryPolicy::default().attempts(5));
    /// # let _ = builder;
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Which rate limits the client keeps ([`RateLimits::documented`](crate::RateLimits::documented)
    /// by default; [`RateLimits::none`](crate::RateLimits::none) turns them off).
    ///
    /// ```
    /// let builder = wechatpay::Builder::new().rate_limits(wechatpay::RateLimits::none());
    /// # let _ = builder;
    /// ```
    pub fn rate_limits(mut self, limits: crate::RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Where state shared by every instance of the merchant is kept: the rate-limit buckets (in
    /// this process by default), and, with [`auto_certificates`](Self::auto_certificates), the
    /// downloaded platform certificates, so that the instances keep one limit together and make
    /// one `v3/certificates` download between them. `RedisStore` (feature `redis`) shares across
    /// processes and machines; [`InProcessStore`](crate::InProcessStore) across the clients of
    /// one process.
    ///
    /// To share only the rate limits, use `rate_limits(RateLimits::documented().store(store))`;
    /// only the certificates, [`certificate_store`](Self::certificate_store). A store shares
    /// between clients only when they are given the same one: for `InProcessStore`, clones of
    /// one `Arc`.
    ///
    /// ```
    /// let builder = wechatpay::Builder::new().store(wechatpay::InProcessStore::new());
    /// # let _ = builder;
    /// ```
    pub fn store<S: crate::RateLimitStore + crate::CertificateStore>(mut self, store: S) -> Self {
        let store = Arc::new(store);
        self.rate_limits = self.rate_limits.shared_store(store.clone());
        self.certificate_store = Some(store);
        self
    }

    /// Where instances built with [`auto_certificates`](Self::auto_certificates) share their
    /// downloaded platform certificates, for a store that keeps only those (see
    /// [`store`](Self::store) for one that keeps the rate limits too).
    ///
    /// ```
    /// use std::sync::Arc;
    /// // Clients of one process sharing one download: the same Arc given to each builder.
    /// let shared = Arc::new(wechatpay::InProcessStore::new());
    /// let first = wechatpay::Builder::new().certificate_store(Arc::clone(&shared));
    /// let second = wechatpay::Builder::new().certificate_store(shared);
    /// # let _ = (first, second);
    /// ```
    pub fn certificate_store(mut self, store: impl crate::CertificateStore) -> Self {
        self.certificate_store = Some(Arc::new(store));
        self
    }

    /// Where a retry after a connection failure goes when the base URI is not WeChat Pay's (under
    /// the default base URI, the backup domain `api2.mch.weixin.qq.com` is used without asking).
    ///
    /// ```
    /// let builder = wechatpay::Builder::new()
    ///     .base_uri("https://pay-proxy-a.internal/")
    ///     .backup_base_uri("https://pay-proxy-b.internal/");
    /// # let _ = builder;
    /// ```
    pub fn backup_base_uri(mut self, uri: impl Into<String>) -> Self {
        self.backup_base_uri = Some(uri.into());
        self
    }

    /// Downloads WeChat Pay's platform certificates instead of being given them: the first call
    /// that needs them fetches `v3/certificates` (through this client: signed, rate-limited,
    /// retried), opens each certificate with `apiv3_key` (32 bytes; AEAD_AES_256_GCM), and checks
    /// that answer with the certificate it carries — the APIv3 key is what makes it trustworthy.
    ///
    /// Then they stay fresh: downloaded again every 12 hours
    /// ([`certificate_refresh`](Self::certificate_refresh)), and at once when an answer names a
    /// serial the client does not know (WeChat Pay rotating its certificate); however many
    /// calls meet that serial together, one download is made. A failed download keeps the old
    /// certificates and is not retried for a while (1 s, doubling up to 5 minutes). Expired
    /// certificates are dropped; sensitive fields are encrypted with the newest valid one unless
    /// [`encrypt_with`](Self::encrypt_with) names another. Keys given with [`cert`](Self::cert)
    /// (a `PUB_KEY_ID_…` during a migration) keep working alongside.
    ///
    /// [`Client::certificates`](crate::Client::certificates) shares the set, e.g. with a
    /// [`NotificationVerifier`](crate::NotificationVerifier::with_certificates).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # fn main() -> wechatpay::Result<()> {
    /// use wechatpay::emulator::{Emulator, Mode};
    ///
    /// let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start()?;
    /// let client = emulator
    ///     .merchant_builder() // the merchant's credentials, no WeChat Pay keys
    ///     .auto_certificates(emulator.identity().apiv3_key.as_bytes())
    ///     .build()?;
    /// // The first call downloads the certificates, then its answer is verified with them.
    /// let answer = client.chain("v3/pay/transactions/native").post(serde_json::json!({"json": {
    ///     "appid": "wxd678efh567hg6787", "mchid": emulator.identity().mchid, "description": "Image形象店",
    ///     "out_trade_no": "1217752501201407033233368018", "notify_url": "https://example.com/notify",
    ///     "amount": {"total": 1}
    /// }}))?;
    /// assert_eq!(answer.headers()["Wechatpay-Serial"], emulator.identity().platform_serial());
    /// assert_eq!(client.certificates().unwrap().downloads(), 1);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn auto_certificates(mut self, apiv3_key: impl AsRef<[u8]>) -> Self {
        self.auto_certificates = Some(zeroize::Zeroizing::new(apiv3_key.as_ref().to_vec()));
        self
    }

    /// How often [`auto_certificates`](Self::auto_certificates) downloads the certificates
    /// again when nothing asks sooner (default 12 hours).
    ///
    /// ```
    /// let builder = wechatpay::Builder::new().certificate_refresh(std::time::Duration::from_secs(3600));
    /// # let _ = builder;
    /// ```
    pub fn certificate_refresh(mut self, interval: Duration) -> Self {
        self.certificate_refresh = interval;
        self
    }

    /// Removes the layer `name` (as PHP's `$stack->remove('verifier')`).
    pub fn remove_middleware(mut self, name: &str) -> Self {
        self.edits.push(StackEdit::Remove(name.to_owned()));
        self
    }

    /// A client with the APIv2 key but without the v3 settings is APIv2-only: its v3 calls fail
    /// before sending, naming what is missing.
    fn v2_only(&self) -> Option<String> {
        self.apiv2_key.as_ref()?;
        let missing: Vec<&str> = [
            ("serial", self.serial.is_none()),
            ("private_key", self.private_key.is_none()),
            ("cert", self.keys.is_empty() && self.auto_certificates.is_none()),
        ]
        .into_iter()
        .filter_map(|(field, absent)| absent.then_some(field))
        .collect();
        (!missing.is_empty() && self.signer.is_none()).then(|| missing.join(", "))
    }

    fn signer_or_default(&mut self) -> Result<Arc<dyn Signer>> {
        if let Some(signer) = self.signer.take() {
            return Ok(signer);
        }
        if let Some(missing) = self.v2_only() {
            let reason = format!("this client is APIv2-only: v3 calls need {missing} (Builder)");
            return Ok(Arc::new(move |_: crate::SigningRequest| {
                let reason = reason.clone();
                async move { Err(ConfigError::new("v3", reason).into()) }
            }));
        }
        let required =
            |field: &str| ConfigError::new(field, "is required (or replace the signer with Builder::signer)");
        let mchid = self
            .mchid
            .clone()
            .filter(|m| !m.is_empty())
            .ok_or_else(|| required("mchid"))?;
        let serial = self
            .serial
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| required("serial"))?;
        let key = self.private_key.clone().ok_or_else(|| required("private_key"))?;
        Ok(Arc::new(MerchantSigner::new(mchid, serial, key)))
    }

    fn verifier_or_default(&mut self, certificates: Option<&PlatformCertificates>) -> Result<Arc<dyn Verifier>> {
        if let Some(verifier) = self.verifier.take() {
            return Ok(verifier);
        }
        if let Some(certificates) = certificates {
            return Ok(Arc::new(WechatpayVerifier::with_certificates(certificates.clone())));
        }
        if self.keys.is_empty() && self.apiv2_key.is_some() {
            // APIv2-only: the signer already refuses v3 calls before anything is sent.
            return Ok(Arc::new(|_: &crate::Endpoint, _: &crate::Response| Ok(())));
        }
        if self.keys.is_empty() {
            return Err(ConfigError::new(
                "cert",
                "at least one platform certificate or WeChat Pay public key (PUB_KEY_ID_…) is required",
            )
            .into());
        }
        if let Some(serial) = self.serial.as_deref().filter(|s| self.keys.contains(s)) {
            return Err(ConfigError::new(
                "cert",
                format!("{serial} is the merchant's own certificate serial; certs are WeChat Pay's keys"),
            )
            .into());
        }
        Ok(Arc::new(WechatpayVerifier::new(self.keys.clone())))
    }

    fn header_map(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ACCEPT, HeaderValue::from_static(ACCEPT));
        let agent = format!(
            "wechatpay-sdk-rust/{} ({}; {}) {}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH,
            crate::crypto_backend()
        );
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_str(&agent).map_err(|_| ConfigError::new("user-agent", "invalid"))?,
        );
        for (name, value) in &self.headers {
            let (name, value) = crate::caller_headers::caller_header(name, value)?;
            headers.insert(name, value);
        }
        Ok(headers)
    }

    fn proxy_uri(&self) -> Result<Option<(Uri, Option<HeaderValue>)>> {
        let Some(text) = &self.proxy else { return Ok(None) };
        // Never put the password in an error message, whatever shape the text has.
        let shown = crate::redact::userinfo(text);
        let bad = |reason: &str| ConfigError::new("proxy", format!("{shown:?} {reason}"));
        let uri: Uri = text.parse().map_err(|_| bad("is not a URI"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(bad("is an HTTPS proxy; only http:// proxies (with CONNECT) are supported").into())
            }
            _ => return Err(bad("must start with http://").into()),
        }
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(
                bad("must be http://[user:password@]host:port (percent-encode `/`, `@`, `:` in the password)").into(),
            );
        }
        let (auth, host) = match authority.as_str().rsplit_once('@') {
            Some((userinfo, host)) => {
                let credentials = percent_encoding::percent_decode_str(userinfo)
                    .decode_utf8_lossy()
                    .into_owned();
                let token = base64::engine::general_purpose::STANDARD.encode(credentials);
                let mut value =
                    HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| bad("has invalid credentials"))?;
                value.set_sensitive(true);
                (Some(value), host)
            }
            None => (None, authority.as_str()),
        };
        let uri = format!("http://{host}")
            .parse()
            .map_err(|_| bad("has an invalid host"))?;
        Ok(Some((uri, auth)))
    }

    /// Validates everything and builds the client.
    pub fn build(mut self) -> Result<Client> {
        if let Some(key) = &self.apiv2_key {
            if key.len() != 32 {
                return Err(ConfigError::new(
                    "secret",
                    format!("the APIv2 key must be 32 characters, got {}", key.len()),
                )
                .into());
            }
        }
        let v2_only = self.v2_only().is_some();
        if v2_only && self.mchid.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::new("mchid", "is required").into());
        }
        let certificates = match &self.auto_certificates {
            Some(apiv3_key) => Some(PlatformCertificates::new(
                apiv3_key,
                self.keys.clone(),
                self.certificate_refresh,
                self.certificate_store.clone().map(|store| {
                    crate::shared_certificates::Shared::new(
                        store,
                        self.mchid.as_deref().unwrap_or_default(),
                        self.timeout,
                    )
                }),
            )?),
            None => None,
        };
        let encryption = match (self.encrypt_with.take(), &certificates) {
            (Some(serial), None) if self.keys.contains(&serial) => EncryptionSerial::Chosen(serial),
            // A downloaded serial is not known yet; `encrypt_with` is checked when it is used.
            (chosen, Some(certificates)) => EncryptionSerial::Auto {
                certificates: certificates.clone(),
                chosen,
            },
            (Some(serial), None) => {
                return Err(ConfigError::new(
                    "encrypt_with",
                    format!("{serial} is not one of the keys given to cert()"),
                )
                .into())
            }
            (None, None) => match self.keys.len() {
                0 => EncryptionSerial::NoKey,
                1 => EncryptionSerial::Chosen(self.keys.iter().map(|(s, _)| s.to_owned()).collect()),
                _ => EncryptionSerial::Ambiguous(self.keys.iter().map(|(s, _)| s.to_owned()).collect()),
            },
        };
        let signer = self.signer_or_default()?;
        let verifier = self.verifier_or_default(certificates.as_ref())?;
        let base = BaseUri::parse(&self.base_uri)?;
        let headers = self.header_map()?;
        let proxy = self.proxy_uri()?;
        let failover = match &self.backup_base_uri {
            Some(backup) => Failover::Origin {
                primary: base.to_string(),
                backup: BaseUri::parse(backup)
                    .map_err(|_| ConfigError::new("backup_base_uri", "must be an http(s):// URI like base_uri"))?
                    .to_string(),
            },
            None if base.is_default() => Failover::BackupDomain,
            None => Failover::None,
        };
        let retry = RetryLayer {
            policy: self.retry.clone(),
            failover,
        };
        let rate_limit = crate::middleware::RateLimitLayer {
            limits: self.rate_limits.clone(),
            mchid: self.mchid.clone(),
        };
        let mut stack = Stack::new(signer, verifier, retry, rate_limit);
        for edit in std::mem::take(&mut self.edits) {
            match edit {
                StackEdit::Insert {
                    anchor,
                    after,
                    name,
                    middleware,
                } => {
                    let at = stack.index_of(&anchor, after)?;
                    stack.insert(at, &name, middleware)?;
                }
                StackEdit::Remove(name) => stack.remove(&name)?,
            }
        }
        let config = TransportConfig {
            connect_timeout: self.connect_timeout,
            versions: self.versions,
            proxy,
            max_body: self.max_response_size,
            extra_roots: self.extra_roots.iter().map(|c| c.der().to_vec()).collect(),
            client_auth: None,
        };
        let merchant_tls = match self.merchant_tls.take() {
            Some((certificate, key)) => {
                if !certificate.matches(&key) {
                    return Err(
                        ConfigError::new("merchant_tls", "the private key does not belong to the certificate").into(),
                    );
                }
                Some((
                    certificate.der().to_vec(),
                    zeroize::Zeroizing::new(key.pkcs8_der().to_vec()),
                ))
            }
            None => None,
        };
        Ok(Client::new(Pipeline {
            mchid: self.mchid.clone(),
            apiv2_key: self.apiv2_key.take().map(|key| Arc::new(zeroize::Zeroizing::new(key))),
            keys: self.keys.clone(),
            certificates,
            private_key: self.private_key.clone(),
            encryption,
            base,
            headers,
            stack,
            transport: Transport::new(&config, merchant_tls)?,
            timeout: self.timeout,
        }))
    }
}
