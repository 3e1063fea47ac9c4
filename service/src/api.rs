//! The documented behaviour of the three operations, on the generated server trait.
//!
//! Requests arrive authenticated and validated against the spec; this module decides what the
//! spec cannot: which instances exist, uniqueness, quotas, address allocation, passwords and the
//! account e-mail. Blocking work (argon2, the outbox) runs on the blocking pool; the store is
//! called through its async port ([`UserStore`]). A store that cannot reach its database
//! answers `ServiceUnavailable` (503, retryable); any other store failure is an internal error.

use std::net::Ipv4Addr;
use std::sync::Arc;

use smartag_server::ErrorCode as _;
use smartag_server::{
    CreateSmartAccessGatewayClientUserErrorCode as CreateCode, CreateSmartAccessGatewayClientUserRequest,
    CreateSmartAccessGatewayClientUserResponse, CreateSmartAccessGatewayClientUserServerError,
    DescribeSmartAccessGatewayClientUsersErrorCode as DescribeCode, DescribeSmartAccessGatewayClientUsersRequest,
    DescribeSmartAccessGatewayClientUsersResponse, DescribeSmartAccessGatewayClientUsersServerError,
    ModifySmartAccessGatewayClientUserErrorCode as ModifyCode, ModifySmartAccessGatewayClientUserRequest,
    ModifySmartAccessGatewayClientUserResponse, ModifySmartAccessGatewayClientUserServerError, ProtocolCode, Reply,
    RequestContext, ServerError, SmartagApi, User,
};

use crate::config::{Config, Instance};
use crate::outbox::{Mail, Outbox};
use crate::password;
use crate::store::{
    AnyStore, CreateUserError, ModifyUserError, NewUser, StoreError, UserChange, UserQuery, UserRecord, UserStore,
};

/// The service: configuration (instances), the user store and the outbox.
#[derive(Clone)]
pub struct SmartagService {
    config: Arc<Config>,
    store: AnyStore,
    outbox: Outbox,
}

impl SmartagService {
    /// A service over `config`, keeping users in `store` (SQLite or PostgreSQL) and account
    /// e-mails in `outbox`.
    pub fn new(config: Arc<Config>, store: impl Into<AnyStore>, outbox: Outbox) -> Self {
        SmartagService { config, store: store.into(), outbox }
    }

    fn instance(&self, region: &str, id: &str) -> Option<Instance> {
        self.config.instance(region, id).cloned()
    }
}

/// Runs blocking work on the blocking pool; a panic or cancellation there is an internal error.
async fn blocking<T: Send + 'static, C: smartag_server::ErrorCode>(
    f: impl FnOnce() -> Result<T, ServerError<C>> + Send + 'static,
) -> Result<T, ServerError<C>> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(ServerError::internal(e)))
}

/// A store failure as the API answers it: `ServiceUnavailable` (503, the protocol error of a
/// request the server cannot answer in time, retryable) while the database cannot be reached, else an internal
/// error (500).
pub fn store_error<C: smartag_server::ErrorCode>(error: StoreError) -> ServerError<C> {
    if error.is_unavailable() {
        tracing::warn!(error = %crate::admin::error_chain(&error), "the database is unavailable");
        if let Some(code) = C::from_code(ProtocolCode::ServiceUnavailable.code()) {
            return ServerError::api(code);
        }
    }
    ServerError::internal(error)
}

fn user(r: UserRecord) -> User {
    User {
        user_name: r.user_name,
        user_mail: r.user_mail,
        bandwidth: r.bandwidth,
        client_ip: Some(r.client_ip),
        state: i32::try_from(r.state).unwrap_or(1),
        accelerate_bandwidth: Some(r.accelerate_bandwidth),
        is_static_ip: Some(i64::from(r.is_static_ip)),
    }
}

/// The answers of Create and Modify: the same four fields of the account, written once.
trait AccountAnswer: Default {
    fn with(user_name: String, user_mail: String, bandwidth: i64, client_ip: String) -> Self;
}

macro_rules! account_answer {
    ($($response:ty),*) => {$(
        impl AccountAnswer for $response {
            fn with(user_name: String, user_mail: String, bandwidth: i64, client_ip: String) -> Self {
                Self { user_name, user_mail, bandwidth, client_ip: Some(client_ip), ..Default::default() }
            }
        }
    )*};
}

account_answer!(CreateSmartAccessGatewayClientUserResponse, ModifySmartAccessGatewayClientUserResponse);

/// The answer of Create or Modify for the stored account `record`.
fn account_answer<R: AccountAnswer>(record: UserRecord) -> R {
    R::with(record.user_name, record.user_mail, record.bandwidth, record.client_ip)
}

impl SmartagApi for SmartagService {
    async fn create_smart_access_gateway_client_user(
        &self,
        ctx: RequestContext,
        request: CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<CreateSmartAccessGatewayClientUserResponse>, CreateSmartAccessGatewayClientUserServerError> {
        let Some(instance) = self.instance(&request.region_id, &request.smart_ag_id) else {
            return Err(ServerError::api(CreateCode::SagInstanceNoFound));
        };
        // Checked before hashing so that a caller of a CIDR-less instance gets its answer at once.
        if instance.cidr.is_none() {
            return Err(ServerError::api(CreateCode::SagCidrEmpty));
        }
        let static_ip = match request.client_ip.as_deref() {
            None => None,
            Some(ip) => {
                Some(ip.parse::<Ipv4Addr>().map_err(|_| ServerError::api(CreateCode::ClientUserInvalidClientIp))?)
            }
        };
        let outbox = self.outbox.clone();
        let request_id = ctx.request_id;
        let region = request.region_id.clone();
        let instance_id = instance.id.clone();
        // Hashing and the outbox block: on the blocking pool.
        let (new_user, mail) = blocking(move || {
            let user_name = request.user_name.clone().unwrap_or_else(|| request.user_mail.clone());
            let password = request.password.clone().unwrap_or_else(password::generate_password);
            let password_hash = password::hash_password(&password).map_err(ServerError::internal)?;
            // As the real service does, the username and password are sent to the user's e-mail
            // address (here: the outbox). The message is delivered before the user is committed
            // and withdrawn if the commit fails: a 2xx always has its message, and no message
            // outlives a failure.
            let message =
                Mail::account_created(&request.user_mail, &request.region_id, &instance.id, &user_name, &password);
            let mail = outbox.deliver(&message).map_err(ServerError::internal)?;
            let new_user = NewUser {
                region: request.region_id,
                instance: instance.limits(),
                user_name,
                user_mail: request.user_mail,
                bandwidth: request.bandwidth,
                password_hash,
                static_ip,
            };
            Ok((new_user, mail))
        })
        .await?;
        let record = match self.store.create_user(new_user).await {
            Ok(r) => r,
            Err(e) => {
                let _ = tokio::fs::remove_file(&mail).await;
                return Err(match e {
                    CreateUserError::CidrEmpty { .. } => ServerError::api(CreateCode::SagCidrEmpty),
                    CreateUserError::UserExist { .. } => ServerError::api(CreateCode::ClientUserUserExist),
                    CreateUserError::UserOverLimit { .. } => ServerError::api(CreateCode::ClientUserUserOverLimit),
                    CreateUserError::IpInvalid(_) => ServerError::api(CreateCode::ClientUserIpInvalid),
                    CreateUserError::Store(e) => store_error(e),
                });
            }
        };
        tracing::info!(request_id = %request_id, region = %region, instance = %instance_id, "client user created");
        Ok(Reply::Owned(account_answer(record)))
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        request: ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<ModifySmartAccessGatewayClientUserResponse>, ModifySmartAccessGatewayClientUserServerError> {
        if self.instance(&request.region_id, &request.smart_ag_id).is_none() {
            return Err(ServerError::api(ModifyCode::SagInstanceNoFound));
        }
        let change = UserChange {
            region: request.region_id,
            instance_id: request.smart_ag_id,
            user_name: request.user_name,
            bandwidth: request.bandwidth,
            user_mail: request.user_mail.filter(|m| !m.is_empty()),
        };
        let record = self.store.modify_user(change).await.map_err(|e| match e {
            ModifyUserError::NotFound { .. } => ServerError::api(ModifyCode::ClientUserNotExist),
            ModifyUserError::Store(e) => store_error(e),
        })?;
        Ok(Reply::Owned(account_answer(record)))
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        _ctx: RequestContext,
        request: DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<Reply<DescribeSmartAccessGatewayClientUsersResponse>, DescribeSmartAccessGatewayClientUsersServerError>
    {
        if self.instance(&request.region_id, &request.smart_ag_id).is_none() {
            return Err(ServerError::api(DescribeCode::SagInstanceNoFound));
        }
        let page_number = request.page_number_or_default();
        let page_size = request.page_size_or_default();
        let query = UserQuery {
            region: request.region_id,
            instance_id: request.smart_ag_id,
            user_name: request.user_name.filter(|s| !s.is_empty()),
            user_mail: request.user_mail.filter(|s| !s.is_empty()),
            page_number: i64::from(page_number),
            page_size: i64::from(page_size),
        };
        let (total, records) = self.store.list_users(query).await.map_err(store_error)?;
        Ok(DescribeSmartAccessGatewayClientUsersResponse {
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
            page_number,
            page_size,
            users: records.into_iter().map(user).collect(),
            ..Default::default()
        }
        .into())
    }
}
