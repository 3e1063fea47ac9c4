//! One operation: its parameters, its error codes and its pagination.

use std::collections::HashMap;

use super::shapes::fields;
use crate::diagnostics::did_you_mean;
use crate::ir::check::Checker;
use crate::ir::names;
use crate::ir::param;
use crate::ir::types::{ErrorDef, Field, FieldType, Operation, Pagination, Param, Rule, ValueType};
use crate::raw::{RawOperation, RawPagination, RawSpec};
use param::Types;

/// What an operation is resolved against.
pub(super) struct OperationContext<'a> {
    pub(super) raw: &'a RawSpec,
    pub(super) types: Types<'a>,
    pub(super) errors: &'a [ErrorDef],
    pub(super) protocol: &'a [ErrorDef],
}

/// One operation, without its names (the caller sets them); `None` when it has a problem.
pub(super) fn operation(
    c: &mut Checker<'_>,
    ctx: &OperationContext<'_>,
    op: &RawOperation,
    path: &str,
) -> Option<Operation> {
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
