//! The client side of `../shared/bench/ratio.sh`: signed seed calls against its loopback mock
//! server, every answer verified, CPU and memory measured; prints one `RESULT {…}` line.
//!
//! ```text
//! cargo build --release --example bench_peer                                              # ring
//! cargo build --release --example bench_peer --no-default-features --features aws-lc-rs  # aws-lc-rs
//! bench_peer --port P --keys DIR --n 2000 --c 16 [--blocking]
//! ```
//!
//! Async (the default): C tasks on a tokio runtime with one worker per CPU this process may use
//! (one under `taskset -c 0`: a current-thread runtime, as the floor does), each calling
//! `post_async` in a loop. `--blocking`: C threads calling `post`. CPU is the whole process's
//! (`getrusage`, all threads) over the measured requests only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use wechatpay::{Builder, Client, PemUtil, RateLimits, Rsa};

const SEED: &str = "v3/brand/partner/card-member/user-points/sync";
const WARMUP: u64 = 50;

struct Args {
    port: u16,
    keys: String,
    n: u64,
    c: u64,
    blocking: bool,
}

fn args() -> Result<Args, String> {
    let mut parsed = Args {
        port: 0,
        keys: String::new(),
        n: 2000,
        c: 1,
        blocking: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => parsed.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--keys" => parsed.keys = value()?,
            "--n" => parsed.n = value()?.parse().map_err(|e| format!("--n: {e}"))?,
            "--c" => parsed.c = value()?.parse::<u64>().map_err(|e| format!("--c: {e}"))?.max(1),
            "--blocking" => parsed.blocking = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if parsed.port == 0 || parsed.keys.is_empty() {
        return Err("usage: bench_peer --port P --keys DIR [--n N] [--c C] [--blocking]".into());
    }
    Ok(parsed)
}

fn client(args: &Args) -> Result<Client, Box<dyn std::error::Error>> {
    let read = |name: &str| -> Result<String, Box<dyn std::error::Error>> {
        Ok(std::fs::read_to_string(format!("{}/{name}", args.keys))?
            .trim()
            .to_owned())
    };
    let platform_key = match PemUtil::load_certificate(format!("{}/platform_cert.pem", args.keys)) {
        Ok(certificate) => certificate.public_key().clone(),
        Err(_) => Rsa::from_public(format!("file://{}/platform_pub.pem", args.keys))?,
    };
    Ok(Builder::new()
        .mchid(read("mchid")?)
        .serial(read("merchant_serial")?)
        .private_key(Rsa::from_private(format!("file://{}/merchant_key.pem", args.keys))?)
        .cert(read("platform_serial")?, platform_key)
        .base_uri(format!("http://127.0.0.1:{}/", args.port))
        // The floor does not pace itself: neither does this (the seed call's documented 5/s would).
        .rate_limits(RateLimits::none())
        .build()?)
}

fn options(i: u64) -> serde_json::Value {
    json!({"json": {
        "out_request_no": format!("peer-{i}"), "brand_id": "120344", "card_id": "pbLatjnrVHnhTPjJ0x6IqpvNHHzE",
        "openid": "obLatjhnq8Z-0NNfYpOVjP4Z6q8o", "user_card_code": "478515832665", "point_balance": 100,
    }})
}

#[derive(Default)]
struct Tally {
    next: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
}

impl Tally {
    fn record(&self, result: wechatpay::Result<wechatpay::Response>) {
        match result {
            Ok(_) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                if self.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("bench_peer: first error: {e}");
                }
                1
            }
        };
    }
}

/// `count` calls numbered from `start`, `c` at a time.
fn batch(client: &Client, runtime: Option<&tokio::runtime::Runtime>, start: u64, count: u64, c: u64) -> Arc<Tally> {
    let tally = Arc::new(Tally::default());
    let workers = c.min(count.max(1));
    match runtime {
        Some(runtime) => runtime.block_on(async {
            let tasks: Vec<_> = (0..workers)
                .map(|_| {
                    let (client, tally) = (client.clone(), Arc::clone(&tally));
                    tokio::spawn(async move {
                        loop {
                            let i = tally.next.fetch_add(1, Ordering::Relaxed);
                            if i >= count {
                                break;
                            }
                            tally.record(client.chain(SEED).post_async(options(start + i)).await);
                        }
                    })
                })
                .collect();
            for task in tasks {
                let _ = task.await;
            }
        }),
        None => std::thread::scope(|scope| {
            for _ in 0..workers {
                let tally = Arc::clone(&tally);
                scope.spawn(move || loop {
                    let i = tally.next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    tally.record(client.chain(SEED).post(options(start + i)));
                });
            }
        }),
    }
    tally
}

/// User + system CPU of the whole process (every thread, finished ones included), in
/// milliseconds, and the peak resident set size in KiB.
fn cpu_ms_and_max_rss_kb() -> (f64, i64) {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    (ms(usage.ru_utime) + ms(usage.ru_stime), usage.ru_maxrss)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let client = client(&args)?;
    let runtime = if args.blocking {
        None
    } else {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Some(if threads <= 1 {
            tokio::runtime::Builder::new_current_thread().enable_all().build()?
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()?
        })
    };
    let warm = batch(&client, runtime.as_ref(), 0, WARMUP, args.c);
    let (cpu_before, _) = cpu_ms_and_max_rss_kb();
    let started = Instant::now();
    let measured = batch(&client, runtime.as_ref(), WARMUP, args.n, args.c);
    let seconds = started.elapsed().as_secs_f64();
    let (cpu_after, max_rss_kb) = cpu_ms_and_max_rss_kb();
    let cpu_ms = cpu_after - cpu_before;
    let (ok, failed) = (
        measured.ok.load(Ordering::Relaxed),
        measured.failed.load(Ordering::Relaxed) + warm.failed.load(Ordering::Relaxed),
    );
    println!(
        "RESULT {{\"peer\":\"wechatpay-sdk{}\",\"backend\":\"{}\",\"c\":{},\"n\":{},\"ok\":{ok},\"failed\":{failed},\
         \"secs\":{seconds:.4},\"rps\":{:.1},\"loop_cpu_ms_per_req\":{:.4},\"maxrss_kb\":{}}}",
        if args.blocking { "-blocking" } else { "" },
        wechatpay::crypto_backend(),
        args.c,
        args.n,
        args.n as f64 / seconds,
        cpu_ms / args.n.max(1) as f64,
        max_rss_kb
    );
    if failed == 0 && ok == args.n {
        Ok(())
    } else {
        std::process::exit(1)
    }
}
