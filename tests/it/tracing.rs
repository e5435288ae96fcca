//! Every call is traced — method, path template, status, Request-ID, latency, retries — and no
//! trace holds a secret, a body or a filled-in path: a subscriber captures every field of every
//! span and event (all targets, all levels) and the test searches the lot.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::server::{pubkey_signer, Reply, Signing, TestServer};
use crate::common::{self, builder, merchant_public, text};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wechatpay::RetryPolicy;

/// Writes every span and event, with all their fields, into one string.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    ids: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut text = self.text.lock().unwrap();
        let _ = write!(text, "\nspan {} {}", span.metadata().target(), span.metadata().name());
        span.record(&mut Fields(&mut text));
        Id::from_u64(self.ids.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut text = self.text.lock().unwrap();
        text.push_str("\nrecord");
        values.record(&mut Fields(&mut text));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = self.text.lock().unwrap();
        let _ = write!(
            text,
            "\nevent {} {}",
            event.metadata().target(),
            event.metadata().level()
        );
        event.record(&mut Fields(&mut text));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Both tests here run alone in a fresh copy of the binary (`common::alone`): tracing caches each
/// callsite's interest process-wide, and another module's thread reaching a callsite while no
/// capturing subscriber is alive can leave it switched off for this one.
#[test]
fn calls_are_traced_without_secrets_bodies_or_filled_paths() {
    if !common::alone(
        module_path!(),
        "calls_are_traced_without_secrets_bodies_or_filled_paths",
    ) {
        return;
    }
    let (key, serial) = pubkey_signer();
    let failed_once = Arc::new(AtomicU64::new(0));
    let server = TestServer::start(move |_| {
        if failed_once.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::json(
                500,
                r#"{"code":"SYSTEM_ERROR","message":"again"}"#,
                Signing::Key(key.clone(), serial.clone()),
            );
        }
        let mut reply = Reply::json(
            200,
            r#"{"secret_answer":"ANSWER-MARKER-99"}"#,
            Signing::Key(key.clone(), serial.clone()),
        );
        reply.headers = vec![("Request-ID".into(), "REQ-ID-TRACED-1".into())];
        reply
    });
    let client = builder(&server)
        .retry(
            RetryPolicy::default()
                .attempts(2)
                .base_delay(std::time::Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        // Blocking: a GET, retried once, at INFO because of `debug`.
        client
            .chain("v3/pay/transactions/id/{transaction_id}")
            .get(json!({"transaction_id": "PERSONAL-4242", "query": {"mchid": "1900000109"}, "debug": true}))
            .unwrap();
        // Async, with a body.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(
                client
                    .chain("v3/marketing/favor/users/{openid}/coupons")
                    .post_async(json!({"openid": "OPENID-PERSONAL-7", "json": {"stock_id": "BODY-MARKER-77"}})),
            )
            .unwrap();
    });
    let traced = capture.text.lock().unwrap().clone();

    // What is there.
    for expected in [
        "span wechatpay wechatpay.call",
        "template=v3/pay/transactions/id/{transaction_id}",
        "template=v3/marketing/favor/users/{openid}/coupons",
        "method=GET",
        "method=POST",
        "status=200",
        "request_id=REQ-ID-TRACED-1",
        "latency_ms=",
        "bytes=",
        "event wechatpay INFO message=retrying",
        "reason=api 500 SYSTEM_ERROR",
        "event wechatpay INFO message=call finished",
        "event wechatpay DEBUG message=call finished",
    ] {
        assert!(traced.contains(expected), "{expected} missing from:\n{traced}");
    }

    // What never is: the Authorization values the server received, key material, bodies, the
    // filled-in path variables.
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.authorization_verifies(&merchant_public())));
    let mut forbidden: Vec<String> = requests
        .iter()
        .map(|r| {
            let authorization = r.header("authorization").unwrap();
            authorization.split("signature=\"").nth(1).unwrap()[..40].to_owned()
        })
        .collect();
    let key_pem = text("keys/merchant_pkcs8.pem");
    forbidden.extend(
        key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .take(3)
            .map(str::to_owned),
    );
    forbidden.extend(
        [
            "WECHATPAY2-SHA256-RSA2048",
            "PERSONAL-4242",
            "OPENID-PERSONAL-7",
            "BODY-MARKER-77",
            "ANSWER-MARKER-99",
        ]
        .map(str::to_owned),
    );
    for secret in &forbidden {
        assert!(!traced.contains(secret.as_str()), "{secret} leaked into:\n{traced}");
    }
}

/// Certificate downloads are traced (with their serials), and nothing secret or decrypted is:
/// not the APIv3 or APIv2 key, not an encrypted field, not a notification's decrypted resource.
#[cfg(feature = "emulator")]
#[test]
fn certificate_refreshes_are_traced_without_keys_or_plaintexts() {
    if !common::alone(
        module_path!(),
        "certificate_refreshes_are_traced_without_keys_or_plaintexts",
    ) {
        return;
    }
    use wechatpay::emulator::{Emulator, Mode};
    let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start().unwrap();
    let identity = emulator.identity();
    let client = emulator
        .merchant_builder()
        .auto_certificates(identity.apiv3_key.as_bytes())
        .build()
        .unwrap();
    let webhook = wechatpay::NotificationVerifier::with_certificates(client.certificates().unwrap());
    let capture = Capture::default();
    let mut ciphertext = String::new();
    tracing::subscriber::with_default(capture.clone(), || {
        let name = client.encryptor().unwrap().encrypt("NAME-PLAINTEXT-31").unwrap();
        client
            .chain("v3/profitsharing/receivers/add")
            .post(
                json!({"json": {"appid": "wx8888888888888888", "type": "PERSONAL_OPENID", "account": "oLatjhnq8Z",
                "name": name, "relation_type": "STORE"}}),
            )
            .unwrap();
        ciphertext = name;
        emulator.rotate_platform_certificate().unwrap();
        let sent = emulator
            .notification(
                "TRANSACTION.SUCCESS",
                "支付成功",
                "transaction",
                &json!({"trade_state": "SUCCESS", "out_trade_no": "RESOURCE-MARKER-53"}),
            )
            .unwrap();
        webhook.verify(&sent.headers, &sent.body).unwrap();
    });
    let traced = capture.text.lock().unwrap().clone();
    assert_eq!(
        traced
            .matches("message=wechatpay: platform certificates refreshed")
            .count(),
        2,
        "{traced}"
    );
    assert!(traced.contains("reason=first use"), "{traced}");
    assert!(traced.contains("reason=unknown serial"), "{traced}");
    for serial in emulator.platform_serials() {
        assert!(traced.contains(&serial), "{serial} missing from:\n{traced}");
    }
    for secret in [
        identity.apiv3_key.as_str(),
        identity.apiv2_key.as_str(),
        &ciphertext[..40],
        "NAME-PLAINTEXT-31",
        "RESOURCE-MARKER-53",
        "BEGIN CERTIFICATE",
    ] {
        assert!(!traced.contains(secret), "{secret} leaked into:\n{traced}");
    }
}
