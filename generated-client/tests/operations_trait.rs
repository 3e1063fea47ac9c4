//! Testing application code with the operations trait: `onboard` below is written once, against
//! `SmartagOperations`, and runs unchanged against a hand-written fake (no network at all) and
//! against the real `Client` talking HTTP to a server on loopback (the generated `smartag-server`
//! router over a trivial in-memory implementation; pointing the client at the running service
//! works the same way).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use smartag_client::{
    ApiError, Client, CreateSmartAccessGatewayClientUserError, CreateSmartAccessGatewayClientUserErrorCode,
    CreateSmartAccessGatewayClientUserRequest, CreateSmartAccessGatewayClientUserResponse, Credentials,
    DescribeSmartAccessGatewayClientUsersError, DescribeSmartAccessGatewayClientUsersRequest,
    DescribeSmartAccessGatewayClientUsersResponse, ModifySmartAccessGatewayClientUserError,
    ModifySmartAccessGatewayClientUserRequest, ModifySmartAccessGatewayClientUserResponse, RetryPolicy,
    SmartagOperations, User,
};
use smartag_server::{
    Authentication, CreateSmartAccessGatewayClientUserServerError, DescribeSmartAccessGatewayClientUsersServerError,
    KeyMaterial, ModifySmartAccessGatewayClientUserServerError, Reply, RequestContext, ServerConfig, ServerError,
    SmartagApi,
};

// ---- the application code under test: written once, against the trait ----

/// Makes sure `mail` has an account on `sag` (creating it unless it exists) and returns how many
/// accounts the instance has.
async fn onboard(api: &impl SmartagOperations, sag: &str, mail: &str) -> Result<i32, Box<dyn std::error::Error>> {
    let create = CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id(sag)
        .user_mail(mail)
        .bandwidth(20)
        .build();
    match api.create_smart_access_gateway_client_user(&create).await {
        Ok(_) => {}
        Err(CreateSmartAccessGatewayClientUserError::Api {
            code: CreateSmartAccessGatewayClientUserErrorCode::ClientUserUserExist,
            ..
        }) => {}
        Err(e) => return Err(e.into()),
    }
    let list =
        DescribeSmartAccessGatewayClientUsersRequest::builder().region_id("cn-shanghai").smart_ag_id(sag).build();
    Ok(api.describe_smart_access_gateway_client_users(&list).await?.total_count)
}

// ---- a hand-written fake: no network ----

/// Accounts by instance, in memory. Answers `ClientUser.UserExist` as the real API does.
#[derive(Default)]
struct Fake {
    users: Mutex<HashMap<String, Vec<User>>>,
}

fn user(mail: &str) -> User {
    User {
        user_name: mail.to_owned(),
        user_mail: mail.to_owned(),
        bandwidth: 20,
        client_ip: None,
        state: 0,
        accelerate_bandwidth: None,
        is_static_ip: None,
    }
}

impl SmartagOperations for Fake {
    async fn create_smart_access_gateway_client_user(
        &self,
        request: &CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<CreateSmartAccessGatewayClientUserResponse, CreateSmartAccessGatewayClientUserError> {
        let mut users = self.users.lock().unwrap();
        let users = users.entry(request.smart_ag_id.clone()).or_default();
        if users.iter().any(|u| u.user_mail == request.user_mail) {
            return Err(CreateSmartAccessGatewayClientUserError::Api {
                code: CreateSmartAccessGatewayClientUserErrorCode::ClientUserUserExist,
                error: ApiError {
                    status: 400,
                    request_id: "fake".into(),
                    host_id: String::new(),
                    code: "ClientUser.UserExist".into(),
                    message: "The user already exists.".into(),
                    recommend: String::new(),
                },
                attempts: 1,
            });
        }
        users.push(user(&request.user_mail));
        Ok(CreateSmartAccessGatewayClientUserResponse {
            request_id: "fake".into(),
            user_name: request.user_mail.clone(),
            user_mail: request.user_mail.clone(),
            bandwidth: request.bandwidth,
            client_ip: None,
        })
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        _request: &ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<ModifySmartAccessGatewayClientUserResponse, ModifySmartAccessGatewayClientUserError> {
        unimplemented!("not used by `onboard`")
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        request: &DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<DescribeSmartAccessGatewayClientUsersResponse, DescribeSmartAccessGatewayClientUsersError> {
        let users = self.users.lock().unwrap().get(&request.smart_ag_id).cloned().unwrap_or_default();
        Ok(DescribeSmartAccessGatewayClientUsersResponse {
            request_id: "fake".into(),
            total_count: i32::try_from(users.len()).unwrap_or(i32::MAX),
            page_number: 1,
            page_size: 100,
            users,
        })
    }
}

#[tokio::test]
async fn application_code_runs_against_a_fake() {
    let fake = Fake::default();
    assert_eq!(onboard(&fake, "sag-1", "a@example.com").await.unwrap(), 1);
    assert_eq!(onboard(&fake, "sag-1", "a@example.com").await.unwrap(), 1, "an existing account is fine");
    assert_eq!(onboard(&fake, "sag-1", "b@example.com").await.unwrap(), 2);
}

// ---- the real client, over HTTP on loopback, to the generated router ----

/// The generated server trait, implemented trivially (the service implements it on SQLite).
#[derive(Clone, Default)]
struct InMemory(Arc<Fake>);

impl SmartagApi for InMemory {
    async fn create_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        request: CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<CreateSmartAccessGatewayClientUserResponse>, CreateSmartAccessGatewayClientUserServerError> {
        match self.0.create_smart_access_gateway_client_user(&request).await {
            Ok(created) => Ok(created.into()),
            Err(e) => Err(match e.code() {
                Some(code) => ServerError::api(code),
                None => ServerError::internal(e.to_string()),
            }),
        }
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        _request: ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<ModifySmartAccessGatewayClientUserResponse>, ModifySmartAccessGatewayClientUserServerError> {
        Err(ServerError::internal("not implemented"))
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        _ctx: RequestContext,
        request: DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<Reply<DescribeSmartAccessGatewayClientUsersResponse>, DescribeSmartAccessGatewayClientUsersServerError>
    {
        self.0
            .describe_smart_access_gateway_client_users(&request)
            .await
            .map(Reply::Owned)
            .map_err(|e| ServerError::internal(e.to_string()))
    }
}

async fn serve(api: InMemory) -> String {
    let keys = HashMap::from([("testid".to_owned(), KeyMaterial::permanent("testsecret"))]);
    let config =
        ServerConfig::builder(&smartag_client::SERVICE).authentication(Authentication::signature(keys)).build();
    let app = smartag_server::router(api, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_same_code_runs_against_the_real_client() {
    let server = InMemory::default();
    let endpoint = serve(server.clone()).await;
    let client = Client::new(
        Client::config_builder()
            .region("cn-shanghai")
            .endpoint(endpoint)
            .credentials(Credentials::new("testid", "testsecret"))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(onboard(&client, "sag-1", "a@example.com").await.unwrap(), 1);
    assert_eq!(onboard(&client, "sag-1", "a@example.com").await.unwrap(), 1, "UserExist came back typed over HTTP");
    assert_eq!(onboard(&client, "sag-1", "b@example.com").await.unwrap(), 2);
    assert_eq!(server.0.users.lock().unwrap()["sag-1"].len(), 2, "the server holds what the client created");

    // The client's own methods keep their per-call options; the trait's are plain calls.
    let list =
        DescribeSmartAccessGatewayClientUsersRequest::builder().region_id("cn-shanghai").smart_ag_id("sag-1").build();
    let listed = client
        .describe_smart_access_gateway_client_users(&list)
        .timeout(std::time::Duration::from_secs(2))
        .deadline_in(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(listed.users.len(), 2);
}
