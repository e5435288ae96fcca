//! The emulator's accept loop: connections accepted (with backoff when accepting fails), TLS
//! when configured, watched for idleness, and served by `handle` until the emulator stops.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::handle::handle;
use super::{conn, Shared};

/// Serves `listener` on `runtime` until `stopped` fires.
pub(super) fn spawn(
    runtime: &tokio::runtime::Runtime,
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    http: hyper_util::server::conn::auto::Builder<TokioExecutor>,
    limits: conn::Limits,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    runtime.spawn(async move {
        let mut failures = 0u32;
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        failures = 0;
                        stream
                    }
                    Err(e) if conn::is_connection_error(&e) => continue,
                    Err(_) => {
                        // Out of descriptors (or similar): accept would fail again at once.
                        failures = failures.saturating_add(1);
                        tokio::select! {
                            () = tokio::time::sleep(conn::accept_backoff(failures)) => continue,
                            _ = &mut stopped => return,
                        }
                    }
                },
                _ = &mut stopped => return,
            };
            let shared = Arc::clone(&shared);
            let acceptor = acceptor.clone();
            let http = http.clone();
            tokio::spawn(async move {
                let activity = conn::Activity::new();
                let stream = conn::Watched::new(stream, Arc::clone(&activity), limits);
                let serve = |client_certificate: bool| {
                    service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        let activity = Arc::clone(&activity);
                        async move {
                            Ok::<_, Infallible>(handle(&shared, request, client_certificate, &activity).await)
                        }
                    })
                };
                match acceptor {
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), serve(false)).await;
                    }
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(stream).await else {
                            return;
                        };
                        let presented = stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                        let _ = http.serve_connection(TokioIo::new(stream), serve(presented)).await;
                    }
                }
            });
        }
    });
}
