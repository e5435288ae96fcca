//! Rate limits shared through a real Redis (`redis-server`, started here on a free loopback port
//! with no persistence): several clients, each with its own store and connection like separate
//! instances, keep one merchant's limit together; when Redis dies calls go on under the
//! in-process fallback without waiting past their timeout, and when it returns it is used again.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wechatpay::emulator::Emulator;
use wechatpay::{Client, RedisStore, RetryPolicy};

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

#[test]
fn four_instances_sharing_redis_keep_five_a_second_together() {
    let redis = RedisServer::start();
    // The emulator enforces the documented limit: a call over it would be a 429.
    let emulator = Emulator::start().unwrap();
    let instances: Vec<Client> = (0..4).map(|_| instance(&emulator, &redis)).collect();
    let started = Instant::now();
    let threads: Vec<_> = instances
        .into_iter()
        .enumerate()
        .map(|(i, client)| {
            std::thread::spawn(move || {
                (0..10)
                    .map(|n| {
                        client.chain(SEED).post(seed(i * 100 + n)).map(|_| ())?;
                        Ok(Instant::now())
                    })
                    .collect::<wechatpay::Result<Vec<Instant>>>()
            })
        })
        .collect();
    // When each call's answer arrived (the emulator does not timestamp what it records).
    let mut arrivals = Vec::new();
    for thread in threads {
        arrivals.extend(thread.join().unwrap().unwrap());
    }
    // 40 calls at 5 a second: at least 7.8 s, and no 429 (an unwrap above would have failed).
    assert!(
        started.elapsed() >= Duration::from_millis(7600),
        "{:?}",
        started.elapsed()
    );
    arrivals.sort();
    for window in arrivals.windows(7) {
        assert!(
            window[6] - window[0] >= Duration::from_millis(1000),
            "7 calls answered within one second: the instances did not share the limit"
        );
    }
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
    signal("-CONT");
    answer.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "waited {:?} for a frozen Redis",
        started.elapsed()
    );
}
