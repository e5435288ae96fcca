//! `wechatpay sign`: pay-sign parameters for the WeChat clients.

use clap::{Args, ValueEnum};
use wechatpay::{AppPayParams, JsapiPayParams, Result};

use crate::config::Settings;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PayKind {
    /// WeixinJSBridge getBrandWCPayRequest
    Jsapi,
    /// wx.requestPayment
    Miniprogram,
    /// The APP OpenSDK PayReq
    App,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// Which client
    pub kind: PayKind,
    /// The app id
    #[arg(long)]
    pub appid: String,
    /// The prepay_id from the prepay call
    #[arg(long)]
    pub prepay_id: String,
}

pub(crate) fn run(settings: &Settings, args: SignArgs) -> Result<()> {
    let profile = settings.resolve()?;
    let key = profile.private_key()?;
    match args.kind {
        PayKind::Jsapi | PayKind::Miniprogram => {
            crate::output::json(&JsapiPayParams::new(&args.appid, &args.prepay_id, &key)?);
        }
        PayKind::App => crate::output::json(&AppPayParams::new(
            &args.appid,
            profile.mchid()?,
            &args.prepay_id,
            &key,
        )?),
    }
    Ok(())
}
