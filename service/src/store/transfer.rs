//! Moving users between stores (`smartag-service export` / `import`): every stored field of a user,
//! the password hash included, so that an imported user signs in with the same password and keeps
//! its address. The SQLite side; [`super::postgres`] has its own.

use std::fmt;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, schema, sql};

/// One user as exported: its instance and every stored field (no internal numbering). `Debug`
/// redacts the password hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedUser {
    /// The region (`RegionId`).
    pub region: String,
    /// The instance (`SmartAGId`).
    pub instance_id: String,
    /// The username.
    pub user_name: String,
    /// The e-mail address.
    pub user_mail: String,
    /// The bandwidth in Kbit/s.
    pub bandwidth: i64,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// The client IP address, dotted quad.
    pub client_ip: String,
    /// Whether the caller chose the client IP.
    pub is_static_ip: bool,
    /// 0: enabled, 1: disabled.
    pub state: i64,
    /// The application-acceleration bandwidth in Kbit/s.
    pub accelerate_bandwidth: i64,
}

impl fmt::Debug for ExportedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportedUser")
            .field("region", &self.region)
            .field("instance_id", &self.instance_id)
            .field("user_name", &self.user_name)
            .field("client_ip", &self.client_ip)
            .field("password_hash", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ExportedUser {
    /// The client address as an integer (the `ip_num` column).
    pub(crate) fn ip_num(&self) -> Result<i64, StoreError> {
        self.client_ip.parse::<std::net::Ipv4Addr>().map(|ip| i64::from(u32::from(ip))).map_err(|_| {
            StoreError::CorruptClientIp { user_name: self.user_name.clone(), value: self.client_ip.clone() }
        })
    }
}

/// Every user in export order: by region, instance and creation order.
const EXPORT: &str = "SELECT region, instance_id, user_name, user_mail, bandwidth, password_hash, client_ip, is_static_ip, \
     state, accelerate_bandwidth FROM users ORDER BY region, instance_id, seq";
/// A user numbered after the instance's last (the triggers count it).
const IMPORT: &str = "INSERT INTO users (region, instance_id, seq, user_name, user_mail, bandwidth, password_hash, \
     client_ip, ip_num, is_static_ip, state, accelerate_bandwidth) VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 \
     FROM users WHERE region = ?1 AND instance_id = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

impl Store {
    /// Every user with every stored field, password hash included (for `export`).
    pub fn export_users(&self) -> Result<Vec<ExportedUser>, StoreError> {
        self.inner.readers.with(|connection| {
            let context = "exporting the users";
            let mut statement = connection.prepare_cached(EXPORT).map_err(sql(context))?;
            let rows = statement
                .query_map([], |row| {
                    Ok(ExportedUser {
                        region: row.get(0)?,
                        instance_id: row.get(1)?,
                        user_name: row.get(2)?,
                        user_mail: row.get(3)?,
                        bandwidth: row.get(4)?,
                        password_hash: row.get(5)?,
                        client_ip: row.get(6)?,
                        is_static_ip: row.get::<_, i64>(7)? != 0,
                        state: row.get(8)?,
                        accelerate_bandwidth: row.get(9)?,
                    })
                })
                .map_err(sql(context))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql(context))
        })
    }

    /// Inserts `users` as they are (addresses, states and hashes kept) in one transaction, numbered
    /// in the order given; the constraints refuse a name or address twice per instance. Returns how
    /// many were inserted.
    pub fn import_users(&self, users: &[ExportedUser]) -> Result<u64, StoreError> {
        let context = "importing the users";
        let mut connection = schema::connect(self.path())?;
        let tx =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql(context))?;
        {
            let mut insert = tx.prepare_cached(IMPORT).map_err(sql(context))?;
            for u in users {
                insert
                    .execute(params![
                        u.region,
                        u.instance_id,
                        u.user_name,
                        u.user_mail,
                        u.bandwidth,
                        u.password_hash,
                        u.client_ip,
                        u.ip_num()?,
                        u.is_static_ip,
                        u.state,
                        u.accelerate_bandwidth
                    ])
                    .map_err(sql(context))?;
            }
        }
        tx.commit().map_err(sql(context))?;
        Ok(users.len() as u64)
    }
}
