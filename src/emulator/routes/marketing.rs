//! The member-card seed call (`v3/brand/partner/card-member/user-points/sync`).

use serde_json::Value;

use super::{param_error, require_str, Incoming};
use crate::emulator::reply::Reply;

/// The seed call: six fields, validated and echoed.
pub(super) fn user_points_sync(request: &Incoming<'_>) -> Result<Reply, Reply> {
    let body = request.json()?;
    for field in ["out_request_no", "brand_id", "card_id", "openid", "user_card_code"] {
        require_str(&body, field)?;
    }
    match body.get("point_balance") {
        Some(Value::Number(n)) if n.is_u64() => {}
        Some(_) => return Err(param_error("point_balance", "must be a non-negative integer")),
        None => return Err(param_error("point_balance", "is required")),
    }
    Ok(Reply::ok(&Value::Object(body)))
}
