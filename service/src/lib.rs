//! Domain and storage layer of the Smart Access Gateway client-user service.
//!
//! The generated server trait (in `smartag-server`) decodes, authenticates and validates requests;
//! this library does what happens after that:
//!
//! - [`addressing`]: the address plan of a client CIDR block (network, gateway, clients,
//!   broadcast) and the static-IP checks;
//! - [`config`]: the TOML configuration file (listen address, access keys, SAG APP instances with
//!   their client CIDR block and user quota), checked with `file:line:column` diagnostics;
//! - [`password`]: argon2id password hashing and generation of account passwords;
//! - [`outbox`]: the mail folder where account e-mails (username and password) are delivered, one
//!   file per message, written atomically and readable by the owner only;
//! - [`seed`]: seed files (instances and users loaded at start), checked by the API's rules;
//! - [`tls`]: the HTTPS configuration (rustls with ring) from PEM files;
//! - [`backup`]: online backup and checked, atomic restore of the database;
//! - [`probe`]: the one-request health probe of `smartag-service healthcheck`;
//! - [`store`]: the user stores behind one port ([`store::UserStore`]): SQLite, where every write
//!   is one durable `IMMEDIATE` transaction and the quota and client-IP allocation are decided
//!   inside that transaction, and PostgreSQL ([`store::postgres`]), shared by any number of
//!   replicas, where constraints and a per-instance row lock decide the same;
//! - [`transfer`]: `export` / `import` of every user between stores (SQLite to PostgreSQL);
//! - [`admin`], [`faults`], [`metrics`], [`logging`]: the admin listener (health, reset, state,
//!   fault rules, Prometheus metrics), fault injection, and text or JSON logs with one access line
//!   per request;
//! - [`local`]: the whole service in-process on an ephemeral loopback port, for an application's
//!   tests.
//!
//! Instances live in the configuration, not in the database: the store is handed an
//! [`store::InstanceLimits`] for each call.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod addressing;
pub mod admin;
pub mod api;
pub mod app;
pub mod backup;
pub mod config;
pub mod faults;
pub mod local;
pub mod logging;
pub mod metrics;
pub mod outbox;
pub mod password;
pub mod probe;
pub mod seed;
pub mod store;
pub mod tls;
pub mod transfer;
