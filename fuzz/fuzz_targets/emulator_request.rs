//! The emulator's parsing of requests from unauthenticated clients: the `Authorization` header
//! (`auth::precheck` and `auth::check`) and `multipart/form-data` bodies (`multipart::boundary`
//! and `multipart::parse`), reached through `wechatpay::fuzzing`.
//!
//! The first byte picks the mode; the rest is:
//! - `M`: a `Content-Type` line, then the body — the multipart parser;
//! - `A`: an `Authorization` line, a `METHOD TARGET` line, then the body — the signature check
//!   (identity from tests/fixtures/keys);
//! - `R`: a file name line, a part name line (empty: `file`), a line of `name=value` text parts
//!   separated by `&`, then the file bytes — an upload as `MediaUtil` lays it out, parsed back;
//! - `S`: a `[METHOD ]PATH` line, then the body — a request signed by the client's real
//!   `MerchantSigner` (merchant fixture key), checked by the emulator.
//!
//! Properties: nothing panics; the parser never reads past the body or returns more than the
//! parts cap; `precheck` never refuses what `check` accepts; the emulator reads back exactly the
//! parts `MediaUtil` wrote; the emulator accepts every request the client signs.
#![no_main]

use std::future::{ready, Future};
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wechatpay::emulator::Identity;
use wechatpay::fuzzing::{emulator_auth_check, emulator_auth_precheck, multipart_boundary, multipart_parse};
use wechatpay::middleware::{Middleware, Next};
use wechatpay::{Builder, Client, MediaUtil, PemUtil, Request, Response, Rsa};

const NOW: i64 = 1_700_000_000;
const MAX_PARTS: usize = 64;

fn identity() -> &'static Identity {
    static IDENTITY: OnceLock<Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        let key = |pem: &str| Rsa::from_private(pem).unwrap();
        let cert = |pem: &str| PemUtil::load_certificate_from_string(pem).unwrap();
        Identity::new(
            "1900000109",
            (
                key(include_str!("../../tests/fixtures/keys/merchant_pkcs8.pem")),
                cert(include_str!("../../tests/fixtures/keys/merchant_cert.pem")),
            ),
            (
                key(include_str!("../../tests/fixtures/keys/platform_key.pem")),
                cert(include_str!("../../tests/fixtures/keys/platform_cert.pem")),
            ),
            (
                key(include_str!("../../tests/fixtures/keys/pubkey_private.pem")),
                "PUB_KEY_ID_0114232134912410000000000000",
            ),
            include_str!("../../tests/fixtures/notifications/apiv3_key.txt").trim(),
        )
        .unwrap()
    })
}

fn lines(data: &[u8], n: usize) -> (Vec<String>, &[u8]) {
    let mut rest = data;
    let mut out = Vec::new();
    for _ in 0..n {
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &[][..]),
        };
        out.push(String::from_utf8_lossy(line).into_owned());
        rest = after;
    }
    (out, rest)
}

fn multipart(data: &[u8]) {
    let (head, body) = lines(data, 1);
    let body = Bytes::copy_from_slice(body);
    let Ok(Some(boundary)) = multipart_boundary(&head[0]) else {
        return;
    };
    assert!(
        !boundary.is_empty() && boundary.len() <= 70,
        "boundary {boundary:?} accepted"
    );
    if let Some(parts) = multipart_parse(&body, boundary) {
        assert!(parts.len() <= MAX_PARTS, "{} parts", parts.len());
        let total: usize = parts.iter().map(|(_, _, b)| b.len()).sum();
        assert!(total <= body.len());
    }
}

fn authorization(data: &[u8]) {
    let (head, body) = lines(data, 2);
    let (method, target) = head[1].split_once(' ').unwrap_or(("POST", head[1].as_str()));
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(&head[0]) {
        headers.insert(http::header::AUTHORIZATION, value);
    }
    let pre = emulator_auth_precheck(identity(), method, target, &headers);
    let checked = emulator_auth_check(identity(), method, target, &headers, body, NOW);
    if checked.is_ok() {
        assert!(pre, "precheck refused what check accepts");
    }
    if let Err((code, message, detail)) = checked {
        let _ = (code, message, detail.to_string());
    }
}

fn round_trip(data: &[u8]) {
    let (head, file) = lines(data, 3);
    let mut media = MediaUtil::from_bytes(head[0].clone(), file.to_vec());
    let file_part = if head[1].is_empty() {
        "file".to_owned()
    } else {
        head[1].clone()
    };
    if !head[1].is_empty() {
        media = media.file_part(head[1].clone());
    }
    let texts: Vec<(String, String)> = head[2]
        .split('&')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (k, v) = t.split_once('=').unwrap_or((t, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    for (k, v) in &texts {
        media = media.text_part(k.clone(), v.clone());
    }
    let body = media.body();
    let content_type = media.content_type();
    let boundary = match multipart_boundary(&content_type) {
        Ok(Some(b)) => b,
        other => panic!("the emulator does not take MediaUtil's content type {content_type:?}: {other:?}"),
    };
    let Some(parts) = multipart_parse(&body, boundary) else {
        // More parts than the emulator takes is a refusal, not a misreading.
        assert!(
            texts.len() + 2 > MAX_PARTS,
            "the emulator cannot parse MediaUtil's body: {body:?}"
        );
        return;
    };
    // What the part headers carry: CR, LF and `"` percent-encoded.
    let shown = |name: &str| name.replace('\r', "%0D").replace('\n', "%0A").replace('"', "%22");
    let mut expected: Vec<(String, Option<String>, Bytes)> = vec![
        ("meta".into(), None, Bytes::from(media.meta().to_string())),
        (shown(&file_part), Some(shown(&head[0])), Bytes::copy_from_slice(file)),
    ];
    expected.extend(texts.iter().map(|(k, v)| (shown(k), None, Bytes::from(v.clone()))));
    assert_eq!(parts, expected, "the emulator reads MediaUtil's upload differently");
}

/// The request the client would send, captured just inside `signer`.
static SENT: Mutex<Option<Request>> = Mutex::new(None);

struct Capture;

impl Middleware for Capture {
    fn handle<'a>(
        &'a self,
        request: Request,
        _next: Next<'a>,
    ) -> Pin<Box<dyn Future<Output = wechatpay::Result<Response>> + Send + 'a>> {
        *SENT.lock().unwrap() = Some(request);
        Box::pin(ready(Ok(Response::new(
            http::StatusCode::NO_CONTENT,
            http::HeaderMap::new(),
            Bytes::new(),
        ))))
    }
}

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let identity = identity();
        Builder::new()
            .base_uri("http://127.0.0.1:9/")
            .mchid(identity.mchid.clone())
            .serial(identity.merchant_serial())
            .private_key(identity.merchant.private_key().clone())
            .verifier(|_: &wechatpay::Endpoint, _: &Response| Ok(()))
            .middleware_after("signer", "capture", Capture)
            // One answer per request, no pacing: the harness feeds each input exactly once.
            .retry(wechatpay::RetryPolicy::none())
            .rate_limits(wechatpay::RateLimits::none())
            .build()
            .unwrap()
    })
}

fn signed_request(data: &[u8]) {
    let (head, body) = lines(data, 1);
    let (method, path) = match head[0].split_once(' ') {
        Some((m, p)) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => (
            http::Method::from_bytes(m.as_bytes()).unwrap_or(http::Method::POST),
            p.to_owned(),
        ),
        _ => (http::Method::POST, head[0].clone()),
    };
    if path
        .trim_start_matches('/')
        .split('/')
        .next()
        .is_some_and(|f| f.eq_ignore_ascii_case("v2"))
    {
        return; // APIv2 skips the middleware
    }
    let options = wechatpay::Options::new().body(body.to_vec());
    let _ = client().request(method, &path, options);
    let Some(sent) = SENT.lock().unwrap().take() else {
        return;
    };
    let target = sent.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let now = wechatpay::Formatter::timestamp();
    if let Err((_, message, detail)) = emulator_auth_check(
        identity(),
        sent.method().as_str(),
        target,
        sent.headers(),
        sent.body(),
        now,
    ) {
        panic!("the emulator refuses a request the client signed: {message}\n{detail}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        b'M' => multipart(rest),
        b'A' => authorization(rest),
        b'R' => round_trip(rest),
        b'S' => signed_request(rest),
        other => match other % 4 {
            0 => multipart(rest),
            1 => authorization(rest),
            2 => round_trip(rest),
            _ => signed_request(rest),
        },
    }
});
