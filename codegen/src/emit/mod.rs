//! Emitters: one per generated crate. Each turns the resolved [`Api`] into
//! token streams, one per file; [`crate::render`] prints them.

mod checks;
pub mod cli;
pub mod client;
pub(crate) mod imports;
pub mod model;
mod request;
pub mod server;
mod types;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use proc_macro2::{Ident, Span};

use crate::ir::{Api, FieldType, Param, ParamType, Scalar, ValueType};

/// Which of a crate's files an emitter call produces: file `i` (in the emitter's own order) when
/// `(i + offset) % of == index`. [`crate::generate`] asks for one file at a time
/// ([`Part::one`]), on whichever thread is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// This part's number, below `of`.
    pub index: usize,
    /// How many parts there are.
    pub of: usize,
    /// Added to every file's number.
    pub offset: usize,
}

impl Part {
    /// Every file in one part.
    pub const ALL: Part = Part { index: 0, of: 1, offset: 0 };

    /// File `i` alone.
    pub fn one(i: usize) -> Part {
        Part { index: i, of: usize::MAX, offset: 0 }
    }

    /// Whether file `i` belongs to this part.
    pub fn takes(self, i: usize) -> bool {
        (i + self.offset) % self.of.max(1) == self.index
    }
}

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

fn doc_lines(text: &str) -> Vec<Literal> {
    text.trim()
        .lines()
        .map(|l| if l.trim().is_empty() { doc_lit("") } else { doc_lit(&format!(" {}", l.trim_end())) })
        .collect()
}

/// The literal of one doc line: a raw string (`r"…"`, with as many `#` as the text needs), which
/// costs little to make and to read back (the printer turns it into `/// …` whatever its form),
/// unlike an escaped string, built and then parsed again character by character.
fn doc_lit(line: &str) -> Literal {
    if line.contains('\r') {
        // A raw string cannot hold a bare carriage return.
        return Literal::string(line);
    }
    let hashes = line
        .match_indices('"')
        .map(|(at, _)| line[at + 1..].bytes().take_while(|b| *b == b'#').count() + 1)
        .max()
        .unwrap_or(0);
    let fence = "#".repeat(hashes);
    format!("r{fence}\"{line}\"{fence}").parse().unwrap_or_else(|_| Literal::string(line))
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

/// The Rust type of a value (in the model crate).
pub(crate) fn value_type(v: ValueType, api: &Api) -> TokenStream {
    match v {
        ValueType::Scalar(s) => scalar_type(s),
        ValueType::Enum(i) => {
            let name = ident(&api.enums[i].rust);
            quote! { crate::enums::#name }
        }
    }
}

/// The Rust type of a shape (in the model crate).
pub(crate) fn shape_type(i: usize, api: &Api) -> TokenStream {
    let name = ident(&api.shapes[i].rust);
    quote! { crate::shapes::#name }
}

/// The Rust type of a response or shape field, without the `Option` of an optional one.
pub(crate) fn field_type(ty: &FieldType, api: &Api) -> TokenStream {
    match ty {
        FieldType::Value(v) => value_type(*v, api),
        FieldType::Struct(i) => shape_type(*i, api),
        FieldType::List(i) => {
            let item = shape_type(*i, api);
            quote! { ::std::vec::Vec<#item> }
        }
        FieldType::Values { item, .. } => {
            let item = value_type(*item, api);
            quote! { ::std::vec::Vec<#item> }
        }
    }
}

/// The Rust type of one item of a parameter (the parameter's type for a single value).
pub(crate) fn param_item_type(p: &Param, api: &Api) -> TokenStream {
    match p.ty {
        ParamType::Value(v) | ParamType::List(v) => value_type(v, api),
        ParamType::Structs(i) => shape_type(i, api),
    }
}

/// The Rust type of a request field: a list is a `Vec` (empty when not sent), an optional value
/// an `Option`.
pub(crate) fn param_type(p: &Param, api: &Api) -> TokenStream {
    let item = param_item_type(p, api);
    match p.ty {
        ParamType::List(_) | ParamType::Structs(_) => quote! { ::std::vec::Vec<#item> },
        ParamType::Value(_) if p.required => item,
        ParamType::Value(_) => quote! { ::core::option::Option<#item> },
    }
}

/// An identifier token for a name the IR decided (raw when it starts with `r#`).
pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// A string literal token, spelled as [`Literal::string`] spells it. A string that needs no
/// escape (printable ASCII without `"` or `\\`: nearly every one) is written as it is and read as
/// a token, which is much cheaper than escaping it character by character.
pub(crate) fn lit(s: &str) -> Literal {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        && let Ok(literal) = format!("\"{s}\"").parse()
    {
        return literal;
    }
    Literal::string(s)
}

#[cfg(test)]
mod tests {
    use proc_macro2::Literal;

    use super::{doc_lit, lit};

    /// The text a string literal stands for, as the printer reads it.
    fn value(l: &Literal) -> String {
        syn::parse_str::<syn::LitStr>(&l.to_string()).map(|s| s.value()).unwrap_or_else(|e| panic!("{l}: {e}"))
    }

    #[test]
    fn doc_lines_read_back_as_written_whatever_they_hold() {
        for line in
            ["", " plain", " a \"quoted\" word", " \"#tag\" and \"##two\"", " ends with \"", " back\\slash", " é ✓"]
        {
            assert_eq!(value(&doc_lit(line)), line);
        }
        assert_eq!(value(&doc_lit(" a\rb")), " a\rb", "a carriage return falls back to an escaped string");
    }

    #[test]
    fn string_literals_are_spelled_as_literal_string_spells_them() {
        for s in ["", "RegionId", "1 to 2000, else X", "with \"quotes\"", "tab\there", "back\\slash", "é", "it's"] {
            assert_eq!(lit(s).to_string(), Literal::string(s).to_string(), "{s:?}");
        }
    }
}
