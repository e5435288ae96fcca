//! A server that lies, stalls or breaks the protocol, written as raw bytes on a loopback socket:
//! every case ends in the error kind it should, from both verb styles, and nothing hangs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::server::{pubkey_signer, PUB_KEY_ID};
use crate::common::SEED;
use wechatpay::{Error, Formatter, Rsa, TransportKind, VerifyCheck};

/// How long any case may take before it counts as a hang: far above every timeout set here.
const HANG: Duration = Duration::from_secs(8);
/// The client's timeout in these tests.
const TIMEOUT: Duration = Duration::from_millis(400);

/// What the server does with one connection after reading the request.
type Script = dyn Fn(&mut TcpStream) + Send + Sync;

/// Serves `script` on 127.0.0.1 until the test process ends; returns the base URI.
fn serve(script: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> String {
    let script: Arc<Script> = Arc::new(script);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let script = Arc::clone(&script);
            std::thread::spawn(move || {
                read_request(&mut stream);
                script(&mut stream);
            });
        }
    });
    format!("http://{addr}/")
}

/// Reads a request head and its `Content-Length` body.
fn read_request(stream: &mut TcpStream) {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buffer[..n]),
        }
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buffer[..n]),
        }
    }
}

fn write(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
}

/// `Wechatpay-*` headers that verify for `body`, signed now by the public-key signer.
fn signature_headers(body: &str) -> Vec<(String, String)> {
    let (key, serial) = pubkey_signer();
    let timestamp = Formatter::timestamp().to_string();
    let nonce = Formatter::nonce(32).unwrap();
    let signature = Rsa::sign(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes(), &key).unwrap();
    vec![
        ("Wechatpay-Timestamp".into(), timestamp),
        ("Wechatpay-Nonce".into(), nonce),
        ("Wechatpay-Signature".into(), signature),
        ("Wechatpay-Serial".into(), serial),
    ]
}

/// A whole HTTP/1.1 answer with the given headers (Content-Length added) and body.
fn answer(status: &str, headers: &[(String, String)], body: &str) -> Vec<u8> {
    // `Connection: close`: the script ends the connection after one answer, and a pooled
    // connection the client reused would fail for that reason instead of the one under test.
    let mut text = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    text.into_bytes()
}

/// The signed `{}` answer with one header replaced (or added twice with `twice`).
fn signed_with(name: &'static str, value: &'static str, twice: bool) -> impl Fn(&mut TcpStream) + Send + Sync {
    move |stream| {
        let mut headers = signature_headers("{}");
        if twice {
            headers.push((name.into(), value.into()));
        } else {
            headers
                .iter_mut()
                .filter(|(k, _)| k == name)
                .for_each(|(_, v)| *v = value.into());
        }
        write(stream, &answer("200 OK", &headers, "{}"));
    }
}

/// Runs the seed call blocking and async against `base`, checks both errors with `expect`, that
/// they are the same error, and that neither took long enough to count as a hang.
fn both_fail(base: &str, client: impl Fn(wechatpay::Builder) -> wechatpay::Builder, expect: impl Fn(&Error) -> bool) {
    let server = common::server::TestServer::start(|_| common::server::signed_ok("{}"));
    let client = client(common::builder(&server).base_uri(base).timeout(TIMEOUT))
        .build()
        .unwrap();
    let started = Instant::now();
    let blocking = client.chain(SEED).post(()).unwrap_err();
    assert!(started.elapsed() < HANG, "blocking call hung: {blocking}");
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let asynchronous = runtime.block_on(client.chain(SEED).post_async(())).unwrap_err();
    assert!(started.elapsed() < HANG, "async call hung: {asynchronous}");
    assert!(expect(&blocking), "blocking: {blocking:?}");
    assert!(expect(&asynchronous), "async: {asynchronous:?}");
    assert_eq!(std::mem::discriminant(&blocking), std::mem::discriminant(&asynchronous));
    // Whatever the server sent, the message prints as one inert line.
    for err in [&blocking, &asynchronous] {
        let shown = err.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
}

fn same(options: wechatpay::Builder) -> wechatpay::Builder {
    options
}

fn transport(kind: TransportKind) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Transport(t) if t.kind() == kind)
}

fn check(expected: VerifyCheck) -> impl Fn(&Error) -> bool {
    move |e| e.verify().is_some_and(|v| *v.check() == expected)
}

#[test]
fn silence_after_the_request_times_out() {
    let base = serve(|_| std::thread::sleep(Duration::from_secs(30)));
    both_fail(&base, same, Error::is_timeout);
}

#[test]
fn a_slow_head_times_out() {
    let base = serve(|stream| {
        write(stream, b"HTTP/1.1 200 OK\r\nContent-Type: appl");
        std::thread::sleep(Duration::from_secs(30));
    });
    both_fail(&base, same, Error::is_timeout);
}

#[test]
fn a_slow_body_times_out() {
    let base = serve(|stream| {
        write(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":");
        std::thread::sleep(Duration::from_secs(30));
    });
    both_fail(&base, same, Error::is_timeout);
}

#[test]
fn a_trickling_body_still_ends_at_the_whole_call_timeout() {
    // One byte every 100 ms never lets an idle timer fire; the call's deadline still does.
    let base = serve(|stream| {
        write(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        for _ in 0..300 {
            write(stream, b" ");
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    both_fail(&base, same, Error::is_timeout);
}

#[test]
fn an_early_close_is_a_transport_error() {
    let base = serve(|stream| {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    both_fail(&base, same, Error::is_transport);
    let base = serve(|stream| {
        write(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":");
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    both_fail(&base, same, Error::is_transport);
}

#[test]
fn bad_framing_is_a_transport_error() {
    for reply in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n{}",
        b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX: a\x1bb\r\nContent-Length: 2\r\n\r\n{}",
    ] {
        let base = serve(move |stream| {
            write(stream, reply);
            let _ = stream.shutdown(std::net::Shutdown::Both);
        });
        both_fail(&base, same, Error::is_transport);
    }
}

#[test]
fn bodies_over_the_cap_are_refused_declared_or_not() {
    let capped = |b: wechatpay::Builder| b.max_response_size(1024);
    let declared = serve(|stream| {
        write(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n");
        write(stream, &[b' '; 4096]);
    });
    both_fail(&declared, capped, transport(TransportKind::BodyTooLarge));
    let chunked = serve(|stream| {
        write(stream, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for _ in 0..64 {
            write(stream, b"400\r\n");
            write(stream, &[b' '; 1024]);
            write(stream, b"\r\n");
        }
        write(stream, b"0\r\n\r\n");
    });
    both_fail(&chunked, capped, transport(TransportKind::BodyTooLarge));
}

#[test]
fn control_characters_in_error_answers_stay_inert() {
    let base = serve(|stream| {
        let body = "{\"code\":\"X\\u001b[31m\",\"message\":\"a\\r\\nerror (api): forged\\u0007\"}";
        write(
            stream,
            &answer(
                "500 Internal Server Error",
                &[("Request-ID".into(), "id\u{80}\u{9b}".into())],
                body,
            ),
        );
    });
    both_fail(&base, same, |e| {
        e.api()
            .is_some_and(|api| api.code() == "X\u{1b}[31m" && api.message().contains('\r'))
    });
    // Not JSON at all: the text is the message, escaped in Display just the same.
    let base = serve(|stream| write(stream, &answer("502 Bad Gateway", &[], "<html>\u{1b}]0;t\u{7}</html>")));
    both_fail(&base, same, |e| {
        e.api().is_some_and(|api| api.message().contains('\u{1b}'))
    });
}

#[test]
fn duplicated_signature_headers_are_refused() {
    for name in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
    ] {
        let base = serve(signed_with(name, "second", true));
        both_fail(&base, same, check(VerifyCheck::DuplicateHeader(name)));
    }
}

#[test]
fn absurd_signature_header_values_are_each_named() {
    let invalid_timestamp = |e: &Error| {
        e.verify()
            .is_some_and(|v| matches!(v.check(), VerifyCheck::InvalidTimestamp(_)))
    };
    for value in ["99999999999999999999999999", "-1", "+1796283095", "1e9", "0x10", "17.5"] {
        let value: &'static str = Box::leak(value.to_owned().into_boxed_str());
        let base = serve(signed_with("Wechatpay-Timestamp", value, false));
        both_fail(&base, same, invalid_timestamp);
    }
    let base = serve(signed_with("Wechatpay-Timestamp", "1", false));
    both_fail(&base, same, |e| {
        e.verify()
            .is_some_and(|v| matches!(v.check(), VerifyCheck::TimestampSkew { .. }))
    });
    // A serial of 10,000 characters is named, cut to 64 of them.
    let long: &'static str = Box::leak("S".repeat(10_000).into_boxed_str());
    let base = serve(signed_with("Wechatpay-Serial", long, false));
    both_fail(&base, same, |e| {
        e.verify().is_some_and(|v| match v.check() {
            VerifyCheck::UnknownSerial(shown) => shown.chars().count() == 65,
            _ => false,
        })
    });
    let base = serve(signed_with("Wechatpay-Signature", "not base64 !!", false));
    both_fail(
        &base,
        same,
        check(VerifyCheck::BadSignature {
            serial: PUB_KEY_ID.into(),
        }),
    );
    let base = serve(signed_with("Wechatpay-Signature", "WECHATPAY/SIGNTEST/abc", false));
    both_fail(&base, same, check(VerifyCheck::SignatureProbe));
    let base = serve(signed_with("Wechatpay-Nonce", "", false));
    both_fail(&base, same, check(VerifyCheck::MissingHeader("Wechatpay-Nonce")));
    let base = serve(signed_with("Wechatpay-Nonce", "n\u{80}", false));
    both_fail(&base, same, check(VerifyCheck::InvalidHeader("Wechatpay-Nonce")));
}
