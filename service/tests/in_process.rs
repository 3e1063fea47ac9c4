//! The service in-process next to the code under test, as an application's `#[tokio::test]` would
//! run it: `LocalService::start()`, the generated client pointed at it, fault rules and a reset.

use smartag_client::{
    Client, CreateSmartAccessGatewayClientUserRequest, Credentials, DescribeSmartAccessGatewayClientUsersRequest,
};
use smartag_service::faults::{FaultError, FaultSpec};
use smartag_service::local::LocalService;

fn client(service: &LocalService) -> Client {
    let config = Client::config_builder()
        .region("cn-shanghai")
        .endpoint(service.endpoint())
        .credentials(Credentials::new(service.access_key_id(), service.access_key_secret()))
        .build()
        .expect("a client configuration");
    Client::new(config).expect("a client")
}

fn create(name: &str) -> CreateSmartAccessGatewayClientUserRequest {
    CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .user_mail(format!("{name}@example.com"))
        .bandwidth(200)
        .user_name(name)
        .password("Passw0rd-1")
        .build()
}

fn describe() -> DescribeSmartAccessGatewayClientUsersRequest {
    DescribeSmartAccessGatewayClientUsersRequest::builder().region_id("cn-shanghai").smart_ag_id("sag-demo").build()
}

#[tokio::test]
async fn create_describe_fault_and_reset_in_process() {
    let service = LocalService::start().await.expect("the local service starts");
    assert!(service.endpoint().starts_with("http://127.0.0.1:"), "{}", service.endpoint());
    assert!(!format!("{service:?}").contains(service.access_key_secret()), "the secret is not in Debug");
    let client = client(&service);

    let created = client.create_smart_access_gateway_client_user(&create("alice01")).await.expect("created");
    assert_eq!(created.user_name, "alice01");
    assert_eq!(created.client_ip.as_deref(), Some("10.10.0.2"));
    let page = client.describe_smart_access_gateway_client_users(&describe()).await.expect("described");
    assert_eq!(page.total_count, 1);
    assert_eq!(page.users[0].user_name, "alice01");

    // The next Create is throttled: Create is not idempotent, so the client does not retry it and
    // the application sees Throttling.
    let rule = service
        .add_fault(FaultSpec::error("CreateSmartAccessGatewayClientUser", FaultError::Throttling).count(1))
        .expect("a valid rule");
    let throttled = client.create_smart_access_gateway_client_user(&create("bob00001")).await.expect_err("throttled");
    let api = throttled.api_error().expect("an API error");
    assert_eq!((api.code.as_str(), api.status), ("Throttling", 400));
    // The rule is used up: the same call now goes through.
    client.create_smart_access_gateway_client_user(&create("bob00001")).await.expect("created after the fault");
    let listed = service.faults().list();
    assert_eq!((listed[0].id, listed[0].hits, listed[0].remaining), (rule.id, 1, Some(0)));

    // Describe is idempotent: the client retries a throttled one and the application never knows.
    service
        .add_fault(
            FaultSpec::error("DescribeSmartAccessGatewayClientUsers", FaultError::Throttling)
                .count(1)
                .retry_after_ms(1),
        )
        .expect("a valid rule");
    let page = client.describe_smart_access_gateway_client_users(&describe()).await.expect("retried and described");
    assert_eq!(page.total_count, 2);
    assert_eq!(service.faults().list()[1].hits, 1);

    // A rule for an operation the API does not have is refused with the list of those it has.
    let refused = service.add_fault(FaultSpec::error("DeleteEverything", FaultError::InternalError)).unwrap_err();
    assert!(refused.contains("DescribeSmartAccessGatewayClientUsers"), "{refused}");

    // Reset: every user gone, the instances still there.
    service.faults().clear();
    assert_eq!(service.reset().await.expect("reset"), 2);
    let page = client.describe_smart_access_gateway_client_users(&describe()).await.expect("described");
    assert_eq!(page.total_count, 0);
    let again = client.create_smart_access_gateway_client_user(&create("alice01")).await.expect("created again");
    assert_eq!(again.client_ip.as_deref(), Some("10.10.0.2"), "addresses are handed out from the start again");

    let dir = service.data_dir().to_owned();
    assert!(dir.join("smartag.db").exists());
    service.stop().await;
    assert!(!dir.exists(), "the temporary data folder is removed");
}

#[tokio::test]
async fn builder_sets_the_instances_and_each_service_has_its_own_key() {
    let one =
        LocalService::builder().instance("cn-beijing", "sag-test", "192.168.7.0/24").start().await.expect("started");
    let two = LocalService::start().await.expect("started");
    assert_ne!(one.access_key_id(), two.access_key_id());
    assert_ne!(one.endpoint(), two.endpoint());
    assert_eq!(one.config().instances().len(), 1);
    let request = CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-beijing")
        .smart_ag_id("sag-test")
        .user_mail("carol@example.com")
        .bandwidth(10)
        .build();
    let created = client(&one).create_smart_access_gateway_client_user(&request).await.expect("created");
    assert_eq!(created.client_ip.as_deref(), Some("192.168.7.2"));
    // The other service does not know that instance, nor the first one's key.
    let config = Client::config_builder()
        .region("cn-beijing")
        .endpoint(two.endpoint())
        .credentials(Credentials::new(one.access_key_id(), one.access_key_secret()))
        .build()
        .expect("a client configuration");
    let stranger = Client::new(config).expect("a client");
    let refused = stranger.create_smart_access_gateway_client_user(&request).await.expect_err("unknown key");
    assert_eq!(refused.api_error().map(|e| e.code.as_str()), Some("InvalidAccessKeyId.NotFound"));

    // Dropped: stopped, and its temporary folder removed.
    let (dir, address) = (one.data_dir().to_owned(), one.address());
    drop(one);
    assert!(!dir.exists(), "the temporary data folder is removed on drop");
    // It stops listening (polled: the shutdown runs on this test's runtime).
    let guard = std::time::Instant::now();
    while tokio::net::TcpStream::connect(address).await.is_ok() {
        assert!(guard.elapsed() < std::time::Duration::from_secs(60), "still listening on {address} (hang guard)");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// `LocalServiceBuilder::seed_file`: the seed's instance and users are there when the test
/// starts, as with `smartag-service --seed`.
#[tokio::test]
async fn a_seed_file_is_applied_in_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = dir.path().join("seed.yaml");
    std::fs::write(
        &seed,
        "instances:\n  - region: cn-shanghai\n    id: sag-seeded\n    cidr: 10.50.0.0/24\nusers:\n  - RegionId: \
         cn-shanghai\n    SmartAGId: sag-seeded\n    UserMail: alice@example.com\n    Bandwidth: 200\n    UserName: \
         alice01\n    Password: Passw0rd-1\n",
    )
    .expect("write the seed");
    let service = LocalService::builder().seed_file(&seed).start().await.expect("start in process");
    let page = client(&service)
        .describe_smart_access_gateway_client_users(
            &DescribeSmartAccessGatewayClientUsersRequest::builder()
                .region_id("cn-shanghai")
                .smart_ag_id("sag-seeded")
                .build(),
        )
        .await
        .expect("describe the seeded instance");
    assert_eq!(page.total_count, 1);
    assert_eq!(page.users[0].user_name, "alice01");
}

/// Application code written against the generated `SmartagOperations` trait runs unchanged
/// against the real service in-process (the third of the three targets of
/// `generated-client/tests/operations_trait.rs`, which shows a hand-written fake and the client
/// over loopback).
#[tokio::test]
async fn code_written_against_the_operations_trait_runs_on_the_in_process_service() {
    use smartag_client::SmartagOperations;

    async fn count_users(api: &impl SmartagOperations, sag: &str) -> i32 {
        let request =
            DescribeSmartAccessGatewayClientUsersRequest::builder().region_id("cn-shanghai").smart_ag_id(sag).build();
        api.describe_smart_access_gateway_client_users(&request).await.map(|page| page.total_count).unwrap_or(-1)
    }

    let service = LocalService::start().await.expect("start in process");
    let client = client(&service);
    assert_eq!(count_users(&client, "sag-demo").await, 0);
    SmartagOperations::create_smart_access_gateway_client_user(&client, &create("trait01"))
        .await
        .expect("create through the trait");
    assert_eq!(count_users(&client, "sag-demo").await, 1);
}
