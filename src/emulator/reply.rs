//! An emulator answer, and signing it as WeChat Pay does (or, on request, as it must not).

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use super::fault::Fault;
use crate::crypto::Rsa;
use crate::formatter::Formatter;

/// What a route answers, before signing.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    pub(crate) content_type: Option<&'static str>,
    /// Unsigned downloads are not signed.
    pub(crate) signed: bool,
    /// A body generated while it is sent (synthetic bills), instead of `body`.
    pub(crate) rows: Option<u64>,
    /// Signed over `{"sha1":…}` with `Wechatpay-Statement-Sha1`, as statements are.
    pub(crate) statement: bool,
}

/// The emulator's response body: whole, or streamed.
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

impl Reply {
    pub(crate) fn json(status: StatusCode, value: &Value) -> Self {
        Self {
            status,
            body: Bytes::from(value.to_string()),
            content_type: Some("application/json"),
            signed: true,
            rows: None,
            statement: false,
        }
    }

    pub(crate) fn ok(value: &Value) -> Self {
        Self::json(StatusCode::OK, value)
    }

    pub(crate) fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: Bytes::new(),
            content_type: None,
            signed: true,
            rows: None,
            statement: false,
        }
    }

    /// WeChat Pay's error shape.
    pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self::json(status, &json!({"code": code, "message": message.into()}))
    }

    pub(crate) fn error_with_detail(status: StatusCode, code: &str, message: impl Into<String>, detail: Value) -> Self {
        Self::json(
            status,
            &json!({"code": code, "message": message.into(), "detail": detail}),
        )
    }
}

/// Signs `reply` in `mode`, applying `faults`; returns the HTTP response.
pub(crate) fn render(
    signing: &(crate::crypto::PrivateKey, String),
    reply: Reply,
    faults: &[Fault],
    request_id: &str,
) -> http::Response<Body> {
    let mut reply = reply;
    if faults.contains(&Fault::SystemError) {
        reply = Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误 (emulated fault)",
        );
    } else if faults.contains(&Fault::FrequencyLimited) {
        reply = Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            "FREQUENCY_LIMITED",
            "频率超限 (emulated fault)",
        );
    }
    let mut response = http::Response::builder()
        .status(reply.status)
        .header("Request-ID", request_id)
        .header("Server", "wechatpay-sdk emulator");
    if let Some(content_type) = reply.content_type {
        response = response.header("Content-Type", content_type);
    }
    let mut body = reply.body.clone();
    if reply.signed {
        let (key, serial) = (&signing.0, signing.1.clone());
        let skew: i64 = faults
            .iter()
            .map(|f| if let Fault::TimestampSkew(s) = f { *s } else { 0 })
            .sum();
        let timestamp = Formatter::timestamp() + skew;
        let nonce = Formatter::nonce(32).unwrap_or_default();
        let signed_body = if reply.statement {
            let sha1 = crate::crypto::hex::lower(&crate::crypto::backend::sha1(&reply.body));
            response = response.header("Wechatpay-Statement-Sha1", sha1.as_str());
            Bytes::from(format!("{{\"sha1\":\"{sha1}\"}}"))
        } else {
            reply.body.clone()
        };
        let message = Formatter::response_bytes(&timestamp.to_string(), &nonce, &signed_body);
        let mut signature = Rsa::sign(&message, key).unwrap_or_default();
        if faults.contains(&Fault::BadSignature) {
            // Same length and alphabet, wrong bytes.
            signature = signature.chars().rev().collect();
        }
        let serial = if faults.contains(&Fault::UnknownSerial) {
            "PUB_KEY_ID_0000000000000000000000000000UNKNOWN".to_owned()
        } else {
            serial
        };
        for (name, value) in [
            ("Wechatpay-Timestamp", timestamp.to_string()),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", serial),
        ] {
            if !faults.contains(&Fault::MissingHeader(name)) {
                response = response.header(name, value);
            }
        }
    }
    // After signing, so a signed answer's body no longer matches; unsigned downloads change too.
    if faults.contains(&Fault::TamperBody) {
        let mut tampered = body.to_vec();
        tampered.extend_from_slice(b" ");
        body = Bytes::from(tampered);
    }
    let tamper = faults.contains(&Fault::TamperBody);
    let body: Body = match reply.rows {
        Some(rows) => {
            let frames = futures_util::stream::iter(
                super::state::synthetic_chunks(rows)
                    .map(|chunk| Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(chunk))),
            );
            // A tampered stream gets one extra byte at the end.
            let extra = tamper.then(|| Ok(hyper::body::Frame::data(Bytes::from_static(b" "))));
            http_body_util::StreamBody::new(futures_util::StreamExt::chain(
                frames,
                futures_util::stream::iter(extra),
            ))
            .boxed()
        }
        None => Full::new(body).boxed(),
    };
    response.body(body).unwrap_or_else(|_| {
        let mut fallback = http::Response::new(Full::new(Bytes::from_static(b"emulator: bad response")).boxed());
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
            .headers_mut()
            .insert("Request-ID", HeaderValue::from_static("emulator"));
        fallback
    })
}
