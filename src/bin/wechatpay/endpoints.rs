//! `wechatpay endpoints`: search the catalog. No match is not an error: exit 0, with "no endpoint
//! matches" on stderr (and `[]` on stdout with `--json`).

use clap::Args;
use wechatpay::catalog::{Entry, RequestKind, ResponseKind};

#[derive(Debug, Args)]
pub(crate) struct EndpointsArgs {
    /// Part of a path or title; all endpoints when absent
    pub query: Option<String>,
    /// Print the matches as a JSON array
    #[arg(long)]
    pub json: bool,
}

/// The facts that change how an endpoint is called.
fn flags(entry: &Entry) -> Vec<String> {
    let mut flags = Vec::new();
    if !entry.hosts.is_empty() {
        flags.push(format!("host {}", entry.hosts.join(" ")));
    }
    match entry.response {
        ResponseKind::Download => flags.push("unsigned download".into()),
        ResponseKind::StatementSha1 => flags.push("statement-sha1".into()),
        _ => {}
    }
    if entry.request == RequestKind::Multipart {
        flags.push("multipart".into());
    }
    if entry.wechatpay_serial {
        flags.push("Wechatpay-Serial".into());
    }
    if !entry.rate_limit.is_empty() {
        flags.push(format!("rate {}", entry.rate_limit));
    }
    if entry.v2_security {
        flags.push("mutual TLS".into());
    }
    flags
}

pub(crate) fn run(args: EndpointsArgs) {
    let query = args.query.as_deref().unwrap_or("");
    let found: Vec<&Entry> = wechatpay::catalog::search(query).collect();
    if args.json {
        let list: Vec<_> = found
            .iter()
            .map(|entry| {
                serde_json::json!({
                    "method": entry.method,
                    "path": entry.path,
                    "title": entry.title,
                    "hosts": entry.hosts,
                    "unsigned_download": entry.response == ResponseKind::Download,
                    "multipart": entry.request == RequestKind::Multipart,
                    "wechatpay_serial": entry.wechatpay_serial,
                    "rate_limit": (!entry.rate_limit.is_empty()).then_some(entry.rate_limit),
                    "mutual_tls": entry.v2_security,
                })
            })
            .collect();
        crate::output::json(&list);
    } else {
        for entry in &found {
            let flags = flags(entry);
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", flags.join("; "))
            };
            say!("{:<6} {}  {}{flags}", entry.method, entry.path, entry.title);
        }
    }
    if found.is_empty() {
        note!("no endpoint matches {}", crate::output::one_line(&format!("{query:?}")));
    }
}
