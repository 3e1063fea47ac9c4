//! The credential chain and each of its sources against real parts: a local STS (the router
//! generated from spec/sts.yaml over a small implementation, real HTTP on loopback, real
//! signature verification), a fake ECS metadata service (an axum app: the real one only exists
//! on an ECS instance), real files in temporary directories, and an injected environment (the
//! process environment is never touched, so the tests run in parallel).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alibaba_credentials::{
    CredentialsError, CredentialsErrorKind, DefaultChain, DefaultChainBuilder, EcsRoleProvider, Env, OidcRoleProvider,
    ProvideCredentials, RamRoleArnProvider, StsEndpoint,
};
use alibaba_rpc_runtime::client::{Credentials, RetryPolicy};
use alibaba_sts_client::{
    AssumeRoleErrorCode, AssumeRoleRequest, AssumeRoleResponse, AssumeRoleWithOidcErrorCode, AssumeRoleWithOidcRequest,
    AssumeRoleWithOidcResponse, AssumedRoleUser, Client, CredentialsShape, GetCallerIdentityRequest,
    GetCallerIdentityResponse, OperationError,
};
use alibaba_sts_server::{
    AssumeRoleServerError, AssumeRoleWithOidcServerError, Authentication, CredentialStore,
    GetCallerIdentityServerError, KeyMaterial, Reply, RequestContext, ServerConfig, StsApi,
};
use axum::http::{HeaderMap, StatusCode};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const AK_ID: &str = "LTAI-test-id";
const AK_SECRET: &str = "ak-secret-never-shown";
const OIDC_TOKEN: &str = "oidc-token-never-shown-1";
const ROLE: &str = "acs:ram::1234567890:role/ops";
const MISSING_ROLE: &str = "acs:ram::1234567890:role/missing";

// ---------------------------------------------------------------------------------------------
// A local STS: the generated router over this implementation.

/// Issues numbered temporary keys valid for `validity` seconds, counts the calls, and remembers
/// the keys it issued so that requests signed with them are verified too.
#[derive(Clone, Default)]
struct FakeSts {
    state: Arc<StsState>,
}

#[derive(Default)]
struct StsState {
    validity_s: AtomicUsize,
    hits: AtomicUsize,
    issued: Mutex<HashMap<String, KeyMaterial>>,
    oidc_tokens: Mutex<Vec<String>>,
    oidc_callers: Mutex<Vec<Option<String>>>,
    role_callers: Mutex<Vec<Option<String>>>,
    expected_oidc_token: Mutex<String>,
}

impl FakeSts {
    fn new(validity_s: usize) -> FakeSts {
        let sts = FakeSts::default();
        sts.state.validity_s.store(validity_s, Ordering::SeqCst);
        sts.expect_token(OIDC_TOKEN);
        sts
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    fn expect_token(&self, token: &str) {
        *self.state.expected_oidc_token.lock().unwrap() = token.to_owned();
    }

    async fn issue(&self) -> CredentialsShape {
        // Slow enough that concurrent callers overlap with the refresh.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = self.state.hits.fetch_add(1, Ordering::SeqCst) + 1;
        let validity = self.state.validity_s.load(Ordering::SeqCst) as i64;
        let expires = (OffsetDateTime::now_utc() + time::Duration::seconds(validity)).replace_nanosecond(0).unwrap();
        let shape = CredentialsShape {
            access_key_id: format!("STS.issued-{n}"),
            access_key_secret: format!("sts-secret-{n}"),
            security_token: format!("sts-token-{n}"),
            expiration: expires.format(&Rfc3339).unwrap(),
        };
        self.state.issued.lock().unwrap().insert(
            shape.access_key_id.clone(),
            KeyMaterial::temporary(shape.access_key_secret.as_str(), shape.security_token.as_str()),
        );
        shape
    }
}

impl CredentialStore for FakeSts {
    fn key(&self, access_key_id: &str) -> Option<KeyMaterial> {
        if access_key_id == AK_ID {
            return Some(KeyMaterial::permanent(AK_SECRET));
        }
        self.state.issued.lock().unwrap().get(access_key_id).cloned()
    }
}

impl StsApi for FakeSts {
    async fn assume_role(
        &self,
        ctx: RequestContext,
        request: AssumeRoleRequest,
    ) -> Result<Reply<AssumeRoleResponse>, AssumeRoleServerError> {
        self.state.role_callers.lock().unwrap().push(ctx.access_key_id.clone());
        if request.role_arn == MISSING_ROLE {
            return Err(AssumeRoleServerError::api(AssumeRoleErrorCode::EntityNotExistRole));
        }
        Ok(AssumeRoleResponse {
            request_id: String::new(),
            credentials: self.issue().await,
            assumed_role_user: Some(AssumedRoleUser {
                arn: Some(format!("{}/{}", request.role_arn, request.role_session_name)),
                assumed_role_id: Some("3000:session".into()),
            }),
        }
        .into())
    }

    async fn assume_role_with_oidc(
        &self,
        ctx: RequestContext,
        request: AssumeRoleWithOidcRequest,
    ) -> Result<Reply<AssumeRoleWithOidcResponse>, AssumeRoleWithOidcServerError> {
        self.state.oidc_callers.lock().unwrap().push(ctx.access_key_id.clone());
        self.state.oidc_tokens.lock().unwrap().push(request.oidc_token.clone());
        if request.oidc_token != *self.state.expected_oidc_token.lock().unwrap() {
            return Err(AssumeRoleWithOidcServerError::api(
                AssumeRoleWithOidcErrorCode::AuthenticationFailOidcTokenInvalid,
            ));
        }
        Ok(AssumeRoleWithOidcResponse {
            request_id: String::new(),
            credentials: self.issue().await,
            assumed_role_user: None,
            oidc_token_info: None,
        }
        .into())
    }

    async fn get_caller_identity(
        &self,
        ctx: RequestContext,
        _request: GetCallerIdentityRequest,
    ) -> Result<Reply<GetCallerIdentityResponse>, GetCallerIdentityServerError> {
        Ok(GetCallerIdentityResponse {
            request_id: String::new(),
            account_id: Some("1234567890".into()),
            user_id: None,
            role_id: None,
            arn: ctx.access_key_id,
            identity_type: Some("AssumedRoleUser".into()),
            principal_id: None,
        }
        .into())
    }
}

/// Serves `sts` on a loopback port, verifying signatures against it; returns the endpoint.
async fn serve_sts(sts: FakeSts) -> String {
    let config = ServerConfig::builder(&alibaba_sts_client::SERVICE)
        .authentication(Authentication::signature(sts.clone()))
        .build();
    let app = alibaba_sts_server::router(sts, config);
    serve(app).await
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    format!("http://{addr}")
}

// ---------------------------------------------------------------------------------------------
// A fake ECS metadata service (the real one answers only on an ECS instance, at 100.100.100.200).

#[derive(Clone, Default)]
struct FakeMetadata {
    /// Whether it hands out IMDSv2 session tokens (else `PUT /latest/api/token` is 404).
    tokens: bool,
    hits: Arc<AtomicUsize>,
    token_requests: Arc<AtomicUsize>,
    role_lookups: Arc<AtomicUsize>,
}

const IMDS_TOKEN: &str = "imds-session-token";
const ECS_ROLE: &str = "EcsRole";

async fn serve_metadata(fake: FakeMetadata) -> String {
    use axum::routing::{get, put};
    let f1 = fake.clone();
    let f2 = fake.clone();
    let f3 = fake.clone();
    let app = axum::Router::new()
        .route(
            "/latest/api/token",
            put(move |headers: HeaderMap| {
                let f = f1.clone();
                async move {
                    f.token_requests.fetch_add(1, Ordering::SeqCst);
                    let ttl = headers.get("x-aliyun-ecs-metadata-token-ttl-seconds").and_then(|v| v.to_str().ok());
                    match (f.tokens, ttl) {
                        (false, _) => (StatusCode::NOT_FOUND, String::new()),
                        (true, Some("21600")) => (StatusCode::OK, IMDS_TOKEN.to_owned()),
                        (true, _) => (StatusCode::BAD_REQUEST, String::new()),
                    }
                }
            }),
        )
        .route(
            "/latest/meta-data/ram/security-credentials/",
            get(move |headers: HeaderMap| {
                let f = f2.clone();
                async move {
                    f.role_lookups.fetch_add(1, Ordering::SeqCst);
                    if !f.authorized(&headers) {
                        return (StatusCode::UNAUTHORIZED, String::new());
                    }
                    (StatusCode::OK, format!("{ECS_ROLE}\n"))
                }
            }),
        )
        .route(
            "/latest/meta-data/ram/security-credentials/{role}",
            get(move |headers: HeaderMap, axum::extract::Path(role): axum::extract::Path<String>| {
                let f = f3.clone();
                async move {
                    if !f.authorized(&headers) {
                        return (StatusCode::UNAUTHORIZED, String::new());
                    }
                    if role != ECS_ROLE {
                        return (StatusCode::NOT_FOUND, String::new());
                    }
                    let n = f.hits.fetch_add(1, Ordering::SeqCst) + 1;
                    let expires = (OffsetDateTime::now_utc() + time::Duration::hours(6)).replace_nanosecond(0).unwrap();
                    let body = serde_json::json!({
                        "AccessKeyId": format!("STS.ecs-{n}"),
                        "AccessKeySecret": format!("ecs-secret-{n}"),
                        "SecurityToken": format!("ecs-token-{n}"),
                        "Expiration": expires.format(&Rfc3339).unwrap(),
                        "LastUpdated": "2026-01-01T00:00:00Z",
                        "Code": "Success",
                    });
                    (StatusCode::OK, body.to_string())
                }
            }),
        );
    serve(app).await
}

impl FakeMetadata {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let token = headers.get("x-aliyun-ecs-metadata-token").and_then(|v| v.to_str().ok());
        !self.tokens || token == Some(IMDS_TOKEN)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// A loopback URL where nothing listens (connections are refused at once).
async fn nothing_listens() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A home directory with nothing in it, and the variables every test starts from.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn env(&self, vars: &[(&str, &str)]) -> Env {
        let mut all: Vec<(String, String)> = vec![("HOME".into(), self.path().display().to_string())];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Env::from_vars(all)
    }

    /// A chain over this home and `vars`, with STS at `sts` and the metadata service at `ecs`.
    fn chain(&self, vars: &[(&str, &str)], sts: &str, ecs: &str) -> DefaultChainBuilder {
        DefaultChain::builder().env(self.env(vars)).sts_endpoint(sts).ecs_metadata_endpoint(ecs)
    }
}

fn id(c: &Credentials) -> &str {
    &c.access_key_id
}

fn token(c: &Credentials) -> Option<&str> {
    c.security_token.as_ref().map(|t| t.expose())
}

/// Neither `Display` nor `Debug` of `e` shows any of `secrets`.
fn assert_no_secret(e: &CredentialsError, secrets: &[&str]) {
    let shown = format!("{e} {e:?}");
    for s in secrets {
        assert!(!shown.contains(s), "`{s}` shown in: {shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The environment.

#[tokio::test]
async fn the_environment_comes_first() {
    let home = Home::new();
    home.write(
        ".alibabacloud/credentials",
        "[default]\ntype = access_key\naccess_key_id = file-id\naccess_key_secret = file-secret\n",
    );
    let ecs = nothing_listens().await;
    let chain = home
        .chain(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token"),
            ],
            &ecs,
            &ecs,
        )
        .build();
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((id(&c), c.access_key_secret.expose(), token(&c)), ("env-id", "env-secret", Some("env-token")));
    assert_eq!(chain.source(), Some("environment"));
}

#[tokio::test]
async fn a_half_set_environment_names_the_missing_variable() {
    let home = Home::new();
    let ecs = nothing_listens().await;
    let e = home
        .chain(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")], &ecs, &ecs)
        .build()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Invalid);
    assert!(e.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), "{e}");

    let e = home
        .chain(
            &[("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"), ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret\n")],
            &ecs,
            &ecs,
        )
        .build()
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET") && e.to_string().contains("whitespace"), "{e}");
    assert_no_secret(&e, &["env-secret"]);
}

// ---------------------------------------------------------------------------------------------
// 2. The OIDC role.

#[tokio::test]
async fn the_oidc_role_is_assumed_anonymously_and_its_token_file_reread_on_each_refresh() {
    // Valid for 60 s: less than the 3 minutes of margin, so every call refreshes.
    let sts = FakeSts::new(60);
    let url = serve_sts(sts.clone()).await;
    let home = Home::new();
    let token_file = home.write("token", &format!("{OIDC_TOKEN}\n"));
    let ecs = nothing_listens().await;
    let vars = [
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1234567890:oidc-provider/ack"),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token_file.to_str().unwrap()),
        ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "pod-1"),
    ];
    let chain = home.chain(&vars, &url, &ecs).build();
    let first = chain.provide_credentials().await.unwrap();
    assert_eq!((id(&first), token(&first)), ("STS.issued-1", Some("sts-token-1")));
    assert_eq!(chain.source(), Some("OIDC role"));

    // The token is rotated in place: the next refresh sends the new one.
    std::fs::write(&token_file, "oidc-token-never-shown-2").unwrap();
    sts.expect_token("oidc-token-never-shown-2");
    let second = chain.provide_credentials().await.unwrap();
    assert_eq!(id(&second), "STS.issued-2");
    assert_eq!(*sts.state.oidc_tokens.lock().unwrap(), [OIDC_TOKEN, "oidc-token-never-shown-2"]);
    // No AccessKey signed these calls.
    assert_eq!(*sts.state.oidc_callers.lock().unwrap(), [None, None]);

    // A token STS refuses. The cached credentials have not expired yet: they are still answered.
    sts.expect_token("something else");
    assert_eq!(id(&chain.provide_credentials().await.unwrap()), "STS.issued-2");
    assert_eq!(sts.state.oidc_tokens.lock().unwrap().len(), 3, "the refresh was tried");
    // Without such credentials, the error names the call and the role, never the token.
    let e = home.chain(&vars, &url, &ecs).build().provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Unavailable);
    assert!(e.to_string().contains("AssumeRoleWithOIDC") && e.to_string().contains(ROLE), "{e}");
    assert!(e.to_string().contains("AuthenticationFail.OIDCToken.Invalid"), "{e}");
    assert_no_secret(&e, &["oidc-token-never-shown"]);
}

#[tokio::test]
async fn a_half_configured_oidc_role_names_the_missing_variable() {
    let home = Home::new();
    let ecs = nothing_listens().await;
    let e =
        home.chain(&[("ALIBABA_CLOUD_ROLE_ARN", ROLE)], &ecs, &ecs).build().provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Invalid);
    assert!(e.source_name().contains("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"), "{e}");

    let missing = home.path().join("no-such-token");
    let provider =
        OidcRoleProvider::new(ROLE, "acs:ram::1:oidc-provider/p", &missing, "s1", StsEndpoint::new(ecs.clone()));
    let e = provider.provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains("no-such-token") && e.to_string().contains("ALIBABA_CLOUD_OIDC_TOKEN_FILE"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 3. The aliyun CLI configuration.

fn cli_config(profiles: &str, current: &str) -> String {
    format!(r#"{{"current": "{current}", "profiles": [{profiles}], "meta_path": ""}}"#)
}

const CLI_AK: &str = r#"{"name": "default", "mode": "AK", "access_key_id": "cli-id", "access_key_secret": "cli-secret", "region_id": "cn-shanghai"}"#;
const CLI_STS: &str = r#"{"name": "temp", "mode": "StsToken", "access_key_id": "cli-sts-id", "access_key_secret": "cli-sts-secret", "sts_token": "cli-token", "region_id": "cn-beijing"}"#;

#[tokio::test]
async fn the_aliyun_cli_config_gives_the_current_or_the_selected_profile_and_its_region() {
    let home = Home::new();
    home.write(".aliyun/config.json", &cli_config(&format!("{CLI_AK}, {CLI_STS}"), "default"));
    // The credentials file is there too, but comes after the CLI config.
    home.write(
        ".alibabacloud/credentials",
        "[default]\ntype = access_key\naccess_key_id = file-id\naccess_key_secret = file-secret\n",
    );
    let ecs = nothing_listens().await;

    let chain = home.chain(&[], &ecs, &ecs).build();
    assert_eq!(chain.region(), Some("cn-shanghai"));
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((id(&c), token(&c)), ("cli-id", None));
    assert_eq!(chain.source(), Some("aliyun CLI config"));

    let chain = home.chain(&[], &ecs, &ecs).profile(Some("temp")).build();
    assert_eq!(chain.region(), Some("cn-beijing"));
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((id(&c), token(&c)), ("cli-sts-id", Some("cli-token")));

    // ALIBABA_CLOUD_PROFILE selects as well.
    let chain = home.chain(&[("ALIBABA_CLOUD_PROFILE", "temp")], &ecs, &ecs).build();
    assert_eq!(chain.profile(), Some("temp"));
    assert_eq!(id(&chain.provide_credentials().await.unwrap()), "cli-sts-id");
}

#[tokio::test]
async fn a_ram_role_arn_profile_signs_assume_role_with_its_access_key() {
    let sts = FakeSts::new(3600);
    let url = serve_sts(sts.clone()).await;
    let home = Home::new();
    let ram = format!(
        r#"{{"name": "ops", "mode": "RamRoleArn", "access_key_id": "{AK_ID}", "access_key_secret": "{AK_SECRET}", "ram_role_arn": "{ROLE}", "ram_session_name": "me", "expired_seconds": 900}}"#
    );
    let wrong = format!(
        r#"{{"name": "wrong", "mode": "RamRoleArn", "access_key_id": "{AK_ID}", "access_key_secret": "not-the-secret", "ram_role_arn": "{ROLE}"}}"#
    );
    let missing = format!(
        r#"{{"name": "missing", "mode": "RamRoleArn", "access_key_id": "{AK_ID}", "access_key_secret": "{AK_SECRET}", "ram_role_arn": "{MISSING_ROLE}"}}"#
    );
    home.write(".aliyun/config.json", &cli_config(&format!("{ram}, {wrong}, {missing}"), "ops"));
    let ecs = nothing_listens().await;

    let c = home.chain(&[], &url, &ecs).build().provide_credentials().await.unwrap();
    assert_eq!((id(&c), token(&c)), ("STS.issued-1", Some("sts-token-1")));
    // The router verified the signature of the profile's AccessKey.
    assert_eq!(*sts.state.role_callers.lock().unwrap(), [Some(AK_ID.to_owned())]);

    let e = home.chain(&[], &url, &ecs).profile(Some("wrong")).build().provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Unavailable);
    assert!(e.to_string().contains("SignatureDoesNotMatch") && e.to_string().contains(ROLE), "{e}");
    assert_no_secret(&e, &["not-the-secret", AK_SECRET]);

    let e = home.chain(&[], &url, &ecs).profile(Some("missing")).build().provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains("EntityNotExist.Role"), "{e}");
}

#[tokio::test]
async fn a_broken_aliyun_cli_config_is_reported_with_its_place() {
    let home = Home::new();
    let ecs = nothing_listens().await;
    let path = home.write(
        ".aliyun/config.json",
        "{\n  \"current\": \"default\",\n  \"profiles\": [\n    {\"name\": \"default\" \"mode\": \"AK\"}\n  ]\n}\n",
    );
    let e = home.chain(&[], &ecs, &ecs).build().provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Invalid);
    let text = e.to_string();
    assert!(text.contains(&path.display().to_string()) && text.contains("line 4"), "{text}");

    home.write(
        ".aliyun/config.json",
        &cli_config(r#"{"name": "default", "mode": "CloudSSO", "access_key_secret": "sso-secret"}"#, "default"),
    );
    let e = home.chain(&[], &ecs, &ecs).build().provide_credentials().await.unwrap_err();
    assert!(
        e.to_string().contains("unsupported mode \"CloudSSO\"") && e.to_string().contains("profile `default`"),
        "{e}"
    );
    assert_no_secret(&e, &["sso-secret"]);

    home.write(
        ".aliyun/config.json",
        &cli_config(r#"{"name": "default", "mode": "AK", "access_key_id": "x"}"#, "default"),
    );
    let e = home.chain(&[], &ecs, &ecs).build().provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains("`access_key_secret` is missing"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 4. The credentials file.

const FILE: &str = "\
# Alibaba Cloud credentials
[default]
type = access_key
access_key_id = file-id
access_key_secret = file-secret

[temp]
type = sts
access_key_id = file-sts-id
access_key_secret = file-sts-secret
security_token = file-token

[instance]
type = ecs_ram_role
role_name = EcsRole

[broken]
type = access_key
access_key_id = only-the-id

[odd]
type = rsa_key_pair
";

#[tokio::test]
async fn the_credentials_file_gives_the_selected_profile() {
    let home = Home::new();
    home.write(".alibabacloud/credentials", FILE);
    let ecs = nothing_listens().await;

    let c = home.chain(&[], &ecs, &ecs).build().provide_credentials().await.unwrap();
    assert_eq!((id(&c), c.access_key_secret.expose(), token(&c)), ("file-id", "file-secret", None));

    let chain = home.chain(&[], &ecs, &ecs).profile(Some("temp")).build();
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((id(&c), token(&c)), ("file-sts-id", Some("file-token")));
    assert_eq!(chain.source(), Some("credentials file"));

    // Elsewhere, through ALIBABA_CLOUD_CREDENTIALS_FILE.
    let other = home.write(
        "elsewhere/creds.ini",
        "[default]\ntype = access_key\naccess_key_id = other-id\naccess_key_secret = s\n",
    );
    let chain = home.chain(&[("ALIBABA_CLOUD_CREDENTIALS_FILE", other.to_str().unwrap())], &ecs, &ecs).build();
    assert_eq!(id(&chain.provide_credentials().await.unwrap()), "other-id");
}

#[tokio::test]
async fn a_broken_credentials_file_names_file_profile_key_and_line() {
    let home = Home::new();
    let path = home.write(".alibabacloud/credentials", FILE);
    let file = path.display().to_string();
    let ecs = nothing_listens().await;

    let e = home.chain(&[], &ecs, &ecs).profile(Some("broken")).build().provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Invalid);
    let text = e.to_string();
    assert!(
        text.contains(&file)
            && text.contains("profile `broken` (line 17)")
            && text.contains("`access_key_secret` is missing"),
        "{text}"
    );

    let e = home.chain(&[], &ecs, &ecs).profile(Some("odd")).build().provide_credentials().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("profile `odd` (line 21)") && text.contains("unsupported type `rsa_key_pair`"), "{text}");

    // A syntax error: the line, never its text (it may be a secret).
    home.write(".alibabacloud/credentials", "[default]\ntype = access_key\nLTAI-pasted-secret-without-key\n");
    let e = home.chain(&[], &ecs, &ecs).build().provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains(&file) && e.to_string().contains("line 3"), "{e}");
    assert_no_secret(&e, &["LTAI-pasted-secret"]);

    // A section header without its `]`, a `= value` without a key: the line, never the text.
    home.write(".alibabacloud/credentials", "# mine\n[default\ntype = access_key\n");
    let e = home.chain(&[], &ecs, &ecs).build().provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Invalid);
    assert!(e.to_string().contains(&file) && e.to_string().contains("line 2"), "{e}");
    home.write(".alibabacloud/credentials", "[default]\ntype = access_key\n\n = LTAI-value-without-key\n");
    let e = home.chain(&[], &ecs, &ecs).build().provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains(&file) && e.to_string().contains("line 4"), "{e}");
    assert_no_secret(&e, &["LTAI-value-without-key"]);

    // A file named by the variable must exist.
    let e = home
        .chain(&[("ALIBABA_CLOUD_CREDENTIALS_FILE", "/nonexistent/creds")], &ecs, &ecs)
        .build()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::Invalid);
    assert!(e.to_string().contains("/nonexistent/creds"), "{e}");
}

#[tokio::test]
async fn a_ram_role_arn_profile_of_the_credentials_file_assumes_the_role() {
    let sts = FakeSts::new(3600);
    let url = serve_sts(sts.clone()).await;
    let home = Home::new();
    home.write(
        ".alibabacloud/credentials",
        &format!("[default]\ntype = ram_role_arn\naccess_key_id = {AK_ID}\naccess_key_secret = {AK_SECRET}\nrole_arn = {ROLE}\nrole_session_name = me\n"),
    );
    let ecs = nothing_listens().await;
    let c = home.chain(&[], &url, &ecs).build().provide_credentials().await.unwrap();
    assert_eq!(id(&c), "STS.issued-1");
    assert_eq!(*sts.state.role_callers.lock().unwrap(), [Some(AK_ID.to_owned())]);
}

// ---------------------------------------------------------------------------------------------
// 5. The ECS instance RAM role.

#[tokio::test]
async fn the_instance_role_is_read_with_a_session_token() {
    let fake = FakeMetadata { tokens: true, ..FakeMetadata::default() };
    let url = serve_metadata(fake.clone()).await;
    let home = Home::new();
    let sts = nothing_listens().await;

    // Nothing else configured: the chain ends at the metadata service, which names the role.
    let chain = home.chain(&[], &sts, &url).build();
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((id(&c), token(&c)), ("STS.ecs-1", Some("ecs-token-1")));
    assert_eq!(chain.source(), Some("ECS instance RAM role"));
    assert_eq!(fake.role_lookups.load(Ordering::SeqCst), 1);
    assert!(fake.token_requests.load(Ordering::SeqCst) >= 1);

    // Cached: valid for hours.
    chain.provide_credentials().await.unwrap();
    assert_eq!(fake.hits.load(Ordering::SeqCst), 1);

    // A named role is not looked up; the credentials file's ecs_ram_role type reaches it too.
    home.write(".alibabacloud/credentials", FILE);
    let chain = home.chain(&[], &sts, &url).profile(Some("instance")).build();
    assert_eq!(id(&chain.provide_credentials().await.unwrap()), "STS.ecs-2");
    assert_eq!(fake.role_lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_session_tokens_the_instance_role_is_read_as_imdsv1_unless_that_is_disabled() {
    let fake = FakeMetadata { tokens: false, ..FakeMetadata::default() };
    let url = serve_metadata(fake.clone()).await;
    let c =
        EcsRoleProvider::with_endpoint(Some(ECS_ROLE.into()), url.clone(), false).provide_credentials().await.unwrap();
    assert_eq!(id(&c), "STS.ecs-1");

    let e = EcsRoleProvider::with_endpoint(Some(ECS_ROLE.into()), url.clone(), true)
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ALIBABA_CLOUD_IMDSV1_DISABLED"), "{e}");

    // The role the variable names.
    let home = Home::new();
    let e = EcsRoleProvider::from_env(&home.env(&[("ALIBABA_CLOUD_ECS_METADATA", "NoSuchRole")]), None, Some(url))
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("NoSuchRole"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 6. Nothing configured.

#[tokio::test]
async fn when_nothing_is_configured_the_error_lists_what_was_tried() {
    let home = Home::new();
    let ecs = nothing_listens().await;
    let e = home.chain(&[], &ecs, &ecs).profile(Some("dev")).build().provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), CredentialsErrorKind::NotConfigured);
    let text = e.to_string();
    for tried in [
        "1. environment: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set",
        "2. OIDC role: ALIBABA_CLOUD_ROLE_ARN",
        "3. aliyun CLI config",
        "config.json: it does not exist",
        "4. credentials file",
        ".alibabacloud/credentials: it does not exist",
        "5. ECS instance RAM role",
        "not an ECS instance",
    ] {
        assert!(text.contains(tried), "`{tried}` missing from: {text}");
    }

    // A profile that neither file has is "not found" in each.
    home.write(".alibabacloud/credentials", FILE);
    home.write(".aliyun/config.json", &cli_config(CLI_AK, "default"));
    let e = home
        .chain(&[("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")], &ecs, &ecs)
        .profile(Some("dev"))
        .build()
        .provide_credentials()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("no profile `dev` (it has `default`)"), "{text}");
    assert!(text.contains("no profile `dev` (it has `default`, `temp`, `instance`, `broken`, `odd`)"), "{text}");
    assert!(text.contains("disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// 7. Caching and refreshing.

#[tokio::test]
async fn temporary_credentials_are_cached_until_a_few_minutes_before_they_expire() {
    let long = FakeSts::new(3600);
    let url = serve_sts(long.clone()).await;
    let provider = RamRoleArnProvider::new(Credentials::new(AK_ID, AK_SECRET), ROLE, "s1", StsEndpoint::new(url));
    for _ in 0..3 {
        assert_eq!(id(&provider.provide_credentials().await.unwrap()), "STS.issued-1");
    }
    assert_eq!(long.hits(), 1);

    // Valid for 2 minutes: within the 3 minutes of margin, so each call refreshes.
    let short = FakeSts::new(120);
    let url = serve_sts(short.clone()).await;
    let provider = RamRoleArnProvider::new(Credentials::new(AK_ID, AK_SECRET), ROLE, "s1", StsEndpoint::new(url));
    assert_eq!(id(&provider.provide_credentials().await.unwrap()), "STS.issued-1");
    assert_eq!(id(&provider.provide_credentials().await.unwrap()), "STS.issued-2");
    assert_eq!(short.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_callers_cause_one_refresh() {
    let sts = FakeSts::new(3600);
    let url = serve_sts(sts.clone()).await;
    let home = Home::new();
    home.write(
        ".alibabacloud/credentials",
        &format!("[default]\ntype = ram_role_arn\naccess_key_id = {AK_ID}\naccess_key_secret = {AK_SECRET}\nrole_arn = {ROLE}\n"),
    );
    let ecs = nothing_listens().await;
    let chain = Arc::new(home.chain(&[], &url, &ecs).build());
    let callers: Vec<_> = (0..64)
        .map(|_| {
            let chain = Arc::clone(&chain);
            tokio::spawn(async move { chain.provide_credentials().await.map(|c| c.access_key_id) })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap().unwrap(), "STS.issued-1");
    }
    assert_eq!(sts.hits(), 1, "one STS call for 64 concurrent callers");
}

// ---------------------------------------------------------------------------------------------
// 8. In a client, and secrets.

#[tokio::test]
async fn a_client_signs_each_attempt_with_what_the_chain_provides() {
    let sts = FakeSts::new(3600);
    let url = serve_sts(sts.clone()).await;
    let home = Home::new();
    home.write(
        ".alibabacloud/credentials",
        &format!("[default]\ntype = ram_role_arn\naccess_key_id = {AK_ID}\naccess_key_secret = {AK_SECRET}\nrole_arn = {ROLE}\n"),
    );
    let ecs = nothing_listens().await;
    let chain = home.chain(&[], &url, &ecs).build();
    let client = Client::new(
        Client::config_builder().region("cn-hangzhou").endpoint(&url).credentials_provider(chain).build().unwrap(),
    )
    .unwrap();
    // Signed with the assumed role's temporary key and token, which the server verifies.
    let who = client.get_caller_identity(&GetCallerIdentityRequest::builder().build()).await.unwrap();
    assert_eq!(who.arn.as_deref(), Some("STS.issued-1"));

    // No credentials: nothing is sent, the error says why, and it is not retried.
    let empty =
        home.chain(&[("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"), ("HOME", "/nonexistent")], &url, &ecs).build();
    let client = Client::new(
        Client::config_builder()
            .region("cn-hangzhou")
            .endpoint(&url)
            .retry(RetryPolicy::default())
            .credentials_provider(empty)
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = client.get_caller_identity(&GetCallerIdentityRequest::builder().build()).await.unwrap_err();
    assert!(matches!(e, OperationError::Credentials { .. }), "{e:?}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("no credentials found"), "{e}");
}

#[tokio::test]
async fn secrets_never_show_in_debug() {
    let sts = FakeSts::new(3600);
    let url = serve_sts(sts.clone()).await;
    let home = Home::new();
    home.write(
        ".alibabacloud/credentials",
        &format!("[default]\ntype = ram_role_arn\naccess_key_id = {AK_ID}\naccess_key_secret = {AK_SECRET}\nrole_arn = {ROLE}\n"),
    );
    let ecs = nothing_listens().await;
    let chain = home.chain(&[("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token-never-shown")], &url, &ecs).build();
    let c = chain.provide_credentials().await.unwrap();
    let shown = format!("{chain:?} {c:?}");
    for secret in [AK_SECRET, "sts-secret-1", "sts-token-1", "env-token-never-shown"] {
        assert!(!shown.contains(secret), "`{secret}` in {shown}");
    }
    let provider = RamRoleArnProvider::new(Credentials::new(AK_ID, AK_SECRET), ROLE, "s1", StsEndpoint::new(url));
    provider.provide_credentials().await.unwrap();
    let shown = format!("{provider:?}");
    assert!(!shown.contains(AK_SECRET) && !shown.contains("sts-secret") && !shown.contains("sts-token"), "{shown}");

    // The generated STS response types redact too.
    let response = AssumeRoleResponse {
        credentials: CredentialsShape {
            access_key_id: "STS.x".into(),
            access_key_secret: "resp-secret".into(),
            security_token: "resp-token".into(),
            expiration: "2026-01-01T00:00:00Z".into(),
        },
        ..AssumeRoleResponse::default()
    };
    let shown = format!("{response:?}");
    assert!(shown.contains("STS.x") && !shown.contains("resp-secret") && !shown.contains("resp-token"), "{shown}");
}
