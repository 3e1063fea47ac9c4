//! Moving users in and out of PostgreSQL (see [`crate::store::transfer`]).

use super::{PgStore, pg};
use crate::store::StoreError;
use crate::store::transfer::ExportedUser;

impl PgStore {
    /// Every user with every stored field, password hash included (for `export`).
    ///
    /// # Errors
    /// When the database fails or cannot be reached.
    pub async fn export_users(&self) -> Result<Vec<ExportedUser>, StoreError> {
        self.call("exporting the users", |client| async move {
            let rows = client
                .query(
                    "SELECT region, instance_id, user_name, user_mail, bandwidth, password_hash, client_ip, \
                     is_static_ip, state, accelerate_bandwidth FROM users ORDER BY region, instance_id, seq",
                    &[],
                )
                .await
                .map_err(pg("exporting the users"))?;
            Ok(rows
                .iter()
                .map(|row| ExportedUser {
                    region: row.get(0),
                    instance_id: row.get(1),
                    user_name: row.get(2),
                    user_mail: row.get(3),
                    bandwidth: row.get(4),
                    password_hash: row.get(5),
                    client_ip: row.get(6),
                    is_static_ip: row.get(7),
                    state: row.get(8),
                    accelerate_bandwidth: row.get(9),
                })
                .collect())
        })
        .await
    }

    /// Inserts `users` as they are in one transaction (see [`crate::store::Store::import_users`]).
    ///
    /// # Errors
    /// A name or address twice per instance, or a database failure.
    pub async fn import_users(&self, users: Vec<ExportedUser>) -> Result<u64, StoreError> {
        self.call("importing the users", |mut client| async move {
            let context = "importing the users";
            let tx = client.transaction().await.map_err(pg(context))?;
            let instance = tx
                .prepare_cached(
                    "INSERT INTO instances AS i (region, instance_id) VALUES ($1, $2) ON CONFLICT (region, \
                     instance_id) DO UPDATE SET next_seq = i.next_seq RETURNING i.next_seq",
                )
                .await
                .map_err(pg(context))?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO users (region, instance_id, seq, user_name, user_mail, bandwidth, password_hash, \
                     client_ip, ip_num, is_static_ip, state, accelerate_bandwidth) VALUES ($1, $2, $3, $4, $5, $6, \
                     $7, $8, $9, $10, $11, $12)",
                )
                .await
                .map_err(pg(context))?;
            let advance = tx
                .prepare_cached("UPDATE instances SET next_seq = next_seq + 1 WHERE region = $1 AND instance_id = $2")
                .await
                .map_err(pg(context))?;
            for u in &users {
                let seq: i64 = tx.query_one(&instance, &[&u.region, &u.instance_id]).await.map_err(pg(context))?.get(0);
                let ip_num = u.ip_num()?;
                tx.execute(
                    &insert,
                    &[
                        &u.region,
                        &u.instance_id,
                        &seq,
                        &u.user_name,
                        &u.user_mail,
                        &u.bandwidth,
                        &u.password_hash,
                        &u.client_ip,
                        &ip_num,
                        &u.is_static_ip,
                        &u.state,
                        &u.accelerate_bandwidth,
                    ],
                )
                .await
                .map_err(pg(context))?;
                tx.execute(&advance, &[&u.region, &u.instance_id]).await.map_err(pg(context))?;
            }
            tx.commit().await.map_err(pg(context))?;
            Ok(users.len() as u64)
        })
        .await
    }
}
