//! `RpcClient::paginate` ([`Pages`]): every page walked as a stream or collected, and the per-call
//! options set on the walk reaching every page's call.
#![cfg(feature = "client")]

mod client_support;

use std::time::{Duration, Instant};

use alibaba_rpc_runtime::client::header::{HeaderName, HeaderValue};
use alibaba_rpc_runtime::client::{OperationError, RetryPolicy};
use alibaba_rpc_runtime::flatten::{Flattener, WireParam};
use alibaba_rpc_runtime::operation::{Operation, Paginated};
use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::validate::Violations;
use client_support::*;
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};

/// A listing of names, two per page.
#[derive(Debug, Clone)]
struct ListNames {
    page: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct NamesPage {
    #[serde(rename = "TotalCount")]
    total: i64,
    #[serde(rename = "Names")]
    names: Vec<String>,
}

impl Operation for ListNames {
    const ACTION: &'static str = "ListNames";
    const IDEMPOTENT: bool = true;
    type Response = NamesPage;
    type ErrorCode = FakeCode;

    fn validate(&self) -> Result<(), Violations> {
        Ok(())
    }

    fn to_params(&self) -> Vec<WireParam<'_>> {
        let mut out = Flattener::with_capacity(1);
        out.put("PageNumber", &self.page);
        out.finish()
    }

    fn from_params(_: &Params) -> Result<Self, Violations> {
        Ok(ListNames { page: 1 })
    }
}

impl Paginated for ListNames {
    type Item = String;

    fn page(&self) -> i64 {
        self.page
    }

    fn set_page(&mut self, page: i64) {
        self.page = page;
    }

    fn into_page(response: NamesPage) -> (i64, Vec<String>) {
        (response.total, response.names)
    }
}

fn page(names: &[&str]) -> Reply {
    Reply::new(200, serde_json::json!({"RequestId": "r", "TotalCount": 5, "Names": names}).to_string())
}

fn three_pages() -> Vec<Reply> {
    vec![page(&["a", "b"]), page(&["c", "d"]), page(&["e"])]
}

#[tokio::test]
async fn the_walk_streams_or_collects_every_page() {
    let server = FakeServer::start(three_pages()).await;
    let client = client_v3(&server.endpoint(), fast_retry(1), credentials());
    let streamed: Vec<String> = client.paginate(ListNames { page: 1 }).map(|item| item.unwrap()).collect().await;
    assert_eq!(streamed, ["a", "b", "c", "d", "e"]);
    let pages: Vec<_> = server.requests().iter().map(|r| r.param("PageNumber")).collect();
    assert_eq!(pages, [Some("1".to_owned()), Some("2".to_owned()), Some("3".to_owned())]);

    let server = FakeServer::start(three_pages()).await;
    let client = client_v3(&server.endpoint(), fast_retry(1), credentials());
    let collected = client.paginate(ListNames { page: 1 }).await.unwrap();
    assert_eq!(collected, ["a", "b", "c", "d", "e"]);

    let last = Reply::new(200, r#"{"RequestId":"r","TotalCount":1,"Names":["z"]}"#);
    let server = FakeServer::start(vec![last]).await;
    let client = client_v3(&server.endpoint(), fast_retry(1), credentials());
    assert_eq!(client.paginate_all(ListNames { page: 3 }).await.unwrap(), ["z"]);
    assert_eq!(server.requests()[0].param("PageNumber").as_deref(), Some("3"), "from the request's page on");
}

#[tokio::test]
async fn options_reach_every_page() {
    let server = FakeServer::start(three_pages()).await;
    let client = client_v3(&server.endpoint(), fast_retry(1), credentials());
    let items = client
        .paginate(ListNames { page: 1 })
        .header(HeaderName::from_static("x-acs-trace-id"), HeaderValue::from_static("walk-7"))
        .header(HeaderName::from_static("x-acs-action"), HeaderValue::from_static("NotMine"))
        .timeout(Duration::from_secs(5))
        .deadline_in(Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(items.len(), 5);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.header("x-acs-trace-id"), Some("walk-7"));
        assert_eq!(request.header("x-acs-action"), Some("ListNames"), "the protocol's own header wins");
        let (auth, _) = request.verify_v3(SECRET).unwrap();
        assert!(auth.signs("x-acs-trace-id"), "an x-acs-* option header is signed");
    }
}

#[tokio::test]
async fn a_retry_policy_and_a_deadline_apply_to_the_walk() {
    // The second page fails once: retried under the walk's policy.
    let server = FakeServer::start(vec![
        page(&["a", "b"]),
        Reply::envelope(503, "ServiceUnavailable", "later"),
        page(&["c", "d"]),
        page(&["e"]),
    ])
    .await;
    let client = client_v3(&server.endpoint(), RetryPolicy::none(), credentials());
    let retried = client.paginate(ListNames { page: 1 }).retry(fast_retry(2)).await.unwrap();
    assert_eq!(retried.len(), 5);
    assert_eq!(server.requests().len(), 4);

    // A deadline already passed: the first page's call fails without sending anything.
    let server = FakeServer::start(three_pages()).await;
    let client = client_v3(&server.endpoint(), fast_retry(1), credentials());
    let past = Instant::now();
    let e = client.paginate(ListNames { page: 1 }).deadline(past).await.unwrap_err();
    assert!(matches!(e, OperationError::DeadlineExceeded(_)), "{e:?}");
    assert!(server.requests().is_empty());
}
