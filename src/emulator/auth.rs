//! Checking a request's `Authorization` the way WeChat Pay does.
//!
//! A failure is 401 `SIGN_ERROR` whose `detail.sign_information.sign_message` is the exact
//! message the emulator expected to be signed, so a user can diff it against what their code
//! signed.

use http::{HeaderMap, StatusCode};
use serde_json::json;

use super::identity::Identity;
use super::reply::Reply;
use crate::crypto::Rsa;
use crate::signed_headers::MAX_CLOCK_SKEW;

const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048 ";

/// The `Authorization` fields.
pub(crate) struct Fields {
    mchid: String,
    serial_no: String,
    timestamp: String,
    nonce_str: String,
    signature: String,
}

fn parse(header: &str) -> Option<Fields> {
    let fields = header.strip_prefix(SCHEME)?;
    let get = |name: &str| {
        fields.split(',').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.trim_matches('"').to_owned())
        })
    };
    Some(Fields {
        mchid: get("mchid")?,
        serial_no: get("serial_no")?,
        timestamp: get("timestamp")?,
        nonce_str: get("nonce_str")?,
        signature: get("signature")?,
    })
}

/// How much of the expected message a 401 shows: enough to diff any real request, while a
/// rejected 16 MiB body is not echoed back (JSON escaping could make it six times larger).
const MAX_ECHO: usize = 64 << 10;

/// The 401 WeChat Pay would answer, showing (the start of) the message it expected.
fn reject(method: &str, target: &str, issue: &str, sign_message: Option<&[u8]>) -> Reply {
    let shown = sign_message.map(|m| String::from_utf8_lossy(m.get(..MAX_ECHO).unwrap_or(m)).into_owned());
    let mut sign_information = json!({
        "method": method,
        "url": target,
        "sign_message": shown,
        "sign_message_length": sign_message.map(<[u8]>::len),
    });
    if sign_message.is_some_and(|m| m.len() > MAX_ECHO) {
        sign_information["sign_message_truncated_to"] = json!(MAX_ECHO);
    }
    Reply::error_with_detail(
        StatusCode::UNAUTHORIZED,
        "SIGN_ERROR",
        format!("签名错误: {issue}"),
        json!({"issue": issue, "sign_information": sign_information}),
    )
}

/// The `Authorization` fields, or the 401 for a missing or malformed header. Needs no body, so a
/// request without a usable `Authorization` is refused before its body is read.
pub(crate) fn precheck(method: &str, target: &str, headers: &HeaderMap) -> Result<Fields, Reply> {
    let Some(header) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(reject(method, target, "the Authorization header is missing", None));
    };
    parse(header).ok_or_else(|| {
        reject(
            method,
            target,
            "Authorization must be `WECHATPAY2-SHA256-RSA2048 mchid=\"…\",serial_no=\"…\",timestamp=\"…\",nonce_str=\"…\",signature=\"…\"`",
            None,
        )
    })
}

/// `Ok(())` if the request's `Authorization` is worth reading the body for: well-formed, naming
/// this merchant and its certificate's serial (which a client that never saw the emulator's
/// files cannot guess); else the 401, whose `sign_message` is null since no body was read.
pub(crate) fn precheck_merchant(
    identity: &Identity,
    method: &str,
    target: &str,
    headers: &HeaderMap,
) -> Result<(), Reply> {
    let fields = precheck(method, target, headers)?;
    if fields.mchid != identity.mchid {
        let issue = format!("mchid {} is not this merchant ({})", fields.mchid, identity.mchid);
        return Err(reject(method, target, &issue, None));
    }
    if fields.serial_no != identity.merchant_serial() {
        // The expected serial is not shown: it is what keeps a blind client from getting its
        // body read.
        let issue = format!(
            "serial_no {} is not the merchant API certificate's serial",
            fields.serial_no
        );
        return Err(reject(method, target, &issue, None));
    }
    Ok(())
}

/// `Ok(())`, or the 401 WeChat Pay would answer.
pub(crate) fn check(
    identity: &Identity,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    signed_body: &[u8],
    now: i64,
) -> Result<(), Reply> {
    let reject = |issue: &str, sign_message: Option<&[u8]>| Err(reject(method, target, issue, sign_message));
    let fields = precheck(method, target, headers)?;
    let message = [
        method.as_bytes(),
        target.as_bytes(),
        fields.timestamp.as_bytes(),
        fields.nonce_str.as_bytes(),
        signed_body,
    ]
    .iter()
    .fold(Vec::new(), |mut out, piece| {
        out.extend_from_slice(piece);
        out.push(b'\n');
        out
    });
    if fields.mchid != identity.mchid {
        return reject(
            &format!("mchid {} is not this merchant ({})", fields.mchid, identity.mchid),
            Some(&message),
        );
    }
    if fields.serial_no != identity.merchant_serial() {
        return reject(
            &format!(
                "serial_no {} is not the merchant API certificate's serial",
                fields.serial_no
            ),
            Some(&message),
        );
    }
    match fields.timestamp.parse::<i64>() {
        Ok(ts) if ts.abs_diff(now) <= MAX_CLOCK_SKEW => {}
        _ => {
            return reject(
                &format!(
                    "timestamp {} is more than {MAX_CLOCK_SKEW} s from the server's {now}",
                    fields.timestamp
                ),
                Some(&message),
            )
        }
    }
    if fields.nonce_str.is_empty() || fields.nonce_str.len() > 32 {
        return reject("nonce_str must be 1 to 32 characters", Some(&message));
    }
    match Rsa::verify(&message, &fields.signature, identity.merchant.public_key()) {
        Ok(true) => Ok(()),
        _ => reject(
            "the signature does not verify over sign_message with the merchant certificate's key",
            Some(&message),
        ),
    }
}
