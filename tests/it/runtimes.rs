//! Where calls run: async verbs in the caller's task on any executor, blocking verbs from any
//! thread; one client across runtimes that come and go.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::common;
use crate::common::multi_thread;
use serde_json::json;
use wechatpay::emulator::{Emulator, Fault};
use wechatpay::Client;

fn seed(out_request_no: String) -> serde_json::Value {
    common::seed_call(out_request_no)
}

fn sync_call(client: &Client, n: u32) -> wechatpay::Result<()> {
    let options = seed(format!("RT-{n}"));
    client
        .chain("v3/brand/partner/card-member/user-points/sync")
        .post(options)
        .map(|_| ())
}

async fn async_call(client: &Client, n: u32) -> wechatpay::Result<()> {
    let options = seed(format!("RT-A{n}"));
    client
        .chain("v3/brand/partner/card-member/user-points/sync")
        .post_async(options)
        .await
        .map(|_| ())
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_client_made_in_one_runtime_works_in_others_after_it_is_dropped() {
    let emulator = Emulator::start().unwrap();
    let first = multi_thread();
    let client = first.block_on(async {
        let client = emulator.client_builder().build().unwrap();
        for n in 0..3 {
            async_call(&client, n).await.unwrap();
        }
        client
    });
    // The runtime that opened the pooled connections is gone.
    drop(first);
    let second = current_thread();
    second.block_on(async {
        for n in 3..6 {
            async_call(&client, n).await.unwrap();
        }
    });
    drop(second);
    // And from plain threads, and a third runtime, alternately.
    sync_call(&client, 6).unwrap();
    multi_thread().block_on(async_call(&client, 7)).unwrap();
    sync_call(&client, 8).unwrap();
    assert_eq!(emulator.received().len(), 9);
}

#[test]
fn blocking_verbs_from_main_spawn_blocking_threads_and_inside_a_runtime() {
    let (emulator, client) = common::emulated();
    sync_call(&client, 0).unwrap();
    let runtime = multi_thread();
    let from_pool = client.clone();
    runtime
        .block_on(runtime.spawn_blocking(move || sync_call(&from_pool, 1)))
        .unwrap()
        .unwrap();
    // Inside async code a blocking verb still answers (the thread waits for it).
    let inside = client.clone();
    runtime
        .block_on(runtime.spawn(async move { sync_call(&inside, 2) }))
        .unwrap()
        .unwrap();
    let threads: Vec<_> = (3..7)
        .map(|n| {
            let client = client.clone();
            std::thread::spawn(move || sync_call(&client, n))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(emulator.received().len(), 7);
}

#[test]
fn async_verbs_on_a_current_thread_runtime_and_concurrently() {
    let (emulator, client) = common::emulated();
    current_thread().block_on(async {
        let calls = (0..8).map(|n| {
            let client = client.clone();
            tokio::spawn(async move { async_call(&client, n).await })
        });
        for call in calls.collect::<Vec<_>>() {
            call.await.unwrap().unwrap();
        }
    });
    assert_eq!(emulator.received().len(), 8);
}

/// The smallest executor there is: poll on this thread, park until woken. No tokio anywhere.
fn park_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn async_verbs_on_an_executor_that_is_not_tokio() {
    let (emulator, client) = common::emulated();
    park_on(async {
        for n in 0..3 {
            async_call(&client, n).await.unwrap();
        }
    });
    // Timeouts need a timer there too (a client not paced by the rate limit, so that the
    // timeout, not the limiter, ends the call).
    let client = emulator
        .client_builder()
        .rate_limits(wechatpay::RateLimits::none())
        .build()
        .unwrap();
    emulator.set_faults([Fault::Delay(std::time::Duration::from_secs(5))]);
    let err = park_on(
        client
            .chain("v3/brand/partner/card-member/user-points/sync")
            .post_async({
                let mut slow = seed("slow".into());
                slow["timeout"] = json!(0.05);
                slow
            }),
    )
    .unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

/// A blocking call in a process forked after this thread's runtime was made is refused: that
/// runtime's epoll instance and pooled sockets are shared with the parent.
///
/// The fork happens in a fresh copy of this test binary running only this test: forking the
/// whole suite's process, with every other module's threads holding who knows which locks, could
/// hang the child for reasons that are not the client's.
#[cfg(unix)]
#[test]
fn a_forked_child_is_refused_rather_than_sharing_the_parents_connections() {
    if !common::alone(
        module_path!(),
        "a_forked_child_is_refused_rather_than_sharing_the_parents_connections",
    ) {
        return;
    }
    let (_emulator, client) = common::emulated();
    // On a thread of its own, so the fork copies a thread whose runtime exists and nothing else
    // of this test's.
    let child_status = std::thread::spawn(move || {
        sync_call(&client, 900).unwrap();
        // The child only calls the client and exits.
        let pid = unsafe_fork();
        if pid == 0 {
            let code = match sync_call(&client, 901) {
                Err(e) if e.is_config() && e.to_string().contains("forked") => 0,
                _ => 1,
            };
            std::process::exit(code);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let mut status = 0;
            let done = wait_nohang(pid, &mut status);
            if done == pid {
                break status;
            }
            if std::time::Instant::now() > deadline {
                kill(pid);
                panic!("the forked child hung");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    })
    .join()
    .unwrap();
    assert!(libc_exited_with(child_status, 0), "child status {child_status}");
}

#[cfg(unix)]
fn unsafe_fork() -> i32 {
    // The library forbids unsafe code; a test may call libc directly.
    unsafe { libc::fork() }
}

#[cfg(unix)]
fn wait_nohang(pid: i32, status: &mut i32) -> i32 {
    unsafe { libc::waitpid(pid, status, libc::WNOHANG) }
}

#[cfg(unix)]
fn kill(pid: i32) {
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

#[cfg(unix)]
fn libc_exited_with(status: i32, code: i32) -> bool {
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == code
}
