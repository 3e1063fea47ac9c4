//! From the raw spec to the IR: every section in turn, each piece checked (through
//! [`check`](super::check)) and named (through [`names`](super::names)) as it is built.
//! A piece with a problem is left out of the IR and its problem reported; [`resolve`] returns
//! the IR only when there is none.

use std::collections::HashMap;

use alibaba_rpc_runtime::errors::{ErrorCode as _, ProtocolCode};

use super::check::{self, Checker, TypeNames};
use super::names;
use super::param;
use super::types::{
    Api, EnumDef, EnumValue, ErrorDef, ErrorRef, Field, FieldType, Generation, Operation, Pagination, Param, ParamType,
    Rule, Scalar, Service, Shape, ValueType,
};
use crate::diagnostics::{Diagnostics, did_you_mean};
use crate::raw::{RawError, RawField, RawOperation, RawPagination, RawSpec};
use crate::source_map::SourceMap;
use param::Types;

/// Checks a deserialized spec and resolves it into the IR, reporting every problem at once.
pub(crate) fn resolve(raw: RawSpec, file: &str, map: &SourceMap<'_>) -> Result<Api, Diagnostics> {
    let mut c = Checker::new(file, map);
    check::service(&mut c, &raw.service);
    let s = &raw.service;
    let service = Service {
        product: s.product.clone(),
        version: s.version.clone(),
        endpoint: s.endpoint.clone(),
        host_id: s.host_id.clone(),
        description: s.description.clone(),
    };

    check::generation(&mut c, &raw.generation);
    let g = &raw.generation;
    let generation = Generation {
        runtime_crate: g.runtime_crate.clone(),
        model_crate: g.model_crate.clone(),
        client_crate: g.client_crate.clone(),
        model_dir: g.output.model.clone(),
        client_dir: g.output.client.clone(),
        server_dir: g.output.server.clone(),
        cli_runtime_crate: g.cli_runtime_crate.clone().unwrap_or_else(|| "alibaba_rpc_cli".to_string()),
        cli_dir: g.output.cli.clone(),
    };

    if raw.protocol_errors.is_some() {
        c.report(
            "protocol_errors",
            "a spec does not declare protocol errors: every product answers the same ones",
            Some(
                "delete this section; the runtime declares them once (`alibaba_rpc_runtime::errors::ProtocolCode`), \
                 and the spec's `errors:` holds its operations' own codes"
                    .into(),
            ),
        );
    }
    let protocol_errors = protocol_errors();
    let errors = errors(&mut c, &raw.errors, &protocol_errors);

    let mut types = TypeNames::new(names::RESERVED_TYPES);
    let enums = enums(&mut c, &raw, &mut types);
    let mut shapes = shapes(&mut c, &raw, &mut types, &enums);

    let mut operations = Vec::new();
    let mut seen_ops: HashMap<String, usize> = HashMap::new();
    let mut methods: HashMap<String, usize> = HashMap::new();
    if raw.operations.is_empty() {
        c.report(
            "operations",
            "the spec declares no operation",
            Some("add at least one entry under `operations:`".into()),
        );
    }
    for (i, op) in raw.operations.iter().enumerate() {
        let path = format!("operations[{i}]");
        if let Some(prev) = seen_ops.insert(op.name.clone(), i) {
            c.report(
                &format!("{path}.name"),
                format!("duplicate operation `{}`", op.name),
                Some(format!("it is already declared as operations[{prev}]; rename or remove one")),
            );
            continue;
        }
        if !check::is_upper_camel_word(&op.name) {
            c.report(
                &format!("{path}.name"),
                format!("operation name `{}` is not an UpperCamelCase action name", op.name),
                Some("use letters and digits only, starting with an uppercase letter, e.g. `CreateThing`".into()),
            );
        }
        let op_names = names::operation(&op.name);
        for ty in names::operation_types(&op_names) {
            types.claim(&mut c, ty, &format!("{path}.name"), &format!("operation `{}`", op.name));
        }
        if let Some(prev) = methods.insert(op_names.method.clone(), i) {
            c.report(
                &format!("{path}.name"),
                format!(
                    "operation `{}` gives the method name `{}`, as operations[{prev}] does",
                    op.name, op_names.method
                ),
                Some("rename one of the operations".into()),
            );
        }
        let ctx = OperationContext {
            raw: &raw,
            types: Types { enums: &enums, shapes: &shapes },
            errors: &errors,
            protocol: &protocol_errors,
        };
        if let Some(mut o) = operation(&mut c, &ctx, op, &path) {
            o.names = op_names;
            operations.push(o);
        }
    }

    let diags = Diagnostics(c.out).finish();
    if !diags.is_empty() {
        return Err(diags);
    }
    for p in operations.iter().flat_map(|o| &o.params) {
        if let ParamType::Structs(i) = p.ty {
            shapes[i].in_requests = true;
        }
    }
    let trait_name = names::trait_name(&service.product);
    let operations_trait_name = names::operations_trait_name(&service.product);
    let (missing_parameter, invalid_parameter) =
        (ErrorRef::protocol(ProtocolCode::MissingParameter), ErrorRef::protocol(ProtocolCode::InvalidParameter));
    Ok(Api {
        service,
        generation,
        protocol_errors,
        errors,
        enums,
        shapes,
        operations,
        trait_name,
        operations_trait_name,
        missing_parameter,
        invalid_parameter,
    })
}

/// The protocol errors, as the runtime declares them, named as the generator names any code (the
/// runtime's variants are spelled the same way: see the test `protocol_variants_match_the_runtime`).
fn protocol_errors() -> Vec<ErrorDef> {
    ProtocolCode::DECLARED
        .iter()
        .map(|code| {
            let spec = code.spec();
            ErrorDef {
                code: spec.code.to_owned(),
                constant: names::error_constant(spec.code),
                variant: names::variant(spec.code),
                status: spec.status,
                message: spec.message.to_owned(),
                when: String::new(),
                retryable: spec.retryable,
                not_produced: None,
            }
        })
        .collect()
}

/// The spec's error declarations (`errors:`), each distinct from the others and from the
/// protocol errors.
fn errors(c: &mut Checker<'_>, raw: &[RawError], protocol: &[ErrorDef]) -> Vec<ErrorDef> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut variants: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let path = format!("errors[{i}]");
        if protocol.iter().any(|p| p.code == e.code) {
            c.report(
                &format!("{path}.code"),
                format!("`{}` is a protocol error, which every operation answers already", e.code),
                Some("delete this entry; the runtime declares it (`alibaba_rpc_runtime::errors::ProtocolCode`)".into()),
            );
            continue;
        }
        if let Some(prev) = seen.insert(&e.code, i) {
            c.report(
                &format!("{path}.code"),
                format!("duplicate error code `{}`", e.code),
                Some(format!("it is already declared as errors[{prev}]; each code is declared once")),
            );
            continue;
        }
        check::error(c, e, &path);
        let variant = names::variant(&e.code);
        if names::RESERVED_VARIANTS.contains(&variant.as_str()) {
            c.report(
                &format!("{path}.code"),
                format!(
                    "error code `{}` would generate the variant `{variant}`, which the client error enum uses itself",
                    e.code
                ),
                Some("rename the code".into()),
            );
        }
        if let Some(prev) = variants.insert(variant.clone(), e.code.clone()) {
            c.report(
                &format!("{path}.code"),
                format!("error codes `{prev}` and `{}` both become the variant `{variant}`", e.code),
                None,
            );
        }
        out.push(ErrorDef {
            code: e.code.clone(),
            constant: names::error_constant(&e.code),
            variant,
            status: e.status,
            message: e.message.clone(),
            when: e.when.clone(),
            retryable: e.retryable,
            not_produced: e.not_produced.clone(),
        });
    }
    out
}

/// The enums: each a type name of its own, with values that are distinct and give distinct
/// variants.
fn enums(c: &mut Checker<'_>, raw: &RawSpec, types: &mut TypeNames) -> Vec<EnumDef> {
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
fn shapes(c: &mut Checker<'_>, raw: &RawSpec, types: &mut TypeNames, enums: &[EnumDef]) -> Vec<Shape> {
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

fn fields(c: &mut Checker<'_>, raw: &[RawField], path: &str, types: &Types<'_>) -> Vec<Field> {
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
fn field_type(c: &mut Checker<'_>, f: &RawField, fp: &str, types: &Types<'_>) -> Option<FieldType> {
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

/// What an operation is resolved against.
struct OperationContext<'a> {
    raw: &'a RawSpec,
    types: Types<'a>,
    errors: &'a [ErrorDef],
    protocol: &'a [ErrorDef],
}

/// One operation, without its names (the caller sets them); `None` when it has a problem.
fn operation(c: &mut Checker<'_>, ctx: &OperationContext<'_>, op: &RawOperation, path: &str) -> Option<Operation> {
    let before = c.count();
    let anonymous = match op.auth.as_deref() {
        None | Some("signed") => false,
        Some("none") => true,
        Some(other) => {
            c.report(
                &format!("{path}.auth"),
                format!("unknown auth `{other}` for operation `{}`", op.name),
                did_you_mean(other, ["signed", "none"]).or_else(|| {
                    Some("use `signed` (an AccessKey signature, the default) or `none` (an anonymous call)".into())
                }),
            );
            false
        }
    };
    // The operation's own codes.
    let mut own: Vec<usize> = Vec::new();
    for (i, code) in op.errors.iter().enumerate() {
        let ep = format!("{path}.errors[{i}]");
        let index = ctx.errors.iter().position(|e| &e.code == code);
        if index.is_some_and(|i| own.contains(&i)) {
            c.report(&ep, format!("`{code}` is listed twice"), None);
        } else if ctx.protocol.iter().any(|e| &e.code == code) {
            c.report(
                &ep,
                format!("`{code}` is a protocol error, which every operation answers already"),
                Some("remove it from the operation's list".into()),
            );
        } else if let Some(i) = index {
            own.push(i);
        } else {
            c.report(
                &ep,
                format!("error code `{code}` is not declared"),
                did_you_mean(code, ctx.errors.iter().map(|e| e.code.as_str()))
                    .or_else(|| Some("declare it under `errors:`".into())),
            );
        }
    }
    let declared: Vec<&ErrorDef> = own.iter().map(|i| &ctx.errors[*i]).chain(ctx.protocol).collect();
    let scope = param::ErrorScope::new(&op.name, &declared);

    let mut params = Vec::new();
    // Names declared but broken: later references to them are not reported again.
    let mut broken: Vec<String> = Vec::new();
    let mut wire_seen: HashMap<&str, String> = HashMap::new();
    let mut rust_seen: HashMap<String, String> = HashMap::new();
    let all =
        op.parameters.iter().enumerate().map(|(i, p)| (format!("{path}.parameters[{i}]"), p, false)).chain(
            ctx.raw.common_parameters.iter().enumerate().map(|(i, p)| (format!("common_parameters[{i}]"), p, true)),
        );
    for (pp, p, common) in all {
        if let Some(prev) = wire_seen.insert(&p.name, pp.clone()) {
            c.report(
                &format!("{pp}.name"),
                format!("duplicate parameter `{}` in operation `{}`", p.name, op.name),
                Some(format!("it is already declared at {prev}")),
            );
            continue;
        }
        let Some(param) = param::resolve(c, p, &pp, &scope, &ctx.types) else {
            broken.push(p.name.clone());
            continue;
        };
        let param = Param { common, ..param };
        if let Some(prev) = rust_seen.insert(param.rust.clone(), pp.clone()) {
            c.report(
                &format!("{pp}.name"),
                format!("parameter `{}` has the Rust name `{}`, as {prev} does", p.name, param.rust),
                Some("set `rust_name:` on one of them".into()),
            );
        }
        params.push(param);
    }
    for (n, p) in params.iter_mut().filter(|p| p.required).enumerate() {
        p.type_state = names::type_state(n + 1);
    }

    let mut rules = Vec::new();
    for (i, r) in op.rules.iter().enumerate() {
        let rp = format!("{path}.rules[{i}]");
        let find = |name: &str| params.iter().position(|p: &Param| p.wire == name);
        let names: Vec<&str> = params.iter().map(|p| p.wire.as_str()).collect();
        let mut side = |key: &str, name: &str| {
            let found = find(name);
            if found.is_none() {
                c.report(
                    &format!("{rp}.requires.{key}"),
                    format!("rule names `{name}`, which is not a parameter of `{}`", op.name),
                    did_you_mean(name, names.iter().copied()),
                );
            }
            found
        };
        let a = side("if", &r.requires.if_given);
        let b = side("then", &r.requires.then_required);
        let error = scope.error(c, &format!("{rp}.error"), &r.error);
        if let (Some(a), Some(b), Some(error)) = (a, b, error) {
            rules.push(Rule { if_given: a, then_required: b, error });
        }
    }

    let response = fields(c, &op.response, &format!("{path}.response"), &ctx.types);
    broken.extend(op.response.iter().filter(|f| !response.iter().any(|r| r.wire == f.name)).map(|f| f.name.clone()));

    let pagination = op
        .pagination
        .as_ref()
        .and_then(|pg| pagination(c, pg, &format!("{path}.pagination"), &op.name, &params, &response, &broken));

    if c.count() > before {
        return None;
    }
    Some(Operation {
        name: op.name.clone(),
        names: names::operation(&op.name),
        summary: op.summary.clone(),
        description: op.description.clone(),
        idempotent: op.idempotent,
        anonymous,
        params,
        rules,
        response,
        errors: own,
        pagination,
    })
}

fn pagination(
    c: &mut Checker<'_>,
    pg: &RawPagination,
    pgp: &str,
    op: &str,
    params: &[Param],
    response: &[Field],
    broken: &[String],
) -> Option<Pagination> {
    let param = |c: &mut Checker<'_>, key: &str, name: &str| -> Option<usize> {
        match params.iter().position(|p| p.wire == name) {
            Some(i) if params[i].ty.scalar().is_some_and(|s| s.is_integer()) => Some(i),
            Some(_) => {
                c.report(&format!("{pgp}.{key}"), format!("pagination parameter `{name}` is not an integer"), None);
                None
            }
            None if broken.iter().any(|b| b == name) => None,
            None => {
                c.report(
                    &format!("{pgp}.{key}"),
                    format!("pagination names the parameter `{name}`, which `{op}` does not have"),
                    did_you_mean(name, params.iter().map(|p| p.wire.as_str())),
                );
                None
            }
        }
    };
    let pn = param(c, "page_number", &pg.page_number);
    let ps = param(c, "page_size", &pg.page_size);
    let field = |c: &mut Checker<'_>, key: &str, name: &str, want_list: bool| -> Option<usize> {
        match response.iter().position(|f| f.wire == name) {
            Some(i) => {
                let ok = match response[i].ty {
                    FieldType::List(_) => want_list,
                    FieldType::Value(ValueType::Scalar(s)) => !want_list && s.is_integer(),
                    _ => false,
                };
                if !ok {
                    let want = if want_list { "a list" } else { "an integer" };
                    c.report(&format!("{pgp}.{key}"), format!("pagination field `{name}` is not {want}"), None);
                    return None;
                }
                Some(i)
            }
            None if broken.iter().any(|b| b == name) => None,
            None => {
                c.report(
                    &format!("{pgp}.{key}"),
                    format!("pagination names the response field `{name}`, which `{op}` does not have"),
                    did_you_mean(name, response.iter().map(|f| f.wire.as_str())),
                );
                None
            }
        }
    };
    let tc = field(c, "total_count", &pg.total_count, false);
    let it = field(c, "items", &pg.items, true);
    let max_page_size = ps.and_then(|i| params[i].max());
    if let Some(i) = ps
        && max_page_size.is_none()
    {
        c.report(
            &format!("{pgp}.page_size"),
            format!("page-size parameter `{}` has no maximum", params[i].wire),
            Some("add `range: { min: 1, max: N }` so that listing every page uses bounded pages".into()),
        );
    }
    let items = it?;
    let FieldType::List(item_shape) = response[items].ty else { return None };
    Some(Pagination {
        page_number: pn?,
        page_size: ps?,
        total_count: tc?,
        items,
        item_shape,
        max_page_size: max_page_size?,
    })
}
