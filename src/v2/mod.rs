//! APIv2 building blocks: the XML `Transformer`, `sign` over sorted parameters, and the two
//! notification helpers (refund `req_info`, payment `sign`).
//!
//! The XML client behind `v2/…` paths (routing, mutual TLS, the response checks) is not part of
//! this release yet; these helpers are what it will be built on, usable on their own today.

mod notify;
mod sign;
mod xml;

pub use notify::{decrypt_refund_req_info, verify_notification};
pub use sign::{sign_params, verify_params};
pub use xml::Transformer;
