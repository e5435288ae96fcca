//! Settings from flags, `WECHATPAY_*` environment variables, or a profile file (JSON), in that
//! order of precedence. The profile is `--profile`, `WECHATPAY_PROFILE`, or else the default
//! location (`$XDG_CONFIG_HOME/wechatpay/profile.json`, `~/.config/wechatpay/profile.json`, or the
//! platform's equivalent) when a file is there. An empty value counts as not given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};
use wechatpay::{Builder, ConfigError, KeyRing, PrivateKey, Result, Rsa};

/// A profile file: what `wechatpay emulator` writes and what `--profile` reads.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// A key input `Rsa::from_private` accepts, e.g. `file:///path/apiclient_key.pem`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// Serial or `PUB_KEY_ID_…` → a key input `Rsa::from_public` accepts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub certs: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apiv3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_uri: Option<String>,
    /// The APIv2 key, for v2/… paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apiv2_key: Option<String>,
    /// The merchant API certificate, for `doctor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_cert: Option<String>,
}

/// The heading the shared settings appear under in every subcommand's `--help`, after the
/// subcommand's own flags.
const CREDENTIALS: &str = "Credentials (flags, WECHATPAY_* variables, or the profile)";

/// The global options.
#[derive(Debug, Args)]
pub(crate) struct Settings {
    /// A profile file (JSON) with any of the settings below
    #[arg(long, global = true, help_heading = CREDENTIALS, env = "WECHATPAY_PROFILE")]
    pub profile: Option<PathBuf>,
    /// Merchant id (商户号)
    #[arg(long, global = true, help_heading = CREDENTIALS, env = "WECHATPAY_MCHID")]
    pub mchid: Option<String>,
    /// Merchant API certificate serial
    #[arg(long, global = true, help_heading = CREDENTIALS, env = "WECHATPAY_SERIAL")]
    pub serial: Option<String>,
    /// Merchant private key: file:///path/apiclient_key.pem, PEM text, private.pkcs8://…
    #[arg(
        long,
        global = true,
        help_heading = CREDENTIALS,
        env = "WECHATPAY_PRIVATE_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub private_key: Option<String>,
    /// WeChat Pay key: SERIAL_OR_PUB_KEY_ID=file:///path.pem (repeatable; comma-separated in the env)
    #[arg(
        long = "cert",
        global = true,
        help_heading = CREDENTIALS,
        env = "WECHATPAY_CERTS",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub certs: Vec<String>,
    /// APIv3 key (32 bytes), for notifications and certificates
    #[arg(
        long,
        global = true,
        help_heading = CREDENTIALS,
        env = "WECHATPAY_APIV3_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub apiv3_key: Option<String>,
    /// APIv2 key (32 characters), for v2/… paths
    #[arg(
        long = "secret",
        global = true,
        help_heading = CREDENTIALS,
        env = "WECHATPAY_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub apiv2_key: Option<String>,
    /// Base URI (default https://api.mch.weixin.qq.com/)
    #[arg(long, global = true, help_heading = CREDENTIALS, env = "WECHATPAY_BASE_URI")]
    pub base_uri: Option<String>,
    /// Merchant API certificate (for `doctor`)
    #[arg(long, global = true, help_heading = CREDENTIALS, env = "WECHATPAY_MERCHANT_CERT")]
    pub merchant_cert: Option<String>,
}

fn missing(field: &str, flag: &str, env: &str) -> wechatpay::Error {
    ConfigError::new(
        field,
        format!("is required: give --{flag}, set {env}, or put it in the --profile file"),
    )
    .into()
}

/// Where the profile is read from when neither `--profile` nor `WECHATPAY_PROFILE` names one.
pub(crate) fn default_profile() -> Option<PathBuf> {
    Some(dirs::config_dir()?.join("wechatpay").join("profile.json"))
}

/// Reads a profile, warning when others may read it (it holds keys).
fn read_profile(path: &Path) -> Result<Profile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new("profile", format!("cannot read {}: {e}", path.display())))?;
    warn_if_shared(path);
    serde_json::from_str::<Profile>(&text)
        .map_err(|e| ConfigError::new("profile", format!("{} is not a valid profile: {e}", path.display())).into())
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            note!(
                "warning: {} holds secrets but others may read it (mode {mode:03o}); run: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path) {}

/// A value that is present and not blank.
fn given(value: Option<&String>) -> Option<&String> {
    value.filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// The profile file in use: the one named, or the default one if it exists.
    pub(crate) fn profile_path(&self) -> Option<PathBuf> {
        match self.profile.as_ref().filter(|p| !p.as_os_str().is_empty()) {
            Some(path) => Some(path.clone()),
            None => default_profile().filter(|p| p.is_file()),
        }
    }

    /// Flags and environment over the profile file.
    pub(crate) fn resolve(&self) -> Result<Profile> {
        let mut profile = match self.profile_path() {
            Some(path) => read_profile(&path)?,
            None => Profile::default(),
        };
        let over = |mine: &Option<String>, theirs: &mut Option<String>| {
            if let Some(value) = given(mine.as_ref()) {
                *theirs = Some(value.clone());
            }
        };
        over(&self.mchid, &mut profile.mchid);
        over(&self.serial, &mut profile.serial);
        over(&self.private_key, &mut profile.private_key);
        over(&self.apiv3_key, &mut profile.apiv3_key);
        over(&self.base_uri, &mut profile.base_uri);
        over(&self.apiv2_key, &mut profile.apiv2_key);
        over(&self.merchant_cert, &mut profile.merchant_cert);
        for cert in self.certs.iter().filter(|c| !c.trim().is_empty()) {
            let (serial, key) = cert.split_once('=').ok_or_else(|| {
                // Key text pasted here (perhaps the private key) is not repeated.
                let shown = if crate::output::is_key_material(cert) {
                    "key text".to_owned()
                } else {
                    format!("{cert:?}")
                };
                ConfigError::new("cert", format!("{shown} must be SERIAL_OR_PUB_KEY_ID=KEY"))
            })?;
            profile.certs.insert(serial.to_owned(), key.to_owned());
        }
        Ok(profile)
    }
}

impl Profile {
    pub(crate) fn private_key(&self) -> Result<PrivateKey> {
        Rsa::from_private(
            self.private_key
                .as_deref()
                .ok_or_else(|| missing("private_key", "private-key", "WECHATPAY_PRIVATE_KEY"))?,
        )
    }

    pub(crate) fn mchid(&self) -> Result<&str> {
        self.mchid
            .as_deref()
            .ok_or_else(|| missing("mchid", "mchid", "WECHATPAY_MCHID"))
    }

    pub(crate) fn apiv3_key(&self) -> Result<&str> {
        self.apiv3_key
            .as_deref()
            .ok_or_else(|| missing("apiv3_key", "apiv3-key", "WECHATPAY_APIV3_KEY"))
    }

    pub(crate) fn key_ring(&self) -> Result<KeyRing> {
        self.certs
            .iter()
            .map(|(serial, key)| Ok((serial.clone(), Rsa::from_public(key)?)))
            .collect()
    }

    /// A client builder with everything configured (certs may be empty for `certificates download`).
    pub(crate) fn builder(&self) -> Result<Builder> {
        let mut builder = Builder::new()
            .mchid(self.mchid()?)
            .serial(
                self.serial
                    .as_deref()
                    .ok_or_else(|| missing("serial", "serial", "WECHATPAY_SERIAL"))?,
            )
            .private_key(self.private_key()?)
            .certs(&self.key_ring()?);
        if let Some(base) = &self.base_uri {
            builder = builder.base_uri(base);
        }
        if let Some(secret) = &self.apiv2_key {
            builder = builder.secret(secret);
        }
        Ok(builder)
    }
}
