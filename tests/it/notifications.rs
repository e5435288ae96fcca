//! Real-shaped callback notifications (signed by OpenSSL, encrypted by Python's `cryptography`)
//! verify and decrypt; each tampering is rejected with its own error.

use crate::common;
use crate::common::text;
use serde::Deserialize;
use serde_json::Value;
use wechatpay::{CryptoError, Error, Formatter, KeyRing, NotificationVerifier, PemUtil, Rsa, VerifyCheck};

const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";

struct Fixture {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timestamp: i64,
}

impl Fixture {
    fn load(name: &str) -> Self {
        let headers: Vec<(String, String)> =
            serde_json::from_str(&text(&format!("notifications/{name}.headers.json"))).unwrap();
        let timestamp = headers
            .iter()
            .find(|(k, _)| k == "Wechatpay-Timestamp")
            .unwrap()
            .1
            .parse()
            .unwrap();
        Self {
            headers,
            body: common::bytes(&format!("notifications/{name}.body.json")),
            timestamp,
        }
    }

    fn set(&mut self, name: &str, value: &str) {
        self.headers.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
    }

    fn remove(&mut self, name: &str) {
        self.headers.retain(|(k, _)| k != name);
    }

    fn header(&self, name: &str) -> &str {
        &self.headers.iter().find(|(k, _)| k == name).unwrap().1
    }

    fn header_map(&self) -> http::HeaderMap {
        self.headers
            .iter()
            .map(|(k, v)| (k.parse::<http::HeaderName>().unwrap(), v.parse().unwrap()))
            .collect()
    }

    /// Replaces the body and signs it again with `signer`, as a forger holding the key would.
    fn resign(&mut self, body: Vec<u8>, signer: &str) {
        let key = Rsa::from_private(text(signer)).unwrap();
        let message = [
            self.header("Wechatpay-Timestamp").as_bytes(),
            b"\n",
            self.header("Wechatpay-Nonce").as_bytes(),
            b"\n",
            &body,
            b"\n",
        ]
        .concat();
        let signature = Rsa::sign(&message, &key).unwrap();
        self.set("Wechatpay-Signature", &signature);
        self.body = body;
    }
}

fn verifier_at(now: i64) -> NotificationVerifier {
    let platform = PemUtil::load_certificate(common::path("keys/platform_cert.pem")).unwrap();
    let keys = KeyRing::new()
        .with(PUB_KEY_ID, Rsa::from_public(text("keys/pubkey.pem")).unwrap())
        .with(platform.serial_no(), platform.public_key().clone());
    NotificationVerifier::new(text("notifications/apiv3_key.txt"), keys)
        .unwrap()
        .with_clock(move || now)
}

fn check_of(result: wechatpay::Result<impl std::fmt::Debug>) -> VerifyCheck {
    match result {
        Err(Error::Verify(e)) => e.check().clone(),
        other => panic!("expected a verification error, got {other:?}"),
    }
}

#[test]
fn transaction_notification_verifies_and_decrypts() {
    let n = Fixture::load("transaction");
    let verifier = verifier_at(n.timestamp);
    let expected: Value = serde_json::from_str(&text("notifications/transaction.resource.json")).unwrap();

    let from_pairs = verifier.verify(&n.headers, &n.body).unwrap();
    let from_map = verifier.verify(&n.header_map(), &n.body).unwrap();
    assert_eq!(from_pairs, from_map);
    assert_eq!(from_pairs.resource, expected);
    assert_eq!(from_pairs.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(from_pairs.original_type, "transaction");
    assert_eq!(from_pairs.summary, "支付成功");
    assert_eq!(from_pairs.serial, PUB_KEY_ID);
    assert_eq!(from_pairs.id, "EV-2018022511223320873");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Refund {
    out_refund_no: String,
    refund_status: String,
    user_received_account: String,
    amount: Amount,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Amount {
    total: u64,
    refund: u64,
}

#[test]
fn refund_notification_decrypts_into_a_typed_struct() {
    let n = Fixture::load("refund");
    let verifier = verifier_at(n.timestamp + 299);
    let refund = verifier.verify_as::<Refund, _>(&n.headers, &n.body).unwrap();
    assert_eq!(refund.event_type, "REFUND.SUCCESS");
    assert_eq!(refund.resource.refund_status, "SUCCESS");
    assert_eq!(refund.resource.user_received_account, "招商银行信用卡0403");
    assert_eq!(
        refund.resource.amount,
        Amount {
            total: 999,
            refund: 999
        }
    );
    assert_eq!(refund.serial, text("keys/platform_cert.serial").trim());

    // The right signature but the wrong shape for T is a decode error.
    #[derive(Debug, Deserialize)]
    struct NotARefund {
        #[allow(dead_code)]
        prepay_id: String,
    }
    let err = verifier.verify_as::<NotARefund, _>(&n.headers, &n.body).unwrap_err();
    assert!(err.is_decode(), "{err}");
    // A field of the wrong type: serde would quote the (personal) value; our error does not.
    #[derive(Debug, Deserialize)]
    struct WrongType {
        #[allow(dead_code)]
        user_received_account: u64,
    }
    let err = verifier.verify_as::<WrongType, _>(&n.headers, &n.body).unwrap_err();
    let text = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(err.is_decode() && !text.contains("招商银行"), "{text}");
}

#[test]
fn each_missing_header_is_named() {
    for name in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
    ] {
        let mut n = Fixture::load("transaction");
        n.remove(name);
        assert_eq!(
            check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)),
            VerifyCheck::MissingHeader(name)
        );
        let mut n = Fixture::load("transaction");
        n.set(name, "  ");
        assert_eq!(
            check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)),
            VerifyCheck::MissingHeader(name)
        );
    }
}

#[test]
fn header_names_are_case_insensitive() {
    let n = Fixture::load("transaction");
    let lower: Vec<(String, String)> = n.headers.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect();
    assert!(verifier_at(n.timestamp).verify(&lower, &n.body).is_ok());
}

#[test]
fn signature_probe_is_its_own_kind() {
    let mut n = Fixture::load("transaction");
    n.set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/aGVsbG8=");
    let err = verifier_at(n.timestamp).verify(&n.headers, &n.body).unwrap_err();
    assert!(err.verify().unwrap().is_signature_probe());
    assert_eq!(check_of(Err::<(), _>(err)), VerifyCheck::SignatureProbe);
}

#[test]
fn a_forged_probe_with_a_stale_timestamp_or_unknown_serial_is_not_called_a_probe() {
    let mut n = Fixture::load("transaction");
    n.set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/aGVsbG8=");
    assert!(matches!(
        check_of(verifier_at(n.timestamp + 3600).verify(&n.headers, &n.body)),
        VerifyCheck::TimestampSkew { .. }
    ));
    n.set("Wechatpay-Serial", "bogus");
    assert_eq!(
        check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)),
        VerifyCheck::UnknownSerial("bogus".into())
    );
}

#[test]
fn unreadable_or_huge_header_values_are_named_and_cut() {
    let n = Fixture::load("transaction");
    let mut map = n.header_map();
    map.insert("Wechatpay-Nonce", http::HeaderValue::from_bytes(b"caf\xe9").unwrap());
    assert_eq!(
        check_of(verifier_at(n.timestamp).verify(&map, &n.body)),
        VerifyCheck::InvalidHeader("Wechatpay-Nonce")
    );
    let mut n = Fixture::load("transaction");
    n.set("Wechatpay-Serial", &"S".repeat(10_000));
    match check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)) {
        VerifyCheck::UnknownSerial(serial) => assert_eq!(serial.chars().count(), 65, "64 characters and an ellipsis"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn timestamps_outside_300_seconds_are_refused() {
    let n = Fixture::load("transaction");
    assert!(verifier_at(n.timestamp - 300).verify(&n.headers, &n.body).is_ok());
    assert!(verifier_at(n.timestamp + 300).verify(&n.headers, &n.body).is_ok());
    for now in [
        n.timestamp + 301,
        n.timestamp - 301,
        n.timestamp + 600,
        n.timestamp - 600,
    ] {
        match check_of(verifier_at(now).verify(&n.headers, &n.body)) {
            VerifyCheck::TimestampSkew {
                timestamp,
                skew,
                tolerance,
                ..
            } => {
                assert_eq!(timestamp, n.timestamp);
                assert_eq!(skew, n.timestamp.abs_diff(now));
                assert_eq!(tolerance, 300);
            }
            other => panic!("{other:?}"),
        }
    }
    let mut n = Fixture::load("transaction");
    n.set("Wechatpay-Timestamp", "yesterday");
    assert_eq!(
        check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)),
        VerifyCheck::InvalidTimestamp("yesterday".into())
    );
}

#[test]
fn tampered_timestamp_or_nonce_breaks_the_signature() {
    let mut n = Fixture::load("transaction");
    let ts = n.timestamp + 1;
    n.set("Wechatpay-Timestamp", &ts.to_string());
    assert!(matches!(
        check_of(verifier_at(ts).verify(&n.headers, &n.body)),
        VerifyCheck::BadSignature { .. }
    ));
    let mut n = Fixture::load("transaction");
    n.set("Wechatpay-Nonce", "another-nonce");
    assert!(matches!(
        check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)),
        VerifyCheck::BadSignature { .. }
    ));
}

#[test]
fn unknown_or_swapped_serial_is_refused() {
    let mut n = Fixture::load("transaction");
    n.set("Wechatpay-Serial", "PUB_KEY_ID_0000000000000000000000000000");
    assert_eq!(
        check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)),
        VerifyCheck::UnknownSerial("PUB_KEY_ID_0000000000000000000000000000".into())
    );
    // A known serial whose key did not sign it.
    let mut n = Fixture::load("transaction");
    let platform_serial = text("keys/platform_cert.serial");
    n.set("Wechatpay-Serial", platform_serial.trim());
    assert_eq!(
        check_of(verifier_at(n.timestamp).verify(&n.headers, &n.body)),
        VerifyCheck::BadSignature {
            serial: platform_serial.trim().into()
        }
    );
}

#[test]
fn tampered_body_or_signature_is_refused() {
    let n = Fixture::load("transaction");
    let verifier = verifier_at(n.timestamp);
    // One byte of the body.
    let mut body = n.body.clone();
    let i = body.len() / 2;
    body[i] ^= 0x01;
    assert!(matches!(
        check_of(verifier.verify(&n.headers, &body)),
        VerifyCheck::BadSignature { .. }
    ));
    // Re-serialized JSON (same data, different bytes) must not verify: only raw bytes do.
    let reserialized = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&n.body).unwrap()).unwrap();
    assert!(matches!(
        check_of(verifier.verify(&n.headers, &reserialized)),
        VerifyCheck::BadSignature { .. }
    ));
    // The signature itself.
    let mut n2 = Fixture::load("transaction");
    let mut sig = n2.header("Wechatpay-Signature").to_owned();
    sig.replace_range(10..11, if &sig[10..11] == "A" { "B" } else { "A" });
    n2.set("Wechatpay-Signature", &sig);
    assert!(matches!(
        check_of(verifier.verify(&n2.headers, &n2.body)),
        VerifyCheck::BadSignature { .. }
    ));
    n2.set("Wechatpay-Signature", "not base64 at all!");
    assert!(matches!(
        check_of(verifier.verify(&n2.headers, &n2.body)),
        VerifyCheck::BadSignature { .. }
    ));
}

fn with_resource_field(n: &Fixture, field: &str, f: impl Fn(&str) -> String) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&n.body).unwrap();
    let old = body["resource"][field].as_str().unwrap().to_owned();
    body["resource"][field] = Value::String(f(&old));
    serde_json::to_vec(&body).unwrap()
}

#[test]
fn tampered_ciphertext_or_associated_data_fails_decryption_even_when_signed() {
    let decrypt_failed = CryptoError::Decrypt {
        algorithm: "AEAD_AES_256_GCM",
    };
    type Tamper = fn(&str) -> String;
    let tamperings: [(&str, Tamper); 3] = [
        ("ciphertext", |c| {
            let mut bytes = c.as_bytes().to_vec();
            bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
            String::from_utf8(bytes).unwrap()
        }),
        ("associated_data", |_| "refund".into()),
        ("nonce", |_| "fdasflkja485".into()),
    ];
    for (field, tamper) in tamperings {
        let mut n = Fixture::load("transaction");
        let body = with_resource_field(&n, field, tamper);
        n.resign(body, "keys/pubkey_private.pem");
        match verifier_at(n.timestamp).verify(&n.headers, &n.body) {
            Err(Error::Crypto(e)) => assert_eq!(e, decrypt_failed, "{field}"),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn wrong_apiv3_key_fails_decryption_and_short_key_is_refused() {
    let n = Fixture::load("transaction");
    let keys = KeyRing::new().with(PUB_KEY_ID, Rsa::from_public(text("keys/pubkey.pem")).unwrap());
    let wrong = NotificationVerifier::new("vutsrqponmlkjihgfedcba9876543210", keys.clone())
        .unwrap()
        .with_clock(move || n.timestamp);
    assert!(matches!(
        wrong.verify(&n.headers, &n.body),
        Err(Error::Crypto(CryptoError::Decrypt { .. }))
    ));

    let err = NotificationVerifier::new("too-short", keys).unwrap_err();
    assert!(err.is_config() && err.to_string().contains("apiv3_key"), "{err}");
    let err = NotificationVerifier::new(text("notifications/apiv3_key.txt"), KeyRing::new()).unwrap_err();
    assert!(err.is_config(), "{err}");
    // Debug never shows the APIv3 key.
    let verifier = verifier_at(0);
    assert!(!format!("{verifier:?}").contains(&text("notifications/apiv3_key.txt")));
}

#[test]
fn malformed_envelopes_are_decode_or_crypto_errors() {
    let n = Fixture::load("transaction");
    let mut signed = Fixture::load("transaction");
    signed.resign(b"not json".to_vec(), "keys/pubkey_private.pem");
    let err = verifier_at(n.timestamp)
        .verify(&signed.headers, &signed.body)
        .unwrap_err();
    assert!(err.is_decode(), "{err}");

    let mut other_algorithm = Fixture::load("transaction");
    let body = with_resource_field(&n, "algorithm", |_| "AEAD_SM4_GCM".into());
    other_algorithm.resign(body, "keys/pubkey_private.pem");
    match verifier_at(n.timestamp).verify(&other_algorithm.headers, &other_algorithm.body) {
        Err(Error::Crypto(CryptoError::UnsupportedAlgorithm { name, .. })) => assert_eq!(name, "AEAD_SM4_GCM"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_notification_built_with_the_helpers_round_trips() {
    // What a test double for WeChat Pay does: encrypt, sign, send; the verifier opens it.
    let apiv3_key = text("notifications/apiv3_key.txt");
    let resource = r#"{"out_trade_no":"T1","trade_state":"SUCCESS"}"#;
    let ciphertext = wechatpay::AesGcm::encrypt(resource, &apiv3_key, "0123456789ab", "transaction").unwrap();
    let body = serde_json::json!({
        "id": "EV-1", "event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource",
        "resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext, "nonce": "0123456789ab",
                     "associated_data": "transaction", "original_type": "transaction"}
    })
    .to_string();
    let (timestamp, nonce) = (1_800_000_000, Formatter::nonce(32).unwrap());
    let key = Rsa::from_private(text("keys/pubkey_private.pem")).unwrap();
    let signature = Rsa::sign(Formatter::response(timestamp, &nonce, &body), &key).unwrap();
    let headers = [
        ("Wechatpay-Timestamp", timestamp.to_string()),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Signature", signature),
        ("Wechatpay-Serial", PUB_KEY_ID.to_owned()),
    ];
    let n = verifier_at(timestamp).verify(&headers, body.as_bytes()).unwrap();
    assert_eq!(n.resource["out_trade_no"], "T1");
    assert_eq!(n.summary, "");
}
