//! The `wechatpay` command against the emulator: every subcommand, and the non-zero exits that
//! tell API errors (1), configuration errors (3) and verification failures (5) apart.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};
use wechatpay::emulator::{Emulator, Mode};
use wechatpay::Rsa;

use crate::common::SEED;

fn wechatpay() -> Command {
    let mut command = Command::cargo_bin("wechatpay").unwrap();
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("WECHATPAY_")) {
        command.env_remove(key);
    }
    // No default profile from the machine running the tests.
    command.env("XDG_CONFIG_HOME", "/nonexistent/wechatpay-tests");
    command
}

/// `wechatpay emulator` in the background; returns it with the profile it wrote.
struct Served {
    child: Child,
    profile: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(mode: &str) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut child = wechatpay()
        .args(["emulator", "--seconds", "120", "--mode", mode, "--dir"])
        .arg(dir.path().join("emulator"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("WeChat Pay emulator listening on http://127.0.0.1:"),
        "{first}"
    );
    let export = lines.next().unwrap().unwrap();
    let profile = PathBuf::from(export.strip_prefix("export WECHATPAY_PROFILE=").unwrap());
    assert!(profile.exists());
    Served {
        child,
        profile,
        _dir: dir,
    }
}

fn run(profile: &Path, args: &[&str]) -> (i32, String, String) {
    let output = wechatpay().arg("--profile").arg(profile).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn calls_print_the_body_for_pipes_and_exit_by_error_kind() {
    let served = serve("public-key");
    let seed_args = [
        "post",
        SEED,
        "-d",
        "out_request_no=1",
        "-d",
        "brand_id=1004",
        "-d",
        "card_id=pbLatjvWOibDc5",
        "-d",
        "openid=obLatjnx9gnqzS4my",
        "-d",
        "user_card_code=478515832665",
        "-d",
        "point_balance:=1000",
    ];
    // Piped: stdout is the body as received (`… | jq` reads it), nothing on stderr.
    let (code, out, err) = run(&served.profile, &seed_args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["point_balance"], 1000);
    assert_eq!(body["out_request_no"], "1");
    assert!(!out.contains('\n'), "as received, not re-indented: {out}");
    // -v: status, Request-ID and time on stderr; --pretty indents even in a pipe.
    let verbose: Vec<&str> = ["-v"].into_iter().chain(seed_args).chain(["--pretty"]).collect();
    let (code, out, err) = run(&served.profile, &verbose);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.starts_with("200 OK · Request-ID: EMU") && err.trim_end().ends_with(" ms"),
        "{err}"
    );
    assert!(out.contains("\n  \"point_balance\": 1000"), "{out}");

    // --json, the uppercase method alias, --var and --query.
    let (code, out, _) = run(
        &served.profile,
        &[
            "POST",
            "v3/pay/transactions/native",
            "--json",
            r#"{"appid":"wx1","mchid":"1900000109","description":"d","out_trade_no":"T1","notify_url":"https://e.com/n","amount":{"total":1}}"#,
        ],
    );
    assert_eq!(code, 0);
    assert!(out.contains("weixin://wxpay/bizpayurl"), "{out}");
    let (code, out, _) = run(
        &served.profile,
        &[
            "get",
            "v3/pay/transactions/out-trade-no/{out_trade_no}",
            "--var",
            "out_trade_no=T1",
            "--query",
            "mchid=1900000109",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["trade_state"], "NOTPAY");

    // API error: 1; the error body on stdout for scripts, code, message and Request-ID on stderr.
    let (code, out, err) = run(
        &served.profile,
        &[
            "get",
            "v3/pay/transactions/out-trade-no/NOPE",
            "--query",
            "mchid=1900000109",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["code"], "ORDER_NOT_EXIST");
    assert!(
        err.contains("error (api)") && err.contains("ORDER_NOT_EXIST") && err.contains("Request-ID: EMU"),
        "{err}"
    );
    // Verification failure: 5, naming the check.
    let (code, _, err) = run(
        &served.profile,
        &[
            "get",
            "v3/marketing/favor/stocks",
            "--header",
            "Wechatpay-Emulator-Fault: missing-serial",
        ],
    );
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("error (verification)") && err.contains("Wechatpay-Serial is missing"),
        "{err}"
    );
    // Bad input: 3, naming the field.
    let (code, _, err) = run(&served.profile, &["post", SEED, "-d", "point_balance:=not-json"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("data.point_balance"), "{err}");
}

#[test]
fn missing_settings_name_the_flag_and_the_variable() {
    let output = wechatpay().args(["get", "v3/certificates"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("mchid") && err.contains("WECHATPAY_MCHID"), "{err}");
}

#[test]
fn certificates_download_in_both_modes() {
    let served = serve("platform-certificate");
    let out_dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(
        &served.profile,
        &[
            "-vv",
            "certificates",
            "download",
            "-o",
            out_dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    // -vv shows the download's attempt, -v its time.
    assert!(
        err.contains("> GET") && err.contains("/v3/certificates") && err.contains("download: "),
        "{err}"
    );
    let written: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1);
    let cert = wechatpay::PemUtil::load_certificate(&written[0]).unwrap();
    assert!(out.starts_with(cert.serial_no()), "{out}");
    let profile: Value = serde_json::from_str(&std::fs::read_to_string(&served.profile).unwrap()).unwrap();
    assert!(profile["certs"].as_object().unwrap().contains_key(cert.serial_no()));

    let public_key = serve("public-key");
    let (code, _, err) = run(
        &public_key.profile,
        &["certificates", "download", "-o", out_dir.path().to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("WeChat Pay public key") && err.contains("RESOURCE_NOT_EXISTS"),
        "{err}"
    );
}

#[test]
fn doctor_reports_every_check() {
    let served = serve("public-key");
    let (code, out, err) = run(&served.profile, &["doctor"]);
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "private key matches merchant certificate",
        "the server accepted our signature",
        "clock offset",
        "public-key mode",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    assert!(!out.contains("FAIL"), "{out}");
    // A wrong serial is reported and fails.
    let (code, out, _) = run(&served.profile, &["--serial", "0123", "doctor"]);
    assert_ne!(code, 0);
    assert!(out.contains("FAIL"), "{out}");
}

/// A profile for an in-process emulator, so the test can also build what the CLI must check.
fn profile_for(emulator: &Emulator, dir: &Path) -> PathBuf {
    let identity = emulator.identity();
    let key = dir.join("apiclient_key.pem");
    std::fs::write(&key, identity.merchant.private_key_pem().unwrap()).unwrap();
    let pub_key = dir.join("pub_key.pem");
    std::fs::write(&pub_key, identity.wechatpay.public_key().to_pem()).unwrap();
    let profile = json!({
        "mchid": identity.mchid, "serial": identity.merchant_serial(),
        "private_key": format!("file://{}", key.display()),
        "certs": {identity.pub_key_id.clone(): format!("file://{}", pub_key.display())},
        "apiv3_key": identity.apiv3_key.to_string(), "base_uri": emulator.base_uri(),
    });
    let path = dir.join("profile.json");
    std::fs::write(&path, profile.to_string()).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

#[test]
fn notify_verify_decrypts_or_names_the_failed_check() {
    let emulator = Emulator::builder().mode(Mode::PublicKey).start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_for(&emulator, dir.path());
    emulator
        .client_builder()
        .build()
        .unwrap()
        .chain("v3/pay/transactions/native")
        .post(
            json!({"json": {"appid": "wx1", "mchid": emulator.identity().mchid, "description": "d",
                               "out_trade_no": "T7", "notify_url": "https://e.com/n", "amount": {"total": 7}}}),
        )
        .unwrap();
    let notification = emulator.transaction_notification("T7").unwrap();
    let headers = dir.path().join("headers.json");
    std::fs::write(&headers, serde_json::to_string(&notification.headers).unwrap()).unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, &notification.body).unwrap();
    let (code, out, err) = run(
        &profile,
        &[
            "notify",
            "verify",
            "--headers",
            headers.to_str().unwrap(),
            "--body",
            body.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(printed["resource"]["out_trade_no"], "T7");

    // Raw `Name: value` headers and the body from stdin work too; a changed body fails with 5.
    let lines: String = notification
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    std::fs::write(&headers, lines).unwrap();
    let mut child = wechatpay()
        .arg("--profile")
        .arg(&profile)
        .args([
            "notify",
            "verify",
            "--headers",
            headers.to_str().unwrap(),
            "--body",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        &[&notification.body[..], b" "].concat(),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&output.stderr).contains("signature does not match"));
}

#[test]
fn sign_encrypt_and_decrypt() {
    let emulator = Emulator::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_for(&emulator, dir.path());
    let merchant_public = emulator.identity().merchant.public_key().clone();

    let (code, out, err) = run(
        &profile,
        &[
            "sign",
            "jsapi",
            "--appid",
            "wxd678efh567hg6787",
            "--prepay-id",
            "wx201410272009395522657a690389285100",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let jsapi: Value = serde_json::from_str(&out).unwrap();
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        jsapi["appId"].as_str().unwrap(),
        jsapi["timeStamp"].as_str().unwrap(),
        jsapi["nonceStr"].as_str().unwrap(),
        jsapi["package"].as_str().unwrap()
    );
    assert!(Rsa::verify(&message, jsapi["paySign"].as_str().unwrap(), &merchant_public).unwrap());
    assert_eq!(jsapi["signType"], "RSA");

    let (code, out, _) = run(
        &profile,
        &["sign", "app", "--appid", "wxd678efh567hg6787", "--prepay-id", "wx2014"],
    );
    assert_eq!(code, 0);
    let app: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (app["package"].as_str(), app["partnerid"].as_str()),
        (Some("Sign=WXPay"), Some("1900000109"))
    );
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        app["appid"].as_str().unwrap(),
        app["timestamp"].as_str().unwrap(),
        app["noncestr"].as_str().unwrap(),
        app["prepayid"].as_str().unwrap()
    );
    assert!(Rsa::verify(&message, app["sign"].as_str().unwrap(), &merchant_public).unwrap());

    // encrypt: the ciphertext on stdout, the serial to send on stderr.
    let (code, out, err) = run(&profile, &["encrypt", "张三"]);
    assert_eq!(code, 0);
    assert_eq!(
        err.trim(),
        format!("Wechatpay-Serial: {}", emulator.identity().pub_key_id)
    );
    assert_eq!(
        Rsa::decrypt(out.trim(), emulator.identity().wechatpay.private_key()).unwrap(),
        "张三"
    );
    // decrypt: what WeChat Pay encrypted for the merchant.
    let ciphertext = Rsa::encrypt("13900000000", &merchant_public).unwrap();
    let (code, out, _) = run(&profile, &["decrypt", &ciphertext]);
    assert_eq!((code, out.trim()), (0, "13900000000"));
    // Bad input is exit 3, like any input or configuration error, and said once.
    for bad in ["AAAA", "not base64!"] {
        let (code, out, err) = run(&profile, &["decrypt", bad]);
        assert_eq!((code, out.as_str()), (3, ""), "{err}");
        assert!(err.starts_with("error (configuration or input)"), "{err}");
        let first = err.lines().next().unwrap();
        let repeated = err
            .lines()
            .skip(1)
            .filter(|l| first.contains(l.trim_start_matches("  caused by:  ")));
        assert_eq!(repeated.count(), 0, "a cause printed twice: {err}");
    }
}

#[test]
fn endpoints_searches_the_catalog() {
    let output = wechatpay().args(["endpoints", "tradebill"]).output().unwrap();
    assert!(output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("GET    v3/bill/tradebill  申请交易账单"), "{out}");
    let output = wechatpay()
        .args(["endpoints", "v3/global/statements"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("host https://apihk.mch.weixin.qq.com/") && out.contains("statement-sha1"),
        "{out}"
    );
    let output = wechatpay().args(["endpoints", "不存在的接口名"]).output().unwrap();
    assert!(output.stdout.is_empty() && String::from_utf8_lossy(&output.stderr).contains("no endpoint matches"));
}

#[test]
fn apiv2_calls_take_xml_parameters() {
    let served = serve("public-key");
    let profile: Value = serde_json::from_str(&std::fs::read_to_string(&served.profile).unwrap()).unwrap();
    let mchid = profile["mchid"].as_str().unwrap().to_owned();
    let xml = json!({"appid": "wx2421b1c4370ec43b", "mch_id": mchid, "body": "刷卡", "out_trade_no": "CLI-V2",
                     "total_fee": 1, "spbill_create_ip": "14.17.22.52", "auth_code": "120061098828009406"})
    .to_string();
    let (code, out, err) = run(&served.profile, &["post", "v2/pay/micropay", "--xml", &xml]);
    assert_eq!(code, 0, "{err}");
    // The XML as WeChat Pay sent it.
    assert!(out.starts_with("<xml>"), "{out}");
    assert!(
        out.contains("<result_code>SUCCESS</result_code>") && out.contains("CLI-V2"),
        "{out}"
    );
    // A FAIL answer is an API error (exit 1) with its code.
    let big = xml.replace("\"total_fee\":1", "\"total_fee\":200000");
    let (code, _, err) = run(&served.profile, &["post", "v2/pay/micropay", "--xml", &big]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("NOTENOUGH"), "{err}");
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// The lines of a PEM body: none may ever be printed.
fn assert_no_key_lines(output: &str, pem: &str) {
    for line in pem.lines().filter(|l| !l.starts_with("-----") && l.len() > 16) {
        assert!(!output.contains(line), "the key was printed:\n{output}");
    }
}

#[test]
fn a_private_key_pasted_on_the_command_line_is_never_echoed() {
    let pem = std::fs::read_to_string(fixture("keys/merchant_pkcs8.pem")).unwrap();
    // Taken as the value of --private-key although it starts with `-`.
    let output = wechatpay()
        .args(["get", "v3/certificates", "--private-key", &pem])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("mchid"), "{err}");
    assert_no_key_lines(&err, &pem);
    // Pasted where no flag takes it: a usage error (2) that does not quote it.
    for args in [
        vec!["get", "v3/certificates", "--bogus", pem.as_str()],
        vec![pem.as_str()],
        vec!["get", "v3/certificates", "--apiv3-key", "k", "extra", pem.as_str()],
    ] {
        let output = wechatpay().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert_no_key_lines(&err, &pem);
    }
    // Pasted into --cert without a serial: refused without being quoted.
    let output = wechatpay()
        .args([
            "get",
            "v3/certificates",
            "--mchid",
            "1900000109",
            "--serial",
            "S",
            "--cert",
            &pem,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert_no_key_lines(&err, &pem);
    // Given after `file://` by mistake: refused without being quoted.
    let output = wechatpay()
        .args(["get", "v3/certificates", "--mchid", "1900000109", "--serial", "S"])
        .arg("--private-key")
        .arg(format!("file://{pem}"))
        .arg("--cert")
        .arg(format!(
            "PUB_KEY_ID_0114232134912410000000000000=file://{}",
            fixture("keys/pubkey.pem").display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("where a file path was expected"), "{err}");
    assert_no_key_lines(&err, &pem);
}

/// Answers every connection once with `status` and `body`, then closes it.
fn answer_once(status: &str, body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let status = status.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut head = [0u8; 65536];
            let _ = stream.read(&mut head);
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    format!("http://{addr}/")
}

#[test]
fn server_text_cannot_drive_the_terminal() {
    let base = answer_once(
        "400 Bad Request",
        "{\"code\":\"PARAM\\u001b[2J\",\"message\":\"x\\r\\nerror (api): forged\\u0007\",\"detail\":{\"v\":\"\\u009b31m\"}}",
    );
    let output = wechatpay()
        .args(["get", "v3/certificates", "--mchid", "1900000109", "--serial", "S"])
        .arg("--private-key")
        .arg(format!("file://{}", fixture("keys/merchant_pkcs8.pem").display()))
        .arg("--cert")
        .arg(format!(
            "PUB_KEY_ID_0114232134912410000000000000=file://{}",
            fixture("keys/pubkey.pem").display()
        ))
        .args(["--base-uri", &base])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        !err.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the terminal: {err:?}"
    );
    assert!(err.contains("PARAM\\u{1b}[2J"), "{err}");
    // One `error (…):` line only: the forged one is escaped into the message line.
    assert_eq!(err.lines().filter(|l| l.starts_with("error (")).count(), 1, "{err}");
}

/// The profile's settings as a library client, to fetch what the CLI must match.
fn client_from(profile: &Path) -> wechatpay::Client {
    let p: Value = serde_json::from_str(&std::fs::read_to_string(profile).unwrap()).unwrap();
    let text = |k: &str| p[k].as_str().unwrap().to_owned();
    let mut builder = wechatpay::Builder::new()
        .mchid(text("mchid"))
        .serial(text("serial"))
        .private_key(Rsa::from_private(text("private_key")).unwrap())
        .base_uri(text("base_uri"));
    for (serial, key) in p["certs"].as_object().unwrap() {
        builder = builder.cert(serial.clone(), Rsa::from_public(key.as_str().unwrap()).unwrap());
    }
    builder.build().unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
#[cfg(unix)]
fn binary_answers_and_bills_go_to_files_byte_for_byte_readable_by_the_owner_only() {
    // An emulator in this process, so that the order can be paid and shows in the bill.
    let emulator = Emulator::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_for(&emulator, dir.path());
    let client = client_from(&profile);
    let order = json!({"json": {"appid": "wx1", "mchid": "1900000109", "description": "d", "out_trade_no": "CLI-BILL",
        "notify_url": "https://e.com/n", "amount": {"total": 123}, "payer": {"openid": "o"}}});
    client.chain("v3/pay/transactions/jsapi").post(order).unwrap();
    emulator.pay("CLI-BILL").unwrap();

    // The GZIP file itself, through `get -o`: the bytes the emulator serves, not through UTF-8.
    let bill: wechatpay::BillLocation = client
        .chain("v3/bill/tradebill")
        .get(json!({"query": {"bill_date": "2026-11-26", "tar_type": "GZIP"}}))
        .unwrap()
        .json()
        .unwrap();
    let token = bill.download_url.split("token=").nth(1).unwrap().to_owned();
    let served_bytes = client
        .chain("v3/billdownload/file")
        .get(json!({"query": {"token": token}}))
        .unwrap()
        .bytes()
        .clone();
    assert!(served_bytes.starts_with(&[0x1f, 0x8b]), "a gzip file");
    let raw = dir.path().join("raw.gz");
    // An earlier file, readable by others and held open by a reader: the answer replaces it
    // whole, so that reader still sees only the old contents.
    std::fs::write(&raw, "old").unwrap();
    std::fs::set_permissions(&raw, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let mut held = std::fs::File::open(&raw).unwrap();
    let (code, out, err) = run(
        &profile,
        &[
            "get",
            "v3/billdownload/file",
            "--query",
            &format!("token={token}"),
            "-o",
            raw.to_str().unwrap(),
        ],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert_eq!(std::fs::read(&raw).unwrap(), served_bytes.to_vec());
    assert_eq!(mode(&raw), 0o600);
    let mut seen = String::new();
    std::io::Read::read_to_string(&mut held, &mut seen).unwrap();
    assert_eq!(seen, "old");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
    // Through a symbolic link: the file it points to is replaced, the link stays.
    let real = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (code, _, err) = run(
        &profile,
        &["get", "v3/marketing/favor/stocks", "-o", link.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().starts_with('{'));
    assert_eq!(mode(&real), 0o600);
    // Not a regular file: written to, its mode left alone.
    let before = mode(Path::new("/dev/null"));
    let (code, _, err) = run(&profile, &["get", "v3/marketing/favor/stocks", "-o", "/dev/null"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(Path::new("/dev/null")), before);

    // `bill download`: the location, the streamed download, the digest checked; no progress
    // bar in a pipe.
    let saved = dir.path().join("bill.csv");
    let (code, out, err) = run(
        &profile,
        &[
            "-v",
            "bill",
            "download",
            "--date",
            "2026-11-26",
            "--tar-type",
            "GZIP",
            "-o",
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("(gunzipped), SHA1") && err.contains("checked"), "{err}");
    // -v: the location call's status line and the download's time.
    assert!(
        err.contains("200 OK · Request-ID: ") && err.contains("downloaded in "),
        "{err}"
    );
    assert!(
        !err.contains("ETA") && !err.contains('\r'),
        "no progress bar in a pipe: {err:?}"
    );
    let expected = dir.path().join("expected.csv");
    client.download_bill(&bill, &expected).unwrap();
    assert_eq!(std::fs::read(&saved).unwrap(), std::fs::read(&expected).unwrap());
    assert!(String::from_utf8(std::fs::read(&saved).unwrap())
        .unwrap()
        .contains("`CLI-BILL,"));
    assert_eq!(mode(&saved), 0o600);

    // The fund-flow bill, and a date that is not one (exit 3, nothing written).
    let flow = dir.path().join("flow.csv");
    let (code, _, err) = run(
        &profile,
        &[
            "bill",
            "download",
            "--kind",
            "fund-flow",
            "--date",
            "2026-11-26",
            "-o",
            flow.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&flow)
        .unwrap()
        .starts_with("记账时间,微信支付业务单号"));
    let (code, _, err) = run(
        &profile,
        &[
            "bill",
            "download",
            "--date",
            "26/11/2026",
            "-o",
            dir.path().join("no.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("2026-11-26") && !dir.path().join("no.csv").exists(),
        "{err}"
    );
    // An API error: exit 1 and, as for the verbs, its body on stdout for scripts.
    let (code, out, err) = run(
        &profile,
        &[
            "bill",
            "download",
            "--kind",
            "fund-flow",
            "--account-type",
            "NOPE",
            "--date",
            "2026-11-26",
            "-o",
            dir.path().join("no.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{err}");
    let body: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(body["code"], "PARAM_ERROR", "{out}");
    assert!(
        err.contains("PARAM_ERROR") && !dir.path().join("no.csv").exists(),
        "{err}"
    );

    // What `emulator --dir` wrote: the key and profile for the owner only.
    let served = serve("public-key");
    let emulator_dir = served.profile.parent().unwrap();
    assert_eq!(mode(emulator_dir), 0o700);
    assert_eq!(mode(&emulator_dir.join("apiclient_key.pem")), 0o600);
    assert_eq!(mode(&served.profile), 0o600);
}

#[test]
fn minus_vv_shows_each_request_with_its_signed_message_but_never_the_signature() {
    let served = serve("public-key");
    let (code, out, err) = run(&served.profile, &["-vv", "get", "v3/certificates"]);
    assert_eq!(code, 1, "public-key mode has no certificates: {err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["code"],
        "RESOURCE_NOT_EXISTS"
    );
    assert!(
        err.contains("> GET http://127.0.0.1:") && err.contains("/v3/certificates"),
        "{err}"
    );
    assert!(
        err.contains("> the signed message") && err.contains(">   GET\n>   /v3/certificates\n"),
        "{err}"
    );
    assert!(
        err.contains("signature=\"<redacted>\"") && err.contains("< 404 Not Found"),
        "{err}"
    );
    assert!(err.contains("< wechatpay-serial: PUB_KEY_ID_"), "{err}");
    let authorization = err.lines().find(|l| l.starts_with("> authorization:")).unwrap();
    assert!(!authorization.contains("signature=\"\""), "{authorization}");
}

#[test]
fn certificates_download_bootstraps_from_the_apiv3_key_alone() {
    let served = serve("platform-certificate");
    let dir = tempfile::tempdir().unwrap();
    // A profile without any WeChat Pay key: only the merchant's signing credentials and the
    // APIv3 key, as a new merchant has them.
    let mut profile: Value = serde_json::from_str(&std::fs::read_to_string(&served.profile).unwrap()).unwrap();
    profile.as_object_mut().unwrap().remove("certs");
    profile.as_object_mut().unwrap().remove("apiv2_key");
    let bare = dir.path().join("bare.json");
    std::fs::write(&bare, profile.to_string()).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&bare, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out_dir = dir.path().join("certs");
    let (code, out, err) = run(&bare, &["certificates", "download", "-o", out_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "no warning for a private profile, no progress in a pipe");
    let written: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1);
    let cert = wechatpay::PemUtil::load_certificate(&written[0]).unwrap();
    assert!(out.starts_with(cert.serial_no()), "{out}");
    #[cfg(unix)]
    assert_eq!((mode(&out_dir), mode(&written[0])), (0o700, 0o600));

    // It fails only for a real reason, and says which: a wrong APIv3 key.
    profile["apiv3_key"] = json!("0123456789abcdef0123456789abcdef");
    std::fs::write(&bare, profile.to_string()).unwrap();
    let (code, _, err) = run(&bare, &["certificates", "download", "-o", out_dir.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("APIv3 key"), "{err}");
}

#[test]
// `dirs::config_dir()` follows XDG_CONFIG_HOME on Linux only.
#[cfg(target_os = "linux")]
fn a_profile_others_can_read_earns_a_warning_and_the_default_location_is_used() {
    let served = serve("public-key");
    let config = tempfile::tempdir().unwrap();
    let default = config.path().join("wechatpay/profile.json");
    std::fs::create_dir_all(default.parent().unwrap()).unwrap();
    std::fs::copy(&served.profile, &default).unwrap();
    std::fs::set_permissions(&default, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    // No --profile and no WECHATPAY_PROFILE (an empty one counts as unset): the default file.
    let output = wechatpay()
        .env("XDG_CONFIG_HOME", config.path())
        .env("WECHATPAY_PROFILE", "")
        .env("WECHATPAY_MCHID", "")
        .args(["sign", "app", "--appid", "wx1", "--prepay-id", "wx2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}");
    let app: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(app["partnerid"], "1900000109", "the empty WECHATPAY_MCHID did not win");
    assert!(err.contains("warning:") && err.contains("chmod 600"), "{err}");
}

#[test]
fn each_subcommand_shows_its_own_flags_before_the_shared_credentials() {
    for args in [["get", "--help"], ["bill", "download"].map(|a| a), ["doctor", "--help"]] {
        let mut command = wechatpay();
        command.args(args);
        if args[1] != "--help" {
            command.arg("--help");
        }
        let output = command.output().unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        let own = ["--output", "--date", "--json"]
            .iter()
            .filter_map(|flag| help.find(flag))
            .min()
            .unwrap_or_else(|| panic!("no own flag in {help}"));
        let shared = help
            .find("Credentials")
            .unwrap_or_else(|| panic!("no heading in {help}"));
        assert!(own < shared, "{help}");
        assert!(help[shared..].contains("--private-key") && !help[..shared].contains("--private-key"));
    }
}

#[test]
fn doctor_and_endpoints_speak_json_and_completions_cover_three_shells() {
    let served = serve("public-key");
    let (code, out, err) = run(&served.profile, &["doctor", "--json"]);
    assert_eq!(code, 0, "{err}");
    let checks: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(checks.len() >= 5 && checks.iter().all(|c| c["ok"] == true), "{out}");

    let output = wechatpay().args(["endpoints", "--json", "tradebill"]).output().unwrap();
    let found: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(found
        .iter()
        .any(|e| e["path"] == "v3/bill/tradebill" && e["method"] == "GET"));
    // No match: exit 0, `[]`, and the note on stderr.
    let output = wechatpay()
        .args(["endpoints", "--json", "不存在的接口名"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(serde_json::from_slice::<Value>(&output.stdout).unwrap(), json!([]));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no endpoint matches"));

    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef wechatpay"),
        ("fish", "complete -c wechatpay"),
    ] {
        let output = wechatpay().args(["completions", shell]).output().unwrap();
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success() && script.contains(marker), "{shell}: {script}");
        assert!(script.contains("bill") && script.contains("apiv3-key"), "{shell}");
    }
}

/// Runs the command line `line` in a pseudo-terminal (util-linux `script`), returning everything
/// it wrote there (stdout and stderr together, as a person would see them).
#[cfg(target_os = "linux")]
fn in_terminal(line: &str, envs: &[(&str, &Path)]) -> (i32, String) {
    let output = Command::new("script")
        .args(["-q", "-e", "-c", line, "/dev/null"])
        .envs(envs.iter().map(|(k, v)| (*k, v.as_os_str())))
        .env("XDG_CONFIG_HOME", "/nonexistent/wechatpay-tests")
        .env("COLUMNS", "120")
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux, Debian package bsdutils) runs commands in a pseudo-terminal");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
#[cfg(target_os = "linux")]
fn on_a_terminal_a_person_sees_progress_and_pretty_json() {
    let emulator = Emulator::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_for(&emulator, dir.path());
    let exe = assert_cmd::cargo::cargo_bin("wechatpay");
    let env = [("WECHATPAY_PROFILE", profile.as_path())];
    let bill = dir.path().join("bill.csv");
    let (code, seen) = in_terminal(
        &format!(
            "{} bill download --date 2026-11-26 -o {}",
            exe.display(),
            bill.display()
        ),
        &env,
    );
    assert_eq!(code, 0, "{seen}");
    // The bar (bytes, rate, ETA) was drawn; the same command in a pipe draws none (see
    // binary_answers_and_bills_go_to_files_byte_for_byte_readable_by_the_owner_only).
    assert!(
        seen.contains("ETA") && seen.contains(" B/"),
        "no progress bar: {seen:?}"
    );
    assert!(seen.contains("asking for the v3/bill/tradebill bill"), "{seen:?}");

    // Pretty JSON on a terminal without asking.
    let (code, seen) = in_terminal(&format!("{} get v3/marketing/favor/stocks", exe.display()), &env);
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("{\r\n  \""), "indented: {seen:?}");

    // An error body on a terminal: JSON decoding turns its escapes into C1 controls and bidi
    // overrides, which are escaped again before they reach the terminal.
    let base = answer_once(
        "400 Bad Request",
        "{\"code\":\"PARAM_ERROR\",\"message\":\"x\\u009b31m\\u202ey\\u007f\"}",
    );
    let (code, seen) = in_terminal(
        &format!(
            "{} get v3/marketing/favor/stocks --mchid 1900000109 --serial S --private-key file://{} --base-uri {base} \
             --cert PUB_KEY_ID_0114232134912410000000000000=file://{}",
            exe.display(),
            fixture("keys/merchant_pkcs8.pem").display(),
            fixture("keys/pubkey.pem").display()
        ),
        &[],
    );
    assert_eq!(code, 1, "{seen}");
    assert!(seen.contains("x\\u{9b}31m\\u{202e}y\\u{7f}"), "{seen:?}");
    assert!(!seen.contains('\u{9b}') && !seen.contains('\u{202e}'), "{seen:?}");

    // The emulator says what it is doing while it makes its keys.
    let emulator_dir = dir.path().join("emu");
    let (_, seen) = in_terminal(
        &format!(
            "{} emulator --seconds 0 --dir {}",
            exe.display(),
            emulator_dir.display()
        ),
        &[],
    );
    assert!(seen.contains("generating the emulator's keys"), "{seen:?}");
}
