//! The endpoints the emulator implements with real behaviour; any other catalog endpoint gets a
//! signed echo of what arrived, and paths outside the catalog a 404, as from WeChat Pay.

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::identity::Identity;
use super::multipart::Part;
use super::platform::{serial_of, Served};
use super::reply::Reply;
use super::state::{now_rfc3339, BillFile, Order, Refund, State};

/// The emulator-only query parameter of `v3/bill/tradebill` that asks for a synthetic bill of that
/// many rows (177 bytes each), generated while it streams.
pub(crate) const SYNTHETIC_ROWS: &str = "emulator_bill_rows";

/// The most synthetic rows one bill may have (about 17.7 GB): its SHA-1 is computed while the
/// request is answered, so `u64::MAX` rows would never answer.
pub(crate) const MAX_SYNTHETIC_ROWS: u64 = 100_000_000;
use super::Mode;
use crate::crypto::AesGcm;

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
        ("POST", ["v3", "merchant", "media", "upload" | "video_upload"])
        | ("POST", ["v3", "merchant-service", "images", "upload"])
        | ("POST", ["v3", "marketing", "favor", "media", "image-upload"]) => upload(state, request),
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

/// Collects the string values at a dotted path (arrays are transparent).
fn values_at<'v>(value: &'v Value, path: &[&str], out: &mut Vec<&'v str>) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|item| values_at(item, path, out)),
        (Value::String(s), None) => out.push(s),
        (Value::Object(map), Some((first, rest))) => {
            if let Some(next) = map.get(*first) {
                values_at(next, rest, out);
            }
        }
        _ => {}
    }
}

/// Decrypts the catalog's encrypted fields with the key `Wechatpay-Serial` names, as WeChat Pay
/// does; the echo shows the plaintexts so a test can check what was sent.
fn decrypt_fields(
    identity: &Identity,
    mode: Mode,
    platforms: &Served,
    entry: &crate::catalog::Entry,
    request: &Incoming<'_>,
) -> Result<Value, Reply> {
    let body: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
    let mut found = Vec::new();
    for field in entry.encrypted_fields.iter().filter(|f| !f.starts_with("meta.")) {
        let mut values = Vec::new();
        values_at(&body, &field.split('.').collect::<Vec<_>>(), &mut values);
        found.extend(values.into_iter().map(|v| (*field, v)));
    }
    if found.is_empty() {
        return Ok(Value::Null);
    }
    // The key `Wechatpay-Serial` names, of either kind (both are valid during a migration).
    let sent = request
        .headers
        .get("Wechatpay-Serial")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (key, expected) = if sent == identity.pub_key_id {
        (identity.wechatpay.private_key(), sent)
    } else if let Some(platform) = platforms.find(sent) {
        (platform.private_key(), sent)
    } else {
        let expected = match mode {
            Mode::PublicKey => identity.pub_key_id.as_str(),
            Mode::PlatformCertificate => serial_of(platforms.newest()),
        };
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            format!("Wechatpay-Serial `{sent}` 不是微信支付的密钥 (encrypt with {expected} and send its serial)"),
        ));
    };
    let mut decrypted = Map::new();
    for (field, ciphertext) in found {
        let plain = crate::crypto::Rsa::decrypt(ciphertext, key).map_err(|_| {
            Reply::error_with_detail(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                format!("{field} 解密失败 (does not decrypt with the key of {expected})"),
                json!({"field": field}),
            )
        })?;
        match decrypted.get_mut(field) {
            Some(Value::Array(list)) => list.push(Value::String(plain)),
            Some(single) => *single = json!([single.take(), plain]),
            None => {
                decrypted.insert(field.to_owned(), Value::String(plain));
            }
        }
    }
    Ok(Value::Object(decrypted))
}

fn echo(
    identity: &Identity,
    mode: Mode,
    platforms: &Served,
    entry: &crate::catalog::Entry,
    request: &Incoming<'_>,
) -> Result<Reply, Reply> {
    let decrypted = decrypt_fields(identity, mode, platforms, entry, request)?;
    let body = serde_json::from_slice::<Value>(request.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(request.body).into_owned()));
    let mut answer = json!({
        "emulator": "echo",
        "title": entry.title,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "body": body,
    });
    if !decrypted.is_null() {
        answer["decrypted"] = decrypted;
    }
    let mut reply = Reply::ok(&answer);
    match entry.response {
        crate::catalog::ResponseKind::StatementSha1 => reply.statement = true,
        crate::catalog::ResponseKind::Download => reply.signed = false,
        _ => {}
    }
    Ok(reply)
}

/// `GET v3/certificates`: every platform certificate served (during a rotation, the old and the
/// new), each encrypted under the APIv3 key like the real ones; merchants with only a WeChat Pay
/// public key get 404 `RESOURCE_NOT_EXISTS`, as for real.
fn certificates(identity: &Identity, mode: Mode, platforms: &Served) -> Reply {
    if mode != Mode::PlatformCertificate {
        return Reply::error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥 (no platform certificate: this merchant uses the WeChat Pay public key)",
        );
    }
    let rfc3339 = |t: std::time::SystemTime| {
        let secs = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        super::state::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX / 2))
    };
    let mut data = Vec::new();
    for cert in platforms.iter().filter_map(|m| m.certificate()) {
        let nonce = crate::formatter::Formatter::nonce(12).unwrap_or_else(|_| "0123456789ab".into());
        let ciphertext = match AesGcm::encrypt(cert.to_pem(), identity.apiv3_key.as_bytes(), &nonce, "certificate") {
            Ok(c) => c,
            Err(e) => return Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", e.to_string()),
        };
        data.push(json!({
            "serial_no": cert.serial_no(),
            "effective_time": rfc3339(cert.not_before()),
            "expire_time": rfc3339(cert.not_after()),
            "encrypt_certificate": {
                "algorithm": "AEAD_AES_256_GCM",
                "nonce": nonce,
                "associated_data": "certificate",
                "ciphertext": ciphertext,
            }
        }));
    }
    Reply::ok(&json!({ "data": data }))
}

/// The seed call: six fields, validated and echoed.
fn user_points_sync(request: &Incoming<'_>) -> Result<Reply, Reply> {
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

fn prepay(state: &State, identity: &Identity, kind: &str, request: &Incoming<'_>) -> Result<Reply, Reply> {
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
    let mut orders = state.orders.lock().unwrap_or_else(|e| e.into_inner());
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

fn query_order(
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
    let orders = state.orders.lock().unwrap_or_else(|e| e.into_inner());
    let (out_trade_no, order) = orders
        .iter()
        .find(|(no, order)| matches(no, order))
        .ok_or_else(|| not_found("订单"))?;
    Ok(Reply::ok(&transaction(identity, out_trade_no, order)))
}

fn close(state: &State, identity: &Identity, out_trade_no: &str, request: &Incoming<'_>) -> Result<Reply, Reply> {
    let body = request.json()?;
    if require_str(&body, "mchid")? != identity.mchid {
        return Err(Reply::error(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "mchid 不正确"));
    }
    let mut orders = state.orders.lock().unwrap_or_else(|e| e.into_inner());
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

fn refund(state: &State, request: &Incoming<'_>) -> Result<Reply, Reply> {
    let body = request.json()?;
    let out_refund_no = require_str(&body, "out_refund_no")?.to_owned();
    let refund = pointer_u64(&body, "/amount/refund").ok_or_else(|| param_error("amount.refund", "is required"))?;
    let total = pointer_u64(&body, "/amount/total").ok_or_else(|| param_error("amount.total", "is required"))?;
    let mut orders = state.orders.lock().unwrap_or_else(|e| e.into_inner());
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
    let mut refunds = state.refunds.lock().unwrap_or_else(|e| e.into_inner());
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

fn refund_json(refund: &Refund, order: &Order, status: &str) -> Value {
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

fn query_refund(state: &State, out_refund_no: &str) -> Result<Reply, Reply> {
    let refunds = state.refunds.lock().unwrap_or_else(|e| e.into_inner());
    let refund = refunds.get(out_refund_no).ok_or_else(|| {
        Reply::error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "退款单不存在 (no such refund)",
        )
    })?;
    let orders = state.orders.lock().unwrap_or_else(|e| e.into_inner());
    let order = orders.get(&refund.out_trade_no).ok_or_else(|| not_found("订单"))?;
    // Refunds settle at once in the emulator: the first query already sees SUCCESS.
    let mut value = refund_json(refund, order, "SUCCESS");
    value["success_time"] = json!(now_rfc3339());
    Ok(Reply::ok(&value))
}

/// `GET v3/bill/tradebill`: a bill of the paid orders, to download from `download_url` (the
/// download itself is unsigned, as WeChat Pay's is). `hash_value` is the SHA-1 of the bill as
/// text; with `tar_type=GZIP` the download is gzip-compressed.
/// Which bill `bill` serves.
#[derive(Clone, Copy)]
enum BillKind {
    /// `v3/bill/tradebill`: one row per paid order.
    Trade,
    /// `v3/bill/fundflowbill`: one income row per paid order, on the `account_type` account.
    FundFlow,
}

/// `GET v3/bill/tradebill` and `v3/bill/fundflowbill`: the bill of the paid orders, stored under a
/// token; the answer says where to download it and its SHA-1.
fn bill(state: &State, identity: &Identity, request: &Incoming<'_>, kind: BillKind) -> Result<Reply, Reply> {
    let date = request.query_param("bill_date").ok_or_else(|| {
        Reply::error_with_detail(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "缺少 bill_date (bill_date is required)",
            json!({"field": "bill_date", "location": "query"}),
        )
    })?;
    let well_formed = date.len() == 10
        && date
            .chars()
            .enumerate()
            .all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    if !well_formed {
        return Err(param_error("bill_date", "must be YYYY-MM-DD"));
    }
    let gzip = match request.query_param("tar_type").as_deref() {
        None => false,
        Some("GZIP") => true,
        Some(_) => return Err(param_error("tar_type", "must be GZIP when given")),
    };
    let account = match (kind, request.query_param("account_type").as_deref()) {
        (BillKind::FundFlow, None | Some("BASIC")) => "基本账户",
        (BillKind::FundFlow, Some("OPERATION")) => "运营账户",
        (BillKind::FundFlow, Some("FEES")) => "手续费账户",
        (BillKind::FundFlow, Some(_)) => return Err(param_error("account_type", "must be BASIC, OPERATION or FEES")),
        (BillKind::Trade, _) => "",
    };
    let mut bill = String::from(match kind {
        BillKind::Trade => "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额\n",
        BillKind::FundFlow => "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\n",
    });
    let orders = state.orders.lock().unwrap_or_else(|e| e.into_inner());
    let mut paid: Vec<_> = orders.iter().filter(|(_, o)| o.transaction_id.is_some()).collect();
    paid.sort_by(|a, b| a.0.cmp(b.0));
    let mut balance = 0;
    for (out_trade_no, order) in &paid {
        let total = order.request["amount"]["total"].as_u64().unwrap_or(0);
        let transaction_id = order.transaction_id.as_deref().unwrap_or_default();
        if let BillKind::FundFlow = kind {
            balance += total;
            bill.push_str(&format!(
                "`{date} 10:00:00,`{transaction_id},`{transaction_id}01,`交易,`交易,`收入,`{}.{:02},`{}.{:02},`system,`{account} {out_trade_no},`{out_trade_no}\n",
                total / 100,
                total % 100,
                balance / 100,
                balance % 100,
            ));
            continue;
        }
        bill.push_str(&format!(
            "`{date} 10:00:00,`{},`{},`0,`,`{},`{out_trade_no},`{},`{},`SUCCESS,`OTHERS,`CNY,`{}.{:02},`0.00\n",
            order.request["appid"].as_str().unwrap_or_default(),
            identity.mchid,
            transaction_id,
            order.request["payer"]["openid"]
                .as_str()
                .unwrap_or("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
            order.trade_type,
            total / 100,
            total % 100,
        ));
    }
    let count = paid.len();
    drop(paid);
    drop(orders);
    bill.push_str(&match kind {
        BillKind::Trade => format!("总交易单数,应结订单总金额\n`{count},`0.00\n"),
        BillKind::FundFlow => format!(
            "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n`{count},`{count},`{}.{:02},`0,`0.00\n",
            balance / 100,
            balance % 100
        ),
    });
    let hash_value = crate::crypto::hex::lower(&crate::crypto::backend::sha1(bill.as_bytes()));
    let file = if gzip {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(bill.as_bytes())
            .and_then(|()| encoder.finish())
            .map(bytes::Bytes::from)
            .map_err(|e| Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", e.to_string()))?
    } else {
        bytes::Bytes::from(bill)
    };
    let rows = match request.query_param(SYNTHETIC_ROWS) {
        None => None,
        Some(n) => match n.parse::<u64>() {
            Ok(rows) if rows <= MAX_SYNTHETIC_ROWS => Some(rows),
            _ => {
                let issue = format!("must be a number of rows from 0 to {MAX_SYNTHETIC_ROWS}");
                return Err(Reply::error_with_detail(
                    StatusCode::BAD_REQUEST,
                    "PARAM_ERROR",
                    format!("参数错误: {SYNTHETIC_ROWS} {issue}"),
                    json!({"field": SYNTHETIC_ROWS, "location": "query", "issue": issue}),
                ));
            }
        },
    };
    let (file, hash_value) = match rows {
        // A bill of any size, generated while streaming: its digest is computed the same way.
        Some(rows) if !gzip => {
            let mut digest = crate::crypto::backend::StreamingDigest::sha1();
            super::state::synthetic_chunks(rows).for_each(|chunk| digest.update(&chunk));
            (
                BillFile::Synthetic { rows },
                crate::crypto::hex::lower(&digest.finish()),
            )
        }
        Some(_) => return Err(param_error(SYNTHETIC_ROWS, "works only without tar_type")),
        None => (BillFile::Bytes(file), hash_value),
    };
    let token = format!(
        "{}{:08}",
        crate::formatter::Formatter::nonce(24).unwrap_or_default(),
        state.next()
    );
    state
        .bills
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(token.clone(), file);
    Ok(Reply::ok(&json!({
        "hash_type": "SHA1",
        "hash_value": hash_value,
        "download_url": format!("http://{}/v3/billdownload/file?token={token}", request.host),
    })))
}

/// `GET v3/billdownload/file?token=…`: the file, unsigned.
fn bill_file(state: &State, request: &Incoming<'_>) -> Result<Reply, Reply> {
    let token = request.query_param("token").unwrap_or_default();
    let bills = state.bills.lock().unwrap_or_else(|e| e.into_inner());
    let file = bills.get(&token).ok_or_else(|| {
        Reply::error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "下载链接无效或已过期 (unknown or expired token)",
        )
    })?;
    let (body, rows) = match file {
        BillFile::Bytes(bytes) => (bytes.clone(), None),
        BillFile::Synthetic { rows } => (bytes::Bytes::new(), Some(*rows)),
    };
    let gzip = body.starts_with(&[0x1f, 0x8b]);
    Ok(Reply {
        status: StatusCode::OK,
        body,
        content_type: Some(if gzip {
            "application/x-gzip"
        } else {
            "text/plain;charset=utf-8"
        }),
        signed: false,
        rows,
        statement: false,
    })
}

/// Media uploads: `meta` must name the file and carry its SHA-256.
fn upload(state: &State, request: &Incoming<'_>) -> Result<Reply, Reply> {
    let form = request.form.ok_or_else(|| {
        Reply::error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "需要 multipart/form-data (an upload must be multipart/form-data)",
        )
    })?;
    let meta = form
        .iter()
        .find(|p| p.name == "meta")
        .and_then(|p| serde_json::from_slice::<Value>(&p.body).ok())
        .ok_or_else(|| param_error("meta", "is required and must be JSON"))?;
    let file = form
        .iter()
        .find(|p| p.name == "file" && p.filename.is_some())
        .ok_or_else(|| param_error("file", "is required"))?;
    let declared = meta["sha256"]
        .as_str()
        .ok_or_else(|| param_error("meta.sha256", "is required"))?;
    if meta["filename"].as_str().is_none_or(str::is_empty) {
        return Err(param_error("meta.filename", "is required"));
    }
    if let Some(limit) = crate::media::size_limit(request.path.trim_start_matches('/')) {
        if file.body.len() > limit {
            return Err(Reply::error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                format!("文件大小超过 {} MiB 的限制 (the file is over the limit)", limit >> 20),
            ));
        }
    }
    let actual = crate::crypto::hex::lower(&crate::crypto::backend::sha256(&file.body));
    if !declared.eq_ignore_ascii_case(&actual) {
        return Err(Reply::error_with_detail(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "文件摘要不一致 (meta.sha256 does not match the file)",
            json!({"field": "meta.sha256", "expected": actual, "value": declared}),
        ));
    }
    let media_id = format!("EMU-{}-{}", &actual[..16], state.next());
    Ok(Reply::ok(&if request.path.contains("favor") {
        json!({"media_url": format!("https://wxpaylogo.qpic.cn/wxpaylogo/{media_id}")})
    } else {
        json!({"media_id": media_id})
    }))
}

/// A complaint image: a small PNG, unsigned, as WeChat Pay serves them.
fn image(request: &Incoming<'_>) -> Reply {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(request.path.as_bytes());
    Reply {
        status: StatusCode::OK,
        body: bytes::Bytes::from(png),
        content_type: Some("image/png"),
        signed: false,
        rows: None,
        statement: false,
    }
}
