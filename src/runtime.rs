//! Where the pipeline runs: on the caller's executor, with sockets and timers on a tokio runtime.
//!
//! - **Async verbs** return a future that runs the whole pipeline (options, signing, the
//!   layers, verification) in the caller's task. Inside a tokio runtime, connections are made and
//!   driven on that runtime, like any hyper client's. On another executor (no tokio context), each
//!   poll enters the crate's own I/O runtime, which then owns the sockets and timers.
//! - **Blocking verbs** on a plain thread drive the same future on a small current-thread runtime
//!   that belongs to the calling thread: the thread does its own I/O, and nothing wakes it but
//!   the socket. Called from inside a tokio runtime (where a thread must not start another
//!   runtime), the future runs on the crate's I/O runtime while the thread waits once for it.
//!
//! Connections are pooled per runtime (see `transport::pools`); when a runtime shuts down, its
//! pool goes with it, so a client outlives every runtime that used it.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;
use std::task::Poll;

use futures_util::FutureExt as _;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{ConfigError, Error, Result};

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// The process that started the runtime: its threads do not exist in a forked child.
static OWNER: OnceLock<u32> = OnceLock::new();

thread_local! {
    /// Set on the I/O runtime's own worker threads.
    static ON_RUNTIME: Cell<bool> = const { Cell::new(false) };

    /// The calling thread's runtime for blocking verbs, made on first use and dropped (with
    /// its connections) when the thread ends; with the process that made it.
    static THREAD_RUNTIME: std::result::Result<(Runtime, u32), String> = Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|runtime| (runtime, std::process::id()))
        .map_err(|e| e.to_string());
}

fn forked() -> Error {
    ConfigError::new(
        "runtime",
        "this process was forked after the client was first used: its I/O threads and pooled \
         connections stayed in the parent; make the first request only after forking",
    )
    .into()
}

/// The crate's I/O runtime, started on first use; never dropped (a runtime must not be dropped
/// from async code, and a client may be dropped anywhere).
pub(crate) fn get() -> Result<&'static Runtime> {
    let runtime = RUNTIME
        .get_or_init(|| {
            OWNER.get_or_init(std::process::id);
            let workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
            Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("wechatpay-io")
                .on_thread_start(|| ON_RUNTIME.with(|flag| flag.set(true)))
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| cannot_start(e))?;
    if OWNER.get() != Some(&std::process::id()) {
        return Err(forked());
    }
    Ok(runtime)
}

fn cannot_start(e: &str) -> Error {
    ConfigError::new("runtime", format!("cannot start the I/O runtime: {e}")).into()
}

/// Runs `future` in the caller's task. Under a tokio runtime it polls as is; elsewhere each poll
/// enters the crate's I/O runtime, so sockets and timers have a driver on any executor.
pub(crate) async fn in_caller<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        if Handle::try_current().is_ok() {
            return future.as_mut().poll(cx);
        }
        match get() {
            Ok(runtime) => {
                let _entered = runtime.enter();
                future.as_mut().poll(cx)
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    })
    .await
}

/// Runs `future` to completion from a blocking call.
///
/// On a thread outside any runtime (a plain `main`, a thread pool) the thread drives the future
/// itself on its own current-thread runtime. Inside a runtime (`spawn_blocking` threads too: they
/// belong to theirs) the future goes to the crate's I/O runtime and the thread waits on a
/// channel; on a current-thread runtime that runtime is paused while it waits, so a custom signer or middleware that needs a task on
/// that same runtime cannot finish — use the `_async` verb there.
pub(crate) fn block_on<T: Send + 'static>(future: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
    if Handle::try_current().is_err() {
        // `try_with`: a blocking call from a thread-local destructor finds the runtime gone.
        let driven = THREAD_RUNTIME.try_with(|runtime| match runtime {
            // The runtime's I/O driver (epoll) and pooled sockets are shared with the parent
            // after a fork: using them from the child would mix both processes' traffic.
            Ok((_, pid)) if *pid != std::process::id() => Err(forked()),
            Ok((runtime, _)) => runtime.block_on(future),
            Err(e) => Err(cannot_start(e)),
        });
        return driven.unwrap_or_else(|_| {
            Err(ConfigError::new("runtime", "a blocking call while this thread is shutting down").into())
        });
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let runtime = get()?;
    runtime.spawn(async move {
        // The receiver waits until this sends; a failed send means the caller is gone.
        let _ = tx.send(std::panic::AssertUnwindSafe(future).catch_unwind().await);
    });
    // Called from inside the pipeline (a middleware or signer making a blocking call): hand this
    // worker's other tasks to the rest of the pool while it waits, or every worker could end up
    // waiting on work that none of them is free to do.
    let received = if ON_RUNTIME.with(Cell::get) {
        tokio::task::block_in_place(|| rx.recv())
    } else {
        rx.recv()
    };
    match received {
        Ok(Ok(result)) => result,
        // A panic in user middleware is re-raised in the caller, where it belongs.
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(ConfigError::new(
            "runtime",
            "the request task ended without an answer (the runtime shut down)",
        )
        .into()),
    }
}
