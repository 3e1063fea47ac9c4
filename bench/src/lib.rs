//! The measuring harness of issue 12: the generated server and client side by side with what a
//! user would write by hand, measured from outside the server process.
//!
//! - [`server_a`]: the generated router over a trivial in-memory implementation of the trait;
//! - [`server_b`]: the reference, a hand-written axum handler (serde `Query`, the same JSON,
//!   signature version 3 verified with `alibaba_rpc_runtime::signature::v3` when authentication is on);
//! - [`fixture`]: what both servers answer and every driver asks (one instance, one page, one key);
//! - [`wire`]: the requests both are sent, built (and signed) before any timed window;
//! - [`driver`]: the load driver (hyper, one keep-alive connection per concurrent caller) and the
//!   client callers (the generated client, raw reqwest with pre-signed requests);
//! - [`service`]: the real service over SQLite at 1k, 10k and 100k users per instance, and its
//!   in-process baselines (hashing, store creates, raw SQLite inserts);
//! - [`generator_scaling`]: the generator and the generated crates at 3, 30 and 300 operations;
//! - [`cpu`]: the CPU time the client (this process) and the server child use over a window;
//! - [`stats`] and [`report`]: medians, spreads, ratios and `BENCHMARKS.md`;
//! - [`build_cost`]: clean-build time and crate count of an application using the generated client
//!   next to one using raw reqwest (`--build-cost`, its own section of `BENCHMARKS.md`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod build_cost;
pub mod cpu;
pub mod driver;
pub mod fixture;
pub mod generator_scaling;
pub mod report;
pub mod server_a;
pub mod server_b;
pub mod service;
pub mod stats;
pub mod wire;

use std::net::SocketAddr;

use anyhow::{Context, Result};

/// Which implementation a server process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Side {
    /// The generated router over the in-memory implementation.
    #[value(name = "A", alias = "a")]
    A,
    /// The hand-written axum handler.
    #[value(name = "B", alias = "b")]
    B,
}

impl Side {
    /// `A` or `B`.
    pub fn label(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }
}

/// Whether the server authenticates requests (signature version 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Auth {
    /// No authentication: requests are unsigned.
    Off,
    /// Signature version 3 verified, with a nonce replay memory, on every request.
    On,
}

impl Auth {
    /// `off` or `on`.
    pub fn label(self) -> &'static str {
        match self {
            Auth::Off => "off",
            Auth::On => "on",
        }
    }
}

/// The router of `side` with authentication `auth`.
pub fn app(side: Side, auth: Auth) -> axum::Router {
    match side {
        Side::A => server_a::router(auth),
        Side::B => server_b::router(auth),
    }
}

/// Serves `side` on `listener` until the future is dropped, with TCP_NODELAY on every connection
/// and the peer address known to handlers (both sides are served exactly alike).
///
/// # Errors
/// When serving fails.
pub async fn serve(side: Side, auth: Auth, listener: tokio::net::TcpListener) -> Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app(side, auth).into_make_service_with_connect_info::<SocketAddr>()).await.context("serving")
}

/// One request to `addr` with `headers`, answered in full: status and body.
///
/// # Errors
/// When the connection or the exchange fails.
pub async fn fetch_once(addr: SocketAddr, headers: reqwest::header::HeaderMap) -> Result<(u16, bytes::Bytes)> {
    use http_body_util::{BodyExt as _, Empty};
    let stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.context("handshake")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = hyper::Request::new(Empty::<bytes::Bytes>::new());
    *request.method_mut() = hyper::Method::POST;
    *request.uri_mut() = wire::path_and_query().parse().context("request URI")?;
    *request.headers_mut() = headers;
    let response = sender.send_request(request).await.context("sending")?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.context("reading")?.to_bytes();
    Ok((status, body))
}

/// Whether `s` has the shape of a RequestId: an uppercase hyphenated UUID.
pub fn is_request_id(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_digit() || (b'A'..=b'F').contains(&b) }
        })
}

/// Asks servers `a` and `b` (authentication `auth`) the measured request once each and checks
/// that both answer 200 with the same JSON — the same fields in the same order and the same
/// values — but for the `RequestId`, which must be an uppercase UUID in both.
///
/// # Errors
/// Describes the first difference.
pub async fn check_same_answers(a: SocketAddr, b: SocketAddr, auth: Auth) -> Result<()> {
    let headers = |addr: SocketAddr| match auth {
        Auth::Off => wire::unsigned_headers(&addr.to_string()),
        Auth::On => wire::signed_headers(&addr.to_string()),
    };
    let (status_a, body_a) = fetch_once(a, headers(a)?).await?;
    let (status_b, body_b) = fetch_once(b, headers(b)?).await?;
    let text = |body: &bytes::Bytes| String::from_utf8_lossy(body).into_owned();
    if status_a != 200 || status_b != 200 {
        anyhow::bail!(
            "auth {}: A answered {status_a} {}, B answered {status_b} {}",
            auth.label(),
            text(&body_a),
            text(&body_b)
        );
    }
    let mut json_a: serde_json::Value = serde_json::from_slice(&body_a).context("A's answer is not JSON")?;
    let mut json_b: serde_json::Value = serde_json::from_slice(&body_b).context("B's answer is not JSON")?;
    for (side, json) in [("A", &mut json_a), ("B", &mut json_b)] {
        let object = json.as_object_mut().with_context(|| format!("{side}'s answer is not an object"))?;
        if object.keys().next().map(String::as_str) != Some("RequestId") {
            anyhow::bail!("{side}'s answer does not start with RequestId");
        }
        match object.shift_remove("RequestId") {
            Some(serde_json::Value::String(id)) if is_request_id(&id) => {}
            other => anyhow::bail!("{side}'s RequestId is not an uppercase UUID: {other:?}"),
        }
    }
    // Compared as text, which keeps the order (`Value`'s equality ignores the order of fields).
    let (text_a, text_b) = (json_a.to_string(), json_b.to_string());
    if text_a != text_b {
        anyhow::bail!("the answers differ:\nA: {json_a}\nB: {json_b}");
    }
    Ok(())
}
