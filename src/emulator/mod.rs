//! A local WeChat Pay: speaks APIv3 exactly as the real service does, on loopback.
//!
//! WeChat Pay has no APIv3 sandbox. The emulator verifies every request's signature the way
//! WeChat Pay does (401 `SIGN_ERROR` with the message it expected you to sign), signs every
//! answer, encrypts what WeChat Pay encrypts, and keeps state for orders and refunds, so a client
//! can be tested end to end without a merchant account.
//!
//! ```
//! use serde_json::json;
//! use wechatpay::emulator::Emulator;
//!
//! let emulator = Emulator::start()?;
//! let client = emulator.client_builder().build()?;
//! let answer = client
//!     .chain("v3/pay/transactions/native")
//!     .post(json!({"json": {
//!         "appid": "wxd678efh567hg6787", "mchid": emulator.identity().mchid, "description": "Image形象店",
//!         "out_trade_no": "1217752501201407033233368018", "notify_url": "https://example.com/notify",
//!         "amount": {"total": 1}
//!     }}))?;
//! assert!(answer.json::<serde_json::Value>()?["code_url"].as_str().unwrap().starts_with("weixin://"));
//! # Ok::<(), wechatpay::Error>(())
//! ```
//!
//! What it implements with real behaviour: `GET v3/certificates`, the seed call
//! `POST v3/brand/partner/card-member/user-points/sync`, `POST v3/pay/transactions/{native,jsapi,
//! app,h5}`, order queries by `out-trade-no` and `id`, `…/close`, `POST v3/refund/domestic/refunds`
//! and the refund query. Every other endpoint of the [catalog](crate::catalog) answers with a
//! signed echo of what arrived; paths outside it get 404 `NOT_FOUND`, as from WeChat Pay.
//! Faults can be injected per request ([`FAULT_HEADER`] or [`FAULT_QUERY`]) or for all requests
//! ([`Emulator::set_faults`]). It builds signed, encrypted callback notifications
//! ([`Emulator::transaction_notification`], [`Emulator::refund_notification`]) and POSTs them to
//! your webhook ([`SignedNotification::post`]), and it records what it received
//! ([`Emulator::received`]).
//!
//! Trade bills (`GET v3/bill/tradebill`, then the unsigned `v3/billdownload/file` with its SHA-1,
//! plain or `tar_type=GZIP`) and media uploads (multipart, signed over `meta`, the file checked
//! against `meta.sha256`) are emulated too.
//!
//! It listens on loopback only, but assumes nothing about who connects there: a request is
//! recorded, parsed beyond what checking its signature needs, or given its faults only once that
//! signature verifies; the record of received requests is bounded (see [`Received`]); requested
//! delays are capped ([`MAX_FAULT_DELAY`]); and connections that send nothing, send half a request
//! or sit idle are closed ([`EmulatorBuilder::header_read_timeout`],
//! [`EmulatorBuilder::idle_timeout`]).

mod apiv2;
mod handle;
mod serve;
// Reached by the fuzzing hooks (`crate::fuzzing`) as well.
pub(crate) mod auth;
mod conn;
mod fault;
pub(crate) mod identity;
pub(crate) mod multipart;
mod notification;
mod platform;
pub(crate) mod reply;
mod routes;
mod state;
mod tls;

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde_json::Value;

pub use fault::{Fault, FAULT_HEADER, MAX_FAULT_DELAY};
pub use identity::{Identity, KeyMaterial};
pub use notification::SignedNotification;

use crate::builder::Builder;
use crate::error::{ConfigError, Result};

/// Which kind of WeChat Pay key signs the emulator's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The WeChat Pay public key (`PUB_KEY_ID_…`): what new merchants get. The default.
    #[default]
    PublicKey,
    /// A platform certificate (serial), served by `GET v3/certificates`.
    PlatformCertificate,
}

/// The largest request body the emulator reads.
const MAX_REQUEST: usize = 16 << 20;

/// How many received requests are kept for [`Emulator::received`].
const RECORDED: usize = 1000;

/// How much of each received body is kept for [`Emulator::received`].
const RECORDED_BODY: usize = 64 << 10;

/// How many bytes (bodies, headers, targets) [`Emulator::received`] keeps in all.
const RECORDED_BYTES: usize = 8 << 20;

/// The query parameter that asks for faults on one request (`?emulator_fault=stale`), for
/// clients that cannot set headers; it is part of the signed target like any other parameter.
pub const FAULT_QUERY: &str = "emulator_fault";

/// A request as the emulator received it, for assertions in tests.
///
/// Only requests whose signature verified are recorded (APIv3: `Authorization`; APIv2: `sign`),
/// and what is kept is bounded, since anyone who can reach the port can send requests: `body`
/// holds at most the first 64 KiB of the body (`body_len` is the full length), and the log keeps
/// the last 1000 requests or 8 MiB in all (bodies, headers and targets), whichever is less,
/// dropping the oldest first.
#[derive(Debug, Clone)]
pub struct Received {
    /// The method.
    pub method: http::Method,
    /// Path and query as received.
    pub target: String,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body bytes: all of them, or the first 64 KiB of a longer body.
    pub body: Bytes,
    /// The length of the whole body (more than `body.len()` when it was cut to 64 KiB).
    pub body_len: usize,
    /// When it arrived (its signature checked), e.g. to count requests per second.
    pub at: std::time::Instant,
}

impl Received {
    /// The bytes this entry counts against the log's total.
    fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        self.method.as_str().len() + self.target.len() + headers + self.body.len()
    }
}

/// The received-request log, bounded in entries and bytes.
#[derive(Default)]
struct Log {
    entries: VecDeque<Received>,
    bytes: usize,
}

impl Log {
    fn push(&mut self, entry: Received) {
        let size = entry.size();
        if size > RECORDED_BYTES {
            return;
        }
        while self.entries.len() >= RECORDED || self.bytes + size > RECORDED_BYTES {
            let Some(oldest) = self.entries.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(oldest.size());
        }
        self.bytes += size;
        self.entries.push_back(entry);
    }
}

struct Shared {
    identity: Identity,
    mode: Mode,
    /// The platform certificates (rotated by `Emulator::rotate_platform_certificate`).
    platforms: platform::Platforms,
    state: state::State,
    faults: Mutex<Vec<Fault>>,
    received: Mutex<Log>,
    /// The documented rate limits, enforced as WeChat Pay does (`None`: off).
    rate_limits: Option<crate::InProcessStore>,
}

/// A running emulator; it stops when dropped.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: bool,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Shared {
    /// The key and serial that sign answers and notifications now.
    fn signing(&self) -> (crate::crypto::PrivateKey, String) {
        match self.mode {
            Mode::PublicKey => (
                self.identity.wechatpay.private_key().clone(),
                self.identity.pub_key_id.clone(),
            ),
            Mode::PlatformCertificate => self.platforms.current(),
        }
    }
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_uri", &self.base_uri())
            .field("mode", &self.shared.mode)
            .field("mchid", &self.shared.identity.mchid)
            .finish_non_exhaustive()
    }
}

/// Configures an [`Emulator`].
#[derive(Debug)]
pub struct EmulatorBuilder {
    identity: Option<Identity>,
    mode: Mode,
    port: u16,
    tls: bool,
    limits: conn::Limits,
    rate_limits: bool,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            identity: None,
            mode: Mode::default(),
            port: 0,
            tls: false,
            limits: conn::Limits {
                header_read: conn::HEADER_READ_TIMEOUT,
                idle: conn::IDLE_TIMEOUT,
            },
            rate_limits: true,
        }
    }
}

impl EmulatorBuilder {
    /// Uses your key material instead of generated keys.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Public-key mode (default) or platform-certificate mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The port on 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves HTTPS instead of HTTP, with a server certificate from the identity's TLS CA, asking
    /// clients for the merchant certificate (mutual TLS, which APIv2 `security` endpoints require).
    /// [`Emulator::client_builder`] then trusts that CA and presents the merchant certificate.
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// How long a client has to deliver a request's head (default 10 s): a new connection must
    /// have its first request read within this of being accepted, TLS handshake included, and over
    /// HTTP/1.1 each later head within this of the previous answer (so an idle HTTP/1.1
    /// connection closes after this too). A client that connects and sends nothing, or half a
    /// head, is disconnected instead of holding the connection forever.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read = timeout;
        self
    }

    /// How long a connection may stay open with no bytes moving and no request being answered
    /// (default 60 s), after its first request; this is what closes idle HTTP/2 connections and
    /// stalled request bodies. A request being answered (a `delay-…` fault, say) is never cut off.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.idle = timeout;
        self
    }

    /// Whether the documented rate limits are enforced (default: yes): an endpoint's calls beyond
    /// its limit (`5/s`: more than five at once, then one every 200 ms) are answered
    /// `429 FREQUENCY_LIMITED`, as WeChat Pay answers them.
    pub fn rate_limits(mut self, enforce: bool) -> Self {
        self.rate_limits = enforce;
        self
    }

    /// Starts serving.
    pub fn start(self) -> Result<Emulator> {
        let identity = match self.identity {
            Some(identity) => identity,
            None => Identity::generate()?,
        };
        let shared = Arc::new(Shared {
            platforms: platform::Platforms::new(identity.platform.clone()),
            identity,
            mode: self.mode,
            state: state::State::default(),
            faults: Mutex::new(Vec::new()),
            received: Mutex::new(Log::default()),
            rate_limits: self.rate_limits.then(crate::InProcessStore::new),
        });
        let runtime = crate::runtime::get()?;
        let listener = {
            let _entered = runtime.enter();
            let std_listener = std::net::TcpListener::bind(("127.0.0.1", self.port))
                .map_err(|e| ConfigError::new("emulator", format!("cannot listen on 127.0.0.1:{}: {e}", self.port)))?;
            std_listener
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(std_listener))
                .map_err(|e| ConfigError::new("emulator", format!("cannot listen: {e}")))?
        };
        let addr = listener
            .local_addr()
            .map_err(|e| ConfigError::new("emulator", e.to_string()))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let acceptor = if self.tls {
            Some(tls::acceptor(&shared.identity)?)
        } else {
            None
        };
        let limits = self.limits;
        let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        http.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read);
        serve::spawn(runtime, listener, Arc::clone(&shared), acceptor, http, limits, stopped);
        Ok(Emulator {
            shared,
            addr,
            tls: self.tls,
            _stop: stop,
        })
    }
}

impl Emulator {
    /// Starts an emulator with generated keys, in public-key mode, on a free port.
    pub fn start() -> Result<Emulator> {
        Self::builder().start()
    }

    /// Configures one.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_uri(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key material (merchant key to sign with, WeChat Pay keys to trust, APIv3 key).
    pub fn identity(&self) -> &Identity {
        &self.shared.identity
    }

    /// The mode answers are signed in.
    pub fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// A client [`Builder`] configured for this emulator: mchid, merchant serial and key, the
    /// WeChat Pay key of the current mode (in certificate mode, the newest platform certificate),
    /// the APIv2 key, and the base URI.
    pub fn client_builder(&self) -> Builder {
        let identity = &self.shared.identity;
        let builder = self.merchant_builder();
        match self.shared.mode {
            Mode::PublicKey => builder.cert(identity.pub_key_id.clone(), identity.wechatpay.public_key().clone()),
            Mode::PlatformCertificate => {
                let served = self.shared.platforms.served();
                let newest = served.newest();
                builder.cert(platform::serial_of(newest), newest.public_key().clone())
            }
        }
    }

    /// [`client_builder`](Self::client_builder) without any WeChat Pay key: the merchant's
    /// credentials, the APIv2 key and the base URI, for clients that download the platform
    /// certificates ([`Builder::auto_certificates`]) or are given keys some other way.
    ///
    /// ```
    /// use wechatpay::emulator::{Emulator, Mode};
    /// let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start()?;
    /// let client = emulator.merchant_builder().auto_certificates(emulator.identity().apiv3_key.as_bytes()).build()?;
    /// # let _ = client;
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn merchant_builder(&self) -> Builder {
        let identity = &self.shared.identity;
        let builder = Builder::new()
            .mchid(identity.mchid.clone())
            .serial(identity.merchant_serial())
            .private_key(identity.merchant.private_key().clone())
            .secret(identity.apiv2_key.as_str())
            .base_uri(self.base_uri());
        match (&identity.tls_ca, identity.merchant.certificate()) {
            (Some(ca), Some(merchant)) if self.tls => builder
                .add_root_certificate(ca.clone())
                .merchant_tls(merchant.clone(), identity.merchant.private_key().clone()),
            _ => builder,
        }
    }

    /// Rotates the platform certificate, as WeChat Pay does before one expires: a new key and
    /// certificate (a new serial) sign answers and notifications from now on, and the previous
    /// one stays listed by `v3/certificates` and accepted for encrypted fields until
    /// [`retire_platform_certificate`](Self::retire_platform_certificate). Returns the new
    /// serial. Certificate mode only.
    ///
    /// ```
    /// use wechatpay::emulator::{Emulator, Mode};
    /// let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start()?;
    /// let first = emulator.identity().platform_serial().to_owned();
    /// let second = emulator.rotate_platform_certificate()?;
    /// assert_ne!(first, second);
    /// assert_eq!(emulator.platform_serials(), [first.clone(), second]);
    /// assert!(emulator.retire_platform_certificate(&first));
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn rotate_platform_certificate(&self) -> Result<String> {
        if self.shared.mode != Mode::PlatformCertificate {
            return Err(ConfigError::new(
                "emulator",
                "only an emulator in Mode::PlatformCertificate has platform certificates to rotate",
            )
            .into());
        }
        let next = identity::generate_platform()?;
        let serial = platform::serial_of(&next).to_owned();
        self.shared.platforms.rotate(next);
        Ok(serial)
    }

    /// Stops serving the platform certificate `serial` (the newest one cannot be retired).
    /// Whether it was served and is now retired.
    pub fn retire_platform_certificate(&self, serial: &str) -> bool {
        self.shared.platforms.retire(serial)
    }

    /// The serials of the platform certificates served, oldest first; the last one signs.
    pub fn platform_serials(&self) -> Vec<String> {
        self.shared
            .platforms
            .served()
            .iter()
            .map(|m| platform::serial_of(m).to_owned())
            .collect()
    }

    /// Faults applied to every authenticated request from now on (replacing earlier ones; empty to
    /// clear). Requests the emulator refuses (a bad signature, say) are answered without them.
    pub fn set_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        *self
            .shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults.into_iter().collect();
    }

    /// The authenticated requests received so far, oldest first: the last 1000, or fewer when
    /// they hold more than 8 MiB in all, each body cut to its first 64 KiB (see [`Received`]).
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .iter()
            .cloned()
            .collect()
    }

    fn signing_key(&self) -> (crate::crypto::PrivateKey, String) {
        self.shared.signing()
    }

    /// A notification of any event: `resource` encrypted under the APIv3 key, the envelope signed
    /// with the current mode's WeChat Pay key.
    pub fn notification(
        &self,
        event_type: &str,
        summary: &str,
        original_type: &str,
        resource: &Value,
    ) -> Result<SignedNotification> {
        let (key, serial) = self.signing_key();
        notification::build(
            event_type,
            summary,
            original_type,
            resource,
            self.shared.identity.apiv3_key.as_bytes(),
            &key,
            &serial,
        )
    }

    /// `TRANSACTION.SUCCESS` for an order (paying it first if needed).
    ///
    /// ```
    /// # use wechatpay::emulator::Emulator;
    /// # let emulator = Emulator::start()?;
    /// # let client = emulator.client_builder().build()?;
    /// # client.chain("v3/pay/transactions/native").post(serde_json::json!({"json": {"appid": "wx1", "mchid": emulator.identity().mchid,
    /// #     "description": "d", "out_trade_no": "T1", "notify_url": "https://example.com/n", "amount": {"total": 1}}}))?;
    /// let notification = emulator.transaction_notification("T1")?;
    /// let verified = emulator.notification_verifier()?.verify(&notification.header_map(), &notification.body)?;
    /// assert_eq!(verified.resource["trade_state"], "SUCCESS");
    /// # Ok::<(), wechatpay::Error>(())
    /// ```
    pub fn transaction_notification(&self, out_trade_no: &str) -> Result<SignedNotification> {
        let transaction = self.pay(out_trade_no)?;
        self.notification("TRANSACTION.SUCCESS", "支付成功", "transaction", &transaction)
    }

    /// `REFUND.SUCCESS` for a refund created through the API.
    pub fn refund_notification(&self, out_refund_no: &str) -> Result<SignedNotification> {
        let resource = {
            let refunds = self
                .shared
                .state
                .refunds
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let refund = refunds.get(out_refund_no).ok_or_else(|| {
                ConfigError::new("out_refund_no", format!("no refund {out_refund_no} in the emulator"))
            })?;
            let orders = self
                .shared
                .state
                .orders
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let transaction_id = orders.get(&refund.out_trade_no).and_then(|o| o.transaction_id.clone());
            serde_json::json!({
                "mchid": self.shared.identity.mchid,
                "out_trade_no": refund.out_trade_no,
                "transaction_id": transaction_id,
                "out_refund_no": out_refund_no,
                "refund_id": refund.refund_id,
                "refund_status": "SUCCESS",
                "success_time": state::now_rfc3339(),
                "user_received_account": "支付用户零钱",
                "amount": {
                    "total": refund.request["amount"]["total"],
                    "refund": refund.request["amount"]["refund"],
                    "payer_total": refund.request["amount"]["total"],
                    "payer_refund": refund.request["amount"]["refund"],
                },
            })
        };
        self.notification("REFUND.SUCCESS", "退款成功", "refund", &resource)
    }

    /// A [`NotificationVerifier`](crate::NotificationVerifier) that trusts this emulator (what a
    /// webhook under test should be configured with).
    pub fn notification_verifier(&self) -> Result<crate::NotificationVerifier> {
        let identity = &self.shared.identity;
        let keys = match self.shared.mode {
            Mode::PublicKey => {
                crate::KeyRing::new().with(identity.pub_key_id.clone(), identity.wechatpay.public_key().clone())
            }
            Mode::PlatformCertificate => self
                .shared
                .platforms
                .served()
                .iter()
                .map(|m| (platform::serial_of(m).to_owned(), m.public_key().clone()))
                .collect(),
        };
        crate::NotificationVerifier::new(identity.apiv3_key.as_bytes(), keys)
    }

    /// Marks an order paid, as if the payer completed it; returns the transaction object (what a
    /// `TRANSACTION.SUCCESS` notification carries).
    pub fn pay(&self, out_trade_no: &str) -> Result<Value> {
        let mut orders = self
            .shared
            .state
            .orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let order = orders
            .get_mut(out_trade_no)
            .ok_or_else(|| ConfigError::new("out_trade_no", format!("no order {out_trade_no} in the emulator")))?;
        if order.trade_state == "CLOSED" {
            return Err(ConfigError::new("out_trade_no", format!("order {out_trade_no} is closed")).into());
        }
        if order.transaction_id.is_none() {
            order.trade_state = "SUCCESS";
            order.transaction_id = Some(format!("4200{:024}", self.shared.state.next()));
            order.success_time = Some(state::now_rfc3339());
        }
        Ok(routes::transaction(&self.shared.identity, out_trade_no, order))
    }
}
