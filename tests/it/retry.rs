//! The built-in `retry` layer against a scripted loopback server: what is retried and what never
//! is (with the exact number of attempts), re-signing, `Retry-After`, the backup base URI and,
//! through a recording proxy, the backup domain.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::server::{pubkey_signer, signed_ok, Reply, Signing, TestServer};
use crate::common::{builder, merchant_public, seed_options, SEED};
use wechatpay::{Error, RetryPolicy};

const QUERY: &str = "v3/pay/transactions/out-trade-no/{out_trade_no}";

fn query_options() -> serde_json::Value {
    serde_json::json!({"out_trade_no": "T1", "query": {"mchid": "1900000109"}})
}

fn signed_error(status: u16, code: &str) -> Reply {
    let (key, serial) = pubkey_signer();
    Reply::json(
        status,
        &format!(r#"{{"code":"{code}","message":"scripted"}}"#),
        Signing::Key(key, serial),
    )
}

/// A server answering the scripted replies in order, then `200` for ever.
fn scripted(replies: Vec<Reply>) -> TestServer {
    let replies = Mutex::new(replies.into_iter());
    TestServer::start(move |_| replies.lock().unwrap().next().unwrap_or_else(|| signed_ok("{}")))
}

/// Fast waits, so the tests do not sleep for long.
fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
}

#[test]
fn a_get_answered_500_is_retried_and_every_attempt_is_signed_afresh() {
    let server = scripted(vec![
        signed_error(500, "SYSTEM_ERROR"),
        signed_error(503, "SYSTEM_ERROR"),
    ]);
    let client = builder(&server).retry(quick()).build().unwrap();
    client.chain(QUERY).get(query_options()).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.authorization_verifies(&merchant_public())));
    let authorizations: std::collections::HashSet<_> = requests
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(
        authorizations.len(),
        3,
        "a new nonce, timestamp and signature each time"
    );
}

#[test]
fn the_async_verb_retries_the_same_way() {
    let server = scripted(vec![signed_error(429, "FREQUENCY_LIMITED")]);
    let client = builder(&server).retry(quick()).build().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(client.chain(QUERY).get_async(query_options()))
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn retry_after_is_honoured() {
    let mut limited = signed_error(429, "FREQUENCY_LIMITED");
    limited.headers.push(("Retry-After".into(), "1".into()));
    let server = scripted(vec![limited]);
    let client = builder(&server).retry(quick()).build().unwrap();
    let started = Instant::now();
    client.chain(QUERY).get(query_options()).unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as the server asked"
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_wait_that_would_pass_the_deadline_ends_the_call_with_what_failed() {
    let mut limited = signed_error(429, "FREQUENCY_LIMITED");
    limited.headers.push(("Retry-After".into(), "100".into()));
    let server = scripted(vec![limited]);
    let client = builder(&server)
        .retry(quick())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chain(QUERY).get(query_options()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "did not sleep towards the deadline"
    );
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(err.api().unwrap().code(), "FREQUENCY_LIMITED", "{err}");
    assert_eq!(server.requests().len(), 1);

    // Async: the same request, the same error.
    let server = TestServer::start(|_| signed_error(503, "SYSTEM_ERROR"));
    let slow = RetryPolicy::default()
        .base_delay(Duration::from_secs(30))
        .max_delay(Duration::from_secs(30));
    let client = builder(&server)
        .retry(slow)
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let result = runtime.block_on(client.chain(QUERY).get_async(query_options()));
    let err = result.unwrap_err();
    // The jittered wait may be short enough for a second attempt; never a bare timeout.
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(err.api().unwrap().code(), "SYSTEM_ERROR");
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!((1..=3).contains(&server.requests().len()));
}

#[test]
fn attempts_are_capped() {
    assert_eq!(
        RetryPolicy::default().attempts(1000).max_attempts(),
        RetryPolicy::MAX_ATTEMPTS
    );
    assert_eq!(RetryPolicy::default().attempts(0).max_attempts(), 1);
}

#[test]
fn when_every_attempt_fails_the_error_counts_them_and_keeps_its_kind() {
    let server = TestServer::start(|_| signed_error(500, "SYSTEM_ERROR"));
    let client = builder(&server).retry(quick().attempts(4)).build().unwrap();
    let err = client.chain(QUERY).get(query_options()).unwrap_err();
    assert_eq!(server.requests().len(), 4);
    assert!(err.is_api(), "{err}");
    assert_eq!(err.api().unwrap().code(), "SYSTEM_ERROR");
    let Error::Retried(retried) = &err else { panic!("{err}") };
    assert_eq!(retried.count(), 4);
    assert_eq!(retried.attempts().len(), 3);
    assert!(err.to_string().starts_with("4 attempts failed"), "{err}");
}

#[test]
fn never_retried_a_post_that_reached_the_server_a_400_or_a_bad_signature() {
    // A non-idempotent POST answered 500: it may have been processed.
    let server = TestServer::start(|_| signed_error(500, "SYSTEM_ERROR"));
    let client = builder(&server).retry(quick()).build().unwrap();
    let err = client.chain(SEED).post(seed_options()).unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err}");
    assert_eq!(server.requests().len(), 1);

    // A 400 on a GET.
    let server = TestServer::start(|_| signed_error(400, "PARAM_ERROR"));
    let client = builder(&server).retry(quick()).build().unwrap();
    let err = client.chain(QUERY).get(query_options()).unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err}");
    assert_eq!(server.requests().len(), 1);

    // An answer whose signature does not verify.
    let server = TestServer::start(|_| Reply::json(200, "{}", Signing::None));
    let client = builder(&server).retry(quick()).build().unwrap();
    let err = client.chain(QUERY).get(query_options()).unwrap_err();
    assert!(matches!(err, Error::Verify(_)), "{err}");
    assert_eq!(server.requests().len(), 1);

    // RetryPolicy::none(): one attempt even for a retryable answer.
    let server = TestServer::start(|_| signed_error(503, "SYSTEM_ERROR"));
    let client = builder(&server).retry(RetryPolicy::none()).build().unwrap();
    assert!(client.chain(QUERY).get(query_options()).is_err());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_connection_failure_goes_to_the_backup_base_uri() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let backup = TestServer::start(|_| signed_ok("{}"));
    // A POST too: the request never left on the first attempt.
    let client = builder(&backup)
        .base_uri(format!("http://{closed}/"))
        .backup_base_uri(backup.base_uri())
        .retry(quick())
        .build()
        .unwrap();
    client.chain(SEED).post(seed_options()).unwrap();
    assert_eq!(backup.requests().len(), 1);
    assert!(backup.requests()[0].authorization_verifies(&merchant_public()));
}

#[test]
fn under_the_default_base_uri_a_retry_goes_to_the_backup_domain() {
    // A proxy that refuses every tunnel and records where each one was to go: nothing leaves.
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&targets);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut line).unwrap_or_default();
            seen.lock()
                .unwrap()
                .push(line.split_whitespace().nth(1).unwrap_or_default().to_owned());
            let _ = (&stream).write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let server = TestServer::start(|_| signed_ok("{}"));
    let client = builder(&server)
        .base_uri(wechatpay::DEFAULT_BASE_URI)
        .proxy(proxy)
        .retry(quick())
        .build()
        .unwrap();
    let err = client.chain(QUERY).get(query_options()).unwrap_err();
    assert!(err.is_transport(), "{err}");
    assert_eq!(
        *targets.lock().unwrap(),
        [
            "api.mch.weixin.qq.com:443",
            "api2.mch.weixin.qq.com:443",
            "api2.mch.weixin.qq.com:443"
        ]
    );
}
