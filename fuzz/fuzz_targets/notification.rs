//! Callback notifications: `NotificationVerifier::verify` on outside headers and body.
//!
//! Input: `Name: value` header lines, an empty line, then the raw body bytes (the fixtures in
//! tests/fixtures/notifications, laid out this way, are the seeds). The verifier holds the
//! fixture keys (the WeChat Pay public key and the platform certificate) and a clock at the
//! fixtures' time.
//!
//! Properties: nothing panics; the headers as `(name, value)` pairs and as an `http::HeaderMap`
//! give the same verdict; a notification is accepted only if an independent check of the
//! signature over `TIMESTAMP\nNONCE\nBODY\n` passes with the key its serial names, within 300 s;
//! no error message carries control characters (they come from the sender).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wechatpay::{KeyRing, NotificationVerifier, PemUtil, Rsa, WebhookReply};

const NOW: i64 = 1_700_000_000;
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";
const APIV3_KEY: &str = include_str!("../../tests/fixtures/notifications/apiv3_key.txt");

fn verifier() -> &'static NotificationVerifier {
    static VERIFIER: OnceLock<NotificationVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let platform =
            PemUtil::load_certificate_from_string(include_str!("../../tests/fixtures/keys/platform_cert.pem")).unwrap();
        let keys = KeyRing::new()
            .with(
                PUB_KEY_ID,
                Rsa::from_public(include_str!("../../tests/fixtures/keys/pubkey.pem")).unwrap(),
            )
            .with(platform.serial_no(), platform.public_key().clone());
        NotificationVerifier::new(APIV3_KEY.trim(), keys)
            .unwrap()
            .with_clock(|| NOW)
    })
}

/// Splits the input into header pairs and the body.
fn split(data: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let headers = String::from_utf8_lossy(head)
        .lines()
        .map(|line| match line.split_once(':') {
            Some((name, value)) => (name.to_owned(), value.strip_prefix(' ').unwrap_or(value).to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect();
    (headers, body)
}

/// The signature check, written out independently of the crate's.
fn independently_verified(headers: &[(String, String)], body: &[u8]) -> bool {
    let get = |name: &str| {
        let mut values = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim());
        match (values.next(), values.next()) {
            (Some(v), None) => Some(v),
            _ => None,
        }
    };
    let (Some(timestamp), Some(nonce), Some(signature), Some(serial)) = (
        get("Wechatpay-Timestamp"),
        get("Wechatpay-Nonce"),
        get("Wechatpay-Signature"),
        get("Wechatpay-Serial"),
    ) else {
        return false;
    };
    let Ok(ts) = timestamp.parse::<i64>() else { return false };
    if ts.abs_diff(NOW) > 300 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let keys = verifier().keys();
    let Some(key) = keys.get(serial) else {
        return false;
    };
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    Rsa::verify(&message, signature, key).unwrap_or(false)
}

fn assert_printable(e: &wechatpay::Error) {
    let shown = e.to_string();
    assert!(
        !shown.chars().any(char::is_control),
        "an error message carries control characters: {shown:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let (pairs, body) = split(data);
    let verifier = verifier();

    let outcome = verifier.verify(&pairs, body);
    let _ = WebhookReply::for_outcome(&outcome);
    match &outcome {
        Ok(notification) => {
            assert!(
                independently_verified(&pairs, body),
                "accepted a notification whose signature does not check out: {notification:?}"
            );
        }
        Err(e) => assert_printable(e),
    }

    // The same headers as an http::HeaderMap (when they are all valid there).
    let mut map = http::HeaderMap::new();
    let all_valid = pairs.iter().all(|(name, value)| {
        match (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                map.append(name, value);
                true
            }
            _ => false,
        }
    });
    if all_valid {
        let from_map = verifier.verify(&map, body);
        if let Err(e) = &from_map {
            assert_printable(e);
        }
        match (&outcome, &from_map) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            _ => panic!(
                "pairs and HeaderMap disagree: pairs {:?}, map {:?}",
                outcome.as_ref().map(|_| ()),
                from_map.as_ref().map(|_| ())
            ),
        }
    }
});
