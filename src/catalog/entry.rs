//! One endpoint's metadata, and looking it up.

use std::collections::HashMap;
use std::sync::OnceLock;

/// How an endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseKind {
    /// JSON, signed (204 included).
    Json,
    /// APIv2 XML.
    Xml,
    /// A file, not signed by WeChat Pay.
    Download,
    /// Signed over `{"sha1":"<Wechatpay-Statement-Sha1>"}`; the body must hash to that header.
    StatementSha1,
    /// A browser redirect (30x), not a server-side call.
    Redirect,
}

/// What an endpoint takes as its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// A JSON body.
    Json,
    /// No body (sign `""`).
    None,
    /// `multipart/form-data` with a signed `meta` part.
    Multipart,
    /// An APIv2 XML body.
    Xml,
}

/// One endpoint of the catalog (`catalog/endpoint_meta.tsv`; its README explains each column).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// `v3` or `v2`.
    pub version: &'static str,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The path template as the chain spells it, e.g. `v3/pay/transactions/id/{transaction_id}`.
    pub path: &'static str,
    /// The official title (Chinese).
    pub title: &'static str,
    /// Base URIs other than `https://api.mch.weixin.qq.com/`, when the endpoint lives elsewhere.
    pub hosts: &'static [&'static str],
    /// The request must carry `Wechatpay-Serial` (it has encrypted fields).
    pub wechatpay_serial: bool,
    /// Dotted paths of fields to encrypt.
    pub encrypted_fields: &'static [&'static str],
    /// E.g. `100/s`, `10/min`; empty when undocumented.
    pub rate_limit: &'static str,
    /// What the rate limit counts per (Chinese, as documented).
    pub rate_dim: &'static str,
    /// How it answers.
    pub response: ResponseKind,
    /// What it takes.
    pub request: RequestKind,
    /// Takes an `Idempotency-Key` header.
    pub idempotency_key: bool,
    /// APIv2: needs the merchant certificate (mutual TLS).
    pub v2_security: bool,
    /// APIv2: the answer carries no `sign`.
    pub v2_nosign_response: bool,
    /// Encrypted query parameters.
    pub encrypted_query: &'static [&'static str],
    /// Multipart parts, `name:kind`.
    pub form_fields: &'static [&'static str],
}

include!("generated/entries.rs");

/// Every endpoint, v2 and v3, sorted by version, path and method.
pub fn entries() -> &'static [Entry] {
    ENTRIES
}

struct Index {
    exact: HashMap<(&'static str, &'static str), &'static Entry>,
    /// Per method: templates split into segments, for concrete paths.
    templates: HashMap<&'static str, Vec<(Vec<&'static str>, &'static Entry)>>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut exact = HashMap::new();
        let mut templates: HashMap<&'static str, Vec<_>> = HashMap::new();
        for entry in ENTRIES {
            exact.insert((entry.method, entry.path), entry);
            templates
                .entry(entry.method)
                .or_default()
                .push((entry.path.split('/').collect(), entry));
        }
        Index { exact, templates }
    })
}

/// The endpoint for `method` and `path`: a template (`…/id/{transaction_id}`) or a concrete path
/// (`…/id/4200000001`, leading `/` and query ignored). Literal segments win over variables, so
/// `v3/pay/transactions/out-trade-no/X` is not taken for `…/{transaction_id}`.
pub fn find(method: &str, path: &str) -> Option<&'static Entry> {
    let method = method.to_ascii_uppercase();
    let path = path.split('?').next().unwrap_or_default().trim_start_matches('/');
    let index = index();
    if let Some(entry) = index.exact.get(&(method.as_str(), path)) {
        return Some(entry);
    }
    let segments: Vec<&str> = path.split('/').collect();
    index
        .templates
        .get(method.as_str())?
        .iter()
        .filter(|(template, _)| {
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        // Prefer the template with the most literal segments.
        .max_by_key(|(template, _)| template.iter().filter(|t| !t.starts_with('{')).count())
        .map(|(_, entry)| *entry)
}

/// Endpoints whose path or title contains `query` (case-insensitive for the path).
pub fn search(query: &str) -> impl Iterator<Item = &'static Entry> + '_ {
    let lower = query.to_lowercase();
    ENTRIES
        .iter()
        .filter(move |e| e.path.to_lowercase().contains(&lower) || e.title.contains(query))
}
