//! The model crate (`generated-model`): service metadata, protocol errors, shapes, and per
//! operation the request (with its typestate builder and its checks), the response and the error
//! codes. Shared by the client and the server, so one definition of "valid" serves both.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{docs, docs2, field_type, ident as to_ident, inner_docs, lit, scalar_type};
use crate::ir::check::PROTOCOL_ROLES;
use crate::ir::names;
use crate::ir::{Api, ConstraintKind, ErrorDef, ErrorRef, FieldType, Format, Operation, Param, Scalar, Shape};

/// Every file of the model crate, as (path under `src/`, tokens).
pub fn files(api: &Api) -> Vec<(String, TokenStream)> {
    let mut out = vec![
        ("lib.rs".to_string(), lib(api)),
        ("codes.rs".to_string(), codes(api)),
        ("protocol.rs".to_string(), protocol(api)),
        ("shapes.rs".to_string(), shapes(api)),
        ("operations/mod.rs".to_string(), operations_mod(api)),
    ];
    for op in &api.operations {
        out.push((format!("operations/{}.rs", names::bare(&op.names.module)), operation(api, op)));
    }
    out
}

fn lib(api: &Api) -> TokenStream {
    let s = &api.service;
    let doc = inner_docs(&format!(
        "The request, response and error-code types of the {} API (version {}), shared by the generated client and server.\n\n{}\n\nEvery request type has a typestate builder (leaving out a required parameter does not compile) and implements [`Operation`]: `validate` checks the spec's constraints and reports every violation with the spec's own error code.",
        s.product, s.version, s.description
    ));
    quote! {
        #doc
        #![forbid(unsafe_code)]
        #![deny(missing_docs)]

        pub mod codes;
        pub mod operations;
        pub mod protocol;
        pub mod shapes;

        pub use codes::ProtocolCode;
        pub use operations::*;
        pub use protocol::{HOST_ID, PROTOCOL_ERRORS, SERVICE};
        pub use shapes::*;
        pub use __runtime::operation::Operation;
        pub use __runtime::errors::ErrorCode;
    }
}

/// The one-line rustdoc of a code: wire code, status, and when it is answered.
fn code_doc(e: &ErrorDef) -> TokenStream {
    docs(&format!("`{}` (HTTP {}): {}", e.code, e.status, e.when.trim()))
}

fn codes(api: &Api) -> TokenStream {
    let consts = api.protocol_errors.iter().chain(&api.errors).map(|e| {
        let (name, code, message) = (to_ident(&e.constant), lit(&e.code), lit(&e.message));
        let status = Literal::u16_unsuffixed(e.status);
        let doc = code_doc(e);
        let new = if e.retryable { quote! { new_retryable } } else { quote! { new } };
        quote! {
            #doc
            pub const #name: ::__runtime::errors::ErrorSpec = ::__runtime::errors::ErrorSpec::#new(#code, #status, #message);
        }
    });
    let variants = api.protocol_errors.iter().map(|e| {
        let (v, doc) = (to_ident(&e.variant), code_doc(e));
        quote! { #doc #v }
    });
    let declared = api.protocol_errors.iter().map(|e| to_ident(&e.variant));
    let arms = api.protocol_errors.iter().map(|e| {
        let (v, c) = (to_ident(&e.variant), to_ident(&e.constant));
        quote! { Self::#v => &#c }
    });
    quote! {
        //! Every error code of the API, declared once: its wire code, HTTP status, message and
        //! retryability. Each operation's code enum refers to these; [`ProtocolCode`] holds the
        //! protocol errors every operation can answer.

        #( #consts )*

        /// The protocol errors every operation can answer (authentication, throttling, server
        /// failures), each operation's code enum holding them as its `Protocol` variant.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProtocolCode {
            #( #variants, )*
        }

        impl ::__runtime::errors::ErrorCode for ProtocolCode {
            const DECLARED: &'static [Self] = &[ #( Self::#declared ),* ];

            fn spec(&self) -> &'static ::__runtime::errors::ErrorSpec {
                match self { #( #arms, )* }
            }
        }

        impl ::core::fmt::Display for ProtocolCode {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::__runtime::errors::ErrorCode::code(self))
            }
        }
    }
}

fn protocol(api: &Api) -> TokenStream {
    let s = &api.service;
    let (product, version, endpoint, host) = (lit(&s.product), lit(&s.version), lit(&s.endpoint), lit(&s.host_id));
    let roles = PROTOCOL_ROLES.iter().filter_map(|(role, _)| {
        let e = api.role(role)?;
        let field = format_ident!("{}", role);
        let constant = to_ident(&e.constant);
        Some(quote! { #field: crate::codes::#constant })
    });
    let service_doc = docs(&format!("The {} service: product code, API version and endpoint pattern.", s.product));
    quote! {
        //! Service metadata and the protocol errors every operation shares.

        #service_doc
        pub static SERVICE: ::__runtime::operation::ServiceInfo = ::__runtime::operation::ServiceInfo {
            product: #product,
            version: #version,
            endpoint_pattern: #endpoint,
        };

        /// The `HostId` a server of this API answers in its error envelopes.
        pub const HOST_ID: &str = #host;

        /// The code, HTTP status and message the protocol layer answers for each failure it detects.
        pub static PROTOCOL_ERRORS: ::__runtime::errors::ProtocolErrors = ::__runtime::errors::ProtocolErrors {
            #( #roles, )*
        };
    }
}

fn shapes(api: &Api) -> TokenStream {
    let items = api.shapes.iter().map(|s| shape(api, s));
    quote! {
        //! Structures that responses are made of.
        #( #items )*
    }
}

fn shape(api: &Api, s: &Shape) -> TokenStream {
    let name = to_ident(&s.rust);
    let doc = if s.description.trim().is_empty() {
        docs(&format!("The `{}` structure.", s.name))
    } else {
        docs(&s.description)
    };
    let element = lit(&s.element);
    let fields = s.fields.iter().map(|f| response_field(api, &f.wire, &f.rust, &f.ty, f.required, &f.description));
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Default, ::serde::Serialize, ::serde::Deserialize)]
        pub struct #name {
            #( #fields, )*
        }

        impl ::__runtime::operation::ListItem for #name {
            const ELEMENT: &'static str = #element;
        }
    }
}

fn response_field(api: &Api, wire: &str, rust: &str, ty: &FieldType, required: bool, description: &str) -> TokenStream {
    let doc = if description.trim().is_empty() { docs(&format!("`{wire}`.")) } else { docs(description) };
    let ident = to_ident(rust);
    let wire = lit(wire);
    let t = field_type(ty, &api.shapes);
    let with = lit(&format!("{}::wrapped_list", api.generation.runtime_crate));
    match ty {
        FieldType::List(_) => quote! {
            #doc
            #[serde(rename = #wire, default, with = #with)]
            pub #ident: #t
        },
        FieldType::Scalar(_) if required => quote! {
            #doc
            #[serde(rename = #wire, default)]
            pub #ident: #t
        },
        FieldType::Scalar(_) => quote! {
            #doc
            #[serde(rename = #wire, default, skip_serializing_if = "::core::option::Option::is_none")]
            pub #ident: ::core::option::Option<#t>
        },
    }
}

fn operations_mod(api: &Api) -> TokenStream {
    let mods = api.operations.iter().map(|op| {
        let m = to_ident(&op.names.module);
        let doc = docs(&format!("`{}`: {}", op.name, op.summary));
        quote! {
            #doc
            pub mod #m;
            pub use #m::*;
        }
    });
    quote! {
        //! One module per operation.
        #( #mods )*
    }
}

struct Names {
    request: proc_macro2::Ident,
    builder: proc_macro2::Ident,
    response: proc_macro2::Ident,
    code: proc_macro2::Ident,
}

fn type_names(op: &Operation) -> Names {
    Names {
        request: to_ident(&op.names.request),
        builder: to_ident(&op.names.builder),
        response: to_ident(&op.names.response),
        code: to_ident(&op.names.error_code),
    }
}

fn param_type(p: &Param) -> TokenStream {
    let t = scalar_type(p.ty);
    if p.required {
        t
    } else {
        quote! { ::core::option::Option<#t> }
    }
}

fn operation(api: &Api, op: &Operation) -> TokenStream {
    let n = type_names(op);
    let request = request_struct(op, &n);
    let builder = builder(op, &n);
    let response = response_struct(api, op, &n);
    let codes = error_codes(api, op, &n);
    let operation_impl = operation_impl(api, op, &n);
    let patterns = patterns(op);
    let header = docs(&format!("`{}`: {}", op.name, op.summary)).to_string();
    let _ = header;
    quote! {
        #request
        #builder
        #operation_impl
        #response
        #codes
        #patterns
    }
}

fn request_struct(op: &Operation, n: &Names) -> TokenStream {
    let Names { request, builder, .. } = n;
    let doc = docs2(&format!("The parameters of `{}`: {}", op.name, op.summary), &op.description);
    let fields = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let t = param_type(p);
        let mut text = format!("`{}`{}: {}", p.wire, if p.required { " (required)" } else { "" }, p.description.trim());
        if let Some(d) = p.default {
            text.push_str(&format!("\n\nThe server assumes {d} when it is not given."));
        }
        let doc = docs(&text);
        quote! { #doc pub #ident: #t }
    });
    let debug_name = lit(&request.to_string());
    let debug_fields = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let name = lit(names::bare(&p.rust));
        match (p.secret, p.required) {
            (true, true) => quote! { .field(#name, &"***") },
            (true, false) => quote! { .field(#name, &self.#ident.as_ref().map(|_| "***")) },
            (false, _) => quote! { .field(#name, &self.#ident) },
        }
    });
    let defaults = op.params.iter().filter_map(|p| {
        let d = p.default?;
        let ident = to_ident(&p.rust);
        let getter = to_ident(&p.default_getter);
        let t = scalar_type(p.ty);
        let value = Literal::i64_unsuffixed(d);
        let doc = docs(&format!("`{}`, or {d}, the value the server assumes when it is not given.", p.wire));
        Some(quote! {
            #doc
            pub fn #getter(&self) -> #t {
                self.#ident.unwrap_or(#value)
            }
        })
    });
    let builder_doc = docs(&format!(
        "Starts a [`{builder}`]: set every required parameter (the builder does not offer `build()` before), then any optional ones."
    ));
    quote! {
        #doc
        #[derive(Clone, PartialEq, Eq)]
        pub struct #request {
            #( #fields, )*
        }

        impl ::core::fmt::Debug for #request {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#debug_name)
                    #( #debug_fields )*
                    .finish()
            }
        }

        impl #request {
            #builder_doc
            pub fn builder() -> #builder {
                #builder::default()
            }
            #( #defaults )*
        }
    }
}

fn setter_arg(p: &Param) -> (TokenStream, TokenStream) {
    match p.ty {
        Scalar::String => (quote! { impl ::core::convert::Into<::std::string::String> }, quote! { value.into() }),
        _ => (scalar_type(p.ty), quote! { value }),
    }
}

fn builder(op: &Operation, n: &Names) -> TokenStream {
    let Names { request, builder, .. } = n;
    let required: Vec<&Param> = op.params.iter().filter(|p| p.required).collect();
    let generics: Vec<proc_macro2::Ident> = required.iter().map(|p| to_ident(&p.type_state)).collect();
    let missing = quote! { ::__runtime::typestate::Missing };
    let doc = docs(&format!(
        "Builds a [`{request}`]. Each required parameter's type parameter is `Missing` until its setter is called; `build()` exists once all are set, so a forgotten required parameter is a compile error."
    ));
    let fields = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        match required.iter().position(|r| r.wire == p.wire) {
            Some(i) => {
                let g = &generics[i];
                quote! { #ident: #g }
            }
            None => {
                let t = param_type(p);
                quote! { #ident: #t }
            }
        }
    });
    let struct_generics = if generics.is_empty() {
        quote! {}
    } else {
        quote! { < #( #generics = #missing ),* > }
    };
    let default_fields = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        if p.required {
            quote! { #ident: #missing }
        } else {
            quote! { #ident: ::core::option::Option::None }
        }
    });

    let required_setters = required.iter().enumerate().map(|(i, p)| {
        let others: Vec<&proc_macro2::Ident> =
            generics.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, g)| g).collect();
        let before: Vec<TokenStream> = generics
            .iter()
            .enumerate()
            .map(|(j, g)| {
                if j == i {
                    missing.clone()
                } else {
                    quote! { #g }
                }
            })
            .collect();
        let (arg, conv) = setter_arg(p);
        let t = scalar_type(p.ty);
        let after: Vec<TokenStream> = generics
            .iter()
            .enumerate()
            .map(|(j, g)| {
                if j == i {
                    quote! { ::__runtime::typestate::Set<#t> }
                } else {
                    quote! { #g }
                }
            })
            .collect();
        let ident = to_ident(&p.rust);
        let moves = op.params.iter().map(|q| {
            let qi = to_ident(&q.rust);
            if q.wire == p.wire {
                quote! { #qi: ::__runtime::typestate::Set(#conv) }
            } else {
                quote! { #qi: self.#qi }
            }
        });
        let doc = docs(&format!("Sets `{}` (required): {}", p.wire, p.description.trim()));
        quote! {
            impl< #( #others ),* > #builder< #( #before ),* > {
                #doc
                pub fn #ident(self, value: #arg) -> #builder< #( #after ),* > {
                    #builder { #( #moves, )* }
                }
            }
        }
    });
    let all_generics = if generics.is_empty() {
        quote! {}
    } else {
        quote! { < #( #generics ),* > }
    };
    let optional_setters = op.params.iter().filter(|p| !p.required).map(|p| {
        let ident = to_ident(&p.rust);
        let (arg, conv) = setter_arg(p);
        let doc = docs(&format!("Sets `{}` (optional): {}", p.wire, p.description.trim()));
        quote! {
            #doc
            pub fn #ident(mut self, value: #arg) -> Self {
                self.#ident = ::core::option::Option::Some(#conv);
                self
            }
        }
    });
    let bounds = required.iter().zip(&generics).map(|(p, g)| {
        let t = scalar_type(p.ty);
        quote! { #g: ::__runtime::typestate::Provided<#t> }
    });
    let takes = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        if p.required {
            quote! { #ident: ::__runtime::typestate::Provided::take(self.#ident) }
        } else {
            quote! { #ident: self.#ident }
        }
    });
    let build_doc = docs(&format!(
        "The finished [`{request}`]. Its constraints are checked when it is sent (or with `Operation::validate`)."
    ));
    let debug_name = lit(&builder.to_string());
    quote! {
        #doc
        #[must_use = "a builder does nothing until `build()` is called"]
        pub struct #builder #struct_generics {
            #( #fields, )*
        }

        impl ::core::default::Default for #builder {
            fn default() -> Self {
                #builder { #( #default_fields, )* }
            }
        }

        impl #all_generics ::core::fmt::Debug for #builder #all_generics {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#debug_name).finish_non_exhaustive()
            }
        }

        #( #required_setters )*

        impl #all_generics #builder #all_generics {
            #( #optional_setters )*
        }

        impl< #( #bounds ),* > #builder #all_generics {
            #build_doc
            pub fn build(self) -> #request {
                #request { #( #takes, )* }
            }
        }
    }
}

fn response_struct(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { response, .. } = n;
    let doc = docs(&format!("What `{}` answers.", op.name));
    let fields = op.response.iter().map(|f| response_field(api, &f.wire, &f.rust, &f.ty, f.required, &f.description));
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Default, ::serde::Serialize, ::serde::Deserialize)]
        pub struct #response {
            /// The ID of the request, as the server answered it (set by the server's runtime).
            #[serde(rename = "RequestId", default)]
            pub request_id: ::std::string::String,
            #( #fields, )*
        }
    }
}

fn error_codes(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { code, .. } = n;
    let own: Vec<&ErrorDef> = api.operation_errors(op).collect();
    let doc = docs(&format!(
        "The error codes of `{}`: the {} it declares, and the protocol codes every operation shares.",
        op.name,
        own.len()
    ));
    let variants = own.iter().map(|e| {
        let (v, doc) = (to_ident(&e.variant), code_doc(e));
        quote! { #doc #v }
    });
    let declared = own.iter().map(|e| to_ident(&e.variant));
    let arms = own.iter().map(|e| {
        let (v, c) = (to_ident(&e.variant), to_ident(&e.constant));
        quote! { Self::#v => &crate::codes::#c }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum #code {
            #( #variants, )*
            /// A protocol error, which every operation can answer.
            Protocol(crate::codes::ProtocolCode),
        }

        impl ::__runtime::errors::ErrorCode for #code {
            const DECLARED: &'static [Self] = &[ #( Self::#declared ),* ];

            fn spec(&self) -> &'static ::__runtime::errors::ErrorSpec {
                match self {
                    #( #arms, )*
                    Self::Protocol(code) => code.spec(),
                }
            }

            fn shared(code: &str) -> ::core::option::Option<Self> {
                ::__runtime::errors::ErrorCode::from_code(code).map(Self::Protocol)
            }
        }

        impl ::core::convert::From<crate::codes::ProtocolCode> for #code {
            fn from(code: crate::codes::ProtocolCode) -> Self {
                Self::Protocol(code)
            }
        }

        impl ::core::fmt::Display for #code {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::__runtime::errors::ErrorCode::code(self))
            }
        }
    }
}

fn patterns(op: &Operation) -> TokenStream {
    let statics = op.params.iter().flat_map(|p| {
        p.constraints.iter().filter_map(move |k| match &k.kind {
            ConstraintKind::Pattern { regex: re, name } => {
                let ident = to_ident(name);
                let re = lit(re);
                let doc = docs(&format!("The pattern `{}` must match.", p.wire));
                Some(quote! {
                    #doc
                    static #ident: ::__runtime::validate::Pattern = ::__runtime::validate::Pattern::new(#re);
                })
            }
            _ => None,
        })
    });
    quote! { #( #statics )* }
}

/// The condition under which one constraint is broken, for the value bound as `value`.
fn violates(kind: &ConstraintKind) -> TokenStream {
    let int = |v: i64| Literal::i64_unsuffixed(v);
    let size = |v: i64| Literal::usize_unsuffixed(usize::try_from(v.max(0)).unwrap_or(usize::MAX));
    match kind {
        ConstraintKind::Range { min, max } => outside(quote! { value }, min.map(int), max.map(int)),
        ConstraintKind::Length { min, max } => {
            outside(quote! { ::__runtime::validate::char_len(value) }, min.map(size), max.map(size))
        }
        ConstraintKind::Pattern { name, .. } => {
            let ident = to_ident(name);
            quote! { !#ident.is_match(value) }
        }
        ConstraintKind::Format(Format::Email) => quote! { !::__runtime::validate::is_email(value) },
        ConstraintKind::Format(Format::PrivateIpv4) => quote! { !::__runtime::validate::is_private_ipv4(value) },
    }
}

fn outside(subject: TokenStream, min: Option<Literal>, max: Option<Literal>) -> TokenStream {
    match (min, max) {
        (Some(lo), Some(hi)) => quote! { !(#lo..=#hi).contains(&#subject) },
        (Some(lo), None) => quote! { #subject < #lo },
        (None, Some(hi)) => quote! { #subject > #hi },
        (None, None) => quote! { false },
    }
}

/// One parameter's constraints grouped by the code they raise (one violation per code at
/// most): the condition under which the group is broken, and the code's variant.
fn constraint_groups(p: &Param, api: &Api, code: &proc_macro2::Ident) -> Vec<(TokenStream, TokenStream)> {
    let mut groups: Vec<(ErrorRef, Vec<TokenStream>)> = Vec::new();
    for k in &p.constraints {
        let cond = violates(&k.kind);
        match groups.iter_mut().find(|(c, _)| *c == k.error) {
            Some((_, conds)) => conds.push(cond),
            None => groups.push((k.error.clone(), vec![cond])),
        }
    }
    groups
        .into_iter()
        .map(|(error, conds)| {
            let cond = if conds.len() == 1 {
                quote! { #( #conds )* }
            } else {
                quote! { #( (#conds) )||* }
            };
            (cond, variant(api, code, &error))
        })
        .collect()
}

/// The expression naming `error` as a value of the operation's code enum `code`.
fn variant(api: &Api, code: &proc_macro2::Ident, error: &ErrorRef) -> TokenStream {
    let v = to_ident(&error.variant);
    if api.is_protocol(&error.code) {
        quote! { #code::Protocol(crate::codes::ProtocolCode::#v) }
    } else {
        quote! { #code::#v }
    }
}

/// The condition under which a parameter counts as not given (absent, or an empty string).
fn absent(p: &Param) -> Option<TokenStream> {
    let ident = to_ident(&p.rust);
    match (p.required, p.ty) {
        (true, Scalar::String) => Some(quote! { self.#ident.is_empty() }),
        (true, _) => None,
        (false, Scalar::String) => Some(quote! { self.#ident.as_deref().is_none_or(str::is_empty) }),
        (false, _) => Some(quote! { self.#ident.is_none() }),
    }
}

fn validate_body(api: &Api, op: &Operation, code: &proc_macro2::Ident) -> TokenStream {
    let push = |v: &TokenStream, wire: &Literal| {
        quote! { problems.push(::__runtime::validate::Violation::new(#v, #wire)); }
    };
    let per_param: Vec<TokenStream> = op
        .params
        .iter()
        .map(|p| {
            let ident = to_ident(&p.rust);
            let wire = lit(&p.wire);
            let groups = constraint_groups(p, api, code);
            let checks: Vec<TokenStream> = groups
                .iter()
                .map(|(cond, v)| {
                    let push = push(v, &wire);
                    quote! { if #cond { #push } }
                })
                .collect();
            match (p.required, p.ty) {
                (true, Scalar::String) => {
                    let missing = push(&variant(api, code, &p.missing_error), &wire);
                    if checks.is_empty() {
                        quote! { if self.#ident.is_empty() { #missing } }
                    } else {
                        quote! {
                            if self.#ident.is_empty() {
                                #missing
                            } else {
                                let value: &str = &self.#ident;
                                #( #checks )*
                            }
                        }
                    }
                }
                (true, _) if checks.is_empty() => quote! {},
                (true, _) => quote! {
                    {
                        let value = self.#ident;
                        #( #checks )*
                    }
                },
                (false, Scalar::String) => {
                    let empty = p.empty_error.as_ref().map(|e| {
                        let push = push(&variant(api, code, e), &wire);
                        quote! { if self.#ident.as_deref() == ::core::option::Option::Some("") { #push } }
                    });
                    let guarded = groups.iter().map(|(cond, v)| {
                        let push = push(v, &wire);
                        quote! {
                            if self.#ident.as_deref().is_some_and(|value| !value.is_empty() && (#cond)) { #push }
                        }
                    });
                    quote! { #empty #( #guarded )* }
                }
                (false, _) => {
                    let guarded = groups.iter().map(|(cond, v)| {
                        let push = push(v, &wire);
                        quote! { if self.#ident.is_some_and(|value| #cond) { #push } }
                    });
                    quote! { #( #guarded )* }
                }
            }
        })
        .collect();
    let rules: Vec<TokenStream> = op
        .rules
        .iter()
        .filter_map(|r| {
            let given_absent = absent(&op.params[r.if_given])?;
            let then_absent = absent(&op.params[r.then_required])?;
            let wire = lit(&op.params[r.then_required].wire);
            let push = push(&variant(api, code, &r.error), &wire);
            Some(quote! { if !(#given_absent) && #then_absent { #push } })
        })
        .collect();
    if per_param.iter().all(TokenStream::is_empty) && rules.is_empty() {
        return quote! { ::core::result::Result::Ok(()) };
    }
    quote! {
        let mut problems = ::__runtime::validate::Violations::new();
        #( #per_param )*
        #( #rules )*
        problems.into_result()
    }
}

fn operation_impl(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { request, response, code, .. } = n;
    let action = lit(&op.name);
    let idempotent = op.idempotent;
    let validate = validate_body(api, op, code);
    let count = op.params.len();
    let to_params = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let wire = lit(&p.wire);
        if p.required {
            quote! { out.push((#wire, ::__runtime::params::WireValue::to_wire(&self.#ident))); }
        } else {
            quote! {
                if let ::core::option::Option::Some(value) = &self.#ident {
                    out.push((#wire, ::__runtime::params::WireValue::to_wire(value)));
                }
            }
        }
    });
    let extract = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let wire = lit(&p.wire);
        let invalid = variant(api, code, &p.type_error);
        if p.required {
            let missing = variant(api, code, &p.missing_error);
            quote! { #ident: ::__runtime::extract::required(params, #wire, #missing, #invalid, &mut parsing) }
        } else {
            let keep_empty = p.empty_error.is_some();
            quote! { #ident: ::__runtime::extract::optional(params, #wire, #keep_empty, #invalid, &mut parsing) }
        }
    });
    let order = op.params.iter().map(|p| lit(&p.wire));
    quote! {
        impl ::__runtime::operation::Operation for #request {
            const ACTION: &'static str = #action;
            const IDEMPOTENT: bool = #idempotent;
            type Response = #response;
            type ErrorCode = #code;

            fn validate(&self) -> ::core::result::Result<(), ::__runtime::validate::Violations> {
                #validate
            }

            fn to_params(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                let mut out = ::std::vec::Vec::with_capacity(#count);
                #( #to_params )*
                out
            }

            fn from_params(params: &::__runtime::params::Params) -> ::core::result::Result<Self, ::__runtime::validate::Violations> {
                #[allow(unused_mut)]
                let mut parsing = ::__runtime::validate::Violations::new();
                let value = Self {
                    #( #extract, )*
                };
                ::__runtime::extract::finish(value, parsing, &[ #( #order ),* ], <Self as ::__runtime::operation::Operation>::validate)
            }
        }
    }
}
