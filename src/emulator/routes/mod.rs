//! The endpoints the emulator implements with real behaviour, one file per area; any other
//! catalog endpoint gets a signed echo of what arrived, and paths outside the catalog a 404, as
//! from WeChat Pay.

mod bills;
mod certificates;
mod echo;
mod marketing;
mod media;
mod orders;
mod refunds;

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::identity::Identity;
use super::multipart::Part;
use super::platform::Served;
use super::reply::Reply;
use super::state::State;
use super::Mode;
use bills::{bill, bill_file, BillKind};
use certificates::certificates;
use echo::echo;
use marketing::user_points_sync;
use media::{image, upload};
pub(crate) use orders::transaction;
use orders::{close, prepay, query_order};
use refunds::{query_refund, refund};

/// One request, as routes see it.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) body: &'a [u8],
    /// The parts of a multipart body.
    pub(crate) form: Option<&'a [Part]>,
    /// The `Host` the request was sent to (for download URLs that point back here).
    pub(crate) host: &'a str,
    pub(crate) headers: &'a http::HeaderMap,
}

impl Incoming<'_> {
    fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    }

    fn json(&self) -> Result<Map<String, Value>, Reply> {
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Reply::error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "请求体不是 JSON 对象 (the body is not a JSON object)",
            )),
        }
    }
}

fn param_error(field: &str, issue: &str) -> Reply {
    Reply::error_with_detail(
        StatusCode::BAD_REQUEST,
        "PARAM_ERROR",
        format!("参数错误: {field} {issue}"),
        json!({"field": field, "location": "body", "issue": issue}),
    )
}

fn require_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, Reply> {
    match body.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(param_error(field, "must be a non-empty string")),
        None => Err(param_error(field, "is required")),
    }
}

fn pointer_u64(body: &Map<String, Value>, pointer: &str) -> Option<u64> {
    Value::Object(body.clone()).pointer(pointer).and_then(Value::as_u64)
}

fn not_found(what: &str) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        "ORDER_NOT_EXIST",
        format!("{what} 不存在 (not found)"),
    )
}

/// Dispatches one request.
pub(crate) fn route(
    state: &State,
    identity: &Identity,
    mode: Mode,
    platforms: &Served,
    request: &Incoming<'_>,
) -> Reply {
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    let result = match (request.method, segments.as_slice()) {
        ("GET", ["v3", "certificates"]) => Ok(certificates(identity, mode, platforms)),
        ("POST", ["v3", "brand", "partner", "card-member", "user-points", "sync"]) => user_points_sync(request),
        ("POST", ["v3", "pay", "transactions", kind @ ("native" | "jsapi" | "app" | "h5")]) => {
            prepay(state, identity, kind, request)
        }
        ("GET", ["v3", "pay", "transactions", "out-trade-no", out_trade_no]) => {
            query_order(state, identity, request, |no, _| no == *out_trade_no)
        }
        ("GET", ["v3", "pay", "transactions", "id", transaction_id]) => {
            query_order(state, identity, request, |_, order| {
                order.transaction_id.as_deref() == Some(*transaction_id)
            })
        }
        ("POST", ["v3", "pay", "transactions", "out-trade-no", out_trade_no, "close"]) => {
            close(state, identity, out_trade_no, request)
        }
        ("POST", ["v3", "refund", "domestic", "refunds"]) => refund(state, request),
        ("GET", ["v3", "refund", "domestic", "refunds", out_refund_no]) => query_refund(state, out_refund_no),
        ("GET", ["v3", "bill", "tradebill"]) => bill(state, identity, request, BillKind::Trade),
        ("GET", ["v3", "bill", "fundflowbill"]) => bill(state, identity, request, BillKind::FundFlow),
        ("GET", ["v3", "billdownload", "file"]) => bill_file(state, request),
        ("GET", ["v3", "merchant-service" | "global", ..])
            if request.path.contains("/images/") && request.path != "/v3/merchant-service/images/upload" =>
        {
            Ok(image(request))
        }
        (
            "POST",
            ["v3", "merchant", "media", "upload" | "video_upload"]
            | ["v3", "merchant-service", "images", "upload"]
            | ["v3", "marketing", "favor", "media", "image-upload"],
        ) => upload(state, request),
        _ => match crate::catalog::find(request.method, request.path) {
            Some(entry) => echo(identity, mode, platforms, entry, request),
            None => Err(Reply::error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!(
                    "{} {} 不是微信支付的接口 (not a WeChat Pay APIv3 endpoint)",
                    request.method, request.path
                ),
            )),
        },
    };
    result.unwrap_or_else(|reply| reply)
}
