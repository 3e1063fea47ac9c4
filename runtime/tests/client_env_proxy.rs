//! The proxy environment variables, as reqwest reads them: `HTTP_PROXY` carries requests to an
//! `http://` endpoint, `NO_PROXY` exempts hosts, and `no_proxy()` ignores both. One test function,
//! because it changes the process environment.
#![cfg(feature = "client")]

mod client_support;

use std::time::Duration;

use alibaba_rpc_runtime::client::{ClientConfig, InvokeError, RetryPolicy, RpcClient};
use client_support::*;

fn set(name: &str, value: Option<&str>) {
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn proxy_environment_variables_are_honoured_unless_turned_off() {
    for name in
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        set(name, None);
    }
    let proxy = FakeServer::start(vec![Reply::ok()]).await;
    let endpoint = closed_endpoint();
    let builder = || {
        ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .endpoint(endpoint.as_str())
            .credentials(credentials())
            .timeout(Duration::from_secs(5))
            .retry(RetryPolicy::none())
    };
    let refused = |err: &InvokeError| matches!(err, InvokeError::Transport(t) if t.is_connect());

    set("HTTP_PROXY", Some(&format!("http://{}", proxy.addr)));
    let client = RpcClient::new(builder().build().unwrap()).unwrap();
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    assert_eq!(proxy.requests().len(), 1, "HTTP_PROXY carried the request");

    let off = RpcClient::new(builder().no_proxy().build().unwrap()).unwrap();
    let err = off.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert!(refused(&err), "no_proxy() went straight to the closed endpoint: {err:?}");

    set("NO_PROXY", Some("127.0.0.1"));
    let exempt = RpcClient::new(builder().build().unwrap()).unwrap();
    let err = exempt.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert!(refused(&err), "NO_PROXY exempts the endpoint: {err:?}");
    assert_eq!(proxy.requests().len(), 1);
}
