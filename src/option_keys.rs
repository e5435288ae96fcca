//! Which option keys a call takes. wechatpay-php passes unknown keys to Guzzle, which ignores
//! them, so a typo (`qeury`) silently sends a request without its query. Here every key must be
//! a known option or a variable of the path template; anything else is an error before any I/O
//! that names the key and the nearest key it may have meant.

use serde_json::{Map, Value};

use crate::error::{ConfigError, Result};

/// The options a verb takes (see [`Options`](crate::Options)).
const OPTIONS: &[&str] = &[
    "json",
    "body",
    "query",
    "headers",
    "timeout",
    "xml",
    "security",
    "nonceless",
    "debug",
];

/// Guzzle request options a PHP caller may carry over, and where their job is done here.
const GUZZLE: &[(&str, &str)] = &[
    (
        "verify",
        "TLS trust is set on the Builder (add_root_certificate, the native-roots feature)",
    ),
    (
        "cert",
        "the merchant certificate for mutual TLS is set with Builder::merchant_tls or merchant_pkcs12",
    ),
    (
        "ssl_key",
        "the merchant certificate for mutual TLS is set with Builder::merchant_tls or merchant_pkcs12",
    ),
    ("proxy", "set the proxy with Builder::proxy"),
    ("connect_timeout", "set it with Builder::connect_timeout"),
    ("base_uri", "set it with Builder::base_uri"),
    ("http_errors", "a non-2xx answer is always Error::Api"),
    (
        "form_params",
        "uploads are MediaUtil::into_options(); other bodies are `json` or `body`",
    ),
    ("multipart", "uploads are MediaUtil::into_options()"),
    (
        "sink",
        "stream a file to disk with Client::download or Client::download_bill",
    ),
    (
        "allow_redirects",
        "WeChat Pay does not redirect API calls; redirects are never followed",
    ),
];

/// The `{…}` variable names of `template`.
fn variables(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        let body = rest[open + 1..open + close].trim_start_matches('+');
        names.extend(body.split(','));
        rest = &rest[open + close + 1..];
    }
    names
}

/// Levenshtein distance, for suggestions between short keys.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The known key nearest to `key`, if it is near enough to be a typo of it.
fn nearest<'a>(key: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    known
        .map(|candidate| (distance(&key, &candidate.to_ascii_lowercase()), candidate))
        .filter(|(d, candidate)| *d <= 2.max(candidate.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

/// Refuses a variable that `template` does not use: it is a typo of an option or of a variable,
/// or an option of Guzzle's that this client takes elsewhere.
pub(crate) fn check(template: &str, given: &Map<String, Value>) -> Result<()> {
    let used = variables(template);
    let Some(key) = given.keys().find(|key| !used.contains(&key.as_str())) else {
        return Ok(());
    };
    if let Some((_, hint)) = GUZZLE.iter().find(|(name, _)| name == key) {
        return Err(ConfigError::new(
            key.as_str(),
            format!("is a Guzzle option this client does not take per request: {hint}"),
        )
        .into());
    }
    let mut reason = format!("is neither an option nor a variable of the path {template}");
    match nearest(key, OPTIONS.iter().copied().chain(used.iter().copied())) {
        Some(meant) => reason.push_str(&format!(": did you mean `{meant}`?")),
        None => reason.push_str(&format!(" (options: {})", OPTIONS.join(", "))),
    }
    Err(ConfigError::new(key.as_str(), reason).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn typos_name_the_key_and_the_nearest_one() {
        let template = "v3/pay/transactions/id/{transaction_id}";
        assert!(check(template, &keys(json!({"transaction_id": "1"}))).is_ok());
        for (typo, meant) in [
            ("qeury", "query"),
            ("header", "headers"),
            ("jsno", "json"),
            ("transaction_di", "transaction_id"),
        ] {
            let err = check(template, &keys(json!({ "transaction_id": "1", typo: 1 }))).unwrap_err();
            let text = err.to_string();
            assert!(
                err.is_config() && text.contains(typo) && text.contains(&format!("`{meant}`")),
                "{text}"
            );
        }
        let err = check("v3/certificates", &keys(json!({"zzzzzzzz": 1}))).unwrap_err();
        assert!(err.to_string().contains("options: json"), "{err}");
    }

    #[test]
    fn guzzle_options_point_to_what_does_their_job() {
        // PHP's `debug` is an option here (it raises the call's trace level), not a variable.
        let options = crate::Options::from(json!({"debug": true}));
        assert!(options.validate().is_ok() && options.debug && options.variables.is_empty());
        let err = check("v3/certificates", &keys(json!({"verify": false}))).unwrap_err();
        assert!(err.to_string().contains("add_root_certificate"), "{err}");
    }

    #[test]
    fn every_variable_form_counts_as_used() {
        assert_eq!(variables("v3/{a}/{+b}/{c,d}/x"), ["a", "b", "c", "d"]);
        assert!(check("v3/{+path}/{a,b}", &keys(json!({"path": "x", "a": 1, "b": 2}))).is_ok());
    }
}
