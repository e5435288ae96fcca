//! The parameters the WeChat clients need to start a payment, signed with the merchant key.

use serde::Serialize;

use crate::crypto::{PrivateKey, Rsa};
use crate::error::Result;
use crate::formatter::Formatter;

/// For JSAPI (`WeixinJSBridge.invoke('getBrandWCPayRequest', …)`) and mini programs
/// (`wx.requestPayment`): serializes to `appId`, `timeStamp`, `nonceStr`, `package`, `signType`,
/// `paySign`, with `paySign` = RSA-SHA256 over `appId\ntimeStamp\nnonceStr\npackage\n`.
///
/// ```
/// # let key = wechatpay::Rsa::from_private("file://tests/fixtures/keys/merchant_pkcs8.pem")?;
/// let params = wechatpay::JsapiPayParams::new("wxd678efh567hg6787", "wx201410272009395522657a690389285100", &key)?;
/// let json = serde_json::to_value(&params).unwrap();
/// assert_eq!(json["package"], "prepay_id=wx201410272009395522657a690389285100");
/// assert_eq!(json["signType"], "RSA");
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiPayParams {
    /// The app id the order was made for.
    pub app_id: String,
    /// Unix seconds, as a string.
    pub time_stamp: String,
    /// 32 random alphanumerics.
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// Always `RSA`.
    pub sign_type: String,
    /// The signature.
    pub pay_sign: String,
}

impl JsapiPayParams {
    /// Signs for `prepay_id` now, with a fresh nonce.
    pub fn new(app_id: &str, prepay_id: &str, key: &PrivateKey) -> Result<Self> {
        Self::at(
            app_id,
            prepay_id,
            Formatter::timestamp(),
            &Formatter::nonce(Formatter::NONCE_SIZE)?,
            key,
        )
    }

    /// Signs with a given timestamp and nonce (for reproducible tests).
    pub fn at(app_id: &str, prepay_id: &str, timestamp: i64, nonce: &str, key: &PrivateKey) -> Result<Self> {
        let package = format!("prepay_id={prepay_id}");
        let time_stamp = timestamp.to_string();
        let pay_sign = Rsa::sign(
            Formatter::joined_by_line_feed([app_id, &time_stamp, nonce, &package]),
            key,
        )?;
        Ok(Self {
            app_id: app_id.to_owned(),
            time_stamp,
            nonce_str: nonce.to_owned(),
            package,
            sign_type: "RSA".to_owned(),
            pay_sign,
        })
    }
}

/// For APP payments (the OpenSDK's `PayReq`): serializes to lowercase `appid`, `partnerid`,
/// `prepayid`, `package` (`Sign=WXPay`), `noncestr`, `timestamp`, `sign`, with `sign` = RSA-SHA256
/// over `appid\ntimestamp\nnoncestr\nprepayid\n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppPayParams {
    /// The app id.
    pub appid: String,
    /// The merchant id.
    pub partnerid: String,
    /// The prepay id.
    pub prepayid: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// 32 random alphanumerics.
    pub noncestr: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// The signature.
    pub sign: String,
}

impl AppPayParams {
    /// Signs for `prepay_id` now, with a fresh nonce.
    pub fn new(appid: &str, mchid: &str, prepay_id: &str, key: &PrivateKey) -> Result<Self> {
        Self::at(
            appid,
            mchid,
            prepay_id,
            Formatter::timestamp(),
            &Formatter::nonce(Formatter::NONCE_SIZE)?,
            key,
        )
    }

    /// Signs with a given timestamp and nonce (for reproducible tests).
    pub fn at(
        appid: &str,
        mchid: &str,
        prepay_id: &str,
        timestamp: i64,
        nonce: &str,
        key: &PrivateKey,
    ) -> Result<Self> {
        let timestamp = timestamp.to_string();
        let sign = Rsa::sign(
            Formatter::joined_by_line_feed([appid, &timestamp, nonce, prepay_id]),
            key,
        )?;
        Ok(Self {
            appid: appid.to_owned(),
            partnerid: mchid.to_owned(),
            prepayid: prepay_id.to_owned(),
            package: "Sign=WXPay".to_owned(),
            noncestr: nonce.to_owned(),
            timestamp,
            sign,
        })
    }
}
