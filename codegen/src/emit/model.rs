//! The model crate (`generated-model`): service metadata, protocol errors, shapes, and per
//! operation the request (with its typestate builder and its checks), the response and the error
//! codes. Shared by the client and the server, so one definition of "valid" serves both.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::request::{operation_impl, paginated_impl};
use super::{Part, checks, docs, ident as to_ident, inner_docs, lit, request, types};
use crate::ir::names;
use crate::ir::{Api, ErrorDef, Operation};

/// How many files of the model crate are not an operation's (they come first; an operation's
/// file follows for each operation).
pub const FIXED_FILES: usize = 6;

/// Every file of the model crate, as (path under `src/`, tokens).
pub fn files(api: &Api, part: Part) -> Vec<(String, TokenStream)> {
    type Emit = fn(&Api) -> Option<TokenStream>;
    let fixed: [(&str, Emit); FIXED_FILES] = [
        ("lib.rs", |api| Some(lib(api))),
        ("codes.rs", |api| Some(codes(api))),
        ("protocol.rs", |api| Some(protocol(api))),
        ("shapes.rs", |api| Some(types::shapes_file(api))),
        ("operations/mod.rs", |api| Some(operations_mod(api))),
        ("enums.rs", types::enums_file),
    ];
    let fixed_len = fixed.len();
    let fixed = fixed.into_iter().enumerate().filter(|(i, _)| part.takes(*i));
    let mut out: Vec<(String, TokenStream)> =
        fixed.filter_map(|(_, (name, emit))| emit(api).map(|tokens| (name.to_string(), tokens))).collect();
    for (i, op) in api.operations.iter().enumerate() {
        if part.takes(fixed_len + i) {
            out.push((format!("operations/{}.rs", names::bare(&op.names.module)), operation(api, op)));
        }
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

        pub use operations::*;
        pub use protocol::{HOST_ID, OPERATIONS, SERVICE};
        pub use shapes::*;
        pub use __runtime::operation::Operation;
        pub use __runtime::errors::{ErrorCode, ProtocolCode};

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
    let consts = api.errors.iter().map(|e| {
        let (name, code, message) = (to_ident(&e.constant), lit(&e.code), lit(&e.message));
        let status = Literal::u16_unsuffixed(e.status);
        let doc = code_doc(e);
        let new = if e.retryable { quote! { new_retryable } } else { quote! { new } };
        quote! {
            #doc
            pub const #name: ::__runtime::errors::ErrorSpec = ::__runtime::errors::ErrorSpec::#new(#code, #status, #message);
        }
    });
    quote! {
        //! Every error code of the API's operations, declared once: its wire code, HTTP status,
        //! message and retryability. Each operation's code enum refers to these, and holds the
        //! protocol errors every operation can answer as its `Protocol` variant: the runtime's
        //! [`ProtocolCode`](crate::ProtocolCode), the same for every product.

        #( #consts )*
    }
}

fn protocol(api: &Api) -> TokenStream {
    let s = &api.service;
    let (product, version, endpoint, host) = (lit(&s.product), lit(&s.version), lit(&s.endpoint), lit(&s.host_id));
    let service_doc = docs(&format!("The {} service: product code, API version and endpoint pattern.", s.product));
    let actions = api.operations.iter().map(|op| lit(&op.name));
    quote! {
        //! Service metadata: product, version, endpoint, and the operations' names.

        #service_doc
        pub static SERVICE: ::__runtime::operation::ServiceInfo = ::__runtime::operation::ServiceInfo {
            product: #product,
            version: #version,
            endpoint_pattern: #endpoint,
        };

        /// The `HostId` a server of this API answers in its error envelopes.
        pub const HOST_ID: &str = #host;

        /// The name (`Action`) of every operation of the API, in the spec's order.
        pub static OPERATIONS: &[&str] = &[ #( #actions ),* ];
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

/// The type names of one operation, as tokens.
pub(super) struct Names {
    pub(super) request: proc_macro2::Ident,
    pub(super) builder: proc_macro2::Ident,
    pub(super) response: proc_macro2::Ident,
    pub(super) code: proc_macro2::Ident,
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
    let request = request::request_struct(api, op, &n);
    let builder = request::builder(api, op, &n);
    let response = response_struct(api, op, &n);
    let codes = error_codes(api, op, &n);
    let operation_impl = operation_impl(api, op, &n);
    let paging = paginated_impl(api, op, &n);
    let patterns = checks::patterns(op);
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

fn response_struct(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { response, .. } = n;
    let doc = docs(&format!("What `{}` answers.", op.name));
    let fields = op.response.iter().map(|f| types::field(api, f));
    let (derive_debug, debug) = types::redacted_debug(&op.names.response, &op.response, true);
    quote! {
        #doc
        #[derive(#derive_debug Clone, PartialEq, Eq, Default, ::serde::Serialize, ::serde::Deserialize)]
        pub struct #response {
            /// The ID of the request, as the server answered it (set by the server's runtime).
            #[serde(rename = "RequestId", default)]
            pub request_id: ::std::string::String,
            #( #fields, )*
        }

        #debug
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
            Protocol(::__runtime::errors::ProtocolCode),
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

        impl ::core::convert::From<::__runtime::errors::ProtocolCode> for #code {
            fn from(code: ::__runtime::errors::ProtocolCode) -> Self {
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
