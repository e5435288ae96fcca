//! The I/O runtime every request runs on, whichever verb started it.
//!
//! Blocking and async verbs both spawn the same pipeline future here: blocking verbs wait for it
//! on a channel, async verbs await its handle. Sockets, timers and pooled connections therefore
//! all live on one runtime that outlives any caller's, so a client works from a plain `main`,
//! inside a tokio runtime of either flavour, from `spawn_blocking`, from other executors, and
//! across runtimes that come and go (as in tests), without "dispatch task is gone" errors.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

use crate::error::{ConfigError, Error, Result};

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// The process that started the runtime: its threads do not exist in a forked child.
static OWNER: OnceLock<u32> = OnceLock::new();

thread_local! {
    /// Set on the runtime's own worker threads.
    static ON_RUNTIME: Cell<bool> = const { Cell::new(false) };
}

/// The shared runtime, started on first use; never dropped (a runtime must not be dropped from
/// async code, and a client may be dropped anywhere).
pub(crate) fn get() -> Result<&'static Runtime> {
    let runtime = RUNTIME
        .get_or_init(|| {
            OWNER.get_or_init(std::process::id);
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
            Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("wechatpay-io")
                .on_thread_start(|| ON_RUNTIME.with(|flag| flag.set(true)))
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            Error::from(ConfigError::new(
                "runtime",
                format!("cannot start the I/O runtime: {e}"),
            ))
        })?;
    if OWNER.get() != Some(&std::process::id()) {
        return Err(ConfigError::new(
            "runtime",
            "this process was forked after the client was first used: its I/O threads and pooled \
             connections stayed in the parent; make the first request only after forking",
        )
        .into());
    }
    Ok(runtime)
}

/// Runs `future` on the shared runtime; the result is awaited, and dropping it cancels the work.
pub(crate) fn spawn<T: Send + 'static>(future: impl Future<Output = Result<T>> + Send + 'static) -> Result<Spawned<T>> {
    Ok(Spawned(get()?.spawn(future)))
}

/// Runs `future` on the shared runtime and blocks the calling thread until it finishes.
///
/// Safe from any thread, including a tokio worker: the calling thread only waits on a standard
/// channel, it never enters a runtime. One caveat no bridge can remove: called from a
/// current-thread runtime, that runtime is paused while it waits, so a custom signer or
/// middleware that needs a task on that same runtime cannot finish — use the `_async` verb there.
pub(crate) fn block_on<T: Send + 'static>(future: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let runtime = get()?;
    let handle = runtime.spawn(future);
    runtime.spawn(async move {
        // The receiver waits until this sends; a failed send means the caller is gone.
        let _ = tx.send(handle.await);
    });
    // Called from inside the pipeline (a middleware or signer making a blocking call): hand this
    // worker's other tasks to the rest of the pool while it waits, or every worker could end up
    // waiting on work that none of them is free to do.
    let received = if ON_RUNTIME.with(Cell::get) {
        tokio::task::block_in_place(|| rx.recv())
    } else {
        rx.recv()
    };
    received.map_or_else(|_| Err(task_lost()), joined)
}

/// A finished task's result; a panic in user middleware is re-raised in the caller, where it
/// belongs.
fn joined<T>(result: std::result::Result<Result<T>, tokio::task::JoinError>) -> Result<T> {
    match result {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(task_lost()),
    }
}

fn task_lost() -> Error {
    ConfigError::new(
        "runtime",
        "the request task ended without an answer (the runtime shut down)",
    )
    .into()
}

/// A request running on the shared runtime; aborted when dropped unfinished.
pub(crate) struct Spawned<T>(JoinHandle<Result<T>>);

impl<T> Future for Spawned<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        Pin::new(&mut self.0).poll(cx).map(joined)
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
