//! Keeping connections from holding the emulator forever: a deadline for the first request, an
//! idle limit afterwards, and backing off when `accept` fails (out of file descriptors).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The default for [`EmulatorBuilder::header_read_timeout`](super::EmulatorBuilder::header_read_timeout).
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default for [`EmulatorBuilder::idle_timeout`](super::EmulatorBuilder::idle_timeout).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to wait after the `n`th `accept` failure in a row: 10 ms, doubling, at most 1 s. An
/// `accept` that fails for want of file descriptors fails again at once, so retrying without a
/// pause spins a core until a descriptor frees up.
pub(crate) fn accept_backoff(consecutive_failures: u32) -> Duration {
    let doublings = consecutive_failures.saturating_sub(1).min(7);
    Duration::from_millis(10 << doublings).min(Duration::from_secs(1))
}

/// Errors that concern one connection only (the peer gave up before it was accepted): the next
/// `accept` can go ahead at once.
pub(crate) fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// The limits one connection lives under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// From accepting the connection to its first request reaching the handler (TLS handshake and
    /// request head included). Hyper applies the same limit to each later HTTP/1.1 head.
    pub(crate) header_read: Duration,
    /// No bytes moving and no request being handled for this long closes the connection.
    pub(crate) idle: Duration,
}

/// What the request handler tells the connection's I/O about its requests.
#[derive(Debug)]
pub(crate) struct Activity {
    origin: Instant,
    /// Milliseconds after `origin` when bytes last moved or a request finished.
    last: AtomicU64,
    /// Requests being handled (their bodies read).
    busy: AtomicUsize,
    /// A request reached the handler: the first-request deadline is met.
    started: AtomicBool,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            last: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            started: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        let elapsed = crate::clock::millis(self.origin.elapsed());
        self.last.store(elapsed, Ordering::SeqCst);
    }

    fn last(&self) -> Instant {
        self.origin + Duration::from_millis(self.last.load(Ordering::SeqCst))
    }

    /// A request's head arrived.
    pub(crate) fn started(&self) {
        self.touch();
        self.started.store(true, Ordering::SeqCst);
    }

    /// A request is being handled until the guard drops: the connection is not idle meanwhile,
    /// however long the handler takes (a `delay-…` fault, a large bill's digest).
    pub(crate) fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(self))
    }
}

/// See [`Activity::busy`].
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        // Idle time counts from the end of the request, not from its last byte.
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A connection's I/O that fails with `TimedOut` when a limit passes, which makes hyper (and TLS)
/// drop the connection.
pub(crate) struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
    limits: Limits,
    timer: Pin<Box<Sleep>>,
    /// The timer is still the first-request deadline.
    first_deadline: bool,
}

impl<T> Watched<T> {
    pub(crate) fn new(io: T, activity: Arc<Activity>, limits: Limits) -> Self {
        Self {
            io,
            activity,
            limits,
            timer: Box::pin(tokio::time::sleep(limits.header_read)),
            first_deadline: true,
        }
    }

    /// Whether a limit has passed; otherwise the timer is armed to wake this task.
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        if self.first_deadline && self.activity.started.load(Ordering::SeqCst) {
            self.first_deadline = false;
            self.timer.as_mut().reset(self.activity.last() + self.limits.idle);
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            if self.first_deadline {
                return true;
            }
            let now = Instant::now();
            let next = if self.activity.busy.load(Ordering::SeqCst) > 0 {
                now + self.limits.idle
            } else {
                let deadline = self.activity.last() + self.limits.idle;
                if deadline <= now {
                    return true;
                }
                deadline
            };
            self.timer.as_mut().reset(next);
        }
        false
    }

    fn timeout_error() -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, "emulator: connection idle or too slow")
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.activity.touch();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(Self::timeout_error())),
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.activity.touch();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(Self::timeout_error())),
            other => other,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.activity.touch();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(Self::timeout_error())),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_backoff_doubles_from_10_ms_to_1_s() {
        let schedule: Vec<u64> = (1..=10).map(|n| crate::clock::millis(accept_backoff(n))).collect();
        assert_eq!(schedule, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert_eq!(accept_backoff(0), Duration::from_millis(10));
        assert_eq!(accept_backoff(u32::MAX), Duration::from_secs(1));
    }
}
