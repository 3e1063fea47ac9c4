//! The command-line crate (optional: the spec's `generation.output.cli`): one `main.rs` holding
//! the table of the operations — names, descriptions, parameters with their types, constraints
//! and codes, the request type each is read into — for the hand-written CLI runtime, which does
//! everything else (flags, credentials, output, exit codes, paging, completions). The spec's
//! common parameters are written once, in the product, not in every operation.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Part, ident, inner_docs, lit};
use crate::ir::{Api, ConstraintKind, Format, Operation, Param, ParamType, Scalar, ValueType};

/// Every file of the command-line crate, as (path under `src/`, tokens).
pub fn files(api: &Api, part: Part) -> Vec<(String, TokenStream)> {
    if part.takes(0) { vec![("main.rs".to_string(), main(api))] } else { Vec::new() }
}

fn main(api: &Api) -> TokenStream {
    let s = &api.service;
    let doc = inner_docs(&format!(
        "The command line of the {product} API (version {version}), generated from the spec: one subcommand per operation, one flag per parameter, as the aliyun CLI takes them. Everything generic is the CLI runtime's; this file holds the operations' table.",
        product = s.product,
        version = s.version,
    ));
    let about = lit(&s.description);
    let ops = api.operations.iter().map(|op| operation(api, op));
    // The common parameters resolve alike in every operation: written once, from the first.
    let common = api.operations.first().map(|op| op.params.iter().filter(|p| p.common)).into_iter().flatten();
    let common = common.map(|p| param(api, p)).collect::<Vec<_>>();
    let common = (!common.is_empty()).then(|| quote! { common_params: &[ #( #common ),* ], });
    quote! {
        #doc
        #![forbid(unsafe_code)]

        fn main() -> ::std::process::ExitCode {
            ::__cli::main(&PRODUCT)
        }

        /// The operations of the API, as the spec describes them.
        static PRODUCT: ::__cli::Product = ::__cli::Product {
            operations: &[ #( #ops ),* ],
            #common
            ..::__cli::Product::new(env!("CARGO_BIN_NAME"), env!("CARGO_PKG_VERSION"), &::__model::SERVICE).about(#about)
        };
    }
}

fn operation(api: &Api, op: &Operation) -> TokenStream {
    let action = lit(&op.name);
    let req = ident(&op.names.request);
    let summary = lit(&op.summary);
    let description = (!op.description.trim().is_empty()).then(|| {
        let d = lit(op.description.trim());
        quote! { .description(#d) }
    });
    let rules: Vec<String> = op
        .rules
        .iter()
        .map(|r| {
            format!(
                "with {}, {} is required, else {}",
                op.params[r.if_given].wire, op.params[r.then_required].wire, r.error.code
            )
        })
        .collect();
    let rules = (!rules.is_empty()).then(|| quote! { .rules(&[ #( #rules ),* ]) });
    let paged = op.pagination.as_ref().map(|pg| {
        let list = lit(&op.response[pg.items].wire);
        let element = lit(&api.shapes[pg.item_shape].element);
        quote! { .paged(::__cli::all_pages::<::__model::#req>, #list, #element) }
    });
    let params = op.params.iter().filter(|p| !p.common).map(|p| param(api, p));
    quote! {
        ::__cli::OperationSpec {
            params: &[ #( #params ),* ],
            ..::__cli::OperationSpec::new(#action, ::__cli::call::<::__model::#req>)
                .summary(#summary)
                #description
                #rules
                #paged
        }
    }
}

fn param(api: &Api, p: &Param) -> TokenStream {
    let wire = lit(&p.wire);
    let value_name = |v: ValueType| match v {
        ValueType::Scalar(s) => scalar_name(s).to_string(),
        ValueType::Enum(i) => api.enums[i].name.clone(),
    };
    let start = match p.ty {
        ParamType::Value(v) => {
            let ty = value_name(v);
            quote! { ::__cli::ParamSpec::value(#wire, #ty) }
        }
        ParamType::List(v) => {
            let ty = format!("list<{}>", value_name(v));
            quote! { ::__cli::ParamSpec::list(#wire, #ty) }
        }
        ParamType::Structs(i) => {
            let shape = &api.shapes[i];
            let ty = format!("list<{}>", shape.name);
            let fields = shape.fields.iter().map(|f| lit(&f.wire));
            quote! { ::__cli::ParamSpec::structs(#wire, #ty, &[ #( #fields ),* ]) }
        }
    };
    let required = p.required.then(|| quote! { .required() });
    let about = (!p.description.trim().is_empty()).then(|| {
        let d = lit(p.description.trim());
        quote! { .about(#d) }
    });
    let values = match p.ty {
        ParamType::Value(ValueType::Enum(i)) | ParamType::List(ValueType::Enum(i)) => {
            let values = api.enums[i].values.iter().map(|v| lit(&v.wire));
            Some(quote! { .values(&[ #( #values ),* ]) })
        }
        _ => None,
    };
    let default = p.default.map(|d| {
        let d = d.to_string();
        quote! { .default(#d) }
    });
    let constraints = constraints(api, p);
    let constraints = (!constraints.is_empty()).then(|| quote! { .constraints(&[ #( #constraints ),* ]) });
    let secret = p.secret.then(|| quote! { .secret() });
    quote! { #start #required #about #values #default #constraints #secret }
}

fn scalar_name(s: Scalar) -> &'static str {
    match s {
        Scalar::String => "string",
        Scalar::Int32 => "int32",
        Scalar::Int64 => "int64",
        Scalar::Bool => "bool",
    }
}

/// The spec's rules of a parameter as sentences, each with the code it raises.
fn constraints(api: &Api, p: &Param) -> Vec<String> {
    let mut out = Vec::new();
    if p.required && p.missing_error.code != api.missing_parameter.code {
        out.push(format!("absent or empty, it raises {}", p.missing_error.code));
    }
    if let Some(empty) = &p.empty_error {
        out.push(format!("sent empty, it raises {}", empty.code));
    }
    if p.type_error.code != api.invalid_parameter.code {
        out.push(format!("a value that is not of its type raises {}", p.type_error.code));
    }
    let bounds = |min: Option<i64>, max: Option<i64>, unit: &str| match (min, max) {
        (Some(a), Some(b)) => format!("{a} to {b}{unit}"),
        (Some(a), None) => format!("at least {a}{unit}"),
        (None, Some(b)) => format!("at most {b}{unit}"),
        (None, None) => format!("any number{unit}"),
    };
    for c in &p.constraints {
        let text = match &c.kind {
            ConstraintKind::Range { min, max } => bounds(*min, *max, ""),
            ConstraintKind::Length { min, max } => bounds(*min, *max, " characters"),
            ConstraintKind::Count { min, max } => bounds(*min, *max, " items"),
            ConstraintKind::Pattern { regex, .. } => format!("matches {regex}"),
            ConstraintKind::Format(Format::Email) => "an e-mail address".to_string(),
            ConstraintKind::Format(Format::PrivateIpv4) => {
                "a private IPv4 address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)".to_string()
            }
        };
        out.push(format!("{text}, else {}", c.error.code));
    }
    out
}
