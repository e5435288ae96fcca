//! The base URI, split once for joining request paths to it.

use http::Uri;

use crate::error::{ConfigError, Result};

/// The base URI split for joining: `https://host[:port]` and a path prefix ending in `/`.
#[derive(Debug, Clone)]
pub(crate) struct BaseUri {
    origin: String,
    prefix: String,
    /// It is WeChat Pay's production base URI.
    default: bool,
}

impl BaseUri {
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let shown = crate::redact::userinfo(text);
        let bad = |reason: &str| ConfigError::new("base_uri", format!("{shown:?} {reason}"));
        let uri: Uri = text.parse().map_err(|_| bad("is not a URI"))?;
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(bad("must not carry credentials (user:password@)").into());
        }
        let Some(scheme @ ("http" | "https")) = uri.scheme_str() else {
            return Err(bad("must start with https:// (or http:// for a local emulator)").into());
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if uri.query().is_some() {
            return Err(bad("must not have a query").into());
        }
        let mut prefix = uri.path().to_owned();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        let origin = format!("{scheme}://{authority}");
        let default = format!("{origin}{prefix}") == crate::DEFAULT_BASE_URI;
        Ok(Self {
            origin,
            prefix,
            default,
        })
    }

    /// Whether this is WeChat Pay's production base URI.
    pub(crate) fn is_default(&self) -> bool {
        self.default
    }

    pub(crate) fn join(&self, path: &str, query: Option<&str>) -> String {
        let mut url = format!("{}{}{}", self.origin, self.prefix, path.trim_start_matches('/'));
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            // A path that already has a query (`…/file?token=…`) gets the option's parameters after it.
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(q);
        }
        url
    }
}

/// The base URI as given, normalised with a trailing `/`.
impl std::fmt::Display for BaseUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.origin, self.prefix)
    }
}
