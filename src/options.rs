//! Request options: the wechatpay-php options array as `serde_json::Value`, or a typed builder.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::{ConfigError, Result};
use crate::query;
use crate::template::json_type;

/// Everything a verb takes besides the method and the path.
///
/// Build it from the PHP-shaped JSON object (the porting path: `=>` becomes `:`), from `()` for
/// none, or with the typed builder. Keys:
///
/// | key | meaning |
/// | --- | --- |
/// | `json` | the body, serialized once; the bytes sent are the bytes signed |
/// | `body` | a raw string body, sent and signed as is |
/// | `query` | an object (RFC 3986 encoded, in its key order) or a pre-encoded string (a `#` in it is sent as `%23`) |
/// | `headers` | extra headers, e.g. `Wechatpay-Serial`; framing and routing headers (`Content-Length`, `Transfer-Encoding`, `Host`, `Connection`, …) and `Authorization` are refused |
/// | `timeout` | seconds for this request, fractions allowed (`0.5`, at least 1 ms); `0` means none |
/// | `xml` | APIv2: the parameters of a POST, sent as XML with `nonce_str` and `sign` |
/// | `security` | APIv2: present the merchant certificate (mutual TLS) |
/// | `nonceless` | APIv2: do not add `nonce_str` |
/// | `debug` | `true`: trace this call at `INFO` (method, path template, status, Request-ID, latency; never headers or bodies) |
/// | anything else | a path-template variable, e.g. `"transaction_id"` for `{transaction_id}` |
///
/// Unlike wechatpay-php, where Guzzle ignores keys it does not know, a key that is neither an
/// option nor a variable of the path is an error naming the key and the nearest one it may have
/// meant (`qeury` → `query`); Guzzle options such as `verify` or `proxy` are refused with a
/// pointer to what does their job here. `debug` works differently from Guzzle's wire dump: the
/// call's [tracing](crate#tracing) span is raised to `INFO`, and it never holds secrets or bodies.
///
/// A value of the wrong type is reported, naming the key, when the verb is called — before any I/O.
///
/// ```
/// use serde_json::json;
/// use wechatpay::Options;
///
/// let from_json: Options = json!({
///     "transaction_id": "4200000001",
///     "query": {"mchid": "1230000109"},
///     "timeout": 0.5,
/// }).into();
/// let typed = Options::new().var("transaction_id", "4200000001").query("mchid", "1230000109").timeout_secs(0.5);
/// assert_eq!(format!("{from_json:?}"), format!("{typed:?}"));
///
/// let bad: Options = json!({"headers": ["not", "an", "object"]}).into();
/// assert!(bad.validate().unwrap_err().to_string().contains("headers"));
/// ```
#[derive(Clone, Default)]
pub struct Options {
    pub(crate) json: Option<Value>,
    pub(crate) body: Option<Bytes>,
    pub(crate) query: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) variables: Map<String, Value>,
    pub(crate) timeout: Option<Duration>,
    /// The `query` option as given, when an object (APIv2 signs GET parameters).
    pub(crate) query_map: Option<Map<String, Value>>,
    /// APIv2: the parameters, sent as XML (POST) or in the query (GET), signed.
    pub(crate) xml: Option<Map<String, Value>>,
    /// APIv2: present the merchant certificate (mutual TLS); the catalog's `v2_security` when absent.
    pub(crate) security: Option<bool>,
    /// APIv2: do not add `nonce_str`.
    pub(crate) nonceless: bool,
    /// Trace this call at `INFO` rather than `DEBUG` (PHP's `debug` option).
    pub(crate) debug: bool,
    /// A file upload, laid out for its endpoint when the request is prepared.
    pub(crate) media: Option<crate::MediaUtil>,
    invalid: Option<ConfigError>,
}

impl Options {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The JSON body.
    pub fn json(mut self, body: impl Into<Value>) -> Self {
        self.json = Some(body.into());
        self
    }

    /// A raw body, sent and signed byte for byte.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Appends one query parameter (RFC 3986 encoded).
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        self.query_map
            .get_or_insert_with(Map::new)
            .insert(key.to_owned(), Value::String(value.clone()));
        let mut pair = String::new();
        crate::template::encode(key, false, &mut pair);
        pair.push('=');
        crate::template::encode(&value, false, &mut pair);
        self.query = Some(match self.query.take() {
            Some(q) if !q.is_empty() => format!("{q}&{pair}"),
            _ => pair,
        });
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a path-template variable.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// This request's timeout; zero means none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// This request's timeout in seconds, as Guzzle's `timeout` option (`0` means none).
    pub fn timeout_secs(self, seconds: f64) -> Self {
        match seconds_to_duration("timeout", &Value::from(seconds)) {
            Ok(d) => self.timeout(d),
            Err(e) => self.with_error(e),
        }
    }

    fn with_error(mut self, error: ConfigError) -> Self {
        self.invalid.get_or_insert(error);
        self
    }

    /// The first problem found while building these options, if any.
    pub fn validate(&self) -> Result<()> {
        match &self.invalid {
            Some(e) => Err(e.clone().into()),
            None if self.media.is_some() && (self.json.is_some() || self.body.is_some()) => Err(ConfigError::new(
                "body",
                "an upload (MediaUtil) is the whole body: give no `json` or `body` with it",
            )
            .into()),
            None if self.json.is_some() && self.body.is_some() => {
                Err(ConfigError::new("body", "give either `json` or `body`, not both").into())
            }
            None => Ok(()),
        }
    }
}

/// The shortest timeout a fraction of a second becomes: a tiny positive value must not round to
/// zero, which means "no timeout" and would let a silent server hang the call forever.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

fn seconds_to_duration(key: &str, value: &Value) -> Result<Duration, ConfigError> {
    let seconds = value
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
        .ok_or_else(|| ConfigError::new(key, format!("must be a non-negative number of seconds, got {value}")))?;
    Ok(if seconds == 0.0 {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(seconds).max(MIN_TIMEOUT)
    })
}

/// Header names whose values `Debug` never shows.
fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "authorization" | "proxy-authorization" | "cookie")
        || ["secret", "token", "password", "key"]
            .iter()
            .any(|word| name.contains(word))
}

/// The `headers` option for `Debug`: names, and values unless sensitive.
struct ShownHeaders<'a>(&'a [(String, String)]);

impl std::fmt::Debug for ShownHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            let shown = if is_sensitive_header(name) { "<redacted>" } else { value };
            list.entry(&(name, shown));
        }
        list.finish()
    }
}

/// Like a derived `Debug`, but the values of sensitive headers (`Authorization`, …) are redacted.
impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("json", &self.json)
            .field("body", &self.body)
            .field("query", &self.query)
            .field("headers", &ShownHeaders(&self.headers))
            .field("variables", &self.variables)
            .field("timeout", &self.timeout)
            .field("xml", &self.xml)
            .field("security", &self.security)
            .field("nonceless", &self.nonceless)
            .field("debug", &self.debug)
            .field("media", &self.media)
            .field("invalid", &self.invalid)
            .finish_non_exhaustive()
    }
}

fn string_like(key: &str, value: &Value) -> Result<String, ConfigError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(ConfigError::new(
            key,
            format!("must be a string, got {}", json_type(other)),
        )),
    }
}

impl From<()> for Options {
    fn from(_: ()) -> Self {
        Self::default()
    }
}

impl From<&Value> for Options {
    fn from(value: &Value) -> Self {
        Self::from(value.clone())
    }
}

impl From<Value> for Options {
    fn from(value: Value) -> Self {
        let map = match value {
            Value::Null => return Self::default(),
            Value::Object(map) => map,
            other => {
                return Self::default().with_error(ConfigError::new(
                    "options",
                    format!(
                        "must be a JSON object (the PHP options array), got {}",
                        json_type(&other)
                    ),
                ))
            }
        };
        let mut options = Self::default();
        for (key, value) in map {
            let outcome = match key.as_str() {
                "json" => {
                    options.json = (!value.is_null()).then_some(value);
                    Ok(())
                }
                "body" => string_like("body", &value).map(|b| options.body = Some(Bytes::from(b))),
                "query" => query::build(&value).map(|q| {
                    options.query = Some(q);
                    options.query_map = value.as_object().cloned();
                }),
                "headers" => match value {
                    Value::Object(headers) => headers.iter().try_for_each(|(name, v)| {
                        string_like(&format!("headers.{name}"), v).map(|v| options.headers.push((name.clone(), v)))
                    }),
                    other => Err(ConfigError::new(
                        "headers",
                        format!("must be an object of name → value, got {}", json_type(&other)),
                    )),
                },
                "timeout" => seconds_to_duration("timeout", &value).map(|d| options.timeout = Some(d)),
                "xml" => match value {
                    Value::Object(map) => {
                        options.xml = Some(map);
                        Ok(())
                    }
                    other => Err(ConfigError::new(
                        "xml",
                        format!("must be an object, got {}", json_type(&other)),
                    )),
                },
                "security" => match value {
                    Value::Bool(b) => {
                        options.security = Some(b);
                        Ok(())
                    }
                    other => Err(ConfigError::new(
                        "security",
                        format!("must be true or false, got {}", json_type(&other)),
                    )),
                },
                "debug" => match value {
                    Value::Bool(b) => {
                        options.debug = b;
                        Ok(())
                    }
                    other => Err(ConfigError::new(
                        "debug",
                        format!("must be true or false, got {}", json_type(&other)),
                    )),
                },
                "nonceless" => match value {
                    Value::Bool(b) => {
                        options.nonceless = b;
                        Ok(())
                    }
                    other => Err(ConfigError::new(
                        "nonceless",
                        format!("must be true or false, got {}", json_type(&other)),
                    )),
                },
                _ => {
                    options.variables.insert(key, value);
                    Ok(())
                }
            };
            if let Err(e) = outcome {
                return options.with_error(e);
            }
        }
        options
    }
}
