//! The `wechatpay` command against the emulator: every subcommand, and the non-zero exits that
//! tell API errors (1), configuration errors (3) and verification failures (5) apart.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};
use wechatpay::emulator::{Emulator, Mode};
use wechatpay::Rsa;

fn wechatpay() -> Command {
    let mut command = Command::cargo_bin("wechatpay").unwrap();
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("WECHATPAY_")) {
        command.env_remove(key);
    }
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
        .arg(dir.path())
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

const SEED: &str = "v3/brand/partner/card-member/user-points/sync";

#[test]
fn calls_print_status_request_id_and_json_and_exit_by_error_kind() {
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
    let (code, out, err) = run(&served.profile, &seed_args);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("200 OK\nRequest-ID: EMU"), "{out}");
    let body: Value = serde_json::from_str(out.splitn(3, '\n').nth(2).unwrap()).unwrap();
    assert_eq!(body["point_balance"], 1000);
    assert_eq!(body["out_request_no"], "1");

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
    assert!(out.contains("\"trade_state\": \"NOTPAY\""), "{out}");

    // API error: 1, with code, message and Request-ID.
    let (code, _, err) = run(
        &served.profile,
        &[
            "get",
            "v3/pay/transactions/out-trade-no/NOPE",
            "--query",
            "mchid=1900000109",
        ],
    );
    assert_eq!(code, 1, "{err}");
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
        &["certificates", "download", "-o", out_dir.path().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
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

    // encrypt: for WeChat Pay's key, with the serial to send.
    let (code, out, _) = run(&profile, &["encrypt", "张三"]);
    assert_eq!(code, 0);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("Wechatpay-Serial: {}", emulator.identity().pub_key_id)
    );
    assert_eq!(
        Rsa::decrypt(lines.next().unwrap(), emulator.identity().wechatpay.private_key()).unwrap(),
        "张三"
    );
    // decrypt: what WeChat Pay encrypted for the merchant.
    let ciphertext = Rsa::encrypt("13900000000", &merchant_public).unwrap();
    let (code, out, _) = run(&profile, &["decrypt", &ciphertext]);
    assert_eq!((code, out.trim()), (0, "13900000000"));
    let (code, _, err) = run(&profile, &["decrypt", "AAAA"]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("RSA-OAEP"), "{err}");
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
    let body: Value = serde_json::from_str(out.splitn(3, '\n').nth(2).unwrap()).unwrap();
    assert_eq!(
        (body["result_code"].as_str(), body["out_trade_no"].as_str()),
        (Some("SUCCESS"), Some("CLI-V2"))
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
