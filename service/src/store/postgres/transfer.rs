//! Moving users in and out of PostgreSQL (see [`crate::store::transfer`]).

use std::collections::HashMap;

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

    /// Inserts `users` as they are in one transaction (see [`crate::store::Store::import_users`]),
    /// a thousand users per statement, then refreshes the planner's statistics of `users`
    /// (`ANALYZE`), so that the first queries after an import of many users are planned on what
    /// the table now holds.
    ///
    /// # Errors
    /// A name or address twice per instance, or a database failure.
    pub async fn import_users(&self, users: Vec<ExportedUser>) -> Result<u64, StoreError> {
        self.call("importing the users", |mut client| async move {
            let context = "importing the users";
            let tx = client.transaction().await.map_err(pg(context))?;
            let lock = tx.prepare_cached(LOCK_INSTANCE).await.map_err(pg(context))?;
            let insert = tx.prepare_cached(INSERT_ROWS).await.map_err(pg(context))?;
            // The next sequence number of every instance met so far (its row locked).
            let mut next_seq: HashMap<(&str, &str), i64> = HashMap::new();
            for chunk in users.chunks(IMPORT_CHUNK) {
                let mut seqs = Vec::with_capacity(chunk.len());
                let mut ip_nums = Vec::with_capacity(chunk.len());
                for u in chunk {
                    let key = (u.region.as_str(), u.instance_id.as_str());
                    let seq = match next_seq.get_mut(&key) {
                        Some(seq) => seq,
                        None => {
                            let row = tx.query_one(&lock, &[&u.region, &u.instance_id]).await.map_err(pg(context))?;
                            next_seq.entry(key).or_insert(row.get(0))
                        }
                    };
                    seqs.push(*seq);
                    *seq += 1;
                    ip_nums.push(u.ip_num()?);
                }
                let column = |get: fn(&ExportedUser) -> &str| chunk.iter().map(get).collect::<Vec<&str>>();
                let number = |get: fn(&ExportedUser) -> i64| chunk.iter().map(get).collect::<Vec<i64>>();
                let is_static: Vec<bool> = chunk.iter().map(|u| u.is_static_ip).collect();
                tx.execute(
                    &insert,
                    &[
                        &column(|u| &u.region),
                        &column(|u| &u.instance_id),
                        &seqs,
                        &column(|u| &u.user_name),
                        &column(|u| &u.user_mail),
                        &number(|u| u.bandwidth),
                        &column(|u| &u.password_hash),
                        &column(|u| &u.client_ip),
                        &ip_nums,
                        &is_static,
                        &number(|u| u.state),
                        &number(|u| u.accelerate_bandwidth),
                    ],
                )
                .await
                .map_err(pg(context))?;
            }
            let advance = tx.prepare_cached(SET_NEXT_SEQ).await.map_err(pg(context))?;
            for ((region, instance_id), seq) in &next_seq {
                tx.execute(&advance, &[region, instance_id, seq]).await.map_err(pg(context))?;
            }
            tx.commit().await.map_err(pg(context))?;
            client.batch_execute("ANALYZE users").await.map_err(pg("refreshing the statistics after the import"))?;
            Ok(users.len() as u64)
        })
        .await
    }
}

/// Users per `INSERT` of an import (one statement of column arrays).
const IMPORT_CHUNK: usize = 1_000;

/// Creates the instance's row if needed, locks it and reads its next sequence number.
const LOCK_INSTANCE: &str = "INSERT INTO instances AS i (region, instance_id) VALUES ($1, $2) ON CONFLICT (region, \
     instance_id) DO UPDATE SET next_seq = i.next_seq RETURNING i.next_seq";

/// Many users in one statement: one array per column.
const INSERT_ROWS: &str = "INSERT INTO users (region, instance_id, seq, user_name, user_mail, bandwidth, \
     password_hash, client_ip, ip_num, is_static_ip, state, accelerate_bandwidth) SELECT * FROM UNNEST($1::text[], \
     $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::bigint[], \
     $10::boolean[], $11::bigint[], $12::bigint[])";

/// The instance's next sequence number after the imported users.
const SET_NEXT_SEQ: &str = "UPDATE instances SET next_seq = $3 WHERE region = $1 AND instance_id = $2";
