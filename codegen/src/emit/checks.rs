//! The constraint checks of a request (`Operation::validate`): each parameter's constraints
//! grouped by the code they raise, the spec's missing and empty rules, and the rules across
//! parameters; the patterns they use, compiled once.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{docs, ident as to_ident, lit};
use crate::ir::{Api, ConstraintKind, ErrorRef, Format, Operation, Param, ParamType, Scalar};

pub(super) fn patterns(op: &Operation) -> TokenStream {
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
pub(super) fn variant(api: &Api, error: &ErrorRef) -> TokenStream {
    let v = to_ident(&error.variant);
    if api.is_protocol(&error.code) {
        quote! { Code::Protocol(::__runtime::errors::ProtocolCode::#v) }
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

pub(super) fn validate_body(api: &Api, op: &Operation) -> TokenStream {
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
