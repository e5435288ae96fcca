//! The seed call end to end, with no merchant account: start the local WeChat Pay emulator, build
//! a client for it, call `POST v3/brand/partner/card-member/user-points/sync` in each chain style
//! (`chain`, index, the typed accessor, and PHP-style `seg`), blocking and async, and print each
//! verified answer. Then an order: prepay, query,
//! close.
//!
//! `cargo run --example quickstart`
//!
//! Against the real API, only the client changes: build it with your mchid, merchant serial,
//! `apiclient_key.pem` and WeChat Pay public key (or platform certificate) instead of
//! `emulator.client_builder()`.

use serde_json::{json, Value};
use wechatpay::emulator::Emulator;

const SEED: &str = "v3/brand/partner/card-member/user-points/sync";

fn show(style: &str, response: &wechatpay::Response) -> wechatpay::Result<()> {
    println!(
        "{style:<44} {} Request-ID {} {}",
        response.status(),
        response.request_id().unwrap_or("-"),
        response.json::<Value>()?
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start()?;
    println!(
        "WeChat Pay emulator at {} (crypto backend: {})",
        emulator.base_uri(),
        wechatpay::crypto_backend()
    );
    let client = emulator.client_builder().build()?;

    let options = json!({ "json": {
        "out_request_no": "100002322019090134234sfdf", "brand_id": "1004",
        "card_id": "pbLatjvWOibDc5-TBnbUk1pD12o0", "openid": "obLatjnx9gnqzS4myYGmLZ7LgLBA",
        "user_card_code": "478515832665", "point_balance": 1000 } });

    println!("\nThe seed call, signed by the client, verified by the emulator, answer verified by the client:");
    show("client.chain(…).post", &client.chain(SEED).post(&options)?)?;
    show("client[…].post", &client[SEED].post(&options)?)?;
    let typed = client.v3().brand().partner().card_member().user_points().sync();
    show("client.v3()…card_member()…sync().post", &typed.post(&options)?)?;
    let segments = client
        .seg("v3")
        .seg("brand")
        .seg("partner")
        .seg("cardMember")
        .seg("userPoints")
        .seg("sync");
    show("client.seg(\"cardMember\")…post", &segments.post(&options)?)?;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        show(
            "client.chain(…).post_async",
            &client.chain(SEED).post_async(&options).await?,
        )?;
        show("client[…].post_async", &client[SEED].post_async(&options).await?)?;
        show("client.v3()…sync().post_async", &typed.post_async(&options).await?)?;
        show("client.seg(…)…post_async", &segments.post_async(&options).await?)?;
        Ok::<_, wechatpay::Error>(())
    })?;

    println!("\nAn order: prepay, query, close:");
    let mchid = emulator.identity().mchid.clone();
    let prepay = client.chain("v3/pay/transactions/native").post(json!({ "json": {
        "appid": "wxd678efh567hg6787", "mchid": mchid, "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": "1217752501201407033233368018", "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "amount": { "total": 1, "currency": "CNY" } } }))?;
    show("POST v3/pay/transactions/native", &prepay)?;
    let order = json!({ "out_trade_no": "1217752501201407033233368018", "query": { "mchid": mchid } });
    show(
        "GET  …/out-trade-no/{out_trade_no}",
        &client
            .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
            .get(&order)?,
    )?;
    let closed = client
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}/close")
        .post(json!({ "out_trade_no": "1217752501201407033233368018", "json": { "mchid": mchid } }))?;
    println!(
        "{:<44} {} (no body, signature verified)",
        "POST …/{out_trade_no}/close",
        closed.status()
    );
    Ok(())
}
