//! Options → the APIv2 request behind a `v2/…` path: the parameters get `nonce_str` and the
//! APIv2 `sign` and go out as XML (POST) or in the query (GET). The answer is checked by the
//! `verifier` layer (`v2::check`).

use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Uri};
use serde_json::{Map, Value};

use super::{sign_params, Transformer};
use crate::catalog;
use crate::crypto::SignType;
use crate::error::{ConfigError, Result};
use crate::options::Options;
use crate::pipeline::Pipeline;
use crate::request::{Call, Endpoint, Request, V2Call};

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

/// The signed APIv2 request for `method` `template` with `options`.
pub(crate) fn prepare(pipeline: &Pipeline, method: Method, template: &str, options: Options) -> Result<Request> {
    let key = pipeline
        .apiv2_key
        .as_ref()
        .ok_or_else(|| ConfigError::new("secret", "APIv2 calls (v2/… paths) need the APIv2 key: Builder::secret"))?;
    let secret: &str = key;
    let mchid = pipeline
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
    let base = pipeline
        .routed_host(entry)
        .map_or_else(|| pipeline.base().to_string(), str::to_owned);
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
    let mut headers = pipeline.default_headers().clone();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/xml, text/plain, application/x-gzip"),
    );
    if method != Method::GET {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
    }
    for (name, value) in &options.headers {
        let (name, value) = crate::caller_headers::caller_header(name, value)?;
        headers.insert(name, value);
    }
    let mutual_tls = options.security.unwrap_or_else(|| entry.is_some_and(|e| e.v2_security));
    if mutual_tls && !pipeline.transport.has_mutual_tls() {
        return Err(ConfigError::new(
            "merchant_tls",
            format!("{template} needs the merchant API certificate (mutual TLS): Builder::merchant_tls"),
        )
        .into());
    }
    let mut request = crate::prepare::build(method.clone(), uri, body, headers)?;
    let extensions = request.extensions_mut();
    extensions.insert(Endpoint::new(method, template).with_entry(entry));
    extensions.insert(Call {
        v2: Some(V2Call {
            key: Arc::clone(key),
            entry,
        }),
        mutual_tls,
        ..Call::default()
    });
    Ok(request)
}
