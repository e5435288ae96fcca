//! Any catalog endpoint the emulator has no behaviour for: a signed echo of what arrived, with
//! encrypted fields decrypted so tests can see them.

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::Incoming;
use crate::emulator::identity::Identity;
use crate::emulator::platform::{serial_of, Served};
use crate::emulator::reply::Reply;
use crate::emulator::Mode;

/// Collects the string values at a dotted path (arrays are transparent).
pub(super) fn values_at<'v>(value: &'v Value, path: &[&str], out: &mut Vec<&'v str>) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|item| values_at(item, path, out)),
        (Value::String(s), None) => out.push(s),
        (Value::Object(map), Some((first, rest))) => {
            if let Some(next) = map.get(*first) {
                values_at(next, rest, out);
            }
        }
        _ => {}
    }
}

/// Decrypts the catalog's encrypted fields with the key `Wechatpay-Serial` names, as WeChat Pay
/// does; the echo shows the plaintexts so a test can check what was sent.
pub(super) fn decrypt_fields(
    identity: &Identity,
    mode: Mode,
    platforms: &Served,
    entry: &crate::catalog::Entry,
    request: &Incoming<'_>,
) -> Result<Value, Reply> {
    let body: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
    let mut found = Vec::new();
    for field in entry.encrypted_fields.iter().filter(|f| !f.starts_with("meta.")) {
        let mut values = Vec::new();
        values_at(&body, &field.split('.').collect::<Vec<_>>(), &mut values);
        found.extend(values.into_iter().map(|v| (*field, v)));
    }
    if found.is_empty() {
        return Ok(Value::Null);
    }
    // The key `Wechatpay-Serial` names, of either kind (both are valid during a migration).
    let sent = request
        .headers
        .get("Wechatpay-Serial")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (key, expected) = if sent == identity.pub_key_id {
        (identity.wechatpay.private_key(), sent)
    } else if let Some(platform) = platforms.find(sent) {
        (platform.private_key(), sent)
    } else {
        let expected = match mode {
            Mode::PublicKey => identity.pub_key_id.as_str(),
            Mode::PlatformCertificate => serial_of(platforms.newest()),
        };
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            format!("Wechatpay-Serial `{sent}` 不是微信支付的密钥 (encrypt with {expected} and send its serial)"),
        ));
    };
    let mut decrypted = Map::new();
    for (field, ciphertext) in found {
        let plain = crate::crypto::Rsa::decrypt(ciphertext, key).map_err(|_| {
            Reply::error_with_detail(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                format!("{field} 解密失败 (does not decrypt with the key of {expected})"),
                json!({"field": field}),
            )
        })?;
        match decrypted.get_mut(field) {
            Some(Value::Array(list)) => list.push(Value::String(plain)),
            Some(single) => *single = json!([single.take(), plain]),
            None => {
                decrypted.insert(field.to_owned(), Value::String(plain));
            }
        }
    }
    Ok(Value::Object(decrypted))
}

pub(super) fn echo(
    identity: &Identity,
    mode: Mode,
    platforms: &Served,
    entry: &crate::catalog::Entry,
    request: &Incoming<'_>,
) -> Result<Reply, Reply> {
    let decrypted = decrypt_fields(identity, mode, platforms, entry, request)?;
    let body = serde_json::from_slice::<Value>(request.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(request.body).into_owned()));
    let mut answer = json!({
        "emulator": "echo",
        "title": entry.title,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "body": body,
    });
    if !decrypted.is_null() {
        answer["decrypted"] = decrypted;
    }
    let mut reply = Reply::ok(&answer);
    match entry.response {
        crate::catalog::ResponseKind::StatementSha1 => reply.statement = true,
        crate::catalog::ResponseKind::Download => reply.signed = false,
        _ => {}
    }
    Ok(reply)
}
