//! Rate limits shared through a real Redis (`redis-server`, started here on a free loopback port
//! with no persistence): several clients, each with its own store and connection like separate
//! instances, keep one merchant's limit together; when Redis dies calls go on under the
//! in-process fallback without waiting past their timeout, and when it returns it is used again.

#[path = "it/common/certificates.rs"]
mod certificates;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use certificates::{certificate_emulator, downloads_seen};
use serde_json::json;
use wechatpay::emulator::{Emulator, Fault, Mode};
use wechatpay::{Builder, Client, RedisStore, RetryPolicy, Rsa};

const SEED: &str = "v3/brand/partner/card-member/user-points/sync";

fn seed(n: usize) -> serde_json::Value {
    json!({"json": {"out_request_no": format!("RD-{n}"), "brand_id": "120344", "card_id": "pbLatjnrVHnhTPjJ0x6IqpvNHHzE",
        "openid": "obLatjhnq8Z-0NNfYpOVjP4Z6q8o", "user_card_code": "478515832665", "point_balance": 100}})
}

/// A `redis-server` on 127.0.0.1, stopped when dropped.
struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self::start_on(port)
    }

    fn start_on(port: u16) -> Self {
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
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server) must be installed; .ci/run installs it");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection().unwrap()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An "instance": its own client, store and connection, all on one emulator (one merchant).
fn instance(emulator: &Emulator, redis: &RedisServer) -> Client {
    emulator
        .client_builder()
        .store(RedisStore::connect(&redis.url()).unwrap())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// An instance that downloads the platform certificates (from a certificate-mode emulator).
fn auto_instance(emulator: &Emulator, redis_url: &str) -> Client {
    emulator
        .merchant_builder()
        .auto_certificates(emulator.identity().apiv3_key.as_bytes())
        .store(RedisStore::connect(redis_url).unwrap())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

// ---- Separate OS processes -------------------------------------------------------------------
//
// The multi-process tests start this test binary again, once per instance, running only
// `instance_process` with the instance's settings in the environment. Each child builds its own
// client (auto_certificates, a RedisStore) against the parent's emulator, waits for the common
// start time, makes its calls, and prints one `INSTANCE {json}` line.

const CHILD_ENV: &str = "WECHATPAY_TEST_INSTANCE";

#[test]
#[ignore = "one instance of the multi-process tests, started by them with its settings in the environment"]
fn instance_process() {
    let setting = |name: &str| {
        std::env::var(format!("{CHILD_ENV}_{name}"))
            .unwrap_or_else(|_| panic!("{CHILD_ENV}_{name} is set by the test that starts this process"))
    };
    let index: usize = setting("INDEX").parse().unwrap();
    let calls: usize = setting("CALLS").parse().unwrap();
    let client = Builder::new()
        .mchid(setting("MCHID"))
        .serial(setting("SERIAL"))
        .private_key(Rsa::from_private(setting("KEY")).unwrap())
        .base_uri(setting("BASE_URI"))
        .auto_certificates(setting("APIV3_KEY"))
        .store(RedisStore::connect(&setting("REDIS")).unwrap())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let start = UNIX_EPOCH + Duration::from_millis(setting("START_MS").parse().unwrap());
    if let Ok(wait) = start.duration_since(SystemTime::now()) {
        std::thread::sleep(wait);
    }
    // First use: the platform certificates (what `encryptor` needs before anything is sent).
    let first_use = Instant::now();
    client.encryptor().unwrap();
    let first_use_ms = u64::try_from(first_use.elapsed().as_millis()).unwrap_or(u64::MAX);
    let answers: Vec<String> = (0..calls)
        .map(|n| match client.chain(SEED).post(seed(index * 100 + n)) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        })
        .collect();
    let certificates = client.certificates().unwrap();
    println!(
        "INSTANCE {}",
        json!({"index": index, "answers": answers, "downloads": certificates.downloads(), "newest": certificates.newest(),
               "first_use_ms": first_use_ms})
    );
}

/// Starts `count` instance processes that each make `calls` seed calls from the same moment on,
/// and returns what each printed.
fn run_instances(emulator: &Emulator, redis: &RedisServer, count: usize, calls: usize) -> Vec<serde_json::Value> {
    let identity = emulator.identity();
    // Time for every child to start and build its client first.
    let start = SystemTime::now() + Duration::from_millis(1500);
    let start_ms = start.duration_since(UNIX_EPOCH).unwrap().as_millis().to_string();
    let children: Vec<Child> = (0..count)
        .map(|index| {
            let settings = [
                ("INDEX", index.to_string()),
                ("CALLS", calls.to_string()),
                ("MCHID", identity.mchid.clone()),
                ("SERIAL", identity.merchant_serial().to_owned()),
                ("KEY", identity.merchant.private_key_pem().unwrap().to_owned()),
                ("APIV3_KEY", identity.apiv3_key.to_string()),
                ("BASE_URI", emulator.base_uri()),
                ("REDIS", redis.url()),
                ("START_MS", start_ms.clone()),
            ];
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "instance_process",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .envs(
                    settings
                        .iter()
                        .map(|(name, value)| (format!("{CHILD_ENV}_{name}"), value)),
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "an instance failed: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let line = stdout
                .lines()
                .find_map(|line| line.split_once("INSTANCE ").map(|(_, json)| json))
                .unwrap_or_else(|| panic!("no INSTANCE line in {stdout}"));
            serde_json::from_str(line).unwrap()
        })
        .collect()
}

#[test]
fn four_processes_sharing_redis_keep_the_seed_limit_together() {
    let redis = RedisServer::start();
    // The emulator enforces the documented limit (5/s): a call over it would be a 429.
    let emulator = Emulator::builder().mode(Mode::PlatformCertificate).start().unwrap();
    let started = Instant::now();
    let instances = run_instances(&emulator, &redis, 4, 10);
    for instance in &instances {
        let answers = instance["answers"].as_array().unwrap();
        assert!(answers.iter().all(|a| a == "ok"), "{instance}");
    }
    let mut arrivals: Vec<Instant> = emulator
        .received()
        .iter()
        .filter(|r| r.target == format!("/{SEED}"))
        .map(|r| r.at)
        .collect();
    assert_eq!(arrivals.len(), 40);
    arrivals.sort();
    // No one-second window holds more than 5: any 6 consecutive arrivals span a second or more.
    let tightest = arrivals.windows(6).map(|w| w[5] - w[0]).min().unwrap();
    assert!(
        tightest >= Duration::from_secs(1),
        "6 seed calls arrived within {tightest:?}: the processes did not share the limit"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(7800),
        "{:?}",
        started.elapsed()
    );
    eprintln!("tightest 6-call span at the emulator: {tightest:?}");
}

#[test]
fn eight_processes_starting_together_make_one_certificate_download() {
    let redis = RedisServer::start();
    let emulator = certificate_emulator();
    // Every answer takes 300 ms, so the eight first uses overlap the one download.
    emulator.set_faults([Fault::Delay(Duration::from_millis(300))]);
    let instances = run_instances(&emulator, &redis, 8, 1);
    assert_eq!(downloads_seen(&emulator), 1, "{instances:?}");
    let downloads: u64 = instances.iter().map(|i| i["downloads"].as_u64().unwrap()).sum();
    assert_eq!(downloads, 1);
    // They met: each first use took the download's time, the seven others waiting for it
    // rather than finding a set already stored.
    for instance in &instances {
        assert!(instance["first_use_ms"].as_u64().unwrap() >= 250, "{instance}");
    }
    for instance in &instances {
        assert_eq!(instance["answers"], json!(["ok"]));
        assert_eq!(instance["newest"], json!(emulator.identity().platform_serial()));
    }
    // What Redis holds is certificates only: no APIv3 key, no private key.
    let mut connection = redis.connection();
    let stored: Vec<u8> = redis::cmd("GET")
        .arg(certificates_key(&emulator))
        .query(&mut connection)
        .unwrap();
    let stored = String::from_utf8(stored).unwrap();
    assert!(stored.contains("BEGIN CERTIFICATE"));
    assert!(!stored.contains(emulator.identity().apiv3_key.as_str()));
    assert!(!stored.contains("PRIVATE KEY"));
    let lock: Option<String> = redis::cmd("GET")
        .arg(format!("{}:lock", certificates_key(&emulator)))
        .query(&mut connection)
        .unwrap();
    assert_eq!(lock, None, "the refresh lock was released");
}

fn certificates_key(emulator: &Emulator) -> String {
    format!("wechatpay:certificates:{}", emulator.identity().mchid)
}

#[test]
fn when_redis_dies_calls_go_on_and_when_it_returns_it_is_used_again() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let emulator = Emulator::start().unwrap();
    let client = instance(&emulator, &redis);
    client.chain(SEED).post(seed(1)).unwrap();

    redis.stop();
    for n in 2..5 {
        let started = Instant::now();
        let answer = client.chain(SEED).post(json!({"json": seed(n)["json"], "timeout": 5}));
        answer.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "waited {:?} for a dead Redis",
            started.elapsed()
        );
    }

    let redis = RedisServer::start_on(port);
    let mut connection = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    // The store retries Redis a second after a failure and its connection reconnects: within a
    // few seconds calls are counted in Redis again.
    let started = Instant::now();
    let keys = loop {
        client.chain(SEED).post(seed(9)).unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("wechatpay:rate:*")
            .query(&mut connection)
            .unwrap();
        if !keys.is_empty() || started.elapsed() > Duration::from_secs(8) {
            break keys;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(keys.len(), 1, "the bucket is back in Redis: {keys:?}");
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut connection).unwrap();
    assert!(ttl > 0 && ttl < 5_000, "buckets expire: {ttl}");
}

#[test]
fn a_bad_url_is_a_configuration_error_without_the_password() {
    let err = RedisStore::connect("redis://user:s3cret@[::1").unwrap_err();
    assert!(err.is_config());
    assert!(!err.to_string().contains("s3cret"), "{err}");
    let store = RedisStore::connect("redis://user:s3cret@127.0.0.1:1/").unwrap();
    assert!(!format!("{store:?}").contains("s3cret"));
}

#[test]
fn a_redis_that_stops_answering_costs_a_call_at_most_the_store_timeout() {
    let redis = RedisServer::start();
    let emulator = Emulator::start().unwrap();
    let client = instance(&emulator, &redis);
    client.chain(SEED).post(seed(1)).unwrap();
    let pid = redis.child.id().to_string();
    let signal = |name: &str| {
        assert!(Command::new("kill").args([name, &pid]).status().unwrap().success());
    };
    signal("-STOP");
    let started = Instant::now();
    let answer = client.chain(SEED).post(json!({"json": seed(2)["json"], "timeout": 5}));
    let rate_limited = started.elapsed();
    // A new instance needs the platform certificates: it downloads them itself.
    let certificates = certificate_emulator();
    let auto = auto_instance(&certificates, &redis.url());
    let started = Instant::now();
    let auto_answer = auto.chain(SEED).post(json!({"json": seed(3)["json"], "timeout": 5}));
    let downloaded = started.elapsed();
    signal("-CONT");
    answer.unwrap();
    auto_answer.unwrap();
    assert!(
        rate_limited < Duration::from_millis(1500) && downloaded < Duration::from_millis(2000),
        "waited {rate_limited:?} and {downloaded:?} for a frozen Redis"
    );
    assert_eq!(auto.certificates().unwrap().downloads(), 1);
}

#[test]
fn when_redis_is_down_each_instance_downloads_alone_and_when_it_returns_they_share_again() {
    let mut redis = RedisServer::start();
    let (port, url) = (redis.port, redis.url());
    redis.stop();
    let emulator = certificate_emulator();
    for n in 0..2 {
        let alone = auto_instance(&emulator, &url);
        let started = Instant::now();
        alone.chain(SEED).post(seed(n)).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "waited {:?} for a dead Redis",
            started.elapsed()
        );
        assert_eq!(alone.certificates().unwrap().downloads(), 1);
    }
    assert_eq!(downloads_seen(&emulator), 2);

    let _redis = RedisServer::start_on(port);
    let first = auto_instance(&emulator, &url);
    first.chain(SEED).post(seed(3)).unwrap();
    assert_eq!(first.certificates().unwrap().downloads(), 1, "nothing stored yet");
    let second = auto_instance(&emulator, &url);
    second.chain(SEED).post(seed(4)).unwrap();
    assert_eq!(second.certificates().unwrap().downloads(), 0, "read from Redis");
    assert_eq!(downloads_seen(&emulator), 3);
}

#[test]
fn stored_certificates_that_do_not_check_are_ignored_and_replaced() {
    let redis = RedisServer::start();
    let emulator = certificate_emulator();
    let mut connection = redis.connection();
    let key = certificates_key(&emulator);

    auto_instance(&emulator, &redis.url())
        .chain(SEED)
        .post(seed(1))
        .unwrap();
    let good: String = redis::cmd("GET").arg(&key).query(&mut connection).unwrap();
    // Someone who can write to Redis but lacks the APIv3 key slips in a certificate of theirs.
    let mut forged: serde_json::Value = serde_json::from_str(&good).unwrap();
    forged["certificates"] = json!([emulator.identity().merchant.certificate().unwrap().to_pem()]);
    for planted in [forged.to_string(), "not a stored set".to_owned()] {
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(&planted)
            .query(&mut connection)
            .unwrap();
        let client = auto_instance(&emulator, &redis.url());
        client.chain(SEED).post(seed(2)).unwrap();
        let certificates = client.certificates().unwrap();
        assert_eq!(certificates.downloads(), 1, "{planted} was not trusted");
        assert_eq!(
            certificates.newest().as_deref(),
            Some(emulator.identity().platform_serial())
        );
        let now: String = redis::cmd("GET").arg(&key).query(&mut connection).unwrap();
        assert!(
            now != planted && now.contains("BEGIN CERTIFICATE"),
            "replaced by a good set"
        );
    }
    assert_eq!(downloads_seen(&emulator), 3);
}

#[test]
fn an_instance_that_died_holding_the_refresh_lock_holds_the_others_up_half_the_call_timeout() {
    let redis = RedisServer::start();
    let emulator = certificate_emulator();
    let mut connection = redis.connection();
    let lock = format!("{}:lock", certificates_key(&emulator));
    let _: () = redis::cmd("SET")
        .arg(&lock)
        .arg("a process that died")
        .arg("PX")
        .arg(60_000)
        .query(&mut connection)
        .unwrap();
    let client = emulator
        .merchant_builder()
        .auto_certificates(emulator.identity().apiv3_key.as_bytes())
        .store(RedisStore::connect(&redis.url()).unwrap())
        .timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    let started = Instant::now();
    client.chain(SEED).post(seed(1)).unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    assert_eq!(downloads_seen(&emulator), 1);
}

#[test]
fn a_download_cut_short_by_its_timeout_releases_the_refresh_lock() {
    let redis = RedisServer::start();
    let emulator = certificate_emulator();
    let client = auto_instance(&emulator, &redis.url());
    let certificates = client.certificates().unwrap().clone();
    let lock = format!("{}:lock", certificates_key(&emulator));
    // The download will take 3 s; its caller gives up after 1.5 s.
    emulator.set_faults([Fault::Delay(Duration::from_secs(3))]);
    let watcher = {
        let (url, lock) = (redis.url(), lock.clone());
        std::thread::spawn(move || {
            let mut connection = redis::Client::open(url).unwrap().get_connection().unwrap();
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(1200) {
                let holder: Option<String> = redis::cmd("GET").arg(&lock).query(&mut connection).unwrap();
                if holder.is_some() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        })
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcome = runtime
        .block_on(async { tokio::time::timeout(Duration::from_millis(1500), certificates.refresh_async()).await });
    assert!(outcome.is_err(), "the download was cut short");
    assert!(watcher.join().unwrap(), "the download held the lock while it ran");
    let mut connection = redis.connection();
    let cut = Instant::now();
    loop {
        let holder: Option<String> = redis::cmd("GET").arg(&lock).query(&mut connection).unwrap();
        if holder.is_none() {
            break;
        }
        assert!(cut.elapsed() < Duration::from_secs(1), "the lock is still held");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_planted_lock_without_a_ttl_or_a_huge_value_holds_no_one_up() {
    let redis = RedisServer::start();
    let emulator = certificate_emulator();
    let mut connection = redis.connection();
    let key = certificates_key(&emulator);
    // Someone with write access to Redis: a lock that would never expire, a 4 MB "set".
    let _: () = redis::cmd("SET")
        .arg(format!("{key}:lock"))
        .arg("planted")
        .query(&mut connection)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg(vec![b'{'; 4 << 20])
        .query(&mut connection)
        .unwrap();
    let client = auto_instance(&emulator, &redis.url());
    let started = Instant::now();
    client.chain(SEED).post(seed(1)).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "held up {:?}",
        started.elapsed()
    );
    assert_eq!(client.certificates().unwrap().downloads(), 1);
    let stored: Vec<u8> = redis::cmd("GET").arg(&key).query(&mut connection).unwrap();
    assert!(stored.len() < 64 * 1024, "replaced by the downloaded set");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{key}:lock"))
        .query(&mut connection)
        .unwrap();
    assert_eq!(ttl, -2, "the lock was taken over, then released");

    // A lock planted for ~11 days (longer than any client holds one) and a hash where the set
    // belongs: the same.
    let _: () = redis::cmd("SET")
        .arg(format!("{key}:lock"))
        .arg("planted")
        .arg("PX")
        .arg(1_000_000_000u64)
        .query(&mut connection)
        .unwrap();
    let _: () = redis::cmd("DEL").arg(&key).query(&mut connection).unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("f")
        .arg("v")
        .query(&mut connection)
        .unwrap();
    let client = auto_instance(&emulator, &redis.url());
    let started = Instant::now();
    client.chain(SEED).post(seed(2)).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "held up {:?}",
        started.elapsed()
    );
    assert_eq!(client.certificates().unwrap().downloads(), 1);
    let kind: String = redis::cmd("TYPE").arg(&key).query(&mut connection).unwrap();
    assert_eq!(kind, "string", "the hash was replaced by the set");
    // Redis stayed in use: the seed call's bucket is there.
    let buckets: Vec<String> = redis::cmd("KEYS")
        .arg("wechatpay:rate:*")
        .query(&mut connection)
        .unwrap();
    assert_eq!(buckets.len(), 1, "{buckets:?}");
}
