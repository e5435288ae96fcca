//! The crate's one error type.
//!
//! Every fallible function returns [`Result<T>`](crate::Result), whose error is [`Error`]. The
//! variants are the kinds a caller acts on differently; each carries a detail type that names
//! exactly what was wrong. Secrets (key material, APIv3/APIv2 keys, plaintexts) never appear in
//! any message.

use std::path::PathBuf;
use std::time::Duration;

use crate::response::Response;

/// `Result<T, wechatpay::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by kind.
///
/// Match on the variant, or ask with the `is_*` predicates:
///
/// ```
/// use wechatpay::{Error, KeyError, Rsa};
///
/// let err = Rsa::from_private("file:///no/such/apiclient_key.pem").unwrap_err();
/// assert!(err.is_key());
/// assert!(matches!(err, Error::Key(KeyError::File { .. })));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid configuration or argument, found before any I/O.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A key or certificate could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A cryptographic operation failed (wrong key size, failed tag check, …).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A WeChat Pay signature check failed; [`VerifyError::check`] says which one.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A body could not be decoded into the expected shape.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A path template could not be expanded (missing or mistyped variable, bad syntax).
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The request did not complete: connection, TLS, I/O, or a body over the size cap.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request took longer than its timeout.
    #[error("the request timed out after {0:?}")]
    Timeout(Duration),
    /// WeChat Pay answered with a non-2xx status.
    #[error(transparent)]
    Api(#[from] Box<ApiError>),
    /// The endpoint's documented rate limit (see [`RateLimits`](crate::RateLimits)) would let the
    /// call go only after its deadline; nothing was sent. The duration is the limit's spacing.
    #[error(
        "the endpoint's rate limit (one call every {0:?}) leaves no slot before the call's timeout; nothing was sent"
    )]
    RateLimited(Duration),
    /// Every attempt of a retried call failed. The `is_*` predicates and accessors answer for the
    /// last attempt's error; [`RetriedError::attempts`] says why each earlier one failed.
    #[error(transparent)]
    Retried(Box<RetriedError>),
}

/// The attempts of a call that failed every time (see [`RetryPolicy`](crate::RetryPolicy)).
///
/// ```
/// # use wechatpay::{Error, RetriedError};
/// # fn show(err: &Error) {
/// if let Error::Retried(retried) = err {
///     eprintln!("{} attempts; earlier failures: {:?}", retried.count(), retried.attempts());
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{} attempts failed ({}); the last: {last}", self.count(), self.earlier())]
pub struct RetriedError {
    attempts: Vec<String>,
    last: Error,
}

impl RetriedError {
    pub(crate) fn new(attempts: Vec<String>, last: Error) -> Self {
        Self { attempts, last }
    }

    /// How many attempts were made.
    pub fn count(&self) -> usize {
        self.attempts.len() + 1
    }

    /// Why each attempt before the last failed, in order.
    pub fn attempts(&self) -> &[String] {
        &self.attempts
    }

    /// The last attempt's error.
    pub fn last(&self) -> &Error {
        &self.last
    }

    fn earlier(&self) -> String {
        self.attempts
            .iter()
            .enumerate()
            .map(|(i, why)| format!("{}: {why}", i + 1))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl From<RetriedError> for Error {
    fn from(e: RetriedError) -> Self {
        Error::Retried(Box::new(e))
    }
}

impl Error {
    /// The error that decides the kind: the last attempt's, for a retried call.
    fn kind(&self) -> &Error {
        match self {
            Error::Retried(retried) => retried.last.kind(),
            other => other,
        }
    }

    /// Invalid configuration or argument.
    pub fn is_config(&self) -> bool {
        matches!(self.kind(), Error::Config(_))
    }

    /// A key or certificate failed to load.
    pub fn is_key(&self) -> bool {
        matches!(self.kind(), Error::Key(_))
    }

    /// A cryptographic operation failed.
    pub fn is_crypto(&self) -> bool {
        matches!(self.kind(), Error::Crypto(_))
    }

    /// A signature verification failed.
    pub fn is_verify(&self) -> bool {
        matches!(self.kind(), Error::Verify(_))
    }

    /// A body did not decode.
    pub fn is_decode(&self) -> bool {
        matches!(self.kind(), Error::Decode(_))
    }

    /// A path template did not expand.
    pub fn is_template(&self) -> bool {
        matches!(self.kind(), Error::Template(_))
    }

    /// The request failed in transport (connect, TLS, I/O, body cap).
    pub fn is_transport(&self) -> bool {
        matches!(self.kind(), Error::Transport(_))
    }

    /// The request (or its connection attempt) timed out.
    pub fn is_timeout(&self) -> bool {
        match self.kind() {
            Error::Timeout(_) => true,
            Error::Transport(e) => e.kind() == TransportKind::ConnectTimeout,
            _ => false,
        }
    }

    /// The client's rate limiting refused the call before sending.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.kind(), Error::RateLimited(_))
    }

    /// WeChat Pay answered with a non-2xx status.
    pub fn is_api(&self) -> bool {
        matches!(self.kind(), Error::Api(_))
    }

    /// The API error (status, code, message, detail, Request-ID), if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self.kind() {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The verification failure, if this is one.
    pub fn verify(&self) -> Option<&VerifyError> {
        match self.kind() {
            Error::Verify(e) => Some(e),
            _ => None,
        }
    }
}

/// An invalid argument or setting, naming the field.
///
/// ```
/// use wechatpay::Hash;
///
/// let err = Hash::sign("SHA1", "a=1", "key").unwrap_err();
/// assert!(err.is_config());
/// assert!(err.to_string().contains("sign_type"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ConfigError {
    field: String,
    reason: String,
}

impl ConfigError {
    /// An error about `field` (e.g. for a custom [`Signer`](crate::Signer) to report).
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The option, argument or builder field that was wrong.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Why it was wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Why a key or certificate did not load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A `file://` path could not be read.
    #[error("cannot read key file {path}: {source}")]
    File {
        /// The path after `file://`.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Key or certificate text was given where a file path was expected (e.g. PEM text passed
    /// to `PemUtil::load_private_key`, or after `file://`). The text is not repeated: it may be
    /// a private key.
    #[error("key or certificate text was given where a file path was expected: pass the text itself to Rsa::from_private / Rsa::from_public / PemUtil::load_*_from_string, or give a path")]
    KeyTextAsPath,
    /// The input is none of the accepted forms.
    #[error("unrecognized {expected} input: expected {accepted}")]
    UnrecognizedInput {
        /// `"private key"`, `"public key"` or `"certificate"`.
        expected: &'static str,
        /// The forms that are accepted.
        accepted: &'static str,
    },
    /// A PEM block is malformed (no END line, stray header, …).
    #[error("malformed PEM: {detail}")]
    Pem {
        /// What is wrong with it.
        detail: String,
    },
    /// A PEM block has a label this function does not take.
    #[error("unsupported PEM block `{label}` where a {expected} was expected")]
    UnsupportedPemLabel {
        /// The label after `BEGIN`.
        label: String,
        /// What was expected.
        expected: &'static str,
    },
    /// Base64 text (in PEM or after `private.pkcs8://` etc.) is invalid or truncated.
    #[error("invalid base64 in {what}: {detail}")]
    Base64 {
        /// Where the base64 was.
        what: &'static str,
        /// The decoder's complaint.
        detail: String,
    },
    /// The DER structure is malformed or truncated.
    #[error("malformed {what}: {detail}")]
    Der {
        /// The structure expected, e.g. `"PKCS#8 PrivateKeyInfo"`.
        what: &'static str,
        /// The parser's complaint.
        detail: String,
    },
    /// A certificate was given where a private key was expected.
    #[error("a certificate was given where a private key was expected (load it with Rsa::from_public or PemUtil::load_certificate)")]
    CertificateGiven,
    /// A public key was given where a private key was expected.
    #[error("a public key was given where a private key was expected")]
    PublicKeyGiven,
    /// A private key was given where a public key or certificate was expected.
    #[error("a private key was given where a public key or certificate was expected")]
    PrivateKeyGiven,
    /// The key is not an RSA key.
    #[error("not an RSA key: {algorithm}")]
    NotRsa {
        /// The algorithm found (name and OID where known).
        algorithm: String,
    },
    /// The RSA modulus is smaller than WeChat Pay's 2048 bits.
    #[error("RSA key of {bits} bits is too small: WeChat Pay requires at least 2048 bits")]
    TooSmall {
        /// The modulus size found.
        bits: usize,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted: load it with Rsa::from_private_with_passphrase")]
    PassphraseRequired,
    /// The passphrase did not decrypt the key.
    #[error("cannot decrypt the private key: wrong passphrase or corrupt key")]
    WrongPassphrase,
    /// The key uses an encryption the crate does not support (legacy OpenSSL PEM encryption).
    #[error("unsupported key encryption: {detail}")]
    UnsupportedEncryption {
        /// What was found and how to convert it.
        detail: String,
    },
    /// The crypto backend refused the key.
    #[error("the crypto backend rejected the key: {detail}")]
    Rejected {
        /// The backend's reason.
        detail: String,
    },
}

/// Why a cryptographic operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A symmetric key has the wrong length.
    #[error("{algorithm} needs a {expected}-byte key, got {actual} bytes")]
    KeyLength {
        /// The algorithm.
        algorithm: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A nonce/IV has the wrong length.
    #[error("{algorithm} needs a {expected}-byte nonce, got {actual} bytes")]
    NonceLength {
        /// The algorithm.
        algorithm: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// An input that must be base64 is not.
    #[error("invalid base64 in {what}: {detail}")]
    Base64 {
        /// Which input.
        what: &'static str,
        /// The decoder's complaint.
        detail: String,
    },
    /// Decryption failed: wrong key, nonce or associated data, or altered ciphertext.
    #[error("{algorithm} decryption failed: wrong key, nonce or associated data, or altered ciphertext")]
    Decrypt {
        /// The algorithm.
        algorithm: &'static str,
    },
    /// The plaintext is too long for RSA-OAEP with this key.
    #[error("plaintext of {actual} bytes is too long for RSA-OAEP with this key (at most {max})")]
    MessageTooLong {
        /// The largest plaintext the key takes.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A decrypted value is not UTF-8 text.
    #[error("the decrypted {what} is not UTF-8 text")]
    NotUtf8 {
        /// Which value.
        what: &'static str,
    },
    /// An algorithm name the crate does not implement.
    #[error("unsupported algorithm `{name}` (expected {expected})")]
    UnsupportedAlgorithm {
        /// The name found.
        name: String,
        /// The name(s) supported.
        expected: &'static str,
    },
    /// The backend failed (random source, signing).
    #[error("the crypto backend failed to {operation}")]
    Backend {
        /// What it was doing.
        operation: &'static str,
    },
}

/// A failed WeChat Pay signature check (responses and callback notifications).
///
/// [`check`](Self::check) says which step failed, so a caller can treat a
/// [`VerifyCheck::SignatureProbe`] (WeChat Pay's own signature-probing traffic) differently from a
/// forged message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("WeChat Pay signature verification failed: {check}")]
pub struct VerifyError {
    check: VerifyCheck,
    response: Option<Box<Response>>,
}

impl VerifyError {
    /// A failure of `check`, optionally keeping the response that failed it.
    pub fn new(check: VerifyCheck) -> Self {
        Self { check, response: None }
    }

    pub(crate) fn with_response(mut self, response: Response) -> Self {
        self.response = Some(Box::new(response));
        self
    }

    /// Which check failed.
    pub fn check(&self) -> &VerifyCheck {
        &self.check
    }

    /// The response that failed verification (absent for notifications).
    pub fn response(&self) -> Option<&Response> {
        self.response.as_deref()
    }

    /// `true` for WeChat Pay's signature-probe traffic (`Wechatpay-Signature: WECHATPAY/SIGNTEST/…`),
    /// which is expected to fail and needs no alarm.
    pub fn is_signature_probe(&self) -> bool {
        self.check == VerifyCheck::SignatureProbe
    }
}

impl From<VerifyCheck> for Error {
    fn from(check: VerifyCheck) -> Self {
        Error::Verify(VerifyError::new(check))
    }
}

/// The verification step that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyCheck {
    /// A `Wechatpay-*` header is absent or empty.
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    /// A `Wechatpay-*` header's value is not visible ASCII text.
    #[error("header {0} is not visible ASCII text")]
    InvalidHeader(&'static str),
    /// A `Wechatpay-*` header appears more than once; no value is picked.
    #[error("header {0} appears more than once")]
    DuplicateHeader(&'static str),
    /// WeChat Pay's signature-probe traffic: its signature is meant not to verify. Reported only
    /// for messages whose timestamp and serial passed.
    #[error("signature-probe message (Wechatpay-Signature starts with WECHATPAY/SIGNTEST/)")]
    SignatureProbe,
    /// `Wechatpay-Timestamp` is not a whole number of seconds written in digits only (the value,
    /// cut to 64 characters, control characters escaped).
    #[error("Wechatpay-Timestamp `{0}` is not a Unix timestamp")]
    InvalidTimestamp(String),
    /// `Wechatpay-Timestamp` is too far from the local clock.
    #[error("Wechatpay-Timestamp {timestamp} is {skew} s from the local clock {now} (at most {tolerance} s allowed)")]
    TimestampSkew {
        /// The header's timestamp.
        timestamp: i64,
        /// The local clock.
        now: i64,
        /// The difference in seconds.
        skew: u64,
        /// The largest difference accepted.
        tolerance: u64,
    },
    /// `Wechatpay-Serial` names no configured platform certificate or public key (the value, cut
    /// to 64 characters).
    #[error("Wechatpay-Serial {0} is not a configured platform certificate serial or PUB_KEY_ID")]
    UnknownSerial(String),
    /// The signature does not verify over `TIMESTAMP\nNONCE\nBODY\n`.
    #[error("the signature does not match the message (key {serial})")]
    BadSignature {
        /// The serial of the key it was checked with.
        serial: String,
    },
    /// `Wechatpay-Serial` names no known key, and the platform certificates could not be
    /// refreshed to learn it (the serial, cut to 64 characters, and why).
    #[error("Wechatpay-Serial {serial} is not known and the platform certificates could not be refreshed: {reason}")]
    CertificatesUnavailable {
        /// The serial the message named.
        serial: String,
        /// Why the certificates could not be downloaded or opened.
        reason: String,
    },
    /// A 204 answer carried a body, which WeChat Pay never sends.
    #[error("a 204 No Content answer carried a {0}-byte body")]
    UnexpectedBody(usize),
    /// An APIv2 message's `sign` is missing or wrong.
    #[error("the APIv2 sign is missing or does not match")]
    V2Sign,
    /// A downloaded bill does not hash to the `hash_value` its bill answer gave.
    #[error("the downloaded file's digest {actual} does not match hash_value {expected}")]
    DownloadDigest {
        /// The `hash_value`.
        expected: String,
        /// The file's digest, lowercase hex.
        actual: String,
    },
    /// A statement's body does not hash to its `Wechatpay-Statement-Sha1` header.
    #[error("the body's SHA-1 {actual} does not match Wechatpay-Statement-Sha1 {expected}")]
    StatementDigest {
        /// The header's value.
        expected: String,
        /// The body's SHA-1, lowercase hex.
        actual: String,
    },
}

/// A body that did not decode.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {what}: {source}")]
pub struct DecodeError {
    what: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl DecodeError {
    pub(crate) fn json(what: &'static str, source: serde_json::Error) -> Self {
        Self {
            what,
            source: Box::new(source),
        }
    }

    /// Keeps only where and what kind of JSON error happened: serde's message may quote values,
    /// and decrypted notification values (openids, bank accounts) must not reach logs.
    pub(crate) fn json_redacted(what: &'static str, source: serde_json::Error) -> Self {
        let summary = format!(
            "{:?} error at line {}, column {} (value details withheld)",
            source.classify(),
            source.line(),
            source.column()
        );
        Self {
            what,
            source: summary.into(),
        }
    }

    /// A body that parsed but says something impossible (`reason` holds no secret values).
    pub(crate) fn invalid(what: &'static str, reason: String) -> Self {
        Self {
            what,
            source: reason.into(),
        }
    }

    pub(crate) fn xml(reason: String) -> Self {
        Self {
            what: "XML",
            source: reason.into(),
        }
    }

    pub(crate) fn utf8(what: &'static str, source: std::str::Utf8Error) -> Self {
        Self {
            what,
            source: Box::new(source),
        }
    }

    /// What was being decoded.
    pub fn what(&self) -> &str {
        self.what
    }
}

/// A path template that did not expand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `{name}` in the path, and no option `name`.
    #[error("path template {} needs the option \"{}\"", crate::redact::control_chars(.template), crate::redact::control_chars(.name))]
    Missing {
        /// The variable.
        name: String,
        /// The path template.
        template: String,
    },
    /// The variable's value is not a string or number.
    #[error("option \"{0}\" must be a string or a number to fill {{{0}}}, got {found}", crate::redact::control_chars(.name))]
    WrongType {
        /// The variable.
        name: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// The expanded path has a `.` or `..` segment (literal, from a variable, or percent-encoded),
    /// which a server or proxy would resolve to another endpoint than the one signed.
    #[error("path template {} expands to a path with a `.` or `..` segment", crate::redact::control_chars(.template))]
    DotSegment {
        /// The path template.
        template: String,
    },
    /// The template itself is malformed (unclosed brace, unsupported operator).
    #[error("malformed path template {}: {}", crate::redact::control_chars(.template), crate::redact::control_chars(.reason))]
    Syntax {
        /// The path template.
        template: String,
        /// What is wrong.
        reason: String,
    },
}

/// What went wrong in transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection (TCP, proxy tunnel or TLS handshake) could not be made.
    Connect,
    /// The connection was not made within the connect timeout (nothing was sent).
    /// [`Error::is_timeout`] is true for it too.
    ConnectTimeout,
    /// The request or response failed mid-way.
    Io,
    /// The response body was larger than the configured cap.
    BodyTooLarge,
}

/// A request that did not complete.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    kind: TransportKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportKind,
        message: impl Into<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }
}

/// A non-2xx answer from WeChat Pay: `{"code": …, "message": …, "detail": …}` plus the
/// `Request-ID` to quote to WeChat Pay support.
///
/// Its `Display` escapes control characters in the server's text (`\u{1b}`), so a hostile or
/// broken server cannot forge log lines or drive a terminal; the accessors return the raw values.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "WeChat Pay answered {status} {code}: {message} (Request-ID {request_id})",
    code = crate::redact::control_chars(&self.code),
    message = crate::redact::control_chars(&self.message),
    request_id = crate::redact::control_chars(self.request_id().unwrap_or("none"))
)]
pub struct ApiError {
    status: http::StatusCode,
    code: String,
    message: String,
    detail: Option<serde_json::Value>,
    response: Response,
}

impl ApiError {
    /// Reads the error body; a body that is not WeChat Pay's JSON shape keeps its text as message.
    pub(crate) fn from_response(response: Response) -> Self {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default)]
            detail: Option<serde_json::Value>,
        }
        let parsed = serde_json::from_slice::<Body>(response.bytes()).ok();
        let (code, message, detail) = match parsed {
            Some(b) => (b.code, b.message, b.detail),
            None => (
                String::new(),
                String::from_utf8_lossy(&response.bytes()[..response.bytes().len().min(512)]).into_owned(),
                None,
            ),
        };
        Self {
            status: response.status(),
            code,
            message,
            detail,
            response,
        }
    }

    /// An APIv2 failure: `return_code`/`return_msg`, or `err_code`/`err_code_des` when the
    /// business result failed; `detail` is the whole parsed answer.
    pub(crate) fn v2(response: Response, code: String, message: String, parsed: serde_json::Value) -> Self {
        Self {
            status: response.status(),
            code,
            message,
            detail: Some(parsed),
            response,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> http::StatusCode {
        self.status
    }

    /// WeChat Pay's error code, e.g. `PARAM_ERROR`, `SIGN_ERROR`, `FREQUENCY_LIMITED`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// WeChat Pay's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// WeChat Pay's `detail` object, when given.
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.detail.as_ref()
    }

    /// The `Request-ID` header.
    pub fn request_id(&self) -> Option<&str> {
        self.response.request_id()
    }

    /// The whole response.
    pub fn response(&self) -> &Response {
        &self.response
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}
