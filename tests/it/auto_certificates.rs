//! Platform certificates that refresh themselves (`Builder::auto_certificates`), end to end
//! against the emulator: the bootstrap download, a rotation learned from the first answer
//! signed with the new serial, single-flight under concurrency, failures that keep the old set
//! and back off, the schedule, encryption with the newest certificate, and a webhook sharing
//! the set. Blocking and async.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common;
use crate::common::certificates::{certificate_emulator, downloads_seen};
use crate::common::{multi_thread, SEED};
use serde_json::json;
use wechatpay::emulator::{Emulator, Fault, FAULT_HEADER};
use wechatpay::middleware::from_fn;
use wechatpay::{Builder, Client, ConfigError, NotificationVerifier, RateLimits, RetryPolicy, VerifyCheck};

fn seed(n: usize) -> serde_json::Value {
    common::seed_call(format!("AC-{n}"))
}

/// The merchant's credentials and the APIv3 key, no WeChat Pay key.
fn auto(emulator: &Emulator) -> Builder {
    emulator
        .merchant_builder()
        .auto_certificates(emulator.identity().apiv3_key.as_bytes())
        .rate_limits(RateLimits::none())
        .retry(RetryPolicy::none())
}

/// `n` seed calls at once.
fn at_once(client: &Client, n: usize) -> Vec<wechatpay::Result<wechatpay::Response>> {
    common::posts_at_once(client, SEED, n, seed)
}

#[test]
fn the_first_call_downloads_the_certificates_and_its_answer_is_verified_with_them() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    let certificates = client.certificates().unwrap();
    assert!(!certificates.is_loaded());
    client.chain(SEED).post(seed(1)).unwrap();
    assert_eq!(downloads_seen(&emulator), 1);
    assert_eq!(certificates.downloads(), 1);
    assert_eq!(
        certificates.newest().as_deref(),
        Some(emulator.identity().platform_serial())
    );
    client.chain(SEED).post(seed(2)).unwrap();
    assert_eq!(downloads_seen(&emulator), 1, "a known serial downloads nothing");
}

#[test]
fn the_first_async_call_downloads_the_certificates_too() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    multi_thread().block_on(async {
        client.chain(SEED).post_async(seed(1)).await.unwrap();
        client.chain(SEED).post_async(seed(2)).await.unwrap();
    });
    assert_eq!(downloads_seen(&emulator), 1);
}

#[test]
fn a_rotated_certificate_is_learned_from_the_first_answer_signed_with_it() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    client.chain(SEED).post(seed(1)).unwrap();
    let old = emulator.identity().platform_serial().to_owned();
    let new = emulator.rotate_platform_certificate().unwrap();
    let answer = client.chain(SEED).post(seed(2)).unwrap();
    assert_eq!(answer.headers()["Wechatpay-Serial"], new.as_str());
    assert_eq!(downloads_seen(&emulator), 2);
    let keys = client.certificates().unwrap().keys();
    assert!(
        keys.contains(&old) && keys.contains(&new),
        "the overlap keeps both: {keys:?}"
    );
    assert_eq!(client.certificates().unwrap().newest(), Some(new.clone()));

    // Retired by WeChat Pay: the next download no longer lists it.
    assert!(emulator.retire_platform_certificate(&old));
    client.certificates().unwrap().refresh().unwrap();
    let keys = client.certificates().unwrap().keys();
    assert!(!keys.contains(&old) && keys.contains(&new));
}

#[test]
fn an_async_client_learns_a_rotation_too() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    multi_thread().block_on(async {
        client.chain(SEED).post_async(seed(1)).await.unwrap();
        let new = emulator.rotate_platform_certificate().unwrap();
        let answer = client.chain(SEED).post_async(seed(2)).await.unwrap();
        assert_eq!(answer.headers()["Wechatpay-Serial"], new.as_str());
    });
    assert_eq!(downloads_seen(&emulator), 2);
}

#[test]
fn a_hundred_concurrent_calls_meeting_a_new_serial_cause_one_download() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    client.chain(SEED).post(seed(0)).unwrap();
    emulator.rotate_platform_certificate().unwrap();
    for result in &at_once(&client, 100) {
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!(downloads_seen(&emulator), 2, "one at the start, one for the rotation");
    assert_eq!(client.certificates().unwrap().downloads(), 2);
}

#[test]
fn blocking_calls_on_many_threads_meeting_a_new_serial_cause_one_download() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    client.chain(SEED).post(seed(0)).unwrap();
    emulator.rotate_platform_certificate().unwrap();
    let threads: Vec<_> = (0..16)
        .map(|n| {
            let client = client.clone();
            std::thread::spawn(move || client.chain(SEED).post(seed(n)).map(|_| ()))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(downloads_seen(&emulator), 2);
}

/// A layer that fails `v3/certificates` while `broken` is set (a network that drops that call).
fn breaker(broken: Arc<AtomicBool>) -> impl wechatpay::middleware::Middleware {
    from_fn(move |request, next| {
        let broken = Arc::clone(&broken);
        Box::pin(async move {
            if broken.load(Ordering::SeqCst) && request.uri().path() == "/v3/certificates" {
                return Err(ConfigError::new("test", "v3/certificates is unreachable").into());
            }
            next.run(request).await
        })
    })
}

#[test]
fn a_failed_download_keeps_the_old_certificates_and_waits_before_trying_again() {
    let emulator = certificate_emulator();
    let broken = Arc::new(AtomicBool::new(false));
    let client = auto(&emulator)
        .middleware_before("signer", "breaker", breaker(Arc::clone(&broken)))
        .build()
        .unwrap();
    let certificates = client.certificates().unwrap().clone();
    client.chain(SEED).post(seed(0)).unwrap();
    let old = emulator.identity().platform_serial().to_owned();

    broken.store(true, Ordering::SeqCst);
    let new = emulator.rotate_platform_certificate().unwrap();
    let err = client.chain(SEED).post(seed(1)).unwrap_err();
    match err.verify().map(wechatpay::VerifyError::check) {
        Some(VerifyCheck::CertificatesUnavailable { serial, reason }) => {
            assert_eq!(serial, &new);
            assert!(reason.contains("unreachable"), "{reason}");
        }
        other => panic!("expected CertificatesUnavailable, got {other:?} ({err})"),
    }
    assert_eq!(certificates.downloads(), 2);
    // Within the backoff: calls fail at once, without a download.
    for n in 2..6 {
        assert!(client.chain(SEED).post(seed(n)).unwrap_err().is_verify());
    }
    assert_eq!(certificates.downloads(), 2, "no storm");
    assert_eq!(certificates.newest(), Some(old), "the old set stays");

    broken.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1100));
    client.chain(SEED).post(seed(7)).unwrap();
    assert_eq!(certificates.downloads(), 3);
    assert_eq!(certificates.newest(), Some(new));
}

#[test]
fn a_wrong_apiv3_key_says_so_and_concurrent_calls_make_one_download() {
    let emulator = certificate_emulator();
    let client = emulator
        .merchant_builder()
        .auto_certificates(b"0123456789abcdef0123456789abcdef")
        .rate_limits(RateLimits::none())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    for result in at_once(&client, 10) {
        let err = result.unwrap_err();
        assert!(err.is_verify(), "{err}");
        assert!(
            matches!(
                err.verify().map(wechatpay::VerifyError::check),
                Some(VerifyCheck::CertificatesUnavailable { .. })
            ),
            "{err}"
        );
    }
    assert_eq!(downloads_seen(&emulator), 1);
    let err = client.certificates().unwrap().refresh().unwrap_err();
    assert!(err.to_string().contains("APIv3 key"), "{err}");
    assert_eq!(downloads_seen(&emulator), 2, "an explicit refresh downloads at once");
}

#[test]
fn the_set_is_downloaded_again_on_schedule() {
    let emulator = certificate_emulator();
    let client = auto(&emulator)
        .certificate_refresh(Duration::from_millis(300))
        .build()
        .unwrap();
    client.chain(SEED).post(seed(0)).unwrap();
    client.chain(SEED).post(seed(1)).unwrap();
    assert_eq!(downloads_seen(&emulator), 1);
    std::thread::sleep(Duration::from_millis(400));
    client.chain(SEED).post(seed(2)).unwrap();
    client.chain(SEED).post(seed(3)).unwrap();
    assert_eq!(downloads_seen(&emulator), 2);
}

#[test]
fn a_serial_the_download_does_not_have_is_refused_and_not_downloaded_for_again() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    client.chain(SEED).post(seed(0)).unwrap();
    let stray = json!({"json": seed(1)["json"], "headers": {FAULT_HEADER: "unknown-serial"}});
    for _ in 0..3 {
        let err = client.chain(SEED).post(stray.clone()).unwrap_err();
        assert!(
            matches!(
                err.verify().map(wechatpay::VerifyError::check),
                Some(VerifyCheck::UnknownSerial(_))
            ),
            "{err}"
        );
    }
    assert_eq!(
        downloads_seen(&emulator),
        2,
        "one look for the stray serial, then quiet"
    );
}

#[test]
fn sensitive_fields_are_encrypted_with_the_newest_certificate() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    let add = |client: &Client| {
        let encryptor = client.encryptor().unwrap();
        let name = encryptor.encrypt("张三").unwrap();
        let answer = client
            .chain("v3/profitsharing/receivers/add")
            .post(
                json!({"json": {"appid": "wx8888888888888888", "type": "PERSONAL_OPENID", "account": "oLatjhnq8Z",
                "name": name, "relation_type": "STORE"}}),
            )
            .unwrap();
        let sent = emulator.received().last().unwrap().headers["Wechatpay-Serial"].clone();
        let echo: serde_json::Value = answer.json().unwrap();
        (encryptor.serial().to_owned(), sent, echo)
    };
    // The first call needs the serial before it can be sent: the download comes first.
    let (serial, sent, echo) = add(&client);
    assert_eq!(serial, emulator.identity().platform_serial());
    assert_eq!(sent, serial.as_str());
    assert_eq!(echo["decrypted"]["name"], "张三", "{echo}");

    let new = emulator.rotate_platform_certificate().unwrap();
    client.certificates().unwrap().refresh().unwrap();
    let (serial, sent, echo) = add(&client);
    assert_eq!(serial, new);
    assert_eq!(sent, new.as_str());
    assert_eq!(echo["decrypted"]["name"], "张三");
}

#[test]
fn encrypt_with_still_chooses() {
    let emulator = certificate_emulator();
    let first = emulator.identity().platform_serial().to_owned();
    let client = auto(&emulator).encrypt_with(first.clone()).build().unwrap();
    emulator.rotate_platform_certificate().unwrap();
    client.certificates().unwrap().refresh().unwrap();
    assert_eq!(client.encryptor().unwrap().serial(), first);
}

#[test]
fn public_keys_given_with_cert_keep_working_alongside() {
    let emulator = certificate_emulator();
    let identity = emulator.identity();
    let client = auto(&emulator)
        .cert(identity.pub_key_id.clone(), identity.wechatpay.public_key().clone())
        .build()
        .unwrap();
    client.chain(SEED).post(seed(0)).unwrap();
    let keys = client.certificates().unwrap().keys();
    assert!(keys.contains(&identity.pub_key_id));
    assert!(keys.contains(identity.platform_serial()));
}

#[test]
fn a_webhook_sharing_the_certificates_learns_a_rotation_once() {
    let emulator = certificate_emulator();
    let client = auto(&emulator).build().unwrap();
    let webhook = NotificationVerifier::with_certificates(client.certificates().unwrap());
    let resource = json!({"trade_state": "SUCCESS", "out_trade_no": "T1"});
    let first = emulator
        .notification("TRANSACTION.SUCCESS", "支付成功", "transaction", &resource)
        .unwrap();
    assert_eq!(
        webhook.verify(&first.headers, &first.body).unwrap().resource["out_trade_no"],
        "T1"
    );
    assert_eq!(
        downloads_seen(&emulator),
        1,
        "the webhook's first notification loads the set"
    );

    let new = emulator.rotate_platform_certificate().unwrap();
    multi_thread().block_on(async {
        for _ in 0..3 {
            let sent = emulator
                .notification("TRANSACTION.SUCCESS", "支付成功", "transaction", &resource)
                .unwrap();
            let opened = webhook.verify_async(&sent.headers, &sent.body).await.unwrap();
            assert_eq!(opened.serial, new);
        }
    });
    assert_eq!(downloads_seen(&emulator), 2);
    // The client learned it too: its next answer (new serial) needs no download.
    client.chain(SEED).post(seed(1)).unwrap();
    assert_eq!(downloads_seen(&emulator), 2);
}

#[test]
fn a_public_key_merchant_is_told_why_there_are_no_certificates() {
    let emulator = Emulator::builder().rate_limits(false).start().unwrap();
    let client = auto(&emulator).build().unwrap();
    let err = client.chain(SEED).post(seed(0)).unwrap_err();
    assert!(err.is_verify(), "{err}");
    assert!(err.to_string().contains("RESOURCE_NOT_EXISTS"), "{err}");
}

#[test]
fn an_apiv3_key_of_the_wrong_length_is_a_configuration_error() {
    let emulator = certificate_emulator();
    let err = emulator
        .merchant_builder()
        .auto_certificates(b"short")
        .build()
        .unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().contains("32 bytes"), "{err}");
    let _ = Fault::UnknownSerial;
}

#[test]
fn a_webhook_that_cannot_get_the_certificates_asks_wechat_pay_to_send_again() {
    let emulator = certificate_emulator();
    let client = emulator
        .merchant_builder()
        .auto_certificates(b"0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();
    let webhook = NotificationVerifier::with_certificates(client.certificates().unwrap());
    let sent = emulator
        .notification(
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            &json!({"trade_state": "SUCCESS"}),
        )
        .unwrap();
    let outcome = webhook.verify(&sent.headers, &sent.body);
    assert!(
        matches!(
            outcome
                .as_ref()
                .unwrap_err()
                .verify()
                .map(wechatpay::VerifyError::check),
            Some(VerifyCheck::CertificatesUnavailable { .. })
        ),
        "{outcome:?}"
    );
    // Not a forgery: 500, so WeChat Pay sends it again later.
    assert_eq!(wechatpay::WebhookReply::for_outcome(&outcome).status, 500);
}

#[test]
fn clients_sharing_a_store_share_one_download_and_learn_a_rotation_from_each_other() {
    let emulator = certificate_emulator();
    let store = Arc::new(wechatpay::InProcessStore::new());
    let first = auto(&emulator).store(Arc::clone(&store)).build().unwrap();
    let second = auto(&emulator).store(Arc::clone(&store)).build().unwrap();
    first.chain(SEED).post(seed(1)).unwrap();
    second.chain(SEED).post(seed(2)).unwrap();
    assert_eq!(downloads_seen(&emulator), 1);
    assert_eq!(second.certificates().unwrap().downloads(), 0);

    let rotated = emulator.rotate_platform_certificate().unwrap();
    first.chain(SEED).post(seed(3)).unwrap();
    second.chain(SEED).post(seed(4)).unwrap();
    assert_eq!(
        downloads_seen(&emulator),
        2,
        "the second client read the new set from the store"
    );
    assert_eq!(second.certificates().unwrap().downloads(), 0);
    assert_eq!(second.certificates().unwrap().newest(), Some(rotated));
}
