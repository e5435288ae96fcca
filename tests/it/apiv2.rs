//! APIv2 through the client against the emulator: `v2/…` paths signed with MD5 or HMAC-SHA256,
//! GET query signing, FAIL return and result codes, a tampered `sign`, a no-sign endpoint, a bill
//! download, and the errors raised before sending.

use serde_json::{json, Value};
use wechatpay::emulator::{Emulator, Fault};
use wechatpay::{v2, Builder, VerifyCheck};

use crate::common;

fn micropay(emulator: &Emulator, out_trade_no: &str, total: u64, sign_type: Option<&str>) -> Value {
    let mut xml = json!({
        "appid": "wx2421b1c4370ec43b", "mch_id": emulator.identity().mchid, "body": "刷卡支付测试",
        "out_trade_no": out_trade_no, "total_fee": total, "spbill_create_ip": "14.17.22.52",
        "auth_code": "120061098828009406",
    });
    if let Some(sign_type) = sign_type {
        xml["sign_type"] = json!(sign_type);
    }
    json!({ "xml": xml })
}

#[test]
fn micropay_with_md5_and_hmac_sha256_then_orderquery() {
    let (emulator, client) = common::emulated();
    for (no, sign_type) in [("V2-MD5", None), ("V2-HMAC", Some("HMAC-SHA256"))] {
        let answer = client
            .chain("v2/pay/micropay")
            .post(micropay(&emulator, no, 1, sign_type))
            .unwrap();
        let fields = answer.xml().unwrap();
        assert_eq!(fields["result_code"], "SUCCESS");
        assert_eq!(fields["out_trade_no"], no);
        assert_eq!(
            fields["sign"].as_str().unwrap().len(),
            if sign_type.is_some() { 64 } else { 32 }
        );
        // What was sent: XML with nonce_str and a sign that verifies.
        let sent = emulator.received().pop().unwrap();
        assert_eq!(sent.target, "/pay/micropay", "the v2/ prefix is stripped on the wire");
        let sent = v2::Transformer::to_array(std::str::from_utf8(&sent.body).unwrap()).unwrap();
        assert_eq!(sent["nonce_str"].as_str().unwrap().len(), 32);
        assert!(v2::verify_params(
            sent.as_object().unwrap(),
            emulator.identity().apiv2_key.as_str()
        ));
    }
    // The same call the other ways.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let query =
        json!({"xml": {"appid": "wx2421b1c4370ec43b", "mch_id": emulator.identity().mchid, "out_trade_no": "V2-MD5"}});
    let found = runtime
        .block_on(client["v2/pay/orderquery"].post_async(&query))
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(found["trade_state"], "SUCCESS");
    let found = client.chain("V2/pay/orderquery").post(&query).unwrap().xml().unwrap();
    assert_eq!(found["total_fee"], "1");
}

#[test]
fn get_parameters_are_signed_in_the_query_and_no_sign_answers_pass() {
    let (emulator, client) = common::emulated();
    let answer = client
        .chain("v2/papay/h5entrustweb")
        .get(json!({"query": {"appid": "wx2421b1c4370ec43b", "mch_id": emulator.identity().mchid, "plan_id": "12535",
                               "contract_code": "100000", "request_serial": 1000, "contract_display_account": "微信代扣",
                               "notify_url": "https://example.com/n", "version": "1.0", "timestamp": "1414488825",
                               "clientip": "127.0.0.1"}}))
        .unwrap();
    assert!(answer.xml().unwrap()["redirect_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let sent = emulator.received().pop().unwrap();
    assert!(
        sent.target.starts_with("/papay/h5entrustweb?") && sent.target.contains("&sign="),
        "{}",
        sent.target
    );
}

#[test]
fn fail_codes_and_a_tampered_sign_are_errors() {
    let (emulator, client) = common::emulated();
    // result_code FAIL: err_code and err_code_des, with the parsed body.
    let err = client
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-BIG", 200_000, None))
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!((api.code(), api.message()), ("NOTENOUGH", "余额不足"));
    assert_eq!(api.detail().unwrap()["result_code"], "FAIL");
    // return_code FAIL: a client with the wrong APIv2 key.
    let wrong = emulator.client_builder().secret("0".repeat(32)).build().unwrap();
    let err = wrong
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-X", 1, None))
        .unwrap_err();
    assert_eq!(err.api().unwrap().code(), "FAIL");
    assert!(err.api().unwrap().message().contains("签名错误"));
    // The answer's sign is wrong.
    emulator.set_faults([Fault::BadSignature]);
    let err = client
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-Y", 1, None))
        .unwrap_err();
    assert_eq!(err.verify().unwrap().check(), &VerifyCheck::V2Sign);
}

#[test]
fn bills_come_back_as_bytes() {
    let (emulator, client) = common::emulated();
    client
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-BILL", 1234, None))
        .unwrap();
    let bill = client
        .chain("v2/pay/downloadbill")
        .post(json!({"xml": {"appid": "wx2421b1c4370ec43b", "mch_id": emulator.identity().mchid, "bill_date": "20261126", "bill_type": "ALL"}}))
        .unwrap();
    assert!(bill.text().unwrap().contains("`V2-BILL,`MICROPAY,`SUCCESS,`12.34"));
    // An XML error instead of a bill is still an error.
    let err = client
        .chain("v2/pay/downloadbill")
        .post(json!({"xml": {"mch_id": emulator.identity().mchid, "bill_date": "2026"}}))
        .unwrap_err();
    assert_eq!(err.api().unwrap().code(), "FAIL");
}

#[test]
fn wrong_inputs_fail_before_sending() {
    let (emulator, client) = common::emulated();
    let err = client
        .chain("v2/pay/micropay")
        .post(json!({"xml": {"mch_id": "1230000109"}}))
        .unwrap_err();
    assert!(
        err.is_config()
            && err.to_string().contains("1230000109")
            && err.to_string().contains(&emulator.identity().mchid),
        "{err}"
    );
    let err = client
        .chain("v2/pay/micropay")
        .post(json!({"xml": {"sign_type": "SHA1"}}))
        .unwrap_err();
    assert!(err.to_string().contains("SHA1"), "{err}");
    // A `security` endpoint without the merchant certificate.
    let err = client
        .chain("v2/secapi/pay/refund")
        .post(json!({"xml": {"out_refund_no": "R1"}}))
        .unwrap_err();
    assert!(err.is_config() && err.to_string().contains("merchant_tls"), "{err}");
    assert!(emulator.received().is_empty(), "nothing was sent");
}

#[test]
fn a_v2_only_client_needs_no_v3_settings_and_says_so_for_v3_calls() {
    let emulator = Emulator::start().unwrap();
    let identity = emulator.identity();
    let client = Builder::new()
        .mchid(identity.mchid.clone())
        .secret(identity.apiv2_key.as_str())
        .base_uri(emulator.base_uri())
        .build()
        .unwrap();
    assert!(client
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-ONLY", 1, None))
        .is_ok());
    let err = client.chain("v3/certificates").get(()).unwrap_err();
    assert!(err.is_config() && err.to_string().contains("APIv2-only"), "{err}");
    // And a v3-only client says what a v2 call needs.
    let v3_only = Builder::new()
        .mchid(identity.mchid.clone())
        .serial(identity.merchant_serial())
        .private_key(identity.merchant.private_key().clone())
        .cert(identity.pub_key_id.clone(), identity.wechatpay.public_key().clone())
        .base_uri(emulator.base_uri())
        .build()
        .unwrap();
    let err = v3_only
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-Z", 1, None))
        .unwrap_err();
    assert!(err.is_config() && err.to_string().contains("Builder::secret"), "{err}");
    assert!(Builder::new()
        .mchid("1")
        .secret("short")
        .build()
        .unwrap_err()
        .to_string()
        .contains("32"));
}

#[test]
fn security_refund_over_mutual_tls_and_its_refusals() {
    let emulator = Emulator::builder().tls(true).start().unwrap();
    assert!(emulator.base_uri().starts_with("https://127.0.0.1:"));
    let client = emulator.client_builder().build().unwrap();
    client
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-TLS", 500, None))
        .unwrap();
    let refund = json!({"xml": {"appid": "wx2421b1c4370ec43b", "mch_id": emulator.identity().mchid,
                                "out_trade_no": "V2-TLS", "out_refund_no": "R-TLS", "total_fee": 500, "refund_fee": 200}});
    let answer = client
        .v2()
        .secapi()
        .pay()
        .refund()
        .post(&refund)
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(
        (answer["result_code"].as_str(), answer["refund_fee"].as_str()),
        (Some("SUCCESS"), Some("200"))
    );

    let identity = emulator.identity();
    let without_certificate = Builder::new()
        .mchid(identity.mchid.clone())
        .secret(identity.apiv2_key.as_str())
        .add_root_certificate(identity.tls_ca.clone().unwrap())
        .base_uri(emulator.base_uri())
        .build()
        .unwrap();
    // Refused before sending: the endpoint needs the certificate.
    let err = without_certificate
        .chain("v2/secapi/pay/refund")
        .post(&refund)
        .unwrap_err();
    assert!(err.is_config() && err.to_string().contains("merchant_tls"), "{err}");
    // Forced through without it: the emulator refuses, as WeChat Pay does.
    let mut forced = refund.clone();
    forced["security"] = json!(false);
    let err = without_certificate
        .chain("v2/secapi/pay/refund")
        .post(forced)
        .unwrap_err();
    assert!(err.api().unwrap().message().contains("证书"), "{err}");
    // Ordinary calls over TLS need no client certificate.
    assert!(without_certificate
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-TLS2", 1, None))
        .is_ok());
    // A client that does not trust the emulator's CA cannot connect at all.
    let untrusting = Builder::new()
        .mchid(identity.mchid.clone())
        .secret(identity.apiv2_key.as_str())
        .base_uri(emulator.base_uri())
        .build()
        .unwrap();
    let err = untrusting
        .chain("v2/pay/micropay")
        .post(micropay(&emulator, "V2-TLS3", 1, None))
        .unwrap_err();
    assert!(err.is_transport(), "{err}");
}

/// A proxy that records the CONNECT target and closes: shows where a request would go, and no
/// traffic leaves the machine.
fn connect_target_of(call: impl FnOnce(String)) -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let recorder = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line
    });
    call(proxy);
    recorder.join().unwrap()
}

#[test]
fn v2_endpoints_on_other_hosts_go_there_under_the_default_base_uri() {
    let line = connect_target_of(|proxy| {
        let client = Builder::new()
            .mchid("1900000109")
            .secret("0123456789abcdef0123456789abcdef")
            .proxy(proxy)
            .build()
            .unwrap();
        let err = client
            .chain("v2/secsvc/realnameauth")
            .post(json!({"xml": {"mch_id": "1900000109"}, "nonceless": true, "security": false}));
        assert!(err.is_err());
    });
    assert!(line.starts_with("CONNECT fraud.mch.weixin.qq.com:443 "), "{line}");
}

#[test]
fn nonceless_sends_no_nonce_str() {
    let (emulator, client) = common::emulated();
    let mut options = micropay(&emulator, "V2-NONCELESS", 1, None);
    options["nonceless"] = json!(true);
    client.chain("v2/pay/micropay").post(options).unwrap();
    let sent = emulator.received().pop().unwrap();
    let sent = v2::Transformer::to_array(std::str::from_utf8(&sent.body).unwrap()).unwrap();
    assert!(sent.get("nonce_str").is_none() && sent.get("sign").is_some());
}
