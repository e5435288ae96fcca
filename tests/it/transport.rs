//! Transport options: an HTTP proxy reached with CONNECT, HTTP/2, and the default verifier's
//! endpoint exceptions (unsigned downloads, SHA-1-signed statements).

use crate::common::proxy::ConnectProxy;
use crate::common::server::{pubkey_signer, signed_ok, Recorded, Reply, Signing, TestServer};
use crate::common::{builder, merchant_public};
use serde_json::json;
use wechatpay::{HttpVersions, VerifyCheck};

#[test]
fn requests_go_through_an_http_proxy_with_credentials() {
    let server = TestServer::start(|_| signed_ok("{}"));
    let proxy = ConnectProxy::start();
    let client = builder(&server)
        .proxy(format!("http://merchant:s%40cret@{}", proxy.addr))
        .build()
        .unwrap();
    client.chain("v3/certificates").get(()).unwrap();
    client.chain("v3/certificates").get(()).unwrap();
    let heads = proxy.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "one tunnel, reused by the pool: {heads:?}");
    assert!(
        heads[0].starts_with(&format!("CONNECT {} HTTP/1.1", server.addr)),
        "{}",
        heads[0]
    );
    // base64("merchant:s@cret")
    assert!(heads[0].contains("Basic bWVyY2hhbnQ6c0BjcmV0"), "{}", heads[0]);
    assert_eq!(server.requests().len(), 2);
    assert!(server.last().authorization_verifies(&merchant_public()));
}

#[test]
fn http_versions_are_honoured() {
    let server = TestServer::start(|_| signed_ok("{}"));
    let h2 = builder(&server).http_versions(HttpVersions::Http2Only).build().unwrap();
    h2.chain("v3/certificates").get(()).unwrap();
    assert_eq!(server.last().version, http::Version::HTTP_2);
    let h1 = builder(&server).http_versions(HttpVersions::Http1Only).build().unwrap();
    h1.chain("v3/certificates").get(()).unwrap();
    assert_eq!(server.last().version, http::Version::HTTP_11);
    assert!(server
        .requests()
        .iter()
        .all(|r| r.authorization_verifies(&merchant_public())));
}

#[test]
fn unsigned_downloads_pass_without_wechatpay_headers() {
    let server = TestServer::start(|_| Reply::json(200, "交易时间,公众账号ID\n", Signing::None));
    let client = builder(&server).build().unwrap();
    let bill = client
        .chain("v3/billdownload/file")
        .get(json!({"query": {"token": "abc"}}))
        .unwrap();
    assert_eq!(bill.text().unwrap(), "交易时间,公众账号ID\n");
    let image = client
        .chain("v3/merchant-service/images/{media_id}")
        .get(json!({"media_id": "ChsyMDIw"}))
        .unwrap();
    assert_eq!(image.status(), 200);
    // Everything else must be signed.
    let err = client.chain("v3/bill/tradebill").get(()).unwrap_err();
    assert_eq!(
        err.verify().unwrap().check(),
        &VerifyCheck::MissingHeader("Wechatpay-Timestamp")
    );
}

fn statement_reply(body: &'static str, claimed_sha1: &'static str) -> impl Fn(&Recorded) -> Reply {
    move |_| {
        let (key, serial) = pubkey_signer();
        let signed = format!("{{\"sha1\":\"{claimed_sha1}\"}}").into_bytes();
        let mut reply = Reply::json(200, body, Signing::OverBody(key, serial, signed));
        reply
            .headers
            .push(("Wechatpay-Statement-Sha1".into(), claimed_sha1.into()));
        reply
    }
}

#[test]
fn statements_are_verified_over_their_sha1_and_the_body_is_hashed() {
    const BODY: &str = "statement body\n";
    // `printf 'statement body\n' | openssl dgst -sha1`
    const SHA1: &str = "4d0b2e670d589500225548cdc4106a183d758032";
    const OTHER: &str = "70cf5a2e6e4ddd3b82e0dcfc2f1b1d9e3a2b4f6e";
    let good = TestServer::start(statement_reply(BODY, SHA1));
    let client = builder(&good).build().unwrap();
    assert_eq!(client.chain("v3/statements").get(()).unwrap().text().unwrap(), BODY);

    // Correctly signed over a digest the body does not have: the body was swapped.
    let swapped = TestServer::start(statement_reply(BODY, OTHER));
    let err = builder(&swapped)
        .build()
        .unwrap()
        .chain("v3/global/statements")
        .get(())
        .unwrap_err();
    assert!(
        matches!(err.verify().unwrap().check(), VerifyCheck::StatementDigest { expected, actual } if expected == OTHER && actual == SHA1),
        "{err}"
    );
}

#[test]
fn the_connect_timeout_covers_a_tls_handshake_that_never_answers() {
    // Accepts TCP, never speaks TLS.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let _held: Vec<_> = listener.incoming().take(3).collect();
        std::thread::sleep(std::time::Duration::from_secs(10));
    });
    let server = TestServer::start(|_| signed_ok("{}"));
    let client = builder(&server)
        .base_uri(format!("https://{addr}/"))
        .connect_timeout(std::time::Duration::from_millis(300))
        .timeout(std::time::Duration::from_secs(8))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.chain("v3/certificates").get(()).unwrap_err();
    // Nothing was sent, so each of the three attempts waited out the connect timeout.
    let wechatpay::Error::Retried(retried) = &err else {
        panic!("{err}")
    };
    assert_eq!(retried.count(), 3, "{err}");
    assert!(
        retried.last().is_timeout()
            && matches!(retried.last(), wechatpay::Error::Transport(t) if t.kind() == wechatpay::TransportKind::ConnectTimeout),
        "{err}"
    );
    assert!(err.is_timeout());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn proxy_passwords_never_appear_in_errors() {
    let server = TestServer::start(|_| signed_ok("{}"));
    for proxy in [
        "socks5://merchant:topsecret@127.0.0.1:1080",
        "http://merchant:top/secret@127.0.0.1:3128",
    ] {
        let err = builder(&server).proxy(proxy).build().unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(
            err.is_config() && !text.contains("topsecret") && !text.contains("top/secret"),
            "{text}"
        );
    }
}
