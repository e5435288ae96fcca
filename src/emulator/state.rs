//! What the emulator remembers between requests: orders and refunds.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

/// A created order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) trade_type: &'static str,
    pub(crate) request: Value,
    pub(crate) trade_state: &'static str,
    pub(crate) transaction_id: Option<String>,
    pub(crate) success_time: Option<String>,
    pub(crate) refunded: u64,
}

/// A refund.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) refund_id: String,
    pub(crate) out_trade_no: String,
    pub(crate) request: Value,
    pub(crate) created: String,
}

/// A bill to download: made from the orders, or synthetic rows generated while streaming (for
/// testing downloads of any size without holding them in memory).
#[derive(Debug, Clone)]
pub(crate) enum BillFile {
    Bytes(bytes::Bytes),
    Synthetic { rows: u64 },
}

/// The synthetic bill, 4096 rows per chunk.
pub(crate) fn synthetic_chunks(rows: u64) -> impl Iterator<Item = bytes::Bytes> + Send {
    let header = bytes::Bytes::from_static(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额\n"
            .as_bytes(),
    );
    let body = (0..rows.div_ceil(4096)).map(move |chunk| {
        let mut text = String::with_capacity(4096 * 160);
        for i in chunk * 4096..((chunk + 1) * 4096).min(rows) {
            text.push_str(&format!(
                "`2026-11-26 10:00:00,`wxd678efh567hg6787,`1900000109,`0,`,`4200{i:024},`EMU{i:013},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00\n"
            ));
        }
        bytes::Bytes::from(text)
    });
    let summary = bytes::Bytes::from(format!("总交易单数,应结订单总金额\n`{rows},`0.00\n"));
    std::iter::once(header).chain(body).chain(std::iter::once(summary))
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) orders: Mutex<HashMap<String, Order>>,
    pub(crate) refunds: Mutex<HashMap<String, Refund>>,
    /// Download token → the bill file as served.
    pub(crate) bills: Mutex<HashMap<String, BillFile>>,
    /// APIv2 orders: out_trade_no → (transaction_id, total_fee).
    pub(crate) v2_orders: Mutex<HashMap<String, (String, u64)>>,
    pub(crate) counter: Mutex<u64>,
}

impl State {
    /// A fresh number for ids.
    pub(crate) fn next(&self) -> u64 {
        let mut counter = self.counter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Ids only need to differ; wrapping after 2^64 requests cannot panic a handler.
        *counter = counter.wrapping_add(1);
        *counter
    }
}

/// Now, in RFC 3339 China time.
pub(crate) fn now_rfc3339() -> String {
    rfc3339(crate::formatter::Formatter::timestamp())
}

/// Unix seconds in RFC 3339 China time (`2026-11-27T10:00:00+08:00`), as WeChat Pay writes times.
pub(crate) fn rfc3339(unix: i64) -> String {
    let secs = unix + 8 * 3600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
