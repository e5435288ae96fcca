//! The other subcommands: certificates, notifications, pay-sign, field encryption, doctor.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use wechatpay::{
    AesGcm, AppPayParams, Certificate, ConfigError, Endpoint, JsapiPayParams, KeyRing, NotificationVerifier, Result,
    Rsa, WechatpayVerifier,
};

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum CertificatesCommand {
    /// Download, decrypt and verify the platform certificates; write one PEM per serial
    Download {
        /// Output directory
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Verify and decrypt a notification; prints the resource as JSON, or which check failed
    Verify {
        /// Headers: a JSON object or list of pairs, or `Name: value` lines ("-" for stdin)
        #[arg(long)]
        headers: PathBuf,
        /// The raw body ("-" for stdin)
        #[arg(long)]
        body: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PayKind {
    /// WeixinJSBridge getBrandWCPayRequest
    Jsapi,
    /// wx.requestPayment
    Miniprogram,
    /// The APP OpenSDK PayReq
    App,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Which client
    pub kind: PayKind,
    /// The app id
    #[arg(long)]
    pub appid: String,
    /// The prepay_id from the prepay call
    #[arg(long)]
    pub prepay_id: String,
}

#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// The plaintext
    pub plaintext: String,
    /// Which configured key (serial or PUB_KEY_ID); needed when several are configured
    #[arg(long)]
    pub with: Option<String>,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The base64 ciphertext
    pub ciphertext: String,
}

fn read(path: &PathBuf) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let outcome = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    outcome.map_err(|e| ConfigError::new("file", format!("cannot read {}: {e}", path.display())))?;
    Ok(bytes)
}

fn days_left(until: std::time::SystemTime) -> i64 {
    match until.duration_since(std::time::SystemTime::now()) {
        Ok(left) => i64::try_from(left.as_secs() / 86_400).unwrap_or(i64::MAX),
        Err(past) => -i64::try_from(past.duration().as_secs() / 86_400).unwrap_or(i64::MAX),
    }
}

fn print_json(value: &impl serde::Serialize) {
    say!(
        "{}",
        crate::output::terminal_safe(&serde_json::to_string_pretty(value).unwrap_or_default())
    );
}

pub fn certificates(settings: &Settings, command: CertificatesCommand) -> Result<()> {
    let CertificatesCommand::Download { output } = command;
    let profile = settings.resolve()?;
    let apiv3_key = profile.apiv3_key()?.to_owned();
    // The answer is signed with a certificate we do not have yet: fetch unverified, decrypt, then
    // verify the answer with what it contained (as wechatpay-php's CertificateDownloader does).
    let client = profile
        .builder()?
        .verifier(|_: &Endpoint, _: &wechatpay::Response| Ok(()))
        .build()?;
    let response = match client.chain("v3/certificates").get(()) {
        Err(e) if e.api().is_some_and(|a| a.code() == "RESOURCE_NOT_EXISTS") => {
            eprintln!(
                "This merchant has no platform certificate: it uses the WeChat Pay public key. Download pub_key.pem \
                 and its PUB_KEY_ID in the merchant platform (账户中心 → API安全 → 微信支付公钥), then configure it with \
                 --cert PUB_KEY_ID_…=file:///path/pub_key.pem (or WECHATPAY_CERTS)."
            );
            return Err(e);
        }
        other => other?,
    };
    let body: Value = response.json()?;
    let mut downloaded = Vec::new();
    for entry in body["data"].as_array().into_iter().flatten() {
        let encrypted = &entry["encrypt_certificate"];
        let field = |name: &str| encrypted[name].as_str().unwrap_or_default().to_owned();
        let pem = AesGcm::decrypt(
            &field("ciphertext"),
            apiv3_key.as_bytes(),
            field("nonce"),
            field("associated_data"),
        )?;
        downloaded.push((Certificate::from_bytes(&pem)?, pem));
    }
    let ring: KeyRing = downloaded
        .iter()
        .map(|(cert, _)| (cert.serial_no().to_owned(), cert.public_key().clone()))
        .collect();
    WechatpayVerifier::new(ring)
        .check(&Endpoint::new(http::Method::GET, "v3/certificates"), &response)
        .map_err(|check| wechatpay::Error::Verify(wechatpay::VerifyError::new(check)))?;
    std::fs::create_dir_all(&output)
        .map_err(|e| ConfigError::new("output", format!("cannot create {}: {e}", output.display())))?;
    for (cert, pem) in &downloaded {
        let path = output.join(format!("wechatpay_{}.pem", cert.serial_no()));
        std::fs::write(&path, pem)
            .map_err(|e| ConfigError::new("output", format!("cannot write {}: {e}", path.display())))?;
        say!(
            "{}  valid for {} more days  {}",
            cert.serial_no(),
            days_left(cert.not_after()),
            path.display()
        );
    }
    Ok(())
}

/// Headers from JSON (object or pairs) or `Name: value` lines.
fn parse_headers(bytes: &[u8]) -> Vec<(String, String)> {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        match value {
            Value::Object(map) => return map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
            Value::Array(pairs) => {
                return pairs
                    .iter()
                    .filter_map(|p| Some((p.get(0)?.as_str()?.to_owned(), text(p.get(1)?))))
                    .collect()
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

pub fn notify(settings: &Settings, command: NotifyCommand) -> Result<()> {
    let NotifyCommand::Verify { headers, body } = command;
    let profile = settings.resolve()?;
    let verifier = NotificationVerifier::new(profile.apiv3_key()?, profile.key_ring()?)?;
    let headers = parse_headers(&read(&headers)?);
    let notification = verifier.verify(&headers, &read(&body)?)?;
    print_json(&serde_json::json!({
        "id": notification.id,
        "event_type": notification.event_type,
        "summary": notification.summary,
        "serial": notification.serial,
        "resource": notification.resource,
    }));
    Ok(())
}

pub fn sign(settings: &Settings, args: SignArgs) -> Result<()> {
    let profile = settings.resolve()?;
    let key = profile.private_key()?;
    match args.kind {
        PayKind::Jsapi | PayKind::Miniprogram => print_json(&JsapiPayParams::new(&args.appid, &args.prepay_id, &key)?),
        PayKind::App => print_json(&AppPayParams::new(
            &args.appid,
            profile.mchid()?,
            &args.prepay_id,
            &key,
        )?),
    }
    Ok(())
}

pub fn encrypt(settings: &Settings, args: EncryptArgs) -> Result<()> {
    let ring = settings.resolve()?.key_ring()?;
    let (serial, key) = match &args.with {
        Some(serial) => (
            serial.clone(),
            ring.get(serial)
                .cloned()
                .ok_or_else(|| ConfigError::new("with", format!("{serial} is not a configured key")))?,
        ),
        None => {
            let mut keys = ring.iter();
            match (keys.next(), keys.next()) {
                (Some((serial, key)), None) => (serial.to_owned(), key.clone()),
                (None, _) => return Err(ConfigError::new("cert", "no WeChat Pay key is configured (--cert)").into()),
                _ => {
                    return Err(ConfigError::new(
                        "with",
                        "several WeChat Pay keys are configured: choose one with --with SERIAL",
                    )
                    .into())
                }
            }
        }
    };
    say!("Wechatpay-Serial: {serial}");
    say!("{}", Rsa::encrypt(&args.plaintext, &key)?);
    Ok(())
}

pub fn decrypt(settings: &Settings, args: DecryptArgs) -> Result<()> {
    let key = settings.resolve()?.private_key()?;
    say!("{}", Rsa::decrypt(&args.ciphertext, &key)?);
    Ok(())
}

pub fn doctor(settings: &Settings) -> Result<()> {
    let profile = settings.resolve()?;
    let mut failures = 0;
    let mut report = |ok: bool, text: String| {
        say!(
            "{} {}",
            if ok { "ok  " } else { "FAIL" },
            crate::output::one_line(&text)
        );
        failures += usize::from(!ok);
    };
    let key = profile.private_key()?;
    report(true, format!("private key loads ({} bits)", key.bits()));
    if let Some(cert) = &profile.merchant_cert {
        let cert = Certificate::from_bytes(
            std::fs::read(cert.trim_start_matches("file://"))
                .map_err(|e| ConfigError::new("merchant_cert", format!("cannot read {cert}: {e}")))?,
        )?;
        report(
            cert.matches(&key),
            format!("private key matches merchant certificate {}", cert.serial_no()),
        );
        let serial = profile.serial.as_deref().unwrap_or_default();
        report(
            serial == cert.serial_no(),
            format!("configured serial {serial} is the merchant certificate's"),
        );
        report(
            cert.is_valid_at(std::time::SystemTime::now()),
            format!(
                "merchant certificate valid for {} more days",
                days_left(cert.not_after())
            ),
        );
    }
    // One signed call, unverified, to look at the server's clock and which key signs answers.
    let client = profile
        .builder()?
        .verifier(|_: &Endpoint, _: &wechatpay::Response| Ok(()))
        .build()?;
    // Any answer, even a refusal, carries the server's `Date`: the clock is checked either way,
    // since a skewed clock is the usual cause of a refused signature.
    let (response, accepted) = match client.chain("v3/certificates").get(()) {
        Ok(response) => (response, true),
        Err(e) => match e.api() {
            Some(api) if api.code() == "SIGN_ERROR" => {
                report(false, format!("the server refused our signature: {}", api.message()));
                (api.response().clone(), false)
            }
            Some(api) => (api.response().clone(), true),
            None => return Err(e),
        },
    };
    if accepted {
        report(true, "the server accepted our signature".into());
    }
    let server_time = response
        .headers()
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    match server_time {
        Some(server_time) => {
            let now = std::time::SystemTime::now();
            let offset = match now.duration_since(server_time) {
                Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
                Err(behind) => -i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX),
            };
            report(
                offset.abs() <= 60,
                format!("clock offset from the server's Date: {offset} s"),
            );
        }
        None => report(
            false,
            "the server's answer has no Date header to compare clocks with".into(),
        ),
    }
    if accepted {
        let serial = response
            .headers()
            .get("Wechatpay-Serial")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mode = if serial.starts_with("PUB_KEY_ID_") {
            "public-key"
        } else {
            "platform-certificate"
        };
        let known = profile.certs.contains_key(serial);
        report(
            known,
            format!("answers are signed in {mode} mode by {serial}; configured: {known}"),
        );
    }
    if failures == 0 {
        Ok(())
    } else {
        Err(ConfigError::new("doctor", format!("{failures} check(s) failed")).into())
    }
}

/// Lists matching endpoints: method, path, title, and the facts that change how they are called.
pub fn endpoints(query: &str) {
    let mut found = 0;
    for entry in wechatpay::catalog::search(query) {
        found += 1;
        let mut flags = Vec::new();
        if !entry.hosts.is_empty() {
            flags.push(format!("host {}", entry.hosts.join(" ")));
        }
        match entry.response {
            wechatpay::catalog::ResponseKind::Download => flags.push("unsigned download".into()),
            wechatpay::catalog::ResponseKind::StatementSha1 => flags.push("statement-sha1".into()),
            _ => {}
        }
        if entry.request == wechatpay::catalog::RequestKind::Multipart {
            flags.push("multipart".into());
        }
        if entry.wechatpay_serial {
            flags.push("Wechatpay-Serial".into());
        }
        if !entry.rate_limit.is_empty() {
            flags.push(format!("rate {}", entry.rate_limit));
        }
        if entry.v2_security {
            flags.push("mutual TLS".into());
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", flags.join("; "))
        };
        say!("{:<6} {}  {}{flags}", entry.method, entry.path, entry.title);
    }
    if found == 0 {
        eprintln!("no endpoint matches {query:?}");
    }
}
