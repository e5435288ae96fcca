//! Orders: prepay (native, jsapi, app, h5), query by out_trade_no or transaction_id, close.

use http::StatusCode;
use serde_json::{json, Value};

use super::{not_found, param_error, pointer_u64, require_str, Incoming};
use crate::emulator::identity::Identity;
use crate::emulator::reply::Reply;
use crate::emulator::state::{Order, State};

pub(super) fn prepay(state: &State, identity: &Identity, kind: &str, request: &Incoming<'_>) -> Result<Reply, Reply> {
    let body = request.json()?;
    for field in ["appid", "mchid", "description", "out_trade_no", "notify_url"] {
        require_str(&body, field)?;
    }
    if body["mchid"] != identity.mchid.as_str() {
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "MCH_NOT_EXISTS",
            "mchid 与请求签名的商户号不一致 (mchid differs from the signing merchant)",
        ));
    }
    match pointer_u64(&body, "/amount/total") {
        Some(total) if total > 0 => {}
        _ => return Err(param_error("amount.total", "must be a positive integer (fen)")),
    }
    if kind == "jsapi"
        && Value::Object(body.clone())
            .pointer("/payer/openid")
            .and_then(Value::as_str)
            .is_none()
    {
        return Err(param_error("payer.openid", "is required for JSAPI"));
    }
    if kind == "h5" && body.get("scene_info").is_none() {
        return Err(param_error("scene_info", "is required for H5"));
    }
    let out_trade_no = body["out_trade_no"].as_str().unwrap_or_default().to_owned();
    let mut orders = state.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(existing) = orders.get(&out_trade_no) {
        if existing.request != Value::Object(body.clone()) {
            return Err(Reply::error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "商户订单号重复 (out_trade_no already used with other parameters)",
            ));
        }
    }
    let trade_type = match kind {
        "native" => "NATIVE",
        "jsapi" => "JSAPI",
        "app" => "APP",
        _ => "MWEB",
    };
    orders.entry(out_trade_no.clone()).or_insert(Order {
        trade_type,
        request: Value::Object(body),
        trade_state: "NOTPAY",
        transaction_id: None,
        success_time: None,
        refunded: 0,
    });
    let token = crate::crypto::hex::lower(&crate::crypto::backend::sha256(out_trade_no.as_bytes())[..12]);
    Ok(Reply::ok(&match kind {
        "native" => json!({"code_url": format!("weixin://wxpay/bizpayurl?pr={token}")}),
        "h5" => json!({"h5_url": format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx{token}")}),
        _ => json!({"prepay_id": format!("wx{token}")}),
    }))
}

/// The transaction object WeChat Pay returns for an order.
pub(crate) fn transaction(identity: &Identity, out_trade_no: &str, order: &Order) -> Value {
    let mut value = json!({
        "appid": order.request["appid"],
        "mchid": identity.mchid,
        "out_trade_no": out_trade_no,
        "trade_type": order.trade_type,
        "trade_state": order.trade_state,
        "trade_state_desc": match order.trade_state { "SUCCESS" => "支付成功", "CLOSED" => "已关闭", _ => "未支付" },
        "amount": {"total": order.request["amount"]["total"], "currency": "CNY"},
    });
    if let Some(id) = &order.transaction_id {
        value["transaction_id"] = json!(id);
        value["success_time"] = json!(order.success_time);
        value["bank_type"] = json!("OTHERS");
        value["payer"] =
            json!({"openid": order.request["payer"]["openid"].as_str().unwrap_or("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")});
        value["amount"]["payer_total"] = order.request["amount"]["total"].clone();
        value["amount"]["payer_currency"] = json!("CNY");
    }
    value
}

pub(super) fn query_order(
    state: &State,
    identity: &Identity,
    request: &Incoming<'_>,
    matches: impl Fn(&str, &Order) -> bool,
) -> Result<Reply, Reply> {
    match request.query_param("mchid") {
        Some(mchid) if mchid == identity.mchid => {}
        Some(_) => return Err(Reply::error(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "mchid 不正确")),
        None => {
            return Err(Reply::error_with_detail(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "参数错误: 缺少 mchid (the mchid query parameter is required)",
                json!({"field": "mchid", "location": "query"}),
            ))
        }
    }
    let orders = state.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (out_trade_no, order) = orders
        .iter()
        .find(|(no, order)| matches(no, order))
        .ok_or_else(|| not_found("订单"))?;
    Ok(Reply::ok(&transaction(identity, out_trade_no, order)))
}

pub(super) fn close(
    state: &State,
    identity: &Identity,
    out_trade_no: &str,
    request: &Incoming<'_>,
) -> Result<Reply, Reply> {
    let body = request.json()?;
    if require_str(&body, "mchid")? != identity.mchid {
        return Err(Reply::error(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "mchid 不正确"));
    }
    let mut orders = state.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let order = orders.get_mut(out_trade_no).ok_or_else(|| not_found("订单"))?;
    if order.trade_state == "SUCCESS" {
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "ORDERPAID",
            "订单已支付，不能关闭 (the order is paid)",
        ));
    }
    order.trade_state = "CLOSED";
    Ok(Reply::no_content())
}
