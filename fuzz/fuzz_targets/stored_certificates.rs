//! Platform certificates as read back from a shared store (`RedisStore`): anyone who can write to
//! Redis can put any bytes under `wechatpay:certificates:{mchid}`.
//!
//! Input: the first byte chooses whether the value's MAC is made good first (odd: yes), so that
//! both the checks before the MAC and the certificate parsing after it are reached; the rest is
//! the stored value.
//!
//! Properties: nothing panics; a value whose MAC was not made good is never accepted; and no
//! reason quotes the APIv3 key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wechatpay::fuzzing::decode_stored_certificates;

const APIV3_KEY: &[u8] = b"fuzzing-apiv3-key-32-bytes-long!";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, value)) = data.split_first() else {
        return;
    };
    let reseal = mode & 1 == 1;
    match decode_stored_certificates(value, APIV3_KEY, reseal) {
        Ok(_) => assert!(reseal, "a value with a MAC nobody made for this key was accepted"),
        Err(reason) => assert!(
            !reason.contains("fuzzing-apiv3-key"),
            "the reason quotes the APIv3 key: {reason}"
        ),
    }
});
