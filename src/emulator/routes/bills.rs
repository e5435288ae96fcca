//! Bills: the trade and fund-flow bill locations, and the unsigned download they point to.

use http::StatusCode;
use serde_json::json;

use super::{param_error, Incoming};
use crate::emulator::identity::Identity;
use crate::emulator::reply::Reply;
use crate::emulator::state::{BillFile, State};

/// The emulator-only query parameter of `v3/bill/tradebill` that asks for a synthetic bill of that
/// many rows (177 bytes each), generated while it streams.
pub(crate) const SYNTHETIC_ROWS: &str = "emulator_bill_rows";

/// The most synthetic rows one bill may have (about 17.7 GB): its SHA-1 is computed while the
/// request is answered, so `u64::MAX` rows would never answer.
pub(crate) const MAX_SYNTHETIC_ROWS: u64 = 100_000_000;

/// Which bill `bill` serves.
#[derive(Clone, Copy)]
pub(super) enum BillKind {
    /// `v3/bill/tradebill`: one row per paid order.
    Trade,
    /// `v3/bill/fundflowbill`: one income row per paid order, on the `account_type` account.
    FundFlow,
}

/// `GET v3/bill/tradebill` and `v3/bill/fundflowbill`: a bill of the paid orders, to download
/// from `download_url` (the download itself is unsigned, as WeChat Pay's is). `hash_value` is the
/// SHA-1 of the bill as text; with `tar_type=GZIP` the download is gzip-compressed.
pub(super) fn bill(state: &State, identity: &Identity, request: &Incoming<'_>, kind: BillKind) -> Result<Reply, Reply> {
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
    let orders = state.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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
            crate::emulator::state::synthetic_chunks(rows).for_each(|chunk| digest.update(&chunk));
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
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(token.clone(), file);
    Ok(Reply::ok(&json!({
        "hash_type": "SHA1",
        "hash_value": hash_value,
        "download_url": format!("http://{}/v3/billdownload/file?token={token}", request.host),
    })))
}

/// `GET v3/billdownload/file?token=…`: the file, unsigned.
pub(super) fn bill_file(state: &State, request: &Incoming<'_>) -> Result<Reply, Reply> {
    let token = request.query_param("token").unwrap_or_default();
    let bills = state.bills.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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
