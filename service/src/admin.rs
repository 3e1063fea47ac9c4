//! The admin listener: a separate HTTP listener (only with `--admin-listen ADDR`; the API port
//! never serves it) for running the service as a local cloud in tests and for operating it.
//! JSON in and out; no authentication, so it listens on loopback unless explicitly allowed.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /_admin/health` | 200 `{"status": "ok", …}` when the database can be written now (a real write transaction, see [`UserStore::probe_write`]); 503 `{"status": "unavailable", …}` when not (also while PostgreSQL is down) |
//! | `POST /_admin/reset` | deletes every user of every instance (seeded ones included); instances stay |
//! | `GET /_admin/state` | the instances (from the configuration) and their users, never a password hash or a secret |
//! | `POST /_admin/faults` | adds a fault rule ([`FaultSpec`]); answers it with its `id` (201) |
//! | `GET /_admin/faults` | the rules in force with their `hits` (and `remaining`) |
//! | `DELETE /_admin/faults` | removes every rule |
//! | `DELETE /_admin/faults/{id}` | removes one rule |
//! | `GET /metrics` | Prometheus (OpenMetrics) text, see [`crate::metrics`] |
//!
//! A bad request gets a 4xx `{"error": CODE, "message": "what was wrong"}`: bad JSON, an unknown
//! field or a wrong type (400 `InvalidJson`), a rule that does not check (400 `InvalidFaultRule`),
//! an unknown path (404 `NotFound`), a method the path does not serve (405 `MethodNotAllowed`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::faults::{FaultSpec, Faults};
use crate::metrics::{self, Metrics};
use crate::store::{AnyStore, StoreError, UserStore};

/// What the admin listener works on (shared with the API).
#[derive(Clone)]
pub struct AdminState {
    /// The configuration (instances).
    pub config: Arc<Config>,
    /// The user store (SQLite or PostgreSQL).
    pub store: AnyStore,
    /// The fault rules the API applies.
    pub faults: Arc<Faults>,
    /// The API's metrics.
    pub metrics: Metrics,
}

/// The admin router (see the module documentation for its endpoints).
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/_admin/health", get(health))
        .route("/_admin/reset", post(reset))
        .route("/_admin/state", get(state_of))
        .route("/_admin/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/_admin/faults/{id}", delete(remove_fault))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// A JSON answer.
fn reply(status: StatusCode, body: impl Serialize) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A JSON error: `{"error": code, "message": message}`.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    reply(status, json!({ "error": code, "message": message.into() }))
}

/// A store failure as a JSON error naming it: 503 `DatabaseUnavailable` while the database cannot
/// be reached, else 500 `StoreError`.
fn store_failure(e: &StoreError) -> Response {
    let message = error_chain(e);
    tracing::error!(error = %message, "admin: store failed");
    if e.is_unavailable() {
        error(StatusCode::SERVICE_UNAVAILABLE, "DatabaseUnavailable", message)
    } else {
        error(StatusCode::INTERNAL_SERVER_ERROR, "StoreError", message)
    }
}

/// An error and its sources, `: `-joined.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn health(State(state): State<AdminState>) -> Response {
    let probe = state.store.probe_write().await.map_err(|e| error_chain(&e));
    let counts = state.store.user_counts().await.ok();
    let users: Option<i64> = counts.map(|c| c.iter().map(|(_, _, n)| n).sum());
    let instances = state.config.instances().len();
    let store = state.store.kind();
    match probe {
        Ok(()) => reply(
            StatusCode::OK,
            json!({ "status": "ok", "database": "writable", "store": store, "instances": instances, "users": users }),
        ),
        Err(problem) => {
            tracing::warn!(problem = %problem, "admin: health check: the database cannot be written");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "unavailable", "database": "not writable", "store": store, "error": problem,
                        "instances": instances, "users": users }),
            )
        }
    }
}

async fn reset(State(state): State<AdminState>) -> Response {
    match state.store.delete_all_users().await {
        Ok(deleted) => {
            tracing::info!(deleted, "admin: every user deleted");
            reply(StatusCode::OK, json!({ "deleted_users": deleted }))
        }
        Err(e) => store_failure(&e),
    }
}

async fn state_of(State(state): State<AdminState>) -> Response {
    let users = match state.store.all_users().await {
        Ok(users) => users,
        Err(e) => return store_failure(&e),
    };
    let instances: Vec<Value> = state
        .config
        .instances()
        .iter()
        .map(|instance| {
            let mine: Vec<Value> = users
                .iter()
                .filter(|u| u.region == instance.region && u.instance_id == instance.id)
                .map(|u| {
                    json!({
                        "user_name": u.user.user_name,
                        "user_mail": u.user.user_mail,
                        "bandwidth": u.user.bandwidth,
                        "client_ip": u.user.client_ip,
                        "is_static_ip": u.user.is_static_ip,
                        "state": u.user.state,
                    })
                })
                .collect();
            json!({
                "region": instance.region,
                "id": instance.id,
                "cidr": instance.cidr.map(|c| c.to_string()),
                "max_users": instance.max_users,
                "user_count": mine.len(),
                "users": mine,
            })
        })
        .collect();
    // Users of instances no longer configured are still in the database: listed apart.
    let orphans: Vec<Value> = users
        .iter()
        .filter(|u| state.config.instance(&u.region, &u.instance_id).is_none())
        .map(|u| json!({ "region": u.region, "instance": u.instance_id, "user_name": u.user.user_name }))
        .collect();
    let mut body = json!({ "instances": instances });
    if !orphans.is_empty() {
        body["users_of_unconfigured_instances"] = Value::Array(orphans);
    }
    reply(StatusCode::OK, body)
}

async fn list_faults(State(state): State<AdminState>) -> Response {
    reply(StatusCode::OK, json!({ "rules": state.faults.list() }))
}

async fn add_fault(State(state): State<AdminState>, body: Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidJson",
                format!(
                    "the body is not a fault rule ({e}); expected {{\"action\": \"<Action>\" or \"*\", \"error\": \
                     \"Throttling\" | \"ServiceUnavailable\" | \"InternalError\", \"latency_ms\": N, \"probability\": \
                     0.0-1.0, \"count\": N, \"retry_after_ms\": N}}"
                ),
            );
        }
    };
    match spec.check() {
        Ok(rule) => {
            let active = state.faults.add(rule);
            tracing::info!(rule = active.id, action = %active.rule.action, "admin: fault rule added");
            reply(StatusCode::CREATED, active)
        }
        Err(problems) => error(StatusCode::BAD_REQUEST, "InvalidFaultRule", problems),
    }
}

async fn clear_faults(State(state): State<AdminState>) -> Response {
    let removed = state.faults.clear();
    tracing::info!(removed, "admin: fault rules cleared");
    reply(StatusCode::OK, json!({ "removed": removed }))
}

async fn remove_fault(State(state): State<AdminState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(StatusCode::BAD_REQUEST, "InvalidRuleId", format!("{id:?} is not a rule id (a number)"));
    };
    match state.faults.remove(id) {
        Some(rule) => reply(StatusCode::OK, json!({ "removed": rule })),
        None => error(StatusCode::NOT_FOUND, "RuleNotFound", format!("there is no fault rule {id}")),
    }
}

async fn metrics_text(State(state): State<AdminState>) -> Response {
    let AdminState { config, store, faults, metrics } = state;
    let counts = match store.user_counts().await {
        Ok(counts) => counts,
        Err(e) => return store_failure(&e),
    };
    let text = metrics.render_counts(&config, &counts, &faults);
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!(
            "no admin endpoint at {}: the endpoints are /_admin/health, /_admin/reset, /_admin/state, \
             /_admin/faults, /_admin/faults/{{id}} and /metrics",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", format!("{} does not serve {method}", uri.path()))
}
