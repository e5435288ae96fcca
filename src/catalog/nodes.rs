//! The generated accessor types (documented in the parent module).

#![allow(clippy::module_name_repetitions)]

use crate::chain::Chain;

/// What every node has.
macro_rules! node {
    ($name:ident) => {
        impl $name {
            /// A path below this node, literal (see [`Chain::chain`]).
            pub fn chain(&self, path: &str) -> Chain {
                self.0.chain(path)
            }

            /// A segment below this node, named the PHP way (see [`Chain::seg`]).
            pub fn seg(&self, segment: &str) -> Chain {
                self.0.seg(segment)
            }

            /// This node's path template.
            pub fn path(&self) -> &str {
                self.0.path()
            }

            /// The untyped node, with every verb.
            pub fn as_chain(&self) -> &Chain {
                &self.0
            }
        }

        impl std::ops::Index<&'static str> for $name {
            type Output = Chain;

            fn index(&self, path: &'static str) -> &Chain {
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
        pub fn $verb(&self, options: impl Into<crate::Options>) -> crate::Result<crate::Response> {
            self.0.$verb(options)
        }

        #[doc = concat!("`", $method, "` this endpoint; the future is `Send + 'static`.")]
        pub fn $verb_async(
            &self,
            options: impl Into<crate::Options>,
        ) -> impl std::future::Future<Output = crate::Result<crate::Response>> + Send + 'static {
            self.0.$verb_async(options)
        }
    };
}

include!("generated/nodes.rs");
