//! The client crate (`generated-client`): a `Client` with one async method per operation, the
//! per-operation error enums, and for paged operations a stream of every item.

use proc_macro2::TokenStream;
use quote::quote;

use super::{docs, docs2, ident, inner_docs, lit};
use crate::ir::{Api, ErrorDef, Operation};

/// Every file of the client crate, as (path under `src/`, tokens).
pub fn files(api: &Api) -> Vec<(String, TokenStream)> {
    vec![("lib.rs".to_string(), lib(api)), ("errors.rs".to_string(), errors(api))]
}

fn lib(api: &Api) -> TokenStream {
    let s = &api.service;
    let intro = format!(
        "An async client for the {product} API (version {version}), generated from the spec.\n\n{desc}\n\nRequests are checked against the spec's constraints before anything is sent (every violation is reported, with the API's own error code), signed with signature version 1.0 exactly as the official SDKs sign, and retried with backoff when that is safe: an operation that is not idempotent is never retried once the request may have reached the server.\n\n```no_run\n# async fn demo() -> Result<(), Box<dyn std::error::Error>> {{\nuse {client_crate}::{{Client, Credentials}};\n\nlet config = Client::config_builder()\n    .region(\"cn-shanghai\")\n    .endpoint(\"http://127.0.0.1:8080\")\n    .credentials(Credentials::new(\"testid\", \"testsecret\"))\n    .build()?;\nlet client = Client::new(config)?;\n# Ok(())\n# }}\n```",
        product = s.product,
        version = s.version,
        desc = s.description,
        client_crate = api.generation.client_crate
    );
    let doc = inner_docs(&intro);
    let methods = api.operations.iter().map(|op| method(api, op));
    quote! {
        #doc
        #![forbid(unsafe_code)]
        #![deny(missing_docs)]

        mod errors;

        pub use errors::*;
        pub use __model::*;
        pub use __runtime::client::{
            ClientConfig, ClientConfigBuilder, ConfigError, Credentials, DecodeError, RetryPolicy, TransportError,
            TransportErrorKind,
        };
        pub use __runtime::errors::ApiError;
        pub use __runtime::validate::{Violation, Violations};

        /// A client of the API: cheap to clone, safe to share between tasks.
        #[derive(Debug, Clone)]
        pub struct Client {
            rpc: ::__runtime::client::RpcClient,
        }

        impl Client {
            /// A client for `config`.
            ///
            /// # Errors
            /// When the HTTP client cannot be built from the configuration.
            pub fn new(config: ClientConfig) -> ::core::result::Result<Self, ConfigError> {
                ::core::result::Result::Ok(Self { rpc: ::__runtime::client::RpcClient::new(config)? })
            }

            /// Starts a configuration for this API: set a region (or an endpoint) and credentials.
            pub fn config_builder() -> ClientConfigBuilder {
                ClientConfig::builder(&::__model::SERVICE)
            }

            /// The region requests are sent for.
            pub fn region(&self) -> &str {
                self.rpc.region()
            }

            #( #methods )*
        }
    }
}

fn method(api: &Api, op: &Operation) -> TokenStream {
    let n = &op.names;
    let m = ident(&n.method);
    let req = ident(&n.request);
    let resp = ident(&n.response);
    let err = ident(&n.error);
    let retry = if op.idempotent {
        "It is idempotent: transport failures, 5xx answers and retryable codes are retried with backoff, each attempt signed anew."
    } else {
        "It is not idempotent: it is retried only when the request cannot have reached the server (a refused connection)."
    };
    let doc = docs2(
        &format!("`{}`: {}", op.name, op.summary),
        &format!(
            "{}\n\n{retry}\n\n# Errors\nOne [`{err}`] variant per code the API answers, plus validation (nothing sent), transport and decoding failures.",
            op.description
        ),
    );
    let paging = op.pagination.as_ref().map(|pg| {
        let stream = ident(&n.stream);
        let all = ident(&n.all);
        let page_number = ident(&op.params[pg.page_number].rust);
        let page_size = ident(&op.params[pg.page_size].rust);
        let total = ident(&op.response[pg.total_count].rust);
        let items = ident(&op.response[pg.items].rust);
        let item = ident(&api.shapes[pg.item_shape].rust);
        let max = proc_macro2::Literal::i64_unsuffixed(pg.max_page_size);
        let page_number_wire = &op.params[pg.page_number].wire;
        let page_size_wire = &op.params[pg.page_size].wire;
        let total_wire = &op.response[pg.total_count].wire;
        let stream_doc = docs(&format!(
            "Every item of `{}` across all pages, as a stream: pages are fetched one at a time, from `{page_number_wire}` (default 1) on, until `{total_wire}` items have been seen or a page comes back empty. `{page_size_wire}` is the request's, or {max} (the largest the API allows) when it is not set.\n\n# Errors\nThe stream yields the first error and ends.",
            op.name,
            max = pg.max_page_size
        ));
        let all_doc = docs(&format!("Every item of `{}` across all pages, collected; see the `_stream` method.\n\n# Errors\nThe first error met while paging.", op.name));
        quote! {
            #stream_doc
            pub fn #stream(&self, request: #req) -> impl ::futures::Stream<Item = ::core::result::Result<#item, #err>> + Send + '_ {
                use ::futures::TryStreamExt as _;
                let mut request = request;
                let size = request.#page_size.map_or(#max, |s| s.clamp(1, #max));
                request.#page_size = ::core::option::Option::Some(size);
                let first = request.#page_number.unwrap_or(1);
                ::futures::stream::try_unfold(
                    (request, ::core::option::Option::Some(first), 0i64),
                    move |(mut request, page, seen)| async move {
                        let ::core::option::Option::Some(page) = page else {
                            return ::core::result::Result::<_, #err>::Ok(::core::option::Option::None);
                        };
                        request.#page_number = ::core::option::Option::Some(page);
                        let response = self.#m(&request).await?;
                        let total = i64::from(response.#total);
                        let items = response.#items;
                        let seen = seen.saturating_add(i64::try_from(items.len()).unwrap_or(i64::MAX));
                        let next = if items.is_empty() || seen >= total { ::core::option::Option::None } else { page.checked_add(1) };
                        ::core::result::Result::Ok(::core::option::Option::Some((
                            ::futures::stream::iter(items.into_iter().map(::core::result::Result::Ok)),
                            (request, next, seen),
                        )))
                    },
                )
                .try_flatten()
            }

            #all_doc
            pub async fn #all(&self, request: #req) -> ::core::result::Result<::std::vec::Vec<#item>, #err> {
                use ::futures::TryStreamExt as _;
                self.#stream(request).try_collect().await
            }
        }
    });
    quote! {
        #doc
        pub async fn #m(&self, request: &#req) -> ::core::result::Result<#resp, #err> {
            self.rpc.invoke(request).await.map_err(#err::from)
        }

        #paging
    }
}

fn errors(api: &Api) -> TokenStream {
    let enums = api.operations.iter().map(|op| error_enum(api, op));
    quote! {
        //! One error enum per operation: a variant per code the spec declares for it (with the
        //! protocol codes every operation shares), an `Unknown` fallback that keeps the code and
        //! message, and the failures that happen on this side of the wire.

        #( #enums )*
    }
}

fn error_enum(api: &Api, op: &Operation) -> TokenStream {
    let err = ident(&op.names.error);
    let code_name = ident(&op.names.error_code);
    let code = quote! { ::__model::#code_name };
    let all: Vec<&ErrorDef> = api.operation_errors(op).collect();
    let doc = docs(&format!("Why `{}` failed.", op.name));
    let variants = all.iter().map(|e| {
        let v = ident(&e.variant);
        let doc = docs(&format!("`{}` (HTTP {}): {}\n\n{}", e.code, e.status, e.message, e.when));
        quote! {
            #doc
            #[error("{0}")]
            #v(::__runtime::errors::ApiError)
        }
    });
    let from_arms = all.iter().map(|e| {
        let v = ident(&e.variant);
        quote! { ::core::option::Option::Some(#code::#v) => Self::#v(api) }
    });
    let api_arms: Vec<TokenStream> = all
        .iter()
        .map(|e| {
            let v = ident(&e.variant);
            quote! { Self::#v(e) }
        })
        .collect();
    let not_sent = lit(&format!("{} was not sent: {{0}}", op.name));
    quote! {
        #doc
        #[derive(Debug, ::thiserror::Error)]
        pub enum #err {
            #( #variants, )*
            /// A code the spec does not declare for this operation; code and message are kept.
            #[error("{0}")]
            Unknown(::__runtime::errors::ApiError),
            /// The request breaks the spec's constraints; nothing was sent. Every violation is listed.
            #[error(#not_sent)]
            Validation(::__runtime::validate::Violations),
            /// The request or its answer was lost on the way (connection, timeout, TLS).
            #[error(transparent)]
            Transport(::__runtime::client::TransportError),
            /// The server answered success, but not with the response the spec describes.
            #[error(transparent)]
            Decode(::__runtime::client::DecodeError),
        }

        impl ::core::convert::From<::__runtime::client::InvokeError> for #err {
            fn from(e: ::__runtime::client::InvokeError) -> Self {
                match e {
                    ::__runtime::client::InvokeError::Api(api) => {
                        match <#code as ::__runtime::errors::ErrorCode>::from_code(&api.code) {
                            #( #from_arms, )*
                            ::core::option::Option::None => Self::Unknown(api),
                        }
                    }
                    ::__runtime::client::InvokeError::Validation(v) => Self::Validation(v),
                    ::__runtime::client::InvokeError::Transport(t) => Self::Transport(t),
                    ::__runtime::client::InvokeError::Decode(d) => Self::Decode(d),
                }
            }
        }

        impl #err {
            /// The server's answer (RequestId, HTTP status, Code, Message), when the server answered with an error.
            pub fn api_error(&self) -> ::core::option::Option<&::__runtime::errors::ApiError> {
                match self {
                    #( #api_arms )|* | Self::Unknown(e) => ::core::option::Option::Some(e),
                    Self::Validation(_) | Self::Transport(_) | Self::Decode(_) => ::core::option::Option::None,
                }
            }

            /// The declared code, when the server answered one of them.
            pub fn code(&self) -> ::core::option::Option<#code> {
                self.api_error().and_then(|e| <#code as ::__runtime::errors::ErrorCode>::from_code(&e.code))
            }

            /// The RequestId of the server's answer, for a support ticket.
            pub fn request_id(&self) -> ::core::option::Option<&str> {
                self.api_error().map(|e| e.request_id.as_str())
            }

            /// The violations, when the request was refused before sending.
            pub fn violations(&self) -> ::core::option::Option<&::__runtime::validate::Violations> {
                match self {
                    Self::Validation(v) => ::core::option::Option::Some(v),
                    _ => ::core::option::Option::None,
                }
            }

            /// Whether trying again later may succeed: the spec marks the code retryable, the
            /// server failed (5xx), or the connection failed or timed out. Validation and decoding
            /// failures, and every other code, would fail the same way again.
            pub fn is_retryable(&self) -> bool {
                match self {
                    Self::Transport(t) => t.is_connect() || t.is_timeout(),
                    Self::Validation(_) | Self::Decode(_) => false,
                    _ => self.api_error().is_some_and(|e| {
                        e.status >= 500 || self.code().is_some_and(|c| ::__runtime::errors::ErrorCode::retryable(&c))
                    }),
                }
            }
        }
    }
}
