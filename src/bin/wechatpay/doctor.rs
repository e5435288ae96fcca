//! `wechatpay doctor`: the configuration checked against itself and the server.

use clap::Args;
use wechatpay::{Certificate, ConfigError, Endpoint, Result};

use crate::certificates::days_left;
use crate::config::{Profile, Settings};

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Print the checks as JSON (`[{"ok": true, "check": "…"}, …]`)
    #[arg(long)]
    pub json: bool,
}

/// The checks made so far.
#[derive(Default)]
struct Checks(Vec<(bool, String)>);

impl Checks {
    fn add(&mut self, ok: bool, text: String) {
        self.0.push((ok, text));
    }
}

pub(crate) fn run(settings: &Settings, args: DoctorArgs) -> Result<()> {
    let profile = settings.resolve()?;
    let mut checks = Checks::default();
    let outcome = check(&profile, &mut checks);
    if args.json {
        let list: Vec<_> = checks
            .0
            .iter()
            .map(|(ok, check)| serde_json::json!({"ok": ok, "check": check}))
            .collect();
        crate::output::json(&list);
    } else {
        for (ok, text) in &checks.0 {
            say!(
                "{} {}",
                if *ok { "ok  " } else { "FAIL" },
                crate::output::one_line(text)
            );
        }
    }
    outcome?;
    let failures = checks.0.iter().filter(|(ok, _)| !ok).count();
    if failures == 0 {
        Ok(())
    } else {
        Err(ConfigError::new("doctor", format!("{failures} check(s) failed")).into())
    }
}

fn check(profile: &Profile, checks: &mut Checks) -> Result<()> {
    let key = profile.private_key()?;
    checks.add(true, format!("private key loads ({} bits)", key.bits()));
    if let Some(cert) = &profile.merchant_cert {
        let cert = Certificate::from_bytes(
            std::fs::read(cert.trim_start_matches("file://"))
                .map_err(|e| ConfigError::new("merchant_cert", format!("cannot read {cert}: {e}")))?,
        )?;
        checks.add(
            cert.matches(&key),
            format!("private key matches merchant certificate {}", cert.serial_no()),
        );
        let serial = profile.serial.as_deref().unwrap_or_default();
        checks.add(
            serial == cert.serial_no(),
            format!("configured serial {serial} is the merchant certificate's"),
        );
        checks.add(
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
    crate::output::status("asking the server (GET v3/certificates)…");
    // Any answer, even a refusal, carries the server's `Date`: the clock is checked either way,
    // since a skewed clock is the usual cause of a refused signature.
    let (response, accepted) = match client.chain("v3/certificates").get(()) {
        Ok(response) => (response, true),
        Err(e) => match e.api() {
            Some(api) if api.code() == "SIGN_ERROR" => {
                checks.add(false, format!("the server refused our signature: {}", api.message()));
                (api.response().clone(), false)
            }
            Some(api) => (api.response().clone(), true),
            None => return Err(e),
        },
    };
    if accepted {
        checks.add(true, "the server accepted our signature".into());
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
            checks.add(
                offset.abs() <= 60,
                format!("clock offset from the server's Date: {offset} s"),
            );
        }
        None => checks.add(
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
        checks.add(
            known,
            format!("answers are signed in {mode} mode by {serial}; configured: {known}"),
        );
    }
    Ok(())
}
