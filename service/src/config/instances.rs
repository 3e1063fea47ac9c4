//! The checks of a list of instances, shared by the file's `[[instances]]`, `SMARTAG_INSTANCES`
//! and seed files: each instance's values, and no `(region, id)` twice.

use std::collections::HashMap;

use serde::Deserialize;

use super::values::parse_cidr;
use super::{DEFAULT_MAX_USERS, Instance, Token, token_problem};

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

/// Checks one instance by the rules of the [`crate::config`] module documentation, reporting each
/// problem with its field; returns the instance (with defaults in place of bad values).
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
