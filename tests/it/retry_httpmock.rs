//! Failure sequences scripted with httpmock, where a scripted server is clearer than the
//! emulator: `500` then `200`, `429` with `Retry-After`, a slow answer, and the answers that are
//! never retried — each with the exact number of requests the server saw, and every attempt's
//! `Authorization` checked at the server (valid, and new each time).
//!
//! Each attempt carries an `X-Attempt: n` header, added by a layer after `signer` (the retry layer
//! is outside `signer`, so this layer sees every attempt), and the mocks answer by attempt.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::server::{pubkey_signer, Recorded};
use crate::common::{builder_at, merchant_public, multi_thread, seed_options, SEED};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, Mock};
use wechatpay::middleware::from_fn;
use wechatpay::{Client, Formatter, RateLimits, RetryPolicy, Rsa};

const QUERY_PATH: &str = "/v3/pay/transactions/out-trade-no/T1";

fn query() -> serde_json::Value {
    serde_json::json!({"out_trade_no": "T1", "query": {"mchid": "1900000109"}})
}

/// Every distinct `Authorization` the server saw on requests that verified.
type Seen = Arc<Mutex<HashSet<String>>>;

/// A client of `server` tagging each attempt, with quick retries.
fn client(server: &MockServer) -> Client {
    let attempt = Arc::new(AtomicUsize::new(0));
    let tag = from_fn(move |mut request, next| {
        let n = attempt.fetch_add(1, Ordering::SeqCst) + 1;
        request.headers_mut().insert("x-attempt", n.into());
        next.run(request)
    });
    builder_at(&server.base_url())
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        )
        .rate_limits(RateLimits::none())
        .middleware_after("signer", "attempt", tag)
        .build()
        .unwrap()
}

/// Whether the request's `Authorization` verifies with the merchant key over what arrived, as
/// WeChat Pay checks it; a valid one is remembered in `seen`.
fn signed_by_merchant(request: &HttpMockRequest, seen: &Seen) -> bool {
    let headers = request.headers();
    let recorded = Recorded {
        version: http::Version::HTTP_11,
        method: request.method().to_string(),
        target: request
            .uri()
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        body: request.body_bytes(),
        headers,
    };
    let valid = recorded.authorization_verifies(&merchant_public());
    if valid {
        seen.lock()
            .unwrap()
            .insert(recorded.header("authorization").unwrap_or_default().to_owned());
    }
    valid
}

/// WeChat Pay's four signature headers over `body`, signed now with the public-key key.
fn wechatpay_headers(body: &str) -> Vec<(String, String)> {
    let (key, serial) = pubkey_signer();
    let nonce = Formatter::nonce(32).unwrap();
    let timestamp = Formatter::timestamp().to_string();
    let signature = Rsa::sign(Formatter::response(&timestamp, &nonce, body), &key).unwrap();
    vec![
        ("Wechatpay-Timestamp".into(), timestamp),
        ("Wechatpay-Nonce".into(), nonce),
        ("Wechatpay-Signature".into(), signature),
        ("Wechatpay-Serial".into(), serial),
        ("Request-ID".into(), "08F78BB5AF0610C7A7A2B6D0A0B8F2D1E3".into()),
    ]
}

/// A mock for attempt `n` of `method path`, answered by `answer`.
fn on_attempt<'a>(
    server: &'a MockServer,
    method: Method,
    path: &'static str,
    n: usize,
    seen: &Seen,
    answer: impl FnOnce(httpmock::Then) -> httpmock::Then,
) -> Mock<'a> {
    let seen = Arc::clone(seen);
    server.mock(move |when, then| {
        when.method(method)
            .path(path)
            .header("x-attempt", n.to_string())
            .is_true(move |request| signed_by_merchant(request, &seen));
        answer(then);
    })
}

fn error(then: httpmock::Then, status: u16, code: &str) -> httpmock::Then {
    then.status(status)
        .header("Content-Type", "application/json")
        .header("Request-ID", "08F78BB5AF0610C7A7A2B6D0A0B8F2D1E3")
        .body(format!(r#"{{"code":"{code}","message":"scripted"}}"#))
}

fn ok(then: httpmock::Then, body: &'static str) -> httpmock::Then {
    let mut then = then.status(200).header("Content-Type", "application/json");
    for (name, value) in wechatpay_headers(body) {
        then = then.header(name, value);
    }
    then.body(body)
}

#[test]
fn a_500_then_200_is_two_requests_each_signed_afresh_blocking_and_async() {
    for asynchronous in [false, true] {
        let server = MockServer::start();
        let seen = Seen::default();
        let first = on_attempt(&server, GET, QUERY_PATH, 1, &seen, |t| error(t, 500, "SYSTEM_ERROR"));
        let second = on_attempt(&server, GET, QUERY_PATH, 2, &seen, |t| {
            ok(t, r#"{"trade_state":"SUCCESS"}"#)
        });
        let client = client(&server);
        let chain = client.chain("v3/pay/transactions/out-trade-no/{out_trade_no}");
        let answer = if asynchronous {
            multi_thread().block_on(chain.get_async(query())).unwrap()
        } else {
            chain.get(query()).unwrap()
        };
        assert_eq!(answer.json::<serde_json::Value>().unwrap()["trade_state"], "SUCCESS");
        first.assert_calls(1);
        second.assert_calls(1);
        assert_eq!(
            seen.lock().unwrap().len(),
            2,
            "two valid, different Authorization headers"
        );
    }
}

#[test]
fn a_429_with_retry_after_waits_as_asked() {
    let server = MockServer::start();
    let seen = Seen::default();
    let limited = on_attempt(&server, GET, QUERY_PATH, 1, &seen, |t| {
        error(t, 429, "FREQUENCY_LIMITED").header("Retry-After", "1")
    });
    let then_ok = on_attempt(&server, GET, QUERY_PATH, 2, &seen, |t| ok(t, "{}"));
    let started = Instant::now();
    client(&server)
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
        .get(query())
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    limited.assert_calls(1);
    then_ok.assert_calls(1);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_post_answered_500_is_not_sent_again() {
    let server = MockServer::start();
    let seen = Seen::default();
    let failed = on_attempt(
        &server,
        POST,
        "/v3/brand/partner/card-member/user-points/sync",
        1,
        &seen,
        |t| error(t, 500, "SYSTEM_ERROR"),
    );
    let err = client(&server).chain(SEED).post(seed_options()).unwrap_err();
    assert_eq!(err.api().unwrap().code(), "SYSTEM_ERROR");
    failed.assert_calls(1);
}

#[test]
fn a_400_is_never_retried_blocking_and_async() {
    for asynchronous in [false, true] {
        let server = MockServer::start();
        let seen = Seen::default();
        let refused = on_attempt(&server, GET, QUERY_PATH, 1, &seen, |t| error(t, 400, "PARAM_ERROR"));
        let client = client(&server);
        let chain = client.chain("v3/pay/transactions/out-trade-no/{out_trade_no}");
        let err = if asynchronous {
            multi_thread().block_on(chain.get_async(query())).unwrap_err()
        } else {
            chain.get(query()).unwrap_err()
        };
        assert_eq!(err.api().unwrap().code(), "PARAM_ERROR");
        refused.assert_calls(1);
    }
}

#[test]
fn an_answer_whose_signature_fails_is_never_retried() {
    let server = MockServer::start();
    let seen = Seen::default();
    let forged = on_attempt(&server, GET, QUERY_PATH, 1, &seen, |t| {
        // Signed over another body than the one sent.
        let mut then = t.status(200);
        for (name, value) in wechatpay_headers(r#"{"trade_state":"NOTPAY"}"#) {
            then = then.header(name, value);
        }
        then.body(r#"{"trade_state":"SUCCESS"}"#)
    });
    let err = client(&server)
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
        .get(query())
        .unwrap_err();
    assert!(err.is_verify(), "{err}");
    forged.assert_calls(1);
}

#[test]
fn a_slow_answer_times_out_once_and_is_not_repeated() {
    let server = MockServer::start();
    let seen = Seen::default();
    let slow = on_attempt(
        &server,
        POST,
        "/v3/brand/partner/card-member/user-points/sync",
        1,
        &seen,
        |t| ok(t, "{}").delay(Duration::from_secs(2)),
    );
    let client = client(&server);
    let started = Instant::now();
    let err = client
        .chain(SEED)
        .post(serde_json::json!({"json": seed_options()["json"], "timeout": 0.5}))
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_millis(1500));
    // Give a second attempt time to arrive, were one sent.
    std::thread::sleep(Duration::from_millis(300));
    slow.assert_calls(1);
}
