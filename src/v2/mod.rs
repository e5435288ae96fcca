//! APIv2 building blocks: the XML `Transformer`, `sign` over sorted parameters, and the two
//! notification helpers (refund `req_info`, payment `sign`).
//!
//! The client sends any `v2/…` path through the APIv2 pipeline (see [`Client`](crate::Client)):
//! the parameters in the `xml` option (POST) or `query` (GET) get `nonce_str` and `sign`, and the
//! answer must have `return_code`/`result_code` `SUCCESS` and a valid `sign`.

mod check;
mod notify;
mod prepare;
mod sign;
mod xml;

pub use notify::{decrypt_refund_req_info, verify_notification};
pub use sign::{sign_params, verify_params};
pub use xml::{Transformer, MAX_DEPTH};

pub(crate) use check::check;
pub(crate) use prepare::{is_v2, prepare};
