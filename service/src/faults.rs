//! Fault injection, for testing how clients cope with a failing service: rules that make calls
//! of an operation (or of every operation) slow, or fail with `Throttling`, `ServiceUnavailable`
//! or `InternalError`, always, with a probability, or only for the next N calls.
//!
//! Rules come from the admin listener (`POST /_admin/faults`, see [`crate::admin`]) or from the
//! configuration file's `[[faults]]` tables, and are applied by [`FaultInjecting`], a wrapper
//! around the [`SmartagApi`] implementation. A fault therefore happens *after* the request was
//! authenticated and validated: a badly signed or invalid request still gets its own error. An
//! injected error is the API's own envelope (RequestId, HostId, Code, Message) with the code's own
//! HTTP status; `Throttling` also carries `x-acs-retry-after` (milliseconds), as Alibaba Cloud's
//! gateway sends it.
//!
//! For each call, the rules are tried in the order they were added; the first one that matches
//! the Action, still has calls left (`count`) and wins its `probability` draw applies: it waits
//! `latency_ms`, then fails with `error` (or, without `error`, lets the call through). At most one
//! rule applies to a call.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use smartag_server::{
    CreateSmartAccessGatewayClientUserRequest, CreateSmartAccessGatewayClientUserResponse,
    CreateSmartAccessGatewayClientUserServerError, DescribeSmartAccessGatewayClientUsersRequest,
    DescribeSmartAccessGatewayClientUsersResponse, DescribeSmartAccessGatewayClientUsersServerError, ErrorCode,
    ModifySmartAccessGatewayClientUserRequest, ModifySmartAccessGatewayClientUserResponse,
    ModifySmartAccessGatewayClientUserServerError, OPERATIONS, ProtocolCode, Reply, RequestContext, ServerError,
    SmartagApi,
};

/// The `action` of a rule that matches every operation.
pub const ANY_ACTION: &str = "*";
/// The longest `latency_ms` a rule may add: one hour (the longest request timeout).
pub const MAX_LATENCY_MS: u64 = 3_600_000;
/// The `retry_after_ms` of a `Throttling` rule that gives none.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 1000;

/// The error a rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FaultError {
    /// `Throttling` (HTTP 400), with `x-acs-retry-after`.
    Throttling,
    /// `ServiceUnavailable` (HTTP 503).
    ServiceUnavailable,
    /// `InternalError` (HTTP 500).
    InternalError,
}

impl FaultError {
    /// The protocol error answered.
    fn spec(self) -> &'static alibaba_rpc_runtime::errors::ErrorSpec {
        match self {
            FaultError::Throttling => ProtocolCode::Throttling.spec(),
            FaultError::ServiceUnavailable => ProtocolCode::ServiceUnavailable.spec(),
            FaultError::InternalError => ProtocolCode::InternalError.spec(),
        }
    }

    /// The wire code answered, e.g. `Throttling`.
    pub fn code(self) -> &'static str {
        self.spec().code
    }

    /// The error of operation code type `C`, `retry_after` set for `Throttling`.
    fn server_error<C: ErrorCode>(self, retry_after: Option<Duration>) -> ServerError<C> {
        let Some(code) = C::from_code(self.code()) else {
            return ServerError::internal(format!("the operation does not answer {}", self.code()));
        };
        match retry_after {
            Some(wait) => ServerError::api(code).retry_after(wait),
            None => ServerError::api(code),
        }
    }
}

/// A fault rule as written in a request to `POST /_admin/faults` or in a `[[faults]]` table of
/// the configuration file; [`FaultSpec::check`] turns it into a [`FaultRule`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// An operation's Action (e.g. `CreateSmartAccessGatewayClientUser`), or `*` for every one.
    pub action: String,
    /// The error answered; without it the call goes through (after `latency_ms`).
    #[serde(default)]
    pub error: Option<FaultError>,
    /// A delay before answering, in milliseconds (at most [`MAX_LATENCY_MS`]).
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// The chance that a matching call is hit, 0.0 to 1.0 (default 1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Hit only the next `count` matching calls (at least 1); without it, every matching call.
    #[serde(default)]
    pub count: Option<u64>,
    /// For `Throttling`: the `x-acs-retry-after` value in milliseconds (default
    /// [`DEFAULT_RETRY_AFTER_MS`]).
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

/// A checked fault rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultRule {
    /// An operation's Action, or `*`.
    pub action: String,
    /// The error answered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FaultError>,
    /// The delay added, if any, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The chance that a matching call is hit.
    pub probability: f64,
    /// How many matching calls the rule hits in all, if limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The `x-acs-retry-after` value of a `Throttling` rule, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl FaultSpec {
    /// A rule answering `error` to every call of `action` (an operation's Action, or `*`).
    pub fn error(action: impl Into<String>, error: FaultError) -> FaultSpec {
        FaultSpec {
            action: action.into(),
            error: Some(error),
            latency_ms: None,
            probability: None,
            count: None,
            retry_after_ms: None,
        }
    }

    /// A rule delaying every call of `action` by `latency_ms` milliseconds (then answering it).
    pub fn latency(action: impl Into<String>, latency_ms: u64) -> FaultSpec {
        FaultSpec { error: None, latency_ms: Some(latency_ms), ..FaultSpec::error(action, FaultError::InternalError) }
    }

    /// Hits only the next `count` matching calls.
    #[must_use]
    pub fn count(mut self, count: u64) -> FaultSpec {
        self.count = Some(count);
        self
    }

    /// Hits a matching call with chance `probability` (0.0 to 1.0).
    #[must_use]
    pub fn probability(mut self, probability: f64) -> FaultSpec {
        self.probability = Some(probability);
        self
    }

    /// Also delays the call by `latency_ms` milliseconds.
    #[must_use]
    pub fn latency_ms(mut self, latency_ms: u64) -> FaultSpec {
        self.latency_ms = Some(latency_ms);
        self
    }

    /// The `x-acs-retry-after` of a `Throttling` rule, in milliseconds.
    #[must_use]
    pub fn retry_after_ms(mut self, retry_after_ms: u64) -> FaultSpec {
        self.retry_after_ms = Some(retry_after_ms);
        self
    }
}

// A checked probability is never NaN, so the derived `PartialEq` is an equivalence.
impl Eq for FaultRule {}

impl FaultSpec {
    /// Checks the rule: a known Action (one of the generated [`OPERATIONS`]) or `*`, an error or
    /// a latency (or both), a probability from 0 to 1, a count of at least 1, a latency of at
    /// most [`MAX_LATENCY_MS`], `retry_after_ms` only with `Throttling`. Every problem is
    /// reported, joined by `; `.
    pub fn check(self) -> Result<FaultRule, String> {
        let mut problems = Vec::new();
        if self.action != ANY_ACTION && !OPERATIONS.contains(&self.action.as_str()) {
            problems.push(format!("unknown action {:?}: use \"*\" or one of {}", self.action, OPERATIONS.join(", ")));
        }
        if self.error.is_none() && self.latency_ms.is_none() {
            problems.push(
                "the rule does nothing: give \"error\" (Throttling, ServiceUnavailable or InternalError), \
                 \"latency_ms\", or both"
                    .to_owned(),
            );
        }
        let probability = self.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&probability) {
            problems.push(format!("probability must be from 0.0 to 1.0, not {probability}"));
        }
        if self.count == Some(0) {
            problems.push("count must be at least 1 (leave it out to hit every matching call)".to_owned());
        }
        if let Some(latency) = self.latency_ms.filter(|l| *l > MAX_LATENCY_MS) {
            problems.push(format!("latency_ms must be at most {MAX_LATENCY_MS}, not {latency}"));
        }
        let retry_after_ms = match (self.error, self.retry_after_ms) {
            (Some(FaultError::Throttling), given) => Some(given.unwrap_or(DEFAULT_RETRY_AFTER_MS)),
            (_, None) => None,
            (_, Some(_)) => {
                problems.push("retry_after_ms is only sent with \"error\": \"Throttling\"".to_owned());
                None
            }
        };
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(FaultRule {
            action: self.action,
            error: self.error,
            latency_ms: self.latency_ms,
            probability,
            count: self.count,
            retry_after_ms,
        })
    }
}

/// A rule in force, as `GET /_admin/faults` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveRule {
    /// The rule's id (for `DELETE /_admin/faults/{id}`), unique for the life of the process.
    pub id: u64,
    /// The rule.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// How many calls it has hit.
    pub hits: u64,
    /// How many more calls it will hit, when limited by `count` (0: used up, kept for its hits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

/// What a rule does to one call.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hit {
    rule: u64,
    latency: Option<Duration>,
    error: Option<FaultError>,
    retry_after: Option<Duration>,
}

/// The fault rules in force, shared by the API (through [`FaultInjecting`]) and the admin
/// listener. Also counts every hit by Action and fault since the start (never reset, for metrics).
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    rules: Vec<ActiveRule>,
    totals: BTreeMap<(String, &'static str), u64>,
}

impl Faults {
    /// No rules.
    pub fn new() -> Faults {
        Faults::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `rule` after the others; returns it with its id.
    pub fn add(&self, rule: FaultRule) -> ActiveRule {
        let mut state = self.state();
        state.next_id += 1;
        let active = ActiveRule { id: state.next_id, remaining: rule.count, rule, hits: 0 };
        state.rules.push(active.clone());
        active
    }

    /// The rules in force, in the order they are tried, with their hit counts.
    pub fn list(&self) -> Vec<ActiveRule> {
        self.state().rules.clone()
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&self) -> usize {
        std::mem::take(&mut self.state().rules).len()
    }

    /// Removes rule `id`; `None` if there is no such rule.
    pub fn remove(&self, id: u64) -> Option<ActiveRule> {
        let mut state = self.state();
        let index = state.rules.iter().position(|r| r.id == id)?;
        Some(state.rules.remove(index))
    }

    /// Every hit since the start, by (Action, fault), the fault being the error's code or
    /// `latency` for a rule without error.
    pub fn hit_totals(&self) -> Vec<((String, &'static str), u64)> {
        self.state().totals.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Which rule, if any, applies to a call of `action` (counting the hit).
    fn decide(&self, action: &str) -> Option<Hit> {
        let mut state = self.state();
        let rule = state.rules.iter_mut().find(|r| {
            (r.rule.action == ANY_ACTION || r.rule.action == action)
                && r.remaining != Some(0)
                && (r.rule.probability >= 1.0 || rand::random::<f64>() < r.rule.probability)
        })?;
        rule.hits += 1;
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining -= 1;
        }
        let hit = Hit {
            rule: rule.id,
            latency: rule.rule.latency_ms.map(Duration::from_millis),
            error: rule.rule.error,
            retry_after: rule.rule.retry_after_ms.map(Duration::from_millis),
        };
        let fault = hit.error.map_or("latency", FaultError::code);
        *state.totals.entry((action.to_owned(), fault)).or_default() += 1;
        Some(hit)
    }

    /// Applies the rule that hits this call of `action`, if any: waits its latency, then answers
    /// its error (`Err`) or lets the call through (`Ok`).
    pub async fn inject<C: ErrorCode>(&self, action: &str) -> Result<(), ServerError<C>> {
        let Some(hit) = self.decide(action) else { return Ok(()) };
        tracing::info!(
            rule = hit.rule,
            action,
            error = hit.error.map_or("", FaultError::code),
            latency_ms = hit.latency.map_or(0, |l| l.as_millis() as u64),
            "fault injected"
        );
        if let Some(latency) = hit.latency {
            tokio::time::sleep(latency).await;
        }
        match hit.error {
            None => Ok(()),
            Some(error) => Err(error.server_error(hit.retry_after)),
        }
    }
}

/// An implementation of the API with the [`Faults`] applied before each call reaches `inner`
/// (after the router has authenticated and validated the request).
#[derive(Clone)]
pub struct FaultInjecting<A> {
    inner: A,
    faults: Arc<Faults>,
}

impl<A> FaultInjecting<A> {
    /// `inner` with `faults` applied.
    pub fn new(inner: A, faults: Arc<Faults>) -> FaultInjecting<A> {
        FaultInjecting { inner, faults }
    }
}

impl<A: SmartagApi> SmartagApi for FaultInjecting<A> {
    async fn create_smart_access_gateway_client_user(
        &self,
        ctx: RequestContext,
        request: CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<CreateSmartAccessGatewayClientUserResponse>, CreateSmartAccessGatewayClientUserServerError> {
        self.faults.inject(&ctx.action).await?;
        self.inner.create_smart_access_gateway_client_user(ctx, request).await
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        ctx: RequestContext,
        request: ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<ModifySmartAccessGatewayClientUserResponse>, ModifySmartAccessGatewayClientUserServerError> {
        self.faults.inject(&ctx.action).await?;
        self.inner.modify_smart_access_gateway_client_user(ctx, request).await
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        ctx: RequestContext,
        request: DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<Reply<DescribeSmartAccessGatewayClientUsersResponse>, DescribeSmartAccessGatewayClientUsersServerError>
    {
        self.faults.inject(&ctx.action).await?;
        self.inner.describe_smart_access_gateway_client_users(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Result<FaultRule, String> {
        serde_json::from_str::<FaultSpec>(json).map_err(|e| e.to_string())?.check()
    }

    #[test]
    fn rules_are_checked_with_every_problem() {
        let err = spec(r#"{"action": "Nope", "probability": 2, "count": 0}"#).unwrap_err();
        assert!(err.contains("unknown action \"Nope\""), "{err}");
        assert!(err.contains("CreateSmartAccessGatewayClientUser"), "lists the actions: {err}");
        assert!(err.contains("does nothing"), "{err}");
        assert!(err.contains("probability"), "{err}");
        assert!(err.contains("count must be at least 1"), "{err}");
        let err = spec(r#"{"action": "*", "error": "InternalError", "retry_after_ms": 5}"#).unwrap_err();
        assert!(err.contains("retry_after_ms"), "{err}");
        let err = spec(r#"{"action": "*", "error": "Teapot"}"#).unwrap_err();
        assert!(err.contains("unknown variant `Teapot`"), "{err}");
        let err = spec(r#"{"action": "*", "latency_ms": 1, "colour": "red"}"#).unwrap_err();
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn throttling_gets_a_default_retry_after() {
        let rule = spec(r#"{"action": "*", "error": "Throttling"}"#).unwrap();
        assert_eq!(rule.retry_after_ms, Some(DEFAULT_RETRY_AFTER_MS));
        assert_eq!(rule.probability, 1.0);
    }

    #[test]
    fn first_matching_rule_with_calls_left_applies() {
        let faults = Faults::new();
        let describe = "DescribeSmartAccessGatewayClientUsers";
        let never = faults.add(spec(r#"{"action": "*", "error": "InternalError", "probability": 0}"#).unwrap());
        let twice = faults.add(
            spec(r#"{"action": "DescribeSmartAccessGatewayClientUsers", "error": "Throttling", "count": 2}"#).unwrap(),
        );
        let always = faults.add(spec(r#"{"action": "*", "latency_ms": 1}"#).unwrap());
        let hits: Vec<u64> = (0..4).map(|_| faults.decide(describe).map_or(0, |h| h.rule)).collect();
        assert_eq!(hits, [twice.id, twice.id, always.id, always.id]);
        assert_eq!(faults.decide("CreateSmartAccessGatewayClientUser").map(|h| h.rule), Some(always.id));
        let listed = faults.list();
        assert_eq!(
            listed.iter().map(|r| (r.id, r.hits)).collect::<Vec<_>>(),
            [(never.id, 0), (twice.id, 2), (always.id, 3)]
        );
        assert_eq!(listed[1].remaining, Some(0));
        assert_eq!(faults.remove(always.id).map(|r| r.id), Some(always.id));
        assert_eq!(faults.decide(describe), None);
        assert_eq!(faults.clear(), 2);
        let totals = faults.hit_totals();
        assert!(totals.contains(&((describe.to_owned(), "Throttling"), 2)), "{totals:?}");
        assert!(totals.contains(&((describe.to_owned(), "latency"), 2)), "{totals:?}");
    }
}
