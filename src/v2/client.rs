//! The APIv2 pipeline behind `v2/…` paths: parameters signed with the APIv2 key and sent as XML
//! (POST) or in the query (GET), answers checked for `return_code`, `result_code` and `sign`.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Uri};
use serde_json::{Map, Value};

use super::{sign_params, verify_params, Transformer};
use crate::catalog::{self, ResponseKind};
use crate::client::ClientInner;
use crate::crypto::SignType;
use crate::error::{ApiError, ConfigError, Error, Result, VerifyCheck, VerifyError};
use crate::options::Options;
use crate::response::Response;

/// Whether `template` is an APIv2 path (`v2/…`, any case).
pub(crate) fn is_v2(template: &str) -> bool {
    template
        .trim_start_matches('/')
        .split('/')
        .next()
        .is_some_and(|first| first.eq_ignore_ascii_case("v2"))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Refuses a value XML 1.0 cannot carry: it would be signed as given but written without the
/// character, and WeChat Pay would answer with a sign error.
fn refuse_unsendable(path: &str, value: &Value) -> Result<()> {
    match value {
        Value::String(s) => match super::xml::forbidden_char(s) {
            Some(c) => Err(ConfigError::new(
                path,
                format!("contains U+{:04X}, a character XML cannot carry", u32::from(c)),
            )
            .into()),
            None => Ok(()),
        },
        Value::Object(map) => map
            .iter()
            .try_for_each(|(key, value)| refuse_unsendable(&format!("{path}.{key}"), value)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, value)| refuse_unsendable(&format!("{path}[{i}]"), value)),
        _ => Ok(()),
    }
}

/// Prepares, signs, sends and checks one APIv2 call.
pub(crate) async fn send(
    inner: Arc<ClientInner>,
    method: Method,
    template: Arc<str>,
    options: Options,
) -> Result<Response> {
    options.validate()?;
    let secret = inner
        .apiv2_key
        .as_deref()
        .ok_or_else(|| ConfigError::new("secret", "APIv2 calls (v2/… paths) need the APIv2 key: Builder::secret"))?;
    let mchid = inner
        .mchid
        .as_deref()
        .ok_or_else(|| ConfigError::new("mchid", "APIv2 calls need the mchid"))?;
    let wire = template
        .trim_start_matches('/')
        .split_once('/')
        .map_or("", |(_, rest)| rest)
        .to_owned();
    let entry = catalog::find(method.as_str(), &format!("v2/{wire}"));

    let mut params = match (&method, options.xml, options.query_map) {
        (&Method::GET, None, Some(query)) => query,
        (_, Some(xml), _) => xml,
        (_, None, _) => Map::new(),
    };
    for key in ["mch_id", "mchid", "combine_mch_id"] {
        if let Some(given) = params.get(key).map(text) {
            if given != mchid {
                return Err(ConfigError::new(key, format!("{given} is not the configured mchid {mchid}")).into());
            }
        }
    }
    if method != Method::GET {
        params
            .iter()
            .try_for_each(|(key, value)| refuse_unsendable(&format!("xml.{key}"), value))?;
    }
    if !options.nonceless && !params.contains_key("nonce_str") {
        params.insert("nonce_str".into(), Value::String(crate::Formatter::nonce(32)?));
    }
    let sign_type = match params.get("sign_type") {
        Some(value) => text(value).parse::<SignType>()?,
        None => SignType::Md5,
    };
    params.remove("sign");
    let sign = sign_params(&params, secret, sign_type);
    params.insert("sign".into(), Value::String(sign));

    crate::option_keys::check(&wire, &options.variables)?;
    let path = crate::template::expand(&wire, &options.variables)?;
    let base = inner.routed_host(entry).map_or_else(|| inner.base_uri(), str::to_owned);
    let (url, body) = if method == Method::GET {
        let query = crate::query::build(&Value::Object(params))?;
        (format!("{base}{path}?{query}"), Bytes::new())
    } else {
        (
            format!("{base}{path}"),
            Bytes::from(Transformer::to_xml(&Value::Object(params))?),
        )
    };
    let uri: Uri = url
        .parse()
        .map_err(|e| ConfigError::new("path", format!("{url:?} is not a valid URI: {e}")))?;
    let mut request = http::Request::builder()
        .method(method.clone())
        .uri(uri)
        .body(body)
        .map_err(|e| ConfigError::new("request", e.to_string()))?;
    let headers = request.headers_mut();
    for (name, value) in inner.headers.iter() {
        headers.insert(name.clone(), value.clone());
    }
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/xml, text/plain, application/x-gzip"),
    );
    if method != Method::GET {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
    }
    for (name, value) in &options.headers {
        let (name, value) = crate::client::caller_header(name, value)?;
        headers.insert(name, value);
    }

    let security = options.security.unwrap_or_else(|| entry.is_some_and(|e| e.v2_security));
    let transport = if security {
        inner.tls_transport.as_ref().ok_or_else(|| {
            ConfigError::new(
                "merchant_tls",
                format!("{template} needs the merchant API certificate (mutual TLS): Builder::merchant_tls"),
            )
        })?
    } else {
        &inner.transport
    };
    let timeout = options.timeout.or(inner.timeout).filter(|t| !t.is_zero());
    let sending = transport.send(request);
    let response = match timeout {
        Some(limit) => tokio::time::timeout(limit, sending)
            .await
            .map_err(|_| Error::Timeout(limit))??,
        None => sending.await?,
    };
    check(response, entry, secret)
}

/// `return_code`, `result_code`, then `sign` (unless the catalog says the answer has none);
/// bill downloads return their bytes, unless they are an XML error.
fn check(response: Response, entry: Option<&catalog::Entry>, secret: &str) -> Result<Response> {
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
