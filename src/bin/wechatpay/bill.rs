//! `wechatpay bill download`: a trade or fund-flow bill to a file, through the library's
//! `download_bill` (the signed location, the streamed download, the digest check, the rename into
//! place), with a progress bar on a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};
use wechatpay::{BillLocation, ConfigError, Result};

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub(crate) enum BillCommand {
    /// Download a bill to a file, its digest checked (gunzipped when --tar-type GZIP)
    Download(DownloadArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    /// The trade bill (v3/bill/tradebill)
    Trade,
    /// The fund-flow bill (v3/bill/fundflowbill)
    FundFlow,
}

#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The bill's date, YYYY-MM-DD
    #[arg(long)]
    pub date: String,
    /// Which bill
    #[arg(long, value_enum, default_value = "trade")]
    pub kind: Kind,
    /// Trade bill: ALL, SUCCESS or REFUND (WeChat Pay's default: ALL)
    #[arg(long = "type", value_name = "BILL_TYPE")]
    pub bill_type: Option<String>,
    /// Fund-flow bill: BASIC, OPERATION or FEES (WeChat Pay's default: BASIC)
    #[arg(long)]
    pub account_type: Option<String>,
    /// GZIP to have the bill sent compressed (it is written uncompressed)
    #[arg(long)]
    pub tar_type: Option<String>,
    /// Where to write the bill (created readable by you only)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// `YYYY-MM-DD` with digits where they belong.
fn check_date(date: &str) -> Result<()> {
    let shaped = date.len() == 10
        && date
            .char_indices()
            .all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    if shaped {
        Ok(())
    } else {
        let shown = crate::output::one_line(date);
        Err(ConfigError::new("date", format!("{shown:?} is not a date like 2026-11-26")).into())
    }
}

pub(crate) fn run(settings: &Settings, command: BillCommand, verbose: u8) -> Result<()> {
    let BillCommand::Download(args) = command;
    check_date(&args.date)?;
    let (path, dimension) = match args.kind {
        Kind::Trade => ("v3/bill/tradebill", ("bill_type", &args.bill_type)),
        Kind::FundFlow => ("v3/bill/fundflowbill", ("account_type", &args.account_type)),
    };
    let mut query = Map::new();
    query.insert("bill_date".into(), Value::from(args.date.as_str()));
    if let (name, Some(value)) = dimension {
        query.insert(name.into(), Value::from(value.as_str()));
    }
    if let Some(tar_type) = &args.tar_type {
        query.insert("tar_type".into(), Value::from(tar_type.as_str()));
    }
    let client = crate::trace::traced(settings.resolve()?.builder()?, verbose).build()?;
    crate::output::status(&format!("asking for the {} bill of {}…", path, args.date));
    let started = Instant::now();
    let answer = client.chain(path).get(json!({ "query": query }))?;
    if verbose >= 1 {
        crate::trace::summary(&answer, started.elapsed());
    }
    let location: BillLocation = answer.json()?;
    let started = Instant::now();

    let bar = progress_bar();
    let shown = bar.clone();
    let saved = client.download_bill_with_progress(&location, &args.output, move |received, total| {
        // The bar and ETA once the size is known (`Content-Length`); bytes and rate until then.
        if let Some(total) = total.filter(|&t| shown.length() != Some(t)) {
            shown.set_style(style(SIZED));
            shown.set_length(total);
        }
        shown.set_position(received);
    });
    match &saved {
        Ok(_) => bar.finish(),
        Err(_) => bar.abandon(),
    }
    let saved = saved?;
    note!(
        "{}: {} bytes{}, {} {} checked",
        saved.path.display(),
        saved.bytes,
        if saved.gunzipped { " (gunzipped)" } else { "" },
        location.hash_type,
        saved.digest
    );
    if verbose >= 1 {
        note!("downloaded in {} ms", started.elapsed().as_millis());
    }
    Ok(())
}

/// With the size known: bytes of total, rate, ETA and a bar.
const SIZED: &str = "{spinner} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} [{wide_bar}]";
/// Without it (no `Content-Length`): bytes so far and the rate.
const UNSIZED: &str = "{spinner} {bytes} {bytes_per_sec}";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Progress on a terminal's stderr; nothing when stderr is not a terminal.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::no_length();
    bar.set_style(style(UNSIZED));
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_progress_templates_parse() {
        for template in [SIZED, UNSIZED] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn dates_must_be_shaped_like_a_date() {
        assert!(check_date("2026-11-26").is_ok());
        for bad in ["2026-1-26", "26-11-2026", "2026/11/26", "2026-11-2x", "\u{1b}[2J-11-26"] {
            let err = check_date(bad).unwrap_err().to_string();
            assert!(err.contains("date") && !err.contains('\u{1b}'), "{err}");
        }
    }
}
