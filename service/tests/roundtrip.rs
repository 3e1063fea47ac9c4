//! The generated client against the generated server running the service, over loopback: all
//! three operations, typed errors, client-side validation, paging, concurrency and restart.

use std::net::SocketAddr;
use std::path::Path;

use smartag_client::{
    Client, CreateSmartAccessGatewayClientUserError, CreateSmartAccessGatewayClientUserErrorCode,
    CreateSmartAccessGatewayClientUserRequest, Credentials, DescribeSmartAccessGatewayClientUsersRequest,
    ModifySmartAccessGatewayClientUserError, ModifySmartAccessGatewayClientUserErrorCode,
    ModifySmartAccessGatewayClientUserRequest, RetryPolicy,
};
use smartag_service::app::build;
use smartag_service::config::Config;

async fn serve(data: &Path) -> SocketAddr {
    let app = build(Config::demo(), data).expect("service builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    addr
}

fn client(addr: SocketAddr, secret: &str) -> Client {
    let config = Client::config_builder()
        .region("cn-shanghai")
        .endpoint(format!("http://{addr}"))
        .credentials(Credentials::new("testid", secret))
        .retry(RetryPolicy::none())
        .build()
        .expect("config");
    Client::new(config).expect("client")
}

fn create(instance: &str, name: &str, bandwidth: i64) -> CreateSmartAccessGatewayClientUserRequest {
    CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id(instance)
        .user_mail(format!("{name}@example.com"))
        .bandwidth(bandwidth)
        .user_name(name)
        .password("Passw0rd-1")
        .build()
}

fn list(instance: &str) -> DescribeSmartAccessGatewayClientUsersRequest {
    DescribeSmartAccessGatewayClientUsersRequest::builder().region_id("cn-shanghai").smart_ag_id(instance).build()
}

#[tokio::test]
async fn create_modify_describe_and_typed_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = serve(&dir.path().join("db.sqlite")).await;
    let c = client(addr, "testsecret");

    let created = c.create_smart_access_gateway_client_user(&create("sag-demo", "alice01", 20)).await.expect("create");
    assert_eq!((created.user_name.as_str(), created.bandwidth), ("alice01", 20));
    assert_eq!(created.client_ip.as_deref(), Some("10.10.0.2"));
    assert_eq!(created.request_id.len(), 36, "a UUID RequestId");

    let dup =
        c.create_smart_access_gateway_client_user(&create("sag-demo", "alice01", 20)).await.expect_err("duplicate");
    assert!(
        matches!(
            dup,
            CreateSmartAccessGatewayClientUserError::Api {
                code: CreateSmartAccessGatewayClientUserErrorCode::ClientUserUserExist,
                ..
            }
        ),
        "{dup:?}"
    );
    let api = dup.api_error().expect("server answer");
    assert_eq!((api.status, api.code.as_str()), (400, "ClientUser.UserExist"));
    assert!(!api.request_id.is_empty());
    assert!(!dup.is_retryable());

    let modify = ModifySmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .user_name("alice01")
        .bandwidth(700)
        .user_mail("alice@example.org")
        .build();
    let modified = c.modify_smart_access_gateway_client_user(&modify).await.expect("modify");
    assert_eq!((modified.bandwidth, modified.user_mail.as_str()), (700, "alice@example.org"));

    let page = c.describe_smart_access_gateway_client_users(&list("sag-demo")).await.expect("describe");
    assert_eq!(page.total_count, 1);
    assert_eq!(page.users[0].user_mail, "alice@example.org");
    assert_eq!(page.users[0].bandwidth, 700);
    assert_eq!(page.users[0].state, 0);

    let unknown = ModifySmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .user_name("nobody01")
        .bandwidth(10)
        .build();
    let err = c.modify_smart_access_gateway_client_user(&unknown).await.expect_err("unknown user");
    assert!(
        matches!(
            err,
            ModifySmartAccessGatewayClientUserError::Api {
                code: ModifySmartAccessGatewayClientUserErrorCode::ClientUserNotExist,
                ..
            }
        ),
        "{err:?}"
    );

    let missing = c.create_smart_access_gateway_client_user(&create("sag-nowhere", "bob00001", 10)).await;
    assert!(
        matches!(
            missing,
            Err(CreateSmartAccessGatewayClientUserError::Api {
                code: CreateSmartAccessGatewayClientUserErrorCode::SagInstanceNoFound,
                ..
            })
        ),
        "{missing:?}"
    );

    let wrong = client(addr, "not-the-secret");
    let err = wrong.describe_smart_access_gateway_client_users(&list("sag-demo")).await.expect_err("bad secret");
    let api = err.api_error().expect("server answer");
    assert_eq!(api.code, "SignatureDoesNotMatch");
    assert!(api.message.contains("server string to sign is:"), "{}", api.message);
}

#[tokio::test]
async fn an_over_limit_bandwidth_is_refused_before_anything_is_sent() {
    // Nothing listens on this port: a request that went out would be a transport error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let c = client(closed, "testsecret");
    let mut bad = create("sag-demo", "ab", 5000);
    bad.user_mail = "not-an-email".into();
    let err = c.create_smart_access_gateway_client_user(&bad).await.expect_err("invalid");
    let v = err.violations().expect("refused before sending");
    let codes: Vec<(&str, &str)> = v.iter().map(|v| (v.code, v.param)).collect();
    assert_eq!(
        codes,
        [
            ("ClientUser.EmailInvalid", "UserMail"),
            ("ClientUser.BandwidthInvalid", "Bandwidth"),
            ("ClientUser.NameInvalid", "UserName")
        ]
    );
}

#[tokio::test]
async fn paging_concurrency_and_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db.sqlite");
    let addr = serve(&db).await;
    let c = client(addr, "testsecret");

    for i in 0..23 {
        c.create_smart_access_gateway_client_user(&create("sag-demo", &format!("pager{i:03}"), 10))
            .await
            .expect("create");
    }
    let mut request = list("sag-demo");
    request.page_size = Some(5);
    let all = c.describe_smart_access_gateway_client_users_all(request).await.expect("all pages");
    let mut names: Vec<String> = all.iter().map(|u| u.user_name.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 23);

    // One username from 20 tasks at once: exactly one wins.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(
                async move { c.create_smart_access_gateway_client_user(&create("sag-demo", "samename", 10)).await },
            )
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.expect("task").is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);

    // 12 creates on an instance limited to 5: exactly 5 succeed, each with its own address.
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move {
                let mut r = create("sag-demo-hz", &format!("hzuser{i:02}"), 10);
                r.region_id = "cn-hangzhou".into();
                c.create_smart_access_gateway_client_user(&r).await
            })
        })
        .collect();
    let mut ips = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(r) => ips.push(r.client_ip.expect("an address")),
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        CreateSmartAccessGatewayClientUserError::Api {
                            code: CreateSmartAccessGatewayClientUserErrorCode::ClientUserUserOverLimit,
                            ..
                        }
                    ),
                    "{e:?}"
                )
            }
        }
    }
    assert_eq!(ips.len(), 5);
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 5);

    // A second service on the same database sees everything.
    let again = client(serve(&db).await, "testsecret");
    let page = again.describe_smart_access_gateway_client_users(&list("sag-demo")).await.expect("describe");
    assert_eq!(page.total_count, 24);
}

/// Our client in both signing modes against the service: signature version 3 (the default) and
/// version 1.0 (one builder call) create, list and are refused alike with a wrong secret; the
/// service sees one replay memory, so neither version's requests collide with the other's.
#[tokio::test]
async fn both_signing_versions_against_the_service() {
    use smartag_client::SignatureVersion;

    let dir = tempfile::tempdir().expect("temp dir");
    let addr = serve(&dir.path().join("db.sqlite")).await;
    let signed_with = |version: SignatureVersion, secret: &str| {
        let config = Client::config_builder()
            .region("cn-shanghai")
            .endpoint(format!("http://{addr}"))
            .credentials(Credentials::new("testid", secret))
            .signature_version(version)
            .retry(RetryPolicy::none())
            .build()
            .expect("config");
        Client::new(config).expect("client")
    };
    for (version, name) in [(SignatureVersion::V3, "viathree"), (SignatureVersion::V1, "viaone1")] {
        let c = signed_with(version, "testsecret");
        let created = c.create_smart_access_gateway_client_user(&create("sag-demo", name, 30)).await.expect("create");
        assert_eq!(created.user_name, name, "{version}");
        let bad = signed_with(version, "wrongsecret");
        let err = bad.describe_smart_access_gateway_client_users(&list("sag-demo")).await.expect_err("refused");
        let api = err.api_error().expect("an error answer");
        assert_eq!(api.code, "SignatureDoesNotMatch", "{version}");
        assert!(api.message.contains("server string to sign is:"), "{version}: {}", api.message);
    }
    let all = signed_with(SignatureVersion::V3, "testsecret")
        .describe_smart_access_gateway_client_users(&list("sag-demo"))
        .await
        .expect("list");
    let names: Vec<&str> = all.users.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(names, ["viathree", "viaone1"]);
}
