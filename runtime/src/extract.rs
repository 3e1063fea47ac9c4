//! Reading typed parameters out of a request, for the generated `Operation::from_params`:
//! absent and empty values, type errors, and merging those with the constraint checks so that
//! every problem is reported once, in the order the operation reads its parameters.

use crate::errors::ErrorCode;
use crate::flatten::{FlatFields, FlatStruct};
use crate::params::{Params, WireValue};
use crate::validate::{Violation, Violations};

/// Reads one request's parameters, collecting every problem instead of stopping at the first.
///
/// Created with the operation's codes for a missing and an unreadable parameter (the protocol's
/// `MissingParameter` and `InvalidParameter`, unless the spec says otherwise for a parameter);
/// each read records the parameter's name, so [`Reader::finish`] can order the problems as the
/// spec declares the parameters.
#[derive(Debug)]
pub struct Reader<'a, C> {
    params: &'a Params,
    missing: C,
    invalid: C,
    parsing: Violations,
    order: Vec<&'static str>,
}

impl<'a, C: ErrorCode> Reader<'a, C> {
    /// A reader of `params` raising `missing` for an absent required parameter and `invalid` for
    /// a value that does not parse, unless a read names other codes.
    pub fn new(params: &'a Params, missing: C, invalid: C) -> Self {
        Reader { params, missing, invalid, parsing: Violations::new(), order: Vec::new() }
    }

    /// A required parameter with the reader's codes. See [`Reader::required_with`].
    pub fn required<T: WireValue + Default>(&mut self, name: &'static str) -> T {
        self.required_with(name, None, None)
    }

    /// A required parameter: absent or empty raises `missing` (the reader's code when `None`), a
    /// value that does not parse `invalid`. Returns the type's default when there is a problem,
    /// so that the other checks still run.
    pub fn required_with<T: WireValue + Default>(
        &mut self,
        name: &'static str,
        missing: Option<C>,
        invalid: Option<C>,
    ) -> T {
        self.order.push(name);
        match self.params.get(name) {
            None | Some("") => {
                self.parsing.push(Violation::new(missing.unwrap_or(self.missing), name));
                T::default()
            }
            Some(raw) => T::from_wire(raw).unwrap_or_else(|| {
                self.parsing.push(Violation::new(invalid.unwrap_or(self.invalid), name));
                T::default()
            }),
        }
    }

    /// An optional parameter with the reader's code, sent empty counting as absent. See
    /// [`Reader::optional_with`].
    pub fn optional<T: WireValue>(&mut self, name: &'static str) -> Option<T> {
        self.optional_with(name, false, None)
    }

    /// An optional parameter: absent is `None`; sent empty is `None`, or `Some(empty)` when
    /// `keep_empty` (the spec gives the parameter an `empty_error`, which the checks then raise);
    /// a value that does not parse raises `invalid` (the reader's code when `None`).
    pub fn optional_with<T: WireValue>(
        &mut self,
        name: &'static str,
        keep_empty: bool,
        invalid: Option<C>,
    ) -> Option<T> {
        self.order.push(name);
        match self.params.get(name) {
            None => None,
            Some("") if !keep_empty => None,
            Some(raw) => T::from_wire(raw).or_else(|| {
                self.parsing.push(Violation::new(invalid.unwrap_or(self.invalid), name));
                None
            }),
        }
    }

    /// A repeat-list parameter, flattened on the wire as `name.1`, `name.2`, … (as the official
    /// SDKs send it): the values from `.1` up to the first number not sent. A value that does not
    /// parse raises the reader's invalid code, naming the list.
    pub fn list<T: WireValue>(&mut self, name: &'static str) -> Vec<T> {
        self.order.push(name);
        let mut out = Vec::new();
        for n in 1usize.. {
            let Some(raw) = self.params.get(&format!("{name}.{n}")) else { break };
            match T::from_wire(raw) {
                Some(value) => out.push(value),
                None => {
                    self.parsing.push(Violation::new(self.invalid, name));
                    break;
                }
            }
        }
        out
    }

    /// A repeat list of structures, flattened as `name.1.Field`, `name.2.Field`, …: the structures
    /// from `.1` up to the first number with no field sent. One with a required field missing or
    /// a field that does not parse raises the reader's invalid code, naming the list.
    pub fn structs<T: FlatStruct>(&mut self, name: &'static str) -> Vec<T> {
        self.order.push(name);
        let mut out = Vec::new();
        for n in 1usize.. {
            let fields = FlatFields::new(self.params, format!("{name}.{n}"));
            if !fields.any() {
                break;
            }
            match T::unflatten(&fields) {
                Some(value) => out.push(value),
                None => {
                    self.parsing.push(Violation::new(self.invalid, name));
                    break;
                }
            }
        }
        out
    }

    /// Finishes the read: runs the constraint checks on the parsed value and merges their
    /// violations with the parsing ones. A parameter that could not be read reports only that;
    /// the rest are ordered as the parameters were read (a rule's violation sorts with the
    /// parameter it names).
    ///
    /// # Errors
    /// Every violation, when there is one.
    pub fn finish<T>(self, value: T, check: impl FnOnce(&T) -> Result<(), Violations>) -> Result<T, Violations> {
        let checks = match check(&value) {
            Ok(()) => Violations::new(),
            Err(v) => v,
        };
        if self.parsing.is_empty() && checks.is_empty() {
            return Ok(value);
        }
        let order = self.order;
        let unreadable: Vec<&'static str> = self.parsing.iter().map(|v| v.param).collect();
        let mut all: Vec<Violation> = self.parsing.into_vec();
        all.extend(checks.into_vec().into_iter().filter(|v| !unreadable.contains(&v.param)));
        let rank = |v: &Violation| order.iter().position(|p| *p == v.param).unwrap_or(order.len());
        all.sort_by_key(rank);
        Err(all.into())
    }
}
