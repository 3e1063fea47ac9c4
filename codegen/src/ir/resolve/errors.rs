//! The error codes: the protocol's, as the runtime declares them, and the spec's own.

use std::collections::HashMap;

use alibaba_rpc_runtime::errors::{ErrorCode as _, ProtocolCode};

use crate::ir::check::{self, Checker};
use crate::ir::names;
use crate::ir::types::ErrorDef;
use crate::raw::RawError;

/// The protocol errors, as the runtime declares them, named as the generator names any code (the
/// runtime's variants are spelled the same way: see the test `protocol_variants_match_the_runtime`).
pub(super) fn protocol_errors() -> Vec<ErrorDef> {
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
pub(super) fn errors(c: &mut Checker<'_>, raw: &[RawError], protocol: &[ErrorDef]) -> Vec<ErrorDef> {
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
