//! The catalog at run time: lookups, and the pipeline using it — hosts, unsigned downloads,
//! `Wechatpay-Serial` for encrypted fields.

use std::sync::{Arc, Mutex};

use crate::common;
use crate::common::server::{signed_ok, Recorded, TestServer};
use crate::common::{builder, text};
use serde_json::json;
use wechatpay::catalog::{self, RequestKind, ResponseKind};
use wechatpay::middleware::from_fn;
use wechatpay::{Builder, Response, Rsa};

#[test]
fn lookups_by_template_concrete_path_and_search() {
    assert_eq!(catalog::entries().len(), 1154);
    assert_eq!(catalog::entries().iter().filter(|e| e.version == "v3").count(), 1018);
    let by_id = catalog::find("GET", "v3/pay/transactions/id/4200000001").unwrap();
    assert_eq!(by_id.path, "v3/pay/transactions/id/{transaction_id}");
    // A literal segment beats a variable at the same place.
    let by_out_trade_no = catalog::find("get", "/v3/pay/transactions/out-trade-no/T1?mchid=1").unwrap();
    assert_eq!(by_out_trade_no.path, "v3/pay/transactions/out-trade-no/{out_trade_no}");
    assert_eq!(
        catalog::find("POST", "v3/pay/transactions/id/4200000001"),
        None,
        "no POST there"
    );
    assert_eq!(catalog::find("GET", "v3/no/such/api"), None);

    let bill = catalog::find("GET", "v3/billdownload/file").unwrap();
    assert_eq!(bill.response, ResponseKind::Download);
    let upload = catalog::find("POST", "v3/merchant/media/upload").unwrap();
    assert_eq!(upload.request, RequestKind::Multipart);
    assert_eq!(upload.form_fields, ["file:file", "meta:json"]);
    let global = catalog::find("POST", "v3/global/transactions/native").unwrap();
    assert_eq!(global.hosts, ["https://apihk.mch.weixin.qq.com/"]);
    let applyment = catalog::find("POST", "v3/applyment4sub/applyment/").unwrap();
    assert!(applyment.wechatpay_serial && !applyment.encrypted_fields.is_empty());
    let v2 = catalog::find("POST", "v2/pay/micropay").unwrap();
    assert_eq!((v2.version, v2.response), ("v2", ResponseKind::Xml));
    assert!(
        catalog::entries().iter().any(|e| e.v2_security) && catalog::entries().iter().any(|e| e.v2_nosign_response)
    );
    assert!(catalog::entries()
        .iter()
        .any(|e| !e.rate_limit.is_empty() && !e.rate_dim.is_empty()));
    assert!(catalog::entries().iter().any(|e| e.idempotency_key));

    let bills: Vec<_> = catalog::search("交易账单").map(|e| e.path).collect();
    assert!(bills.contains(&"v3/bill/tradebill"), "{bills:?}");
    assert!(catalog::search("TRANSACTIONS/NATIVE").any(|e| e.path == "v3/pay/transactions/native"));
}

/// A layer that records the URI and answers without any network.
fn capture(seen: Arc<Mutex<Vec<String>>>) -> impl wechatpay::Middleware {
    from_fn(move |request, _next| {
        seen.lock().unwrap().push(request.uri().to_string());
        Box::pin(async { Ok(Response::new(http::StatusCode::OK, http::HeaderMap::new(), "{}")) })
    })
}

#[test]
fn endpoints_on_other_hosts_go_there_under_the_default_base_uri_only() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let key = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    let default = Builder::new()
        .mchid("1900000109")
        .serial("SERIAL")
        .private_key(key.clone())
        .cert("PUB_KEY_ID_1", Rsa::from_public(text("keys/pubkey.pem")).unwrap())
        .middleware_before("verifier", "capture", capture(seen.clone()))
        .build()
        .unwrap();
    default
        .chain("v3/global/transactions/native")
        .post(json!({"json": {}}))
        .unwrap();
    default.chain("v3/statements").get(()).unwrap();
    default
        .chain("v3/pay/transactions/native")
        .post(json!({"json": {}}))
        .unwrap();
    default.chain("v3/certificates").get(()).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "https://apihk.mch.weixin.qq.com/v3/global/transactions/native",
            "https://api.mch.weixin.qq.com/hk/v3/statements",
            "https://api.mch.weixin.qq.com/v3/pay/transactions/native",
            "https://api.mch.weixin.qq.com/v3/certificates",
        ]
    );
    // An explicit base URI wins.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let explicit = Builder::new()
        .mchid("1900000109")
        .serial("SERIAL")
        .private_key(key)
        .cert("PUB_KEY_ID_1", Rsa::from_public(text("keys/pubkey.pem")).unwrap())
        .base_uri("http://127.0.0.1:9/")
        .middleware_before("verifier", "capture", capture(seen.clone()))
        .build()
        .unwrap();
    explicit
        .chain("v3/global/transactions/native")
        .post(json!({"json": {}}))
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        ["http://127.0.0.1:9/v3/global/transactions/native"]
    );
}

#[test]
fn required_wechatpay_serial_is_added_or_the_choice_is_asked_for() {
    let server = TestServer::start(|r: &Recorded| signed_ok(&String::from_utf8_lossy(&r.body)));
    let applyment = "v3/applyment4sub/applyment/";
    let options = json!({"json": {"business_code": "1"}});
    // Two keys (the common builder has the platform certificate and the public key): ambiguous.
    let err = builder(&server)
        .build()
        .unwrap()
        .chain(applyment)
        .post(&options)
        .unwrap_err();
    assert!(err.is_config() && err.to_string().contains("encrypt_with"), "{err}");
    assert!(server.requests().is_empty(), "nothing was sent");

    let chosen = builder(&server)
        .encrypt_with(common::server::PUB_KEY_ID)
        .build()
        .unwrap();
    chosen.chain(applyment).post(&options).unwrap();
    assert_eq!(
        server.last().header("wechatpay-serial"),
        Some(common::server::PUB_KEY_ID)
    );
    // A header the caller sets wins.
    chosen
        .chain(applyment)
        .post(json!({"json": {}, "headers": {"Wechatpay-Serial": "PUB_KEY_ID_OTHER"}}))
        .unwrap();
    assert_eq!(server.last().header("wechatpay-serial"), Some("PUB_KEY_ID_OTHER"));
    // Endpoints that do not need it do not get it.
    chosen.chain("v3/refund/domestic/refunds").post(&options).unwrap();
    assert_eq!(server.last().header("wechatpay-serial"), None);
    // A choice that is not a configured key is refused when building.
    let err = builder(&server).encrypt_with("PUB_KEY_ID_NOPE").build().unwrap_err();
    assert!(err.to_string().contains("encrypt_with"), "{err}");
}
