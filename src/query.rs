//! The `query` option: a JSON object to an RFC 3986 query string, as PHP's
//! `http_build_query(…, PHP_QUERY_RFC3986)` writes it for flat arrays.
//!
//! Hand-written on purpose: form encoders (`form_urlencoded`, `serde_urlencoded`) write spaces as
//! `+` and leave `*` bare, which is not the string WeChat Pay signs; the bytes are encoded with
//! `percent-encoding` like the path.

use serde_json::Value;

use crate::error::ConfigError;
use crate::template::{encode, json_type};

/// `k=v&…` in the object's order; `null` values are left out, booleans are `1`/`0` as in PHP.
/// A raw string is taken as an already-encoded query.
pub(crate) fn build(query: &Value) -> Result<String, ConfigError> {
    match query {
        // Taken as already encoded, except `#`: sent raw it would end the query (and the signed
        // text would no longer be what arrives).
        Value::String(raw) => Ok(raw.trim_start_matches('?').replace('#', "%23")),
        Value::Object(map) => {
            let mut out = String::new();
            for (key, value) in map {
                let text = match value {
                    Value::Null => continue,
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
                    other => {
                        return Err(ConfigError::new(
                            format!("query.{key}"),
                            format!("must be a string, number or boolean, got {}", json_type(other)),
                        ))
                    }
                };
                if !out.is_empty() {
                    out.push('&');
                }
                encode(key, false, &mut out);
                out.push('=');
                encode(&text, false, &mut out);
            }
            Ok(out)
        }
        other => Err(ConfigError::new(
            "query",
            format!("must be an object (or a pre-encoded string), got {}", json_type(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::build;
    use serde_json::json;

    #[test]
    fn encodes_like_php_rfc3986() {
        let q = json!({"mchid": "1230000109", "note": "a b&c=d/中", "n": 5, "t": true, "f": false, "skip": null});
        assert_eq!(
            build(&q).unwrap(),
            "mchid=1230000109&note=a%20b%26c%3Dd%2F%E4%B8%AD&n=5&t=1&f=0"
        );
        assert_eq!(build(&json!("?a=1")).unwrap(), "a=1");
        assert_eq!(build(&json!("a=1#frag")).unwrap(), "a=1%23frag");
        assert!(build(&json!({"a": [1]})).unwrap_err().to_string().contains("query.a"));
        assert!(build(&json!(3)).is_err());
    }
}
