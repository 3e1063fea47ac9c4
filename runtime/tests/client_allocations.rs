//! What one call of the client allocates, counted, so that work the client does per call does
//! not come back unnoticed.
//!
//! Each allocation is one trip to the allocator; the client's per-call cost was cut to where
//! most of what is left is reqwest's, hyper's and serde's. This test counts the allocations made
//! on the calling thread (a current-thread runtime: the client, reqwest's connection task and
//! the timer all run there) over a hundred calls against a keep-alive server on another thread,
//! and holds the average to a budget. One example of what it catches: reqwest's default retry
//! policy copies every request (header map and extensions) in case an HTTP/2 refusal has to be
//! retried; the client speaks HTTP/1.1 and retries by its own policy, so it turns that off, and
//! turning it back on adds two allocations per call. Another: reqwest looks its default headers
//! up with `HeaderMap::entry`, which grows a map whose index is full before looking; a version 1.0
//! request's three headers filled an index of four, and each request's map grew (two allocations)
//! until the client's maps kept one slot of room.
#![cfg(feature = "client")]

mod client_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use alibaba_rpc_runtime::client::{RetryPolicy, SignatureVersion};
use client_support::{FakeDescribe, client_with, credentials};

/// Counts the allocations of the threads that ask for it.
struct Counting;

thread_local! {
    /// Allocations made by this thread while counting, or `None` when not counting.
    static COUNT: Cell<Option<u64>> = const { Cell::new(None) };
}

fn count_one() {
    // `try_with`: a thread being torn down has no thread-locals left; it is not counting.
    let _ = COUNT.try_with(|c| {
        if let Some(n) = c.get() {
            c.set(Some(n + 1));
        }
    });
}

// SAFETY: every method forwards to the system allocator unchanged; the counter is a
// thread-local `Cell` of plain integers, which allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as above, for `alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A keep-alive HTTP/1.1 server on its own thread (plain blocking I/O, so nothing of it runs on
/// the counting thread) answering every request with the same JSON; returns its endpoint.
fn keep_alive_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let body = r#"{"RequestId":"5E2F8C4A-1B3D-4E6F-8A9B-0C1D2E3F4A5B","UserName":"alice","Bandwidth":5}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=utf-8\r\n\
             x-acs-request-id: 5E2F8C4A-1B3D-4E6F-8A9B-0C1D2E3F4A5B\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut pending = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    // One whole request (its head, then `content-length` bytes of body) per answer.
                    while let Some(end) = request_end(&pending) {
                        pending.drain(..end);
                        if stream.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// Where the first whole request in `bytes` ends, if one is there.
fn request_end(bytes: &[u8]) -> Option<usize> {
    let head = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&bytes[..head]).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    (bytes.len() >= head + length).then_some(head + length)
}

/// The average allocations per call signed with `version` over `calls` calls, after a warm-up
/// that opens the connection and fills the caches.
fn allocations_per_call(version: SignatureVersion, calls: u64) -> f64 {
    let endpoint = keep_alive_server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = client_with(&endpoint, RetryPolicy::default(), credentials(), Some(version));
        let request = FakeDescribe::valid();
        for _ in 0..20 {
            client.call(&request).await.unwrap();
        }
        COUNT.with(|c| c.set(Some(0)));
        for _ in 0..calls {
            let answer = client.call(&request).await.unwrap();
            assert_eq!(answer.user_name, "alice");
        }
        let counted = COUNT.with(|c| c.replace(None)).unwrap_or(0);
        counted as f64 / calls as f64
    })
}

/// The budgets: what a signed call allocates on its thread today (validation and parameters,
/// signing, the request, reqwest and hyper, the answer read and decoded; the parameters' strings are
/// borrowed from the request, not copied), with a margin below one
/// allocation. If a change needs more, say why here and raise it.
const BUDGET_V3: f64 = 59.5;
/// Version 1.0 sends its parameters and signature as a form body (one more header, the body).
const BUDGET_V1: f64 = 59.5;

#[test]
fn a_version_3_call_allocates_no_more_than_its_budget() {
    let per_call = allocations_per_call(SignatureVersion::V3, 100);
    assert!(per_call <= BUDGET_V3, "a version 3 call allocates {per_call:.2} times, over the budget of {BUDGET_V3}");
}

#[test]
fn a_version_1_call_allocates_no_more_than_its_budget() {
    let per_call = allocations_per_call(SignatureVersion::V1, 100);
    assert!(per_call <= BUDGET_V1, "a version 1.0 call allocates {per_call:.2} times, over the budget of {BUDGET_V1}");
}
