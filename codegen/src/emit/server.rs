//! The server crate (`generated-server`): the trait implementers write (one async method per
//! operation) and the function that turns an implementation into an axum `Router`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Part, docs, docs2, ident, inner_docs, lit};
use crate::ir::{Api, Operation};

/// Every file of the server crate, as (path under `src/`, tokens).
pub fn files(api: &Api, part: Part) -> Vec<(String, TokenStream)> {
    if part.takes(0) { vec![("lib.rs".to_string(), lib(api))] } else { Vec::new() }
}

fn lib(api: &Api) -> TokenStream {
    let s = &api.service;
    let tr = ident(&api.trait_name);
    let intro = inner_docs(&format!(
        "An axum server for the {product} API (version {version}), generated from the spec.\n\n{desc}\n\nImplement [`{tr}`] (the business logic only) and serve [`router`]: the router speaks the wire protocol (query, form body or GET; JSON or XML), checks signatures, timestamps and nonces, validates every request against the spec and answers every failure with the API's own error envelope and code.",
        product = s.product,
        version = s.version,
        desc = s.description
    ));
    let methods = api.operations.iter().map(trait_method);
    let aliases = api.operations.iter().map(|op| {
        let alias = ident(&op.names.server_error);
        let code = ident(&op.names.error_code);
        let doc = docs(&format!(
            "What an implementation of `{}` may fail with: one of its declared codes, or an internal error.",
            op.name
        ));
        quote! {
            #doc
            pub type #alias = ::__runtime::server::ServerError<::__model::#code>;
        }
    });
    let arms = api.operations.iter().map(|op| {
        let m = ident(&op.names.method);
        let action = lit(&op.name);
        quote! {
            #action => {
                let api = ::std::sync::Arc::clone(&self.api);
                ::__runtime::server::invoke(ctx, &params, move |ctx, request| async move { A::#m(&api, ctx, request).await })
            }
        }
    });
    // Only an API with anonymous operations (`auth: none`) overrides the trait's default.
    let anonymous: Vec<_> = api.operations.iter().filter(|op| op.anonymous).map(|op| lit(&op.name)).collect();
    let is_anonymous = (!anonymous.is_empty()).then(|| {
        quote! {
            fn is_anonymous(&self, action: &str) -> bool {
                ::core::matches!(action, #( #anonymous )|*)
            }
        }
    });
    let router_doc = docs(
        "The axum `Router` serving `api`: every operation of the spec at `/`, with the protocol checks and error envelopes of [`ServerConfig`].\n\nServe it with `into_make_service_with_connect_info::<std::net::SocketAddr>()` so that [`RequestContext::remote_addr`] is known.",
    );
    quote! {
        #intro
        #![forbid(unsafe_code)]
        #![deny(missing_docs)]

        pub use __model::*;
        pub use __runtime::server::{
            Authentication, CredentialStore, KeyMaterial, Reply, RequestContext, ServerConfig, ServerError,
        };

        #( #aliases )*

        #[doc = " The operations of the API, one async method each. Requests arrive parsed and already"]
        #[doc = " validated against the spec; return the response, or one of the operation's declared"]
        #[doc = " codes (`ServerError::api`), or an internal error (answered as `InternalError`, details"]
        #[doc = " kept out of the answer)."]
        #[doc = ""]
        #[doc = " A response is answered as a [`Reply`]: `Ok(response.into())` for one built for the"]
        #[doc = " request, or `Ok(Arc::clone(&kept).into())` (`Reply::Shared`) for one the implementation"]
        #[doc = " keeps, e.g. a cached page, which the router then serializes from the shared value"]
        #[doc = " without copying it. The router writes its own `RequestId` over the response's."]
        pub trait #tr: Send + Sync + 'static {
            #( #methods )*
        }

        #router_doc
        pub fn router<A: #tr>(api: A, config: ServerConfig) -> ::axum::Router {
            ::__runtime::server::router(
                Dispatcher { api: ::std::sync::Arc::new(api) },
                config,
                &::__runtime::errors::ProtocolErrors::STANDARD,
            )
        }

        struct Dispatcher<A> {
            api: ::std::sync::Arc<A>,
        }

        impl<A: #tr> ::__runtime::server::Dispatch for Dispatcher<A> {
            fn dispatch(
                &self,
                ctx: RequestContext,
                params: ::__runtime::params::Params,
            ) -> ::core::option::Option<::__runtime::server::DispatchFuture> {
                let future = match ctx.action.as_str() {
                    #( #arms )*
                    _ => return ::core::option::Option::None,
                };
                ::core::option::Option::Some(future)
            }

            #is_anonymous
        }
    }
}

fn trait_method(op: &Operation) -> TokenStream {
    let m = ident(&op.names.method);
    let req = ident(&op.names.request);
    let resp = ident(&op.names.response);
    let alias = ident(&op.names.server_error);
    let doc = docs2(&format!("`{}`: {}", op.name, op.summary), &op.description);
    quote! {
        #doc
        fn #m(
            &self,
            ctx: RequestContext,
            request: ::__model::#req,
        ) -> impl ::core::future::Future<Output = ::core::result::Result<::__runtime::server::Reply<::__model::#resp>, #alias>> + Send;
    }
}
