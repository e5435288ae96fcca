//! The foundation end to end, offline, with the test keys in `tests/fixtures`:
//! sign the seed APIv3 request as WeChat Pay expects, check it the way WeChat Pay does, encrypt a
//! sensitive field, and verify + decrypt a callback notification from its raw body.
//!
//! `cargo run --example quickstart`

use serde_json::json;
use wechatpay::{Formatter, KeyRing, NotificationVerifier, PemUtil, Rsa};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let merchant_key = Rsa::from_private(format!("file://{FIXTURES}/keys/merchant_pkcs8.pem"))?;
    let merchant_cert = PemUtil::load_certificate(format!("{FIXTURES}/keys/merchant_cert.pem"))?;
    let platform_cert = PemUtil::load_certificate(format!("{FIXTURES}/keys/platform_cert.pem"))?;
    println!("crypto backend     : {}", wechatpay::crypto_backend());
    println!("merchant serial    : {}", merchant_cert.serial_no());
    println!("key matches cert   : {}", merchant_cert.matches(&merchant_key));

    // 1. The seed call's Authorization header.
    let body = json!({
        "out_request_no": "100002322019090134234sfdf", "brand_id": "1004",
        "card_id": "pbLatjvWOibDc5-TBnbUk1pD12o0", "openid": "obLatjnx9gnqzS4myYGmLZ7LgLBA",
        "user_card_code": "478515832665", "point_balance": 1000
    })
    .to_string();
    let (nonce, timestamp) = (Formatter::nonce(32)?, Formatter::timestamp());
    let target = "/v3/brand/partner/card-member/user-points/sync";
    let message = Formatter::request("POST", target, timestamp, &nonce, &body);
    let signature = Rsa::sign(&message, &merchant_key)?;
    let authorization =
        Formatter::authorization("1900000109", &nonce, &signature, timestamp, merchant_cert.serial_no());
    println!("\nPOST {target}\nAuthorization: {authorization}\n{body}");

    // 2. What WeChat Pay does on receipt: rebuild the message, verify with the merchant certificate.
    let verified = Rsa::verify(&message, &signature, merchant_cert.public_key())?;
    println!("signature verifies with the merchant certificate: {verified}");

    // 3. A sensitive field, encrypted for WeChat Pay (send `Wechatpay-Serial` with it).
    let contact = Rsa::encrypt("张三", platform_cert.public_key())?;
    println!(
        "\nWechatpay-Serial: {}\ncontact_name    : {}…",
        platform_cert.serial_no(),
        &contact[..32]
    );

    // 4. A callback notification, verified over its raw body and decrypted with the APIv3 key.
    let headers: Vec<(String, String)> = serde_json::from_str(&std::fs::read_to_string(format!(
        "{FIXTURES}/notifications/transaction.headers.json"
    ))?)?;
    let raw_body = std::fs::read(format!("{FIXTURES}/notifications/transaction.body.json"))?;
    let sent_at: i64 = headers[0].1.parse()?; // the fixture was signed long ago: pin the clock to it
    let keys = KeyRing::new().with(
        "PUB_KEY_ID_0114232134912410000000000000",
        Rsa::from_public(format!("file://{FIXTURES}/keys/pubkey.pem"))?,
    );
    let apiv3_key = std::fs::read_to_string(format!("{FIXTURES}/notifications/apiv3_key.txt"))?;
    let verifier = NotificationVerifier::new(apiv3_key, keys)?.with_clock(move || sent_at);
    let notification = verifier.verify(&headers, &raw_body)?;
    println!(
        "\nnotification {} ({}) verified with {}:\n{}",
        notification.id,
        notification.event_type,
        notification.serial,
        serde_json::to_string_pretty(&notification.resource)?
    );
    Ok(())
}
