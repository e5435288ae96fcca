//! `wechatpay <method> <path>`: any signed call. The answer body goes to stdout (or `-o FILE`),
//! everything else to stderr, so the output pipes into `jq`; an API error's body goes to stdout
//! too, with exit code 1.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::{Map, Value};
use wechatpay::{ConfigError, Result};

use crate::config::Settings;
use crate::files::{self, Access};
use crate::output::{self, BodyStyle};

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The path, e.g. v3/pay/transactions/id/{transaction_id}
    pub path: String,
    /// The JSON body
    #[arg(long, conflicts_with = "data")]
    pub json: Option<String>,
    /// APIv2: the parameters as a JSON object, sent as signed XML (for v2/… paths)
    #[arg(long, conflicts_with_all = ["json", "data"])]
    pub xml: Option<String>,
    /// A body field: key=text, or key:=JSON for numbers, booleans, objects (repeatable)
    #[arg(short = 'd', long = "data")]
    pub data: Vec<String>,
    /// A query parameter, k=v (repeatable)
    #[arg(long)]
    pub query: Vec<String>,
    /// A path variable, name=value (repeatable)
    #[arg(long)]
    pub var: Vec<String>,
    /// A header, "Name: value" (repeatable)
    #[arg(long)]
    pub header: Vec<String>,
    /// Timeout in seconds
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Write the answer body to FILE, byte for byte (created readable by you only)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the body as received, even on a terminal
    #[arg(long, conflicts_with = "pretty")]
    pub raw: bool,
    /// Indent JSON, even in a pipe
    #[arg(long)]
    pub pretty: bool,
}

fn pair<'a>(text: &'a str, separator: char, what: &str) -> Result<(&'a str, &'a str)> {
    text.split_once(separator)
        .map(|(k, v)| (k.trim(), v.trim()))
        .ok_or_else(|| ConfigError::new(what, format!("{text:?} must be NAME{separator}VALUE")).into())
}

/// The PHP-shaped options object the arguments describe.
pub(crate) fn options(args: &CallArgs) -> Result<Value> {
    let mut options = Map::new();
    if let Some(xml) = &args.xml {
        let params: Value = serde_json::from_str(xml).map_err(|e| ConfigError::new("xml", e.to_string()))?;
        options.insert("xml".into(), params);
    }
    if let Some(json) = &args.json {
        let body: Value = serde_json::from_str(json).map_err(|e| ConfigError::new("json", e.to_string()))?;
        options.insert("json".into(), body);
    } else if !args.data.is_empty() {
        let mut body = Map::new();
        for item in &args.data {
            let (k, v) = pair(item, '=', "data")?;
            match k.strip_suffix(':') {
                Some(k) => {
                    let value = serde_json::from_str(v)
                        .map_err(|e| ConfigError::new(format!("data.{k}"), format!("{v:?} is not JSON: {e}")))?;
                    body.insert(k.to_owned(), value)
                }
                None => body.insert(k.to_owned(), Value::String(v.to_owned())),
            };
        }
        options.insert("json".into(), Value::Object(body));
    }
    if !args.query.is_empty() {
        let mut query = Map::new();
        for item in &args.query {
            let (k, v) = pair(item, '=', "query")?;
            query.insert(k.to_owned(), Value::String(v.to_owned()));
        }
        options.insert("query".into(), Value::Object(query));
    }
    if !args.header.is_empty() {
        let mut headers = Map::new();
        for item in &args.header {
            let (k, v) = pair(item, ':', "header")?;
            headers.insert(k.to_owned(), Value::String(v.to_owned()));
        }
        options.insert("headers".into(), Value::Object(headers));
    }
    for item in &args.var {
        let (k, v) = pair(item, '=', "var")?;
        options.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    if let Some(timeout) = args.timeout {
        options.insert("timeout".into(), Value::from(timeout));
    }
    Ok(Value::Object(options))
}

pub(crate) fn run(settings: &Settings, method: http::Method, args: CallArgs, verbose: u8) -> Result<()> {
    let options = options(&args)?;
    let client = crate::trace::traced(settings.resolve()?.builder()?, verbose).build()?;
    let style = BodyStyle::choose(args.pretty, args.raw);
    let started = Instant::now();
    match client.chain(&args.path).request(method, options) {
        Ok(response) => {
            if verbose >= 1 {
                crate::trace::summary(&response, started.elapsed());
            }
            match &args.output {
                Some(path) => {
                    files::write(path, response.bytes(), Access::Private, "output")?;
                    if verbose >= 1 {
                        note!("wrote {} bytes to {}", response.bytes().len(), path.display());
                    }
                }
                None => output::body(response.bytes(), style),
            }
            Ok(())
        }
        Err(error) => {
            // Scripts read `code` and `message` from stdout; the summary goes to stderr.
            if let Some(api) = error.api() {
                if verbose >= 1 {
                    crate::trace::summary(api.response(), started.elapsed());
                }
                output::body(api.response().bytes(), style);
            }
            Err(error)
        }
    }
}
