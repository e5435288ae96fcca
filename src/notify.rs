//! Callback notifications: verify the signature over the raw body, then decrypt `resource`.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::clock::{Clock, SystemClock};
use crate::crypto::AesGcm;
use crate::error::{ConfigError, CryptoError, DecodeError, Result, VerifyError};
use crate::key_ring::KeyRing;
use crate::signed_headers::{Headers, SignedHeaders};

/// Checks and opens the callback notifications WeChat Pay POSTs to a merchant's `notify_url`.
///
/// In order: the four `Wechatpay-*` headers are present; the signature is not WeChat Pay's
/// signature probe; `Wechatpay-Timestamp` is within 300 s of the clock; `Wechatpay-Serial` is in
/// the key ring; the signature verifies over `TIMESTAMP\nNONCE\nBODY\n` using the **raw** body
/// bytes (never a re-serialized body); then `resource` is decrypted with AEAD_AES_256_GCM under
/// the APIv3 key. Each failure is its own error ([`VerifyCheck`](crate::VerifyCheck) for the
/// signature steps, [`CryptoError`] for decryption, [`DecodeError`] for JSON).
///
/// ```
/// use wechatpay::{KeyRing, NotificationVerifier, Rsa};
/// # let dir = "tests/fixtures/notifications";
/// # let headers: Vec<(String, String)> = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/transaction.headers.json")).unwrap()).unwrap();
/// # let body = std::fs::read(format!("{dir}/transaction.body.json")).unwrap();
/// # let ts: i64 = headers.iter().find(|(k, _)| k == "Wechatpay-Timestamp").unwrap().1.parse().unwrap();
///
/// let keys = KeyRing::new().with(
///     "PUB_KEY_ID_0114232134912410000000000000",
///     Rsa::from_public("file://tests/fixtures/keys/pubkey.pem")?,
/// );
/// let verifier = NotificationVerifier::new("0123456789abcdefghijklmnopqrstuv", keys)?
/// #   .with_clock(move || ts)
///     ;
/// // `headers`: an http::HeaderMap or (name, value) pairs; `body`: the raw request body bytes.
/// let notification = verifier.verify(&headers, &body)?;
/// assert_eq!(notification.event_type, "TRANSACTION.SUCCESS");
/// assert_eq!(notification.resource["trade_state"], "SUCCESS");
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Clone)]
pub struct NotificationVerifier {
    keys: KeyRing,
    /// The client's self-refreshing certificates, used instead of `keys` when shared.
    certificates: Option<crate::PlatformCertificates>,
    apiv3_key: Arc<Zeroizing<Vec<u8>>>,
    clock: Arc<dyn Clock>,
}

impl NotificationVerifier {
    /// A verifier for the given APIv3 key (32 bytes) and WeChat Pay keys.
    pub fn new(apiv3_key: impl AsRef<[u8]>, keys: KeyRing) -> Result<Self> {
        let apiv3_key = apiv3_key.as_ref();
        if apiv3_key.len() != AesGcm::KEY_LENGTH {
            return Err(
                ConfigError::new("apiv3_key", format!("must be 32 bytes, got {} bytes", apiv3_key.len())).into(),
            );
        }
        if keys.is_empty() {
            return Err(ConfigError::new(
                "keys",
                "at least one platform certificate or WeChat Pay public key is needed",
            )
            .into());
        }
        Ok(Self {
            keys,
            certificates: None,
            apiv3_key: Arc::new(Zeroizing::new(apiv3_key.to_vec())),
            clock: Arc::new(SystemClock),
        })
    }

    /// A verifier that shares a client's platform certificates
    /// ([`Builder::auto_certificates`](crate::Builder::auto_certificates)) and their APIv3 key:
    /// a notification signed by a serial they lack makes them download again (once, however
    /// many notifications meet it), so a webhook follows WeChat Pay's certificate rotation.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # fn main() -> wechatpay::Result<()> {
    /// use wechatpay::emulator::{Emulator, Mode};
    /// use wechatpay::NotificationVerifier;
    ///
    /// let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start()?;
    /// let client = emulator.merchant_builder().auto_certificates(emulator.identity().apiv3_key.as_bytes()).build()?;
    /// let webhook = NotificationVerifier::with_certificates(client.certificates().unwrap());
    ///
    /// emulator.rotate_platform_certificate()?; // the webhook has never seen the new serial
    /// let sent = emulator.notification("TRANSACTION.SUCCESS", "支付成功", "transaction", &serde_json::json!({"trade_state": "SUCCESS"}))?;
    /// let notification = webhook.verify(&sent.headers, &sent.body)?;
    /// assert_eq!(notification.resource["trade_state"], "SUCCESS");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn with_certificates(certificates: &crate::PlatformCertificates) -> Self {
        Self {
            keys: KeyRing::new(),
            apiv3_key: Arc::new(Zeroizing::new(certificates.apiv3_key().to_vec())),
            certificates: Some(certificates.clone()),
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the clock used for the timestamp window (for tests and replays).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The keys notifications are checked against now (with shared certificates, the ones
    /// downloaded so far).
    pub fn keys(&self) -> KeyRing {
        match &self.certificates {
            Some(certificates) => certificates.keys(),
            None => self.keys.clone(),
        }
    }

    /// Verifies and decrypts; `resource` becomes a `serde_json::Value`. With
    /// [shared certificates](Self::with_certificates), an unknown serial blocks this thread for
    /// the download; async code uses [`verify_async`](Self::verify_async).
    pub fn verify<H: Headers + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<Notification> {
        self.verify_as(headers, body)
    }

    /// Verifies and decrypts; `resource` is deserialized into `T`.
    pub fn verify_as<T: DeserializeOwned, H: Headers + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<Notification<T>> {
        let signed = SignedHeaders::read(headers)?;
        let keys = match self.shared_keys(signed.serial) {
            Some(fetch) => crate::runtime::block_on(fetch)?,
            None => self.keys.clone(),
        };
        self.open(&signed, &keys, body)
    }

    /// [`verify`](Self::verify) for async code: a download the check needs is awaited.
    pub async fn verify_async<H: Headers + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<Notification> {
        self.verify_as_async(headers, body).await
    }

    /// [`verify_as`](Self::verify_as) for async code: a download the check needs is awaited.
    pub async fn verify_as_async<T: DeserializeOwned, H: Headers + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<Notification<T>> {
        let signed = SignedHeaders::read(headers)?;
        let keys = match self.shared_keys(signed.serial) {
            Some(fetch) => crate::runtime::in_caller(fetch).await?,
            None => self.keys.clone(),
        };
        self.open(&signed, &keys, body)
    }

    /// With shared certificates, the keys to check `serial` with (downloading first if needed).
    fn shared_keys(&self, serial: &str) -> Option<impl std::future::Future<Output = Result<KeyRing>> + Send + 'static> {
        let certificates = self.certificates.clone()?;
        let serial = serial.to_owned();
        Some(async move {
            certificates
                .keys_for(&serial)
                .await
                .map_err(|check| VerifyError::new(check).into())
        })
    }

    /// The signature check against `keys`, then the decryption.
    fn open<T: DeserializeOwned>(
        &self,
        signed: &SignedHeaders<'_>,
        keys: &KeyRing,
        body: &[u8],
    ) -> Result<Notification<T>> {
        signed.verify(body, keys, self.clock.now())?;
        let envelope: Envelope = serde_json::from_slice(body).map_err(|e| DecodeError::json("notification body", e))?;
        let resource = &envelope.resource;
        if resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(CryptoError::UnsupportedAlgorithm {
                name: resource.algorithm.clone(),
                expected: "AEAD_AES_256_GCM",
            }
            .into());
        }
        let plaintext = Zeroizing::new(AesGcm::decrypt_bytes(
            &resource.ciphertext,
            self.apiv3_key.as_slice(),
            &resource.nonce,
            &resource.associated_data,
        )?);
        let decoded =
            serde_json::from_slice(&plaintext).map_err(|e| DecodeError::json_redacted("notification resource", e))?;
        Ok(Notification {
            id: envelope.id,
            create_time: envelope.create_time,
            event_type: envelope.event_type,
            resource_type: envelope.resource_type,
            summary: envelope.summary,
            original_type: envelope.resource.original_type,
            serial: signed.serial.to_owned(),
            resource: decoded,
        })
    }
}

/// The answer a webhook gives WeChat Pay: 204 when the notification was taken, otherwise a
/// status and `{"code":"FAIL","message":…}` (WeChat Pay retries notifications that fail).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookReply {
    /// The HTTP status to answer with.
    pub status: http::StatusCode,
    /// The body (empty for 204).
    pub body: String,
}

impl WebhookReply {
    fn fail(status: http::StatusCode, message: &str) -> Self {
        Self {
            status,
            body: serde_json::json!({"code": "FAIL", "message": message}).to_string(),
        }
    }

    /// The reply for an outcome of [`NotificationVerifier::verify`]: 204 on success; 401 when
    /// the message is not authentic (a forgery, a replay, or WeChat Pay's signature probe); 500
    /// when it is authentic but could not be opened or decoded (a wrong APIv3 key or model on
    /// this side), or when the platform certificates needed to check it could not be downloaded,
    /// so WeChat Pay should send it again later. Details stay in your logs, not in
    /// the answer.
    ///
    /// ```
    /// use wechatpay::WebhookReply;
    /// # let outcome: wechatpay::Result<()> = Ok(());
    /// let reply = WebhookReply::for_outcome(&outcome);
    /// assert_eq!(reply.status, 204);
    /// ```
    pub fn for_outcome<T>(outcome: &Result<T>) -> Self {
        match outcome {
            Ok(_) => Self {
                status: http::StatusCode::NO_CONTENT,
                body: String::new(),
            },
            // Not a verdict on the message: this side could not get the key to check it with.
            Err(e)
                if matches!(
                    e.verify().map(VerifyError::check),
                    Some(crate::VerifyCheck::CertificatesUnavailable { .. })
                ) =>
            {
                Self::fail(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "平台证书暂不可用 (the platform certificates could not be refreshed)",
                )
            }
            Err(e) if e.is_verify() => Self::fail(
                http::StatusCode::UNAUTHORIZED,
                "签名验证失败 (signature verification failed)",
            ),
            Err(_) => Self::fail(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "通知处理失败 (the notification could not be processed)",
            ),
        }
    }
}

impl fmt::Debug for NotificationVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationVerifier")
            .field("keys", &self.keys)
            .field("certificates", &self.certificates)
            .field("apiv3_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    id: String,
    #[serde(default)]
    create_time: String,
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    summary: String,
    resource: EncryptedResource,
}

#[derive(Deserialize)]
struct EncryptedResource {
    algorithm: String,
    ciphertext: String,
    nonce: String,
    #[serde(default)]
    associated_data: String,
    #[serde(default)]
    original_type: String,
}

/// A verified, decrypted callback notification.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Notification<T = Value> {
    /// The notification id (WeChat Pay resends with the same id: deduplicate on it).
    pub id: String,
    /// When it was created, RFC 3339.
    pub create_time: String,
    /// E.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`.
    pub event_type: String,
    /// `encrypt-resource`.
    pub resource_type: String,
    /// WeChat Pay's summary, e.g. `支付成功`.
    pub summary: String,
    /// The decrypted object's type, e.g. `transaction`, `refund`.
    pub original_type: String,
    /// The `Wechatpay-Serial` whose key verified it.
    pub serial: String,
    /// The decrypted `resource`.
    pub resource: T,
}
