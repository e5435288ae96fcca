//! Answers from WeChat Pay (or whoever answers instead): status, headers and body through the
//! client's real pipeline — `http_errors` and the `verifier` middleware with
//! `WechatpayVerifier` — for the endpoint the request was made to.
//!
//! Input: a first line `STATUS METHOD PATH` (e.g. `200 GET v3/certificates`; `{var}`s are
//! filled), `Name: value` header lines, an empty line, then the raw body. A middleware just
//! inside `signer` answers with it instead of the network.
//!
//! Properties: nothing panics; a non-2xx answer is always an error; a 2xx answer is accepted only
//! if an independent check passes (signature over `TIMESTAMP\nNONCE\nBODY\n`, or over
//! `{"sha1":"…"}` for statements, with the key the serial names, within 300 s; unsigned downloads
//! pass); error messages carry no control characters (they quote the server).
#![no_main]

use std::future::{ready, Future};
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wechatpay::catalog::ResponseKind;
use wechatpay::middleware::{Middleware, Next};
use wechatpay::{
    Builder, Client, Endpoint, KeyRing, Options, PemUtil, Request, Response, Rsa, SigningRequest, WechatpayVerifier,
};

const NOW: i64 = 1_700_000_000;
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";

/// The answer the next request gets.
static CANNED: Mutex<Option<Response>> = Mutex::new(None);

struct Canned;

impl Middleware for Canned {
    fn handle<'a>(
        &'a self,
        _request: Request,
        _next: Next<'a>,
    ) -> Pin<Box<dyn Future<Output = wechatpay::Result<Response>> + Send + 'a>> {
        let response = CANNED.lock().unwrap().take().expect("one canned answer per request");
        Box::pin(ready(Ok(response)))
    }
}

fn keys() -> &'static KeyRing {
    static KEYS: OnceLock<KeyRing> = OnceLock::new();
    KEYS.get_or_init(|| {
        let platform =
            PemUtil::load_certificate_from_string(include_str!("../../tests/fixtures/keys/platform_cert.pem")).unwrap();
        KeyRing::new()
            .with(
                PUB_KEY_ID,
                Rsa::from_public(include_str!("../../tests/fixtures/keys/pubkey.pem")).unwrap(),
            )
            .with(platform.serial_no(), platform.public_key().clone())
    })
}

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Builder::new()
            .base_uri("http://127.0.0.1:9/")
            .signer(|_: SigningRequest| ready(Ok::<_, wechatpay::Error>("WECHATPAY2-SHA256-RSA2048 fuzz".to_owned())))
            .verifier(WechatpayVerifier::new(keys().clone()).with_clock(|| NOW))
            .middleware_after("signer", "canned", Canned)
            // One answer per request, no pacing: the harness feeds each input exactly once.
            .retry(wechatpay::RetryPolicy::none())
            .rate_limits(wechatpay::RateLimits::none())
            .build()
            .unwrap()
    })
}

struct Input {
    status: http::StatusCode,
    method: http::Method,
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

fn parse(data: &[u8]) -> Option<Input> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let mut first = lines.next()?.splitn(3, ' ');
    let status = http::StatusCode::from_bytes(first.next()?.as_bytes()).ok()?;
    let method = http::Method::from_bytes(first.next()?.as_bytes()).ok()?;
    let path = first.next()?.trim_start_matches('/').to_owned();
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value.strip_prefix(' ').unwrap_or(value)),
        ) {
            headers.append(name, value);
        }
    }
    Some(Input {
        status,
        method,
        path,
        headers,
        body: Bytes::copy_from_slice(body),
    })
}

/// `{name}` → `1` for every variable of the path.
fn variables(path: &str) -> Options {
    let mut options = Options::new();
    for piece in path.split('{').skip(1) {
        if let Some((name, _)) = piece.split_once('}') {
            options = options.var(name.trim_start_matches('+'), "1");
        }
    }
    options
}

/// WeChat Pay's response check, written out independently of the crate's.
fn independently_verified(input: &Input, kind: ResponseKind) -> bool {
    if kind == ResponseKind::Download {
        return true;
    }
    let get = |name: &str| {
        let mut values = input.headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => v.to_str().ok().map(str::trim).filter(|v| !v.is_empty()),
            _ => None,
        }
    };
    let (Some(timestamp), Some(nonce), Some(signature), Some(serial)) = (
        get("Wechatpay-Timestamp"),
        get("Wechatpay-Nonce"),
        get("Wechatpay-Signature"),
        get("Wechatpay-Serial"),
    ) else {
        return false;
    };
    if !timestamp.bytes().all(|b| b.is_ascii_digit())
        || timestamp.parse::<i64>().map_or(true, |t| t.abs_diff(NOW) > 300)
    {
        return false;
    }
    let Some(key) = keys().get(serial) else { return false };
    let signed: Vec<u8> = if kind == ResponseKind::StatementSha1 {
        match get("Wechatpay-Statement-Sha1") {
            Some(sha1) => format!("{{\"sha1\":\"{sha1}\"}}").into_bytes(),
            None => return false,
        }
    } else {
        input.body.to_vec()
    };
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(&signed);
    message.push(b'\n');
    Rsa::verify(&message, signature, key).unwrap_or(false)
}

fn assert_printable(e: &wechatpay::Error) {
    let shown = e.to_string();
    assert!(
        !shown.chars().any(char::is_control),
        "an error message carries control characters: {shown:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = parse(data) else { return };
    // APIv2 paths bypass the middleware (they would go to the network).
    if input
        .path
        .split('/')
        .next()
        .is_some_and(|first| first.eq_ignore_ascii_case("v2"))
    {
        return;
    }
    *CANNED.lock().unwrap() = Some(Response::new(input.status, input.headers.clone(), input.body.clone()));
    let outcome = client().request(input.method.clone(), &input.path, variables(&input.path));
    let reached = CANNED.lock().unwrap().take().is_none();
    match &outcome {
        Ok(response) => {
            assert!(reached, "Ok without an answer");
            assert!(input.status.is_success(), "a {} answer was accepted", input.status);
            let kind = Endpoint::new(input.method.clone(), input.path.as_str())
                .catalog_entry()
                .map_or(ResponseKind::Json, |e| e.response);
            assert!(
                independently_verified(&input, kind),
                "accepted an answer whose signature does not check out ({kind:?})"
            );
            let _ = (response.text(), response.json::<serde_json::Value>(), response.xml());
        }
        Err(e) => {
            // Errors before the answer (a malformed path template) quote the caller's own text.
            if reached {
                assert_printable(e);
            }
            if reached && !input.status.is_success() {
                assert!(e.is_api(), "a {} answer gave a non-API error: {e}", input.status);
            }
            if let Some(api) = e.api() {
                let _ = (
                    api.code(),
                    api.message(),
                    api.detail(),
                    api.request_id(),
                    format!("{api:?}"),
                );
            }
        }
    }
});
