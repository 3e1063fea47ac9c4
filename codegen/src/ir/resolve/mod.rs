//! From the raw spec to the IR: every section in turn, each piece checked (through
//! [`check`]) and named (through [`names`]) as it is built.
//! A piece with a problem is left out of the IR and its problem reported; [`resolve`] returns
//! the IR only when there is none.
//!
//! The sections live in submodules: [`errors`] (the declared codes and the protocol's),
//! [`shapes`] (enums, response shapes and their fields) and [`operations`] (each operation, its
//! parameters, errors and pagination).

mod errors;
mod operations;
mod shapes;

use std::collections::HashMap;

use alibaba_rpc_runtime::errors::ProtocolCode;

use super::check::{self, Checker, TypeNames};
use super::names;
use super::param;
use super::types::{Api, ErrorRef, Generation, ParamType, Service};
use crate::diagnostics::Diagnostics;
use crate::raw::RawSpec;
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
    let protocol_errors = errors::protocol_errors();
    let errors = errors::errors(&mut c, &raw.errors, &protocol_errors);

    let mut types = TypeNames::new(names::RESERVED_TYPES);
    let enums = shapes::enums(&mut c, &raw, &mut types);
    let mut shapes = shapes::shapes(&mut c, &raw, &mut types, &enums);

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
        let ctx = operations::OperationContext {
            raw: &raw,
            types: Types { enums: &enums, shapes: &shapes },
            errors: &errors,
            protocol: &protocol_errors,
        };
        if let Some(mut o) = operations::operation(&mut c, &ctx, op, &path) {
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
