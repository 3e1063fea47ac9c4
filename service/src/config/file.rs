//! The TOML file: its raw shapes (what `toml` deserializes, with the spans of the values) and the
//! checker that turns them into a [`Config`], reporting every problem at its `file:line:column`.

use std::collections::HashMap;
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::problems::line_column;
use super::{
    AccessKey, BODY_LIMIT_BYTES_RANGE, Config, ConfigError, ConfigProblem, InstanceField, InstanceProblem,
    InstanceValues, Limits, Location, NONCE_CAPACITY_RANGE, REQUEST_TIMEOUT_MS_RANGE, Secret, TIMESTAMP_WINDOW_S_RANGE,
    TlsFiles, Token, check_instances, limit_value, parse_listen, token_problem,
};

/// Parses configuration `text` and checks it; `origin` is the file name used in error messages.
/// With `keys_from_env`, the access key comes from the environment: the file may have no
/// `[[access_keys]]`.
pub(super) fn check(text: &str, origin: &Path, keys_from_env: bool) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|error| {
        let location = Location::of(origin, text, error.span());
        ConfigError::Parse(ConfigProblem { location, message: error.message().trim_end().to_owned() })
    })?;
    Checker { origin, text, problems: Vec::new(), keys_from_env }.check(raw)
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
        let database_url = raw.database_url.and_then(|url| {
            const HOW: &str = ": give a PostgreSQL URL (postgres://user@host/database) or remove the key to use the \
                               SQLite file";
            self.check_not_empty("database_url", &url, HOW)
                .then(|| crate::store::postgres::DatabaseUrl::new(url.into_inner()))
        });
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
    /// Whether `value` has more than whitespace; if not, a problem at it: `<key> must not be
    /// empty`, then `how` (what to write instead).
    fn check_not_empty(&mut self, key: &str, value: &Spanned<String>, how: &str) -> bool {
        let filled = !value.get_ref().trim().is_empty();
        if !filled {
            self.problem(Some(value.span()), format!("{key} must not be empty{how}"));
        }
        filled
    }

    fn check_path(&mut self, key: &str, value: &Spanned<String>) -> PathBuf {
        self.check_not_empty(key, value, "");
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
