//! APIv2 callback notifications: payment results carry a `sign`; refund results an encrypted
//! `req_info`.

use serde_json::Value;

use super::sign::verify_params;
use super::xml::Transformer;
use crate::crypto::{AesEcb, Hash};
use crate::error::{DecodeError, Result, VerifyCheck};

/// Parses an APIv2 payment notification and checks its `sign` with the APIv2 key.
///
/// ```
/// # use wechatpay::{v2, SignType};
/// # let mut params = serde_json::json!({"return_code": "SUCCESS", "out_trade_no": "T1", "total_fee": "1"});
/// # let sign = v2::sign_params(params.as_object().unwrap(), "192006250b4c09247ec02edce69f6a2d", SignType::HmacSha256);
/// # params["sign"] = sign.into();
/// # let body = v2::Transformer::to_xml(&params)?;
/// let notification = v2::verify_notification(&body, "192006250b4c09247ec02edce69f6a2d")?;
/// assert_eq!(notification["out_trade_no"], "T1");
/// # Ok::<(), wechatpay::Error>(())
/// ```
pub fn verify_notification(xml: &str, apiv2_key: &str) -> Result<Value> {
    let params = Transformer::to_array(xml)?;
    let verified = params.as_object().is_some_and(|map| verify_params(map, apiv2_key));
    if verified {
        Ok(params)
    } else {
        Err(VerifyCheck::V2Sign.into())
    }
}

/// Decrypts a refund notification's `req_info` (AES-256-ECB under the lowercase hex MD5 of the
/// APIv2 key) into its fields.
pub fn decrypt_refund_req_info(req_info: &str, apiv2_key: &str) -> Result<Value> {
    let key = Hash::md5(apiv2_key, "", false);
    let xml = AesEcb::decrypt(req_info, key)?;
    let fields = Transformer::to_array(&xml)?;
    if fields.as_object().is_some_and(|m| !m.is_empty()) {
        Ok(fields)
    } else {
        Err(DecodeError::xml("req_info decrypted to no fields".into()).into())
    }
}
