//! Uploads (media, images, videos) and the image download.

use http::StatusCode;
use serde_json::{json, Value};

use super::{param_error, Incoming};
use crate::emulator::reply::Reply;
use crate::emulator::state::State;

/// Media uploads: `meta` must name the file and carry its SHA-256.
pub(super) fn upload(state: &State, request: &Incoming<'_>) -> Result<Reply, Reply> {
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
pub(super) fn image(request: &Incoming<'_>) -> Reply {
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
