//! Sign, verify, OAEP and notification throughput on the backend this build uses.
//!
//! `cargo bench --bench crypto` (ring) and `cargo bench --bench crypto --features aws-lc-rs`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wechatpay::{AesGcm, Formatter, KeyRing, NotificationVerifier, Rsa};

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn rsa(c: &mut Criterion) {
    let backend = wechatpay::crypto_backend();
    let private = Rsa::from_private(fixture("keys/merchant_pkcs8.pem")).unwrap();
    let public = private.public_key().clone();
    let message = fixture("vectors/message.txt");
    let signature = Rsa::sign(&message, &private).unwrap();

    let mut group = c.benchmark_group("rsa2048");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("sign", backend), |b| {
        b.iter(|| Rsa::sign(&message, &private).unwrap());
    });
    group.bench_function(BenchmarkId::new("verify", backend), |b| {
        b.iter(|| assert!(Rsa::verify(&message, &signature, &public).unwrap()));
    });
    let ciphertext = Rsa::encrypt("13900000000", &public).unwrap();
    group.bench_function(BenchmarkId::new("oaep_encrypt", backend), |b| {
        b.iter(|| Rsa::encrypt("13900000000", &public).unwrap());
    });
    group.bench_function(BenchmarkId::new("oaep_decrypt", backend), |b| {
        b.iter(|| Rsa::decrypt(&ciphertext, &private).unwrap());
    });
    group.finish();
}

fn notification(c: &mut Criterion) {
    let backend = wechatpay::crypto_backend();
    let headers: Vec<(String, String)> =
        serde_json::from_str(&fixture("notifications/transaction.headers.json")).unwrap();
    let body = fixture("notifications/transaction.body.json");
    let now: i64 = headers[0].1.parse().unwrap();
    let keys = KeyRing::new().with(
        "PUB_KEY_ID_0114232134912410000000000000",
        Rsa::from_public(fixture("keys/pubkey.pem")).unwrap(),
    );
    let verifier = NotificationVerifier::new(fixture("notifications/apiv3_key.txt"), keys)
        .unwrap()
        .with_clock(move || now);
    let key = fixture("notifications/apiv3_key.txt");
    let sealed = AesGcm::encrypt("x".repeat(1024), &key, "0123456789ab", "transaction").unwrap();

    let mut group = c.benchmark_group("notification");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("verify_and_decrypt", backend), |b| {
        b.iter(|| verifier.verify(&headers, body.as_bytes()).unwrap());
    });
    group.bench_function(BenchmarkId::new("aes_gcm_decrypt_1KiB", backend), |b| {
        b.iter(|| AesGcm::decrypt(&sealed, &key, "0123456789ab", "transaction").unwrap());
    });
    group.bench_function(BenchmarkId::new("nonce_32", backend), |b| {
        b.iter(|| Formatter::nonce(32).unwrap());
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = rsa, notification
}
criterion_main!(benches);
