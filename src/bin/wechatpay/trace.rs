//! `-v` and `-vv`: what a call did, on stderr. `-v` is one line per call (status, Request-ID,
//! time); `-vv` adds, for each attempt, the request as sent with the message that was signed, and
//! the answer's status and headers. The signature in `Authorization` is never shown.

use std::time::Duration;

use futures_util::future::BoxFuture;
use wechatpay::middleware::{Middleware, Next};
use wechatpay::{Request, Response, Result};

use crate::output::{one_line, terminal_safe};

/// `builder` with the `-vv` layer when `verbose` asks for it.
pub(crate) fn traced(builder: wechatpay::Builder, verbose: u8) -> wechatpay::Builder {
    if verbose >= 2 {
        builder.middleware_after("signer", "cli-attempts", Attempts)
    } else {
        builder
    }
}

/// The `-vv` layer, placed just inside `signer`: it sees each attempt as it goes out.
pub(crate) struct Attempts;

impl Middleware for Attempts {
    fn handle<'a>(&'a self, request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move {
            show_request(&request);
            let outcome = next.run(request).await;
            match &outcome {
                Ok(response) => show_response(response),
                Err(error) => note!("< {}", one_line(&error.to_string())),
            }
            outcome
        })
    }
}

/// The `-v` line.
pub(crate) fn summary(response: &Response, elapsed: Duration) {
    note!(
        "{} · Request-ID: {} · {} ms",
        response.status(),
        one_line(response.request_id().unwrap_or("-")),
        elapsed.as_millis()
    );
}

fn show_request(request: &Request) {
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    note!("> {} {}", request.method(), one_line(&request.uri().to_string()));
    for (name, value) in request.headers() {
        let value = String::from_utf8_lossy(value.as_bytes());
        let shown = if name == http::header::AUTHORIZATION {
            without_signature(&value)
        } else {
            value.into_owned()
        };
        note!("> {name}: {}", one_line(&shown));
    }
    if let Some(authorization) = request.headers().get(http::header::AUTHORIZATION) {
        let authorization = String::from_utf8_lossy(authorization.as_bytes());
        let field = |name: &str| parameter(&authorization, name).unwrap_or_default();
        let message = format!(
            "{}\n{target}\n{}\n{}\n{}\n",
            request.method(),
            field("timestamp"),
            field("nonce_str"),
            String::from_utf8_lossy(request.body())
        );
        note!("> the signed message (each line ends in \\n):");
        for line in message.lines() {
            note!(">   {}", one_line(line));
        }
    }
}

fn show_response(response: &Response) {
    note!("< {}", response.status());
    for (name, value) in response.headers() {
        note!("< {name}: {}", one_line(&String::from_utf8_lossy(value.as_bytes())));
    }
}

/// `parameter="value"` from an `Authorization` header.
fn parameter<'a>(authorization: &'a str, name: &str) -> Option<&'a str> {
    let start = authorization.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &authorization[start..];
    Some(&rest[..rest.find('"')?])
}

/// `Authorization` with the signature's value taken out; a header of another shape (a custom
/// signer's) shows its scheme only.
fn without_signature(authorization: &str) -> String {
    match parameter(authorization, "signature") {
        Some(signature) if !signature.is_empty() => authorization.replace(signature, "<redacted>"),
        _ => {
            let scheme = authorization.split_whitespace().next().unwrap_or_default();
            format!("{} <redacted>", terminal_safe(scheme))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_taken_out_and_the_rest_kept() {
        let header = r#"WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="N",signature="c2lnbmF0dXJl",timestamp="1",serial_no="S""#;
        let shown = without_signature(header);
        assert!(!shown.contains("c2lnbmF0dXJl"), "{shown}");
        assert!(shown.contains(r#"signature="<redacted>""#) && shown.contains(r#"nonce_str="N""#));
        assert_eq!(parameter(header, "timestamp"), Some("1"));
        let odd = "Custom c2lnbmF0dXJl";
        assert_eq!(without_signature(odd), "Custom <redacted>");
        let unclosed = r#"WECHATPAY2-SHA256-RSA2048 signature="c2lnbmF0dXJl"#;
        assert!(!without_signature(unclosed).contains("c2lnbmF0dXJl"));
    }
}
