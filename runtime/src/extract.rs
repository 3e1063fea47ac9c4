//! Reading typed parameters out of a request, for the generated `Operation::from_params`:
//! absent and empty values, type errors, and merging those with the constraint checks so that
//! every problem is reported once, in the order the spec declares the parameters.

use crate::errors::ErrorCode;
use crate::params::{Params, WireValue};
use crate::validate::{Violation, Violations};

/// A required parameter: absent or empty raises `missing`, an unreadable value `invalid`.
/// Returns the type's default when there is a problem, so that the other checks still run.
pub fn required<T: WireValue + Default, C: ErrorCode>(
    params: &Params,
    name: &'static str,
    missing: C,
    invalid: C,
    problems: &mut Violations,
) -> T {
    match params.get(name) {
        None | Some("") => {
            problems.push(Violation::new(missing, name));
            T::default()
        }
        Some(raw) => T::from_wire(raw).unwrap_or_else(|| {
            problems.push(Violation::new(invalid, name));
            T::default()
        }),
    }
}

/// An optional parameter: absent is `None`; sent empty is `None`, or `Some(empty)` when the spec
/// gives the parameter an `empty_error` (`keep_empty`), so that the check raises it; an
/// unreadable value raises `invalid`.
pub fn optional<T: WireValue, C: ErrorCode>(
    params: &Params,
    name: &'static str,
    keep_empty: bool,
    invalid: C,
    problems: &mut Violations,
) -> Option<T> {
    match params.get(name) {
        None => None,
        Some("") if !keep_empty => None,
        Some(raw) => T::from_wire(raw).or_else(|| {
            problems.push(Violation::new(invalid, name));
            None
        }),
    }
}

/// Finishes `from_params`: runs the constraint checks on the parsed value and merges their
/// violations with the parsing ones. A parameter that could not be read reports only that;
/// the rest are ordered as `order` (the spec's parameter order); a rule's violation sorts with the parameter it names.
pub fn finish<T>(
    value: T,
    parsing: Violations,
    order: &[&str],
    check: impl FnOnce(&T) -> Result<(), Violations>,
) -> Result<T, Violations> {
    let checks = match check(&value) {
        Ok(()) => Violations::new(),
        Err(v) => v,
    };
    if parsing.is_empty() && checks.is_empty() {
        return Ok(value);
    }
    let unreadable: Vec<&'static str> = parsing.iter().map(|v| v.param).collect();
    let mut all: Vec<Violation> = parsing.into_vec();
    all.extend(checks.into_vec().into_iter().filter(|v| !unreadable.contains(&v.param)));
    let rank = |v: &Violation| order.iter().position(|p| *p == v.param).unwrap_or(order.len());
    all.sort_by_key(rank);
    let mut out = Violations::new();
    for v in all {
        out.push(v);
    }
    Err(out)
}
