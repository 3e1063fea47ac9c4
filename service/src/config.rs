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
//! - `data` and `seed` are not empty, and `[tls]` has both `cert` and `key` (relative paths are
//!   taken from the file's folder).
//!
//! A `max_users` larger than the block's client addresses is allowed: Create then answers
//! `ClientUser.UserOverLimit` when the block runs out of addresses.
//!
//! Every key can also be given by an environment variable ([`ENV_VARS`]; applied with
//! [`Config::with_env`]), which wins over the file; a command-line flag wins over both.

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::Ipv4Net;
use serde::Deserialize;
use toml::Spanned;

pub use alibaba_rpc_runtime::secret::Secret;

use crate::addressing;
use crate::store::InstanceLimits;

mod env;

pub use env::{ENV_VARS, EnvVar};

/// The address the service listens on when the file does not say: `127.0.0.1:8080`.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));

/// The user quota of an instance whose `max_users` is not given: 100.
pub const DEFAULT_MAX_USERS: u32 = 100;

/// The access key id of the demo configuration (the one the protocol's test vectors use).
pub const DEMO_ACCESS_KEY_ID: &str = "testid";

/// The access key secret of the demo configuration (public knowledge: never expose it beyond
/// loopback).
pub const DEMO_ACCESS_KEY_SECRET: &str = "testsecret";

/// The `[[instances]]` tables of the demo configuration, written once for [`DEMO_CONFIG_TOML`] and
/// [`DEMO_INSTANCES_TOML`].
macro_rules! demo_instances {
    () => {
        r#"[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"
max_users = 100

# No CIDR block: Create answers SAG.CidrEmpty.
[[instances]]
region = "cn-shanghai"
id = "sag-nocidr"

[[instances]]
region = "cn-hangzhou"
id = "sag-demo-hz"
cidr = "10.20.0.0/24"
max_users = 5
"#
    };
}

/// The demo configuration as a TOML file, equal to [`Config::demo`]; a starting point for a real
/// configuration (replace the access key).
pub const DEMO_CONFIG_TOML: &str = concat!(
    r#"# Demo configuration of the Smartag client-user service.
# The access key below is public: serve it on a loopback address only.
listen = "127.0.0.1:8080"

[[access_keys]]
id = "testid"
secret = "testsecret"

"#,
    demo_instances!()
);

/// The instances of the demo configuration alone, as TOML `[[instances]]` tables (what
/// [`crate::local::LocalService::start`] serves).
pub const DEMO_INSTANCES_TOML: &str = demo_instances!();

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
        Config::check(text, origin.as_ref(), false)
    }

    /// As [`Config::load`], for a file whose access key comes from the environment
    /// (`SMARTAG_ACCESS_KEY_ID` and `SMARTAG_ACCESS_KEY_SECRET`): it may have no `[[access_keys]]`.
    fn load_keys_from_env(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Config::check(&text, path, true)
    }

    fn check(text: &str, origin: &Path, keys_from_env: bool) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| {
            let location = Location::of(origin, text, error.span());
            ConfigError::Parse(ConfigProblem { location, message: error.message().trim_end().to_owned() })
        })?;
        Checker { origin, text, problems: Vec::new(), keys_from_env }.check(raw)
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

    /// The built-in demo configuration ([`DEMO_CONFIG_TOML`]): access key `testid`/`testsecret`;
    /// instances `cn-shanghai`/`sag-demo` (`10.10.0.0/24`, 100 users), `cn-shanghai`/`sag-nocidr`
    /// (no CIDR block) and `cn-hangzhou`/`sag-demo-hz` (`10.20.0.0/24`, 5 users).
    ///
    /// [`Config::is_demo`] is true for it.
    pub fn demo() -> Config {
        match Config::parse(DEMO_CONFIG_TOML, "<built-in demo configuration>") {
            Ok(config) => Config { demo: true, ..config },
            // DEMO_CONFIG_TOML is a constant, and a unit test proves that it parses.
            Err(e) => unreachable!("the built-in demo configuration is invalid: {e}"),
        }
    }

    /// Whether this is the built-in [`Config::demo`] configuration.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// Whether any access key is the public demo key (id [`DEMO_ACCESS_KEY_ID`] or secret
    /// [`DEMO_ACCESS_KEY_SECRET`]), whether it came from [`Config::demo`] or from a file. The
    /// service should refuse to listen on a non-loopback address when this is true.
    pub fn has_demo_credentials(&self) -> bool {
        self.access_keys.iter().any(|key| key.id == DEMO_ACCESS_KEY_ID || key.secret.expose() == DEMO_ACCESS_KEY_SECRET)
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

/// Where in a configuration file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    /// The 1-based column (in characters), when the problem has a place in the file.
    pub column: Option<usize>,
}

impl Location {
    fn of(path: &Path, text: &str, span: Option<Range<usize>>) -> Location {
        let (line, column) = match span {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Location { path: path.to_path_buf(), line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigProblem {
    /// Where it is.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong type.
    #[error("{0}")]
    Parse(ConfigProblem),
    /// The file parsed, but values are wrong (every problem found, in file order; never empty).
    #[error("{}", render_problems(.0))]
    Invalid(Vec<ConfigProblem>),
    /// Environment variables have bad values (every one found; never empty).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Environment(Vec<EnvProblem>),
}

/// A bad environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {variable}: {message}")]
pub struct EnvProblem {
    /// The variable, e.g. `SMARTAG_LISTEN`.
    pub variable: String,
    /// What is wrong and what is expected (never a secret's value).
    pub message: String,
}

impl ConfigError {
    /// The located problems this error reports (empty for [`ConfigError::Read`]).
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            ConfigError::Read { .. } | ConfigError::Environment(_) => &[],
            ConfigError::Parse(problem) => std::slice::from_ref(problem),
            ConfigError::Invalid(problems) => problems,
        }
    }
}

fn render_problems(problems: &[ConfigProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<Spanned<String>>,
    #[serde(default)]
    access_keys: Vec<RawAccessKey>,
    #[serde(default)]
    instances: Vec<RawInstance>,
    limits: Option<RawLimits>,
    #[serde(default)]
    faults: Vec<Spanned<crate::faults::FaultSpec>>,
    data: Option<Spanned<String>>,
    database_url: Option<Spanned<String>>,
    seed: Option<Spanned<String>>,
    tls: Option<RawTls>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    request_timeout_ms: Option<Spanned<i64>>,
    body_limit_bytes: Option<Spanned<i64>>,
    nonce_capacity: Option<Spanned<i64>>,
    timestamp_window_s: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccessKey {
    id: Spanned<String>,
    secret: Spanned<String>,
    security_token: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    region: Spanned<String>,
    id: Spanned<String>,
    cidr: Option<Spanned<String>>,
    max_users: Option<Spanned<i64>>,
}

/// What a checked string is: names may not contain whitespace; secrets may, but are never echoed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Name,
    Secret,
}

/// Collects every semantic problem of a parsed file.
struct Checker<'a> {
    origin: &'a Path,
    text: &'a str,
    problems: Vec<ConfigProblem>,
    /// The access key comes from the environment: a file without `[[access_keys]]` is fine.
    keys_from_env: bool,
}

impl Checker<'_> {
    fn problem(&mut self, span: Option<Range<usize>>, message: String) {
        self.problems.push(ConfigProblem { location: Location::of(self.origin, self.text, span), message });
    }

    fn line_of(&self, span: Range<usize>) -> usize {
        line_column(self.text, span.start).0
    }

    fn check(mut self, raw: RawConfig) -> Result<Config, ConfigError> {
        let listen = raw.listen.and_then(|listen| match parse_listen(listen.get_ref()) {
            Ok(address) => Some(address),
            Err(message) => {
                self.problem(Some(listen.span()), format!("listen: {message}"));
                None
            }
        });
        let data = raw.data.map(|data| self.check_path("data", &data));
        let database_url = raw
            .database_url
            .map(Spanned::into_inner)
            .filter(|url| !url.is_empty())
            .map(crate::store::postgres::DatabaseUrl::new);
        let seed = raw.seed.map(|seed| self.check_path("seed", &seed));
        let tls = match raw.tls {
            None => TlsFiles::default(),
            Some(RawTls { cert, key }) => {
                if cert.is_none() || key.is_none() {
                    let missing = if cert.is_none() { "cert" } else { "key" };
                    let span = cert.as_ref().or(key.as_ref()).map(Spanned::span);
                    self.problem(
                        span,
                        format!("[tls] needs both `cert` and `key` (PEM files); `{missing}` is missing"),
                    );
                }
                TlsFiles {
                    cert: cert.map(|cert| self.check_path("tls.cert", &cert)),
                    key: key.map(|key| self.check_path("tls.key", &key)),
                }
            }
        };

        if raw.access_keys.is_empty() && !self.keys_from_env {
            self.problem(None, "no [[access_keys]]: every request would be rejected; add at least one".to_owned());
        }
        let mut key_lines: HashMap<String, usize> = HashMap::new();
        let mut access_keys = Vec::with_capacity(raw.access_keys.len());
        for key in raw.access_keys {
            self.check_token("access key id", &key.id, Token::Name);
            self.check_token("access key secret", &key.secret, Token::Secret);
            if let Some(token) = &key.security_token {
                self.check_token("access key security_token", token, Token::Secret);
            }
            let line = self.line_of(key.id.span());
            if let Some(first) = key_lines.get(key.id.get_ref()) {
                let message = format!("duplicate access key id {:?} (first defined on line {first})", key.id.get_ref());
                self.problem(Some(key.id.span()), message);
            } else {
                key_lines.insert(key.id.get_ref().clone(), line);
            }
            access_keys.push(AccessKey {
                id: key.id.into_inner(),
                secret: Secret::new(key.secret.into_inner()),
                security_token: key.security_token.map(|t| Secret::new(t.into_inner())),
            });
        }

        let listed = raw.instances.iter().map(|instance| InstanceValues {
            region: instance.region.get_ref(),
            id: instance.id.get_ref(),
            cidr: instance.cidr.as_ref().map(|c| c.get_ref().as_str()),
            max_users: instance.max_users.as_ref().map(|m| *m.get_ref()),
        });
        let mut found = Vec::new();
        let instances = check_instances(listed, &mut |index, problem, message| found.push((index, problem, message)));
        for (index, problem, message) in found {
            let instance = &raw.instances[index];
            match problem {
                InstanceProblem::Field(field) => {
                    let span = match field {
                        InstanceField::Region => Some(instance.region.span()),
                        InstanceField::Id => Some(instance.id.span()),
                        InstanceField::Cidr => instance.cidr.as_ref().map(Spanned::span),
                        InstanceField::MaxUsers => instance.max_users.as_ref().map(Spanned::span),
                    };
                    self.problem(span, message);
                }
                InstanceProblem::Duplicate { first } => {
                    let line = self.line_of(raw.instances[first].id.span());
                    self.problem(Some(instance.id.span()), format!("{message} (first defined on line {line})"));
                }
            }
        }

        let limits = raw.limits.map(|limits| self.check_limits(limits)).unwrap_or_default();
        let mut faults = Vec::with_capacity(raw.faults.len());
        for fault in raw.faults {
            let span = fault.span();
            match fault.into_inner().check() {
                Ok(rule) => faults.push(rule),
                Err(problems) => self.problem(Some(span), format!("faults: {problems}")),
            }
        }

        if self.problems.is_empty() {
            Ok(Config { listen, access_keys, instances, limits, data, database_url, seed, tls, demo: false, faults })
        } else {
            self.problems.sort_by_key(|problem| (problem.location.line, problem.location.column));
            Err(ConfigError::Invalid(self.problems))
        }
    }

    /// Ids, regions and secrets: not empty, no surrounding whitespace (and for names no whitespace
    /// at all, which no region or instance id has).
    fn check_token(&mut self, what: &str, value: &Spanned<String>, kind: Token) {
        if let Some(message) = token_problem(what, value.get_ref(), kind) {
            self.problem(Some(value.span()), message);
        }
    }

    /// A path key: not empty; a relative path is taken from the configuration file's folder.
    fn check_path(&mut self, key: &str, value: &Spanned<String>) -> PathBuf {
        if value.get_ref().trim().is_empty() {
            self.problem(Some(value.span()), format!("{key} must not be empty"));
        }
        let path = Path::new(value.get_ref());
        match self.origin.parent() {
            Some(folder) if path.is_relative() => folder.join(path),
            _ => path.to_path_buf(),
        }
    }

    fn check_limits(&mut self, raw: RawLimits) -> Limits {
        let request_timeout = self
            .check_limit("request_timeout_ms", raw.request_timeout_ms, REQUEST_TIMEOUT_MS_RANGE, "milliseconds")
            .map(Duration::from_millis);
        let body_limit = self
            .check_limit("body_limit_bytes", raw.body_limit_bytes, BODY_LIMIT_BYTES_RANGE, "bytes")
            .and_then(|bytes| usize::try_from(bytes).ok());
        let nonce_capacity = self
            .check_limit("nonce_capacity", raw.nonce_capacity, NONCE_CAPACITY_RANGE, "nonces")
            .and_then(|capacity| usize::try_from(capacity).ok());
        let timestamp_window = self
            .check_limit("timestamp_window_s", raw.timestamp_window_s, TIMESTAMP_WINDOW_S_RANGE, "seconds")
            .map(Duration::from_secs);
        Limits { request_timeout, body_limit, nonce_capacity, timestamp_window }
    }

    /// A `[limits]` value inside `range`; outside it, a problem saying what is allowed.
    fn check_limit(
        &mut self,
        key: &str,
        value: Option<Spanned<i64>>,
        range: RangeInclusive<u64>,
        unit: &str,
    ) -> Option<u64> {
        let value = value?;
        match limit_value(*value.get_ref(), &range, unit) {
            Ok(number) => Some(number),
            Err(message) => {
                self.problem(Some(value.span()), format!("limits.{key} {message}"));
                None
            }
        }
    }
}

/// The problem with a name (`Token::Name`) or a secret (`Token::Secret`, never echoed), if any:
/// empty, surrounding whitespace, and for names any whitespace or control character.
pub(crate) fn token_problem(what: &str, text: &str, kind: Token) -> Option<String> {
    if text.is_empty() {
        Some(format!("{what} must not be empty"))
    } else if text.trim() != text {
        Some(format!("{what} has leading or trailing whitespace"))
    } else if kind == Token::Name && text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(format!("{what} {text:?} must not contain whitespace or control characters"))
    } else {
        None
    }
}

/// A `listen` value, or what is wrong with it.
pub(crate) fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>()
        .map_err(|error| format!("{text:?} is not a socket address such as \"127.0.0.1:8080\" ({error})"))
}

/// A `[limits]` value inside `range`, or a message (to follow the key's name) saying what is allowed.
pub(crate) fn limit_value(value: i64, range: &RangeInclusive<u64>, unit: &str) -> Result<u64, String> {
    match u64::try_from(value) {
        Ok(number) if range.contains(&number) => Ok(number),
        _ => Err(format!("must be between {} and {} {unit}, not {value}", range.start(), range.end())),
    }
}

/// A field of an instance, for locating its problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InstanceField {
    Region,
    Id,
    Cidr,
    MaxUsers,
}

impl InstanceField {
    /// The field's key, as `SMARTAG_INSTANCES` and seed files write it.
    pub(crate) fn key(self) -> &'static str {
        match self {
            InstanceField::Region => "region",
            InstanceField::Id => "id",
            InstanceField::Cidr => "cidr",
            InstanceField::MaxUsers => "max_users",
        }
    }
}

/// What is wrong with one instance of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InstanceProblem {
    /// The value of one of its fields.
    Field(InstanceField),
    /// Its `(region, id)` repeats that of instance `first` (an index in the list); the message
    /// leaves where that one stands to the caller, which says it in its own terms.
    Duplicate { first: usize },
}

/// An instance as `SMARTAG_INSTANCES` (JSON) and seed files write it: the keys of a
/// `[[instances]]` table, without the file's spans.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceEntry {
    region: String,
    id: String,
    cidr: Option<String>,
    max_users: Option<i64>,
}

impl InstanceEntry {
    /// The values to check.
    pub(crate) fn values(&self) -> InstanceValues<'_> {
        InstanceValues { region: &self.region, id: &self.id, cidr: self.cidr.as_deref(), max_users: self.max_users }
    }
}

/// Checks a list of instances (the configuration file's, `SMARTAG_INSTANCES`, a seed file's):
/// each by [`check_instance`], and no `(region, id)` twice. Each problem is reported with the
/// instance's index in the list; returns the instances (with defaults in place of bad values).
pub(crate) fn check_instances<'v>(
    list: impl IntoIterator<Item = InstanceValues<'v>>,
    problem: &mut dyn FnMut(usize, InstanceProblem, String),
) -> Vec<Instance> {
    let list = list.into_iter();
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    let mut instances = Vec::with_capacity(list.size_hint().0);
    for (index, values) in list.enumerate() {
        instances.push(check_instance(&values, &mut |field, message| {
            problem(index, InstanceProblem::Field(field), message);
        }));
        if let Some(&first) = seen.get(&(values.region, values.id)) {
            let message = format!("duplicate instance {:?} in region {:?}", values.id, values.region);
            problem(index, InstanceProblem::Duplicate { first }, message);
        } else {
            seen.insert((values.region, values.id), index);
        }
    }
    instances
}

/// An instance as written (in the TOML file, `SMARTAG_INSTANCES` or a seed file).
pub(crate) struct InstanceValues<'a> {
    pub(crate) region: &'a str,
    pub(crate) id: &'a str,
    pub(crate) cidr: Option<&'a str>,
    pub(crate) max_users: Option<i64>,
}

/// Checks one instance by the rules of the module documentation, reporting each problem with its
/// field; returns the instance (with defaults in place of bad values).
fn check_instance(values: &InstanceValues<'_>, problem: &mut dyn FnMut(InstanceField, String)) -> Instance {
    if let Some(message) = token_problem("instance region", values.region, Token::Name) {
        problem(InstanceField::Region, message);
    }
    if let Some(message) = token_problem("instance id", values.id, Token::Name) {
        problem(InstanceField::Id, message);
    }
    let cidr = values.cidr.and_then(|text| match parse_cidr(text) {
        Ok(net) => Some(net),
        Err(message) => {
            problem(InstanceField::Cidr, message);
            None
        }
    });
    let max_users = match values.max_users {
        None => DEFAULT_MAX_USERS,
        Some(max_users) => match u32::try_from(max_users) {
            Ok(value) if value >= 1 => value,
            _ => {
                problem(
                    InstanceField::MaxUsers,
                    format!("max_users must be between 1 and {}, not {max_users}", u32::MAX),
                );
                DEFAULT_MAX_USERS
            }
        },
    };
    Instance { region: values.region.to_owned(), id: values.id.to_owned(), cidr, max_users }
}

/// A client CIDR block, or what is wrong with it.
fn parse_cidr(text: &str) -> Result<Ipv4Net, String> {
    match text.parse::<Ipv4Net>() {
        Err(_) => Err(format!("cidr {text:?} is not an IPv4 network such as \"10.10.0.0/24\"")),
        Ok(net) if net.addr() != net.network() => {
            Err(format!("cidr {text:?} has host bits set; write the network address, \"{}\"", net.trunc()))
        }
        Ok(net) if net.prefix_len() > addressing::MAX_PREFIX_LEN => Err(format!(
            "cidr {text:?} is too small: it needs at least 2 usable host addresses (the first is the \
             gateway), so a prefix of /{} or shorter",
            addressing::MAX_PREFIX_LEN
        )),
        Ok(net) if !addressing::is_private(net) => {
            Err(format!("cidr {text:?} is not inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"))
        }
        Ok(net) => Ok(net),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 9), (2, 3)); // after "bé"
        assert_eq!(line_column(text, 8), (2, 2)); // inside é: clamped to its start
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn demo_is_the_demo_toml() {
        let demo = Config::demo();
        assert!(demo.is_demo());
        assert_eq!(demo.instances().len(), 3);
        assert_eq!(demo.listen(), Some(DEFAULT_LISTEN));
        assert_eq!(demo.secret_for(DEMO_ACCESS_KEY_ID).map(Secret::expose), Some(DEMO_ACCESS_KEY_SECRET));
        let parsed = Config::parse(DEMO_CONFIG_TOML, "demo.toml").map(|c| Config { demo: true, ..c });
        assert_eq!(parsed.ok(), Some(demo));
    }

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
