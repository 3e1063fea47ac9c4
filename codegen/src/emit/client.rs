//! The client crate (`generated-client`): a `Client` with one method per operation (returning the
//! runtime's `Call`, awaited to send it, with per-call options), the per-operation error types, for
//! paged operations a stream of every item, and the operations trait (`<Product>Operations`) the
//! client implements, for application code that also runs against a fake.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Part, docs, docs2, ident, inner_docs};
use crate::ir::{Api, Operation};

/// Every file of the client crate, as (path under `src/`, tokens).
pub fn files(api: &Api, part: Part) -> Vec<(String, TokenStream)> {
    if part.takes(0) { vec![("lib.rs".to_string(), lib(api))] } else { Vec::new() }
}

fn lib(api: &Api) -> TokenStream {
    let s = &api.service;
    let intro = format!(
        "An async client for the {product} API (version {version}), generated from the spec.\n\n{desc}\n\nRequests are checked against the spec's constraints before anything is sent (every violation is reported, with the API's own error code), signed with signature version 3 (`ACS3-HMAC-SHA256`) as the current official SDKs sign by default (version 1.0 with `.signature_version(SignatureVersion::V1)` on the config builder, `ACS3-HMAC-SM3` with `.signature_algorithm(SignatureAlgorithm::HmacSm3)`), and retried with backoff when that is safe: an operation that is not idempotent is never retried once the request may have reached the server.\n\n```no_run\n# async fn demo() -> Result<(), Box<dyn std::error::Error>> {{\nuse {client_crate}::{{Client, Credentials}};\n\nlet config = Client::config_builder()\n    .region(\"cn-shanghai\")\n    .endpoint(\"http://127.0.0.1:8080\")\n    .credentials(Credentials::new(\"testid\", \"testsecret\"))\n    .build()?;\nlet client = Client::new(config)?;\n# Ok(())\n# }}\n```\n\nEvery operation method returns a [`Call`]: await it as it is, or set per-call options first — `.timeout(…)` (each attempt), `.header(…)`, `.retry(…)`, `.deadline(…)` (the whole call, retries included). Application code written against [`{tr}`] runs unchanged against this client, a client pointed at a local server, or a hand-written fake.",
        product = s.product,
        version = s.version,
        desc = s.description,
        client_crate = api.generation.client_crate,
        tr = api.operations_trait_name
    );
    let doc = inner_docs(&intro);
    let methods = api.operations.iter().map(method);
    let tr = ident(&api.operations_trait_name);
    let trait_methods = api.operations.iter().map(trait_method);
    let impl_methods = api.operations.iter().map(impl_method);
    let trait_doc = docs(&format!(
        "The operations of the {product} API, one async method each, with the client's request, response and error types: implemented by [`Client`]. Write application code against this trait (`async fn run(api: &impl {tr})`), and it runs unchanged against the real client, a client pointed at a local server, or a hand-written fake in tests (implement each method with an `async fn`).\n\nPer-call options (timeout, headers, retry policy, deadline) are on the client's own methods, which return a [`Call`].",
        product = s.product,
        tr = api.operations_trait_name
    ));
    let aliases = api.operations.iter().map(|op| {
        let (err, req, code) = (ident(&op.names.error), ident(&op.names.request), ident(&op.names.error_code));
        let doc = docs(&format!(
            "Why `{}` failed: an error answer with one of its codes ([`{code}`]), an undeclared code, validation (nothing sent), transport or decoding.",
            op.name
        ));
        quote! {
            #doc
            pub type #err = OperationError<::__model::#req>;
        }
    });
    quote! {
        #doc
        #![forbid(unsafe_code)]
        #![deny(missing_docs)]

        pub use __model::*;
        pub use __runtime::client::{
            AfterReceive, BeforeSend, Call, ClientConfig, ClientConfigBuilder, ConfigError, Credentials, DeadlineError,
            DecodeError, Interceptor, OperationError, Pages, RetryBudget, RetryPolicy, SignatureAlgorithm,
            SignatureVersion, TransportError, TransportErrorKind, header, tls_config,
        };
        pub use __runtime::errors::ApiError;
        pub use __runtime::validate::{Violation, Violations};

        #( #aliases )*

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

        #trait_doc
        pub trait #tr: Send + Sync {
            #( #trait_methods )*
        }

        impl #tr for Client {
            #( #impl_methods )*
        }
    }
}

/// The operation's method in the operations trait.
fn trait_method(op: &Operation) -> TokenStream {
    let n = &op.names;
    let (m, req, resp, err) = (ident(&n.method), ident(&n.request), ident(&n.response), ident(&n.error));
    let doc = docs(&format!("`{}`: {}", op.name, op.summary));
    quote! {
        #doc
        fn #m(&self, request: &#req) -> impl ::core::future::Future<Output = ::core::result::Result<#resp, #err>> + Send;
    }
}

/// The client's implementation of the operation's trait method: the call with no options.
fn impl_method(op: &Operation) -> TokenStream {
    let n = &op.names;
    let (m, req, resp, err) = (ident(&n.method), ident(&n.request), ident(&n.response), ident(&n.error));
    quote! {
        async fn #m(&self, request: &#req) -> ::core::result::Result<#resp, #err> {
            self.rpc.call(request).await
        }
    }
}

fn method(op: &Operation) -> TokenStream {
    let n = &op.names;
    let m = ident(&n.method);
    let req = ident(&n.request);
    let err = ident(&n.error);
    let retry = if op.idempotent && op.anonymous {
        "It is idempotent: transport failures, 5xx answers and retryable codes are retried with backoff (the request is sent unsigned: it takes no credentials)."
    } else if op.idempotent {
        "It is idempotent: transport failures, 5xx answers and retryable codes are retried with backoff, each attempt signed anew."
    } else {
        "It is not idempotent: it is retried only when the request cannot have reached the server (a refused connection)."
    };
    let doc = docs2(
        &format!("`{}`: {}", op.name, op.summary),
        &format!(
            "{}\n\n{retry}\n\nReturns a [`Call`]: await it, or set per-call options first (`.timeout(…)`, `.header(…)`, `.retry(…)`, `.deadline(…)`).\n\n# Errors\n[`{err}`]: the operation's code when the server answers an error, or validation (nothing sent), transport and decoding failures; its `attempts()` and `request_id()` say how many attempts were made and the last `RequestId`.",
            op.description
        ),
    );
    let paging = op.pagination.as_ref().map(|pg| {
        let stream = ident(&n.stream);
        let all = ident(&n.all);
        let stream_doc = docs(&format!(
            "Every item of `{}` across all pages, as a stream: pages are fetched one at a time, from `{}` (default 1) on, until `{}` items have been seen or a page comes back empty. `{}` is the request's, or {} (the largest the API allows) when it is not set.\n\nReturns [`Pages`]: set per-call options for every page first if needed (`.timeout(…)`, `.header(…)`, `.retry(…)`, `.deadline(…)` for the whole walk).\n\n# Errors\nThe stream yields the first error and ends.",
            op.name,
            op.params[pg.page_number].wire,
            op.response[pg.total_count].wire,
            op.params[pg.page_size].wire,
            pg.max_page_size
        ));
        let all_doc = docs(&format!(
            "Every item of `{}` across all pages, collected; see the `_stream` method. Await the returned [`Pages`], after setting any per-call option it needs.\n\n# Errors\nThe first error met while paging.",
            op.name
        ));
        quote! {
            #stream_doc
            pub fn #stream(&self, request: #req) -> Pages<'_, #req> {
                self.rpc.paginate(request)
            }

            #all_doc
            pub fn #all(&self, request: #req) -> Pages<'_, #req> {
                self.rpc.paginate(request)
            }
        }
    });
    quote! {
        #doc
        pub fn #m<'a>(&'a self, request: &'a #req) -> Call<'a, #req> {
            self.rpc.call(request)
        }

        #paging
    }
}
