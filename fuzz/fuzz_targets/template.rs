//! "What is signed is what is sent": RFC 6570 path expansion and the `query` option through the
//! client's real request preparation and `MerchantSigner`.
//!
//! Input (text, one item per line):
//! - line 1: `[METHOD ]PATH`, a path template such as `v3/pay/transactions/id/{transaction_id}`;
//! - `name=value`: a path variable (a string), `name:JSON`: a path variable as JSON (a number…);
//! - `?raw`: the `query` option as a pre-encoded string;
//! - `&key=value` / `&key:JSON`: an entry of the `query` option as an object;
//! - `+key=value`: `Options::query(key, value)` (the typed builder);
//! - `>text`: the body (a raw string).
//!
//! A middleware just inside `signer` captures the request as it would go to the transport; the
//! signer is `MerchantSigner::remote`, which hands over the exact message it signs.
//!
//! Properties: nothing panics; and when a request is made,
//! - the target in the signed message is the request target hyper writes on the wire (HTTP/1.1
//!   origin-form and the HTTP/2 `:path`), and the one a server parses back from it;
//! - the signed body is the body sent;
//! - the target is the template's expansion plus the encoded query, unchanged by URI parsing
//!   (nothing silently dropped or rewritten between what was asked for and what is signed).
#![no_main]

use std::future::{ready, Future};
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use wechatpay::middleware::{Middleware, Next};
use wechatpay::{Builder, Client, MerchantSigner, Options, Request, Response};

const BASE: &str = "http://127.0.0.1:9/base/";

/// The message the signer was given, and the request the transport would have sent.
static SIGNED: Mutex<Option<Vec<u8>>> = Mutex::new(None);
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
            bytes::Bytes::new(),
        ))))
    }
}

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let signer = MerchantSigner::remote("1900000109", "SERIAL", |message: Vec<u8>| {
            *SIGNED.lock().unwrap() = Some(message);
            ready(Ok::<_, wechatpay::Error>("c2lnbmF0dXJl".to_owned()))
        });
        Builder::new()
            .base_uri(BASE)
            .signer(signer)
            .verifier(|_: &wechatpay::Endpoint, _: &Response| Ok(()))
            .middleware_after("signer", "capture", Capture)
            // One answer per request, no pacing: the harness feeds each input exactly once.
            .retry(wechatpay::RetryPolicy::none())
            .rate_limits(wechatpay::RateLimits::none())
            .build()
            .unwrap()
    })
}

struct Input {
    method: http::Method,
    path: String,
    variables: Map<String, Value>,
    query: Option<Value>,
    typed_query: Vec<(String, String)>,
    body: Option<String>,
}

fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn parse(text: &str) -> Input {
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    let (method, path) = match first.split_once(' ') {
        Some((m, p)) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => {
            (http::Method::from_bytes(m.as_bytes()).unwrap_or(http::Method::GET), p)
        }
        _ => (http::Method::GET, first),
    };
    let mut input = Input {
        method,
        path: path.to_owned(),
        variables: Map::new(),
        query: None,
        typed_query: Vec::new(),
        body: None,
    };
    for line in lines {
        if let Some(raw) = line.strip_prefix('?') {
            input.query = Some(Value::String(raw.to_owned()));
        } else if let Some(entry) = line.strip_prefix('&') {
            let (key, value) = match (entry.split_once('='), entry.split_once(':')) {
                (Some((k, v)), _) => (k, Value::String(v.to_owned())),
                (None, Some((k, v))) => (k, json_or_string(v)),
                (None, None) => (entry, Value::Null),
            };
            match input.query.get_or_insert_with(|| Value::Object(Map::new())) {
                Value::Object(map) => {
                    map.insert(key.to_owned(), value);
                }
                _ => input.query = Some(Value::Object(Map::from_iter([(key.to_owned(), value)]))),
            }
        } else if let Some(entry) = line.strip_prefix('+') {
            let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
            input.typed_query.push((k.to_owned(), v.to_owned()));
        } else if let Some(body) = line.strip_prefix('>') {
            input.body = Some(body.to_owned());
        } else if let Some((name, value)) = line.split_once('=') {
            variable(&mut input, name, Value::String(value.to_owned()));
        } else if let Some((name, value)) = line.split_once(':') {
            variable(&mut input, name, json_or_string(value));
        }
    }
    input
}

/// The option keys that are not path variables.
const RESERVED: &[&str] = &[
    "json",
    "body",
    "query",
    "headers",
    "timeout",
    "xml",
    "security",
    "nonceless",
];

fn variable(input: &mut Input, name: &str, value: Value) {
    if !RESERVED.contains(&name) {
        input.variables.insert(name.to_owned(), value);
    }
}

/// The options array as PHP code writes it.
fn options(input: &Input) -> Options {
    let mut map = input.variables.clone();
    if let Some(query) = &input.query {
        map.insert("query".into(), query.clone());
    }
    if let Some(body) = &input.body {
        map.insert("body".into(), Value::String(body.clone()));
    }
    let mut options = Options::from(Value::Object(map));
    for (k, v) in &input.typed_query {
        options = options.query(k, v.as_str());
    }
    options
}

/// The request target as hyper-util's legacy client writes it in HTTP/1.1 (`origin_form`).
fn http1_target(uri: &http::Uri) -> String {
    match uri.path_and_query() {
        Some(pq) if pq.as_str() != "/" => {
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(pq.clone());
            http::Uri::from_parts(parts).expect("path is valid uri").to_string()
        }
        _ => "/".to_owned(),
    }
}

/// The HTTP/2 `:path` as h2 writes it.
fn http2_path(uri: &http::Uri) -> String {
    match uri.path_and_query() {
        Some(pq) if !pq.as_str().is_empty() => pq.as_str().to_owned(),
        _ => "/".to_owned(),
    }
}

/// What the caller asked for: the expansion and the query, joined to the base as the client does.
fn asked_for(input: &Input) -> Option<String> {
    let path = wechatpay::fuzzing::expand_template(input.path.trim_start_matches('/'), &input.variables).ok()?;
    let mut query = match &input.query {
        Some(q) => wechatpay::fuzzing::build_query(q).ok()?,
        None => String::new(),
    };
    for (k, v) in &input.typed_query {
        let pair =
            wechatpay::fuzzing::build_query(&Value::Object(Map::from_iter([(k.clone(), Value::String(v.clone()))])))
                .ok()?;
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&pair);
    }
    let mut url = format!("/base/{}", path.trim_start_matches('/'));
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
    }
    Some(url)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let input = parse(text);
    // APIv2 paths skip the middleware (they are signed over their parameters): out of scope.
    if input
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .is_some_and(|f| f.eq_ignore_ascii_case("v2"))
    {
        return;
    }
    let outcome = client().request(input.method.clone(), &input.path, options(&input));
    let signed = SIGNED.lock().unwrap().take();
    let sent = SENT.lock().unwrap().take();
    let Some(sent) = sent else {
        assert!(outcome.is_err(), "no request reached the transport, yet Ok");
        return;
    };
    let signed = signed.expect("a request reached the transport unsigned");

    // METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n
    let mut fields = signed.splitn(5, |&b| b == b'\n');
    let method = fields.next().unwrap();
    let target = String::from_utf8(fields.next().unwrap().to_vec()).expect("the signed target is UTF-8");
    let (_timestamp, _nonce) = (fields.next().unwrap(), fields.next().unwrap());
    let body = fields.next().unwrap();
    assert_eq!(method, sent.method().as_str().as_bytes());
    assert_eq!(
        body.strip_suffix(b"\n").unwrap(),
        &sent.body()[..],
        "signed body != body sent"
    );

    let uri = sent.uri();
    let wire = http1_target(uri);
    assert_eq!(target, wire, "signed target != HTTP/1.1 request target");
    assert_eq!(target, http2_path(uri), "signed target != HTTP/2 :path");
    let parsed: http::Uri = wire.parse().expect("a server cannot parse the request target");
    let seen = parsed.path_and_query().map_or("/", |pq| pq.as_str());
    assert_eq!(target, seen, "a server would check the signature over another target");

    if let Some(asked) = asked_for(&input) {
        assert_eq!(
            target, asked,
            "the target differs from the expansion and query asked for"
        );
    }
});
