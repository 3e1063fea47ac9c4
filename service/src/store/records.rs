//! What the store is given and gives back: an instance's limits, a user to create, a stored user.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use rusqlite::Row;

use super::OverLimit;

/// What the store needs to know about an instance (from the configuration) to create a user in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceLimits {
    /// The instance id (`SmartAGId`).
    pub id: String,
    /// The client CIDR block; `None` makes [`Store::create_user`](super::Store::create_user) fail with
    /// [`CreateUserError::CidrEmpty`](super::CreateUserError::CidrEmpty).
    pub cidr: Option<Ipv4Net>,
    /// The most users the instance may have.
    pub max_users: u32,
}

impl InstanceLimits {
    /// Whether the instance, with `count` users already, may take another: the quota rule both
    /// stores apply inside their Create transaction.
    pub(crate) fn quota(&self, count: i64) -> Result<(), OverLimit> {
        if count >= i64::from(self.max_users) {
            return Err(OverLimit::MaxUsers { max_users: self.max_users });
        }
        Ok(())
    }
}

/// A user to create (already validated by the protocol layer; the password already hashed).
#[derive(Clone)]
pub struct NewUser {
    /// The region (`RegionId`).
    pub region: String,
    /// The instance the user belongs to.
    pub instance: InstanceLimits,
    /// The username, unique within the instance.
    pub user_name: String,
    /// The user's e-mail address.
    pub user_mail: String,
    /// The bandwidth in Kbit/s.
    pub bandwidth: i64,
    /// The argon2id PHC string of the password (see [`crate::password::hash_password`]); redacted in
    /// `Debug`.
    pub password_hash: String,
    /// The static client IP the caller asked for (`ClientIp`); `None` allocates one.
    pub static_ip: Option<Ipv4Addr>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("region", &self.region)
            .field("instance", &self.instance)
            .field("user_name", &self.user_name)
            .field("user_mail", &self.user_mail)
            .field("bandwidth", &self.bandwidth)
            .field("password_hash", &"<redacted>")
            .field("static_ip", &self.static_ip)
            .finish()
    }
}

/// A stored user, as the API shows it (the password hash is never read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The username.
    pub user_name: String,
    /// The e-mail address.
    pub user_mail: String,
    /// The bandwidth in Kbit/s.
    pub bandwidth: i64,
    /// The client IP address, dotted quad.
    pub client_ip: String,
    /// Whether the caller chose the client IP (`IsStaticIp` 1) rather than the store allocating it.
    pub is_static_ip: bool,
    /// 0: enabled, 1: disabled. New users are enabled.
    pub state: i64,
    /// The application-acceleration bandwidth in Kbit/s (0 for new users).
    pub accelerate_bandwidth: i64,
}

pub(super) fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        user_name: row.get(0)?,
        user_mail: row.get(1)?,
        bandwidth: row.get(2)?,
        client_ip: row.get(3)?,
        is_static_ip: row.get::<_, i64>(4)? != 0,
        state: row.get(5)?,
        accelerate_bandwidth: row.get(6)?,
    })
}
