//! Options → the exact APIv3 request to send: URL joining and host routing, body (JSON, raw or
//! multipart), headers, `Wechatpay-Serial`. Every input error surfaces here, before any I/O.
//! (APIv2 calls are prepared by `v2::prepare`.)

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, Uri};

use crate::base_uri::BaseUri;
use crate::caller_headers::{caller_header, header_pair};
use crate::error::{ConfigError, Result};
use crate::middleware::SignedBody;
use crate::options::Options;
use crate::pipeline::Pipeline;
use crate::request::{Call, Endpoint, Request};

const JSON: &str = "application/json; charset=utf-8";
const WECHATPAY_SERIAL: &str = "Wechatpay-Serial";

/// Which key's serial goes into `Wechatpay-Serial` when an endpoint requires it.
#[derive(Debug, Clone)]
pub(crate) enum EncryptionSerial {
    /// One key configured, or the one chosen with `Builder::encrypt_with`.
    Chosen(String),
    /// Several keys and no choice.
    Ambiguous(Vec<String>),
    /// No key (a replaced verifier without certs).
    NoKey,
    /// Downloaded certificates: the newest valid one, or the one `encrypt_with` named.
    Auto {
        certificates: crate::PlatformCertificates,
        chosen: Option<String>,
    },
}

impl EncryptionSerial {
    /// The serial to send with encrypted fields for `purpose`, or why there is none.
    pub(crate) fn header(&self, purpose: &str) -> Result<HeaderValue> {
        let valid = |serial: &str| {
            HeaderValue::from_str(serial).map_err(|_| {
                ConfigError::new("Wechatpay-Serial", format!("{serial:?} is not a valid header value")).into()
            })
        };
        let reason = match self {
            EncryptionSerial::Chosen(serial) => return valid(serial),
            EncryptionSerial::Auto {
                chosen: Some(serial), ..
            } => return valid(serial),
            EncryptionSerial::Auto { certificates, .. } => match certificates.newest() {
                Some(serial) => return valid(&serial),
                None => format!("{purpose} needs it, and no valid platform certificate has been downloaded"),
            },
            EncryptionSerial::Ambiguous(serials) => format!(
                "{purpose} needs it, and several WeChat Pay keys are configured ({}): choose the one you encrypt with \
                 (Builder::encrypt_with), or send the header yourself",
                serials.join(", ")
            ),
            EncryptionSerial::NoKey => {
                format!("{purpose} needs it, and no WeChat Pay key is configured: add one with Builder::cert")
            }
        };
        Err(ConfigError::new("Wechatpay-Serial", reason).into())
    }
}

/// Refuses a path given as an absolute URL: `chain()` joins segments with one `/`, so
/// `https://host/…` arrives as `https:/host/…`, and would be sent as a path of the base URI.
pub(crate) fn refuse_absolute_url(template: &str) -> Result<()> {
    let first = template.split('/').next().unwrap_or_default().to_ascii_lowercase();
    if template.contains("://") || first == "http:" || first == "https:" {
        return Err(ConfigError::new(
            "path",
            format!(
                "{:?} is an absolute URL; chain() takes a path such as v3/pay/transactions/native. To fetch a \
                 download_url use Client::download_bill (bills) or Client::download (other files)",
                crate::signed_headers::excerpt(&crate::redact::userinfo(template))
            ),
        )
        .into());
    }
    Ok(())
}

/// The APIv3 request for `method` `template` with `options`; `origin` replaces the base URI
/// (a download whose URL names another WeChat Pay host).
pub(crate) fn v3(
    pipeline: &Pipeline,
    method: Method,
    template: &str,
    options: Options,
    origin: Option<&str>,
) -> Result<Request> {
    for (key, given) in [
        ("xml", options.xml.is_some()),
        ("security", options.security.is_some()),
        ("nonceless", options.nonceless),
    ] {
        if given {
            return Err(ConfigError::new(key, "is an APIv2 option: it applies to v2/… paths only").into());
        }
    }
    refuse_absolute_url(template)?;
    crate::option_keys::check(template, &options.variables)?;
    let path = crate::template::expand(template, &options.variables)?;
    let entry = crate::catalog::find(method.as_str(), template);
    // Endpoints that live on another host (apihk, …/hk/) go there under the default base URI;
    // an explicit base URI (an emulator, a proxy) always wins.
    let origin = origin
        .or_else(|| pipeline.routed_host(entry))
        .map(BaseUri::parse)
        .transpose()?;
    let url = origin
        .as_ref()
        .unwrap_or(pipeline.base())
        .join(&path, options.query.as_deref());
    let uri: Uri = url
        .parse()
        .map_err(|e| ConfigError::new("path", format!("{url:?} is not a valid URI: {e}")))?;

    let mut headers = pipeline.default_headers().clone();
    let mut signed_body = None;
    let body = if let Some(media) = options.media {
        if let Some(limit) = crate::media::size_limit(template) {
            if media.len() > limit {
                return Err(ConfigError::new(
                    "file",
                    format!(
                        "{} bytes is over the {} MiB that {template} accepts",
                        media.len(),
                        limit >> 20
                    ),
                )
                .into());
            }
        }
        // Part names and order as the catalog documents them for this endpoint; the signature
        // covers the `meta` JSON only.
        let (file_part, file_first) = media.layout(entry.map_or(&[][..], |e| e.form_fields));
        signed_body = Some(media.meta_bytes());
        let (name, value) = header_pair("Content-Type", &media.content_type())?;
        headers.insert(name, value);
        media.body_with(&file_part, file_first)
    } else {
        let body = match (options.json, options.body) {
            (Some(json), _) => {
                Bytes::from(serde_json::to_vec(&json).map_err(|e| ConfigError::new("json", e.to_string()))?)
            }
            (None, Some(body)) => body,
            (None, None) => Bytes::new(),
        };
        if !body.is_empty() && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        }
        body
    };
    for (name, value) in &options.headers {
        let (name, value) = caller_header(name, value)?;
        headers.insert(name, value);
    }
    if entry.is_some_and(|e| e.wechatpay_serial) && !headers.contains_key(WECHATPAY_SERIAL) {
        headers.insert(WECHATPAY_SERIAL, pipeline.encryption().header(template)?);
    }
    let mut request = build(method.clone(), uri, body, headers)?;
    // The endpoint carries its catalog entry, so the verifier need not look it up again.
    let extensions = request.extensions_mut();
    extensions.insert(Endpoint::new(method, template).with_entry(entry));
    extensions.insert(Call::default());
    if let Some(meta) = signed_body {
        extensions.insert(SignedBody(meta));
    }
    Ok(request)
}

/// Assembles the request from its parts.
pub(crate) fn build(method: Method, uri: Uri, body: Bytes, headers: HeaderMap) -> Result<Request> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .map_err(|e| ConfigError::new("request", e.to_string()))?;
    *request.headers_mut() = headers;
    Ok(request)
}
