//! # wechatpay — the WeChat Pay (微信支付) merchant API client for Rust
//!
//! The same shape as the PHP SDK `wechatpay-php`, so PHP code ports line by line: a chainable
//! [`Client`] over every APIv3 and APIv2 path, and the helpers `Rsa`, `AesGcm`, `AesEcb`, `Hash`,
//! `Formatter` and `PemUtil` with their PHP names and behaviour.
//!
//! ## A tour
//!
//! Start on the local emulator (`wechatpay::emulator`), which speaks the WeChat Pay protocol (signatures both ways)
//! so nothing here needs a merchant account. Against the real API only the builder changes: your
//! mchid, merchant serial, `apiclient_key.pem` and WeChat Pay public key.
//!
//! ```
//! # #[cfg(all(feature = "emulator", feature = "accessors"))]
//! # fn main() -> wechatpay::Result<()> {
//! use serde_json::json;
//! use wechatpay::emulator::Emulator;
//!
//! let emulator = Emulator::start()?;
//! let client = emulator.client_builder().build()?;
//! // For the real API: Builder::new().mchid("1900000109").serial("…")
//! //     .private_key(Rsa::from_private("file://…")?).cert("PUB_KEY_ID_…", Rsa::from_public("file://…")?).build()?
//! let options = json!({"json": {
//!     "out_request_no": "1002600620019090123143254436", "brand_id": "120344",
//!     "card_id": "pbLatjnrVHnhTPjJ0x6IqpvNHHzE", "openid": "obLatjhnq8Z-0NNfYpOVjP4Z6q8o",
//!     "user_card_code": "478515832665", "point_balance": 100,
//! }});
//! // Three ways to name a path, one signed and verified pipeline:
//! let answer = client.chain("v3/brand/partner/card-member/user-points/sync").post(&options)?;
//! client["v3/brand/partner/card-member/user-points/sync"].post(&options)?;
//! client.v3().brand().partner().card_member().user_points().sync().post(&options)?;
//! assert_eq!(answer.status(), 200);
//! # Ok(()) }
//! # #[cfg(not(all(feature = "emulator", feature = "accessors")))]
//! # fn main() {}
//! ```
//!
//! Every verb has an `_async` twin whose future runs in the caller's task (see [`Client`] for
//! where calls run), and path variables come from the options:
//!
//! ```no_run
//! # async fn demo(client: wechatpay::Client) -> wechatpay::Result<()> {
//! let options = serde_json::json!({"transaction_id": "4200000001", "query": {"mchid": "1900000109"}});
//! let order = client["v3/pay/transactions/id/{transaction_id}"].get_async(&options).await?;
//! let state: serde_json::Value = order.json()?;
//! # let _ = state; Ok(()) }
//! ```
//!
//! Every call — JSON, uploads, APIv2, downloads — passes the same named [`middleware`] layers
//! (`verifier`, `retry`, `rate_limit`, `http_errors`, `signer`, then the transport), where your
//! own layers go too.
//! Errors are one [`Error`] whose variants are the kinds you act on.
//!
//! The helpers work on their own. Load keys in any form wechatpay-php accepts — PEM text,
//! `file://` paths, `private.pkcs8://…`:
//!
//! ```
//! use wechatpay::{PemUtil, Rsa};
//!
//! let merchant_key = Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?;
//! let platform_cert = PemUtil::load_certificate("tests/fixtures/keys/platform_cert.pem")?;
//! let serial = platform_cert.serial_no(); // "7132D72A03E93CDDF8C03BBD1F37EEDF204A1D7F"-style
//! # assert_eq!(serial.len() % 2, 0);
//! # let _ = merchant_key;
//! # Ok::<(), wechatpay::Error>(())
//! ```
//!
//! Sign by hand the way the APIv3 `Authorization` header needs (the client does this for you):
//!
//! ```
//! use wechatpay::{Formatter, Rsa};
//! # let merchant_key = Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?;
//!
//! let (nonce, timestamp) = (Formatter::nonce(32)?, Formatter::timestamp());
//! let message = Formatter::request("GET", "/v3/certificates", timestamp, &nonce, "");
//! let signature = Rsa::sign(&message, &merchant_key)?;
//! let authorization = Formatter::authorization("1900000109", &nonce, &signature, timestamp, "MERCHANT_SERIAL");
//! assert!(authorization.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\""));
//! # Ok::<(), wechatpay::Error>(())
//! ```
//!
//! Encrypt a sensitive field for WeChat Pay (RSA-OAEP), decrypt one for yourself, and open
//! AES-GCM payloads under the APIv3 key:
//!
//! ```
//! use wechatpay::{AesGcm, Rsa};
//! # let platform_key = Rsa::from_public("file://tests/fixtures/keys/merchant_cert.pem")?;
//! # let merchant_key = Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?;
//!
//! let name = Rsa::encrypt("张三", &platform_key)?;
//! # assert_eq!(Rsa::decrypt(&name, &merchant_key)?, "张三");
//! let sealed = AesGcm::encrypt("{\"a\":1}", "0123456789abcdefghijklmnopqrstuv", "nonce_12byte", "aad")?;
//! assert_eq!(AesGcm::decrypt(&sealed, "0123456789abcdefghijklmnopqrstuv", "nonce_12byte", "aad")?, "{\"a\":1}");
//! # Ok::<(), wechatpay::Error>(())
//! ```
//!
//! Verify and decrypt a callback notification from the raw body: see [`NotificationVerifier`].
//! APIv2 signatures: [`Hash`](struct@Hash).
//!
//! ## Tracing
//!
//! Every call is a [`tracing`](https://docs.rs/tracing) span `wechatpay.call` (target `wechatpay`,
//! level `DEBUG`, or `INFO` for a call with the `debug` option) with `method`, `template` (the
//! path as written, never the filled-in path), `status`, `request_id`, `latency_ms`, `bytes` and,
//! on failure, `error` (its kind, never its message); retries add `retrying` events with the
//! attempt, the reason and the wait. Headers, keys and bodies are never recorded. Install any
//! subscriber to see them.
//!
//! ## Features
//!
//! | feature | default | what it gives |
//! | --- | --- | --- |
//! | `ring` | yes | the `ring` crypto backend (RSA, AES-GCM, digests, rustls provider) |
//! | `aws-lc-rs` | no | the `aws-lc-rs` backend; wins when both are on |
//! | `accessors` | yes | `client.v3()…` / `client.v2()…`, typed accessors for every catalogued endpoint |
//! | `emulator` | yes | `wechatpay::emulator`, a local WeChat Pay for tests without a merchant account |
//! | `cli` | yes | the `wechatpay` command (needs `emulator`) |
//! | `pkcs12` | yes | `PemUtil::load_pkcs12`, `Builder::merchant_pkcs12` (`apiclient_cert.p12`) |
//! | `native-roots` | no | trust the operating system's roots instead of the bundled webpki roots |
//! | `redis` | no | `RedisStore`: rate-limit buckets shared by every instance through Redis |
//!
//! ## Crypto backends
//!
//! Feature `ring` (default) or `aws-lc-rs`; the public API and every output are the same. When
//! both are enabled, `aws-lc-rs` is used: it signs RSA-2048 faster on CPUs with AVX-512 IFMA and
//! has RSA-OAEP built in (with `ring`, RSA-OAEP comes from the RustCrypto `rsa` crate).
//! [`crypto_backend`] tells which one a build uses.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod base_uri;
mod builder;
mod call_trace;
mod caller_headers;
pub mod catalog;
mod certificate_store;
mod certificates_answer;
mod chain;
mod client;
mod clock;
mod crypto;
mod download;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
mod error;
mod formatter;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod key_ring;
mod media;
pub mod middleware;
mod notify;
mod option_keys;
mod options;
mod pay_sign;
mod pipeline;
mod platform_certificates;
mod prepare;
mod query;
mod rate_limits;
mod redact;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
mod redis_store;
mod request;
mod response;
mod runtime;
mod shared_certificates;
mod signed_headers;
mod template;
mod transport;
pub mod v2;

pub use builder::{Builder, DEFAULT_BASE_URI};
pub use certificate_store::CertificateStore;
pub use chain::Chain;
pub use client::{Client, Encryptor};
pub use clock::{Clock, SystemClock};
pub use crypto::backend::crypto_backend;
pub use crypto::{AesEcb, AesGcm, Certificate, Hash, PemUtil, PrivateKey, PublicKey, Rsa, SignType};
pub use download::{BillLocation, Downloaded};
pub use error::{
    ApiError, ConfigError, CryptoError, DecodeError, Error, KeyError, Result, RetriedError, TemplateError,
    TransportError, TransportKind, VerifyCheck, VerifyError,
};
pub use formatter::Formatter;
pub use key_ring::KeyRing;
pub use media::MediaUtil;
pub use middleware::{
    MerchantSigner, Middleware, Next, RetryPolicy, Signer, SigningRequest, Verifier, WechatpayVerifier,
};
pub use notify::{Notification, NotificationVerifier, WebhookReply};
pub use options::Options;
pub use pay_sign::{AppPayParams, JsapiPayParams};
pub use platform_certificates::{PlatformCertificate, PlatformCertificates, DEFAULT_REFRESH_INTERVAL};
pub use rate_limits::{InProcessStore, Rate, RateLimitStore, RateLimits};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_store::RedisStore;
pub use request::{Endpoint, Request};
pub use response::Response;
pub use signed_headers::{
    Headers, MAX_CLOCK_SKEW, WECHATPAY_NONCE, WECHATPAY_SERIAL, WECHATPAY_SIGNATURE, WECHATPAY_TIMESTAMP,
};
pub use transport::HttpVersions;

/// Compiles and runs every Rust snippet in README.md as a doctest (they use the default features).
#[cfg(all(doctest, feature = "emulator", feature = "accessors"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
