//! The chain: path nodes that end in one request pipeline.

use std::fmt;
use std::future::Future;
use std::ops::Index;
use std::sync::Arc;

use http::Method;

use crate::error::Result;
use crate::options::Options;
use crate::pipeline::Pipeline;
use crate::response::Response;

/// Interned child nodes, keyed by the `&'static str` they were indexed with.
pub(crate) type Nodes = elsa::sync::FrozenMap<&'static str, Box<Chain>>;

/// A path node: `client.chain("v3/pay")`, `client["v3/pay"]`, `node.seg("transactions")`, … Every
/// node can go further (`chain`, `seg`, index) and call any verb, blocking or async.
///
/// ```no_run
/// # fn demo(client: wechatpay::Client) -> wechatpay::Result<()> {
/// use serde_json::json;
/// let transactions = client.chain("v3/pay/transactions");
/// assert_eq!(transactions.seg("outTradeNo").seg("_out_trade_no_").path(), "v3/pay/transactions/out-trade-no/{out_trade_no}");
/// let order = transactions["id/{transaction_id}"]
///     .get(json!({"transaction_id": "4200000001", "query": {"mchid": "1230000109"}}))?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Chain {
    inner: Arc<Pipeline>,
    path: Arc<str>,
    children: Arc<Nodes>,
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Chain").field(&self.path).finish()
    }
}

/// PHP's property rule: a leading capital is lowered, every other capital becomes `-` + lower,
/// and `_name_` becomes `{name}`.
pub(crate) fn normalize(segment: &str) -> String {
    let mut kebab = String::with_capacity(segment.len() + 4);
    for (i, c) in segment.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                kebab.push('-');
            }
            kebab.push(c.to_ascii_lowercase());
        } else {
            kebab.push(c);
        }
    }
    match kebab.strip_prefix('_').and_then(|s| s.strip_suffix('_')) {
        Some(name) if !name.is_empty() => format!("{{{name}}}"),
        _ => kebab,
    }
}

macro_rules! verbs {
    ($($(#[$doc:meta])* $blocking:ident, $async_name:ident => $method:expr;)*) => {$(
        $(#[$doc])*
        pub fn $blocking(&self, options: impl Into<Options>) -> Result<Response> {
            self.inner.blocking($method, Arc::clone(&self.path), options.into())
        }

        $(#[$doc])*
        ///
        /// Async: the future is `Send + 'static` and runs on any executor; dropping it cancels
        /// the request.
        pub fn $async_name(&self, options: impl Into<Options>) -> impl Future<Output = Result<Response>> + Send + 'static {
            self.inner.future($method, Arc::clone(&self.path), options.into())
        }
    )*};
}

impl Chain {
    pub(crate) fn root(inner: Arc<Pipeline>) -> Self {
        Self {
            inner,
            path: Arc::from(""),
            children: Arc::default(),
        }
    }

    fn with_path(&self, path: String) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            path: Arc::from(path),
            children: Arc::default(),
        }
    }

    /// The node below this one for a literal path, as is (split on `/`, no case changes).
    pub fn chain(&self, path: &str) -> Chain {
        let path = path.trim_start_matches('/');
        if self.path.is_empty() {
            self.with_path(path.to_owned())
        } else {
            self.with_path(format!("{}/{path}", self.path))
        }
    }

    /// The node below this one for a segment named the PHP way: `cardMember` → `card-member`,
    /// `_transaction_id_` → `{transaction_id}`.
    pub fn seg(&self, segment: &str) -> Chain {
        self.chain(&normalize(segment))
    }

    /// This node's path template, e.g. `v3/pay/transactions/out-trade-no/{out_trade_no}/close`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Blocking request with any method.
    pub fn request(&self, method: Method, options: impl Into<Options>) -> Result<Response> {
        self.inner.blocking(method, Arc::clone(&self.path), options.into())
    }

    /// Async request with any method.
    pub fn request_async(
        &self,
        method: Method,
        options: impl Into<Options>,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        self.inner.future(method, Arc::clone(&self.path), options.into())
    }

    verbs! {
        /// `GET` this path.
        get, get_async => Method::GET;
        /// `PUT` this path.
        put, put_async => Method::PUT;
        /// `POST` this path.
        post, post_async => Method::POST;
        /// `PATCH` this path.
        patch, patch_async => Method::PATCH;
        /// `DELETE` this path.
        delete, delete_async => Method::DELETE;
    }
}

/// `node["more/path"]`: an interned child node (see the `Index` impl on
/// [`Client`](crate::Client) for why only `&'static str`).
impl Index<&'static str> for Chain {
    type Output = Chain;

    fn index(&self, path: &'static str) -> &Chain {
        match self.children.get(path) {
            Some(node) => node,
            None => self.children.insert(path, Box::new(self.chain(path))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn php_property_rules() {
        assert_eq!(normalize("cardMember"), "card-member");
        assert_eq!(normalize("CardMember"), "card-member");
        assert_eq!(normalize("userPoints"), "user-points");
        assert_eq!(normalize("_transaction_id_"), "{transaction_id}");
        assert_eq!(normalize("v3"), "v3");
        assert_eq!(normalize("apply4sub"), "apply4sub");
        assert_eq!(normalize("__"), "__");
    }
}
