//! The documented rate limits: the client paces itself, the emulator enforces them as WeChat Pay
//! does, a wait past the deadline fails before sending, and limits can be overridden or turned off.

use crate::common;
use crate::common::SEED;

use std::time::{Duration, Instant};

use wechatpay::emulator::Emulator;
use wechatpay::{Client, RateLimits, RetryPolicy};

fn seed(n: usize) -> serde_json::Value {
    common::seed_call(format!("RL-{n}"))
}

/// 20 seed calls at once; the results in order.
fn twenty_at_once(client: &Client) -> Vec<wechatpay::Result<wechatpay::Response>> {
    common::posts_at_once(client, SEED, 20, seed)
}

#[test]
fn twenty_concurrent_seed_calls_are_paced_to_five_a_second_and_none_is_refused() {
    let (emulator, client) = common::emulated();
    let started = Instant::now();
    let results = twenty_at_once(&client);
    let elapsed = started.elapsed();
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    // One call every 200 ms: the last leaves 19 intervals after the first.
    assert!(elapsed >= Duration::from_millis(3800), "{elapsed:?}");
    assert_eq!(emulator.received().len(), 20);
}

#[test]
fn without_limiting_the_emulator_answers_429_as_wechat_pay_does() {
    let emulator = Emulator::start().unwrap();
    let client = emulator
        .client_builder()
        .rate_limits(RateLimits::none())
        .build()
        .unwrap();
    let results = twenty_at_once(&client);
    let limited = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .err()
                .and_then(|e| e.api())
                .is_some_and(|api| api.status() == 429 && api.code() == "FREQUENCY_LIMITED")
        })
        .count();
    // Five at once pass (the limit's count); of the rest, those that arrive faster than one per
    // 200 ms are refused (how many depends on how fast this machine answers).
    assert!(limited >= 5, "{limited} of 20 limited");
    assert!(results.iter().filter(|r| r.is_ok()).count() >= 5);

    // And an emulator told not to enforce them lets everything through.
    let lenient = Emulator::builder().rate_limits(false).start().unwrap();
    let client = lenient
        .client_builder()
        .rate_limits(RateLimits::none())
        .build()
        .unwrap();
    assert!(twenty_at_once(&client).iter().all(Result::is_ok));
}

#[test]
fn a_wait_past_the_deadline_fails_at_once_without_sending() {
    let emulator = Emulator::start().unwrap();
    let client = emulator
        .client_builder()
        .timeout(Duration::from_millis(100))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    client.chain(SEED).post(seed(1)).unwrap();
    let err = client.chain(SEED).post(seed(2)).unwrap_err();
    assert!(err.is_rate_limited() && !err.is_api(), "{err}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert_eq!(emulator.received().len(), 1);
    // The slot was not taken: after the interval the next call goes.
    std::thread::sleep(Duration::from_millis(220));
    client.chain(SEED).post(seed(3)).unwrap();
}

#[test]
fn a_raised_limit_is_an_override() {
    let emulator = Emulator::builder().rate_limits(false).start().unwrap();
    // With a 150 ms timeout the documented 5/s refuses a second call at once (next slot: 200 ms);
    // raised to 100/s, the slot is 10 ms away and every call goes.
    let client = emulator
        .client_builder()
        .timeout(Duration::from_millis(150))
        .rate_limits(RateLimits::documented().set("POST", SEED, wechatpay::Rate::parse("100/s")))
        .build()
        .unwrap();
    for n in 0..6 {
        client.chain(SEED).post(seed(n)).unwrap();
    }
    // `None`: this endpoint unlimited.
    let unlimited = emulator
        .client_builder()
        .timeout(Duration::from_millis(150))
        .rate_limits(RateLimits::documented().set("POST", SEED, None))
        .build()
        .unwrap();
    for n in 6..12 {
        unlimited.chain(SEED).post(seed(n)).unwrap();
    }
    assert_eq!(emulator.received().len(), 12);
}
