//! Request parameters: type, the errors of absence, emptiness and unreadable values, constraints
//! and default, each checked and resolved into a [`Param`].

use alibaba_rpc_runtime::errors::ProtocolCode;

use super::check::{self, Checker};
use super::names;
use super::types::{
    Constraint, ConstraintKind, EnumDef, ErrorDef, ErrorRef, FieldType, Format, Param, ParamType, Scalar, Shape,
    ValueType,
};
use crate::diagnostics::did_you_mean;
use crate::raw::{RawConstraint, RawParam, RawScalar};

/// The error codes an operation can answer (its own, then the protocol ones), against which the
/// codes its parameters and rules name are resolved.
pub struct ErrorScope<'a> {
    op: &'a str,
    declared: &'a [&'a ErrorDef],
}

impl<'a> ErrorScope<'a> {
    /// The scope of operation `op`.
    pub fn new(op: &'a str, declared: &'a [&'a ErrorDef]) -> ErrorScope<'a> {
        ErrorScope { op, declared }
    }

    /// The code named at `path`, or a report that the operation does not declare it.
    pub fn error(&self, c: &mut Checker<'_>, path: &str, code: &str) -> Option<ErrorRef> {
        match self.declared.iter().find(|e| e.code == code) {
            Some(e) => Some(ErrorRef { code: e.code.clone(), variant: e.variant.clone() }),
            None => {
                let codes: Vec<&str> = self.declared.iter().map(|e| e.code.as_str()).collect();
                check::error_ref(c, path, code, &codes, self.op);
                None
            }
        }
    }
}

impl Param {
    /// The largest value a `range` constraint allows, if one sets a maximum.
    pub fn max(&self) -> Option<i64> {
        self.constraints.iter().find_map(|k| match k.kind {
            ConstraintKind::Range { max, .. } => max,
            _ => None,
        })
    }
}

/// The named types a parameter or field may have besides the scalars.
pub struct Types<'a> {
    /// The spec's enums.
    pub enums: &'a [EnumDef],
    /// The shapes declared so far.
    pub shapes: &'a [Shape],
}

impl Types<'_> {
    /// A scalar or an enum, by its spec name.
    pub fn value(&self, name: &str) -> Option<ValueType> {
        Scalar::parse(name)
            .map(ValueType::Scalar)
            .or_else(|| self.enums.iter().position(|e| e.name == name).map(ValueType::Enum))
    }

    /// Every type name a parameter may be declared with, for hints.
    fn param_names(&self) -> Vec<String> {
        let values = Scalar::NAMES.iter().map(|s| s.to_string()).chain(self.enums.iter().map(|e| e.name.clone()));
        let values: Vec<String> = values.collect();
        let lists =
            values.iter().map(|v| format!("list<{v}>")).chain(self.shapes.iter().map(|s| format!("list<{}>", s.name)));
        let lists: Vec<String> = lists.collect();
        values.into_iter().chain(lists).collect()
    }

    /// A parameter's type: a value, `list<value>` (a repeat list) or `list<Shape>` (a repeat list
    /// of structures, whose fields must then be values).
    fn param(&self, c: &mut Checker<'_>, p: &RawParam, pp: &str) -> Option<ParamType> {
        if let Some(v) = self.value(&p.ty) {
            return Some(ParamType::Value(v));
        }
        let inner = p.ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>'));
        if let Some(v) = inner.and_then(|t| self.value(t)) {
            return Some(ParamType::List(v));
        }
        if let Some(i) = inner.and_then(|t| self.shapes.iter().position(|s| s.name == t)) {
            let shape = &self.shapes[i];
            if let Some(f) = shape.fields.iter().find(|f| !matches!(f.ty, FieldType::Value(_))) {
                c.report(
                    &format!("{pp}.type"),
                    format!(
                        "parameter `{}` lists the shape `{}`, whose field `{}` is not a single value",
                        p.name, shape.name, f.wire
                    ),
                    Some("a structure sent in a request is flattened (`Name.N.Field`); its fields must be scalars or enums".into()),
                );
                return None;
            }
            return Some(ParamType::Structs(i));
        }
        let names = self.param_names();
        c.report(
            &format!("{pp}.type"),
            format!("unknown type `{}` for parameter `{}`", p.ty, p.name),
            Some(
                did_you_mean(&p.ty, names.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("parameter types are {}", names.join(", "))),
            ),
        );
        None
    }
}

/// Checks and resolves the parameter `p` declared at `pp`; `None` when it has a problem.
pub fn resolve(
    c: &mut Checker<'_>,
    p: &RawParam,
    pp: &str,
    scope: &ErrorScope<'_>,
    types: &Types<'_>,
) -> Option<Param> {
    let before = c.count();
    let ty = types.param(c, p, pp)?;
    let missing_error = match &p.missing_error {
        Some(code) => {
            let e = scope.error(c, &format!("{pp}.missing_error"), code);
            if !p.required {
                c.report(
                    &format!("{pp}.missing_error"),
                    format!("`missing_error` on optional parameter `{}`", p.name),
                    Some("set `required: true`, or use `empty_error` for a parameter sent empty".into()),
                );
            }
            e
        }
        None => Some(ErrorRef::protocol(ProtocolCode::MissingParameter)),
    };
    let empty_error = p.empty_error.as_ref().and_then(|code| {
        let e = scope.error(c, &format!("{pp}.empty_error"), code);
        if p.required || ty.scalar() != Some(Scalar::String) {
            c.report(
                &format!("{pp}.empty_error"),
                format!("`empty_error` applies only to optional string parameters, and `{}` is not one", p.name),
                Some("a required parameter sent empty raises its `missing_error`".into()),
            );
        }
        e
    });
    let type_error = match &p.type_error {
        Some(code) => scope.error(c, &format!("{pp}.type_error"), code),
        None => Some(ErrorRef::protocol(ProtocolCode::InvalidParameter)),
    };
    let rust = names::snake(p.rust_name.as_deref().unwrap_or(&p.name));
    let mut constraints = Vec::new();
    for (i, k) in p.constraints.iter().enumerate() {
        let kp = format!("{pp}.constraints[{i}]");
        let error = scope.error(c, &format!("{pp}.constraints[{i}].error"), &k.error);
        if let (Some(kind), Some(error)) = (constraint(c, k, &kp, p, ty, &rust, i), error) {
            constraints.push(Constraint { kind, error });
        }
    }
    let default = p.default.as_ref().and_then(|d| default(c, d, &format!("{pp}.default"), p, ty, &constraints));
    check::param_name(c, &p.name, pp);
    if c.count() > before {
        return None;
    }
    Some(Param {
        wire: p.name.clone(),
        type_state: String::new(),
        default_getter: names::default_getter(&rust),
        rust,
        ty,
        required: p.required,
        default,
        description: p.description.clone(),
        secret: p.secret,
        missing_error: missing_error?,
        empty_error,
        type_error: type_error?,
        constraints,
        common: false,
    })
}

/// One constraint: exactly one kind, applicable to the parameter's type.
fn constraint(
    c: &mut Checker<'_>,
    k: &RawConstraint,
    kp: &str,
    p: &RawParam,
    ty: ParamType,
    rust: &str,
    index: usize,
) -> Option<ConstraintKind> {
    let given = [k.range.is_some(), k.length.is_some(), k.pattern.is_some(), k.format.is_some(), k.count.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if given != 1 {
        c.report(
            kp,
            format!(
                "a constraint needs exactly one of `range`, `length`, `pattern`, `format`, `count`; this one has {given}"
            ),
            Some("split it into one constraint per check".into()),
        );
        return None;
    }
    if let Some(b) = k.count {
        if !ty.is_list() {
            c.report(
                &format!("{kp}.count"),
                format!("`count` on parameter `{}`, which is not a list", p.name),
                Some("`count` bounds the number of items of a `list<…>` parameter".into()),
            );
        }
        check::bounds(c, &format!("{kp}.count"), b, (0, i64::MAX));
        return Some(ConstraintKind::Count { min: b.min, max: b.max });
    }
    // The other kinds check one scalar value.
    let Some(ty) = ty.scalar() else {
        c.report(
            kp,
            format!("parameter `{}` of type `{}` takes no constraint but `count` (for lists)", p.name, p.ty),
            Some("enums check their values themselves; lists take `count`".into()),
        );
        return None;
    };
    if let Some(b) = k.range {
        if !ty.is_integer() {
            c.report(
                &format!("{kp}.range"),
                format!("`range` on non-integer parameter `{}`", p.name),
                Some("use `length` for strings".into()),
            );
        }
        check::bounds(c, &format!("{kp}.range"), b, ty.limits());
        return Some(ConstraintKind::Range { min: b.min, max: b.max });
    }
    if let Some(b) = k.length {
        if ty != Scalar::String {
            c.report(
                &format!("{kp}.length"),
                format!("`length` on non-string parameter `{}`", p.name),
                Some("use `range` for integers".into()),
            );
        }
        check::bounds(c, &format!("{kp}.length"), b, (0, i64::MAX));
        return Some(ConstraintKind::Length { min: b.min, max: b.max });
    }
    if let Some(re) = &k.pattern {
        if ty != Scalar::String {
            c.report(&format!("{kp}.pattern"), format!("`pattern` on non-string parameter `{}`", p.name), None);
        }
        if let Err(e) = regex::Regex::new(re) {
            let first = e.to_string().lines().last().unwrap_or_default().trim().to_string();
            c.report(
                &format!("{kp}.pattern"),
                format!("pattern `{re}` does not compile: {first}"),
                Some("patterns use the `regex` crate's syntax".into()),
            );
        }
        return Some(ConstraintKind::Pattern { regex: re.clone(), name: names::pattern_static(rust, index) });
    }
    let f = k.format.clone().unwrap_or_default();
    if ty != Scalar::String {
        c.report(&format!("{kp}.format"), format!("`format` on non-string parameter `{}`", p.name), None);
    }
    match Format::parse(&f) {
        Some(format) => Some(ConstraintKind::Format(format)),
        None => {
            c.report(
                &format!("{kp}.format"),
                format!("unknown format `{f}`"),
                did_you_mean(&f, Format::NAMES.iter().copied())
                    .or_else(|| Some(format!("formats are {}", Format::NAMES.join(", ")))),
            );
            None
        }
    }
}

/// A default: only on optional integer parameters, within the type and the parameter's ranges.
fn default(
    c: &mut Checker<'_>,
    d: &RawScalar,
    dp: &str,
    p: &RawParam,
    ty: ParamType,
    constraints: &[Constraint],
) -> Option<i64> {
    if p.required {
        c.report(
            dp,
            format!("required parameter `{}` has a default", p.name),
            Some("a default is what the server assumes when an optional parameter is absent".into()),
        );
    }
    let RawScalar::Int(v) = d else {
        c.report(
            dp,
            format!("default of `{}` must be an integer; only integer parameters take defaults", p.name),
            None,
        );
        return None;
    };
    let Some(ty) = ty.scalar().filter(|s| s.is_integer()) else {
        c.report(
            dp,
            format!("default of `{}` must be an integer; only integer parameters take defaults", p.name),
            None,
        );
        return None;
    };
    let (lo, hi) = ty.limits();
    if *v < lo || *v > hi {
        c.report(dp, format!("default {v} does not fit the type `{}`", p.ty), None);
    }
    for k in constraints {
        if let ConstraintKind::Range { min, max } = k.kind
            && (min.is_some_and(|m| *v < m) || max.is_some_and(|m| *v > m))
        {
            c.report(
                dp,
                format!(
                    "default {v} of `{}` is outside its own range {}..={}",
                    p.name,
                    min.map(|m| m.to_string()).unwrap_or_default(),
                    max.map(|m| m.to_string()).unwrap_or_default()
                ),
                Some("change the default or the range".into()),
            );
        }
    }
    Some(*v)
}
