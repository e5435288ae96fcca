//! The emulator against hostile clients on loopback: what an unauthenticated client can make it
//! keep, compute or wait for, connections that never finish, running out of file descriptors,
//! amounts that overflow, and the files the CLI writes. Every request goes to 127.0.0.1 only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{json, Value};
use wechatpay::emulator::{Emulator, FAULT_HEADER};

use crate::common;
use crate::common::SEED;

/// How long any one exchange may take before the test calls it a hang.
const GENEROUS: Duration = Duration::from_secs(20);

fn seed(out_request_no: &str) -> Value {
    json!({
        "out_request_no": out_request_no, "brand_id": "1004", "card_id": "pXWPfjiRkFHwm", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "user_card_code": "123456789", "point_balance": 100
    })
}

/// An `Authorization` from a client that knows the merchant's mchid and certificate serial but
/// not its key: everything right except the signature.
fn forged_authorization(emulator: &Emulator) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let identity = emulator.identity();
    format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",serial_no=\"{}\",timestamp=\"{now}\",nonce_str=\"n\",signature=\"AAAA\"",
        identity.mchid,
        identity.merchant_serial()
    )
}

/// A parsed HTTP/1.1 answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    assert!(addr.ip().is_loopback());
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(GENEROUS)).unwrap();
    stream.set_write_timeout(Some(GENEROUS)).unwrap();
    stream
}

/// Sends one raw request (`Connection: close` is added) and reads the whole answer.
fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> Answer {
    let mut stream = connect(addr);
    let request = format!(
        "{head}\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    // The emulator may answer before reading all of a refused body; that is fine.
    let _ = stream.write_all(body);
    read_answer(&mut stream).unwrap_or_else(|e| panic!("no answer to {head:?}: {e}"))
}

fn read_answer(stream: &mut TcpStream) -> std::io::Result<Answer> {
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let (head, _) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {text:?}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    let at = head.len() + 4;
    Ok(Answer {
        status,
        body: bytes[at..].to_vec(),
    })
}

/// Waits until the peer closes the connection (EOF or reset), reading and discarding anything
/// it sends first; `Err` if it is still open after [`GENEROUS`].
fn closed_by_peer(stream: &mut TcpStream) -> Result<(), String> {
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(format!("still open after {GENEROUS:?}"))
            }
            Err(_) => return Ok(()),
        }
    }
}

// 1. Recording.

#[test]
fn unauthenticated_requests_are_not_recorded() {
    let emulator = Emulator::start().unwrap();
    let big = vec![b'x'; 1 << 20];
    let forged = forged_authorization(&emulator);
    for _ in 0..3 {
        let answer = raw(
            emulator.addr(),
            &format!("POST /{SEED} HTTP/1.1\r\nAuthorization: {forged}\r\nContent-Type: application/json"),
            &big,
        );
        assert_eq!(answer.status, 401);
        assert_eq!(answer.json()["code"], "SIGN_ERROR");
    }
    let unsigned = raw(emulator.addr(), &format!("POST /{SEED} HTTP/1.1"), &big);
    assert_eq!(unsigned.status, 401);
    let other_serial = forged.replace(emulator.identity().merchant_serial(), "0123");
    let answer = raw(
        emulator.addr(),
        &format!("POST /{SEED} HTTP/1.1\r\nAuthorization: {other_serial}"),
        &big,
    );
    assert_eq!(answer.status, 401);
    let v2 = raw(
        emulator.addr(),
        "POST /pay/micropay HTTP/1.1",
        b"<xml><sign>x</sign></xml>",
    );
    assert_eq!(v2.status, 200);
    assert!(String::from_utf8_lossy(&v2.body).contains("FAIL"));
    assert!(emulator.received().is_empty(), "{} recorded", emulator.received().len());

    // A signed one is.
    let client = emulator.client_builder().build().unwrap();
    client.chain(SEED).post(json!({"json": seed("R1")})).unwrap();
    assert_eq!(emulator.received().len(), 1);
}

#[test]
fn recorded_bodies_are_cut_to_64_kib_and_the_log_to_8_mib() {
    let (emulator, client) = common::emulated();
    let sent = 140;
    let padding = "p".repeat(70 << 10);
    let mut lengths = Vec::new();
    for i in 0..sent {
        let mut body = seed(&format!("R{i:04}"));
        body["padding"] = json!(padding);
        lengths.push(body.to_string().len());
        client.chain(SEED).post(json!({"json": body})).unwrap();
    }
    let received = emulator.received();
    assert!(received.len() < sent, "all {sent} kept");
    assert!(received.len() > 50, "only {} kept", received.len());
    let kept: usize = received
        .iter()
        .map(|r| {
            r.body.len() + r.target.len() + r.headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum::<usize>()
        })
        .sum();
    assert!(kept <= 8 << 20, "{kept} bytes kept");
    for (r, full) in received.iter().zip(&lengths[sent - received.len()..]) {
        assert_eq!(r.body.len(), 64 << 10);
        assert_eq!(r.body_len, *full);
    }
    // The newest are kept, oldest dropped.
    let last = String::from_utf8_lossy(&received[received.len() - 1].body).into_owned();
    assert!(
        last.starts_with(&format!("{{\"out_request_no\":\"R{:04}\"", sent - 1)),
        "{}",
        &last[..40]
    );
    // Small bodies are kept whole.
    client.chain(SEED).post(json!({"json": seed("small")})).unwrap();
    let small = emulator.received().pop().unwrap();
    assert_eq!(small.body, seed("small").to_string());
    assert_eq!(small.body_len, small.body.len());
}

#[test]
fn a_refusal_does_not_echo_a_huge_body() {
    let emulator = Emulator::start().unwrap();
    let body = vec![1u8; 2 << 20];
    let answer = raw(
        emulator.addr(),
        &format!(
            "POST /{SEED} HTTP/1.1\r\nAuthorization: {}",
            forged_authorization(&emulator)
        ),
        &body,
    );
    assert_eq!(answer.status, 401);
    let info = &answer.json()["detail"]["sign_information"];
    assert!(info["sign_message_length"].as_u64().unwrap() > 2 << 20);
    assert!(info["sign_message"].as_str().unwrap().len() <= 64 << 10);
    assert!(answer.body.len() < 1 << 20, "{} bytes answered", answer.body.len());
}

#[test]
fn a_request_naming_another_merchant_or_serial_is_refused_before_its_body() {
    let emulator = Emulator::start().unwrap();
    let forged = forged_authorization(&emulator);
    for authorization in [
        forged.replace(emulator.identity().merchant_serial(), "0123"),
        forged.replace(&emulator.identity().mchid, "1230000109"),
    ] {
        // 16 MiB announced, none sent: the 401 must not wait for it.
        let mut stream = connect(emulator.addr());
        stream
            .write_all(
                format!(
                    "POST /{SEED} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\nContent-Length: {}\r\n\r\n",
                    16 << 20
                )
                .as_bytes(),
            )
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 401");
        // And the 401 does not tell a blind client the serial it should have sent.
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        assert!(!String::from_utf8_lossy(&rest).contains(emulator.identity().merchant_serial()));
    }
}

// 2. Multipart.

#[test]
fn multipart_boundaries_over_70_characters_are_refused() {
    let emulator = Emulator::start().unwrap();
    let boundary = "b".repeat(60_000);
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{{}}\r\n").into_bytes();
    body.resize(4 << 20, b'b');
    let answer = raw(
        emulator.addr(),
        &format!(
            "POST /v3/merchant/media/upload HTTP/1.1\r\nAuthorization: {}\r\nContent-Type: multipart/form-data; boundary={boundary}",
            forged_authorization(&emulator)
        ),
        &body,
    );
    assert_eq!(answer.status, 400);
    let error = answer.json();
    assert_eq!(error["code"], "PARAM_ERROR");
    assert!(error["message"].as_str().unwrap().contains("boundary"), "{error}");
}

#[test]
fn multipart_bodies_wait_for_an_authorization() {
    let emulator = Emulator::start().unwrap();
    // Malformed, but without an Authorization it is not even looked at.
    let answer = raw(
        emulator.addr(),
        "POST /v3/merchant/media/upload HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=xyz",
        b"not multipart at all",
    );
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["code"], "SIGN_ERROR");
    // A 70-character boundary over a body of near-matches parses in linear time, then the forged
    // signature is refused.
    let boundary = format!("{}c", "a".repeat(69));
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n").into_bytes();
    body.extend(std::iter::repeat_n(b'a', 4 << 20));
    body.extend_from_slice(format!("\r\n--{boundary}--").as_bytes());
    let answer = raw(
        emulator.addr(),
        &format!(
            "POST /v3/merchant/media/upload HTTP/1.1\r\nAuthorization: {}\r\nContent-Type: multipart/form-data; boundary={boundary}",
            forged_authorization(&emulator)
        ),
        &body,
    );
    assert_eq!(answer.status, 401);
}

// 3. Running out of file descriptors.

/// Runs only inside the child process [`accept_backs_off_when_descriptors_run_out`] starts with
/// a low descriptor limit; a no-op otherwise.
#[cfg(target_os = "linux")]
#[test]
fn descriptor_exhaustion_child() {
    if std::env::var_os("EMULATOR_HOSTILE_CHILD").is_none() {
        return;
    }
    let emulator = Emulator::start().unwrap();
    let mut hold = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        hold.push(file);
    }
    // One descriptor for this connection; none left for the emulator to accept it with.
    hold.pop();
    let mut stream = TcpStream::connect(emulator.addr()).unwrap();
    println!("READY");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    drop(hold);
    // With descriptors back, the waiting connection is accepted and answered.
    stream.set_read_timeout(Some(GENEROUS)).unwrap();
    stream
        .write_all(format!("GET /{SEED} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let answer = read_answer(&mut stream).unwrap();
    assert_eq!(answer.status, 401);
    println!("SERVED");
    std::io::stdout().flush().unwrap();
}

/// The CPU time (user + system, in clock ticks) a process has used.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn accept_backs_off_when_descriptors_run_out() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    if std::env::var_os("EMULATOR_HOSTILE_CHILD").is_some() {
        return;
    }
    // The limit is lowered in a child only: `sh` lowers it, then becomes this test binary.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &common::test_name(module_path!(), "descriptor_exhaustion_child"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env("EMULATOR_HOSTILE_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let wait_for = |wanted: &str| loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            // The harness may have printed `test … ... ` before it on the same line.
            Ok(line) if line.trim_end().ends_with(wanted) => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    };
    if !wait_for("READY") {
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        panic!(
            "the child never ran out of descriptors: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // While no descriptor is free, accept fails again and again: the emulator must wait between
    // tries, not spin a core.
    let ticks_per_second: u64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100);
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    let served = wait_for("SERVED");
    let output = child.wait_with_output().unwrap();
    assert!(
        used < ticks_per_second / 2,
        "the emulator used {used} ticks of CPU in 2 s while out of descriptors"
    );
    assert!(
        served && output.status.success(),
        "the waiting connection was not served once descriptors were back: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// 4. Connections that never finish.

fn quick_timeouts() -> Emulator {
    Emulator::builder()
        .header_read_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_millis(300))
        .start()
        .unwrap()
}

#[test]
fn a_silent_connection_is_closed() {
    let emulator = quick_timeouts();
    let mut stream = connect(emulator.addr());
    closed_by_peer(&mut stream).unwrap();
}

#[test]
fn half_a_head_is_closed() {
    let emulator = quick_timeouts();
    let mut stream = connect(emulator.addr());
    stream
        .write_all(format!("POST /{SEED} HTTP/1.1\r\nHost: 127.0.0.1\r\n").as_bytes())
        .unwrap();
    closed_by_peer(&mut stream).unwrap();
}

#[test]
fn a_head_sent_a_byte_at_a_time_is_closed() {
    // Idle never passes (a byte moves every 100 ms); the head as a whole must still arrive in time,
    // on a kept-alive connection too (after a first, complete request).
    let emulator = Emulator::builder()
        .header_read_timeout(Duration::from_millis(500))
        .idle_timeout(Duration::from_secs(30))
        .start()
        .unwrap();
    let mut stream = connect(emulator.addr());
    stream
        .write_all(format!("GET /{SEED} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 401");
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let head = format!("GET /{SEED} HTTP/1.1\r\nHost: 127.0.0.1\r\n").repeat(20);
    let started = std::time::Instant::now();
    let mut sink = [0u8; 4096];
    let mut closed = false;
    'trickle: for byte in head.as_bytes() {
        if started.elapsed() > GENEROUS {
            break;
        }
        if stream.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        loop {
            match stream.read(&mut sink) {
                Ok(0) => {
                    closed = true;
                    break 'trickle;
                }
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => break,
                Err(_) => {
                    closed = true;
                    break 'trickle;
                }
            }
        }
    }
    assert!(
        closed,
        "a head trickled in for {GENEROUS:?} without the connection closing"
    );
}

#[test]
fn an_idle_connection_is_closed_after_an_answer() {
    let emulator = quick_timeouts();
    let mut stream = connect(emulator.addr());
    stream
        .write_all(format!("GET /{SEED} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .unwrap();
    // The 401 arrives (keep-alive), then nothing more: the emulator hangs up.
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 401");
    closed_by_peer(&mut stream).unwrap();
}

#[test]
fn an_idle_http2_connection_is_closed() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let emulator = quick_timeouts();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(emulator.addr()).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        let connection = tokio::spawn(connection);
        let request = http::Request::get(format!("http://{}/{SEED}", emulator.addr()))
            .body(Empty::<bytes::Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 401);
        response.into_body().collect().await.unwrap();
        tokio::time::timeout(GENEROUS, connection)
            .await
            .expect("the idle HTTP/2 connection is still open")
            .unwrap()
            .ok();
    });
}

#[test]
fn a_slow_answer_is_not_cut_off_by_the_idle_limit() {
    let emulator = quick_timeouts();
    let client = emulator.client_builder().build().unwrap();
    let answer = client
        .chain(SEED)
        .post(json!({"json": seed("slow"), "headers": {FAULT_HEADER: "delay-1200"}}))
        .unwrap();
    assert_eq!(answer.json::<Value>().unwrap()["out_request_no"], "slow");
}

// 5. Faults.

#[test]
fn faults_apply_only_to_authenticated_requests() {
    let emulator = Emulator::start().unwrap();
    let answer = raw(
        emulator.addr(),
        &format!("GET /{SEED} HTTP/1.1\r\n{FAULT_HEADER}: system-error"),
        b"",
    );
    assert_eq!(
        (answer.status, answer.json()["code"].clone()),
        (401, json!("SIGN_ERROR"))
    );
    // Not delayed either: the 401 comes before the requested minute is up.
    let answer = raw(
        emulator.addr(),
        &format!(
            "GET /{SEED}?emulator_fault=delay-60000 HTTP/1.1\r\nAuthorization: {}",
            forged_authorization(&emulator)
        ),
        b"",
    );
    assert_eq!(answer.status, 401);
}

#[test]
fn requested_delays_are_capped_at_a_minute() {
    let emulator = Emulator::start().unwrap();
    let client = emulator
        .client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for asked in ["delay-60001", "delay-18446744073709551615", "delay-40000,delay-40000"] {
        let err = client
            .chain(SEED)
            .post(json!({"json": seed("d"), "headers": {FAULT_HEADER: asked}}))
            .unwrap_err();
        let api = err.api().unwrap_or_else(|| panic!("{asked}: {err}"));
        assert_eq!((api.status().as_u16(), api.code()), (400, "PARAM_ERROR"), "{asked}");
        assert!(api.message().contains("60000"), "{asked}: {}", api.message());
    }
    let err = client
        .chain(SEED)
        .post(json!({"json": seed("d"), "query": {"emulator_fault": "delay-40000"}, "headers": {FAULT_HEADER: "delay-40000"}}))
        .unwrap_err();
    assert_eq!(
        err.api().map(|a| a.code().to_owned()),
        Some("PARAM_ERROR".to_owned()),
        "{err}"
    );
}

// 6. Amounts.

#[test]
fn refunds_that_overflow_are_a_param_error() {
    let (emulator, client) = common::emulated();
    client
        .chain("v3/pay/transactions/native")
        .post(json!({"json": {
            "appid": "wxd678efh567hg6787", "mchid": emulator.identity().mchid, "description": "d",
            "out_trade_no": "T-OVERFLOW", "notify_url": "https://example.com/n", "amount": {"total": 100}
        }}))
        .unwrap();
    emulator.pay("T-OVERFLOW").unwrap();
    let refund = |no: &str, amount: u64| {
        client.chain("v3/refund/domestic/refunds").post(json!({"json": {
            "out_trade_no": "T-OVERFLOW", "out_refund_no": no, "amount": {"refund": amount, "total": 100, "currency": "CNY"}
        }}))
    };
    refund("R-1", 1).unwrap();
    let err = refund("R-2", u64::MAX).unwrap_err();
    let api = err.api().unwrap_or_else(|| panic!("not an API error: {err}"));
    assert_eq!((api.status().as_u16(), api.code()), (400, "PARAM_ERROR"));
    assert_eq!(api.detail().unwrap()["field"], "amount.refund");
    // The emulator still works, and the first refund still counts.
    refund("R-3", 99).unwrap();
    let err = refund("R-4", 1).unwrap_err();
    assert_eq!(err.api().unwrap().code(), "INVALID_REQUEST");
}

#[test]
fn synthetic_bills_are_bounded() {
    let emulator = Emulator::start().unwrap();
    let client = emulator
        .client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for rows in [u64::MAX.to_string(), "100000001".to_owned(), "lots".to_owned()] {
        let err = client
            .chain("v3/bill/tradebill")
            .get(json!({"query": {"bill_date": "2026-11-26", "emulator_bill_rows": rows}}))
            .unwrap_err();
        let api = err.api().unwrap_or_else(|| panic!("{rows}: {err}"));
        assert_eq!((api.status().as_u16(), api.code()), (400, "PARAM_ERROR"), "{rows}");
    }
}

// Other hostile input: every request gets an answer (a panicking handler would drop the
// connection without one).

#[test]
fn odd_requests_are_answered_not_dropped() {
    let emulator = Emulator::start().unwrap();
    let forged = forged_authorization(&emulator);
    let cases: Vec<(String, Vec<u8>)> = vec![
        ("GET / HTTP/1.1".into(), vec![]),
        ("GET //// HTTP/1.1".into(), vec![]),
        ("GET /v3/%ff%fe/%00?%zz=%ff&&=&a HTTP/1.1".into(), vec![]),
        (format!("GET /v3/{} HTTP/1.1", "a/".repeat(2000)), vec![]),
        (format!("GET /{SEED}?{FAULT_HEADER}=%ff HTTP/1.1"), vec![]),
        ("POST /v3/pay/transactions/native HTTP/1.1\r\nAuthorization: WECHATPAY2-SHA256-RSA2048 ".into(), vec![]),
        (
            "POST /v3/pay/transactions/native HTTP/1.1\r\nAuthorization: WECHATPAY2-SHA256-RSA2048 mchid=,serial_no=,timestamp=-99999999999999999999,nonce_str=,signature=%%%"
                .into(),
            vec![],
        ),
        (format!("POST /{SEED} HTTP/1.1\r\nAuthorization: {forged}"), b"\xff\xfe{".to_vec()),
        ("BREW /v3/certificates HTTP/1.1".into(), vec![]),
        ("POST /pay/micropay HTTP/1.1".into(), b"<xml><a><b><c>".to_vec()),
        ("POST /pay/micropay HTTP/1.1".into(), b"\xff\xff".to_vec()),
        ("POST /pay/micropay HTTP/1.1".into(), b"<!DOCTYPE x [<!ENTITY a \"b\">]><xml>&a;</xml>".to_vec()),
        ("GET /papay/h5entrustweb?%ff=%ff&sign=&&== HTTP/1.1".into(), vec![]),
        ("POST /secapi/pay/refund HTTP/1.1".into(), b"<xml><refund_fee>18446744073709551616</refund_fee></xml>".to_vec()),
        (
            "POST /v3/merchant/media/upload HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=\"\"".into(),
            b"--\r\n\r\n".to_vec(),
        ),
        (
            format!("POST /v3/merchant/media/upload HTTP/1.1\r\nAuthorization: {forged}\r\nContent-Type: multipart/form-data; boundary=b"),
            b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--".to_vec(),
        ),
        (
            format!("POST /v3/merchant/media/upload HTTP/1.1\r\nAuthorization: {forged}\r\nContent-Type: multipart/form-data; boundary=b"),
            "--b\r\n".repeat(10_000).into_bytes(),
        ),
        (
            format!("POST /v3/merchant/media/upload HTTP/1.1\r\nAuthorization: {forged}\r\nContent-Type: multipart/form-data; boundary=b"),
            "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n".repeat(100).into_bytes(),
        ),
    ];
    for (head, body) in &cases {
        let answer = raw(emulator.addr(), head, body);
        assert!((200..500).contains(&answer.status), "{head}: {}", answer.status);
    }
    // Still serving.
    let client = emulator.client_builder().build().unwrap();
    client.chain(SEED).post(json!({"json": seed("after")})).unwrap();
}

#[test]
fn odd_authenticated_requests_are_answered_not_dropped() {
    let (emulator, client) = common::emulated();
    let mchid = emulator.identity().mchid.clone();
    let calls: Vec<(&str, &str, Value)> = vec![
        ("POST", "v3/pay/transactions/native", json!({"json": [1, 2, 3]})),
        (
            "POST",
            "v3/pay/transactions/jsapi",
            json!({"json": {"appid": "a", "mchid": mchid, "description": "d",
            "out_trade_no": "J", "notify_url": "n", "amount": {"total": u64::MAX}, "payer": []}}),
        ),
        (
            "POST",
            "v3/refund/domestic/refunds",
            json!({"json": {"out_refund_no": "x", "amount": {"refund": u64::MAX, "total": u64::MAX}}}),
        ),
        (
            "POST",
            "v3/refund/domestic/refunds",
            json!({"json": {"out_refund_no": "x", "transaction_id": "", "amount": {"refund": -1, "total": 1.5}}}),
        ),
        ("GET", "v3/refund/domestic/refunds/%00", json!({})),
        (
            "GET",
            "v3/bill/tradebill",
            json!({"query": {"bill_date": "２０２６-11-26"}}),
        ),
        ("GET", "v3/billdownload/file", json!({"query": {"token": "\u{0}"}})),
        (
            "POST",
            "v3/pay/transactions/out-trade-no/none/close",
            json!({"json": {"mchid": 1}}),
        ),
        ("GET", "v3/pay/transactions/id/x", json!({"query": {"mchid": mchid}})),
        (
            "POST",
            "v3/applyment4sub/applyment/",
            json!({"json": {"contact_info": {"contact_name": "AAAA"}}}),
        ),
    ];
    for (method, path, options) in calls {
        let result = match method {
            "GET" => client.chain(path).get(options),
            _ => client.chain(path).post(options),
        };
        if let Err(err) = result {
            let api = err
                .api()
                .unwrap_or_else(|| panic!("{method} {path}: not answered: {err}"));
            assert!((400..500).contains(&api.status().as_u16()), "{method} {path}: {err}");
        }
    }
    client.chain(SEED).post(json!({"json": seed("after")})).unwrap();
}

// 7. Files.

#[cfg(all(unix, feature = "cli"))]
#[test]
fn the_cli_writes_secrets_for_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new").join("emulator");
    let run = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_wechatpay"))
            .args(["emulator", "--seconds", "0", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    run();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&tmp.path().join("new")), 0o700);
    for secret in ["apiclient_key.pem", "profile.json"] {
        assert_eq!(mode(&dir.join(secret)), 0o600, "{secret}");
    }
    // A key file an earlier run left readable by others is tightened.
    let key = dir.join("apiclient_key.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    run();
    assert_eq!(mode(&key), 0o600);
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
}
