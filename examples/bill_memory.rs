//! Downloads a 200 MB bill from the emulator and reports the process's peak memory: the download
//! streams to disk (and the emulator generates the bill while it streams), so the peak stays far
//! below the bill's size.
//!
//! `cargo run --release --example bill_memory [MEGABYTES]` (Linux: reads VmHWM from /proc)

use serde_json::json;
use wechatpay::emulator::Emulator;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let megabytes: u64 = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let rows = megabytes * 1_000_000 / 177; // each synthetic row is 177 bytes
    let emulator = Emulator::start()?;
    let client = emulator.client_builder().build()?;
    let before = peak_rss_kib();
    let bill: wechatpay::BillLocation = client
        .chain("v3/bill/tradebill")
        .get(json!({"query": {"bill_date": "2026-11-26", "emulator_bill_rows": rows}}))?
        .json()?;
    let dir = tempfile_dir()?;
    let started = std::time::Instant::now();
    let saved = client.download_bill(&bill, dir.join("bill.csv"))?;
    let elapsed = started.elapsed();
    println!(
        "downloaded {:.1} MB in {:.2} s, SHA-1 {} checked",
        saved.bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        saved.digest
    );
    match (before, peak_rss_kib()) {
        (Some(before), Some(peak)) => println!(
            "peak RSS: {:.1} MB (before the download: {:.1} MB)",
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        ),
        _ => println!("peak RSS: not available on this system"),
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("wechatpay-bill-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
