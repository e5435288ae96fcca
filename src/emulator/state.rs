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

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) orders: Mutex<HashMap<String, Order>>,
    pub(crate) refunds: Mutex<HashMap<String, Refund>>,
    /// Download token → the bill file as served.
    pub(crate) bills: Mutex<HashMap<String, bytes::Bytes>>,
    pub(crate) counter: Mutex<u64>,
}

impl State {
    /// A fresh number for ids.
    pub(crate) fn next(&self) -> u64 {
        let mut counter = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        *counter += 1;
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
