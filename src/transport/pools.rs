//! One connection pool per tokio runtime.
//!
//! A connection is a task on the runtime that opened it, so it can serve only while that runtime
//! lives. Each runtime that sends through a client gets its own pool; when the runtime shuts
//! down it drops its tasks, among them a sentinel that removes the pool. A client therefore
//! keeps working across runtimes that come and go, and never hands a request to a connection
//! whose runtime is gone. The sentinel also ends when the client is dropped, so building many
//! clients on one long-lived runtime leaves nothing behind.

use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::runtime::{Handle, Id};
use tokio::sync::oneshot;

use super::connector::Connector;
use super::{HttpVersions, POOL_IDLE_TIMEOUT};
use crate::error::{ConfigError, Result};

pub(super) type HyperClient = Client<Connector, Full<Bytes>>;
/// Each runtime's pool, with the sender whose drop (with the pools) ends that runtime's sentinel.
type ByRuntime = Mutex<Vec<(Id, Arc<HyperClient>, oneshot::Sender<()>)>>;

/// Pools of connections made with one connector, by runtime.
#[derive(Clone)]
pub(super) struct Pools {
    connector: Connector,
    versions: HttpVersions,
    by_runtime: Arc<ByRuntime>,
}

impl Pools {
    pub(super) fn new(connector: Connector, versions: HttpVersions) -> Self {
        Self {
            connector,
            versions,
            by_runtime: Arc::default(),
        }
    }

    /// The pool of the runtime this is called on, made on first use.
    pub(super) fn current(&self) -> Result<Arc<HyperClient>> {
        let handle = Handle::try_current()
            .map_err(|_| ConfigError::new("runtime", "a request was polled outside the pipeline's runtime context"))?;
        let id = handle.id();
        let mut pools = self
            .by_runtime
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, client, _)) = pools.iter().find(|(runtime, _, _)| *runtime == id) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(self.build());
        let (keep, dropped) = oneshot::channel();
        pools.push((id, Arc::clone(&client), keep));
        drop(pools);
        let sentinel = Sentinel {
            pools: Arc::downgrade(&self.by_runtime),
            runtime: id,
        };
        // Ends with the runtime (its tasks are dropped) or with the client (the sender is).
        handle.spawn(async move {
            let _sentinel = sentinel;
            let _ = dropped.await;
        });
        Ok(client)
    }

    fn build(&self) -> HyperClient {
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .http2_only(self.versions == HttpVersions::Http2Only);
        builder.build(self.connector.clone())
    }
}

/// Lives as a task on a runtime; dropped with the runtime's tasks, it forgets that runtime's pool.
struct Sentinel {
    pools: Weak<ByRuntime>,
    runtime: Id,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        if let Some(pools) = self.pools.upgrade() {
            let mut pools = pools.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            pools.retain(|(runtime, _, _)| *runtime != self.runtime);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportConfig;

    fn pools() -> Pools {
        let config = TransportConfig {
            connect_timeout: std::time::Duration::from_secs(1),
            versions: HttpVersions::Any,
            proxy: None,
            max_body: 1 << 20,
            extra_roots: Vec::new(),
            client_auth: None,
        };
        Pools::new(Connector::new(&config).unwrap(), HttpVersions::Any)
    }

    fn count(pools: &Pools) -> usize {
        pools.by_runtime.lock().unwrap().len()
    }

    #[test]
    fn a_runtime_gets_one_pool_and_takes_it_along_when_it_shuts_down() {
        let pools = pools();
        assert!(pools.current().is_err(), "outside any runtime there is no pool to pick");
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let second = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let a = first.block_on(async { pools.current().unwrap() });
        let again = first.block_on(async { pools.current().unwrap() });
        assert!(Arc::ptr_eq(&a, &again), "one pool per runtime");
        let b = second.block_on(async { pools.current().unwrap() });
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(count(&pools), 2);
        drop(first);
        assert_eq!(count(&pools), 1);
        drop(second);
        assert_eq!(count(&pools), 0);
    }

    #[test]
    fn dropping_the_client_ends_its_sentinel_on_a_live_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let tasks = || runtime.metrics().num_alive_tasks();
        runtime.block_on(async {
            let pools = pools();
            pools.current().unwrap();
            assert_eq!(tasks(), 1, "the sentinel");
            drop(pools);
            tokio::task::yield_now().await;
            assert_eq!(tasks(), 0, "gone with the client");
        });
    }
}
