//! Keys, certificates and the cryptography WeChat Pay uses.
//!
//! Every operation runs on the crypto backend chosen by cargo feature (see
//! [`crypto_backend`](crate::crypto_backend)); results are byte-identical on both.

mod aes_ecb;
mod aes_gcm;
pub(crate) mod backend;
mod certificate;
mod hash;
pub(crate) mod hex;
mod key_input;
mod pem;
mod private_key;
mod public_key;
mod rsa;
mod rsa_der;

pub use aes_ecb::AesEcb;
pub use aes_gcm::AesGcm;
pub use certificate::{Certificate, PemUtil};
pub use hash::{Hash, SignType};
pub use private_key::PrivateKey;
pub use public_key::PublicKey;
pub use rsa::Rsa;

/// PEM-encodes DER (for the emulator's generated keys).
#[cfg(feature = "emulator")]
pub(crate) fn pem_encode_private_key(pkcs8: &[u8]) -> String {
    pem::encode(pem::Label::PrivateKey, pkcs8)
}
