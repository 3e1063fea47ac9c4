//! Side A: the generated router (`smartag_server::router`) over a trivial in-memory
//! implementation of the generated trait. Describe answers the fixed page, shared
//! ([`Reply::Shared`]: serialized from the kept page, not copied, as side B serializes from a
//! borrow); the other operations are not measured and answer `SAG.InstanceNoFound`.

use std::collections::HashMap;
use std::sync::Arc;

use smartag_server::{
    Authentication, CreateSmartAccessGatewayClientUserErrorCode, CreateSmartAccessGatewayClientUserRequest,
    CreateSmartAccessGatewayClientUserResponse, CreateSmartAccessGatewayClientUserServerError,
    DescribeSmartAccessGatewayClientUsersErrorCode, DescribeSmartAccessGatewayClientUsersRequest,
    DescribeSmartAccessGatewayClientUsersResponse, DescribeSmartAccessGatewayClientUsersServerError,
    ModifySmartAccessGatewayClientUserErrorCode, ModifySmartAccessGatewayClientUserRequest,
    ModifySmartAccessGatewayClientUserResponse, ModifySmartAccessGatewayClientUserServerError, Reply, RequestContext,
    ServerConfig, ServerError, SmartagApi, User,
};

use crate::Auth;
use crate::fixture;

/// The in-memory implementation: one instance with the fixed page of users, kept as the answer
/// to the measured request (page 1 of 10), as an implementation with a cache of pages would.
#[derive(Debug, Clone)]
pub struct InMemory {
    page: Arc<DescribeSmartAccessGatewayClientUsersResponse>,
}

impl InMemory {
    /// The implementation holding [`fixture::users`].
    pub fn new() -> InMemory {
        InMemory { page: Arc::new(fixed_page()) }
    }

    fn known(region: &str, instance: &str) -> bool {
        region == fixture::REGION && instance == fixture::INSTANCE
    }
}

/// The fixed page ([`fixture::users`]) as the generated model's Describe response: what
/// [`InMemory`] answers every Describe with.
pub fn fixed_page() -> DescribeSmartAccessGatewayClientUsersResponse {
    let users: Vec<User> = fixture::users()
        .into_iter()
        .map(|u| User {
            user_name: u.user_name,
            user_mail: u.user_mail,
            bandwidth: u.bandwidth,
            client_ip: Some(u.client_ip),
            state: u.state,
            accelerate_bandwidth: Some(u.accelerate_bandwidth),
            is_static_ip: Some(u.is_static_ip),
        })
        .collect();
    DescribeSmartAccessGatewayClientUsersResponse {
        request_id: String::new(),
        total_count: i32::try_from(users.len()).unwrap_or(i32::MAX),
        page_number: 1,
        page_size: 10,
        users,
    }
}

impl Default for InMemory {
    fn default() -> Self {
        InMemory::new()
    }
}

impl SmartagApi for InMemory {
    async fn create_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        _request: CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<CreateSmartAccessGatewayClientUserResponse>, CreateSmartAccessGatewayClientUserServerError> {
        Err(ServerError::api(CreateSmartAccessGatewayClientUserErrorCode::SagInstanceNoFound))
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        _request: ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<ModifySmartAccessGatewayClientUserResponse>, ModifySmartAccessGatewayClientUserServerError> {
        Err(ServerError::api(ModifySmartAccessGatewayClientUserErrorCode::SagInstanceNoFound))
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        _ctx: RequestContext,
        request: DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<Reply<DescribeSmartAccessGatewayClientUsersResponse>, DescribeSmartAccessGatewayClientUsersServerError>
    {
        if !InMemory::known(&request.region_id, &request.smart_ag_id) {
            return Err(ServerError::api(DescribeSmartAccessGatewayClientUsersErrorCode::SagInstanceNoFound));
        }
        let (page_number, page_size) = (request.page_number_or_default(), request.page_size_or_default());
        if (page_number, page_size) == (self.page.page_number, self.page.page_size) {
            return Ok(Arc::clone(&self.page).into());
        }
        // Other paging parameters (not measured): the same users, as side B answers them, under
        // the numbers asked for.
        Ok(DescribeSmartAccessGatewayClientUsersResponse { page_number, page_size, ..(*self.page).clone() }.into())
    }
}

/// The generated router over [`InMemory`], with the service's `HostId` and, when `auth` is on,
/// signature verification with the one bench key, and room for [`fixture::NONCE_CAPACITY`]
/// nonces (every other setting the default).
pub fn router(auth: Auth) -> axum::Router {
    let authentication = match auth {
        Auth::Off => Authentication::disabled(),
        Auth::On => Authentication::signature(HashMap::from([(
            fixture::ACCESS_KEY_ID.to_owned(),
            fixture::ACCESS_KEY_SECRET.to_owned(),
        )])),
    };
    let config = ServerConfig::builder(&smartag_server::SERVICE)
        .host_id(fixture::HOST_ID)
        .authentication(authentication)
        .nonce_capacity(fixture::NONCE_CAPACITY)
        .build();
    smartag_server::router(InMemory::new(), config)
}
