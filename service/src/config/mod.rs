//! The service's TOML configuration file.
//!
//! ```toml
//! listen = "127.0.0.1:8080"   # optional, default 127.0.0.1:8080
//! data = "/var/lib/smartag/smartag.db"  # optional: the database (relative: to this file's folder)
//! database_url = "postgres://smartag@db/smartag"  # optional: PostgreSQL instead of the SQLite file
//! seed = "seed.yaml"          # optional: users and instances to load at start (see crate::seed)
//!
//! [tls]                       # optional: serve HTTPS (both keys, PEM files)
//! cert = "cert.pem"
//! key = "key.pem"
//!
//! [[access_keys]]             # at least one
//! id = "testid"
//! secret = "testsecret"
//! # security_token = "..."    # optional: a temporary (STS) key, whose requests must carry it
//!
//! [[instances]]               # the SAG APP instances the service answers for
//! region = "cn-shanghai"
//! id = "sag-demo"
//! cidr = "10.10.0.0/24"       # optional: without one, Create answers SAG.CidrEmpty
//! max_users = 100             # optional, default 100
//!
//! [limits]                    # optional, and so is each of its keys (the defaults below)
//! request_timeout_ms = 30000  # a request not answered in time gets ServiceUnavailable (503)
//! body_limit_bytes = 65536    # a larger body gets RequestTooLarge (413)
//! nonce_capacity = 1000000    # live nonces remembered; beyond them requests get Throttling
//! timestamp_window_s = 900    # accepted clock skew either way; nonces live this long
//! ```
//!
//! Unknown keys are rejected. [`Config::load`] reports a TOML error at the `file:line:column` where
//! it happened, and then checks the meaning of the values, reporting every problem it finds at once,
//! each at the `file:line:column` of the offending value:
//!
//! - `listen` is a socket address (`ip:port`);
//! - there is at least one access key; key ids are unique; ids, secrets and security tokens are not
//!   empty and have no leading or trailing whitespace (a stray space pasted into a secret is a classic cause of
//!   `SignatureDoesNotMatch`);
//! - each `(region, id)` instance pair is unique, and neither is empty nor contains whitespace;
//! - `cidr` is an IPv4 network written with its network address (`10.10.0.0/24`, not
//!   `10.10.0.5/24`), with a prefix of at most `/30` (at least two usable host addresses: the first
//!   is the gateway, see [`crate::addressing`]) and inside a private (RFC 1918) range;
//! - `max_users` is between 1 and 4294967295;
//! - each `[limits]` value is inside the range [`Limits`] documents (zero is never allowed);
//! - `data`, `seed` and `database_url` are not empty, and `[tls]` has both `cert` and `key`
//!   (relative paths are taken from the file's folder).
//!
//! A `max_users` larger than the block's client addresses is allowed: Create then answers
//! `ClientUser.UserOverLimit` when the block runs out of addresses.
//!
//! Every key can also be given by an environment variable ([`ENV_VARS`]; applied with
//! [`Config::with_env`]), which wins over the file; a command-line flag wins over both.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::Ipv4Net;

pub use alibaba_rpc_runtime::secret::Secret;

use crate::store::InstanceLimits;

mod demo;
mod env;
mod file;
mod instances;
mod problems;
mod values;

pub use demo::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_CONFIG_TOML, DEMO_INSTANCES_TOML};
pub use env::{ENV_VARS, EnvVar};
pub(crate) use instances::{InstanceEntry, InstanceField, InstanceProblem, InstanceValues, check_instances};
pub use problems::{ConfigError, ConfigProblem, EnvProblem, Location};
pub(crate) use values::{Token, limit_value, parse_listen, token_problem};

/// The address the service listens on when the file does not say: `127.0.0.1:8080`.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));

/// The user quota of an instance whose `max_users` is not given: 100.
pub const DEFAULT_MAX_USERS: u32 = 100;

/// The range of `request_timeout_ms` in `[limits]`: 100 ms to one hour.
pub const REQUEST_TIMEOUT_MS_RANGE: RangeInclusive<u64> = 100..=3_600_000;
/// The range of `body_limit_bytes` in `[limits]`: 1 KiB to 100 MiB.
pub const BODY_LIMIT_BYTES_RANGE: RangeInclusive<u64> = 1024..=100 * 1024 * 1024;
/// The range of `nonce_capacity` in `[limits]`: 1 to 10,000,000 live nonces.
pub const NONCE_CAPACITY_RANGE: RangeInclusive<u64> = 1..=10_000_000;
/// The range of `timestamp_window_s` in `[limits]`: one second to one day.
pub const TIMESTAMP_WINDOW_S_RANGE: RangeInclusive<u64> = 1..=86_400;

/// The server limits of the `[limits]` table. A value the file does not give is `None`: the
/// server's own default applies (request timeout 30 s, body limit 64 KiB, 1,000,000 nonces, a
/// timestamp window of 15 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// How long a request may take before it is answered `ServiceUnavailable` (503); within
    /// [`REQUEST_TIMEOUT_MS_RANGE`] milliseconds.
    pub request_timeout: Option<Duration>,
    /// The largest request body accepted, in bytes (a larger one is answered `RequestTooLarge`,
    /// 413); within [`BODY_LIMIT_BYTES_RANGE`].
    pub body_limit: Option<usize>,
    /// The most live nonces remembered (the replay memory); when it is full, requests are refused
    /// with `Throttling`. Within [`NONCE_CAPACITY_RANGE`].
    pub nonce_capacity: Option<usize>,
    /// The accepted clock skew either way; within [`TIMESTAMP_WINDOW_S_RANGE`] seconds.
    pub timestamp_window: Option<Duration>,
}

/// An access key callers sign requests with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The `AccessKeyId` callers send.
    pub id: String,
    /// The matching secret (redacted in `Debug`).
    pub secret: Secret,
    /// For a temporary (STS) key, the security token every request must carry (redacted in
    /// `Debug`); `None` for a permanent key.
    pub security_token: Option<Secret>,
}

/// The TLS files of the `[tls]` table: a PEM certificate chain and its PEM private key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFiles {
    /// The certificate chain (PEM), if given.
    pub cert: Option<PathBuf>,
    /// The private key (PEM), if given.
    pub key: Option<PathBuf>,
}

/// A SAG APP instance the service answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The region (`RegionId`), e.g. `cn-shanghai`.
    pub region: String,
    /// The instance id (`SmartAGId`), e.g. `sag-demo`.
    pub id: String,
    /// The client CIDR block; `None` makes Create answer `SAG.CidrEmpty`.
    pub cidr: Option<Ipv4Net>,
    /// The most client users the instance may have (default [`DEFAULT_MAX_USERS`]).
    pub max_users: u32,
}

impl Instance {
    /// What the store needs to know about this instance to create a user in it.
    pub fn limits(&self) -> InstanceLimits {
        InstanceLimits { id: self.id.clone(), cidr: self.cidr, max_users: self.max_users }
    }
}

/// A checked configuration: obtained from [`Config::load`], [`Config::parse`] or [`Config::demo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    listen: Option<SocketAddr>,
    access_keys: Vec<AccessKey>,
    instances: Vec<Instance>,
    limits: Limits,
    data: Option<PathBuf>,
    database_url: Option<crate::store::postgres::DatabaseUrl>,
    seed: Option<PathBuf>,
    tls: TlsFiles,
    demo: bool,
    /// The `[[faults]]` rules (see [`crate::faults`]), checked.
    faults: Vec<crate::faults::FaultRule>,
}

impl Config {
    /// Reads and checks the configuration file at `path`.
    ///
    /// Errors name the file, and the line and column where the file locates the problem.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Config::parse(&text, path)
    }

    /// Checks configuration `text`; `origin` is the file name used in error messages.
    pub fn parse(text: &str, origin: impl AsRef<Path>) -> Result<Config, ConfigError> {
        file::check(text, origin.as_ref(), false)
    }

    /// As [`Config::load`], for a file whose access key comes from the environment
    /// (`SMARTAG_ACCESS_KEY_ID` and `SMARTAG_ACCESS_KEY_SECRET`): it may have no `[[access_keys]]`.
    fn load_keys_from_env(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        file::check(&text, path, true)
    }

    /// The configuration `path` (or, with `None`, the built-in [`Config::demo`]) with the
    /// environment variables of [`ENV_VARS`] applied over it; `var` looks a variable up (use
    /// [`std::env::var_os`]). A variable set to the empty string counts as unset.
    ///
    /// # Errors
    /// The file's errors, or every bad variable at once, each named with what it expects.
    pub fn from_sources(
        path: Option<&Path>,
        var: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Config, ConfigError> {
        let given = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        let config = match path {
            // The environment's key replaces the file's keys: the file need not have any.
            Some(path) if given("SMARTAG_ACCESS_KEY_ID") && given("SMARTAG_ACCESS_KEY_SECRET") => {
                Config::load_keys_from_env(path)?
            }
            Some(path) => Config::load(path)?,
            None => Config::demo(),
        };
        config.with_env(var)
    }

    /// This configuration with the environment variables of [`ENV_VARS`] applied over it (a
    /// variable wins over the file). `SMARTAG_ACCESS_KEY_ID` with `SMARTAG_ACCESS_KEY_SECRET` (and
    /// optionally `SMARTAG_ACCESS_KEY_SECURITY_TOKEN`) replace the file's access keys with that
    /// one key; `SMARTAG_INSTANCES` (a JSON array) replaces its instances. A variable set to the
    /// empty string counts as unset.
    ///
    /// # Errors
    /// [`ConfigError::Environment`] with every bad variable, each named with what it expects.
    pub fn with_env(self, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Config, ConfigError> {
        env::apply(self, var)
    }

    /// The database file of the `data` key (or `SMARTAG_DATA`); relative paths in a file are
    /// resolved against the file's folder.
    pub fn data(&self) -> Option<&Path> {
        self.data.as_deref()
    }

    /// The PostgreSQL database of the `database_url` key (or `DATABASE_URL`): when set, the
    /// service keeps its users there instead of the SQLite file of [`Config::data`].
    pub fn database_url(&self) -> Option<&crate::store::postgres::DatabaseUrl> {
        self.database_url.as_ref()
    }

    /// The seed file of the `seed` key (or `SMARTAG_SEED`), see [`crate::seed`].
    pub fn seed(&self) -> Option<&Path> {
        self.seed.as_deref()
    }

    /// The TLS files of the `[tls]` table (or `SMARTAG_TLS_CERT` / `SMARTAG_TLS_KEY`).
    pub fn tls(&self) -> &TlsFiles {
        &self.tls
    }

    /// Adds `instances` (from a seed file) to the configured ones.
    ///
    /// # Errors
    /// The `(region, id)` pairs already configured, in the order given (nothing is added then).
    pub fn add_instances(&mut self, instances: Vec<Instance>) -> Result<(), Vec<Instance>> {
        let duplicates: Vec<Instance> =
            instances.iter().filter(|i| self.instance(&i.region, &i.id).is_some()).cloned().collect();
        if !duplicates.is_empty() {
            return Err(duplicates);
        }
        self.instances.extend(instances);
        Ok(())
    }

    /// The `listen` address from the file, if it gave one.
    pub fn listen(&self) -> Option<SocketAddr> {
        self.listen
    }

    /// The `listen` address from the file, or [`DEFAULT_LISTEN`].
    pub fn listen_or_default(&self) -> SocketAddr {
        self.listen.unwrap_or(DEFAULT_LISTEN)
    }

    /// All access keys, in file order.
    pub fn access_keys(&self) -> &[AccessKey] {
        &self.access_keys
    }

    /// The secret of access key `access_key_id`, if there is such a key.
    pub fn secret_for(&self, access_key_id: &str) -> Option<&Secret> {
        self.access_keys.iter().find(|key| key.id == access_key_id).map(|key| &key.secret)
    }

    /// All instances, in file order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The server limits of the `[limits]` table (all `None` without one).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The fault rules of the `[[faults]]` tables, in file order (see [`crate::faults`]).
    pub fn faults(&self) -> &[crate::faults::FaultRule] {
        &self.faults
    }

    /// The instance `id` in `region`, if configured.
    pub fn instance(&self, region: &str, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|instance| instance.region == region && instance.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let key = AccessKey {
            id: "k".to_owned(),
            secret: Secret::new("hunter2"),
            security_token: Some(Secret::new("tok-hunter3")),
        };
        let debug = format!("{key:?} {:?}", Config::demo());
        assert!(!debug.contains("hunter2"));
        assert!(!debug.contains("hunter3"));
        assert!(!debug.contains(DEMO_ACCESS_KEY_SECRET));
    }
}
