//! Platform-certificate emulators, shared by `auto_certificates` and `tests/redis.rs` (which
//! includes this file by path, being a binary of its own).

use wechatpay::emulator::{Emulator, Mode};

/// An emulator signing with a platform certificate, not pacing (these tests are about
/// certificates, and some make 100 calls at once).
pub(crate) fn certificate_emulator() -> Emulator {
    Emulator::builder()
        .mode(Mode::PlatformCertificate)
        .rate_limits(false)
        .start()
        .unwrap()
}

/// How many `GET v3/certificates` the emulator answered.
pub(crate) fn downloads_seen(emulator: &Emulator) -> usize {
    emulator
        .received()
        .iter()
        .filter(|r| r.method == http::Method::GET && r.target.starts_with("/v3/certificates"))
        .count()
}
