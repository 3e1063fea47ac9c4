//! Metrics in the Prometheus (OpenMetrics) text format, served by the admin listener at
//! `GET /metrics`:
//!
//! - `smartag_requests_total{action, code, status}`: answered requests; `code` is the error code
//!   or `OK`, `action` an operation of the API or `unknown` (an Action the API does not have, or
//!   none: never the caller's text, so the number of series stays bounded);
//! - `smartag_request_duration_seconds{action}`: a histogram of the time to answer;
//! - `smartag_users{region, instance}`: the users of each configured instance (read at scrape
//!   time);
//! - `smartag_fault_hits_total{action, fault}`: calls hit by a fault rule, `fault` being the
//!   error answered or `latency`.
//!
//! [`observe`] is the axum middleware around the API router that counts and times every request
//! and writes its access log line ([`crate::logging::access`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use alibaba_rpc_runtime::server::Answered;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use smartag_server::OPERATIONS;

use crate::config::Config;
use crate::faults::Faults;
use crate::store::{Store, StoreError};

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `code` label of a request answered successfully.
pub const SUCCESS_CODE: &str = "OK";
/// The `action` label of a request that named no operation of the API.
pub const UNKNOWN_ACTION: &str = "unknown";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    action: &'static str,
    code: &'static str,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InstanceLabels {
    region: String,
    instance: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FaultLabels {
    action: String,
    fault: &'static str,
}

/// Buckets from 1 ms to about 16 s (doubling).
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The service's metrics. Cheap to clone (shared).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<ActionLabels, Histogram, fn() -> Histogram>,
    users: Family<InstanceLabels, Gauge>,
    fault_hits: Family<FaultLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Every series empty.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("smartag");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by operation, error code (OK: success) and HTTP status",
            requests.clone(),
        );
        let latency = Family::<ActionLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "request_duration",
            "Time to answer a request, by operation",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        let users = Family::<InstanceLabels, Gauge>::default();
        registry.register("users", "Client users stored, by configured instance", users.clone());
        let fault_hits = Family::<FaultLabels, Counter>::default();
        registry.register(
            "fault_hits",
            "Calls hit by a fault rule, by operation and fault (the error answered, or latency)",
            fault_hits.clone(),
        );
        Metrics { inner: Arc::new(Inner { registry, requests, latency, users, fault_hits }) }
    }

    /// Counts one answered request.
    pub fn record(&self, answered: Option<&Answered>, status: u16, elapsed: Duration) {
        let action = answered
            .and_then(|a| a.action.as_deref())
            .and_then(|a| OPERATIONS.iter().copied().find(|op| *op == a))
            .unwrap_or(UNKNOWN_ACTION);
        let code = answered.and_then(|a| a.code).unwrap_or(SUCCESS_CODE);
        self.inner.requests.get_or_create(&RequestLabels { action, code, status }).inc();
        self.inner.latency.get_or_create(&ActionLabels { action }).observe(elapsed.as_secs_f64());
    }

    /// The text exposition of every metric, with the users per instance read from `store` (every
    /// instance of `config`, 0 for one without users) and the fault hits of `faults`.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn render(&self, config: &Config, store: &Store, faults: &Faults) -> Result<String, StoreError> {
        let counts = store.user_counts()?;
        Ok(self.render_counts(config, &counts, faults))
    }

    /// [`Metrics::render`] with the users per instance given: `(region, instance, users)` as
    /// [`crate::store::UserStore::user_counts`] answers them.
    pub fn render_counts(&self, config: &Config, counts: &[(String, String, i64)], faults: &Faults) -> String {
        for instance in config.instances() {
            let users = counts
                .iter()
                .find(|(region, id, _)| *region == instance.region && *id == instance.id)
                .map_or(0, |(_, _, n)| *n);
            let labels = InstanceLabels { region: instance.region.clone(), instance: instance.id.clone() };
            self.inner.users.get_or_create(&labels).set(users);
        }
        for ((action, fault), total) in faults.hit_totals() {
            let counter = self.inner.fault_hits.get_or_create(&FaultLabels { action, fault });
            // The totals only grow: bring the counter up to them.
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }
}

/// Axum middleware around the API router: counts and times every request ([`Metrics::record`])
/// and writes its access log line ([`crate::logging::access`]), from the [`Answered`] extension
/// the protocol router puts on every response.
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let answered = response.extensions().get::<Answered>();
    let status = response.status().as_u16();
    metrics.record(answered, status, elapsed);
    crate::logging::access(answered, status, elapsed);
    response
}
