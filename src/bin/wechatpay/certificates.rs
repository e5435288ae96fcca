//! `wechatpay certificates download`: the platform certificates, from nothing but the merchant's
//! signing credentials and the APIv3 key (the bootstrap: no WeChat Pay key is needed yet).

use std::path::PathBuf;

use clap::Subcommand;
use wechatpay::{ConfigError, Result};

use crate::config::Settings;
use crate::files::{self, Access};

#[derive(Debug, Subcommand)]
pub(crate) enum CertificatesCommand {
    /// Download, decrypt and verify the platform certificates; write one PEM per serial
    Download {
        /// Output directory (created readable by you only)
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Whole days from now to `until` (negative once passed).
pub(crate) fn days_left(until: std::time::SystemTime) -> i64 {
    match until.duration_since(std::time::SystemTime::now()) {
        Ok(left) => i64::try_from(left.as_secs() / 86_400).unwrap_or(i64::MAX),
        Err(past) => -i64::try_from(past.duration().as_secs() / 86_400).unwrap_or(i64::MAX),
    }
}

pub(crate) fn run(settings: &Settings, command: CertificatesCommand, verbose: u8) -> Result<()> {
    let CertificatesCommand::Download { output } = command;
    let profile = settings.resolve()?;
    let apiv3_key = profile.apiv3_key()?.to_owned();
    // The library's own bootstrap: the answer is opened with the APIv3 key and checked with the
    // certificate it carries (as wechatpay-php's certificate downloader does).
    let builder = profile.builder()?.auto_certificates(apiv3_key.as_bytes());
    let client = crate::trace::traced(builder, verbose).build()?;
    let certificates = client
        .certificates()
        .ok_or_else(|| ConfigError::new("auto_certificates", "the client was built without them"))?;
    crate::output::status(&format!(
        "downloading the platform certificates from {}…",
        profile.base_uri.as_deref().unwrap_or("https://api.mch.weixin.qq.com/")
    ));
    let started = std::time::Instant::now();
    let refreshed = certificates.refresh();
    if verbose >= 1 {
        note!("download: {} ms", started.elapsed().as_millis());
    }
    if let Err(e) = refreshed {
        if e.api().is_some_and(|a| a.code() == "RESOURCE_NOT_EXISTS") {
            note!(
                "This merchant has no platform certificate: it uses the WeChat Pay public key. Download pub_key.pem \
                 and its PUB_KEY_ID in the merchant platform (账户中心 → API安全 → 微信支付公钥), then configure it with \
                 --cert PUB_KEY_ID_…=file:///path/pub_key.pem (or WECHATPAY_CERTS)."
            );
        }
        return Err(e);
    }
    files::create_private_dir(&output, "output")?;
    for certificate in certificates.downloaded() {
        let path = output.join(format!("wechatpay_{}.pem", certificate.serial));
        files::write(
            &path,
            certificate.certificate.to_pem().as_bytes(),
            Access::Private,
            "output",
        )?;
        say!(
            "{}  valid for {} more days  {}",
            certificate.serial,
            days_left(certificate.expires),
            path.display()
        );
    }
    Ok(())
}
