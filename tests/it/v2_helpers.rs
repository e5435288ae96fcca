//! APIv2 helpers: the documented signature examples, notifications' `sign`, refund `req_info`
//! (encrypted by OpenSSL).

use crate::common::text;
use serde_json::json;
use wechatpay::{v2, SignType, VerifyCheck};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn documented() -> serde_json::Map<String, serde_json::Value> {
    json!({"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test",
           "nonce_str": "ibuaiVcKdpRxkhJA", "sign": "IGNORED", "empty": ""})
    .as_object()
    .unwrap()
    .clone()
}

#[test]
fn the_documented_examples_reproduce_exactly() {
    assert_eq!(
        v2::sign_params(&documented(), KEY, SignType::Md5),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
    assert_eq!(
        v2::sign_params(&documented(), KEY, SignType::HmacSha256),
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );
}

#[test]
fn signs_verify_by_length_and_tampering_fails() {
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        let mut params = documented();
        params.insert("sign".into(), v2::sign_params(&params, KEY, sign_type).into());
        assert!(v2::verify_params(&params, KEY), "{sign_type}");
        let xml = v2::Transformer::to_xml(&serde_json::Value::Object(params.clone())).unwrap();
        assert_eq!(v2::verify_notification(&xml, KEY).unwrap()["body"], "test");
        params.insert("body".into(), "tampered".into());
        assert!(!v2::verify_params(&params, KEY));
        let xml = v2::Transformer::to_xml(&serde_json::Value::Object(params)).unwrap();
        let err = v2::verify_notification(&xml, KEY).unwrap_err();
        assert_eq!(err.verify().unwrap().check(), &VerifyCheck::V2Sign);
    }
    let mut unsigned = documented();
    unsigned.remove("sign");
    assert!(!v2::verify_params(&unsigned, KEY));
    assert!(!v2::verify_params(&documented(), "another key"));
}

#[test]
fn refund_req_info_from_openssl_decrypts() {
    let fields = v2::decrypt_refund_req_info(&text("vectors/ecb_openssl.b64"), KEY).unwrap();
    assert_eq!(fields["out_refund_no"], "131811191610442717309");
    assert_eq!(fields["refund_status"], "SUCCESS");
    assert!(v2::decrypt_refund_req_info(&text("vectors/ecb_openssl.b64"), "wrong key").is_err());
    assert!(v2::decrypt_refund_req_info("not base64!", KEY).is_err());
}
