//! `wechatpay emulator`: serve the local WeChat Pay and print how to reach it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use wechatpay::emulator::{Emulator, Mode};
use wechatpay::Result;

use crate::config::Profile;
use crate::files::{self, Access};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ModeArg {
    /// Answers signed with the WeChat Pay public key (PUB_KEY_ID_…)
    PublicKey,
    /// Answers signed with a platform certificate; v3/certificates serves it
    PlatformCertificate,
}

#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
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

/// Writes a file of the emulator's directory and returns its `file://` URI.
fn write(path: &std::path::Path, contents: &str, access: Access) -> Result<String> {
    files::write(path, contents.as_bytes(), access, "dir")?;
    Ok(files::uri(path))
}

pub(crate) fn run(args: EmulatorArgs) -> Result<()> {
    let mode = match args.mode {
        ModeArg::PublicKey => Mode::PublicKey,
        ModeArg::PlatformCertificate => Mode::PlatformCertificate,
    };
    // Making RSA keys takes a moment: say so to a person waiting at a terminal.
    crate::output::status("generating the emulator's keys and certificates…");
    let emulator = Emulator::builder().mode(mode).port(args.port).start()?;
    let identity = emulator.identity();
    files::create_private_dir(&args.dir, "dir")?;
    let merchant_key = write(
        &args.dir.join("apiclient_key.pem"),
        identity.merchant.private_key_pem().unwrap_or_default(),
        Access::Private,
    )?;
    let merchant_cert = identity
        .merchant
        .certificate()
        .map(wechatpay::Certificate::to_pem)
        .unwrap_or_default();
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
                &identity
                    .platform
                    .certificate()
                    .map(wechatpay::Certificate::to_pem)
                    .unwrap_or_default(),
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
