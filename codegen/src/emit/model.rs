//! The model crate (`generated-model`): service metadata, protocol errors, shapes, and per
//! operation the request (with its typestate builder and its checks), the response and the error
//! codes. Shared by the client and the server, so one definition of "valid" serves both.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{docs, docs2, ident as to_ident, inner_docs, lit, param_item_type, param_type, types};
use crate::ir::check::PROTOCOL_ROLES;
use crate::ir::names;
use crate::ir::{Api, ConstraintKind, ErrorDef, ErrorRef, Format, Operation, Param, ParamType, Scalar, ValueType};

/// Every file of the model crate, as (path under `src/`, tokens).
pub fn files(api: &Api) -> Vec<(String, TokenStream)> {
    let mut out = vec![
        ("lib.rs".to_string(), lib(api)),
        ("codes.rs".to_string(), codes(api)),
        ("protocol.rs".to_string(), protocol(api)),
        ("shapes.rs".to_string(), types::shapes_file(api)),
        ("operations/mod.rs".to_string(), operations_mod(api)),
    ];
    if let Some(enums) = types::enums_file(api) {
        out.push(("enums.rs".to_string(), enums));
    }
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
    let enums = (!api.enums.is_empty()).then(|| {
        quote! {
            pub mod enums;
            pub use enums::*;
            pub use __runtime::wire_enum::WireEnum;
        }
    });
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

        #enums
    }
}

/// The one-line rustdoc of a code: wire code, status, and when it is answered.
fn code_doc(e: &ErrorDef) -> TokenStream {
    let mut text = format!("`{}` (HTTP {}): {}", e.code, e.status, e.when.trim());
    if let Some(reason) = &e.not_produced {
        text.push_str(&format!("\n\nNot answered by this project's service: {}", reason.trim()));
    }
    docs(&text)
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

fn operation(api: &Api, op: &Operation) -> TokenStream {
    let n = type_names(op);
    let request = request_struct(api, op, &n);
    let builder = builder(api, op, &n);
    let response = response_struct(api, op, &n);
    let codes = error_codes(api, op, &n);
    let operation_impl = operation_impl(api, op, &n);
    let paging = paginated_impl(api, op, &n);
    let patterns = patterns(op);
    let code = &n.code;
    quote! {
        /// Shorthand for this operation's code enum.
        type Code = #code;

        #request
        #builder
        #operation_impl
        #paging
        #response
        #codes
        #patterns
    }
}

fn request_struct(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { request, builder, .. } = n;
    let doc = docs2(&format!("The parameters of `{}`: {}", op.name, op.summary), &op.description);
    let fields = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let t = param_type(p, api);
        let mut text = format!("`{}`{}: {}", p.wire, if p.required { " (required)" } else { "" }, p.description.trim());
        if p.ty.is_list() {
            text.push_str(&format!("\n\nA repeat list, sent as `{0}.1`, `{0}.2`, …", p.wire));
        }
        if let Some(d) = p.default {
            text.push_str(&format!("\n\nThe server assumes {d} when it is not given."));
        }
        let doc = docs(&text);
        quote! { #doc pub #ident: #t }
    });
    // `Debug` is derived unless a parameter is secret; then it is written out with the secret
    // ones redacted.
    let has_secret = op.params.iter().any(|p| p.secret);
    let (derive, debug) = if has_secret {
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
        let debug = quote! {
            impl ::core::fmt::Debug for #request {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#debug_name)
                        #( #debug_fields )*
                        .finish()
                }
            }
        };
        (quote! { #[derive(Clone, PartialEq, Eq, Default)] }, debug)
    } else {
        (quote! { #[derive(Debug, Clone, PartialEq, Eq, Default)] }, quote! {})
    };
    let defaults = op.params.iter().filter_map(|p| {
        let d = p.default?;
        let ident = to_ident(&p.rust);
        let getter = to_ident(&p.default_getter);
        let t = param_item_type(p, api);
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
        #derive
        pub struct #request {
            #( #fields, )*
        }

        #debug

        impl #request {
            #builder_doc
            pub fn builder() -> #builder {
                #builder { request: ::core::default::Default::default(), state: ::std::marker::PhantomData }
            }

            #( #defaults )*
        }
    }
}

/// A setter's argument type and how it becomes the field's value (an optional value is then
/// wrapped in `Some`).
fn setter_arg(p: &Param, api: &Api) -> (TokenStream, TokenStream) {
    let string = quote! { impl ::core::convert::Into<::std::string::String> };
    match p.ty {
        ParamType::Value(ValueType::Scalar(Scalar::String)) => (string, quote! { value.into() }),
        ParamType::Value(_) => (param_item_type(p, api), quote! { value }),
        ParamType::List(ValueType::Scalar(Scalar::String)) => (
            quote! { impl ::core::iter::IntoIterator<Item = #string> },
            quote! { value.into_iter().map(::core::convert::Into::into).collect() },
        ),
        ParamType::List(_) | ParamType::Structs(_) => {
            let item = param_item_type(p, api);
            (quote! { impl ::core::iter::IntoIterator<Item = #item> }, quote! { value.into_iter().collect() })
        }
    }
}

/// The typestate builder: the request being built, and one marker type parameter per required
/// parameter (`Missing`, then `Set` once its setter ran). Every setter lives in one impl: a
/// required one asks that its slot be `Unset` and returns the builder with the slot `Set`;
/// `build()` exists once every slot is `Provided`.
fn builder(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { request, builder, .. } = n;
    let required: Vec<&Param> = op.params.iter().filter(|p| p.required).collect();
    let generics: Vec<proc_macro2::Ident> = required.iter().map(|p| to_ident(&p.type_state)).collect();
    let targets: Vec<proc_macro2::Ident> =
        (1..=required.len()).map(|i| to_ident(&names::type_state_target(i))).collect();
    let missing = quote! { ::__runtime::typestate::Missing };
    let order = required.iter().map(|p| format!("`{}`", p.wire)).collect::<Vec<_>>().join(", ");
    let doc = docs(&if required.is_empty() {
        format!("Builds a [`{request}`].")
    } else {
        format!(
            "Builds a [`{request}`]. Its type parameters stand for the required parameters, in order {order}: each is `Missing` until its setter is called, then `Set`; `build()` exists once all are set, so a forgotten required parameter is a compile error."
        )
    });
    let struct_generics = if generics.is_empty() {
        quote! {}
    } else {
        quote! { < #( #generics = #missing ),* > }
    };
    let all_generics = if generics.is_empty() {
        quote! {}
    } else {
        quote! { < #( #generics ),* > }
    };
    let setters = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let (arg, conv) = setter_arg(p, api);
        match required.iter().position(|r| r.wire == p.wire) {
            Some(i) => {
                let slot = &generics[i];
                let after = generics.iter().enumerate().map(|(j, g)| {
                    if j == i {
                        quote! { ::__runtime::typestate::Set }
                    } else {
                        quote! { #g }
                    }
                });
                let doc = docs(&format!("Sets `{}` (required): {}", p.wire, p.description.trim()));
                quote! {
                    #doc
                    pub fn #ident(mut self, value: #arg) -> #builder< #( #after ),* >
                    where
                        #slot: ::__runtime::typestate::Unset,
                    {
                        self.request.#ident = #conv;
                        self.into_state()
                    }
                }
            }
            None => {
                let doc = docs(&format!("Sets `{}` (optional): {}", p.wire, p.description.trim()));
                let value = if p.ty.is_list() {
                    conv
                } else {
                    quote! { ::core::option::Option::Some(#conv) }
                };
                quote! {
                    #doc
                    pub fn #ident(mut self, value: #arg) -> Self {
                        self.request.#ident = #value;
                        self
                    }
                }
            }
        }
    });
    let into_state = (!generics.is_empty()).then(|| {
        quote! {
            fn into_state< #( #targets ),* >(self) -> #builder< #( #targets ),* > {
                #builder { request: self.request, state: ::std::marker::PhantomData }
            }
        }
    });
    let bounds = generics.iter().map(|g| quote! { #g: ::__runtime::typestate::Provided });
    let build_doc = docs(&format!(
        "The finished [`{request}`]. Its constraints are checked when it is sent (or with `Operation::validate`)."
    ));
    quote! {
        #doc
        #[derive(Debug)]
        #[must_use = "a builder does nothing until `build()` is called"]
        pub struct #builder #struct_generics {
            request: #request,
            state: ::std::marker::PhantomData<( #( #generics, )* )>,
        }

        impl #all_generics #builder #all_generics {
            #( #setters )*

            #into_state
        }

        impl< #( #bounds ),* > #builder #all_generics {
            #build_doc
            pub fn build(self) -> #request {
                self.request
            }
        }
    }
}

/// `Paginated` for an operation the spec gives a `pagination` section.
fn paginated_impl(api: &Api, op: &Operation, n: &Names) -> Option<TokenStream> {
    let pg = op.pagination.as_ref()?;
    let Names { request, response, .. } = n;
    let page_number = to_ident(&op.params[pg.page_number].rust);
    let page_size = to_ident(&op.params[pg.page_size].rust);
    let number_type = param_item_type(&op.params[pg.page_number], api);
    let total = to_ident(&op.response[pg.total_count].rust);
    let items = to_ident(&op.response[pg.items].rust);
    let item = to_ident(&api.shapes[pg.item_shape].rust);
    let max = Literal::i64_unsuffixed(pg.max_page_size);
    Some(quote! {
        impl ::__runtime::operation::Paginated for #request {
            type Item = crate::shapes::#item;

            fn page(&self) -> i64 {
                self.#page_number.map_or(1, i64::from)
            }

            fn set_page(&mut self, page: i64) {
                self.#page_number = ::core::option::Option::Some(#number_type::try_from(page).unwrap_or(#number_type::MAX));
                self.#page_size = ::core::option::Option::Some(self.#page_size.map_or(#max, |size| size.clamp(1, #max)));
            }

            fn into_page(response: #response) -> (i64, ::std::vec::Vec<crate::shapes::#item>) {
                (i64::from(response.#total), response.#items)
            }
        }
    })
}

fn response_struct(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { response, .. } = n;
    let doc = docs(&format!("What `{}` answers.", op.name));
    let fields = op.response.iter().map(|f| types::field(api, f));
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
        ConstraintKind::Count { min, max } => outside(quote! { value.len() }, min.map(size), max.map(size)),
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
fn constraint_groups(p: &Param, api: &Api) -> Vec<(TokenStream, TokenStream)> {
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
            (cond, variant(api, &error))
        })
        .collect()
}

/// The expression naming `error` as a value of the operation's code enum `code`.
fn variant(api: &Api, error: &ErrorRef) -> TokenStream {
    let v = to_ident(&error.variant);
    if api.is_protocol(&error.code) {
        quote! { Code::Protocol(crate::codes::ProtocolCode::#v) }
    } else {
        quote! { Code::#v }
    }
}

/// The condition under which a parameter counts as not given (absent, or an empty string).
fn absent(p: &Param) -> Option<TokenStream> {
    let ident = to_ident(&p.rust);
    let string = p.ty.scalar() == Some(Scalar::String);
    match (p.required, p.ty) {
        (_, ParamType::List(_) | ParamType::Structs(_)) => Some(quote! { self.#ident.is_empty() }),
        (true, _) if string => Some(quote! { self.#ident.is_empty() }),
        (true, _) => None,
        (false, _) if string => Some(quote! { self.#ident.as_deref().is_none_or(str::is_empty) }),
        (false, _) => Some(quote! { self.#ident.is_none() }),
    }
}

fn validate_body(api: &Api, op: &Operation) -> TokenStream {
    let push = |v: &TokenStream, wire: &Literal| {
        quote! { problems.add(#v, #wire); }
    };
    let per_param: Vec<TokenStream> = op
        .params
        .iter()
        .map(|p| {
            let ident = to_ident(&p.rust);
            let wire = lit(&p.wire);
            let groups = constraint_groups(p, api);
            let checks: Vec<TokenStream> = groups
                .iter()
                .map(|(cond, v)| {
                    let push = push(v, &wire);
                    quote! { if #cond { #push } }
                })
                .collect();
            let string = p.ty.scalar() == Some(Scalar::String);
            match (p.required, p.ty) {
                (required, ParamType::List(_) | ParamType::Structs(_)) => {
                    let checks = quote! {
                        let value = &self.#ident;
                        #( #checks )*
                    };
                    match (required, groups.is_empty()) {
                        (true, true) => {
                            let missing = push(&variant(api, &p.missing_error), &wire);
                            quote! { if self.#ident.is_empty() { #missing } }
                        }
                        (true, false) => {
                            let missing = push(&variant(api, &p.missing_error), &wire);
                            quote! { if self.#ident.is_empty() { #missing } else { #checks } }
                        }
                        (false, true) => quote! {},
                        (false, false) => quote! { if !self.#ident.is_empty() { #checks } },
                    }
                }
                (true, _) if string => {
                    let missing = push(&variant(api, &p.missing_error), &wire);
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
                (false, _) if string => {
                    let empty = p.empty_error.as_ref().map(|e| {
                        let push = push(&variant(api, e), &wire);
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
            let push = push(&variant(api, &r.error), &wire);
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
    let Names { request, response, .. } = n;
    let action = lit(&op.name);
    let idempotent = op.idempotent;
    let validate = validate_body(api, op);
    let count = Literal::usize_unsuffixed(op.params.len());
    let to_params = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let wire = lit(&p.wire);
        match p.ty {
            ParamType::List(_) => quote! { out.put_list(#wire, &self.#ident); },
            ParamType::Structs(_) => quote! { out.put_structs(#wire, &self.#ident); },
            ParamType::Value(_) if p.required => quote! { out.put(#wire, &self.#ident); },
            ParamType::Value(_) => quote! { out.put_opt(#wire, &self.#ident); },
        }
    });
    // The reader raises the protocol's codes unless the spec names others for a parameter.
    let (missing_default, invalid_default) = (&api.missing_parameter, &api.invalid_parameter);
    let override_of = |error: &ErrorRef, default: &ErrorRef| {
        if error == default {
            quote! { ::core::option::Option::None }
        } else {
            let v = variant(api, error);
            quote! { ::core::option::Option::Some(#v) }
        }
    };
    let extract = op.params.iter().map(|p| {
        let ident = to_ident(&p.rust);
        let wire = lit(&p.wire);
        let invalid_is_default = p.type_error == *invalid_default;
        if let ParamType::List(_) = p.ty {
            return quote! { #ident: r.list(#wire) };
        }
        if let ParamType::Structs(_) = p.ty {
            return quote! { #ident: r.structs(#wire) };
        }
        if p.required {
            if p.missing_error == *missing_default && invalid_is_default {
                quote! { #ident: r.required(#wire) }
            } else {
                let missing = override_of(&p.missing_error, missing_default);
                let invalid = override_of(&p.type_error, invalid_default);
                quote! { #ident: r.required_with(#wire, #missing, #invalid) }
            }
        } else if p.empty_error.is_none() && invalid_is_default {
            quote! { #ident: r.optional(#wire) }
        } else {
            let keep_empty = p.empty_error.is_some();
            let invalid = override_of(&p.type_error, invalid_default);
            quote! { #ident: r.optional_with(#wire, #keep_empty, #invalid) }
        }
    });
    let (missing_code, invalid_code) = (variant(api, missing_default), variant(api, invalid_default));
    quote! {
        impl ::__runtime::operation::Operation for #request {
            const ACTION: &'static str = #action;
            const IDEMPOTENT: bool = #idempotent;
            type Response = #response;
            type ErrorCode = Code;

            fn validate(&self) -> ::core::result::Result<(), ::__runtime::validate::Violations> {
                #validate
            }

            fn to_params(&self) -> ::std::vec::Vec<::__runtime::flatten::WireParam> {
                let mut out = ::__runtime::flatten::Flattener::with_capacity(#count);
                #( #to_params )*
                out.finish()
            }

            fn from_params(params: &::__runtime::params::Params) -> ::core::result::Result<Self, ::__runtime::validate::Violations> {
                let mut r = ::__runtime::extract::Reader::new(params, #missing_code, #invalid_code);
                let value = Self {
                    #( #extract, )*
                };
                r.finish(value, <Self as ::__runtime::operation::Operation>::validate)
            }
        }
    }
}
