//! Fixtures and setup shared by the integration tests.

#[cfg(feature = "emulator")]
pub(crate) mod certificates;
#[cfg(feature = "emulator")]
mod emulated;
pub(crate) mod loopback;
pub(crate) mod proxy;
pub(crate) mod server;

use std::path::PathBuf;

#[cfg(feature = "emulator")]
pub(crate) use emulated::emulated;

pub(crate) fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub(crate) fn text(rel: &str) -> String {
    std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

pub(crate) fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

/// `file:///abs/path` for a fixture.
pub(crate) fn file_uri(rel: &str) -> String {
    format!("file://{}", path(rel).display())
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A builder for a client of `server`, trusting both the platform certificate and the public key.
pub(crate) fn builder(server: &server::TestServer) -> wechatpay::Builder {
    builder_at(&server.base_uri())
}

/// [`builder`] for a server at `base_uri` (e.g. an httpmock server).
pub(crate) fn builder_at(base_uri: &str) -> wechatpay::Builder {
    use wechatpay::{PemUtil, Rsa};
    let merchant = PemUtil::load_certificate(path("keys/merchant_cert.pem")).unwrap();
    let platform = PemUtil::load_certificate(path("keys/platform_cert.pem")).unwrap();
    wechatpay::Builder::new()
        .mchid(server::MCHID)
        .serial(merchant.serial_no())
        .private_key(Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap())
        .cert(server::PUB_KEY_ID, Rsa::from_public(text("keys/pubkey.pem")).unwrap())
        .cert(platform.serial_no(), platform.public_key().clone())
        .base_uri(base_uri)
}

pub(crate) fn merchant_public() -> wechatpay::PublicKey {
    wechatpay::Rsa::from_public(text("keys/merchant_cert.pem")).unwrap()
}

/// The seed call's path and options (the PHP README's example).
pub(crate) const SEED: &str = "v3/brand/partner/card-member/user-points/sync";

pub(crate) fn seed_options() -> serde_json::Value {
    serde_json::json!({ "json": {
        "out_request_no": "100002322019090134234sfdf", "brand_id": "1004",
        "card_id": "pbLatjvWOibDc5-TBnbUk1pD12o0", "openid": "obLatjnx9gnqzS4myYGmLZ7LgLBA",
        "user_card_code": "478515832665", "point_balance": 1000 } })
}

/// The seed call's options as the emulator takes them, with the given `out_request_no` (the
/// emulator refuses one it has seen).
#[cfg(feature = "emulator")]
pub(crate) fn seed_call(out_request_no: impl std::fmt::Display) -> serde_json::Value {
    serde_json::json!({"json": {"out_request_no": out_request_no.to_string(), "brand_id": "120344",
        "card_id": "pbLatjnrVHnhTPjJ0x6IqpvNHHzE", "openid": "obLatjhnq8Z-0NNfYpOVjP4Z6q8o",
        "user_card_code": "478515832665", "point_balance": 100}})
}

/// `test` in `module` (`module_path!()`) as the harness names it, for `--exact` when a test runs
/// a copy of this binary with only one test: the module path without the crate.
pub(crate) fn test_name(module: &str, test: &str) -> String {
    let module = module.split_once("::").map_or("", |(_, rest)| rest);
    format!("{module}::{test}")
}

/// Set in a copy of this binary that [`alone`] started.
const ALONE: &str = "WECHATPAY_TEST_ALONE";

/// For a test that needs the process to itself (it forks, or reads what tracing records, whose
/// per-callsite interest is process-wide): outside such a copy, runs `test` alone in a fresh copy
/// of this binary, checks that it passed and returns `false`; inside it, returns `true` and the
/// caller goes on with the test's body.
///
/// ```ignore
/// if !common::alone(module_path!(), "this_test") { return; }
/// ```
pub(crate) fn alone(module: &str, test: &str) -> bool {
    if std::env::var_os(ALONE).is_some() {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test_name(module, test), "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{test}, run alone:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    false
}

/// A two-worker multi-thread runtime with I/O and time, for tests that run calls concurrently.
pub(crate) fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `n` POSTs of `path` at once, as tasks of a multi-thread runtime, the `i`th with `options(i)`;
/// the results in order. (Only the emulator's tests make calls at once.)
#[cfg(feature = "emulator")]
pub(crate) fn posts_at_once(
    client: &wechatpay::Client,
    path: &str,
    n: usize,
    options: impl Fn(usize) -> serde_json::Value,
) -> Vec<wechatpay::Result<wechatpay::Response>> {
    multi_thread().block_on(async {
        let calls: Vec<_> = (0..n)
            .map(|i| tokio::spawn(client.chain(path).post_async(options(i))))
            .collect();
        let mut results = Vec::new();
        for call in calls {
            results.push(call.await.unwrap());
        }
        results
    })
}
