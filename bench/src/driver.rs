//! The load driver: concurrent callers, each looping over its own pre-built requests for a
//! timed window, recording every call's latency.
//!
//! - [`HyperCaller`]: one HTTP/1.1 keep-alive connection (hyper, TCP_NODELAY) per caller, for the
//!   server comparison: the cheapest client there is, so the server dominates.
//! - [`GeneratedCaller`]: the generated `smartag_client::Client` (signs every call itself).
//! - [`RawCaller`]: raw reqwest sending pre-signed requests and decoding the JSON with serde.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use reqwest::header::HeaderMap;

use crate::server_b::DescribeOut;
use crate::stats::Window;
use crate::wire::{Presigned, Signing};

/// What one call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A call completed successfully.
    Done,
    /// The caller has no pre-built request left: the window ends for everyone.
    Exhausted,
}

/// One concurrent caller of a window.
pub trait Caller: Send + 'static {
    /// One call, start to finish (the answer read and checked).
    fn call(&mut self) -> impl Future<Output = Result<Step>> + Send;
}

/// The requests a caller sends: a template cloned for every call (unsigned requests), or
/// pre-signed ones used once each.
#[derive(Debug, Default)]
pub struct Pool {
    template: Option<HeaderMap>,
    fresh: Vec<HeaderMap>,
}

impl Pool {
    /// The same headers for every call.
    pub fn reuse(template: HeaderMap) -> Pool {
        Pool { template: Some(template), fresh: Vec::new() }
    }

    /// Each of `fresh` once, then exhausted.
    pub fn once_each(fresh: Vec<HeaderMap>) -> Pool {
        Pool { template: None, fresh }
    }

    fn next(&mut self) -> Option<HeaderMap> {
        self.fresh.pop().or_else(|| self.template.clone())
    }
}

/// Runs `callers` concurrently (one task each) for `duration`, then hands them back with the
/// window's result. A window also ends when any caller is exhausted; any failed call fails it.
///
/// # Errors
/// The first failed call.
pub async fn window<C: Caller>(callers: Vec<C>, duration: Duration) -> Result<(Vec<C>, Window)> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|mut caller| {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut latencies: Vec<u32> = Vec::with_capacity(1024);
                let mut exhausted = false;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let t = Instant::now();
                    match caller.call().await {
                        Ok(Step::Done) => {
                            latencies.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                        }
                        Ok(Step::Exhausted) => {
                            exhausted = true;
                            stop.store(true, Ordering::Relaxed);
                        }
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                }
                Ok((caller, latencies, exhausted, Instant::now()))
            })
        })
        .collect();
    let mut callers = Vec::with_capacity(tasks.len());
    let mut latencies = Vec::new();
    let mut ended_early = false;
    let mut finished = started;
    let mut failure = None;
    for task in tasks {
        match task.await.context("a caller task panicked")? {
            Ok((caller, l, exhausted, end)) => {
                callers.push(caller);
                latencies.extend(l);
                ended_early |= exhausted;
                finished = finished.max(end);
            }
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok((callers, Window::new(latencies, finished - started, ended_early)))
}

/// One timed window of `callers` (see [`window`]) with the CPU time this process and the server
/// child `server_pid` (when given) use over it, and the machine's stolen share.
///
/// # Errors
/// The first failed call.
pub async fn measure<C: Caller>(
    callers: Vec<C>,
    duration: Duration,
    server_pid: Option<u32>,
) -> Result<(Vec<C>, Window)> {
    let meter = crate::cpu::Meter::start(server_pid);
    let (callers, measured) = window(callers, duration).await?;
    Ok((callers, measured.with_cpu(meter.stop())))
}

/// A warm-up window of `callers`, then `refill` (given the warm-up's rate) hands them fresh
/// requests, then one [`measure`]d window.
///
/// # Errors
/// The first failed call, or `refill`'s error.
pub async fn warm_and_measure<C: Caller>(
    callers: Vec<C>,
    warmup: Duration,
    duration: Duration,
    server_pid: Option<u32>,
    refill: impl FnOnce(&mut [C], f64) -> Result<()>,
) -> Result<Window> {
    let (mut callers, warm) = window(callers, warmup).await?;
    refill(&mut callers, warm.rate())?;
    Ok(measure(callers, duration, server_pid).await?.1)
}

/// An HTTP/1.1 keep-alive connection (TCP_NODELAY) that sends bodiless `POST`s: what the
/// bench's raw callers (this module's [`HyperCaller`], the service section's) share.
pub struct Connection {
    sender: SendRequest<Empty<Bytes>>,
}

impl Connection {
    /// Connects to `addr`.
    ///
    /// # Errors
    /// When the connection or the HTTP handshake fails.
    pub async fn open(addr: SocketAddr) -> Result<Connection> {
        let stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true).context("TCP_NODELAY")?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.context("HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Connection { sender })
    }

    /// Sends `POST uri` with `headers`; the answer's status and whole body.
    ///
    /// # Errors
    /// When the connection is closed or the exchange fails.
    pub async fn post(&mut self, uri: Uri, headers: HeaderMap) -> Result<(StatusCode, Bytes)> {
        let mut request = Request::new(Empty::<Bytes>::new());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await.context("sending")?;
        let status = response.status();
        let body = response.into_body().collect().await.context("reading the answer")?.to_bytes();
        Ok((status, body))
    }
}

/// A caller on its own HTTP/1.1 keep-alive connection.
pub struct HyperCaller {
    connection: Connection,
    uri: Uri,
    /// The requests it sends; refill it between windows.
    pub pool: Pool,
}

impl HyperCaller {
    /// Connects to `addr` (TCP_NODELAY) and sends `path_and_query` with the headers of `pool`.
    ///
    /// # Errors
    /// When the connection or the HTTP handshake fails.
    pub async fn connect(addr: SocketAddr, path_and_query: &str, pool: Pool) -> Result<HyperCaller> {
        let connection = Connection::open(addr).await?;
        let uri: Uri = path_and_query.parse().context("request URI")?;
        Ok(HyperCaller { connection, uri, pool })
    }
}

impl Caller for HyperCaller {
    async fn call(&mut self) -> Result<Step> {
        let Some(headers) = self.pool.next() else { return Ok(Step::Exhausted) };
        let (status, body) = self.connection.post(self.uri.clone(), headers).await?;
        if status != StatusCode::OK {
            bail!("HTTP {status}: {}", excerpt(&body));
        }
        Ok(Step::Done)
    }
}

/// A caller using the generated client (which validates, signs with a fresh nonce, sends and
/// decodes every call itself).
pub struct GeneratedCaller {
    client: smartag_client::Client,
    request: smartag_client::DescribeSmartAccessGatewayClientUsersRequest,
}

impl GeneratedCaller {
    /// A caller on `client` (clones share one connection pool), sending the bench's Describe.
    pub fn new(client: smartag_client::Client) -> GeneratedCaller {
        let request = smartag_client::DescribeSmartAccessGatewayClientUsersRequest::builder()
            .region_id(crate::fixture::REGION)
            .smart_ag_id(crate::fixture::INSTANCE)
            .page_number(1)
            .page_size(10)
            .build();
        GeneratedCaller { client, request }
    }
}

/// The generated client for `endpoint` (`http://host:port`) with the bench key, signing with
/// its default (version 3).
///
/// # Errors
/// When the configuration or the HTTP client cannot be built.
pub fn generated_client(endpoint: &str) -> Result<smartag_client::Client> {
    generated_client_signing(endpoint, Signing::V3)
}

/// The generated client for `endpoint` with the bench key, signing with `signing`.
///
/// # Errors
/// When the configuration or the HTTP client cannot be built.
pub fn generated_client_signing(endpoint: &str, signing: Signing) -> Result<smartag_client::Client> {
    let version = match signing {
        Signing::V1 => smartag_client::SignatureVersion::V1,
        Signing::V3 => smartag_client::SignatureVersion::V3,
    };
    let config = smartag_client::Client::config_builder()
        .region(crate::fixture::REGION)
        .endpoint(endpoint)
        .credentials(smartag_client::Credentials::new(crate::fixture::ACCESS_KEY_ID, crate::fixture::ACCESS_KEY_SECRET))
        .signature_version(version)
        .build()
        .map_err(|e| anyhow::anyhow!("client configuration: {e}"))?;
    smartag_client::Client::new(config).map_err(|e| anyhow::anyhow!("client: {e}"))
}

impl Caller for GeneratedCaller {
    async fn call(&mut self) -> Result<Step> {
        let page = self
            .client
            .describe_smart_access_gateway_client_users(&self.request)
            .await
            .map_err(|e| anyhow::anyhow!("generated client: {e}"))?;
        if page.users.len() != crate::fixture::USERS {
            bail!("generated client: {} users instead of {}", page.users.len(), crate::fixture::USERS);
        }
        Ok(Step::Done)
    }
}

/// A plain `reqwest::Client`, built as an application builds one.
///
/// The workspace enables reqwest's rustls without a crypto provider (the runtime hands reqwest its
/// own ring-based configuration; README, "Dependencies"), so an application building a plain
/// reqwest client installs a process-wide provider first, as reqwest's documentation asks; this
/// harness is such an application. Installing twice is harmless (the first provider stays).
pub fn raw_http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A caller sending pre-signed requests with a plain `reqwest::Client` and decoding the answer
/// with serde into a hand-written struct.
pub struct RawCaller {
    http: reqwest::Client,
    /// The pre-signed requests, each sent once (last first); refill between windows.
    pub presigned: Vec<Presigned>,
}

impl RawCaller {
    /// A caller on `http` (clones share one connection pool) sending each of `presigned` once.
    pub fn new(http: reqwest::Client, presigned: Vec<Presigned>) -> RawCaller {
        RawCaller { http, presigned }
    }
}

impl Caller for RawCaller {
    async fn call(&mut self) -> Result<Step> {
        let Some(Presigned { url, headers, body }) = self.presigned.pop() else { return Ok(Step::Exhausted) };
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        *request.headers_mut() = headers;
        *request.body_mut() = body.map(reqwest::Body::from);
        let response = self.http.execute(request).await.context("raw reqwest: sending")?;
        let status = response.status();
        let body = response.bytes().await.context("raw reqwest: reading")?;
        if !status.is_success() {
            bail!("raw reqwest: HTTP {status}: {}", excerpt(&body));
        }
        let page: DescribeOut = serde_json::from_slice(&body).context("raw reqwest: decoding")?;
        if page.users.user.len() != crate::fixture::USERS {
            bail!("raw reqwest: {} users instead of {}", page.users.user.len(), crate::fixture::USERS);
        }
        Ok(Step::Done)
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(400)]).into_owned()
}
