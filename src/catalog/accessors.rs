//! The generated accessor types: one per catalog prefix under `v3` and `v2`, reached from
//! [`Client::v3`](crate::Client::v3) and [`Client::v2`](crate::Client::v2).
//!
//! The modules follow the path, so the docs can be browsed like the API: the node for
//! `v3/pay/transactions/native` is [`v3::pay::transactions::Native`], and its page lists the
//! method, the Chinese title, the host and a one-line example call. A node's children are the
//! types of the module named after it ([`v3::pay::transactions`] for
//! [`v3::pay::Transactions`]).
//!
//! ```
//! use wechatpay::catalog::accessors::v3::pay::transactions::Native;
//!
//! # fn demo(client: wechatpay::Client) {
//! let native: Native = client.v3().pay().transactions().native();
//! assert_eq!(native.path(), "v3/pay/transactions/native");
//! # }
//! ```
//!
//! Each node has `chain`, `seg`, index, `path` and `as_chain` (to go where the catalog does not
//! yet), and exactly the verbs the catalog lists for it.
//!
//! ## Naming
//!
//! | segment | accessor | type | module |
//! |---|---|---|---|
//! | `card-member` | `card_member()` | `CardMember` | `card_member` |
//! | `{out_trade_no}` | `_out_trade_no_()` | `ByOutTradeNo` | `by_out_trade_no` |
//! | (empty: a trailing-slash path) | `_empty_()` | `Empty` | `empty` |
//! | `return` (a Rust keyword) | `r#return()` | `Return` | `r#return` |
//!
//! A trailing `_` goes where a name would clash: with a verb (`delete_()` for the segment
//! `delete`), with `self`/`super`/`crate`, or with a sibling (`policy_periods_()`,
//! `PolicyPeriods_` and `policy_periods_` are the literal `policy_periods`; `policy_periods()`,
//! `PolicyPeriods` and `policy_periods` the kebab `policy-periods`).
//!
//! Only real continuations exist:
//!
//! ```
//! # fn demo(client: wechatpay::Client) {
//! let _ = client.v3().pay().transactions().native();
//! # }
//! ```
//!
//! ```compile_fail
//! # fn demo(client: wechatpay::Client) {
//! let _ = client.v3().pay().transactions().no_such_api();
//! # }
//! ```
//!
//! and a leaf has only the verbs the catalog lists (`…/native` is POST-only):
//!
//! ```
//! # fn demo(client: wechatpay::Client) {
//! let _ = client.v3().pay().transactions().native().post(());
//! # }
//! ```
//!
//! ```compile_fail
//! # fn demo(client: wechatpay::Client) {
//! let _ = client.v3().pay().transactions().native().get(());
//! # }
//! ```
//!
//! Anything else is still reachable: `as_chain()`, `chain()`, `seg()` and index on every node.
//!
//! ```
//! # fn demo(client: wechatpay::Client) {
//! let _ = client.v3().pay().transactions().native().as_chain().get(());
//! let _ = client.v3().pay().chain("transactions/brand-new-api").post(());
//! # }
//! ```
//!

/// What every node has.
macro_rules! node {
    ($name:ident) => {
        impl $name {
            /// A path below this node, literal (see [`Chain::chain`](crate::Chain::chain)).
            pub fn chain(&self, path: &str) -> crate::Chain {
                self.0.chain(path)
            }

            /// A segment below this node, named the PHP way (see [`Chain::seg`](crate::Chain::seg)).
            pub fn seg(&self, segment: &str) -> crate::Chain {
                self.0.seg(segment)
            }

            /// This node's path template.
            pub fn path(&self) -> &str {
                self.0.path()
            }

            /// The untyped node, with every verb.
            pub fn as_chain(&self) -> &crate::Chain {
                &self.0
            }
        }

        impl ::core::ops::Index<&'static str> for $name {
            type Output = crate::Chain;

            fn index(&self, path: &'static str) -> &crate::Chain {
                &self.0[path]
            }
        }
    };
}

/// The verbs an endpoint supports, blocking and async.
macro_rules! verbs {
    ($name:ident: $($verb:ident),+) => {
        impl $name {
            $( verbs!(@one $verb); )+
        }
    };
    (@one get) => { verbs!(@pair get, get_async, "GET"); };
    (@one post) => { verbs!(@pair post, post_async, "POST"); };
    (@one put) => { verbs!(@pair put, put_async, "PUT"); };
    (@one patch) => { verbs!(@pair patch, patch_async, "PATCH"); };
    (@one delete) => { verbs!(@pair delete, delete_async, "DELETE"); };
    (@pair $verb:ident, $verb_async:ident, $method:literal) => {
        #[doc = concat!("`", $method, "` this endpoint (blocking).")]
        pub fn $verb(&self, options: impl ::core::convert::Into<crate::Options>) -> crate::Result<crate::Response> {
            self.0.$verb(options)
        }

        #[doc = concat!("`", $method, "` this endpoint; the future is `Send + 'static`.")]
        pub fn $verb_async(
            &self,
            options: impl ::core::convert::Into<crate::Options>,
        ) -> impl ::core::future::Future<Output = crate::Result<crate::Response>> + ::core::marker::Send + 'static {
            self.0.$verb_async(options)
        }
    };
}

include!("generated/roots.rs");

/// The nodes below `v3`.
#[path = "generated/v3/mod.rs"]
pub mod v3;

/// The nodes below `v2`.
#[path = "generated/v2/mod.rs"]
pub mod v2;
