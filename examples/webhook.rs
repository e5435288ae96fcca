//! A webhook for WeChat Pay callback notifications on hyper: take the raw body, verify and
//! decrypt, answer 204 or `{"code":"FAIL",…}`. The emulator plays WeChat Pay and POSTs a
//! `TRANSACTION.SUCCESS` to it, then a forged one.
//!
//! `cargo run --example webhook`

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use wechatpay::emulator::Emulator;
use wechatpay::{NotificationVerifier, WebhookReply};

/// The handler: everything a production webhook needs, framework aside.
async fn notify(
    verifier: Arc<NotificationVerifier>,
    request: http::Request<hyper::body::Incoming>,
) -> http::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    // The raw bytes: the signature covers them exactly, never re-serialize.
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let outcome = verifier.verify(&parts.headers, &body);
    match &outcome {
        Ok(n) => println!(
            "webhook: {} {} for {}",
            n.event_type, n.resource["trade_state"], n.resource["out_trade_no"]
        ),
        Err(e) => println!("webhook: refused ({e})"),
    }
    let reply = WebhookReply::for_outcome(&outcome);
    let mut response = http::Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = reply.status;
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start()?;
    let verifier = Arc::new(emulator.notification_verifier()?);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/wechatpay/notify", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let verifier = Arc::clone(&verifier);
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let verifier = Arc::clone(&verifier);
                    async move { Ok::<_, Infallible>(notify(verifier, request).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    // WeChat Pay's side: an order is paid and the notification is POSTed.
    let client = emulator.client_builder().build()?;
    let mchid = emulator.identity().mchid.clone();
    client
        .chain("v3/pay/transactions/jsapi")
        .post_async(json!({"json": {
            "appid": "wxd678efh567hg6787", "mchid": mchid, "description": "Image形象店", "out_trade_no": "T-webhook",
            "notify_url": url, "amount": {"total": 1}, "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}}))
        .await?;
    let notification = emulator.transaction_notification("T-webhook")?;
    println!("emulator: POST {url} → {}", notification.post_async(&url).await?);
    let mut forged = notification.clone();
    forged.body =
        Bytes::from(String::from_utf8_lossy(&forged.body).replace("TRANSACTION.SUCCESS", "TRANSACTION.REFUND"));
    println!("emulator: POST {url} (forged) → {}", forged.post_async(&url).await?);
    Ok(())
}
