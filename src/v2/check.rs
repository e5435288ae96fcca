//! Checking an APIv2 answer (in the `verifier` layer): `return_code`, `result_code`, then `sign`.

use serde_json::Value;

use super::verify_params;
use crate::catalog::{self, ResponseKind};
use crate::error::{ApiError, Result, VerifyCheck, VerifyError};
use crate::response::Response;

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `return_code`, `result_code`, then `sign` (unless the catalog says the answer has none);
/// bill downloads return their bytes, unless they are an XML error.
pub(crate) fn check(response: Response, entry: Option<&catalog::Entry>, secret: &str) -> Result<Response> {
    if !response.status().is_success() {
        return Err(ApiError::from_response(response).into());
    }
    let is_download = entry.is_some_and(|e| e.response == ResponseKind::Download);
    if is_download && !response.bytes().starts_with(b"<xml") {
        return Ok(response);
    }
    let parsed = response.xml()?;
    let field = |name: &str| parsed.get(name).map(text).unwrap_or_default();
    if field("return_code") != "SUCCESS" {
        let (code, message) = (field("return_code"), field("return_msg"));
        return Err(ApiError::v2(response, code, message, parsed).into());
    }
    if parsed.get("result_code").is_some_and(|v| text(v) != "SUCCESS") {
        let (code, message) = (field("err_code"), field("err_code_des"));
        return Err(ApiError::v2(response, code, message, parsed).into());
    }
    let unsigned = entry.is_some_and(|e| e.v2_nosign_response) || is_download;
    if !unsigned && !parsed.as_object().is_some_and(|map| verify_params(map, secret)) {
        return Err(VerifyError::new(VerifyCheck::V2Sign).with_response(response).into());
    }
    Ok(response)
}
