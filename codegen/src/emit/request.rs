//! One operation's request in the model crate: the struct, its typestate builder, its
//! `Operation` impl (writing and reading its parameters through the runtime's `Flattener` and
//! `Reader`) and, for a paged operation, its `Paginated` impl.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::checks::{validate_body, variant};
use super::model::Names;
use super::{docs, docs2, ident as to_ident, lit, param_item_type, param_type};
use crate::ir::names;
use crate::ir::{Api, ErrorRef, Operation, Param, ParamType, Scalar, ValueType};

pub(super) fn request_struct(api: &Api, op: &Operation, n: &Names) -> TokenStream {
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
pub(super) fn builder(api: &Api, op: &Operation, n: &Names) -> TokenStream {
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
pub(super) fn paginated_impl(api: &Api, op: &Operation, n: &Names) -> Option<TokenStream> {
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

pub(super) fn operation_impl(api: &Api, op: &Operation, n: &Names) -> TokenStream {
    let Names { request, response, .. } = n;
    let action = lit(&op.name);
    let idempotent = op.idempotent;
    // Only anonymous operations say so; the trait's default is `false`.
    let anonymous = op.anonymous.then(|| quote! { const ANONYMOUS: bool = true; });
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
    // An operation without parameters never writes or reads one.
    let mutable = (!op.params.is_empty()).then(|| quote! { mut });
    quote! {
        impl ::__runtime::operation::Operation for #request {
            const ACTION: &'static str = #action;
            const IDEMPOTENT: bool = #idempotent;
            #anonymous
            type Response = #response;
            type ErrorCode = Code;

            fn validate(&self) -> ::core::result::Result<(), ::__runtime::validate::Violations> {
                #validate
            }

            fn to_params(&self) -> ::std::vec::Vec<::__runtime::flatten::WireParam<'_>> {
                let #mutable out = ::__runtime::flatten::Flattener::with_capacity(#count);
                #( #to_params )*
                out.finish()
            }

            fn from_params(params: &::__runtime::params::Params) -> ::core::result::Result<Self, ::__runtime::validate::Violations> {
                let #mutable r = ::__runtime::extract::Reader::new(params, #missing_code, #invalid_code);
                let value = Self {
                    #( #extract, )*
                };
                r.finish(value, <Self as ::__runtime::operation::Operation>::validate)
            }
        }
    }
}
