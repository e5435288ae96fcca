//! Regression tests for the hostile-input probe: each numbered defect it found, reproduced as the
//! probe did, blocking and async where a call is involved. Nothing here may crash, hang, leak a
//! secret or send a signed request anywhere but the configured server.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::server::{signed_ok, Recorded, Reply, Signing, TestServer};
use crate::common::{builder, merchant_public, text, SEED};
use serde_json::json;
use wechatpay::{
    v2, BillLocation, Builder, Error, KeyRing, MediaUtil, NotificationVerifier, PemUtil, Rsa, VerifyCheck,
};

const APIV2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn echo_server() -> TestServer {
    TestServer::start(|r: &Recorded| signed_ok(&String::from_utf8_lossy(&r.body)))
}

fn deep_xml(levels: usize) -> String {
    format!("<xml>{}{}</xml>", "<a>".repeat(levels), "</a>".repeat(levels))
}

// 1. Deeply nested XML is a decode error, not a stack overflow, wherever XML is read.
#[test]
fn deeply_nested_xml_is_an_error_everywhere_xml_is_read() {
    let hostile = deep_xml(100_000);
    assert!(hostile.len() > 690_000);
    assert!(v2::Transformer::to_array(&hostile).unwrap_err().is_decode());
    assert!(v2::verify_notification(&hostile, APIV2_KEY).unwrap_err().is_decode());

    // As an APIv2 answer, through both verb styles.
    let server = TestServer::start(move |_| Reply::json(200, &deep_xml(100_000), Signing::None));
    let client = builder(&server).secret(APIV2_KEY).build().unwrap();
    let options = json!({"xml": {"appid": "wx2421b1c4370ec43b", "out_trade_no": "T1"}});
    let node = client.chain("v2/pay/orderquery");
    let blocking = node.post(&options).unwrap_err();
    let asynchronous = runtime().block_on(node.post_async(&options)).unwrap_err();
    for err in [blocking, asynchronous] {
        assert!(err.is_decode() && err.to_string().contains("deeper than"), "{err}");
    }
}

/// A listener that must never be reached, and a way to ask whether it was.
struct Untouched(TcpListener);

impl Untouched {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self(listener)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    fn assert_untouched(&self) {
        std::thread::sleep(Duration::from_millis(100));
        assert!(self.0.accept().is_err(), "a connection reached the stranger's listener");
    }
}

// 2. A download URL that only looks like WeChat Pay's is refused before anything is signed.
#[test]
fn download_urls_off_wechat_pay_hosts_are_refused_before_signing() {
    let stranger = Untouched::new();
    let port = stranger.port();
    let client = Builder::new()
        .mchid(common::server::MCHID)
        .serial("MERCHANT_SERIAL")
        .private_key(Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap())
        .cert(
            common::server::PUB_KEY_ID,
            Rsa::from_public(text("keys/pubkey.pem")).unwrap(),
        )
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hostile = [
        format!("https://127.0.0.1:{port}#.weixin.qq.com/v3/billdownload/file?token=x"),
        format!("https://127.0.0.1:{port}/#.weixin.qq.com/v3/billdownload/file?token=x"),
        format!("https://api.mch.weixin.qq.com@127.0.0.1:{port}/v3/billdownload/file?token=x"),
        format!("https://api.mch.weixin.qq.com:{port}/v3/billdownload/file?token=x"),
        "http://api.mch.weixin.qq.com/v3/billdownload/file?token=x".to_owned(),
        format!("https://127.0.0.1:{port}/.weixin.qq.com/v3/billdownload/file?token=x"),
        format!("https://evil.weixin.qq.com.127.0.0.1.nip.io:{port}/v3/billdownload/file?token=x"),
        "https://attacker.weixin.qq.com/v3/billdownload/file?token=x".to_owned(),
    ];
    for url in hostile {
        let bill: BillLocation = serde_json::from_value(json!({
            "download_url": url, "hash_type": "SHA1", "hash_value": "00"
        }))
        .unwrap();
        let err = client.download_bill(&bill, dir.path().join("bill.csv")).unwrap_err();
        assert!(err.is_config(), "{url}: {err}");
        let err = runtime()
            .block_on(client.download_bill_async(&bill, dir.path().join("bill.csv")))
            .unwrap_err();
        assert!(err.is_config(), "{url}: {err}");
    }
    stranger.assert_untouched();
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file, partial or not"
    );
}

/// The lines of a PEM body, which must never appear in an error.
fn body_lines(pem: &str) -> Vec<&str> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .collect()
}

// 3. Key text given where a path is expected is refused without being quoted.
#[test]
fn key_material_never_appears_in_errors() {
    let pem = text("keys/merchant_pkcs8.pem");
    let certificate = text("keys/platform_cert.pem");
    let errors: Vec<Error> = vec![
        PemUtil::load_private_key(&pem).unwrap_err(),
        Rsa::from_private(format!("file://{pem}")).unwrap_err(),
        Rsa::from_public(format!("file://{certificate}")).unwrap_err(),
        PemUtil::load_certificate(&certificate).unwrap_err(),
        PemUtil::load_certificate(&pem).unwrap_err(),
        // A truncated key: the END line is missing.
        Rsa::from_private(&pem[..pem.len() - 30]).unwrap_err(),
        // A certificate where a key was expected, and the other way round.
        Rsa::from_private(&certificate).unwrap_err(),
        Rsa::from_public(&pem).unwrap_err(),
    ];
    for err in errors {
        assert!(err.is_key(), "{err}");
        let shown = format!("{err} {err:?}");
        for line in body_lines(&pem).into_iter().chain(body_lines(&certificate)) {
            assert!(!shown.contains(line), "an error quotes key material: {shown}");
        }
    }
    let err = PemUtil::load_private_key(&pem).unwrap_err();
    assert!(err.to_string().contains("where a file path was expected"), "{err}");
}

// 4. Framing headers (and Authorization) cannot be set by a caller.
#[test]
fn framing_headers_and_authorization_are_refused_before_io() {
    let server = echo_server();
    let client = builder(&server).secret(APIV2_KEY).build().unwrap();
    let runtime = runtime();
    for (name, value) in [
        ("Content-Length", "0"),
        ("content-length", "0"),
        ("Transfer-Encoding", "chunked"),
        ("Host", "api.mch.weixin.qq.com"),
        ("Connection", "close"),
        ("Authorization", "WECHATPAY2-SHA256-RSA2048 mchid=\"1\""),
    ] {
        let options = json!({"json": {"a": 1}, "headers": {name: value}});
        let blocking = client.chain(SEED).post(&options).unwrap_err();
        let asynchronous = runtime.block_on(client.chain(SEED).post_async(&options)).unwrap_err();
        assert_eq!(blocking.to_string(), asynchronous.to_string());
        assert!(
            blocking.is_config() && blocking.to_string().contains(name),
            "{blocking}"
        );
        let v2 = json!({"xml": {"out_trade_no": "T1"}, "headers": {name: value}});
        let err = client.chain("v2/pay/orderquery").post(&v2).unwrap_err();
        assert!(err.is_config(), "{err}");
        let err = builder(&server).default_header(name, value).build().unwrap_err();
        assert!(err.is_config(), "{err}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");
    // Ordinary headers still go out, and the signature covers the whole body.
    client
        .chain(SEED)
        .post(json!({"json": {"a": 1}, "headers": {"X-Trace": "t1"}}))
        .unwrap();
    let sent = server.last();
    assert_eq!(sent.header("x-trace"), Some("t1"));
    assert_eq!(sent.body.as_ref(), br#"{"a":1}"#);
    assert!(sent.authorization_verifies(&merchant_public()));
}

// 5. APIv2 parameters XML cannot carry are refused, not signed raw and sent stripped.
#[test]
fn apiv2_values_xml_cannot_carry_are_refused_before_signing() {
    let server = echo_server();
    let client = builder(&server).secret(APIV2_KEY).build().unwrap();
    for bad in ["a\u{1}b", "a\u{FFFE}b", "\u{0}", "x\u{1B}"] {
        let options = json!({"xml": {"out_trade_no": "T1", "attach": {"note": bad}}});
        let err = client.chain("v2/pay/orderquery").post(&options).unwrap_err();
        assert!(err.is_config() && err.to_string().contains("xml.attach.note"), "{err}");
        let err = runtime()
            .block_on(client.chain("v2/pay/orderquery").post_async(&options))
            .unwrap_err();
        assert!(err.is_config(), "{err}");
    }
    assert!(server.requests().is_empty());
}

// 6. A file or part name cannot inject multipart part headers.
#[test]
fn multipart_names_cannot_inject_part_headers() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    let media = MediaUtil::from_bytes("x.png\r\nContent-Type: text/html\r\nX: 1", b"\x89PNG".to_vec())
        .text_part("note\"\r\nX-Injected: 1", "v");
    let upload = client.chain("v3/merchant/media/upload");
    upload.post(media.clone().into_options()).unwrap();
    runtime().block_on(upload.post_async(media.into_options())).unwrap();
    let requests = server.requests();
    // One MediaUtil, one boundary: blocking and async send the very same body.
    assert_eq!(requests[0].body, requests[1].body);
    let sent = server.last();
    let body = String::from_utf8_lossy(&sent.body);
    assert!(!body.contains("\r\nX: 1") && !body.contains("\r\nX-Injected"), "{body}");
    assert!(
        body.contains("filename=\"x.png%0D%0AContent-Type: text/html%0D%0AX: 1\""),
        "{body}"
    );
    assert!(body.contains("name=\"note%22%0D%0AX-Injected: 1\""), "{body}");
    // Every part still has exactly one Content-Type or none: count them.
    assert_eq!(body.matches("\r\nContent-Type: ").count(), 2, "{body}");
}

// 7. A proxy's password never appears in an error, whatever the URI's shape.
#[test]
fn proxy_and_base_uri_credentials_never_appear_in_errors() {
    let base = || {
        Builder::new()
            .mchid("1900000109")
            .serial("S")
            .private_key(Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap())
            .cert(
                "PUB_KEY_ID_0114232134912410000000000000",
                Rsa::from_public(text("keys/pubkey.pem")).unwrap(),
            )
    };
    for proxy in [
        "user:secret@127.0.0.1:9",
        "https://user:secret@127.0.0.1:9",
        "socks5://user:secret@127.0.0.1:9",
        "http://user:secret@127.0.0.1:9/path",
        "user:s@cret@127.0.0.1:9",
    ] {
        let err = base().proxy(proxy).build().unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(err.is_config(), "{shown}");
        assert!(!shown.contains("secret") && !shown.contains("cret@"), "{shown}");
    }
    let err = base()
        .base_uri("https://user:secret@api.mch.weixin.qq.com/")
        .build()
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(err.is_config() && !shown.contains("secret"), "{shown}");
}

// 8. A tiny positive timeout is a timeout, not "none".
#[test]
fn a_sub_millisecond_timeout_still_times_out() {
    let server = TestServer::start(|_| {
        let mut reply = signed_ok("{}");
        reply.delay = Duration::from_secs(5);
        reply
    });
    // Not paced by the seed call's rate limit: this is about the timeout alone.
    let client = builder(&server)
        .rate_limits(wechatpay::RateLimits::none())
        .build()
        .unwrap();
    for tiny in [1e-10, 1e-6, 0.0004] {
        let started = Instant::now();
        let err = client.chain(SEED).post(json!({"timeout": tiny})).unwrap_err();
        assert!(
            matches!(err, Error::Timeout(d) if d == Duration::from_millis(1)),
            "{err}"
        );
        let err = runtime()
            .block_on(client.chain(SEED).post_async(json!({"timeout": tiny})))
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the call waited for the server"
        );
    }
    let typed = wechatpay::Options::new().timeout_secs(1e-10);
    let err = client.chain(SEED).post(typed).unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

// 9. `#` in a raw query string is sent encoded, and the signature covers what arrives.
#[test]
fn a_hash_in_a_raw_query_is_encoded_not_truncated() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    client
        .chain("v3/pay/transactions/id/4200000001")
        .get(json!({"query": "mchid=1&a=1#frag"}))
        .unwrap();
    runtime()
        .block_on(
            client
                .chain("v3/pay/transactions/id/4200000001")
                .get_async(json!({"query": "a=1#frag"})),
        )
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        requests[0].target,
        "/v3/pay/transactions/id/4200000001?mchid=1&a=1%23frag"
    );
    assert_eq!(requests[1].target, "/v3/pay/transactions/id/4200000001?a=1%23frag");
    assert!(requests.iter().all(|r| r.authorization_verifies(&merchant_public())));
}

// 10. Server text cannot drive a terminal through an error's Display.
#[test]
fn control_characters_from_the_server_are_escaped_in_display() {
    let body = json!({"code": "PARAM\u{1b}[2J", "message": "bad\r\nerror (api): forged\u{7}\u{9b}"}).to_string();
    let server = TestServer::start(move |_| Reply::json(400, &body, Signing::None));
    let client = builder(&server).build().unwrap();
    let blocking = client.chain(SEED).post(()).unwrap_err();
    let asynchronous = runtime().block_on(client.chain(SEED).post_async(())).unwrap_err();
    assert_eq!(blocking.to_string(), asynchronous.to_string());
    let shown = blocking.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(
        shown.contains("PARAM\\u{1b}[2J") && shown.contains("bad\\u{d}\\u{a}error (api): forged\\u{7}"),
        "{shown}"
    );
    // The accessors keep what the server sent.
    let api = blocking.api().unwrap();
    assert_eq!(api.code(), "PARAM\u{1b}[2J");
    assert_eq!(api.message(), "bad\r\nerror (api): forged\u{7}\u{9b}");
}

// 11. Options' Debug does not show sensitive header values.
#[test]
fn options_debug_redacts_sensitive_headers() {
    let options: wechatpay::Options = json!({"headers": {
        "Authorization": "WECHATPAY2-SHA256-RSA2048 signature=\"c2VjcmV0\"",
        "X-Api-Token": "t0ken-value", "X-Trace": "visible"
    }})
    .into();
    let shown = format!("{options:?}");
    assert!(!shown.contains("c2VjcmV0") && !shown.contains("t0ken-value"), "{shown}");
    assert!(shown.contains("visible") && shown.contains("<redacted>"), "{shown}");
}

fn notification() -> (Vec<(String, String)>, Vec<u8>, NotificationVerifier) {
    let headers: Vec<(String, String)> = serde_json::from_str(&text("notifications/transaction.headers.json")).unwrap();
    let body = common::bytes("notifications/transaction.body.json");
    let now: i64 = headers
        .iter()
        .find(|(k, _)| k == "Wechatpay-Timestamp")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let keys = KeyRing::new().with(
        common::server::PUB_KEY_ID,
        Rsa::from_public(text("keys/pubkey.pem")).unwrap(),
    );
    let verifier = NotificationVerifier::new(text("notifications/apiv3_key.txt"), keys)
        .unwrap()
        .with_clock(move || now);
    (headers, body, verifier)
}

fn check_of(result: wechatpay::Result<impl std::fmt::Debug>) -> VerifyCheck {
    match result {
        Err(Error::Verify(e)) => e.check().clone(),
        other => panic!("expected a verification error, got {other:?}"),
    }
}

// 13. A signed `+` timestamp is not a timestamp; a repeated Wechatpay-* header is refused.
#[test]
fn signed_timestamps_and_repeated_signature_headers_are_refused() {
    let (headers, body, verifier) = notification();
    assert!(verifier.verify(&headers, &body).is_ok());

    let mut plus = headers.clone();
    for (k, v) in plus.iter_mut() {
        if k == "Wechatpay-Timestamp" {
            *v = format!("+{v}");
        }
    }
    assert!(matches!(
        check_of(verifier.verify(&plus, &body)),
        VerifyCheck::InvalidTimestamp(_)
    ));

    for name in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
    ] {
        let mut twice = headers.clone();
        let value = twice.iter().find(|(k, _)| k == name).unwrap().1.clone();
        twice.push((name.to_ascii_lowercase(), value));
        assert_eq!(
            check_of(verifier.verify(&twice, &body)),
            VerifyCheck::DuplicateHeader(name)
        );
        let map: http::HeaderMap = twice
            .iter()
            .map(|(k, v)| (k.parse::<http::HeaderName>().unwrap(), v.parse().unwrap()))
            .collect();
        assert_eq!(
            check_of(verifier.verify(&map, &body)),
            VerifyCheck::DuplicateHeader(name)
        );
    }
}

#[test]
fn a_repeated_signature_header_on_an_answer_is_refused() {
    let server = TestServer::start(|_| {
        let mut reply = signed_ok("{}");
        reply.headers.push(("Wechatpay-Nonce".into(), "second".into()));
        reply
    });
    let client = builder(&server).build().unwrap();
    let err = client.chain(SEED).post(()).unwrap_err();
    assert_eq!(
        err.verify().unwrap().check(),
        &VerifyCheck::DuplicateHeader("Wechatpay-Nonce")
    );
    let err = runtime().block_on(client.chain(SEED).post_async(())).unwrap_err();
    assert_eq!(
        err.verify().unwrap().check(),
        &VerifyCheck::DuplicateHeader("Wechatpay-Nonce")
    );
}

#[test]
fn template_errors_escape_control_characters() {
    let server = echo_server();
    let client = builder(&server).build().unwrap();
    for (template, options) in [
        ("v3/\u{1b}[2J{", json!({})),
        ("v3/\u{1b}[2J/{id}", json!({})),
        ("v3/\u{1b}[2J/{id}", json!({"id": ".."})),
    ] {
        let err = client.chain(template).get(options).unwrap_err();
        let text = err.to_string();
        assert!(err.is_template(), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.contains("\\u{1b}"), "{text:?}");
    }
    assert!(server.requests().is_empty());
}
