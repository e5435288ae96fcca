//! `wechatpay encrypt` and `wechatpay decrypt`: sensitive fields (RSA-OAEP).

use clap::Args;
use wechatpay::{ConfigError, Result, Rsa};

use crate::config::Settings;

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    /// The plaintext
    pub plaintext: String,
    /// Which configured key (serial or PUB_KEY_ID); needed when several are configured
    #[arg(long)]
    pub with: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// The base64 ciphertext
    pub ciphertext: String,
}

pub(crate) fn encrypt(settings: &Settings, args: EncryptArgs) -> Result<()> {
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
    note!("Wechatpay-Serial: {serial}");
    say!("{}", Rsa::encrypt(&args.plaintext, &key)?);
    Ok(())
}

pub(crate) fn decrypt(settings: &Settings, args: DecryptArgs) -> Result<()> {
    let key = settings.resolve()?.private_key()?;
    // What comes out was typed by someone: on a terminal, its control characters are escaped.
    say!("{}", crate::output::for_stdout(&Rsa::decrypt(&args.ciphertext, &key)?));
    Ok(())
}
