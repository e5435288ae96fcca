//! APIv2 `sign`: uppercase hex of MD5 or HMAC-SHA256 over `k=v&…` (sorted, `sign` and empty
//! values left out) + `&key=SECRET`.

use serde_json::{Map, Value};

use crate::crypto::{Hash, SignType};
use crate::formatter::Formatter;

/// The `sign` of `params` with the APIv2 key.
///
/// ```
/// use serde_json::json;
/// use wechatpay::{v2, SignType};
///
/// let params = json!({"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000",
///                     "body": "test", "nonce_str": "ibuaiVcKdpRxkhJA"});
/// let sign = v2::sign_params(params.as_object().unwrap(), "192006250b4c09247ec02edce69f6a2d", SignType::Md5);
/// assert_eq!(sign, "9A0A8659F005D6984697E2CA0A9CF3B7");
/// ```
pub fn sign_params(params: &Map<String, Value>, key: &str, sign_type: SignType) -> String {
    let sorted = Formatter::ksort(params.clone());
    sign_type.sign(&Formatter::query_string_like(&sorted), key)
}

/// Whether `params["sign"]` is the right signature, its type told by its length (64 hex digits:
/// HMAC-SHA256, else MD5), compared in constant time.
pub fn verify_params(params: &Map<String, Value>, key: &str) -> bool {
    let Some(sign) = params.get("sign").and_then(Value::as_str) else {
        return false;
    };
    let expected = sign_params(params, key, SignType::of_signature(sign));
    Hash::equals(&expected, sign)
}
