//! APIv2 as the emulator speaks it: XML in, `sign` checked with the APIv2 key, signed XML out.
//! `security` endpoints answer only connections that presented the merchant certificate (an
//! emulator started with TLS).

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::identity::Identity;
use super::reply::Reply;
use super::state::State;
use crate::crypto::SignType;
use crate::v2::{sign_params, verify_params, Transformer};

fn xml_reply(fields: &Value) -> Reply {
    let body = Transformer::to_xml(fields).unwrap_or_else(|_| "<xml></xml>".into());
    Reply {
        status: StatusCode::OK,
        body: bytes::Bytes::from(body),
        content_type: Some("text/xml; charset=utf-8"),
        // APIv2 answers carry `sign` in the XML, not Wechatpay-* headers.
        signed: false,
        rows: None,
        statement: false,
    }
}

fn fail(message: &str) -> Reply {
    xml_reply(&json!({"return_code": "FAIL", "return_msg": message}))
}

/// Signs `fields` the way the request was signed (its `sign_type`, MD5 by default).
fn signed(mut fields: Map<String, Value>, key: &str, sign_type: SignType, bad_sign: bool) -> Reply {
    if sign_type == SignType::HmacSha256 {
        fields.insert("sign_type".into(), Value::String("HMAC-SHA256".into()));
    }
    let mut sign = sign_params(&fields, key, sign_type);
    if bad_sign {
        sign = sign.chars().rev().collect();
    }
    fields.insert("sign".into(), Value::String(sign));
    xml_reply(&Value::Object(fields))
}

/// One APIv2 request as the emulator sees it.
pub(crate) struct V2Request<'a> {
    pub(crate) method: &'a str,
    /// The path without `v2/`.
    pub(crate) wire: &'a str,
    pub(crate) query: &'a str,
    pub(crate) body: &'a [u8],
    /// The `bad-signature` fault: answer with a wrong `sign`.
    pub(crate) bad_sign: bool,
    /// The connection presented the merchant certificate.
    pub(crate) client_certificate: bool,
}

/// The request's parameters once its `sign` verified with the APIv2 key; else the `FAIL`
/// answer. Nothing else about the request is looked at before this passes.
pub(crate) fn authenticate(identity: &Identity, request: &V2Request<'_>) -> Result<Map<String, Value>, Reply> {
    let V2Request {
        method, query, body, ..
    } = *request;
    let params = if method == "GET" {
        let pairs: Map<String, Value> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| {
                let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
                (decode(k), Value::String(decode(v)))
            })
            .collect();
        Value::Object(pairs)
    } else {
        match std::str::from_utf8(body)
            .map_err(|_| ())
            .and_then(|text| Transformer::to_array(text).map_err(|_| ()))
        {
            Ok(parsed) => parsed,
            Err(()) => return Err(fail("XML格式错误 (the body is not XML)")),
        }
    };
    let Value::Object(params) = params else {
        return Err(fail("XML格式错误"));
    };
    if !verify_params(&params, identity.apiv2_key.as_str()) {
        return Err(fail("签名错误 (the sign does not verify with the APIv2 key)"));
    }
    Ok(params)
}

/// Answers an authenticated APIv2 request (`params` from [`authenticate`]).
pub(crate) fn route(state: &State, identity: &Identity, request: &V2Request<'_>, params: &Map<String, Value>) -> Reply {
    let V2Request {
        method,
        wire,
        bad_sign,
        client_certificate,
        ..
    } = *request;
    // Checked after the sign, so a signed request over plain HTTP is recorded before it is refused.
    let security = crate::catalog::find(method, &format!("v2/{wire}")).is_some_and(|e| e.v2_security);
    if security && !client_certificate {
        return fail("证书错误: 此接口需要商户API证书 (this endpoint needs the merchant certificate: mutual TLS)");
    }
    let key = identity.apiv2_key.as_str();
    let field = |name: &str| params.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    if field("mch_id") != identity.mchid && wire != "papay/h5entrustweb" {
        return fail("mch_id 与签名商户不一致 (mch_id is not this merchant)");
    }
    let sign_type = params
        .get("sign")
        .and_then(Value::as_str)
        .map_or(SignType::Md5, SignType::of_signature);
    let base = |result: &str| {
        let mut fields = Map::new();
        for (k, v) in [
            ("return_code", "SUCCESS".to_owned()),
            ("return_msg", "OK".to_owned()),
            ("appid", field("appid")),
            ("mch_id", identity.mchid.clone()),
            ("nonce_str", crate::Formatter::nonce(16).unwrap_or_default()),
            ("result_code", result.to_owned()),
        ] {
            fields.insert(k.into(), Value::String(v));
        }
        fields
    };
    match (method, wire) {
        ("POST", "pay/micropay") => {
            let total: u64 = field("total_fee").parse().unwrap_or(0);
            if total == 0 || field("auth_code").is_empty() || field("out_trade_no").is_empty() {
                return fail("缺少参数 (auth_code, out_trade_no and total_fee are required)");
            }
            if total > 100_000 {
                let mut fields = base("FAIL");
                fields.insert("err_code".into(), "NOTENOUGH".into());
                fields.insert("err_code_des".into(), "余额不足".into());
                return signed(fields, key, sign_type, bad_sign);
            }
            let transaction_id = format!("4200{:024}", state.next());
            state
                .v2_orders
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(field("out_trade_no"), (transaction_id.clone(), total));
            let mut fields = base("SUCCESS");
            for (k, v) in [
                ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned()),
                ("trade_type", "MICROPAY".to_owned()),
                ("bank_type", "OTHERS".to_owned()),
                ("total_fee", total.to_string()),
                ("transaction_id", transaction_id),
                ("out_trade_no", field("out_trade_no")),
                ("time_end", "20261126100000".to_owned()),
            ] {
                fields.insert(k.into(), Value::String(v));
            }
            signed(fields, key, sign_type, bad_sign)
        }
        ("POST", "pay/orderquery") => {
            let orders = state
                .v2_orders
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match orders.get(&field("out_trade_no")) {
                None => {
                    let mut fields = base("FAIL");
                    fields.insert("err_code".into(), "ORDERNOTEXIST".into());
                    fields.insert("err_code_des".into(), "此交易订单号不存在".into());
                    signed(fields, key, sign_type, bad_sign)
                }
                Some((transaction_id, total)) => {
                    let mut fields = base("SUCCESS");
                    for (k, v) in [
                        ("trade_state", "SUCCESS".to_owned()),
                        ("out_trade_no", field("out_trade_no")),
                        ("transaction_id", transaction_id.clone()),
                        ("total_fee", total.to_string()),
                    ] {
                        fields.insert(k.into(), Value::String(v));
                    }
                    signed(fields, key, sign_type, bad_sign)
                }
            }
        }
        ("POST", "pay/downloadbill") => {
            if field("bill_date").len() != 8 {
                return fail("bill_date 格式错误 (YYYYMMDD)");
            }
            let orders = state
                .v2_orders
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut bill =
                String::from("交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易类型,交易状态,订单金额\\n");
            let mut rows: Vec<_> = orders.iter().collect();
            rows.sort();
            for (out_trade_no, (transaction_id, total)) in rows {
                bill.push_str(&format!(
                    "`2026-11-26 10:00:00,`{},`{},`{transaction_id},`{out_trade_no},`MICROPAY,`SUCCESS,`{}.{:02}\\n",
                    field("appid"),
                    identity.mchid,
                    total / 100,
                    total % 100
                ));
            }
            Reply {
                status: StatusCode::OK,
                body: bytes::Bytes::from(bill),
                content_type: Some("text/plain;charset=utf-8"),
                signed: false,
                rows: None,
                statement: false,
            }
        }
        ("POST", "secapi/pay/refund") => {
            let orders = state
                .v2_orders
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some((transaction_id, total)) = orders.get(&field("out_trade_no")).cloned() else {
                let mut fields = base("FAIL");
                fields.insert("err_code".into(), "ORDERNOTEXIST".into());
                fields.insert("err_code_des".into(), "订单不存在".into());
                return signed(fields, key, sign_type, bad_sign);
            };
            let refund: u64 = field("refund_fee").parse().unwrap_or(0);
            if refund == 0 || refund > total || field("out_refund_no").is_empty() {
                return fail("退款参数错误 (out_refund_no and a refund_fee up to total_fee are required)");
            }
            let mut fields = base("SUCCESS");
            for (k, v) in [
                ("transaction_id", transaction_id),
                ("out_trade_no", field("out_trade_no")),
                ("out_refund_no", field("out_refund_no")),
                ("refund_id", format!("5030{:024}", state.next())),
                ("refund_fee", refund.to_string()),
                ("total_fee", total.to_string()),
            ] {
                fields.insert(k.into(), Value::String(v));
            }
            signed(fields, key, sign_type, bad_sign)
        }
        ("GET", "papay/h5entrustweb") => {
            // A no-sign endpoint: the answer has no `sign`.
            xml_reply(&json!({"return_code": "SUCCESS", "result_code": "SUCCESS",
                              "redirect_url": "https://payapp.weixin.qq.com/papay/h5entrustweb?emulated=1"}))
        }
        _ => fail("模拟器未实现此接口 (this APIv2 endpoint is not emulated)"),
    }
}
