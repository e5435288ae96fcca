//! The integration tests, as one binary: the crate's dependencies (hyper, rustls, the emulator)
//! are linked once instead of once per file, and the shared support in `common` is compiled once.
//!
//! Modules that need an optional feature are left out without it, as `required-features` did for
//! separate binaries. Two suites stay binaries of their own:
//! - `tests/redis.rs`: its tests time what several processes do, so they run one at a time
//!   (`--test-threads=1`) with the machine to themselves; cargo runs test binaries one after
//!   another, so a binary of their own never shares the CPU with this one.
//! - `tests/catalog_codegen.rs`: it rewrites generated files that this binary compiles
//!   (`generated/catalog_accessors.rs`), so it must build without them.

mod common;

mod client;
mod crypto_known_answers;
mod hostile_input;
mod hostile_server;
mod keys;
mod notifications;
mod openssl_interop;
mod pay_sign;
mod retry;
mod retry_httpmock;
mod tracing;
mod transport;
mod v2_helpers;

mod catalog;
#[cfg(all(feature = "accessors", feature = "emulator"))]
mod catalog_accessors;

#[cfg(feature = "emulator")]
mod auto_certificates;
#[cfg(feature = "emulator")]
mod emulator_hostile;
#[cfg(feature = "emulator")]
mod one_door;
#[cfg(feature = "emulator")]
mod rate_limits;
#[cfg(feature = "emulator")]
mod runtimes;

// These two also call the typed accessors (`client.v3()…`).
#[cfg(all(feature = "emulator", feature = "accessors"))]
mod apiv2;
#[cfg(all(feature = "emulator", feature = "accessors"))]
mod emulator;

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "pkcs12")]
mod pkcs12;
