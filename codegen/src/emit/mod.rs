//! Emitters: one per generated crate. Each turns the resolved [`Api`](crate::ir::Api) into
//! token streams, one per file; [`crate::render`] prints them.

pub mod client;
pub(crate) mod imports;
pub mod model;
pub mod server;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use proc_macro2::{Ident, Span};

use crate::ir::{FieldType, Scalar, Shape};

/// `#[doc = "…"]` attributes for a text, one per line, with an empty text giving none.
pub(crate) fn docs(text: &str) -> TokenStream {
    let lines = doc_lines(text);
    quote! { #( #[doc = #lines] )* }
}

/// `#![doc = "…"]` inner attributes, for a module's or crate's own documentation.
pub(crate) fn inner_docs(text: &str) -> TokenStream {
    let lines = doc_lines(text);
    quote! { #( #![doc = #lines] )* }
}

fn doc_lines(text: &str) -> Vec<String> {
    text.trim()
        .lines()
        .map(|l| if l.trim().is_empty() { String::new() } else { format!(" {}", l.trim_end()) })
        .collect()
}

/// Docs made of a summary paragraph and a longer description.
pub(crate) fn docs2(summary: &str, description: &str) -> TokenStream {
    if description.trim().is_empty() {
        docs(summary)
    } else {
        docs(&format!("{}\n\n{}", summary.trim(), description.trim()))
    }
}

/// The Rust type of a scalar, fully qualified so that spec names cannot shadow it.
pub(crate) fn scalar_type(s: Scalar) -> TokenStream {
    match s {
        Scalar::String => quote! { ::std::string::String },
        Scalar::Int32 => quote! { i32 },
        Scalar::Int64 => quote! { i64 },
        Scalar::Bool => quote! { bool },
    }
}

/// The Rust type of a response field.
pub(crate) fn field_type(ty: &FieldType, shapes: &[Shape]) -> TokenStream {
    match ty {
        FieldType::Scalar(s) => scalar_type(*s),
        FieldType::List(i) => {
            let item = ident(&shapes[*i].rust);
            quote! { ::std::vec::Vec<crate::shapes::#item> }
        }
    }
}

/// An identifier token for a name the IR decided (raw when it starts with `r#`).
pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// A string literal token.
pub(crate) fn lit(s: &str) -> Literal {
    Literal::string(s)
}
