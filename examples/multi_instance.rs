//! Several instances of one merchant, as separate processes, sharing one Redis: together they keep
//! the seed call's documented limit (5 per second per merchant) and make one platform-certificate
//! download between them.
//!
//! ```text
//! cargo run --example multi_instance --features redis                 # starts its own redis-server
//! cargo run --example multi_instance --features redis -- --redis redis://127.0.0.1:6379/ --instances 8 --calls 5
//! ```
//!
//! It starts the emulator (platform-certificate mode, enforcing the documented limits), then
//! `--instances` copies of itself, each a client built with `auto_certificates` and a
//! `RedisStore`, which all make `--calls` seed calls from the same moment on. While they run it
//! prints how many seed calls the emulator received in each second; at the end, the most it
//! received within any one second, the refusals, and the `v3/certificates` downloads.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wechatpay::emulator::{Emulator, Mode};
use wechatpay::{Builder, RedisStore, Rsa};

const SEED: &str = "v3/brand/partner/card-member/user-points/sync";
const ROLE: &str = "WECHATPAY_EXAMPLE_INSTANCE";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os(ROLE).is_some() {
        return instance();
    }
    let mut args = std::env::args().skip(1);
    let (mut redis_url, mut instances, mut calls) = (None, 4usize, 10usize);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--redis" => redis_url = Some(value()?),
            "--instances" => instances = value()?.parse()?,
            "--calls" => calls = value()?.parse()?,
            other => return Err(format!("unknown argument {other:?} (--redis URL, --instances N, --calls N)").into()),
        }
    }
    // Our own redis-server unless one was given; killed when `_server` is dropped.
    let (redis_url, _server) = match redis_url {
        Some(url) => (url, None),
        None => {
            let (url, server) = start_redis()?;
            (url, Some(server))
        }
    };

    let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start()?;
    let identity = emulator.identity();
    let start = SystemTime::now() + Duration::from_millis(1500);
    let settings = [
        ("MCHID", identity.mchid.clone()),
        ("SERIAL", identity.merchant_serial().to_owned()),
        (
            "KEY",
            identity.merchant.private_key_pem().unwrap_or_default().to_owned(),
        ),
        ("APIV3_KEY", identity.apiv3_key.to_string()),
        ("BASE_URI", emulator.base_uri()),
        ("REDIS", redis_url.clone()),
        ("CALLS", calls.to_string()),
        ("START_MS", start.duration_since(UNIX_EPOCH)?.as_millis().to_string()),
    ];
    println!(
        "emulator {}, Redis {redis_url}: {instances} instances × {calls} seed calls",
        emulator.base_uri()
    );
    let mut children = (0..instances)
        .map(|index| {
            Command::new(std::env::current_exe()?)
                .env(ROLE, index.to_string())
                .envs(settings.iter().map(|(name, value)| (format!("{ROLE}_{name}"), value)))
                .stdout(Stdio::piped())
                .spawn()
        })
        .collect::<std::io::Result<Vec<Child>>>()?;

    // Each second's count at the emulator, while the instances run.
    let began = Instant::now() + start.duration_since(SystemTime::now()).unwrap_or_default();
    std::thread::sleep(began.saturating_duration_since(Instant::now()));
    let seed_calls = |emulator: &Emulator| -> Vec<Instant> {
        let target = format!("/{SEED}");
        emulator
            .received()
            .into_iter()
            .filter(|r| r.target == target)
            .map(|r| r.at)
            .collect()
    };
    let mut second = 0u32;
    loop {
        second += 1;
        std::thread::sleep((began + Duration::from_secs(second.into())).saturating_duration_since(Instant::now()));
        let window = (began + Duration::from_secs((second - 1).into()))..(began + Duration::from_secs(second.into()));
        let count = seed_calls(&emulator)
            .into_iter()
            .filter(|at| window.contains(at))
            .count();
        println!("second {second:>2}: {count} seed calls at the emulator");
        if children.iter_mut().all(|child| matches!(child.try_wait(), Ok(Some(_)))) {
            break;
        }
    }

    let mut refused = 0;
    for child in children {
        let output = child.wait_with_output()?;
        let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let summary: serde_json::Value = serde_json::from_str(&line).unwrap_or(json!({"errors": [line]}));
        refused += summary["errors"].as_array().map_or(0, Vec::len);
    }
    let mut arrivals = seed_calls(&emulator);
    arrivals.sort();
    let busiest = (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|at| **at - arrivals[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    let downloads = emulator
        .received()
        .iter()
        .filter(|r| r.target.starts_with("/v3/certificates"))
        .count();
    println!(
        "{} seed calls; at most {busiest} within any one second; {refused} failed",
        arrivals.len()
    );
    println!("{downloads} v3/certificates download(s) for {instances} instances");
    Ok(())
}

/// One instance: its own client and Redis connection.
fn instance() -> Result<(), Box<dyn std::error::Error>> {
    let setting = |name: &str| std::env::var(format!("{ROLE}_{name}"));
    let index: usize = std::env::var(ROLE)?.parse()?;
    let client = Builder::new()
        .mchid(setting("MCHID")?)
        .serial(setting("SERIAL")?)
        .private_key(Rsa::from_private(setting("KEY")?)?)
        .base_uri(setting("BASE_URI")?)
        .auto_certificates(setting("APIV3_KEY")?)
        .store(RedisStore::connect(&setting("REDIS")?)?)
        .build()?;
    let start = UNIX_EPOCH + Duration::from_millis(setting("START_MS")?.parse()?);
    std::thread::sleep(start.duration_since(SystemTime::now()).unwrap_or_default());
    let errors: Vec<String> = (0..setting("CALLS")?.parse::<usize>()?)
        .filter_map(|n| {
            let body = json!({"json": {"out_request_no": format!("MI-{index}-{n}"), "brand_id": "120344",
                "card_id": "pbLatjnrVHnhTPjJ0x6IqpvNHHzE", "openid": "obLatjhnq8Z-0NNfYpOVjP4Z6q8o",
                "user_card_code": "478515832665", "point_balance": 100}});
            client.chain(SEED).post(body).err().map(|e| e.to_string())
        })
        .collect();
    println!("{}", json!({"instance": index, "errors": errors}));
    Ok(())
}

/// A `redis-server` on a free loopback port, without persistence.
fn start_redis() -> Result<(String, Server), Box<dyn std::error::Error>> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("redis-server could not be started ({e}); install it or pass --redis URL"))?;
    let server = Server(child);
    let began = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if began.elapsed() > Duration::from_secs(10) {
            return Err("redis-server did not start listening within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((format!("redis://127.0.0.1:{port}/"), server))
}

/// Stops the redis-server this example started.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
