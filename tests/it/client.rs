//! The APIv3 client over loopback: requests checked cryptographically as WeChat Pay checks them,
//! the three chain styles and both verb styles byte-identical, every verification failure and API
//! error told apart, timeouts, template encoding, and a replacement signer.

use std::sync::Arc;
use std::time::Duration;

use crate::common;
use crate::common::server::{platform_key, pubkey_signer, signed_ok, Recorded, Reply, Signing, TestServer, PUB_KEY_ID};
use crate::common::{builder, merchant_public, seed_options, SEED};
use serde_json::{json, Value};
use wechatpay::middleware::from_fn;
use wechatpay::{Error, VerifyCheck};

fn echo_server() -> TestServer {
    TestServer::start(|r: &Recorded| signed_ok(&String::from_utf8_lossy(&r.body)))
}

#[test]
fn seed_call_three_styles_and_seg_send_identical_signed_requests() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    let options = seed_options();

    let a = client.chain(SEED).post(&options).unwrap();
    let b = client[SEED].post(&options).unwrap();
    let c = client
        .seg("v3")
        .seg("brand")
        .seg("partner")
        .seg("cardMember")
        .seg("userPoints")
        .seg("sync")
        .post(&options)
        .unwrap();
    let d = client.chain("v3/brand")["partner/card-member"]
        .chain("user-points")
        .seg("sync")
        .post(&options)
        .unwrap();
    for response in [&a, &b, &c, &d] {
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>().unwrap(), options["json"]);
        assert!(response.request_id().is_some());
    }

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    let key = merchant_public();
    for r in &requests {
        assert!(r.authorization_verifies(&key), "signature over what arrived: {r:?}");
        assert_eq!(r.target, format!("/{SEED}"));
        assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
        assert!(r.header("accept").unwrap().starts_with("application/json"));
        assert!(r.header("user-agent").unwrap().starts_with("wechatpay-sdk-rust/"));
    }
    // The key order of the PHP array is kept in the body.
    assert!(requests[0].body.starts_with(b"{\"out_request_no\""));
    let first = requests[0].stable_view();
    assert!(requests.iter().all(|r| r.stable_view() == first));
}

#[test]
fn blocking_and_async_send_identical_requests_and_errors() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    let options = json!({"transaction_id": "4200000001", "query": {"mchid": "1230000109"}});
    let node = client.chain("v3/pay/transactions/id/{transaction_id}");

    node.get(&options).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(node.get_async(&options)).unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].stable_view(), requests[1].stable_view());
    assert_eq!(
        requests[0].target,
        "/v3/pay/transactions/id/4200000001?mchid=1230000109"
    );
    assert_eq!(requests[0].body.len(), 0, "GET sends no body");
    assert!(requests[0].header("content-type").is_none());
    assert!(requests.iter().all(|r| r.authorization_verifies(&merchant_public())));

    // The same input error from both, before any I/O.
    let blocking = node.get(json!({"query": {"mchid": "1"}})).unwrap_err();
    let asynchronous = runtime
        .block_on(node.get_async(json!({"query": {"mchid": "1"}})))
        .unwrap_err();
    assert_eq!(blocking.to_string(), asynchronous.to_string());
    assert!(blocking.is_template(), "{blocking}");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn template_variables_are_encoded_and_signed_as_sent() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    client
        .chain("v3/things/{id}/{+rest}")
        .get(json!({"id": "a/b c?d%e 中文", "rest": "x/y", "query": {"q": "1 2/三"}}))
        .unwrap();
    let r = server.last();
    assert_eq!(
        r.target,
        "/v3/things/a%2Fb%20c%3Fd%25e%20%E4%B8%AD%E6%96%87/x/y?q=1%202%2F%E4%B8%89"
    );
    assert!(r.authorization_verifies(&merchant_public()));
}

#[test]
fn bad_options_fail_before_any_io_naming_the_key() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    let node = client.chain("v3/pay/transactions/id/{transaction_id}");
    let cases: Vec<(Value, &str)> = vec![
        (json!("not an object"), "options"),
        (json!({}), "transaction_id"),
        (json!({"transaction_id": {"x": 1}}), "transaction_id"),
        (
            json!({"transaction_id": "1", "headers": {"Bad Header": "x"}}),
            "headers.Bad Header",
        ),
        (json!({"transaction_id": "1", "headers": ["x"]}), "headers"),
        (json!({"transaction_id": "1", "query": [1]}), "query"),
        (json!({"transaction_id": "1", "timeout": "soon"}), "timeout"),
        (json!({"transaction_id": "1", "json": {}, "body": "x"}), "body"),
        (json!({"transaction_id": "1", "xml": {}}), "xml"),
    ];
    for (options, key) in cases {
        let err = node.get(options.clone()).unwrap_err();
        assert!(err.is_config() || err.is_template(), "{options}: {err}");
        assert!(err.to_string().contains(key), "{options}: {err}");
    }
    assert!(server.requests().is_empty());
}

fn verify_failure(reply: Reply) -> (VerifyCheck, Error) {
    let server = TestServer::start(move |_| reply.clone());
    let client = builder(&server).build().unwrap();
    let err = client.chain(SEED).post(seed_options()).unwrap_err();
    let check = err
        .verify()
        .unwrap_or_else(|| panic!("not a verification error: {err}"))
        .check()
        .clone();
    assert!(err.verify().unwrap().response().is_some(), "the response is kept");
    (check, err)
}

#[test]
fn each_verification_failure_is_its_own_error() {
    let (key, serial) = pubkey_signer();
    for header in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
    ] {
        let mut reply = Reply::json(200, "{}", Signing::Key(key.clone(), serial.clone()));
        reply.drop_header = Some(header);
        assert_eq!(verify_failure(reply).0, VerifyCheck::MissingHeader(header));
    }
    for skew in [600, -600] {
        let reply = Reply::json(200, "{}", Signing::Skewed(key.clone(), serial.clone(), skew));
        assert!(matches!(verify_failure(reply).0, VerifyCheck::TimestampSkew { .. }));
    }
    let reply = Reply::json(200, "{}", Signing::Key(key.clone(), "PUB_KEY_ID_UNKNOWN".into()));
    assert_eq!(
        verify_failure(reply).0,
        VerifyCheck::UnknownSerial("PUB_KEY_ID_UNKNOWN".into())
    );
    // Signed by another key than the serial names.
    let (platform, _) = platform_key();
    let reply = Reply::json(200, "{}", Signing::Key(platform, serial.clone()));
    assert!(matches!(verify_failure(reply).0, VerifyCheck::BadSignature { .. }));
    // Body changed after signing.
    let reply = Reply::json(
        200,
        r#"{"point_balance":1000}"#,
        Signing::OverBody(key.clone(), serial.clone(), br#"{"point_balance":1}"#.to_vec()),
    );
    assert!(matches!(verify_failure(reply).0, VerifyCheck::BadSignature { .. }));
    // 204 whose signature covers a non-empty message.
    let reply = Reply::json(204, "", Signing::OverBody(key.clone(), serial.clone(), b"{}".to_vec()));
    assert!(matches!(verify_failure(reply).0, VerifyCheck::BadSignature { .. }));
    // No signature at all.
    let reply = Reply::json(200, "{}", Signing::None);
    assert_eq!(
        verify_failure(reply).0,
        VerifyCheck::MissingHeader("Wechatpay-Timestamp")
    );
}

#[test]
fn a_properly_signed_204_and_both_key_kinds_verify() {
    let (platform, platform_serial) = platform_key();
    let (pubkey, pubkey_id) = pubkey_signer();
    let replies = [
        Reply::json(204, "", Signing::Key(pubkey.clone(), pubkey_id)),
        Reply::json(200, "{\"a\":1}", Signing::Key(platform, platform_serial)),
    ];
    for reply in replies {
        let server = TestServer::start(move |_| reply.clone());
        let client = builder(&server).build().unwrap();
        assert!(client
            .chain("v3/pay/transactions/out-trade-no/T1/close")
            .post(json!({"json": {"mchid": "1"}}))
            .is_ok());
    }
    assert_eq!(PUB_KEY_ID, "PUB_KEY_ID_0114232134912410000000000000");
}

#[test]
fn api_errors_carry_code_message_detail_and_request_id() {
    let cases = [
        (
            400,
            "PARAM_ERROR",
            r#","detail":{"field":"/amount/total","location":"body"}"#,
        ),
        (401, "SIGN_ERROR", ""),
        (404, "RESOURCE_NOT_EXISTS", ""),
        (429, "FREQUENCY_LIMITED", ""),
        (500, "SYSTEM_ERROR", ""),
    ];
    for (status, code, detail) in cases {
        let body = format!(r#"{{"code":"{code}","message":"message for {code}"{detail}}}"#);
        let (key, serial) = pubkey_signer();
        let reply = Reply::json(status, &body, Signing::Key(key, serial));
        let server = TestServer::start(move |_| reply.clone());
        let client = builder(&server).build().unwrap();
        let err = client.chain(SEED).post(seed_options()).unwrap_err();
        assert!(err.is_api(), "{err}");
        let api = err.api().unwrap();
        assert_eq!(api.status(), status);
        assert_eq!(api.code(), code);
        assert_eq!(api.message(), format!("message for {code}"));
        assert_eq!(api.request_id(), Some("08F78BB5AF0610C7A7A2B6D0A0B8F2D1E3"));
        assert_eq!(api.detail().is_some(), !detail.is_empty());
        assert!(err.to_string().contains(code) && err.to_string().contains("08F78BB5AF0610C7A7A2B6D0A0B8F2D1E3"));
    }
    // A non-JSON error body keeps its text.
    let server = TestServer::start(|_| Reply::json(502, "<html>Bad Gateway</html>", Signing::None));
    let err = builder(&server).build().unwrap().chain(SEED).post(()).unwrap_err();
    assert_eq!(err.api().unwrap().message(), "<html>Bad Gateway</html>");
}

#[test]
fn slow_servers_hit_the_timeout() {
    let server = TestServer::start(|_| {
        let mut reply = signed_ok("{}");
        reply.delay = Duration::from_millis(1500);
        reply
    });
    let client = builder(&server).timeout(Duration::from_millis(300)).build().unwrap();
    let err = client.chain(SEED).post(()).unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // The per-request option wins over the client default, in Guzzle's seconds.
    let err = builder(&server)
        .build()
        .unwrap()
        .chain(SEED)
        .post(json!({"timeout": 0.2}))
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_millis(200)),
        "{err}"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime.block_on(client.chain(SEED).post_async(())).unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(client.chain(SEED).post(json!({"timeout": 3})).is_ok());
}

#[test]
fn a_replacement_signer_calling_a_signing_service_is_used_by_both_verbs() {
    // The "signing service": a loopback HTTP endpoint that signs with the merchant key.
    let service = TestServer::start(|r: &Recorded| {
        let key = wechatpay::Rsa::from_private(common::text("keys/merchant_pkcs8.pem")).unwrap();
        let signature = wechatpay::Rsa::sign(&r.body, &key).unwrap();
        Reply::json(200, &signature, Signing::None)
    });
    let service_addr = service.addr;
    let server = echo_server();
    let serial = wechatpay::PemUtil::load_certificate(common::path("keys/merchant_cert.pem"))
        .unwrap()
        .serial_no()
        .to_owned();
    let signer = wechatpay::MerchantSigner::remote(common::server::MCHID, serial, move |message: Vec<u8>| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(service_addr).await.unwrap();
        let head = format!(
            "POST /sign HTTP/1.1\r\nHost: signer\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            message.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&message).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        Ok(answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
    });
    let client = builder(&server).signer(signer).build().unwrap();
    client.chain(SEED).post(seed_options()).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(client.chain(SEED).post_async(seed_options()))
        .unwrap();
    assert_eq!(service.requests().len(), 2, "the service signed both");
    assert!(server
        .requests()
        .iter()
        .all(|r| r.authorization_verifies(&merchant_public())));

    // A closure signer that refuses: its error reaches the caller, nothing is sent.
    let refusing =
        |_: wechatpay::SigningRequest| async { Err(wechatpay::ConfigError::new("signer", "HSM offline").into()) };
    let err = builder(&server)
        .signer(refusing)
        .build()
        .unwrap()
        .chain(SEED)
        .post(())
        .unwrap_err();
    assert!(err.to_string().contains("HSM offline"));
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn blocking_verbs_work_everywhere() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    // Plain thread.
    client.chain(SEED).post(seed_options()).unwrap();
    // Inside a current-thread and a multi-thread runtime, from async code, and spawn_blocking.
    for runtime in [
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ] {
        let c = client.clone();
        runtime.block_on(async move {
            c.chain(SEED).post(seed_options()).unwrap();
            let c2 = c.clone();
            tokio::task::spawn_blocking(move || c2.chain(SEED).post(seed_options()).unwrap())
                .await
                .unwrap();
            c.chain(SEED).post_async(seed_options()).await.unwrap();
        });
        // The runtime that made the calls is gone; the client's pool is not tied to it.
        drop(runtime);
        client.chain(SEED).post(seed_options()).unwrap();
    }
    // Many threads at once, one client.
    std::thread::scope(|s| {
        for _ in 0..8 {
            let c = client.clone();
            s.spawn(move || {
                for _ in 0..3 {
                    c[SEED].post(seed_options()).unwrap();
                }
            });
        }
    });
    assert_eq!(server.requests().len(), 1 + 2 * 4 + 24);
}

#[test]
fn builder_validates_like_php() {
    let server = echo_server();
    let no = |b: wechatpay::Builder, field: &str| {
        let err = b.build().unwrap_err();
        assert!(err.is_config() && err.to_string().contains(field), "{field}: {err}");
    };
    let key = || wechatpay::Rsa::from_private(common::text("keys/merchant_pkcs8.pem")).unwrap();
    let public = || wechatpay::Rsa::from_public(common::text("keys/pubkey.pem")).unwrap();
    no(
        wechatpay::Builder::new()
            .serial("S")
            .private_key(key())
            .cert("P", public()),
        "mchid",
    );
    no(
        wechatpay::Builder::new()
            .mchid("1")
            .private_key(key())
            .cert("P", public()),
        "serial",
    );
    no(
        wechatpay::Builder::new().mchid("1").serial("S").cert("P", public()),
        "private_key",
    );
    no(
        wechatpay::Builder::new().mchid("1").serial("S").private_key(key()),
        "cert",
    );
    no(
        wechatpay::Builder::new()
            .mchid("1")
            .serial("S")
            .private_key(key())
            .cert("S", public()),
        "cert",
    );
    no(builder(&server).base_uri("ftp://x/"), "base_uri");
    no(builder(&server).base_uri("not a uri"), "base_uri");
    no(builder(&server).proxy("socks5://127.0.0.1:1"), "proxy");
    no(builder(&server).default_header("Bad Name", "x"), "headers.Bad Name");
    no(builder(&server).middleware_before("nope", "x", noop()), "middleware");
    no(
        builder(&server).middleware_before("signer", "verifier", noop()),
        "middleware",
    );
    // Debug shows no key material.
    let debug = format!("{:?}", builder(&server));
    assert!(debug.contains("PrivateKey { bits: 2048, .. }"), "{debug}");
}

fn noop() -> impl wechatpay::Middleware {
    from_fn(|request, next| next.run(request))
}

#[test]
fn middleware_order_insertion_and_removal() {
    let server = echo_server();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = |label: &'static str, seen: Arc<std::sync::Mutex<Vec<String>>>| {
        from_fn(move |request, next| {
            let has_auth = request.headers().contains_key("authorization");
            seen.lock().unwrap().push(format!("{label}:{has_auth}"));
            next.run(request)
        })
    };
    let client = builder(&server)
        .middleware_before("signer", "outer", recorder("outer", seen.clone()))
        .middleware_after("signer", "inner", recorder("inner", seen.clone()))
        .build()
        .unwrap();
    assert_eq!(
        client.middleware(),
        [
            "verifier",
            "retry",
            "rate_limit",
            "http_errors",
            "outer",
            "signer",
            "inner"
        ]
    );
    client.chain(SEED).post(()).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["outer:false", "inner:true"]);

    // Without the verifier, an unsigned answer passes (as PHP's $stack->remove('verifier')).
    let unsigned = TestServer::start(|_| Reply::json(200, "{}", Signing::None));
    let client = builder(&unsigned).remove_middleware("verifier").build().unwrap();
    assert!(client.chain(SEED).post(()).is_ok());
}

#[test]
fn retry_middleware_resigns_every_attempt() {
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = attempts.clone();
    let server = TestServer::start(move |_| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let (key, serial) = pubkey_signer();
            Reply::json(
                500,
                r#"{"code":"SYSTEM_ERROR","message":"retry"}"#,
                Signing::Key(key, serial),
            )
        } else {
            signed_ok("{}")
        }
    });
    let retry = from_fn(|request, next| {
        Box::pin(async move {
            let again = request.clone();
            match next.run(request).await {
                Err(e) if e.api().is_some_and(|a| a.status() == 500) => next.run(again).await,
                other => other,
            }
        })
    });
    // The built-in `retry` leaves a POST that reached the server alone; this one insists.
    let client = builder(&server)
        .middleware_after("verifier", "insist", retry)
        .build()
        .unwrap();
    assert_eq!(
        client.middleware(),
        ["verifier", "insist", "retry", "rate_limit", "http_errors", "signer"]
    );
    client.chain(SEED).post(seed_options()).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.authorization_verifies(&merchant_public())));
    assert_ne!(
        requests[0].header("authorization"),
        requests[1].header("authorization"),
        "signed afresh"
    );
}

#[test]
fn oversized_bodies_are_an_error_not_an_oom() {
    let big = "x".repeat(100_000);
    let server = TestServer::start(move |_| signed_ok(&big));
    let client = builder(&server).max_response_size(10_000).build().unwrap();
    let err = client.chain(SEED).post(()).unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.kind() == wechatpay::TransportKind::BodyTooLarge),
        "{err}"
    );
}

#[test]
fn connection_failures_are_transport_errors() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let server = echo_server();
    let client = builder(&server)
        .base_uri(format!("http://127.0.0.1:{port}/"))
        .retry(wechatpay::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.chain(SEED).post(()).unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.kind() == wechatpay::TransportKind::Connect),
        "{err}"
    );
    // With the default policy the request never left, so it was tried three times, and the
    // error still answers as a transport error.
    let client = builder(&server)
        .base_uri(format!("http://127.0.0.1:{port}/"))
        .build()
        .unwrap();
    let err = client.chain(SEED).post(()).unwrap_err();
    assert!(err.is_transport(), "{err}");
    let Error::Retried(retried) = &err else { panic!("{err}") };
    assert_eq!(retried.count(), 3);
    assert!(retried.attempts().iter().all(|why| why.contains("Connect")), "{err}");
}

#[test]
fn index_nodes_are_interned() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    assert!(std::ptr::eq(&client[SEED], &client[SEED]));
    let node = &client["v3/pay"];
    assert!(std::ptr::eq(&node["transactions"], &node["transactions"]));
    assert_eq!(node["transactions"].path(), "v3/pay/transactions");
    assert_eq!(
        client.chain("v3/applyment4sub/applyment/").path(),
        "v3/applyment4sub/applyment/"
    );
}

#[test]
fn clients_are_send_sync_and_futures_are_static() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<wechatpay::Client>();
    assert_send_sync::<wechatpay::Chain>();
    fn assert_static_send<F: std::future::Future + Send + 'static>(_: F) {}
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    let future = client.chain(SEED).post_async(());
    drop(client);
    assert_static_send(future);
}

#[test]
fn the_authorization_header_never_shows_in_debug_output() {
    let server = echo_server();
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let sink = seen.clone();
    let client = builder(&server)
        .middleware_after(
            "signer",
            "debug",
            from_fn(move |request, next| {
                *sink.lock().unwrap() = format!("{request:?}");
                next.run(request)
            }),
        )
        .build()
        .unwrap();
    client.chain(SEED).post(seed_options()).unwrap();
    let debug = seen.lock().unwrap().clone();
    assert!(
        debug.contains("authorization") && debug.contains("Sensitive"),
        "{debug}"
    );
    assert!(!debug.contains("WECHATPAY2-SHA256-RSA2048"), "{debug}");
    assert!(server
        .last()
        .header("authorization")
        .unwrap()
        .starts_with("WECHATPAY2-SHA256-RSA2048 mchid="));
}

#[test]
fn api_verification_and_transport_errors_are_identical_from_both_verb_styles() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (key, serial) = pubkey_signer();
    let api = Reply::json(
        404,
        r#"{"code":"ORDER_NOT_EXIST","message":"no"}"#,
        Signing::Key(key.clone(), serial.clone()),
    );
    let mut unsigned = Reply::json(200, "{}", Signing::Key(key, serial));
    unsigned.drop_header = Some("Wechatpay-Nonce");
    for reply in [api, unsigned] {
        let server = TestServer::start(move |_| reply.clone());
        let node = builder(&server).build().unwrap().chain(SEED);
        let blocking = node.post(seed_options()).unwrap_err();
        let asynchronous = runtime.block_on(node.post_async(seed_options())).unwrap_err();
        assert_eq!(
            (blocking.is_api(), blocking.is_verify(), blocking.to_string()),
            (
                asynchronous.is_api(),
                asynchronous.is_verify(),
                asynchronous.to_string()
            )
        );
    }
}

#[test]
fn a_query_in_the_path_and_the_query_option_combine() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    client
        .chain("v3/billdownload/file?token=abc")
        .get(json!({"query": {"tar_type": "GZIP"}}))
        .unwrap();
    assert_eq!(server.last().target, "/v3/billdownload/file?token=abc&tar_type=GZIP");
}

#[test]
fn a_zero_timeout_means_none_however_it_is_given() {
    let server = TestServer::start(|_| {
        let mut reply = signed_ok("{}");
        reply.delay = Duration::from_millis(300);
        reply
    });
    let client = builder(&server).timeout(Duration::ZERO).build().unwrap();
    assert!(client.chain(SEED).post(()).is_ok());
    let short = builder(&server).timeout(Duration::from_millis(100)).build().unwrap();
    assert!(short
        .chain(SEED)
        .post(wechatpay::Options::new().timeout(Duration::ZERO))
        .is_ok());
    assert!(short.chain(SEED).post(json!({"timeout": 0})).is_ok());
    assert!(short.chain(SEED).post(()).unwrap_err().is_timeout());
}

#[test]
fn blocking_calls_made_inside_the_pipeline_do_not_deadlock() {
    // A middleware that makes a blocking call of its own (say, refreshing certificates), on more
    // requests at once than the I/O runtime has workers.
    let server = echo_server();
    let inner = builder(&server).build().unwrap();
    let nested = from_fn(move |request, next| {
        let inner = inner.clone();
        Box::pin(async move {
            inner.chain("v3/certificates").get(())?;
            next.run(request).await
        })
    });
    let client = builder(&server)
        .middleware_before("signer", "nested", nested)
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..6 {
            let c = client.clone();
            s.spawn(move || c.chain(SEED).post(seed_options()).unwrap());
        }
    });
    assert_eq!(server.requests().len(), 12);
}

#[test]
fn option_typos_absolute_urls_and_dot_segments_fail_before_io() {
    let server = echo_server();
    let client = builder(&server)
        .secret("192006250b4c09247ec02edce69f6a2d")
        .build()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let node = client.chain("v3/pay/transactions/id/{transaction_id}");
    let cases = [
        (json!({"transaction_id": "1", "qeury": {"mchid": "1"}}), "`query`"),
        (json!({"transaction_id": "1", "header": {"X": "1"}}), "`headers`"),
        (json!({"transaction_id": "1", "transaction": "1"}), "`transaction_id`"),
        (json!({"transaction_id": "1", "verify": false}), "add_root_certificate"),
    ];
    for (options, hint) in cases {
        let blocking = node.get(&options).unwrap_err();
        let asynchronous = runtime.block_on(node.get_async(&options)).unwrap_err();
        assert_eq!(blocking.to_string(), asynchronous.to_string());
        assert!(
            blocking.is_config() && blocking.to_string().contains(hint),
            "{blocking}"
        );
    }
    // The same check on APIv2 paths.
    let err = client
        .chain("v2/pay/orderquery")
        .post(json!({"xlm": {"out_trade_no": "T1"}}))
        .unwrap_err();
    assert!(err.is_config() && err.to_string().contains("`xml`"), "{err}");

    // The Guzzle habit of requesting a download_url directly.
    let err = client
        .chain("https://api.mch.weixin.qq.com/v3/billdownload/file?token=x")
        .get(())
        .unwrap_err();
    assert!(err.is_config() && err.to_string().contains("download_bill"), "{err}");

    // `.` and `..` would be resolved by a server or proxy to another endpoint than the one signed.
    for id in [".", ".."] {
        let err = node.get(json!({ "transaction_id": id })).unwrap_err();
        assert!(err.is_template(), "{id}: {err}");
        let err = runtime
            .block_on(node.get_async(json!({ "transaction_id": id })))
            .unwrap_err();
        assert!(err.is_template(), "{id}: {err}");
    }
    let err = client.chain("v3/pay/../refund/domestic/refunds").post(()).unwrap_err();
    assert!(err.is_template(), "{err}");
    assert!(server.requests().is_empty(), "nothing was sent");
}
