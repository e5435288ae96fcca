//! `GET v3/certificates`: the platform certificates, encrypted with the APIv3 key.

use http::StatusCode;
use serde_json::json;

use crate::crypto::AesGcm;
use crate::emulator::identity::Identity;
use crate::emulator::platform::Served;
use crate::emulator::reply::Reply;
use crate::emulator::Mode;

/// `GET v3/certificates`: every platform certificate served (during a rotation, the old and the
/// new), each encrypted under the APIv3 key like the real ones; merchants with only a WeChat Pay
/// public key get 404 `RESOURCE_NOT_EXISTS`, as for real.
pub(super) fn certificates(identity: &Identity, mode: Mode, platforms: &Served) -> Reply {
    if mode != Mode::PlatformCertificate {
        return Reply::error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥 (no platform certificate: this merchant uses the WeChat Pay public key)",
        );
    }
    let rfc3339 = |t: std::time::SystemTime| {
        let secs = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        crate::emulator::state::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX / 2))
    };
    let mut data = Vec::new();
    for cert in platforms.iter().filter_map(|m| m.certificate()) {
        let nonce = crate::formatter::Formatter::nonce(12).unwrap_or_else(|_| "0123456789ab".into());
        let ciphertext = match AesGcm::encrypt(cert.to_pem(), identity.apiv3_key.as_bytes(), &nonce, "certificate") {
            Ok(c) => c,
            Err(e) => return Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", e.to_string()),
        };
        data.push(json!({
            "serial_no": cert.serial_no(),
            "effective_time": rfc3339(cert.not_before()),
            "expire_time": rfc3339(cert.not_after()),
            "encrypt_certificate": {
                "algorithm": "AEAD_AES_256_GCM",
                "nonce": nonce,
                "associated_data": "certificate",
                "ciphertext": ciphertext,
            }
        }));
    }
    Reply::ok(&json!({ "data": data }))
}
