//! The model's named types: `shapes.rs` (structures of responses, and of requests' repeat lists,
//! with the serde modules of wrapped value lists) and `enums.rs` (named sets of string values).

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::{docs, field_type, ident, lit};
use crate::ir::{Api, EnumDef, Field, FieldType, Shape};

/// `shapes.rs`.
pub(crate) fn shapes_file(api: &Api) -> TokenStream {
    let items = api.shapes.iter().map(|s| shape(api, s));
    let modules = list_modules(api).into_iter().map(|(prefix, element)| {
        let ser = ident(&format!("{prefix}_serialize"));
        let de = ident(&format!("{prefix}_deserialize"));
        let ser_doc = docs(&format!("Serializes a list of values wrapped as `{{\"{element}\": [...]}}`."));
        let de_doc = docs(&format!("Deserializes a list of values wrapped as `{{\"{element}\": [...]}}`."));
        let element = lit(&element);
        quote! {
            #ser_doc
            pub(crate) fn #ser<T: ::serde::Serialize, S: ::serde::Serializer>(items: &[T], serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                ::__runtime::wrapped_list::serialize_as(items, #element, serializer)
            }

            #de_doc
            pub(crate) fn #de<'de, T: ::serde::Deserialize<'de>, D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<::std::vec::Vec<T>, D::Error> {
                ::__runtime::wrapped_list::deserialize_as(deserializer, #element)
            }
        }
    });
    quote! {
        //! Structures that responses are made of, and that requests list (flattened as `Name.N.Field`).
        #( #items )*
        #( #modules )*
    }
}

/// The serde functions of the wrapped lists of values, by name prefix (each element once).
fn list_modules(api: &Api) -> BTreeMap<String, String> {
    let fields = api.shapes.iter().flat_map(|s| &s.fields).chain(api.operations.iter().flat_map(|o| &o.response));
    fields
        .filter_map(|f| match &f.ty {
            FieldType::Values { element, module, .. } => Some((module.clone(), element.clone())),
            _ => None,
        })
        .collect()
}

fn shape(api: &Api, s: &Shape) -> TokenStream {
    let name = ident(&s.rust);
    let doc = if s.description.trim().is_empty() {
        docs(&format!("The `{}` structure.", s.name))
    } else {
        docs(&s.description)
    };
    let element = lit(&s.element);
    let fields = s.fields.iter().map(|f| field(api, f));
    let flat = s.in_requests.then(|| flat_struct(s));
    let (derive_debug, debug) = redacted_debug(&s.rust, &s.fields, false);
    quote! {
        #doc
        #[derive(#derive_debug Clone, PartialEq, Eq, Default, ::serde::Serialize, ::serde::Deserialize)]
        pub struct #name {
            #( #fields, )*
        }

        #debug

        impl ::__runtime::operation::ListItem for #name {
            const ELEMENT: &'static str = #element;
        }

        #flat
    }
}

/// `Debug` of a response or shape type: derived (the first token stream, `Debug,`) unless a field
/// is secret; then written out (the second) with `***` for the secret fields. `request_id`: the
/// type also has the `request_id` field every response carries.
pub(crate) fn redacted_debug(rust: &str, fields: &[Field], request_id: bool) -> (TokenStream, TokenStream) {
    if !fields.iter().any(|f| f.secret) {
        return (quote! { Debug, }, TokenStream::new());
    }
    let name = ident(rust);
    let shown = lit(rust);
    let request_id = request_id.then(|| quote! { .field("request_id", &self.request_id) });
    let each = fields.iter().map(|f| {
        let (field, label) = (ident(&f.rust), lit(&f.rust));
        match (f.secret, f.required) {
            (true, true) => quote! { .field(#label, &"***") },
            (true, false) => quote! { .field(#label, &self.#field.as_ref().map(|_| "***")) },
            (false, _) => quote! { .field(#label, &self.#field) },
        }
    });
    let debug = quote! {
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#shown)
                    #request_id
                    #( #each )*
                    .finish()
            }
        }
    };
    (TokenStream::new(), debug)
}

/// How a structure listed in a request is flattened (`Tag.1.Key`) and read back.
fn flat_struct(s: &Shape) -> TokenStream {
    let name = ident(&s.rust);
    let puts = s.fields.iter().map(|f| {
        let (field, key) = (ident(&f.rust), format!("{{prefix}}.{}", f.wire));
        if f.required {
            quote! { out.put_named(format!(#key), &self.#field); }
        } else {
            quote! { out.put_named_opt(format!(#key), &self.#field); }
        }
    });
    let gets = s.fields.iter().map(|f| {
        let (field, wire) = (ident(&f.rust), lit(&f.wire));
        if f.required {
            quote! { #field: fields.required(#wire)? }
        } else {
            quote! { #field: fields.optional(#wire)? }
        }
    });
    quote! {
        impl ::__runtime::flatten::FlatStruct for #name {
            fn flatten<'a>(&'a self, prefix: &str, out: &mut ::__runtime::flatten::Flattener<'a>) {
                #( #puts )*
            }

            fn unflatten(fields: &::__runtime::flatten::FlatFields<'_>) -> ::core::option::Option<Self> {
                ::core::option::Option::Some(Self { #( #gets, )* })
            }
        }
    }
}

/// A field of a response or a shape, with its wire name and wrapping.
pub(crate) fn field(api: &Api, f: &Field) -> TokenStream {
    let doc = if f.description.trim().is_empty() { docs(&format!("`{}`.", f.wire)) } else { docs(&f.description) };
    let ident = ident(&f.rust);
    let wire = lit(&f.wire);
    let t = field_type(&f.ty, api);
    match &f.ty {
        FieldType::List(_) => {
            let with = lit(&format!("{}::wrapped_list", api.generation.runtime_crate));
            quote! {
                #doc
                #[serde(rename = #wire, default, with = #with)]
                pub #ident: #t
            }
        }
        FieldType::Values { module, .. } => {
            let ser = lit(&format!("crate::shapes::{module}_serialize"));
            let de = lit(&format!("crate::shapes::{module}_deserialize"));
            quote! {
                #doc
                #[serde(rename = #wire, default, serialize_with = #ser, deserialize_with = #de)]
                pub #ident: #t
            }
        }
        FieldType::Value(_) | FieldType::Struct(_) if f.required => quote! {
            #doc
            #[serde(rename = #wire, default)]
            pub #ident: #t
        },
        FieldType::Value(_) | FieldType::Struct(_) => quote! {
            #doc
            #[serde(rename = #wire, default, skip_serializing_if = "::core::option::Option::is_none")]
            pub #ident: ::core::option::Option<#t>
        },
    }
}

/// `enums.rs`, for a spec that declares enums.
pub(crate) fn enums_file(api: &Api) -> Option<TokenStream> {
    if api.enums.is_empty() {
        return None;
    }
    let items = api.enums.iter().map(enum_def);
    Some(quote! {
        //! Named sets of string values. Each keeps a value it does not list as `Unknown`, so that an
        //! answer with a value added to the API after this code was generated still decodes; a
        //! server refuses such a value in a request.
        #( #items )*
    })
}

fn enum_def(e: &EnumDef) -> TokenStream {
    let name = ident(&e.rust);
    let doc =
        if e.description.trim().is_empty() { docs(&format!("The `{}` values.", e.name)) } else { docs(&e.description) };
    let variants = e.values.iter().map(|v| {
        let variant = ident(&v.variant);
        let text = if v.description.trim().is_empty() {
            format!("`{}`.", v.wire)
        } else {
            format!("`{}`: {}", v.wire, v.description.trim())
        };
        let doc = docs(&text);
        quote! { #doc #variant }
    });
    let table = e.values.iter().map(|v| {
        let (variant, wire) = (ident(&v.variant), lit(&v.wire));
        quote! { (#wire, Self::#variant) }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #name {
            #( #variants, )*
            /// A value this description of the API does not list, kept as received.
            Unknown(::std::string::String),
        }

        impl ::__runtime::wire_enum::WireEnum for #name {
            const VALUES: &'static [(&'static str, Self)] = &[ #( #table ),* ];

            fn unknown(text: ::std::string::String) -> Self {
                Self::Unknown(text)
            }

            fn unknown_text(&self) -> ::core::option::Option<&str> {
                match self {
                    Self::Unknown(text) => ::core::option::Option::Some(text),
                    _ => ::core::option::Option::None,
                }
            }
        }

        /// An empty `Unknown` value: what an answer that lacks the field decodes to.
        impl ::core::default::Default for #name {
            fn default() -> Self {
                Self::Unknown(::std::string::String::new())
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::__runtime::wire_enum::WireEnum::as_str(self))
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                ::__runtime::wire_enum::serialize(self, serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                ::__runtime::wire_enum::deserialize(deserializer)
            }
        }
    }
}
