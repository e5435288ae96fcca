//! One request to the emulator: authenticate, read, record, apply faults, route, sign.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use super::{
    apiv2, auth, conn, fault, multipart, reply, routes, Fault, Received, Shared, FAULT_HEADER, FAULT_QUERY,
    MAX_REQUEST, RECORDED_BODY,
};
use crate::formatter::Formatter;

/// One request: check the `Authorization` header, read the body, verify the signature, and only
/// then record it, apply faults, route, and sign the answer. Nothing a client sends is kept or
/// acted on before its signature verifies.
pub(super) async fn handle(
    shared: &Shared,
    request: http::Request<hyper::body::Incoming>,
    client_certificate: bool,
    activity: &Arc<conn::Activity>,
) -> http::Response<reply::Body> {
    activity.started();
    let (parts, body) = request.into_parts();
    let request_id = format!("EMU{}", Formatter::nonce(29).unwrap_or_default());
    // Refusals are answered at once, without faults: those are for authenticated requests.
    let signing = shared.signing();
    let refuse = |reply: reply::Reply| reply::render(&signing, reply, &[], &request_id);
    let method = parts.method.as_str();
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    // APIv2: the wire path has no `v2/`; its catalog entry does.
    let wire = parts.uri.path().trim_start_matches('/');
    let v2 = !wire.starts_with("v3/") && crate::catalog::find(method, &format!("v2/{wire}")).is_some();
    if !v2 {
        // Without a usable `Authorization` the body cannot matter: answer at once and discard it
        // as it arrives rather than buffer it.
        if let Err(rejection) = auth::precheck_merchant(&shared.identity, method, target, &parts.headers) {
            tokio::spawn(drain(body));
            return refuse(rejection);
        }
    }
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(reply) => return refuse(reply),
    };
    let _busy = activity.busy();
    if v2 {
        let mut request = apiv2::V2Request {
            method,
            wire,
            query: parts.uri.query().unwrap_or(""),
            body: &body,
            bad_sign: false,
            client_certificate,
        };
        let params = match apiv2::authenticate(&shared.identity, &request) {
            Ok(params) => params,
            Err(reply) => return refuse(reply),
        };
        record(shared, &parts, &body);
        let faults = match request_faults(shared, &parts).await {
            Ok(faults) => faults,
            Err(reply) => return refuse(reply),
        };
        request.bad_sign = faults.contains(&Fault::BadSignature);
        let reply = apiv2::route(&shared.state, &shared.identity, &request, &params);
        return reply::render(&signing, reply, &faults, &request_id);
    }
    // Uploads are signed over their `meta` part, not the whole body, so the body is split first
    // (in linear time, with a bounded boundary).
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = match multipart::boundary(content_type) {
        multipart::Boundary::None => None,
        multipart::Boundary::Invalid => {
            let max = multipart::MAX_BOUNDARY;
            let message =
                format!("multipart boundary 须为 1 到 {max} 个字符 (must be 1 to {max} characters, RFC 2046)");
            return refuse(reply::Reply::error(
                http::StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                message,
            ));
        }
        multipart::Boundary::Some(boundary) => match multipart::parse(&body, boundary) {
            Some(form) => Some(form),
            None => {
                return refuse(reply::Reply::error(
                    http::StatusCode::BAD_REQUEST,
                    "PARAM_ERROR",
                    format!(
                        "multipart 格式错误 (malformed multipart body, or more than {} parts)",
                        multipart::MAX_PARTS
                    ),
                ))
            }
        },
    };
    let signed_body = match &form {
        Some(form) => form
            .iter()
            .find(|p| p.name == "meta")
            .map(|p| p.body.clone())
            .unwrap_or_default(),
        None => body.clone(),
    };
    if let Err(rejection) = auth::check(
        &shared.identity,
        method,
        target,
        &parts.headers,
        &signed_body,
        Formatter::timestamp(),
    ) {
        return refuse(rejection);
    }
    record(shared, &parts, &body);
    if over_rate_limit(shared, method, wire, parts.uri.query(), &body) {
        return refuse(reply::Reply::error(
            http::StatusCode::TOO_MANY_REQUESTS,
            "FREQUENCY_LIMITED",
            "频率超限 (over the documented rate limit)",
        ));
    }
    let faults = match request_faults(shared, &parts).await {
        Ok(faults) => faults,
        Err(reply) => return refuse(reply),
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let reply = routes::route(
        &shared.state,
        &shared.identity,
        shared.mode,
        &shared.platforms.served(),
        &routes::Incoming {
            method,
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            body: &body,
            form: form.as_deref(),
            host,
            headers: &parts.headers,
        },
    );
    reply::render(&signing, reply, &faults, &request_id)
}

/// The whole body, up to [`MAX_REQUEST`] bytes.
async fn read_body(body: hyper::body::Incoming) -> Result<Bytes, reply::Reply> {
    match Limited::new(body, MAX_REQUEST).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(reply::Reply::error(
            http::StatusCode::PAYLOAD_TOO_LARGE,
            "PARAM_ERROR",
            format!("请求体过大 (the body is over {} MiB)", MAX_REQUEST >> 20),
        )),
        Err(e) => Err(reply::Reply::error(
            http::StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            format!("请求体读取失败 (the body could not be read: {e})"),
        )),
    }
}

/// Reads and discards up to [`MAX_REQUEST`] bytes of a refused request's body while the answer
/// goes out, so a client still sending gets its 401 rather than a reset connection, and the
/// emulator holds none of the bytes.
async fn drain(mut body: hyper::body::Incoming) {
    let mut seen = 0usize;
    while seen <= MAX_REQUEST {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, Bytes::len),
            _ => return,
        }
    }
}

/// Records an authenticated request, bounded as [`Received`] describes. Headers and body are
/// copied: the originals may share hyper's read buffer, which would keep far more alive.
fn record(shared: &Shared, parts: &http::request::Parts, body: &Bytes) {
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let mut copy = http::HeaderValue::from_bytes(value.as_bytes()).ok()?;
            copy.set_sensitive(value.is_sensitive());
            Some((http::HeaderName::from_bytes(name.as_str().as_bytes()).ok()?, copy))
        })
        .collect();
    let entry = Received {
        method: parts.method.clone(),
        target: parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string),
        headers,
        body: Bytes::copy_from_slice(body.get(..RECORDED_BODY).unwrap_or(body)),
        body_len: body.len(),
        at: std::time::Instant::now(),
    };
    shared
        .received
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(entry);
}

/// The faults for an authenticated request: the emulator-wide ones and those it asks for (at most
/// [`MAX_FAULT_DELAY`] of delay in all), after sleeping through the delays.
async fn request_faults(shared: &Shared, parts: &http::request::Parts) -> Result<Vec<Fault>, reply::Reply> {
    let from_query = parts.uri.query().unwrap_or("").split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == FAULT_QUERY).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    });
    let from_header = parts
        .headers
        .get(FAULT_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut asked = Vec::new();
    for list in [from_header, from_query].into_iter().flatten() {
        match fault::parse_list(&list) {
            Ok(more) => asked.extend(more),
            Err(e) => {
                return Err(reply::Reply::error(
                    http::StatusCode::BAD_REQUEST,
                    "PARAM_ERROR",
                    e.to_string(),
                ))
            }
        }
    }
    if let Err(e) = fault::check_total_delay(&asked) {
        return Err(reply::Reply::error(
            http::StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            e.to_string(),
        ));
    }
    let mut faults = shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    faults.extend(asked);
    for fault in &faults {
        if let Fault::Delay(delay) = fault {
            tokio::time::sleep(*delay).await;
        }
    }
    Ok(faults)
}

/// Whether this call exceeds its endpoint's documented limit (bursts up to the limit's count are
/// let through, so a client spacing its calls evenly never trips it).
fn over_rate_limit(shared: &Shared, method: &str, wire: &str, query: Option<&str>, body: &[u8]) -> bool {
    let (Some(store), Some(entry)) = (&shared.rate_limits, crate::catalog::find(method, wire)) else {
        return false;
    };
    let Some(rate) = crate::Rate::parse(entry.rate_limit) else {
        return false;
    };
    let merchant =
        crate::rate_limits::target_merchant(entry, query, body).unwrap_or_else(|| shared.identity.mchid.clone());
    let key = format!("{method} {}:{merchant}", entry.path);
    store
        .reserve_at(
            &key,
            rate,
            rate.count,
            std::time::Duration::ZERO,
            std::time::Instant::now(),
        )
        .is_none()
}
