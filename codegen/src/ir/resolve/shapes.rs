//! Enums, response shapes and their fields, each named once as it is resolved.

use std::collections::HashMap;

use crate::diagnostics::did_you_mean;
use crate::ir::check::{self, Checker, TypeNames};
use crate::ir::names;
use crate::ir::param;
use crate::ir::types::{EnumDef, EnumValue, Field, FieldType, Scalar, Shape, ValueType};
use crate::raw::{RawField, RawSpec};
use param::Types;

/// The enums: each a type name of its own, with values that are distinct and give distinct
/// variants.
pub(super) fn enums(c: &mut Checker<'_>, raw: &RawSpec, types: &mut TypeNames) -> Vec<EnumDef> {
    let mut out: Vec<EnumDef> = Vec::new();
    for (i, e) in raw.enums.iter().enumerate() {
        let path = format!("enums[{i}]");
        if check::is_scalar_name(&e.name) || out.iter().any(|o| o.name == e.name) {
            c.report(
                &format!("{path}.name"),
                format!("enum `{}` is declared twice or takes the name of a scalar type", e.name),
                Some("give the enum a name of its own".into()),
            );
            continue;
        }
        let rust = names::shape(&e.name);
        types.claim(c, &rust, &format!("{path}.name"), &format!("enum `{}`", e.name));
        if e.values.is_empty() {
            c.report(&format!("{path}.values"), format!("enum `{}` has no value", e.name), None);
        }
        let mut values: Vec<EnumValue> = Vec::new();
        for (j, v) in e.values.iter().enumerate() {
            let vp = format!("{path}.values[{j}].value");
            let variant = names::enum_variant(&v.value);
            if let Some(prev) = values.iter().find(|p| p.wire == v.value || p.variant == variant) {
                c.report(
                    &vp,
                    format!(
                        "value `{}` of enum `{}` clashes with `{}` (both give the variant `{variant}`)",
                        v.value, e.name, prev.wire
                    ),
                    None,
                );
                continue;
            }
            values.push(EnumValue { wire: v.value.clone(), variant, description: v.description.clone() });
        }
        out.push(EnumDef { name: e.name.clone(), rust, description: e.description.clone(), values });
    }
    out
}

/// The shapes, in spec order: a shape's fields may use the enums and the shapes declared before
/// it (so no shape can contain itself).
pub(super) fn shapes(c: &mut Checker<'_>, raw: &RawSpec, types: &mut TypeNames, enums: &[EnumDef]) -> Vec<Shape> {
    let mut out: Vec<Shape> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, s) in raw.shapes.iter().enumerate() {
        let path = format!("shapes[{i}]");
        if let Some(prev) = seen.insert(&s.name, i) {
            c.report(
                &format!("{path}.name"),
                format!("duplicate shape `{}`", s.name),
                Some(format!("already declared as shapes[{prev}]")),
            );
        }
        let rust = names::shape(&s.name);
        types.claim(c, &rust, &format!("{path}.name"), &format!("shape `{}`", s.name));
        let fields = fields(c, &s.fields, &format!("{path}.fields"), &Types { enums, shapes: &out });
        out.push(Shape {
            name: s.name.clone(),
            rust,
            element: s.element.clone(),
            description: s.description.clone(),
            fields,
            in_requests: false,
        });
    }
    out
}

pub(super) fn fields(c: &mut Checker<'_>, raw: &[RawField], path: &str, types: &Types<'_>) -> Vec<Field> {
    let mut out = Vec::new();
    let mut wire: HashMap<&str, usize> = HashMap::new();
    let mut rust: HashMap<String, usize> = HashMap::new();
    for (i, f) in raw.iter().enumerate() {
        let fp = format!("{path}[{i}]");
        if f.name == "RequestId" {
            c.report(
                &format!("{fp}.name"),
                "`RequestId` is part of every response already",
                Some("remove this field; the generated types carry RequestId themselves".into()),
            );
            continue;
        }
        if let Some(prev) = wire.insert(&f.name, i) {
            c.report(
                &format!("{fp}.name"),
                format!("duplicate field `{}`", f.name),
                Some(format!("already declared at {path}[{prev}]")),
            );
            continue;
        }
        let r = names::snake(&f.name);
        if let Some(prev) = rust.insert(r.clone(), i) {
            c.report(
                &format!("{fp}.name"),
                format!("field `{}` has the Rust name `{r}`, as {path}[{prev}] does", f.name),
                None,
            );
        }
        let Some(ty) = field_type(c, f, &fp, types) else { continue };
        if f.secret && !matches!(ty, FieldType::Value(ValueType::Scalar(Scalar::String))) {
            c.report(
                &format!("{fp}.secret"),
                format!("field `{}` of type `{}` cannot be secret", f.name, f.ty),
                Some("only `string` fields can be secret (an AccessKey secret, a token)".into()),
            );
        }
        out.push(Field {
            wire: f.name.clone(),
            rust: r,
            ty,
            required: f.required,
            description: f.description.clone(),
            secret: f.secret,
        });
    }
    out
}

/// A field's type: a value, a shape (a nested object), `list<Shape>` (wrapped in the shape's
/// element) or `list<value>` (wrapped in the field's `element`).
pub(super) fn field_type(c: &mut Checker<'_>, f: &RawField, fp: &str, types: &Types<'_>) -> Option<FieldType> {
    let shape = |name: &str| types.shapes.iter().position(|s| s.name == name);
    let inner = f.ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>'));
    let ty = if let Some(v) = types.value(&f.ty) {
        Some(FieldType::Value(v))
    } else if let Some(i) = shape(&f.ty) {
        Some(FieldType::Struct(i))
    } else if let Some(i) = inner.and_then(shape) {
        Some(FieldType::List(i))
    } else if let Some(item) = inner.and_then(|t| types.value(t)) {
        let Some(element) = f.element.clone() else {
            c.report(
                &format!("{fp}.type"),
                format!("list of values `{}` without an `element`", f.ty),
                Some(format!(
                    "name the inner element: `element: {guess}` reads `\"{}\": {{\"{guess}\": [...]}}`",
                    f.name,
                    guess = f.name.trim_end_matches('s')
                )),
            );
            return None;
        };
        let module = names::list_module(&element);
        Some(FieldType::Values { item, element, module })
    } else {
        None
    };
    if ty.is_some() && f.element.is_some() && !matches!(ty, Some(FieldType::Values { .. })) {
        c.report(
            &format!("{fp}.element"),
            format!("`element` on field `{}`, which is not a list of values", f.name),
            Some("a list of shapes is wrapped in the shape's own `element`".into()),
        );
    }
    if ty.is_none() {
        let mut candidates: Vec<String> = Scalar::NAMES.iter().map(|s| s.to_string()).collect();
        candidates.extend(types.enums.iter().map(|e| e.name.clone()));
        candidates.extend(types.shapes.iter().flat_map(|s| [s.name.clone(), format!("list<{}>", s.name)]));
        let hint = did_you_mean(&f.ty, candidates.iter().map(String::as_str)).unwrap_or_else(|| {
            format!("types are {} (a shape must be declared before the shapes that use it)", candidates.join(", "))
        });
        let what = match inner {
            Some(inner) => format!("unknown shape `{inner}` in type `{}`", f.ty),
            None => format!("unknown type `{}`", f.ty),
        };
        c.report(&format!("{fp}.type"), what, Some(hint));
    }
    ty
}
