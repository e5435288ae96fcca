//! `wechatpay emulator`: serve the local WeChat Pay and print how to reach it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use wechatpay::emulator::{Emulator, Mode};
use wechatpay::{ConfigError, Result};

use crate::config::Profile;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// Answers signed with the WeChat Pay public key (PUB_KEY_ID_…)
    PublicKey,
    /// Answers signed with a platform certificate; v3/certificates serves it
    PlatformCertificate,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Which WeChat Pay key signs answers
    #[arg(long, value_enum, default_value = "public-key")]
    pub mode: ModeArg,
    /// Where to write the keys and profile.json
    #[arg(long, default_value = "wechatpay-emulator")]
    pub dir: PathBuf,
    /// Stop after this many seconds (default: run until killed)
    #[arg(long)]
    pub seconds: Option<u64>,
}

/// Who may read a file the emulator writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Certificates and public keys.
    Public,
    /// The merchant private key and `profile.json` (which holds the APIv3 and APIv2 keys): the
    /// owner only (0600 on Unix), even when an earlier run left the file readable by others.
    Private,
}

fn write(path: &std::path::Path, contents: &str, access: Access) -> Result<String> {
    use std::io::Write;
    #[cfg(not(unix))]
    let _ = access;
    let failed = |e: std::io::Error| ConfigError::new("dir", format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(failed)?;
    // The mode above applies only to a new file; an existing one is tightened before any secret
    // is written to it.
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
    }
    file.write_all(contents.as_bytes()).map_err(failed)?;
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    Ok(format!("file://{}", absolute.display()))
}

/// Creates `dir` (and missing parents) readable by the owner only (0700 on Unix): it holds the
/// merchant private key. An existing directory is left as it is.
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| ConfigError::new("dir", format!("cannot create {}: {e}", dir.display())).into())
}

pub fn run(args: EmulatorArgs) -> Result<()> {
    let mode = match args.mode {
        ModeArg::PublicKey => Mode::PublicKey,
        ModeArg::PlatformCertificate => Mode::PlatformCertificate,
    };
    let emulator = Emulator::builder().mode(mode).port(args.port).start()?;
    let identity = emulator.identity();
    create_private_dir(&args.dir)?;
    let merchant_key = write(
        &args.dir.join("apiclient_key.pem"),
        identity.merchant.private_key_pem().unwrap_or_default(),
        Access::Private,
    )?;
    let merchant_cert = identity.merchant.certificate().map(|c| c.to_pem()).unwrap_or_default();
    let merchant_cert = write(&args.dir.join("apiclient_cert.pem"), &merchant_cert, Access::Public)?;
    let (serial, key_file) = match mode {
        Mode::PublicKey => (
            identity.pub_key_id.clone(),
            write(
                &args.dir.join("pub_key.pem"),
                &identity.wechatpay.public_key().to_pem(),
                Access::Public,
            )?,
        ),
        Mode::PlatformCertificate => (
            identity.platform_serial().to_owned(),
            write(
                &args.dir.join("wechatpay_cert.pem"),
                &identity.platform.certificate().map(|c| c.to_pem()).unwrap_or_default(),
                Access::Public,
            )?,
        ),
    };
    let profile = Profile {
        mchid: Some(identity.mchid.clone()),
        serial: Some(identity.merchant_serial().to_owned()),
        private_key: Some(merchant_key),
        certs: [(serial, key_file)].into_iter().collect(),
        apiv3_key: Some(identity.apiv3_key.to_string()),
        apiv2_key: Some(identity.apiv2_key.to_string()),
        base_uri: Some(emulator.base_uri()),
        merchant_cert: Some(merchant_cert),
    };
    let profile_path = args.dir.join("profile.json");
    let profile_uri = write(
        &profile_path,
        &serde_json::to_string_pretty(&profile).unwrap_or_default(),
        Access::Private,
    )?;
    say!("WeChat Pay emulator listening on {}", emulator.base_uri());
    say!("export WECHATPAY_PROFILE={}", profile_uri.trim_start_matches("file://"));
    say!("# then, for example: wechatpay post v3/brand/partner/card-member/user-points/sync -d out_request_no=1 -d brand_id=1004 -d card_id=c -d openid=o -d user_card_code=1 -d point_balance:=100");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match args.seconds {
        Some(seconds) => std::thread::sleep(std::time::Duration::from_secs(seconds)),
        None => loop {
            std::thread::park();
        },
    }
    Ok(())
}
