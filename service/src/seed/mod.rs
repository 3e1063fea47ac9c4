//! Seed data: instances and users loaded at start (`--seed FILE`, `seed = "…"`, `SMARTAG_SEED`),
//! for a local cloud in tests and for demos.
//!
//! ```yaml
//! instances:                 # optional: added to the configured ones (same keys as [[instances]])
//!   - region: cn-shanghai
//!     id: sag-seeded
//!     cidr: 10.50.0.0/24
//!     max_users: 10
//! users:                     # optional: the parameters of a Create, by their wire names
//!   - RegionId: cn-shanghai
//!     SmartAGId: sag-seeded
//!     UserMail: alice@example.com
//!     Bandwidth: 200
//!     UserName: alice01      # optional, as in Create (then Password too)
//!     Password: Passw0rd-1
//!     ClientIp: 10.50.0.9    # optional: a static address
//! ```
//!
//! The file is YAML or JSON (JSON is read as YAML, of which it is a subset), whatever its
//! extension. Rules:
//!
//! - The file is read and checked at every start. A seed instance whose `(region, id)` is already
//!   configured is an error; seed instances are added to the configuration on every start (they
//!   live in the configuration, not in the database).
//! - Users are created only into a database **without any user** (a first start); otherwise they
//!   are skipped with an info log line, so restarting with the same seed never duplicates or
//!   resets anything.
//! - Each user is checked by the API's own rules: the generated request's validation (every
//!   `ClientUser.*` check of the spec) and the service's (instance known in its region, a CIDR
//!   block, name unique in its instance, quota, static IP inside the block and free). All users are
//!   created in one go or none: every problem is reported, each at its user's `file:line:column`,
//!   and the service does not start.
//! - Passwords are stored as argon2id hashes; each user's account e-mail goes to the outbox as a
//!   Create's does (with the generated password when the entry has none).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use alibaba_rpc_runtime::operation::Operation;
use alibaba_rpc_runtime::params::Params;
use serde::Deserialize;
use smartag_model::CreateSmartAccessGatewayClientUserRequest;

use crate::config::{self, Config, ConfigProblem, Instance, InstanceEntry, InstanceProblem, Location};
use crate::outbox::{Mail, Outbox, OutboxError};
use crate::password::{self, PasswordError};
use crate::store::{AnyStore, CreateUserError, NewUser, Store, StoreError, UserStore};
use yaml_places::Places;

/// The keys of a seed user: the wire parameters of a Create.
pub const USER_KEYS: [&str; 7] = ["RegionId", "SmartAGId", "UserName", "UserMail", "Bandwidth", "Password", "ClientIp"];

/// Why a seed file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is wrong: every problem found, each at its `file:line:column` (never empty).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigProblem>),
    /// The database failed.
    #[error("seeding the database")]
    Store(#[from] StoreError),
    /// A password could not be hashed.
    #[error("hashing a seed user's password")]
    Password(#[from] PasswordError),
    /// An account e-mail could not be delivered to the outbox.
    #[error("delivering a seed user's account e-mail")]
    Outbox(#[from] OutboxError),
    /// A user the check accepted was refused by the database (another process wrote to it during
    /// the start); some seed users may have been created.
    #[error("seeding the database: {0} (another process wrote to it meanwhile?)")]
    Conflict(String),
    /// The scratch database of the check could not be made.
    #[error("creating the scratch database that checks the seed")]
    Scratch(#[source] std::io::Error),
}

/// What [`Seed::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The users were created (how many).
    Created(usize),
    /// The database already had users: nothing was created.
    SkippedNotEmpty,
}

/// A loaded and checked seed file.
#[derive(Debug)]
pub struct Seed {
    path: PathBuf,
    places: Places,
    instances: Vec<Instance>,
    users: Vec<CreateSmartAccessGatewayClientUserRequest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    #[serde(default)]
    instances: Vec<InstanceEntry>,
    #[serde(default)]
    users: Vec<serde_yaml::Mapping>,
}

/// Collects located problems.
struct Problems<'a> {
    path: &'a Path,
    places: &'a Places,
    found: Vec<ConfigProblem>,
}

impl Problems<'_> {
    fn at(&mut self, path: &str, message: String) {
        self.found.push(ConfigProblem { location: locate(self.path, self.places, path), message });
    }

    fn finish(mut self) -> Result<(), SeedError> {
        if self.found.is_empty() {
            return Ok(());
        }
        self.found.sort_by_key(|p| (p.location.line, p.location.column));
        Err(SeedError::Invalid(self.found))
    }
}

fn locate(path: &Path, places: &Places, at: &str) -> Location {
    let (line, column) = places.locate(at);
    Location { path: path.to_path_buf(), line: Some(line), column: Some(column) }
}

impl Seed {
    /// Reads and checks the seed file at `path`: its syntax and keys, each instance by the rules
    /// of the configuration file, each user by the validation of the Create request.
    ///
    /// # Errors
    /// The first syntax or structure error at its `file:line:column`; otherwise every problem of
    /// the instances and users, each at its place.
    pub fn load(path: &Path) -> Result<Seed, SeedError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| SeedError::Read { path: path.to_path_buf(), source })?;
        Seed::parse(&text, path)
    }

    /// Checks seed `text`; `origin` is the file name used in error messages.
    ///
    /// # Errors
    /// As [`Seed::load`].
    pub fn parse(text: &str, origin: &Path) -> Result<Seed, SeedError> {
        let raw: RawSeed = match serde_yaml::from_str::<Option<RawSeed>>(text) {
            Ok(Some(raw)) => raw,
            // An empty file seeds nothing.
            Ok(None) => RawSeed { instances: Vec::new(), users: Vec::new() },
            Err(error) => {
                let location =
                    error.location().map_or(Location { path: origin.to_path_buf(), line: None, column: None }, |l| {
                        Location { path: origin.to_path_buf(), line: Some(l.line()), column: Some(l.column()) }
                    });
                let message = error.to_string();
                let message = match message.rfind(" at line ") {
                    Some(i) => message[..i].to_owned(),
                    None => message,
                };
                return Err(SeedError::Invalid(vec![ConfigProblem {
                    location,
                    message: format!(
                        "{message} (a seed file has `instances:` and `users:`; a user has the keys {})",
                        USER_KEYS.join(", ")
                    ),
                }]));
            }
        };
        let places = Places::of(text);
        let mut problems = Problems { path: origin, places: &places, found: Vec::new() };
        let instances = check_instances(&raw.instances, &mut problems);
        let users = raw.users.iter().enumerate().filter_map(|(i, entry)| check_user(i, entry, &mut problems)).collect();
        problems.finish()?;
        Ok(Seed { path: origin.to_path_buf(), places, instances, users })
    }

    /// The seed file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The seed's instances.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The seed's users, as Create requests (already validated).
    pub fn users(&self) -> &[CreateSmartAccessGatewayClientUserRequest] {
        &self.users
    }

    /// Adds the seed's instances to `config`.
    ///
    /// # Errors
    /// Every seed instance already configured, at its place in the seed file.
    pub fn add_instances_to(&self, config: &mut Config) -> Result<(), SeedError> {
        config.add_instances(self.instances.clone()).map_err(|duplicates| {
            let mut problems = Problems { path: &self.path, places: &self.places, found: Vec::new() };
            for duplicate in duplicates {
                if let Some(i) =
                    self.instances.iter().position(|i| i.region == duplicate.region && i.id == duplicate.id)
                {
                    problems.at(
                        &format!("instances[{i}].id"),
                        format!(
                            "instance {:?} in region {:?} is already in the configuration; give it another id or \
                             remove one of the two",
                            duplicate.id, duplicate.region
                        ),
                    );
                }
            }
            problems.finish().err().unwrap_or(SeedError::Invalid(Vec::new()))
        })
    }

    /// Creates the seed's users in `store` if it has no user yet (see the module documentation),
    /// all or none, checked against `config` (which should hold the seed's instances: see
    /// [`Seed::add_instances_to`]); each user's account e-mail goes to `outbox`.
    ///
    /// Blocks (argon2 and SQLite): call it from `spawn_blocking` in async code.
    ///
    /// # Errors
    /// Every user the service would refuse, at its place in the seed file; or a failure of the
    /// database, the password hashing or the outbox.
    pub fn apply(&self, config: &Config, store: &Store, outbox: &Outbox) -> Result<Applied, SeedError> {
        if !store.is_empty()? {
            return Ok(Applied::SkippedNotEmpty);
        }
        let (users, mails) = self.prepare(config)?;
        let count = users.len();
        for answer in store.create_users(users)? {
            answer.map_err(unexpected)?;
        }
        deliver(&mails, outbox)?;
        Ok(Applied::Created(count))
    }

    /// [`Seed::apply`] on either store, through the store port. The checks and the password
    /// hashing run on the calling thread (once, at start).
    ///
    /// # Errors
    /// As [`Seed::apply`].
    pub async fn apply_to(&self, config: &Config, store: &AnyStore, outbox: &Outbox) -> Result<Applied, SeedError> {
        if !store.is_empty().await? {
            return Ok(Applied::SkippedNotEmpty);
        }
        let (users, mails) = self.prepare(config)?;
        let count = users.len();
        for answer in store.create_users(users).await? {
            answer.map_err(unexpected)?;
        }
        deliver(&mails, outbox)?;
        Ok(Applied::Created(count))
    }

    /// The seed's users, checked (every problem, located) and with their passwords hashed, and
    /// their account e-mails.
    fn prepare(&self, config: &Config) -> Result<(Vec<NewUser>, Vec<Mail>), SeedError> {
        let mut problems = Problems { path: &self.path, places: &self.places, found: Vec::new() };
        let mut new_users = Vec::with_capacity(self.users.len());
        let mut mails = Vec::with_capacity(self.users.len());
        let mut passwords = Vec::with_capacity(self.users.len());
        for (i, request) in self.users.iter().enumerate() {
            let Some(instance) = config.instance(&request.region_id, &request.smart_ag_id) else {
                problems.at(
                    &format!("users[{i}].SmartAGId"),
                    format!(
                        "SAG.InstanceNoFound: no instance {:?} in region {:?} (configured: {})",
                        request.smart_ag_id,
                        request.region_id,
                        config
                            .instances()
                            .iter()
                            .map(|i| format!("{}/{}", i.region, i.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                continue;
            };
            if instance.cidr.is_none() {
                problems.at(
                    &format!("users[{i}].SmartAGId"),
                    format!("SAG.CidrEmpty: instance {:?} has no client CIDR block", instance.id),
                );
                continue;
            }
            let static_ip = match request.client_ip.as_deref().map(str::parse::<Ipv4Addr>) {
                None => None,
                Some(Ok(ip)) => Some(ip),
                Some(Err(_)) => {
                    problems
                        .at(&format!("users[{i}].ClientIp"), "ClientUser.InvalidClientIp: not an IPv4 address".into());
                    continue;
                }
            };
            let user_name = request.user_name.clone().unwrap_or_else(|| request.user_mail.clone());
            let password = request.password.clone().unwrap_or_else(password::generate_password);
            new_users.push((
                i,
                NewUser {
                    region: request.region_id.clone(),
                    instance: instance.limits(),
                    user_name: user_name.clone(),
                    user_mail: request.user_mail.clone(),
                    bandwidth: request.bandwidth,
                    password_hash: String::new(),
                    static_ip,
                },
            ));
            mails.push(Mail::account_created(
                &request.user_mail,
                &request.region_id,
                &instance.id,
                &user_name,
                &password,
            ));
            // Hashed only once every user is known to be acceptable (below).
            passwords.push(password);
        }
        // The store's own checks (names, quotas, addresses) of the users that passed the above, in
        // a scratch database first, so that the real one gets all users or none.
        let scratch = tempfile::tempdir().map_err(SeedError::Scratch)?;
        let check = Store::open(scratch.path().join("seed-check.db"))?;
        let answers = check.create_users(new_users.iter().map(|(_, u)| u.clone()).collect())?;
        drop(check);
        for ((i, _), answer) in new_users.iter().zip(answers) {
            if let Err(error) = answer {
                let (key, code) = match &error {
                    CreateUserError::CidrEmpty { .. } => ("SmartAGId", "SAG.CidrEmpty"),
                    CreateUserError::UserExist { .. } => ("UserName", "ClientUser.UserExist"),
                    CreateUserError::UserOverLimit { .. } => ("SmartAGId", "ClientUser.UserOverLimit"),
                    CreateUserError::IpInvalid(_) => ("ClientIp", "ClientUser.IpInvalid"),
                    CreateUserError::Store(_) => return Err(unexpected(error)),
                };
                problems.at(&format!("users[{i}].{key}"), format!("{code}: {error}"));
            }
        }
        problems.finish()?;

        let mut users = Vec::with_capacity(new_users.len());
        for ((_, mut user), password) in new_users.into_iter().zip(&passwords) {
            user.password_hash = password::hash_password(password)?;
            users.push(user);
        }
        Ok((users, mails))
    }
}

fn deliver(mails: &[Mail], outbox: &Outbox) -> Result<(), SeedError> {
    for mail in mails {
        outbox.deliver(mail)?;
    }
    Ok(())
}

/// A create error that the scratch check did not predict (a database failure, or another process
/// writing meanwhile).
fn unexpected(error: CreateUserError) -> SeedError {
    match error {
        CreateUserError::Store(e) => SeedError::Store(e),
        other => SeedError::Conflict(other.to_string()),
    }
}

/// Checks the seed's instances (the configuration file's rules; `(region, id)` unique).
fn check_instances(raw: &[InstanceEntry], problems: &mut Problems<'_>) -> Vec<Instance> {
    let listed = raw.iter().map(InstanceEntry::values);
    let mut found = Vec::new();
    let instances =
        config::check_instances(listed, &mut |index, problem, message| found.push((index, problem, message)));
    for (i, problem, message) in found {
        match problem {
            InstanceProblem::Field(field) => problems.at(&format!("instances[{i}].{}", field.key()), message),
            InstanceProblem::Duplicate { first } => {
                let (line, _) = problems.places.locate(&format!("instances[{first}]"));
                problems.at(&format!("instances[{i}].id"), format!("{message} (first defined on line {line})"));
            }
        }
    }
    instances
}

/// Checks user `i` with the Create request's own validation; `None` when it has problems.
fn check_user(
    i: usize,
    entry: &serde_yaml::Mapping,
    problems: &mut Problems<'_>,
) -> Option<CreateSmartAccessGatewayClientUserRequest> {
    let before = problems.found.len();
    let mut params = Params::new();
    for (key, value) in entry {
        let Some(key) = key.as_str() else {
            problems.at(&format!("users[{i}]"), format!("a user's keys are the names {}", USER_KEYS.join(", ")));
            continue;
        };
        if !USER_KEYS.contains(&key) {
            let hint = USER_KEYS
                .iter()
                .find(|k| edit_distance(&k.to_ascii_lowercase(), &key.to_ascii_lowercase()) <= 2)
                .map(|k| format!("did you mean `{k}`? "))
                .unwrap_or_default();
            problems.at(
                &format!("users[{i}].{key}@key"),
                format!("unknown key `{key}`: {hint}a user has the keys {}", USER_KEYS.join(", ")),
            );
            continue;
        }
        let text = match value {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::Bool(b) => b.to_string(),
            _ => {
                problems.at(&format!("users[{i}].{key}"), format!("{key} must be a single value (text or a number)"));
                continue;
            }
        };
        params.push(key, &text);
    }
    let request = match CreateSmartAccessGatewayClientUserRequest::from_params(&params) {
        Ok(request) => request,
        Err(violations) => {
            for violation in violations.iter() {
                problems.at(
                    &format!("users[{i}].{}", violation.param),
                    format!("{}: {} ({})", violation.param, violation.message, violation.code),
                );
            }
            return None;
        }
    };
    (problems.found.len() == before).then_some(request)
}

/// The Levenshtein distance of `a` and `b` (for "did you mean" hints on short keys).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
