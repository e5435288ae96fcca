//! Answers WeChat Pay gave with an error status.

use crate::response::Response;

use super::Error;

/// A non-2xx answer from WeChat Pay: `{"code": …, "message": …, "detail": …}` plus the
/// `Request-ID` to quote to WeChat Pay support.
///
/// Its `Display` escapes control characters in the server's text (`\u{1b}`), so a hostile or
/// broken server cannot forge log lines or drive a terminal; the accessors return the raw values.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "WeChat Pay answered {status} {code}: {message} (Request-ID {request_id})",
    code = crate::redact::control_chars(&self.code),
    message = crate::redact::control_chars(&self.message),
    request_id = crate::redact::control_chars(self.request_id().unwrap_or("none"))
)]
pub struct ApiError {
    status: http::StatusCode,
    code: String,
    message: String,
    detail: Option<serde_json::Value>,
    response: Response,
}

impl ApiError {
    /// Reads the error body; a body that is not WeChat Pay's JSON shape keeps its text as message.
    pub(crate) fn from_response(response: Response) -> Self {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default)]
            detail: Option<serde_json::Value>,
        }
        let parsed = serde_json::from_slice::<Body>(response.bytes()).ok();
        let (code, message, detail) = match parsed {
            Some(b) => (b.code, b.message, b.detail),
            None => (
                String::new(),
                String::from_utf8_lossy(&response.bytes()[..response.bytes().len().min(512)]).into_owned(),
                None,
            ),
        };
        Self {
            status: response.status(),
            code,
            message,
            detail,
            response,
        }
    }

    /// An APIv2 failure: `return_code`/`return_msg`, or `err_code`/`err_code_des` when the
    /// business result failed; `detail` is the whole parsed answer.
    pub(crate) fn v2(response: Response, code: String, message: String, parsed: serde_json::Value) -> Self {
        Self {
            status: response.status(),
            code,
            message,
            detail: Some(parsed),
            response,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> http::StatusCode {
        self.status
    }

    /// WeChat Pay's error code, e.g. `PARAM_ERROR`, `SIGN_ERROR`, `FREQUENCY_LIMITED`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// WeChat Pay's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// WeChat Pay's `detail` object, when given.
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.detail.as_ref()
    }

    /// The `Request-ID` header.
    pub fn request_id(&self) -> Option<&str> {
        self.response.request_id()
    }

    /// The whole response.
    pub fn response(&self) -> &Response {
        &self.response
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}
