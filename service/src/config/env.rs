//! The configuration from environment variables: one variable for each key of the file, applied
//! over the file (a command-line flag, applied by the binary, wins over both).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    AccessKey, BODY_LIMIT_BYTES_RANGE, Config, ConfigError, EnvProblem, InstanceEntry, InstanceProblem,
    NONCE_CAPACITY_RANGE, REQUEST_TIMEOUT_MS_RANGE, Secret, TIMESTAMP_WINDOW_S_RANGE, Token, check_instances,
    limit_value, parse_listen, token_problem,
};

/// An environment variable the service reads, and the configuration key it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable, e.g. `SMARTAG_LISTEN`.
    pub name: &'static str,
    /// The key of the TOML file (or the flag) it stands for, e.g. `listen`.
    pub key: &'static str,
    /// What its value must be.
    pub expects: &'static str,
}

/// Every environment variable of the configuration, in the order of the README's table.
pub const ENV_VARS: &[EnvVar] = &[
    EnvVar { name: "SMARTAG_CONFIG", key: "--config", expects: "the TOML configuration file" },
    EnvVar { name: "SMARTAG_LISTEN", key: "listen", expects: "a socket address, e.g. 0.0.0.0:8080" },
    EnvVar { name: "SMARTAG_DATA", key: "data", expects: "the SQLite database file" },
    EnvVar {
        name: "DATABASE_URL",
        key: "database_url",
        expects: "a PostgreSQL URL, e.g. postgres://user:password@host:5432/smartag; selects the PostgreSQL store",
    },
    EnvVar { name: "SMARTAG_SEED", key: "seed", expects: "a seed file (JSON or YAML)" },
    EnvVar { name: "SMARTAG_TLS_CERT", key: "tls.cert", expects: "the PEM certificate chain" },
    EnvVar { name: "SMARTAG_TLS_KEY", key: "tls.key", expects: "the PEM private key" },
    EnvVar {
        name: "SMARTAG_ACCESS_KEY_ID",
        key: "access_keys[].id",
        expects: "an access key id; with SMARTAG_ACCESS_KEY_SECRET it replaces the file's keys",
    },
    EnvVar { name: "SMARTAG_ACCESS_KEY_SECRET", key: "access_keys[].secret", expects: "that key's secret" },
    EnvVar {
        name: "SMARTAG_ACCESS_KEY_SECURITY_TOKEN",
        key: "access_keys[].security_token",
        expects: "optional: makes that key temporary (STS)",
    },
    EnvVar {
        name: "SMARTAG_FAULTS",
        key: "faults",
        expects: r#"a JSON array of fault rules replacing the file's: [{"action": "*", "error": "Throttling", "probability": 0.1}]"#,
    },
    EnvVar {
        name: "SMARTAG_INSTANCES",
        key: "instances",
        expects: r#"a JSON array replacing the file's instances: [{"region": "cn-shanghai", "id": "sag-1", "cidr": "10.0.0.0/24", "max_users": 100}]"#,
    },
    EnvVar {
        name: "SMARTAG_LIMITS_REQUEST_TIMEOUT_MS",
        key: "limits.request_timeout_ms",
        expects: "milliseconds, 100 to 3600000",
    },
    EnvVar {
        name: "SMARTAG_LIMITS_BODY_LIMIT_BYTES",
        key: "limits.body_limit_bytes",
        expects: "bytes, 1024 to 104857600",
    },
    EnvVar { name: "SMARTAG_LIMITS_NONCE_CAPACITY", key: "limits.nonce_capacity", expects: "nonces, 1 to 10000000" },
    EnvVar {
        name: "SMARTAG_LIMITS_TIMESTAMP_WINDOW_S",
        key: "limits.timestamp_window_s",
        expects: "seconds, 1 to 86400",
    },
];

/// Reads variables, collecting every problem.
struct Env<F> {
    var: F,
    problems: Vec<EnvProblem>,
}

impl<F: Fn(&str) -> Option<OsString>> Env<F> {
    fn problem(&mut self, variable: &str, message: String) {
        self.problems.push(EnvProblem { variable: variable.to_owned(), message });
    }

    /// The variable's value; unset and empty are `None`; not UTF-8 is a problem.
    fn get(&mut self, name: &str) -> Option<String> {
        let value = (self.var)(name)?;
        if value.is_empty() {
            return None;
        }
        match value.into_string() {
            Ok(text) => Some(text),
            Err(_) => {
                self.problem(name, "is not valid UTF-8".to_owned());
                None
            }
        }
    }

    /// A `[limits]` value: a whole number inside `range`.
    fn limit(&mut self, name: &str, range: &std::ops::RangeInclusive<u64>, unit: &str) -> Option<u64> {
        let text = self.get(name)?;
        let checked = text
            .trim()
            .parse::<i64>()
            .map_err(|_| {
                format!("{text:?} is not a whole number; expected {} to {} {unit}", range.start(), range.end())
            })
            .and_then(|value| limit_value(value, range, unit));
        match checked {
            Ok(value) => Some(value),
            Err(message) => {
                self.problem(name, message);
                None
            }
        }
    }
}

pub(super) fn apply(mut config: Config, var: impl Fn(&str) -> Option<OsString>) -> Result<Config, ConfigError> {
    let mut env = Env { var, problems: Vec::new() };

    if let Some(text) = env.get("SMARTAG_LISTEN") {
        match parse_listen(&text) {
            Ok(address) => config.listen = Some(address),
            Err(message) => env.problem("SMARTAG_LISTEN", message),
        }
    }
    if let Some(data) = env.get("SMARTAG_DATA") {
        config.data = Some(PathBuf::from(data));
    }
    if let Some(url) = env.get("DATABASE_URL") {
        config.database_url = Some(crate::store::postgres::DatabaseUrl::new(url));
    }
    if let Some(seed) = env.get("SMARTAG_SEED") {
        config.seed = Some(PathBuf::from(seed));
    }
    if let Some(cert) = env.get("SMARTAG_TLS_CERT") {
        config.tls.cert = Some(PathBuf::from(cert));
    }
    if let Some(key) = env.get("SMARTAG_TLS_KEY") {
        config.tls.key = Some(PathBuf::from(key));
    }

    access_key(&mut env, &mut config);
    instances(&mut env, &mut config);
    faults(&mut env, &mut config);

    if let Some(ms) = env.limit("SMARTAG_LIMITS_REQUEST_TIMEOUT_MS", &REQUEST_TIMEOUT_MS_RANGE, "milliseconds") {
        config.limits.request_timeout = Some(Duration::from_millis(ms));
    }
    if let Some(bytes) = env.limit("SMARTAG_LIMITS_BODY_LIMIT_BYTES", &BODY_LIMIT_BYTES_RANGE, "bytes") {
        config.limits.body_limit = usize::try_from(bytes).ok();
    }
    if let Some(nonces) = env.limit("SMARTAG_LIMITS_NONCE_CAPACITY", &NONCE_CAPACITY_RANGE, "nonces") {
        config.limits.nonce_capacity = usize::try_from(nonces).ok();
    }
    if let Some(seconds) = env.limit("SMARTAG_LIMITS_TIMESTAMP_WINDOW_S", &TIMESTAMP_WINDOW_S_RANGE, "seconds") {
        config.limits.timestamp_window = Some(Duration::from_secs(seconds));
    }

    if env.problems.is_empty() { Ok(config) } else { Err(ConfigError::Environment(env.problems)) }
}

/// `SMARTAG_ACCESS_KEY_ID` + `_SECRET` (+ `_SECURITY_TOKEN`): one key replacing the file's.
fn access_key<F: Fn(&str) -> Option<OsString>>(env: &mut Env<F>, config: &mut Config) {
    let id = env.get("SMARTAG_ACCESS_KEY_ID");
    let secret = env.get("SMARTAG_ACCESS_KEY_SECRET");
    let token = env.get("SMARTAG_ACCESS_KEY_SECURITY_TOKEN");
    let (id, secret) = match (id, secret) {
        (None, None) => {
            if token.is_some() {
                env.problem(
                    "SMARTAG_ACCESS_KEY_SECURITY_TOKEN",
                    "is set without SMARTAG_ACCESS_KEY_ID and SMARTAG_ACCESS_KEY_SECRET; set all three".to_owned(),
                );
            }
            return;
        }
        (Some(_), None) => {
            let message = "is set without SMARTAG_ACCESS_KEY_SECRET; set both (or neither)".to_owned();
            env.problem("SMARTAG_ACCESS_KEY_ID", message);
            return;
        }
        (None, Some(_)) => {
            let message = "is set without SMARTAG_ACCESS_KEY_ID; set both (or neither)".to_owned();
            env.problem("SMARTAG_ACCESS_KEY_SECRET", message);
            return;
        }
        (Some(id), Some(secret)) => (id, secret),
    };
    let mut ok = true;
    for (name, value, kind) in [
        ("SMARTAG_ACCESS_KEY_ID", Some(&id), Token::Name),
        ("SMARTAG_ACCESS_KEY_SECRET", Some(&secret), Token::Secret),
        ("SMARTAG_ACCESS_KEY_SECURITY_TOKEN", token.as_ref(), Token::Secret),
    ] {
        if let Some(message) = value.and_then(|value| token_problem("the value", value, kind)) {
            env.problem(name, message);
            ok = false;
        }
    }
    if ok {
        config.access_keys =
            vec![AccessKey { id, secret: Secret::new(secret), security_token: token.map(Secret::new) }];
        config.demo = false;
    }
}

/// `SMARTAG_FAULTS`: a JSON array of fault rules ([`crate::faults::FaultSpec`]) replacing the
/// file's `[[faults]]`.
fn faults<F: Fn(&str) -> Option<OsString>>(env: &mut Env<F>, config: &mut Config) {
    const NAME: &str = "SMARTAG_FAULTS";
    let Some(text) = env.get(NAME) else { return };
    let specs: Vec<crate::faults::FaultSpec> = match serde_json::from_str(&text) {
        Ok(specs) => specs,
        Err(error) => {
            let message = format!(
                "is not a JSON array of fault rules such as [{{\"action\": \"*\", \"error\": \"Throttling\"}}]: {error}"
            );
            env.problem(NAME, message);
            return;
        }
    };
    let mut rules = Vec::with_capacity(specs.len());
    for (index, spec) in specs.into_iter().enumerate() {
        match spec.check() {
            Ok(rule) => rules.push(rule),
            Err(problems) => env.problem(NAME, format!("[{index}]: {problems}")),
        }
    }
    config.faults = rules;
}

/// `SMARTAG_INSTANCES`: a JSON array of instances replacing the file's.
fn instances<F: Fn(&str) -> Option<OsString>>(env: &mut Env<F>, config: &mut Config) {
    const NAME: &str = "SMARTAG_INSTANCES";
    let Some(text) = env.get(NAME) else { return };
    let parsed: Vec<InstanceEntry> = match serde_json::from_str(&text) {
        Ok(parsed) => parsed,
        Err(error) => {
            let message = format!(
                "is not a JSON array of instances such as [{{\"region\": \"cn-shanghai\", \"id\": \"sag-1\", \
                 \"cidr\": \"10.0.0.0/24\", \"max_users\": 100}}]: {error}"
            );
            env.problem(NAME, message);
            return;
        }
    };
    let listed = parsed.iter().map(InstanceEntry::values);
    let mut found = Vec::new();
    let instances = check_instances(listed, &mut |index, problem, message| found.push((index, problem, message)));
    for (index, problem, message) in found {
        let message = match problem {
            InstanceProblem::Field(field) => format!("[{index}].{}: {message}", field.key()),
            InstanceProblem::Duplicate { first } => format!("[{index}]: {message} (first at [{first}])"),
        };
        env.problem(NAME, message);
    }
    config.instances = instances;
    config.demo = false;
}
