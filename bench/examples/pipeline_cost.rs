//! Where a request's time goes, in-process (no sockets): the per-request CPU cost of both routers
//! called directly (`tower::ServiceExt::oneshot`), and of the pieces of the generated pipeline
//! measured alone. A rough guide for tuning, not a benchmark: no assertions, and the numbers are
//! as noisy as the machine.
//!
//! `cargo run --release -p smartag-bench --example pipeline_cost`; with `-- profile A|B|N on|off`
//! (or `N`, the pipeline over a null dispatcher) it only runs that router, ten times over, for a profiler (`perf record`) to watch.
//!
//! With `-- count A|B|N on|off [REQUESTS]` it warms the router up, then sends `REQUESTS` (default
//! 2000) requests, each served by `serve_one` (a function of its own, never inlined), and prints
//! the allocations per request: under callgrind, the instructions of exactly those requests are
//! the inclusive cost of `serve_one`, a count the machine's noise does not move:
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='pipeline_cost::serve_one' --callgrind-out-file=/tmp/cg.A.on \
//!     target/release/examples/pipeline_cost count A on 2000
//! callgrind_annotate --inclusive=yes /tmp/cg.A.on | head -40   # total Ir / 2000 = per request
//! ```
//!
//! With `-- grow [CHUNKS]` both routers, authentication on, are fed chunks of 50,000 signed
//! requests in turn (every nonce new), printing each chunk's microseconds per request: whether a
//! replay memory holding hundreds of thousands of nonces slows either side.

use std::hint::black_box;
use std::time::Instant;

use alibaba_rpc_runtime::operation::Operation as _;
use alibaba_rpc_runtime::params::Params;
use anyhow::{Context, Result};
use axum::body::Body;
use http_body_util::BodyExt as _;
use smartag_bench::{Auth, Side, app, server_a, wire};
use smartag_server::{DescribeSmartAccessGatewayClientUsersRequest, DescribeSmartAccessGatewayClientUsersResponse};
use tower::ServiceExt as _;

const N: usize = 20_000;

/// The system allocator, counting allocations: the count per request is a figure the noise of a
/// shared machine does not move.
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

fn per_call_us(start: Instant, n: usize) -> f64 {
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// The protocol pipeline over a dispatcher answering an empty response at once.
struct Null;

impl alibaba_rpc_runtime::server::Dispatch for Null {
    fn dispatch(
        &self,
        _ctx: smartag_server::RequestContext,
        _params: Params,
    ) -> Option<alibaba_rpc_runtime::server::DispatchFuture> {
        Some(Box::pin(async { Ok(alibaba_rpc_runtime::server::Success::new(serde_json::Value::Null)) }))
    }
}

fn null_pipeline() -> axum::Router {
    let config = smartag_server::ServerConfig::builder(&smartag_server::SERVICE)
        .authentication(smartag_server::Authentication::disabled())
        .build();
    alibaba_rpc_runtime::server::router(Null, config, &alibaba_rpc_runtime::errors::ProtocolErrors::STANDARD)
}

/// Microseconds per request, and allocations (and reallocations) per request inside the router
/// (the test's own request building excluded).
async fn router_cost(router: axum::Router, auth: Auth) -> Result<(f64, f64)> {
    let host = "127.0.0.1:8080";
    let headers = match auth {
        Auth::Off => vec![wire::unsigned_headers(host)?; N],
        Auth::On => wire::signed_batch(host, N)?,
    };
    let uri = wire::path_and_query();
    let start = Instant::now();
    let mut inside = 0;
    for h in headers {
        let mut request = axum::http::Request::new(Body::empty());
        *request.method_mut() = axum::http::Method::POST;
        *request.uri_mut() = uri.parse().context("uri")?;
        *request.headers_mut() = h;
        let before = allocations();
        let response = router.clone().oneshot(request).await.context("router")?;
        anyhow::ensure!(response.status() == 200, "status {}", response.status());
        let body = response.into_body().collect().await.context("body")?.to_bytes();
        inside += allocations() - before;
        black_box(body);
    }
    Ok((per_call_us(start, N), inside as f64 / N as f64))
}

/// The requests of `count`: unsigned, or each signed with a nonce of its own.
fn requests(auth: Auth, count: usize) -> Result<Vec<axum::http::Request<Body>>> {
    let host = "127.0.0.1:8080";
    let headers = match auth {
        Auth::Off => vec![wire::unsigned_headers(host)?; count],
        Auth::On => wire::signed_batch(host, count)?,
    };
    let uri: axum::http::Uri = wire::path_and_query().parse().context("uri")?;
    Ok(headers
        .into_iter()
        .map(|h| {
            let mut request = axum::http::Request::new(Body::empty());
            *request.method_mut() = axum::http::Method::POST;
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = h;
            request
        })
        .collect())
}

/// One request through `router`, answered in full: the function callgrind's `--toggle-collect`
/// names (the warm-up calls [`answer_in_full`] inlined, so it is not collected).
#[inline(never)]
fn serve_one(
    runtime: &tokio::runtime::Runtime,
    router: &axum::Router,
    request: axum::http::Request<Body>,
) -> Result<axum::body::Bytes> {
    answer_in_full(runtime, router, request)
}

#[inline(always)]
fn answer_in_full(
    runtime: &tokio::runtime::Runtime,
    router: &axum::Router,
    request: axum::http::Request<Body>,
) -> Result<axum::body::Bytes> {
    runtime.block_on(async {
        let response = router.clone().oneshot(request).await.context("router")?;
        anyhow::ensure!(response.status() == 200, "status {}", response.status());
        Ok(response.into_body().collect().await.context("body")?.to_bytes())
    })
}

/// `count SIDE AUTH [REQUESTS]`: see the module's documentation.
fn count(runtime: &tokio::runtime::Runtime, side: &str, auth: Auth, n: usize) -> Result<()> {
    let router = match side {
        "A" => app(Side::A, auth),
        "N" => null_pipeline(),
        _ => app(Side::B, auth),
    };
    for request in requests(auth, 200)? {
        black_box(answer_in_full(runtime, &router, request)?);
    }
    let requests = requests(auth, n)?;
    let before = allocations();
    for request in requests {
        black_box(serve_one(runtime, &router, request)?);
    }
    let allocs = allocations() - before;
    println!("{side} auth {}: {n} requests, {:.1} allocations/request", auth.label(), allocs as f64 / n as f64);
    Ok(())
}

/// `grow [CHUNKS]`: both routers with authentication on, fed alternately chunks of
/// [`GROW_CHUNK`] signed requests each, every nonce new, so each router's replay memory grows as
/// it does over a whole bench section; prints the microseconds per request of every chunk.
fn grow(runtime: &tokio::runtime::Runtime, chunks: usize) -> Result<()> {
    let routers = [(Side::A, app(Side::A, Auth::On)), (Side::B, app(Side::B, Auth::On))];
    for chunk in 0..chunks {
        for (side, router) in &routers {
            let requests = requests(Auth::On, GROW_CHUNK)?;
            let start = Instant::now();
            for request in requests {
                black_box(answer_in_full(runtime, router, request)?);
            }
            let us = per_call_us(start, GROW_CHUNK);
            println!("chunk {chunk} ({:>7} nonces before): {} {us:>6.2} µs/request", chunk * GROW_CHUNK, side.label());
        }
    }
    Ok(())
}

/// Requests per chunk of `grow`.
const GROW_CHUNK: usize = 50_000;

fn piece(name: &str, mut f: impl FnMut()) {
    for _ in 0..1000 {
        f();
    }
    let start = Instant::now();
    for _ in 0..N {
        f();
    }
    println!("  {name:<62} {:>7.2} µs", per_call_us(start, N));
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("runtime")?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, side, auth, rest @ ..] = args.as_slice()
        && mode == "count"
    {
        let auth = if auth == "on" { Auth::On } else { Auth::Off };
        let n = match rest.first() {
            Some(n) => n.parse().context("REQUESTS must be a number")?,
            None => 2000,
        };
        return count(&runtime, side, auth, n);
    }
    if let [mode, rest @ ..] = args.as_slice()
        && mode == "grow"
    {
        let chunks = match rest.first() {
            Some(n) => n.parse().context("CHUNKS must be a number")?,
            None => 8,
        };
        return grow(&runtime, chunks);
    }
    if let [mode, side, auth] = args.as_slice()
        && mode == "profile"
    {
        let auth = if auth == "on" { Auth::On } else { Auth::Off };
        for _ in 0..10 {
            // `N`: the generated pipeline over a dispatcher answering null (auth off only).
            let router = match side.as_str() {
                "A" => app(Side::A, auth),
                "N" => null_pipeline(),
                _ => app(Side::B, auth),
            };
            let (us, allocs) = runtime.block_on(router_cost(router, auth))?;
            println!("{side} auth {}: {us:.2} µs/request, {allocs:.1} allocations/request", auth.label());
        }
        return Ok(());
    }
    println!("whole routers, in-process, one thread ({N} requests each):");
    for auth in [Auth::Off, Auth::On] {
        for side in [Side::A, Side::B] {
            let (us, allocs) = runtime.block_on(router_cost(app(side, auth), auth))?;
            println!(
                "  {} auth {:<3} {us:>7.2} µs/request {allocs:>6.1} allocations/request",
                side.label(),
                auth.label()
            );
        }
    }
    let (us, allocs) = runtime.block_on(router_cost(null_pipeline(), Auth::Off))?;
    println!(
        "  the generated pipeline over a dispatcher answering null at once, auth off {us:>7.2} µs/request {allocs:>6.1} allocations/request"
    );

    println!("pieces of the generated pipeline, alone:");
    let query = wire::query_string();
    let page = server_a::fixed_page();
    piece("RequestId: uuid v4, to_string, uppercase, Arc<str>", || {
        let id: std::sync::Arc<str> = std::sync::Arc::from(uuid::Uuid::new_v4().to_string().to_ascii_uppercase());
        black_box(id);
    });
    piece("Params::parse_urlencoded(query) (done twice per request)", || {
        black_box(Params::parse_urlencoded(black_box(query.as_bytes())));
    });
    let params = Params::parse_urlencoded(query.as_bytes());
    piece("DescribeRequest::from_params (extract + validate)", || {
        black_box(DescribeSmartAccessGatewayClientUsersRequest::from_params(black_box(&params)).ok());
    });
    piece("response: clone of the page (what the impl returns)", || {
        black_box(page.clone());
    });
    piece("response: serde_json::to_value + Map rebuild + to_string (A)", || {
        let value = serde_json::to_value(black_box(&page)).ok();
        let mut object = serde_json::Map::new();
        object.insert("RequestId".to_owned(), serde_json::Value::String("X".repeat(36)));
        if let Some(serde_json::Value::Object(fields)) = value {
            for (k, v) in fields {
                if k != "RequestId" {
                    object.insert(k, v);
                }
            }
        }
        black_box(serde_json::Value::Object(object).to_string());
    });
    piece("response: serde_json::to_vec of the struct (B's way)", || {
        black_box(serde_json::to_vec(black_box(&page)).ok());
    });
    println!("pieces of a client call, alone:");
    piece("version 3 signature of the request (what the client does per call)", || {
        black_box(wire::signed_headers("127.0.0.1:8080").ok());
    });
    let body = serde_json::to_vec(&page).unwrap_or_default();
    piece("decoding the answer into the generated response type", || {
        black_box(serde_json::from_slice::<DescribeSmartAccessGatewayClientUsersResponse>(black_box(&body)).ok());
    });
    piece("decoding the answer into the hand-written struct", || {
        black_box(serde_json::from_slice::<smartag_bench::server_b::DescribeOut>(black_box(&body)).ok());
    });
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..N {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            black_box(tokio::time::timeout_at(deadline, std::future::ready(1)).await.ok());
        }
        println!(
            "  {:<62} {:>7.2} µs",
            "tokio::time::timeout_at on a ready future (done twice)",
            per_call_us(start, N)
        );
        let start = Instant::now();
        for _ in 0..N {
            let f = Box::pin(futures_ready());
            black_box(futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(f)).await.ok());
        }
        println!("  {:<62} {:>7.2} µs", "Box::pin + catch_unwind of a ready future", per_call_us(start, N));
    });
    Ok(())
}

async fn futures_ready() -> u32 {
    1
}
