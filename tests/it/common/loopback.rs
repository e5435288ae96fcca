//! A listener on 127.0.0.1 served from its own thread and runtime, so blocking clients in the
//! test thread can talk to it.

use std::future::Future;
use std::net::SocketAddr;

/// Binds 127.0.0.1:0 and runs `serve` on a dedicated current-thread runtime; returns the address.
pub(crate) fn spawn<F, Fut>(serve: F) -> SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener).await;
        });
    });
    rx.recv().unwrap()
}
