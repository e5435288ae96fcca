//! Refunds: apply, and query by out_refund_no.

use http::StatusCode;
use serde_json::{json, Value};

use super::{not_found, param_error, pointer_u64, require_str, Incoming};
use crate::emulator::reply::Reply;
use crate::emulator::state::{now_rfc3339, Order, Refund, State};

pub(super) fn refund(state: &State, request: &Incoming<'_>) -> Result<Reply, Reply> {
    let body = request.json()?;
    let out_refund_no = require_str(&body, "out_refund_no")?.to_owned();
    let refund = pointer_u64(&body, "/amount/refund").ok_or_else(|| param_error("amount.refund", "is required"))?;
    let total = pointer_u64(&body, "/amount/total").ok_or_else(|| param_error("amount.total", "is required"))?;
    let mut orders = state.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let by_transaction = body.get("transaction_id").and_then(Value::as_str);
    let by_out_trade_no = body.get("out_trade_no").and_then(Value::as_str);
    let (out_trade_no, order) = orders
        .iter_mut()
        .find(|(no, order)| {
            by_out_trade_no == Some(no.as_str())
                || (by_transaction.is_some() && order.transaction_id.as_deref() == by_transaction)
        })
        .ok_or_else(|| {
            if by_transaction.is_none() && by_out_trade_no.is_none() {
                param_error("out_trade_no", "or transaction_id is required")
            } else {
                not_found("订单")
            }
        })?;
    if order.trade_state != "SUCCESS" {
        return Err(Reply::error(
            StatusCode::FORBIDDEN,
            "TRADE_STATE_ERROR",
            "订单未支付，不能退款 (the order is not paid)",
        ));
    }
    if Some(total) != order.request["amount"]["total"].as_u64() {
        return Err(param_error("amount.total", "differs from the order's total"));
    }
    // Both amounts come from the client: an overflowing sum is a bad parameter, not a panic.
    let Some(refunded) = order.refunded.checked_add(refund) else {
        return Err(param_error(
            "amount.refund",
            "is too large (the refunds would overflow)",
        ));
    };
    if refund == 0 || refunded > total {
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "退款金额超过订单可退金额 (refund exceeds what is left)",
        ));
    }
    let mut refunds = state.refunds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if refunds.contains_key(&out_refund_no) {
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "商户退款单号重复 (out_refund_no already used)",
        ));
    }
    order.refunded = refunded;
    let record = Refund {
        refund_id: format!("50300{:024}", state.next()),
        out_trade_no: out_trade_no.clone(),
        request: Value::Object(body),
        created: now_rfc3339(),
    };
    let value = refund_json(&record, order, "PROCESSING");
    refunds.insert(out_refund_no, record);
    Ok(Reply::ok(&value))
}

pub(super) fn refund_json(refund: &Refund, order: &Order, status: &str) -> Value {
    json!({
        "refund_id": refund.refund_id,
        "out_refund_no": refund.request["out_refund_no"],
        "transaction_id": order.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": refund.created,
        "status": status,
        "amount": {
            "total": refund.request["amount"]["total"],
            "refund": refund.request["amount"]["refund"],
            "payer_total": refund.request["amount"]["total"],
            "payer_refund": refund.request["amount"]["refund"],
            "currency": "CNY",
        },
    })
}

pub(super) fn query_refund(state: &State, out_refund_no: &str) -> Result<Reply, Reply> {
    let refunds = state.refunds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let refund = refunds.get(out_refund_no).ok_or_else(|| {
        Reply::error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "退款单不存在 (no such refund)",
        )
    })?;
    let orders = state.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let order = orders.get(&refund.out_trade_no).ok_or_else(|| not_found("订单"))?;
    // Refunds settle at once in the emulator: the first query already sees SUCCESS.
    let mut value = refund_json(refund, order, "SUCCESS");
    value["success_time"] = json!(now_rfc3339());
    Ok(Reply::ok(&value))
}
