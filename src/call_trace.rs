//! Tracing: one span per call, named `wechatpay.call`, at `DEBUG` (or `INFO` with the `debug`
//! option), under the target `wechatpay`.
//!
//! Recorded: the method, the path template as written (`v3/pay/transactions/id/{transaction_id}`,
//! not the filled path, which may hold personal data; a download URL's query, which holds its
//! token, is cut off), the status, Request-ID, latency in milliseconds, the answer's size, and the
//! kind of error. Never recorded: headers (`Authorization`), keys, request or answer bodies.
//! Retries add `retrying` events (see the `retry` layer).

use std::time::Instant;

use http::Method;
use tracing::field::Empty;
use tracing::Span;

use crate::error::{Error, Result};
use crate::response::Response;

/// The span for one call.
pub(crate) fn span(method: &Method, template: &str, debug: bool) -> Span {
    let template = template.split('?').next().unwrap_or_default();
    if debug {
        tracing::info_span!(target: "wechatpay", "wechatpay.call", method = %method, template,
            status = Empty, request_id = Empty, latency_ms = Empty, bytes = Empty, error = Empty)
    } else {
        tracing::debug_span!(target: "wechatpay", "wechatpay.call", method = %method, template,
            status = Empty, request_id = Empty, latency_ms = Empty, bytes = Empty, error = Empty)
    }
}

/// Records how the call ended on its span, with one closing event.
pub(crate) fn finish(span: &Span, debug: bool, started: Instant, result: &Result<Response>) {
    if span.is_disabled() {
        return;
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    span.record("latency_ms", latency_ms);
    let (status, request_id) = match result {
        Ok(response) => {
            span.record("bytes", response.bytes().len());
            (Some(response.status()), response.request_id())
        }
        Err(error) => {
            span.record("error", kind(error));
            let api = error.api();
            (
                api.map(super::error::ApiError::status),
                api.and_then(|a| a.request_id()),
            )
        }
    };
    if let Some(status) = status {
        span.record("status", status.as_u16());
    }
    if let Some(request_id) = request_id {
        span.record("request_id", request_id);
    }
    let _entered = span.enter();
    if debug {
        tracing::info!(target: "wechatpay", latency_ms, "call finished");
    } else {
        tracing::debug!(target: "wechatpay", latency_ms, "call finished");
    }
}

/// The kind of an error, for traces: never its message, which may quote the server.
pub(crate) fn kind(error: &Error) -> String {
    match error {
        Error::Retried(retried) => kind(retried.last()),
        Error::Api(api) => format!("api {} {}", api.status().as_u16(), api.code()),
        Error::Transport(transport) => format!("transport {:?}", transport.kind()).to_lowercase(),
        Error::Timeout(_) => "timeout".into(),
        Error::RateLimited(_) => "rate limited".into(),
        Error::Verify(_) => "verify".into(),
        Error::Config(_) => "config".into(),
        Error::Key(_) => "key".into(),
        Error::Crypto(_) => "crypto".into(),
        Error::Decode(_) => "decode".into(),
        Error::Template(_) => "template".into(),
    }
}
