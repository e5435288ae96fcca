//! A full APIv3 request over loopback (sign, send, receive, verify, JSON) against an in-process
//! server that returns a pre-signed answer, next to sign-only and verify-only. The ratio
//! full ÷ (sign + verify) is what the chain, options, pipeline, HTTP and JSON cost on top of the
//! crypto. Two baselines split that further: the same request through the SDK with no-op crypto,
//! and a bare hyper client making the same POST (the loopback round trip itself).
//!
//! `cargo bench --bench request` (ring) and `cargo bench --bench request --features aws-lc-rs`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use wechatpay::{Builder, Formatter, PemUtil, Rsa};

const SEED: &str = "v3/brand/partner/card-member/user-points/sync";
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[path = "../tests/it/common/loopback.rs"]
mod loopback;

/// Serves one pre-signed answer to every request.
fn start_server(body: &'static str, headers: Vec<(&'static str, String)>) -> SocketAddr {
    loopback::spawn(move |listener| async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let headers = headers.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let headers = headers.clone();
                    async move {
                        let _ = request.into_body().collect().await;
                        let mut response = http::Response::builder().status(200);
                        for (k, v) in &headers {
                            response = response.header(*k, v);
                        }
                        Ok::<_, Infallible>(response.body(Full::new(Bytes::from_static(body.as_bytes()))).unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn request(c: &mut Criterion) {
    let backend = wechatpay::crypto_backend();
    let merchant_key = Rsa::from_private(fixture("keys/merchant_pkcs8.pem")).unwrap();
    let merchant_serial = PemUtil::load_certificate_from_string(fixture("keys/merchant_cert.pem"))
        .unwrap()
        .serial_no()
        .to_owned();
    let wechat_key = Rsa::from_private(fixture("keys/pubkey_private.pem")).unwrap();
    let wechat_public = wechat_key.public_key().clone();

    // The answer, signed once now (valid for the 300 s window the bench runs in).
    const BODY: &str = r#"{"out_request_no":"100002322019090134234sfdf","brand_id":"1004","card_id":"pbLatjvWOibDc5-TBnbUk1pD12o0","openid":"obLatjnx9gnqzS4myYGmLZ7LgLBA","user_card_code":"478515832665","point_balance":1000}"#;
    let (timestamp, nonce) = (Formatter::timestamp(), Formatter::nonce(32).unwrap());
    let response_message = Formatter::response(timestamp, &nonce, BODY);
    let signature = Rsa::sign(&response_message, &wechat_key).unwrap();
    let addr = start_server(
        BODY,
        vec![
            ("Content-Type", "application/json".into()),
            ("Request-ID", "08F78BB5AF0610C7A7A2B6D0A0B8F2D1E3".into()),
            ("Wechatpay-Timestamp", timestamp.to_string()),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", signature.clone()),
            ("Wechatpay-Serial", PUB_KEY_ID.into()),
        ],
    );
    let client = Builder::new()
        .mchid("1900000109")
        .serial(merchant_serial)
        .private_key(merchant_key.clone())
        .cert(PUB_KEY_ID, wechat_public.clone())
        .base_uri(format!("http://{addr}/"))
        // The seed call's documented 5/s would pace the loop: this measures the work, not the wait.
        .rate_limits(wechatpay::RateLimits::none())
        .build()
        .unwrap();
    let options = json!({ "json": serde_json::from_str::<serde_json::Value>(BODY).unwrap() });
    let request_message = Formatter::request("POST", &format!("/{SEED}"), timestamp, "N", BODY);

    let mut group = c.benchmark_group("request");
    group.bench_function(BenchmarkId::new("sign_only", backend), |b| {
        b.iter(|| Rsa::sign(&request_message, &merchant_key).unwrap());
    });
    group.bench_function(BenchmarkId::new("verify_only", backend), |b| {
        b.iter(|| assert!(Rsa::verify(&response_message, &signature, &wechat_public).unwrap()));
    });
    group.bench_function(BenchmarkId::new("full_blocking", backend), |b| {
        b.iter(|| {
            let response = client.chain(SEED).post(&options).unwrap();
            response.json::<serde_json::Value>().unwrap()
        });
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    group.bench_function(BenchmarkId::new("full_async", backend), |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = client[SEED].post_async(&options).await.unwrap();
                response.json::<serde_json::Value>().unwrap()
            })
        });
    });

    // Baselines: the pipeline with no-op crypto, and a bare hyper client on the same server.
    let no_crypto = Builder::new()
        .signer(|_: wechatpay::SigningRequest| async { Ok::<_, wechatpay::Error>("none".to_owned()) })
        .verifier(|_: &wechatpay::Endpoint, _: &wechatpay::Response| Ok(()))
        .base_uri(format!("http://{addr}/"))
        .rate_limits(wechatpay::RateLimits::none())
        .build()
        .unwrap();
    group.bench_function(BenchmarkId::new("pipeline_without_crypto", backend), |b| {
        b.iter(|| {
            no_crypto
                .chain(SEED)
                .post(&options)
                .unwrap()
                .json::<serde_json::Value>()
                .unwrap()
        });
    });
    let bare = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let uri: http::Uri = format!("http://{addr}/{SEED}").parse().unwrap();
    group.bench_function(BenchmarkId::new("bare_hyper_round_trip", backend), |b| {
        b.iter(|| {
            runtime.block_on(async {
                let request = http::Request::post(uri.clone())
                    .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                    .unwrap();
                let response = bare.request(request).await.unwrap();
                response.into_body().collect().await.unwrap().to_bytes()
            })
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(40).measurement_time(std::time::Duration::from_secs(4));
    targets = request
}
criterion_main!(benches);
