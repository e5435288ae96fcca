//! The usual start of an emulator test.

use wechatpay::emulator::Emulator;
use wechatpay::Client;

/// An emulator with its defaults, and a client of it (`Emulator::client_builder`, unchanged).
/// Keep the emulator alive as long as the client is used.
pub(crate) fn emulated() -> (Emulator, Client) {
    let emulator = Emulator::start().unwrap();
    let client = emulator.client_builder().build().unwrap();
    (emulator, client)
}
