//! End to end through the public API against the crate's own emulator: the seed call, prepay →
//! query → close, pay → refund → refund query, certificates, injected faults, and the
//! emulator refusing requests WeChat Pay would refuse.

use crate::common;
use crate::common::{seed_options as seed, SEED};
use serde_json::{json, Value};
use wechatpay::emulator::{Emulator, Fault, Mode, FAULT_HEADER};
use wechatpay::middleware::from_fn;
use wechatpay::{AesGcm, Certificate, VerifyCheck};

fn order(emulator: &Emulator, out_trade_no: &str, total: u64) -> Value {
    json!({"json": {
        "appid": "wxd678efh567hg6787", "mchid": emulator.identity().mchid, "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": out_trade_no, "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "amount": {"total": total, "currency": "CNY"}, "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    }})
}

#[test]
fn the_seed_call_in_every_style_blocking_and_async() {
    let (emulator, client) = common::emulated();
    let expected = seed()["json"].clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let typed = client.v3().brand().partner().card_member().user_points().sync();
    let segments = client
        .seg("v3")
        .seg("brand")
        .seg("partner")
        .seg("cardMember")
        .seg("userPoints")
        .seg("sync");
    for response in [
        client.chain(SEED).post(seed()).unwrap(),
        client[SEED].post(seed()).unwrap(),
        typed.post(seed()).unwrap(),
        segments.post(seed()).unwrap(),
        runtime.block_on(client.chain(SEED).post_async(seed())).unwrap(),
        runtime.block_on(client[SEED].post_async(seed())).unwrap(),
        runtime.block_on(typed.post_async(seed())).unwrap(),
        runtime.block_on(segments.post_async(seed())).unwrap(),
    ] {
        assert_eq!(response.json::<Value>().unwrap(), expected);
        assert!(response.request_id().unwrap().starts_with("EMU"));
    }
    let received = emulator.received();
    assert_eq!(received.len(), 8);
    assert!(received
        .iter()
        .all(|r| r.target == format!("/{SEED}") && r.body == expected.to_string()));
    // The emulator validates the six fields.
    let err = client
        .chain(SEED)
        .post(json!({"json": {"brand_id": "1004"}}))
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!((api.status().as_u16(), api.code()), (400, "PARAM_ERROR"));
    assert_eq!(api.detail().unwrap()["field"], "out_request_no");
}

#[test]
fn prepay_query_close() {
    let (emulator, client) = common::emulated();
    let mchid = emulator.identity().mchid.clone();
    let native = client
        .chain("v3/pay/transactions/native")
        .post(order(&emulator, "T-native", 100))
        .unwrap();
    assert!(native.json::<Value>().unwrap()["code_url"]
        .as_str()
        .unwrap()
        .starts_with("weixin://wxpay/bizpayurl?pr="));
    let jsapi = client
        .chain("v3/pay/transactions/jsapi")
        .post(order(&emulator, "T-jsapi", 1))
        .unwrap();
    assert!(jsapi.json::<Value>().unwrap()["prepay_id"]
        .as_str()
        .unwrap()
        .starts_with("wx"));
    let mut h5 = order(&emulator, "T-h5", 1);
    h5["json"]["scene_info"] = json!({"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}});
    let h5 = client.chain("v3/pay/transactions/h5").post(h5).unwrap();
    assert!(h5.json::<Value>().unwrap()["h5_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));

    let query = |no: &str| {
        client
            .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
            .get(json!({"out_trade_no": no, "query": {"mchid": mchid}}))
    };
    assert_eq!(
        query("T-native").unwrap().json::<Value>().unwrap()["trade_state"],
        "NOTPAY"
    );
    let close = client
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}/close")
        .post(json!({"out_trade_no": "T-native", "json": {"mchid": mchid}}))
        .unwrap();
    assert_eq!(close.status(), 204);
    assert_eq!(
        query("T-native").unwrap().json::<Value>().unwrap()["trade_state"],
        "CLOSED"
    );
    assert_eq!(query("T-none").unwrap_err().api().unwrap().code(), "ORDER_NOT_EXIST");
    // The query needs mchid, as the real API does.
    let err = client
        .chain("v3/pay/transactions/out-trade-no/T-jsapi")
        .get(())
        .unwrap_err();
    assert_eq!(err.api().unwrap().code(), "PARAM_ERROR");
}

#[test]
fn pay_then_refund_then_query() {
    let (emulator, client) = common::emulated();
    let mchid = emulator.identity().mchid.clone();
    client
        .chain("v3/pay/transactions/app")
        .post(order(&emulator, "T-1", 999))
        .unwrap();
    let refund = json!({"json": {"out_trade_no": "T-1", "out_refund_no": "R-1", "amount": {"refund": 500, "total": 999, "currency": "CNY"}}});
    // Not paid yet: no refund.
    let err = client.chain("v3/refund/domestic/refunds").post(&refund).unwrap_err();
    assert_eq!(err.api().unwrap().code(), "TRADE_STATE_ERROR");

    let paid = emulator.pay("T-1").unwrap();
    let transaction_id = paid["transaction_id"].as_str().unwrap().to_owned();
    let by_id = client
        .chain("v3/pay/transactions/id/{transaction_id}")
        .get(json!({"transaction_id": transaction_id, "query": {"mchid": mchid}}))
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(by_id["trade_state"], "SUCCESS");
    assert_eq!(by_id["out_trade_no"], "T-1");

    let created = client
        .chain("v3/refund/domestic/refunds")
        .post(&refund)
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(created["status"], "PROCESSING");
    assert_eq!(created["amount"]["refund"], 500);
    let queried = client
        .chain("v3/refund/domestic/refunds/{out_refund_no}")
        .get(json!({"out_refund_no": "R-1"}))
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(queried["status"], "SUCCESS");
    assert_eq!(queried["refund_id"], created["refund_id"]);
    // More than is left is refused.
    let too_much = json!({"json": {"transaction_id": transaction_id, "out_refund_no": "R-2", "amount": {"refund": 500, "total": 999, "currency": "CNY"}}});
    assert_eq!(
        client
            .chain("v3/refund/domestic/refunds")
            .post(too_much)
            .unwrap_err()
            .api()
            .unwrap()
            .code(),
        "INVALID_REQUEST"
    );
}

#[test]
fn certificates_in_both_modes() {
    let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start().unwrap();
    let client = emulator.client_builder().build().unwrap();
    let answer = client
        .chain("v3/certificates")
        .get(())
        .unwrap()
        .json::<Value>()
        .unwrap();
    let entry = &answer["data"][0];
    let encrypted = &entry["encrypt_certificate"];
    let pem = AesGcm::decrypt(
        encrypted["ciphertext"].as_str().unwrap(),
        emulator.identity().apiv3_key.as_bytes(),
        encrypted["nonce"].as_str().unwrap(),
        encrypted["associated_data"].as_str().unwrap(),
    )
    .unwrap();
    let cert = Certificate::from_bytes(pem).unwrap();
    assert_eq!(cert.serial_no(), entry["serial_no"]);
    assert_eq!(cert.serial_no(), emulator.identity().platform_serial());
    assert!(entry["expire_time"].as_str().unwrap().ends_with("+08:00"));

    let public_key_mode = Emulator::start().unwrap();
    let err = public_key_mode
        .client_builder()
        .build()
        .unwrap()
        .chain("v3/certificates")
        .get(())
        .unwrap_err();
    assert_eq!(err.api().unwrap().code(), "RESOURCE_NOT_EXISTS");
    assert_eq!(err.api().unwrap().status(), 404);
}

#[test]
fn every_injected_fault_is_rejected_by_the_client() {
    let (emulator, client) = common::emulated();
    let with_fault = |fault: &str| {
        client
            .chain(SEED)
            .post(json!({"json": seed()["json"], "headers": {FAULT_HEADER: fault}}))
    };
    let check = |fault: &str| {
        with_fault(fault)
            .unwrap_err()
            .verify()
            .unwrap_or_else(|| panic!("{fault}"))
            .check()
            .clone()
    };
    assert!(matches!(check("bad-signature"), VerifyCheck::BadSignature { .. }));
    assert!(matches!(check("tamper-body"), VerifyCheck::BadSignature { .. }));
    for (fault, header) in [
        ("missing-timestamp", "Wechatpay-Timestamp"),
        ("missing-nonce", "Wechatpay-Nonce"),
        ("missing-signature", "Wechatpay-Signature"),
        ("missing-serial", "Wechatpay-Serial"),
    ] {
        assert_eq!(check(fault), VerifyCheck::MissingHeader(header));
    }
    assert!(matches!(check("stale"), VerifyCheck::TimestampSkew { .. }));
    assert!(matches!(check("future"), VerifyCheck::TimestampSkew { .. }));
    assert!(matches!(check("unknown-serial"), VerifyCheck::UnknownSerial(_)));
    assert_eq!(
        with_fault("system-error").unwrap_err().api().unwrap().code(),
        "SYSTEM_ERROR"
    );
    assert_eq!(
        with_fault("frequency-limited").unwrap_err().api().unwrap().status(),
        429
    );
    // The timeout leaves room for the seed call's rate-limit wait (one slot, 206 ms) first.
    let slow = client
        .chain(SEED)
        .post(json!({"json": seed()["json"], "headers": {FAULT_HEADER: "delay-1500"}, "timeout": 0.6}));
    let slow = slow.unwrap_err();
    assert!(slow.is_timeout(), "{slow}");
    assert_eq!(
        with_fault("no-such-fault").unwrap_err().api().unwrap().code(),
        "PARAM_ERROR"
    );

    // Faults for every request, then cleared.
    emulator.set_faults([Fault::BadSignature]);
    assert!(client.chain(SEED).post(seed()).unwrap_err().is_verify());
    emulator.set_faults([]);
    assert!(client.chain(SEED).post(seed()).is_ok());
}

fn sign_error(err: wechatpay::Error) -> Value {
    let api = err.api().unwrap_or_else(|| panic!("not an API error: {err}"));
    assert_eq!((api.status().as_u16(), api.code()), (401, "SIGN_ERROR"), "{err}");
    api.detail().cloned().unwrap()
}

#[test]
fn the_emulator_refuses_what_wechat_pay_refuses() {
    let emulator = Emulator::start().unwrap();
    // Signed with another key.
    let other_key = wechatpay::Rsa::from_private(
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/keys/merchant_pkcs8.pem"
        ))
        .unwrap(),
    )
    .unwrap();
    let client = emulator.client_builder().private_key(other_key).build().unwrap();
    let detail = sign_error(client.chain(SEED).post(seed()).unwrap_err());
    // The detail shows the exact message it expected, to diff against what was signed.
    let message = detail["sign_information"]["sign_message"].as_str().unwrap();
    assert!(message.starts_with(&format!("POST\n/{SEED}\n")), "{message}");
    assert!(message.ends_with(&format!("{}\n", seed()["json"])), "{message}");

    // Body changed after signing.
    let tamper = from_fn(|mut request, next| {
        *request.body_mut() = bytes::Bytes::from(request.body().to_vec().into_iter().rev().collect::<Vec<u8>>());
        next.run(request)
    });
    let client = emulator
        .client_builder()
        .middleware_after("signer", "tamper", tamper)
        .build()
        .unwrap();
    sign_error(client.chain(SEED).post(seed()).unwrap_err());

    // Query re-ordered after signing.
    let reorder = from_fn(|mut request, next| {
        let uri = request.uri().to_string().replace("?a=1&b=2", "?b=2&a=1");
        *request.uri_mut() = uri.parse().unwrap();
        next.run(request)
    });
    let client = emulator
        .client_builder()
        .middleware_after("signer", "reorder", reorder)
        .build()
        .unwrap();
    let detail = sign_error(
        client
            .chain("v3/anything")
            .get(json!({"query": {"a": 1, "b": 2}}))
            .unwrap_err(),
    );
    assert!(detail["sign_information"]["url"]
        .as_str()
        .unwrap()
        .ends_with("?b=2&a=1"));

    // A stale timestamp: a signer whose clock is 10 minutes slow.
    let identity = emulator.identity().clone();
    let stale = move |request: wechatpay::SigningRequest| {
        let identity = identity.clone();
        async move {
            let timestamp = wechatpay::Formatter::timestamp() - 600;
            let message = request.message(timestamp, "NONCE");
            let signature = wechatpay::Rsa::sign(&message, identity.merchant.private_key())?;
            Ok(wechatpay::Formatter::authorization(
                &identity.mchid,
                "NONCE",
                &signature,
                timestamp,
                identity.merchant_serial(),
            ))
        }
    };
    let client = emulator.client_builder().signer(stale).build().unwrap();
    let detail = sign_error(client.chain(SEED).post(seed()).unwrap_err());
    assert!(detail["issue"].as_str().unwrap().contains("timestamp"), "{detail}");

    // Catalog endpoints without special behaviour get a signed echo.
    let client = emulator.client_builder().build().unwrap();
    let echo = client
        .chain("v3/marketing/favor/stocks")
        .get(json!({"query": {"offset": 0}}))
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(echo["path"], "/v3/marketing/favor/stocks");
    assert_eq!(echo["query"], "offset=0");
}

#[test]
fn notifications_reach_a_webhook_and_verify() {
    use std::io::{Read, Write};
    // A minimal webhook on loopback: reads one POST, verifies it, answers 204 or 400 with
    // WeChat Pay's {"code":"FAIL"} shape.
    let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start().unwrap();
    let verifier = emulator.notification_verifier().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let webhook = std::thread::spawn(move || {
        let mut results = Vec::new();
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let (head_end, length) = loop {
                let n = stream.read(&mut buf).unwrap();
                raw.extend_from_slice(&buf[..n]);
                if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&raw[..at]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                        .unwrap();
                    break (at + 4, length);
                }
            };
            while raw.len() < head_end + length {
                let n = stream.read(&mut buf).unwrap();
                raw.extend_from_slice(&buf[..n]);
            }
            let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
            let headers: Vec<(String, String)> = head
                .lines()
                .skip(1)
                .filter_map(|l| {
                    l.split_once(':')
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                })
                .collect();
            let outcome = verifier.verify(&headers, &raw[head_end..head_end + length]);
            let reply = wechatpay::WebhookReply::for_outcome(&outcome);
            let answer = format!(
                "HTTP/1.1 {}\r\nContent-Length: {}\r\n\r\n{}",
                reply.status,
                reply.body.len(),
                reply.body
            );
            stream.write_all(answer.as_bytes()).unwrap();
            results.push(outcome.map(|n| (n.event_type, n.resource)));
        }
        results
    });

    let client = emulator.client_builder().build().unwrap();
    client
        .chain("v3/pay/transactions/jsapi")
        .post(order(&emulator, "T-9", 300))
        .unwrap();
    let paid = emulator.transaction_notification("T-9").unwrap();
    assert_eq!(paid.post(&url).unwrap(), 204);
    client
        .chain("v3/refund/domestic/refunds")
        .post(json!({"json": {"out_trade_no": "T-9", "out_refund_no": "R-9", "amount": {"refund": 100, "total": 300, "currency": "CNY"}}}))
        .unwrap();
    let mut refund = emulator.refund_notification("R-9").unwrap();
    refund.body = bytes::Bytes::from(
        String::from_utf8(refund.body.to_vec())
            .unwrap()
            .replace("REFUND.SUCCESS", "REFUND.ABNORMAL"),
    );
    assert_eq!(refund.post(&url).unwrap(), 401, "a tampered notification is refused");
    let results = webhook.join().unwrap();
    let (event, resource) = results[0].as_ref().unwrap();
    assert_eq!(event, "TRANSACTION.SUCCESS");
    assert_eq!(resource["out_trade_no"], "T-9");
    assert_eq!(resource["trade_state"], "SUCCESS");
    assert!(results[1].as_ref().unwrap_err().is_verify());
    // The untampered refund notification verifies.
    let refund = emulator.refund_notification("R-9").unwrap();
    let verified = emulator
        .notification_verifier()
        .unwrap()
        .verify(&refund.header_map(), &refund.body)
        .unwrap();
    assert_eq!(verified.resource["refund_status"], "SUCCESS");
    assert_eq!(verified.resource["amount"]["refund"], 100);
}

#[test]
fn the_emulator_records_what_it_received_and_takes_faults_in_the_query() {
    let (emulator, client) = common::emulated();
    client.chain(SEED).post(seed()).unwrap();
    let err = client
        .chain(SEED)
        .post(json!({"json": seed()["json"], "query": {"emulator_fault": "stale"}}))
        .unwrap_err();
    assert!(matches!(
        err.verify().unwrap().check(),
        VerifyCheck::TimestampSkew { .. }
    ));
    let received = emulator.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].method, http::Method::POST);
    assert_eq!(received[0].target, format!("/{SEED}"));
    assert_eq!(received[0].body, seed()["json"].to_string());
    assert!(received[0].headers["authorization"]
        .to_str()
        .unwrap()
        .starts_with("WECHATPAY2-SHA256-RSA2048 "));
    assert_eq!(received[1].target, format!("/{SEED}?emulator_fault=stale"));
}

#[test]
fn media_upload_signs_meta_and_the_emulator_checks_the_file_hash() {
    let (emulator, client) = common::emulated();
    let png = [&b"\x89PNG\r\n\x1a\n"[..], &[7u8; 5000]].concat();
    let media = wechatpay::MediaUtil::from_bytes("logo.png", png.clone());
    let answer = client
        .chain("v3/merchant/media/upload")
        .post(media.into_options())
        .unwrap();
    assert!(answer.json::<Value>().unwrap()["media_id"]
        .as_str()
        .unwrap()
        .starts_with("EMU-"));
    let received = emulator.received().pop().unwrap();
    assert!(received.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("multipart/form-data; boundary="));

    // The same upload in the async style.
    let media = wechatpay::MediaUtil::from_bytes("clip.mp4", vec![1u8; 70_000]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert!(runtime
        .block_on(client["v3/merchant/media/video_upload"].post_async(media.into_options()))
        .is_ok());

    // A meta whose sha256 does not match the file.
    let wrong = wechatpay::MediaUtil::from_bytes("logo.png", png)
        .set_meta(json!({"filename": "logo.png", "sha256": "00".repeat(32)}));
    let err = client
        .chain("v3/merchant/media/upload")
        .post(wrong.into_options())
        .unwrap_err();
    assert_eq!(err.api().unwrap().detail().unwrap()["field"], "meta.sha256");
}

#[test]
fn trade_bills_download_unsigned_with_a_hash_plain_and_gzip() {
    use std::io::Read;
    let (emulator, client) = common::emulated();
    client
        .chain("v3/pay/transactions/jsapi")
        .post(order(&emulator, "T-bill", 1234))
        .unwrap();
    emulator.pay("T-bill").unwrap();
    let sha1 = |bytes: &[u8]| {
        let mut child = std::process::Command::new("openssl")
            .args(["dgst", "-sha1", "-r"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), bytes).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    for gzip in [false, true] {
        let mut query = json!({"bill_date": "2026-11-26"});
        if gzip {
            query["tar_type"] = json!("GZIP");
        }
        let bill = client
            .chain("v3/bill/tradebill")
            .get(json!({"query": query}))
            .unwrap()
            .json::<Value>()
            .unwrap();
        assert_eq!(bill["hash_type"], "SHA1");
        let url = bill["download_url"].as_str().unwrap();
        let target = url.split_once("/v3/").unwrap().1;
        let file = client.chain(&format!("v3/{target}")).get(()).unwrap();
        assert!(
            file.headers().get("Wechatpay-Signature").is_none(),
            "downloads are unsigned"
        );
        let text = if gzip {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&file.bytes()[..])
                .read_to_string(&mut text)
                .unwrap();
            text
        } else {
            file.text().unwrap().to_owned()
        };
        assert!(text.contains("`T-bill,") && text.contains("`12.34,"), "{text}");
        assert_eq!(sha1(text.as_bytes()), bill["hash_value"]);
    }
    let err = client
        .chain("v3/bill/tradebill")
        .get(json!({"query": {"bill_date": "26/11/2026"}}))
        .unwrap_err();
    assert_eq!(err.api().unwrap().detail().unwrap()["field"], "bill_date");
    let err = client
        .chain("v3/billdownload/file")
        .get(json!({"query": {"token": "nope"}}))
        .unwrap_err();
    assert_eq!(err.api().unwrap().code(), "INVALID_REQUEST");
}

#[test]
fn paths_outside_the_catalog_are_not_found() {
    let (_emulator, client) = common::emulated();
    let err = client.chain("v3/no/such/api").get(()).unwrap_err();
    let api = err.api().unwrap();
    assert_eq!((api.status().as_u16(), api.code()), (404, "NOT_FOUND"));
    // A catalog endpoint without special behaviour is echoed.
    let echo = client
        .chain("v3/marketing/favor/stocks/{stock_id}")
        .get(json!({"stock_id": "9856000", "query": {"stock_creator_mchid": "123"}}))
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(echo["path"], "/v3/marketing/favor/stocks/9856000");
}

#[test]
fn sensitive_fields_encrypted_by_the_client_decrypt_at_the_emulator() {
    let (emulator, client) = common::emulated();
    let encryptor = client.encryptor().unwrap();
    assert_eq!(encryptor.serial(), emulator.identity().pub_key_id);
    let body = json!({"json": {
        "business_code": "1900013511_10000",
        "contact_info": {"contact_type": "LEGAL", "contact_name": encryptor.encrypt("张三").unwrap(),
                         "mobile_phone": encryptor.encrypt("13900000000").unwrap()},
    }});
    // Wechatpay-Serial is added from the catalog; the emulator decrypts with the key it names.
    let echo = client
        .chain("v3/applyment4sub/applyment/")
        .post(&body)
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(echo["decrypted"]["contact_info.contact_name"], "张三");
    assert_eq!(echo["decrypted"]["contact_info.mobile_phone"], "13900000000");
    let sent = emulator.received().pop().unwrap();
    assert_eq!(
        sent.headers["wechatpay-serial"],
        emulator.identity().pub_key_id.as_str()
    );

    // The wrong serial for the ciphertext is refused, as WeChat Pay refuses it.
    let mut wrong = body.clone();
    wrong["headers"] = json!({"Wechatpay-Serial": "PUB_KEY_ID_SOMETHING_ELSE"});
    let err = client.chain("v3/applyment4sub/applyment/").post(wrong).unwrap_err();
    assert_eq!(err.api().unwrap().code(), "PARAM_ERROR");

    // Fields WeChat Pay encrypts for the merchant decrypt with the client's key.
    let for_merchant =
        wechatpay::Rsa::encrypt("6222 0000 0000 0000", emulator.identity().merchant.public_key()).unwrap();
    assert_eq!(client.decrypt(&for_merchant).unwrap(), "6222 0000 0000 0000");
}

fn bill_location(client: &wechatpay::Client, query: Value) -> wechatpay::BillLocation {
    client
        .chain("v3/bill/tradebill")
        .get(json!({"query": query}))
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn bills_stream_to_disk_checked_plain_gzip_and_async() {
    let (emulator, client) = common::emulated();
    client
        .chain("v3/pay/transactions/jsapi")
        .post(order(&emulator, "T-dl", 100))
        .unwrap();
    emulator.pay("T-dl").unwrap();
    let dir = tempfile::tempdir().unwrap();

    let plain = bill_location(&client, json!({"bill_date": "2026-11-26"}));
    let saved = client.download_bill(&plain, dir.path().join("plain.csv")).unwrap();
    assert!(!saved.gunzipped);
    assert_eq!(saved.digest, plain.hash_value);
    let text = std::fs::read_to_string(&saved.path).unwrap();
    assert!(text.contains("`T-dl,"));
    assert_eq!(saved.bytes, text.len() as u64);

    let gzip = bill_location(&client, json!({"bill_date": "2026-11-26", "tar_type": "GZIP"}));
    let saved = client.download_bill(&gzip, dir.path().join("gzip.csv")).unwrap();
    assert!(saved.gunzipped, "decompressed on the way");
    assert_eq!(std::fs::read_to_string(&saved.path).unwrap(), text);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let again = bill_location(&client, json!({"bill_date": "2026-11-26"}));
    let saved = runtime
        .block_on(client.download_bill_async(&again, dir.path().join("async.csv")))
        .unwrap();
    assert_eq!(std::fs::read_to_string(saved.path).unwrap(), text);

    // A destination whose name is as long as a file name may be: the partial file it is written
    // to first must still be a name the file system takes.
    let again = bill_location(&client, json!({"bill_date": "2026-11-26"}));
    let longest = dir.path().join(format!("{}.csv", "b".repeat(251)));
    let saved = client.download_bill(&again, &longest).unwrap();
    assert_eq!(std::fs::read_to_string(&saved.path).unwrap(), text);
    assert_eq!(saved.path, longest);

    // A large synthetic bill streams through too, reporting its progress chunk by chunk.
    let big = bill_location(&client, json!({"bill_date": "2026-11-26", "emulator_bill_rows": 20000}));
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&reports);
    let saved = client
        .download_bill_with_progress(&big, dir.path().join("big.csv"), move |received, total| {
            seen.lock().unwrap().push((received, total));
        })
        .unwrap();
    assert!(saved.bytes > 3_000_000, "{}", saved.bytes);
    assert_eq!(saved.digest, big.hash_value);
    let reports = reports.lock().unwrap();
    assert!(reports.len() > 1, "{} reports", reports.len());
    assert!(reports.windows(2).all(|w| w[0].0 < w[1].0), "received only grows");
    let (last, total) = *reports.last().unwrap();
    assert_eq!(Some(last), total.or(Some(last)), "the last report is the whole answer");
    assert_eq!(last, saved.bytes, "a plain bill arrives as it is written");
}

#[test]
fn an_altered_bill_fails_and_leaves_no_file() {
    let (emulator, client) = common::emulated();
    let dir = tempfile::tempdir().unwrap();
    let bill = bill_location(&client, json!({"bill_date": "2026-11-26"}));
    emulator.set_faults([Fault::TamperBody]);
    let err = client.download_bill(&bill, dir.path().join("bill.csv")).unwrap_err();
    assert!(
        matches!(err.verify().unwrap().check(), VerifyCheck::DownloadDigest { .. }),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file, not even a partial one"
    );
    // An expired token is the API's error, and leaves nothing either.
    emulator.set_faults([]);
    let mut expired = bill.clone();
    expired.download_url = expired.download_url.replace("token=", "token=expired");
    assert_eq!(
        client
            .download_bill(&expired, dir.path().join("bill.csv"))
            .unwrap_err()
            .api()
            .unwrap()
            .code(),
        "INVALID_REQUEST"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn webhook_replies_tell_wechat_pay_what_to_do() {
    use wechatpay::WebhookReply;
    let emulator = Emulator::start().unwrap();
    let verifier = emulator.notification_verifier().unwrap();
    let client = emulator.client_builder().build().unwrap();
    client
        .chain("v3/pay/transactions/native")
        .post(order(&emulator, "T-w", 1))
        .unwrap();
    let notification = emulator.transaction_notification("T-w").unwrap();
    let ok = verifier.verify(&notification.header_map(), &notification.body);
    assert_eq!(
        WebhookReply::for_outcome(&ok),
        WebhookReply::for_outcome(&Ok::<(), wechatpay::Error>(()))
    );
    assert_eq!(WebhookReply::for_outcome(&ok).status, 204);
    // Not authentic: 401 with WeChat Pay's FAIL shape, no details.
    let forged = verifier.verify(&notification.header_map(), b"{}");
    let reply = WebhookReply::for_outcome(&forged);
    assert_eq!(reply.status, 401);
    assert_eq!(serde_json::from_str::<Value>(&reply.body).unwrap()["code"], "FAIL");
    // Authentic but not decodable into our type: 500, so WeChat Pay sends it again later.
    #[derive(Debug, serde::Deserialize)]
    struct Wrong {
        #[allow(dead_code)]
        no_such_field: u64,
    }
    let undecodable = verifier.verify_as::<Wrong, _>(&notification.header_map(), &notification.body);
    assert_eq!(WebhookReply::for_outcome(&undecodable).status, 500);
}

#[test]
fn uploads_from_async_readers_with_named_parts_and_size_limits() {
    let (emulator, client) = common::emulated();
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("clip.mp4");
    std::fs::write(&video, vec![3u8; 300_000]).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime
        .block_on(async {
            let file = tokio::fs::File::open(&video).await.unwrap();
            let media = wechatpay::MediaUtil::from_async_reader("clip.mp4", file).await.unwrap();
            assert_eq!(media.len(), 300_000);
            client
                .v3()
                .merchant()
                .media()
                .video_upload()
                .post_async(media.into_options())
                .await
        })
        .unwrap();
    assert!(answer.json::<Value>().unwrap()["media_id"].is_string());

    // Over the documented 2 MiB for images: refused before sending.
    let before = emulator.received().len();
    let big = wechatpay::MediaUtil::from_bytes("big.png", vec![0u8; 2 * 1024 * 1024 + 1]);
    let err = client
        .v3()
        .merchant()
        .media()
        .upload()
        .post(big.into_options())
        .unwrap_err();
    assert!(err.is_config() && err.to_string().contains("2 MiB"), "{err}");
    assert_eq!(emulator.received().len(), before, "nothing was sent");

    // An endpoint whose file part has another name, sent first, with extra fields.
    // The part name and order come from the catalog (`submission_file:file,meta:json,…`).
    let media = wechatpay::MediaUtil::from_bytes("proof.pdf", b"%PDF-1.4 ...".to_vec())
        .text_part("item_id", "3")
        .text_part("manage_record_id", "R1");
    client
        .v3()
        .mch_manage()
        .submission_files()
        .sub_mchid()
        ._sub_mchid_()
        .upload()
        .post(media.into_options().var("sub_mchid", "1900000001"))
        .unwrap();
    let sent = String::from_utf8_lossy(&emulator.received().pop().unwrap().body).into_owned();
    let file_at = sent.find("name=\"submission_file\"").unwrap();
    let meta_at = sent.find("name=\"meta\"").unwrap();
    let item_at = sent.find("name=\"item_id\"").unwrap();
    assert!(file_at < meta_at && meta_at < item_at, "{sent}");
}

#[test]
fn other_downloads_stream_to_a_file() {
    let (_emulator, client) = common::emulated();
    let dir = tempfile::tempdir().unwrap();
    let saved = client
        .download(
            "v3/merchant-service/images/{media_id}",
            json!({"media_id": "ChsyMDIw"}),
            dir.path().join("image.png"),
        )
        .unwrap();
    let written = std::fs::read(&saved.path).unwrap();
    assert!(written.starts_with(b"\x89PNG"), "the binary image, unsigned");
    assert_eq!(saved.bytes, written.len() as u64);
    assert_eq!(saved.digest.len(), 64, "SHA-256 of what was written");
    // A signed JSON endpoint is not a download: its answer must be verified, so it is refused.
    let err = client
        .download("v3/marketing/favor/stocks", (), dir.path().join("x"))
        .unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("not a download endpoint"),
        "{err}"
    );
    assert!(!dir.path().join("x").exists());
}

#[test]
fn downloads_honour_the_timeout() {
    let emulator = Emulator::start().unwrap();
    let client = emulator
        .client_builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let bill = bill_location(&client, json!({"bill_date": "2026-11-26"}));
    emulator.set_faults([Fault::Delay(std::time::Duration::from_millis(1500))]);
    let dir = tempfile::tempdir().unwrap();
    let err = client.download_bill(&bill, dir.path().join("bill.csv")).unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn statements_are_signed_over_their_sha1_by_the_emulator() {
    let (_emulator, client) = common::emulated();
    let statement = client
        .chain("v3/statements")
        .get(json!({"query": {"date": "2026-11-26"}}))
        .unwrap();
    assert!(statement.headers().contains_key("Wechatpay-Statement-Sha1"));
    let global = client.v3().global().statements().get(()).unwrap();
    assert_eq!(global.status(), 200);
}

#[test]
fn the_emulator_decrypts_with_whichever_key_the_serial_names() {
    // A merchant migrating from the platform certificate: both keys configured, the certificate chosen.
    let emulator = Emulator::start().unwrap();
    let identity = emulator.identity().clone();
    let client = emulator
        .client_builder()
        .cert(identity.platform_serial(), identity.platform.public_key().clone())
        .encrypt_with(identity.platform_serial())
        .build()
        .unwrap();
    let encryptor = client.encryptor().unwrap();
    assert_eq!(encryptor.serial(), identity.platform_serial());
    let body =
        json!({"json": {"business_code": "1", "contact_info": {"contact_name": encryptor.encrypt("李四").unwrap()}}});
    let echo = client
        .v3()
        .applyment4sub()
        .applyment()
        ._empty_()
        .post(body)
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(echo["decrypted"]["contact_info.contact_name"], "李四");
}

#[test]
fn the_webhook_example_takes_the_notification_and_refuses_the_forgery() {
    // `cargo test` builds the examples next to the test binaries.
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples");
    let output = std::process::Command::new(examples.join("webhook")).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("webhook: TRANSACTION.SUCCESS \"SUCCESS\" for \"T-webhook\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("→ 204 No Content") && stdout.contains("(forged) → 401 Unauthorized"),
        "{stdout}"
    );
}
