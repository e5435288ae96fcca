//! Every kind of call goes through the client's middleware: a user's layer sees a v3 JSON call,
//! an upload, an APIv2 call, an APIv2 mutual-TLS call and a streamed bill download.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wechatpay::emulator::Emulator;
use wechatpay::middleware::from_fn;
use wechatpay::{BillLocation, MediaUtil};

/// What the counting layer saw: method, path, whether `Authorization` was set below it, the
/// answer's status and whether its body was streamed.
type Seen = Arc<Mutex<Vec<(String, String, bool, u16, bool)>>>;

fn counting_client(emulator: &Emulator) -> (wechatpay::Client, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    // Outside the verifier: sees every call and every answer; after `signer`: sees what is sent.
    let outer = from_fn(move |request, next| {
        let record = Arc::clone(&record);
        Box::pin(async move {
            let (method, path) = (request.method().to_string(), request.uri().path().to_owned());
            let result = next.run(request).await;
            let (signed, status, streamed) = match &result {
                Ok(response) => (
                    response.headers().contains_key("x-test-signed"),
                    response.status().as_u16(),
                    response.is_streamed(),
                ),
                // An error still counts: the APIv2 check failed in the `verifier` layer below.
                Err(e) => (false, e.api().map_or(0, |api| api.status().as_u16()), false),
            };
            record.lock().unwrap().push((method, path, signed, status, streamed));
            result
        })
    });
    let inner = from_fn(|request, next| {
        Box::pin(async move {
            let signed = request.headers().contains_key("authorization");
            let mut response = next.run(request).await?;
            if signed {
                response
                    .headers_mut()
                    .insert("x-test-signed", http::HeaderValue::from_static("1"));
            }
            Ok(response)
        })
    });
    let client = emulator
        .client_builder()
        .middleware_before("verifier", "count", outer)
        .middleware_after("signer", "inspect", inner)
        .build()
        .unwrap();
    (client, seen)
}

#[test]
fn a_layer_sees_v3_upload_v2_mutual_tls_v2_and_downloads() {
    let emulator = Emulator::builder().tls(true).start().unwrap();
    let (client, seen) = counting_client(&emulator);
    let mchid = emulator.identity().mchid.clone();

    let bill: BillLocation = client
        .chain("v3/bill/tradebill")
        .get(json!({"query": {"bill_date": "2026-11-26"}}))
        .unwrap()
        .json()
        .unwrap();
    let media = MediaUtil::from_bytes("logo.png", [&b"\x89PNG\r\n\x1a\n"[..], &[7u8; 500]].concat());
    client
        .chain("v3/merchant/media/upload")
        .post(media.into_options())
        .unwrap();
    let pay = json!({"xml": {"appid": "wx2421b1c4370ec43b", "mch_id": mchid, "body": "x",
        "out_trade_no": "DOOR-1", "total_fee": 300, "spbill_create_ip": "14.17.22.52",
        "auth_code": "120061098828009406"}});
    client.chain("v2/pay/micropay").post(&pay).unwrap();
    let refund = json!({"xml": {"appid": "wx2421b1c4370ec43b", "mch_id": mchid,
        "out_trade_no": "DOOR-1", "out_refund_no": "DOOR-R1", "total_fee": 300, "refund_fee": 100}});
    let answer = client
        .chain("v2/secapi/pay/refund")
        .post(&refund)
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(answer["result_code"], "SUCCESS");
    let dir = tempfile::tempdir().unwrap();
    let saved = client.download_bill(&bill, dir.path().join("bill.csv")).unwrap();
    assert!(saved.bytes > 0);
    assert!(std::fs::read_to_string(&saved.path).unwrap().contains("T-bill") || saved.bytes > 0);

    let seen = seen.lock().unwrap().clone();
    let summary: Vec<(&str, &str, bool, u16, bool)> = seen
        .iter()
        .map(|(m, p, signed, status, streamed)| (m.as_str(), p.as_str(), *signed, *status, *streamed))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("GET", "/v3/bill/tradebill", true, 200, false),
            ("POST", "/v3/merchant/media/upload", true, 200, false),
            // APIv2 is signed inside its XML body, not with Authorization.
            ("POST", "/pay/micropay", false, 200, false),
            ("POST", "/secapi/pay/refund", false, 200, false),
            ("GET", "/v3/billdownload/file", true, 200, true),
        ]
    );
}

#[test]
fn the_async_download_and_v2_go_through_the_same_layers() {
    let emulator = Emulator::start().unwrap();
    let (client, seen) = counting_client(&emulator);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        let bill: BillLocation = client
            .chain("v3/bill/tradebill")
            .get_async(json!({"query": {"bill_date": "2026-11-26", "tar_type": "GZIP"}}))
            .await
            .unwrap()
            .json()
            .unwrap();
        let saved = client
            .download_bill_async(&bill, dir.path().join("bill.csv"))
            .await
            .unwrap();
        assert!(saved.gunzipped);
        let query: Value = client
            .chain("v2/pay/orderquery")
            .post_async(
                json!({"xml": {"appid": "wx2421b1c4370ec43b", "mch_id": emulator.identity().mchid,
                "out_trade_no": "NO-SUCH-ORDER"}}),
            )
            .await
            .unwrap_err()
            .api()
            .and_then(|api| api.detail().cloned())
            .unwrap();
        assert_eq!(query["err_code"], "ORDERNOTEXIST");
    });
    let paths: Vec<String> = seen.lock().unwrap().iter().map(|s| s.1.clone()).collect();
    assert_eq!(
        paths,
        ["/v3/bill/tradebill", "/v3/billdownload/file", "/pay/orderquery"]
    );
}
