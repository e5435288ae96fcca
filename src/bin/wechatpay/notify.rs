//! `wechatpay notify verify`: check and decrypt a callback notification.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::Value;
use wechatpay::{ConfigError, NotificationVerifier, Result};

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
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

/// A file's bytes, or stdin's for `-`.
pub(crate) fn read(path: &PathBuf) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let outcome = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    outcome.map_err(|e| ConfigError::new("file", format!("cannot read {}: {e}", path.display())))?;
    Ok(bytes)
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

pub(crate) fn run(settings: &Settings, command: NotifyCommand) -> Result<()> {
    let NotifyCommand::Verify { headers, body } = command;
    let profile = settings.resolve()?;
    let verifier = NotificationVerifier::new(profile.apiv3_key()?, profile.key_ring()?)?;
    let headers = parse_headers(&read(&headers)?);
    let notification = verifier.verify(&headers, &read(&body)?)?;
    crate::output::json(&serde_json::json!({
        "id": notification.id,
        "event_type": notification.event_type,
        "summary": notification.summary,
        "serial": notification.serial,
        "resource": notification.resource,
    }));
    Ok(())
}
