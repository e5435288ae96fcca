//! The crypto backend: `ring` (default) or `aws-lc-rs`.
//!
//! Both crates expose the same API for signatures, AEAD, HMAC, digests and randomness, so that code
//! is written once in [`primitives`] against the `provider` alias. They differ in RSA-OAEP: aws-lc-rs
//! has it, ring does not (the RustCrypto `rsa` crate fills in). When both features are enabled,
//! aws-lc-rs wins: enabling it is always a deliberate choice beyond the default.

#[cfg(feature = "aws-lc-rs")]
use aws_lc_rs as provider;
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
use ring as provider;

#[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
compile_error!("wechatpay needs a crypto backend: enable feature `ring` (the default) or `aws-lc-rs`");

mod primitives;
pub(crate) use primitives::*;

#[cfg(feature = "aws-lc-rs")]
#[path = "oaep_aws_lc.rs"]
mod oaep;
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
#[path = "oaep_rsa_crate.rs"]
mod oaep;
pub(crate) use oaep::{OaepDecryptor, OaepEncryptor};

/// The rustls provider of the same backend, for the client's TLS and the emulator's.
pub(crate) fn rustls_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    #[cfg(feature = "aws-lc-rs")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let provider = rustls::crypto::ring::default_provider();
    std::sync::Arc::new(provider)
}

/// The name of the crypto backend this build uses: `"ring"` or `"aws-lc-rs"`.
///
/// ```
/// assert!(["ring", "aws-lc-rs"].contains(&wechatpay::crypto_backend()));
/// ```
pub fn crypto_backend() -> &'static str {
    if cfg!(feature = "aws-lc-rs") {
        "aws-lc-rs"
    } else {
        "ring"
    }
}
