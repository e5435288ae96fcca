//! Pay-sign parameters serialize to exactly what the WeChat clients take, and their signatures
//! verify with the merchant public key over the documented messages.

use crate::common::text;
use wechatpay::{AppPayParams, JsapiPayParams, Rsa};

#[test]
fn jsapi_and_mini_program_parameters() {
    let key = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    let params = JsapiPayParams::at(
        "wxd678efh567hg6787",
        "wx201410272009395522657a690389285100",
        1414561699,
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        &key,
    )
    .unwrap();
    let json = serde_json::to_value(&params).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"]
    );
    assert_eq!(json["timeStamp"], "1414561699", "a string, as the JS API wants");
    assert_eq!(json["package"], "prepay_id=wx201410272009395522657a690389285100");
    let message = "wxd678efh567hg6787\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n";
    assert!(Rsa::verify(message, &params.pay_sign, key.public_key()).unwrap());
    // Deterministic for fixed inputs (PKCS#1 v1.5), fresh nonce otherwise.
    assert_eq!(params.pay_sign, Rsa::sign(message, &key).unwrap());
    let fresh = JsapiPayParams::new("wxd678efh567hg6787", "wx2014", &key).unwrap();
    assert_eq!(fresh.nonce_str.len(), 32);
}

#[test]
fn app_parameters() {
    let key = Rsa::from_private(text("keys/merchant_pkcs1.pem")).unwrap();
    let params = AppPayParams::at(
        "wxd678efh567hg6787",
        "1900000109",
        "WX1217752501201407033233368018",
        1412000000,
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        &key,
    )
    .unwrap();
    let json = serde_json::to_value(&params).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "appid",
            "partnerid",
            "prepayid",
            "package",
            "noncestr",
            "timestamp",
            "sign"
        ]
    );
    assert_eq!(json["package"], "Sign=WXPay");
    let message = "wxd678efh567hg6787\n1412000000\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nWX1217752501201407033233368018\n";
    assert!(Rsa::verify(message, &params.sign, key.public_key()).unwrap());
}
