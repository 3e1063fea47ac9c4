//! The `smartag` binary, run as a user runs it, against the generated server on loopback with a
//! small in-memory implementation: what it prints, what it exits with, and what reaches the
//! server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use smartag_server::{
    Authentication, CreateSmartAccessGatewayClientUserErrorCode, CreateSmartAccessGatewayClientUserRequest,
    CreateSmartAccessGatewayClientUserResponse, CreateSmartAccessGatewayClientUserServerError,
    DescribeSmartAccessGatewayClientUsersRequest, DescribeSmartAccessGatewayClientUsersResponse,
    DescribeSmartAccessGatewayClientUsersServerError, KeyMaterial, ModifySmartAccessGatewayClientUserRequest,
    ModifySmartAccessGatewayClientUserResponse, ModifySmartAccessGatewayClientUserServerError, Reply, RequestContext,
    ServerConfig, ServerError, SmartagApi, User,
};

/// Users in memory, and every request the server's implementation received.
#[derive(Clone, Default)]
struct Fake {
    users: Arc<Mutex<Vec<User>>>,
    calls: Arc<AtomicUsize>,
    describes: Arc<Mutex<Vec<DescribeSmartAccessGatewayClientUsersRequest>>>,
}

impl SmartagApi for Fake {
    async fn create_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        request: CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<CreateSmartAccessGatewayClientUserResponse>, CreateSmartAccessGatewayClientUserServerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let name = request.user_name.clone().unwrap_or_else(|| request.user_mail.clone());
        let mut users = self.users.lock().map_err(|_| ServerError::internal("poisoned"))?;
        if users.iter().any(|u| u.user_name == name) {
            return Err(ServerError::api(CreateSmartAccessGatewayClientUserErrorCode::ClientUserUserExist));
        }
        let client_ip = Some(format!("10.10.0.{}", users.len() + 2));
        users.push(User {
            user_name: name.clone(),
            user_mail: request.user_mail.clone(),
            bandwidth: request.bandwidth,
            client_ip: client_ip.clone(),
            ..User::default()
        });
        Ok(CreateSmartAccessGatewayClientUserResponse {
            request_id: String::new(),
            user_name: name,
            user_mail: request.user_mail,
            bandwidth: request.bandwidth,
            client_ip,
        }
        .into())
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        _request: ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<ModifySmartAccessGatewayClientUserResponse>, ModifySmartAccessGatewayClientUserServerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(ServerError::internal("not used by these tests"))
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        _ctx: RequestContext,
        request: DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<Reply<DescribeSmartAccessGatewayClientUsersResponse>, DescribeSmartAccessGatewayClientUsersServerError>
    {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut d) = self.describes.lock() {
            d.push(request.clone());
        }
        let users = self.users.lock().map_err(|_| ServerError::internal("poisoned"))?.clone();
        let size = usize::try_from(request.page_size_or_default()).unwrap_or(10);
        let page = usize::try_from(request.page_number_or_default()).unwrap_or(1);
        Ok(DescribeSmartAccessGatewayClientUsersResponse {
            request_id: String::new(),
            total_count: i32::try_from(users.len()).unwrap_or(i32::MAX),
            page_number: request.page_number_or_default(),
            page_size: request.page_size_or_default(),
            users: users.into_iter().skip((page - 1) * size).take(size).collect(),
        }
        .into())
    }
}

impl Fake {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Serves `fake` on a loopback port; answers the endpoint.
async fn serve(fake: Fake) -> String {
    let keys = HashMap::from([("testid".to_owned(), KeyMaterial::permanent("testsecret"))]);
    let config =
        ServerConfig::builder(&smartag_server::SERVICE).authentication(Authentication::signature(keys)).build();
    let app = smartag_server::router(fake, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    format!("http://{addr}")
}

/// Runs `smartag` with `args`, without the credentials of the environment it runs in.
async fn smartag(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("an empty home folder");
    smartag_at(args, home.path()).await
}

/// The binary with `home` as its home folder (where the credential chain looks for the aliyun
/// CLI's configuration and the credentials file) and nothing of the caller's environment that
/// the chain reads; the ECS metadata service is off (it does not exist here).
async fn smartag_at(args: &[&str], home: &std::path::Path) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_smartag"));
    command.args(args).env("HOME", home).env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
        "ALIBABA_CLOUD_CONFIG_FILE",
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        "ALIBABA_CLOUD_ECS_METADATA",
    ] {
        command.env_remove(var);
    }
    command.output().await.expect("run the smartag binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(o)))
}

const KEYS: [&str; 4] = ["--access-key-id", "testid", "--access-key-secret", "testsecret"];

#[tokio::test(flavor = "multi_thread")]
async fn a_call_with_global_flags_before_and_after_the_operation_prints_the_answer_as_json() {
    let fake = Fake::default();
    let endpoint = serve(fake.clone()).await;
    // Global flags before the operation name.
    let mut args = vec!["--endpoint", &endpoint, "--region", "cn-shanghai"];
    args.extend(KEYS);
    args.extend([
        "CreateSmartAccessGatewayClientUser",
        "--RegionId",
        "cn-shanghai",
        "--SmartAGId",
        "sag-1",
        "--UserMail",
        "alice@example.com",
        "--Bandwidth",
        "200",
        "--UserName",
        "alice01",
        "--Password",
        "Passw0rd-1",
    ]);
    let out = smartag(&args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answer = json(&out);
    assert_eq!(answer["UserName"], "alice01");
    assert_eq!(answer["UserMail"], "alice@example.com");
    assert_eq!(answer["Bandwidth"], 200);
    assert_eq!(answer["ClientIp"], "10.10.0.2");
    assert!(answer["RequestId"].as_str().is_some_and(|id| !id.is_empty()), "{answer}");
    // Pretty by default: one field per line, indented.
    assert!(stdout(&out).contains("\n  \"UserName\": \"alice01\""), "{}", stdout(&out));
    assert!(!stdout(&out).contains("Passw0rd-1"));

    // The same flags after the operation name (the region from --RegionId), compact output.
    let mut args = vec![
        "DescribeSmartAccessGatewayClientUsers",
        "--RegionId",
        "cn-shanghai",
        "--SmartAGId",
        "sag-1",
        "--endpoint",
        &endpoint,
        "--compact",
    ];
    args.extend(KEYS);
    let out = smartag(&args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    let answer = json(&out);
    assert_eq!(answer["TotalCount"], 1);
    assert_eq!(answer["Users"]["User"][0]["UserName"], "alice01");
    assert_eq!(fake.calls(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn all_pages_merges_three_pages_into_one_list() {
    let fake = Fake::default();
    {
        let mut users = fake.users.lock().expect("users");
        for n in 1..=5 {
            users.push(User {
                user_name: format!("user{n:03}"),
                user_mail: format!("u{n}@example.com"),
                ..User::default()
            });
        }
    }
    let endpoint = serve(fake.clone()).await;
    let mut args = vec![
        "DescribeSmartAccessGatewayClientUsers",
        "--RegionId",
        "cn-shanghai",
        "--SmartAGId",
        "sag-1",
        "--PageSize",
        "2",
        "--all-pages",
        "--endpoint",
        &endpoint,
    ];
    args.extend(KEYS);
    let out = smartag(&args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answer = json(&out);
    let names: Vec<&str> = answer["Users"]["User"]
        .as_array()
        .map(|a| a.iter().filter_map(|u| u["UserName"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["user001", "user002", "user003", "user004", "user005"], "{answer}");
    let pages: Vec<Option<i32>> =
        fake.describes.lock().map(|d| d.iter().map(|r| r.page_number).collect()).unwrap_or_default();
    assert_eq!(pages, [Some(1), Some(2), Some(3)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_request_exits_3_with_the_specs_codes_and_sends_nothing() {
    let fake = Fake::default();
    let endpoint = serve(fake.clone()).await;
    let mut args = vec![
        "CreateSmartAccessGatewayClientUser",
        "--RegionId",
        "cn-shanghai",
        "--UserMail",
        "alice@example.com",
        "--Bandwidth",
        "5000",
        "--endpoint",
        &endpoint,
    ];
    args.extend(KEYS);
    let out = smartag(&args).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(err.contains("SAG.InstanceIdEmpty: You must specify the SAG instance ID. (SmartAGId)"), "{err}");
    assert!(err.contains("ClientUser.BandwidthInvalid: The specified Bandwidth is invalid. (Bandwidth)"), "{err}");
    assert!(stdout(&out).is_empty());
    // A value that is not an integer is the parameter's own type error, and a missing RegionId
    // the protocol's MissingParameter.
    let out = smartag(&[
        "CreateSmartAccessGatewayClientUser",
        "--SmartAGId",
        "sag-1",
        "--UserMail",
        "a@b.co",
        "--Bandwidth",
        "ten",
    ])
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("MissingParameter: The input parameter \"RegionId\""), "{}", stderr(&out));
    assert!(stderr(&out).contains("ClientUser.BandwidthInvalid"), "{}", stderr(&out));
    assert_eq!(fake.calls(), 0, "no request may reach the server");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_error_exits_4_with_the_envelope() {
    let fake = Fake::default();
    let endpoint = serve(fake.clone()).await;
    let create = |endpoint: &str| {
        let mut args: Vec<String> = [
            "CreateSmartAccessGatewayClientUser",
            "--RegionId",
            "cn-shanghai",
            "--SmartAGId",
            "sag-1",
            "--UserMail",
            "bob@example.com",
            "--Bandwidth",
            "20",
            "--endpoint",
            endpoint,
        ]
        .map(String::from)
        .to_vec();
        args.extend(KEYS.map(String::from));
        args
    };
    let args = create(&endpoint);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(smartag(&args).await.status.code(), Some(0));
    let out = smartag(&args).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Code: ClientUser.UserExist"), "{err}");
    assert!(err.contains("Message: The specified user already exists."), "{err}");
    let request_id = err.lines().find_map(|l| l.strip_prefix("RequestId: ")).unwrap_or_default();
    assert!(!request_id.is_empty(), "{err}");

    // A wrong secret is an API error too (the server's SignatureDoesNotMatch).
    let mut wrong: Vec<&str> = args[..args.len() - 1].to_vec();
    wrong.push("not-the-secret");
    let out = smartag(&wrong).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("Code: SignatureDoesNotMatch"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not-the-secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_server_exits_5() {
    // A port that was just free: bound, then closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let mut args = vec!["DescribeSmartAccessGatewayClientUsers", "--RegionId", "cn-shanghai", "--SmartAGId", "sag-1"];
    args.extend(["--endpoint", &endpoint]);
    args.extend(KEYS);
    let out = smartag(&args).await;
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("connect error"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_and_configuration_errors() {
    // An unknown flag and an unknown operation: clap's usage error.
    let out = smartag(&["DescribeSmartAccessGatewayClientUsers", "--NoSuchFlag", "x"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--NoSuchFlag"), "{}", stderr(&out));
    assert_eq!(smartag(&["DeleteEverything"]).await.status.code(), Some(2));
    assert_eq!(smartag(&[]).await.status.code(), Some(2));
    // --all-pages belongs to paginated operations only.
    assert_eq!(smartag(&["CreateSmartAccessGatewayClientUser", "--all-pages"]).await.status.code(), Some(2));
    // No credentials anywhere: configuration (1), saying how to give them and what was tried.
    let valid = ["DescribeSmartAccessGatewayClientUsers", "--RegionId", "cn-shanghai", "--SmartAGId", "sag-1"];
    let mut closed = valid.to_vec();
    closed.extend(["--endpoint", "http://127.0.0.1:9"]);
    let out = smartag(&closed).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--access-key-id"), "{}", stderr(&out));
    assert!(stderr(&out).contains("aliyun CLI"), "the chain says what it tried: {}", stderr(&out));
    // A profile that does not exist in the aliyun CLI's configuration is named.
    let home = tempfile::tempdir().expect("home");
    write_aliyun_config(home.path());
    let mut with_profile = closed.clone();
    with_profile.extend(["--profile", "nosuch"]);
    let out = smartag_at(&with_profile, home.path()).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
}

/// `~/.aliyun/config.json` with a current profile `default` (a key the test server does not know)
/// and a profile `work` (AccessKey mode, the test key).
fn write_aliyun_config(home: &std::path::Path) {
    let dir = home.join(".aliyun");
    std::fs::create_dir_all(&dir).expect("config folder");
    let config = serde_json::json!({
        "current": "default",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "otherid", "access_key_secret": "othersecret",
             "region_id": "cn-hangzhou"},
            {"name": "work", "mode": "AK", "access_key_id": "testid", "access_key_secret": "testsecret",
             "region_id": "cn-shanghai"}
        ]
    });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("write config.json");
}

/// The credential chain: `--profile work` takes its key from the aliyun CLI's configuration and
/// signs with it; without `--profile` the configuration's current profile is used.
#[tokio::test(flavor = "multi_thread")]
async fn a_profile_of_the_aliyun_cli_configuration_gives_credentials_and_region() {
    let fake = Fake::default();
    let endpoint = serve(fake.clone()).await;
    let home = tempfile::tempdir().expect("home");
    write_aliyun_config(home.path());
    let args = [
        "DescribeSmartAccessGatewayClientUsers",
        "--SmartAGId",
        "sag-1",
        "--RegionId",
        "cn-shanghai",
        "--endpoint",
        &endpoint,
        "--profile",
        "work",
    ];
    let out = smartag_at(&args, home.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(json(&out)["RequestId"].is_string());
    // The current profile (`default`) has a key the server does not know: its own answer.
    let out = smartag_at(&args[..args.len() - 2], home.path()).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("InvalidAccessKeyId.NotFound"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn help_comes_from_the_spec() {
    let out = smartag(&["--help"]).await;
    assert_eq!(out.status.code(), Some(0));
    let top = stdout(&out);
    assert!(top.contains("Smart Access Gateway (SAG) APP client accounts"), "{top}");
    assert!(top.contains("Lists the client accounts of a SAG APP instance."), "{top}");
    let out = smartag(&["CreateSmartAccessGatewayClientUser", "--help"]).await;
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for expected in [
        "The username and password are sent to the user's e-mail address.",
        "--Bandwidth <int64>",
        "The bandwidth of the client account. Unit: Kbit/s.",
        "Type: int64. Required.",
        "1 to 2000, else ClientUser.BandwidthInvalid",
        "7 to 33 characters, else ClientUser.NameInvalid",
        "with UserName, Password is required, else ClientUser.PasswordInvalid",
        "--region <REGION>",
    ] {
        assert!(help.contains(expected), "missing {expected:?} in\n{help}");
    }
    // The spec's common parameters, written once in the table, are flags of every operation.
    for op in [
        "CreateSmartAccessGatewayClientUser",
        "ModifySmartAccessGatewayClientUser",
        "DescribeSmartAccessGatewayClientUsers",
    ] {
        let help = stdout(&smartag(&[op, "--help"]).await);
        for expected in ["--OwnerId <int64>", "--ResourceOwnerAccount <string>", "The ID of the Alibaba Cloud account"]
        {
            assert!(help.contains(expected), "{op}: missing {expected:?} in\n{help}");
        }
    }
    let out = smartag(&["DescribeSmartAccessGatewayClientUsers", "--help"]).await;
    assert!(stdout(&out).contains("--all-pages"));
    assert!(stdout(&out).contains("The server assumes 10 when it is not given."), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = smartag(&["completion", shell]).await;
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains("DescribeSmartAccessGatewayClientUsers"), "{shell}");
        assert!(script.contains("SmartAGId"), "{shell}");
    }
    assert_eq!(smartag(&["completion", "tcsh"]).await.status.code(), Some(2));
}
