//! Hooks for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`; not a public API).
//!
//! Thin wrappers only: each reaches one crate-internal parser of outside input that the public
//! API does not expose directly. Everything else the targets fuzz is public.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::{ConfigError, TemplateError};

/// `template::expand`: RFC 6570 (levels 1–2) path expansion, as `ClientInner::prepare` does it.
pub fn expand_template(template: &str, variables: &Map<String, Value>) -> Result<String, TemplateError> {
    crate::template::expand(template, variables)
}

/// `query::build`: the `query` option (object or pre-encoded string) to a query string.
pub fn build_query(query: &Value) -> Result<String, ConfigError> {
    crate::query::build(query)
}

/// The store key the fuzzed values are read under.
const STORE_KEY: &str = "wechatpay:certificates:1900000109";

/// `shared_certificates::decode`: a set of platform certificates as read from a shared store
/// (Redis), which anyone with write access to the store can fill. With `reseal`, the value's MAC
/// is first made good for `apiv3_key`, to reach what is read after the MAC check. Returns the
/// number of certificates still valid, or why the value is not used.
pub fn decode_stored_certificates(value: &[u8], apiv3_key: &[u8], reseal: bool) -> Result<usize, String> {
    let resealed;
    let value = match reseal
        .then(|| crate::shared_certificates::reseal(STORE_KEY, value, apiv3_key))
        .flatten()
    {
        Some(sealed) => {
            resealed = sealed;
            &resealed[..]
        }
        None => value,
    };
    crate::shared_certificates::decode(STORE_KEY, value, apiv3_key, std::time::SystemTime::now())
        .map(|s| s.certificates.len())
}

/// A refusal's `(code, message, detail)`, read back from the JSON body the emulator would send.
#[cfg(feature = "emulator")]
fn refusal(reply: crate::emulator::reply::Reply) -> (String, String, Value) {
    let body: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
    let text = |key: &str| body[key].as_str().unwrap_or_default().to_owned();
    (text("code"), text("message"), body["detail"].clone())
}

/// The emulator's `multipart::boundary`: `Ok(Some(boundary))` for `multipart/form-data` with a
/// usable boundary, `Ok(None)` for another content type, `Err(())` for an unusable boundary.
#[cfg(feature = "emulator")]
#[allow(clippy::result_unit_err)]
pub fn multipart_boundary(content_type: &str) -> Result<Option<&str>, ()> {
    use crate::emulator::multipart::{boundary, Boundary};
    match boundary(content_type) {
        Boundary::Some(boundary) => Ok(Some(boundary)),
        Boundary::None => Ok(None),
        Boundary::Invalid => Err(()),
    }
}

/// The emulator's `multipart::parse`: `(name, filename, body)` of each part, or `None` when the
/// body is not well-formed multipart with this boundary.
#[cfg(feature = "emulator")]
pub fn multipart_parse(body: &Bytes, boundary: &str) -> Option<Vec<(String, Option<String>, Bytes)>> {
    crate::emulator::multipart::parse(body, boundary)
        .map(|parts| parts.into_iter().map(|p| (p.name, p.filename, p.body)).collect())
}

/// The emulator's `auth::precheck_merchant`: whether the request's `Authorization` is worth
/// reading the body for.
#[cfg(feature = "emulator")]
pub fn emulator_auth_precheck(
    identity: &crate::emulator::Identity,
    method: &str,
    target: &str,
    headers: &http::HeaderMap,
) -> bool {
    crate::emulator::auth::precheck_merchant(identity, method, target, headers).is_ok()
}

/// The emulator's `auth::check` (request signature as WeChat Pay checks it): `Ok(())`, or the
/// rejection's `(code, message, detail)`.
#[cfg(feature = "emulator")]
pub fn emulator_auth_check(
    identity: &crate::emulator::Identity,
    method: &str,
    target: &str,
    headers: &http::HeaderMap,
    signed_body: &[u8],
    now: i64,
) -> Result<(), (String, String, Value)> {
    crate::emulator::auth::check(identity, method, target, headers, signed_body, now).map_err(refusal)
}
