//! The in-memory implementation of the API behind the fuzzed router.

use std::collections::HashMap;
use std::sync::Mutex;

use smartag_server::{
    CreateSmartAccessGatewayClientUserRequest, CreateSmartAccessGatewayClientUserResponse,
    CreateSmartAccessGatewayClientUserServerError, DescribeSmartAccessGatewayClientUsersRequest,
    DescribeSmartAccessGatewayClientUsersResponse, DescribeSmartAccessGatewayClientUsersServerError,
    ModifySmartAccessGatewayClientUserRequest, ModifySmartAccessGatewayClientUserResponse,
    ModifySmartAccessGatewayClientUserServerError, Reply, RequestContext, ServerError, SmartagApi, User,
};

/// The in-memory implementation behind the router: users by `(instance, name)`.
#[derive(Default)]
pub(crate) struct Memory {
    users: Mutex<HashMap<(String, String), User>>,
}

impl Memory {
    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), User>> {
        self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SmartagApi for Memory {
    async fn create_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        r: CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<CreateSmartAccessGatewayClientUserResponse>, CreateSmartAccessGatewayClientUserServerError> {
        use smartag_server::CreateSmartAccessGatewayClientUserErrorCode as Code;
        let name = r.user_name.clone().unwrap_or_else(|| r.user_mail.clone());
        let mut users = self.users();
        if users.len() >= 1000 {
            return Err(ServerError::api(Code::ClientUserUserOverLimit));
        }
        if users.contains_key(&(r.smart_ag_id.clone(), name.clone())) {
            return Err(ServerError::api(Code::ClientUserUserExist));
        }
        let user = User {
            user_name: name.clone(),
            user_mail: r.user_mail.clone(),
            bandwidth: r.bandwidth,
            client_ip: r.client_ip.clone(),
            state: 0,
            accelerate_bandwidth: Some(0),
            is_static_ip: Some(i64::from(r.client_ip.is_some())),
        };
        users.insert((r.smart_ag_id.clone(), name.clone()), user);
        Ok(CreateSmartAccessGatewayClientUserResponse {
            user_name: name,
            user_mail: r.user_mail,
            bandwidth: r.bandwidth,
            client_ip: r.client_ip,
            ..Default::default()
        }
        .into())
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        r: ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<ModifySmartAccessGatewayClientUserResponse>, ModifySmartAccessGatewayClientUserServerError> {
        use smartag_server::ModifySmartAccessGatewayClientUserErrorCode as Code;
        let mut users = self.users();
        let Some(user) = users.get_mut(&(r.smart_ag_id.clone(), r.user_name.clone())) else {
            return Err(ServerError::api(Code::ClientUserNotExist));
        };
        user.bandwidth = r.bandwidth;
        if let Some(mail) = r.user_mail.filter(|m| !m.is_empty()) {
            user.user_mail = mail;
        }
        Ok(ModifySmartAccessGatewayClientUserResponse {
            user_name: user.user_name.clone(),
            user_mail: user.user_mail.clone(),
            bandwidth: user.bandwidth,
            client_ip: user.client_ip.clone(),
            ..Default::default()
        }
        .into())
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        _ctx: RequestContext,
        r: DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<Reply<DescribeSmartAccessGatewayClientUsersResponse>, DescribeSmartAccessGatewayClientUsersServerError>
    {
        let users: Vec<User> = self
            .users()
            .iter()
            .filter(|((instance, _), u)| {
                *instance == r.smart_ag_id
                    && r.user_name.as_deref().is_none_or(|n| n.is_empty() || n == u.user_name)
                    && r.user_mail.as_deref().is_none_or(|m| m.is_empty() || m == u.user_mail)
            })
            .map(|(_, u)| u.clone())
            .collect();
        let (number, size) = (r.page_number_or_default(), r.page_size_or_default());
        let skip = usize::try_from(i64::from(number - 1) * i64::from(size)).unwrap_or(usize::MAX);
        let size_usize = usize::try_from(size).unwrap_or(0);
        Ok(DescribeSmartAccessGatewayClientUsersResponse {
            total_count: i32::try_from(users.len()).unwrap_or(i32::MAX),
            page_number: number,
            page_size: size,
            users: users.into_iter().skip(skip).take(size_usize).collect(),
            ..Default::default()
        }
        .into())
    }
}
