//! From fully qualified paths to `use` items: emitters write every outside name with its whole
//! path (`::serde::Serialize`, `::__runtime::validate::Violations`, which no spec name can
//! shadow), and [`tidy`] turns a file into what a person would write — short names, and the
//! `use` items that bring them in, only the ones the file needs.
//!
//! Rules, applied to each path that starts with `::crate_name` or `crate::`:
//! - prelude items (`Option`, `Some`, `Result`, `String`, `Vec`, `Default`, `Into`, `From`, …)
//!   lose their path and need no import;
//! - a path whose first UpperCamelCase segment is a type, trait or derive is imported up to
//!   that segment (`use serde::Serialize;`), except under `fmt`, whose module is imported
//!   (`use std::fmt;` then `fmt::Formatter`);
//! - a function path imports its module (`use … ::extract;` then `extract::required`);
//! - a short name already taken by another path keeps its full path.
//!
//! Emitters name the runtime and the model crate by the placeholders [`RUNTIME`] and [`MODEL`];
//! this pass puts the spec's crate names (`generation:`) in their place, so no emitter spells one.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// The placeholder root of paths into the runtime crate: `::__runtime::errors::ErrorSpec`.
pub(crate) const RUNTIME: &str = "__runtime";

/// The placeholder root of paths into the generated model crate.
pub(crate) const MODEL: &str = "__model";

/// The placeholder root of paths into the hand-written command-line runtime.
pub(crate) const CLI: &str = "__cli";

/// Paths of the prelude (as segments, so matching one splits nothing), with the segments kept.
const PRELUDE: &[(&[&str], usize)] = &[
    (&["core", "option", "Option"], 1),
    (&["core", "option", "Option", "Some"], 1),
    (&["core", "option", "Option", "None"], 1),
    (&["core", "result", "Result"], 1),
    (&["core", "result", "Result", "Ok"], 1),
    (&["core", "result", "Result", "Err"], 1),
    (&["std", "string", "String"], 1),
    (&["std", "vec", "Vec"], 1),
    (&["core", "default", "Default"], 1),
    (&["core", "convert", "Into"], 1),
    (&["core", "convert", "From"], 1),
    (&["core", "iter", "IntoIterator"], 1),
    (&["core", "marker", "Send"], 1),
    (&["core", "marker", "Sync"], 1),
    // Edition 2024.
    (&["core", "future", "Future"], 1),
    (&["core", "future", "IntoFuture"], 1),
];

/// Rewrites the file `tokens` with short names and puts the `use` items it needs after its
/// inner attributes. `roots` are the crates whose paths are shortened (besides `crate`);
/// `rename` maps the placeholders to crate names.
pub(crate) fn tidy(tokens: TokenStream, roots: &[&str], rename: &[(&str, &str)]) -> TokenStream {
    // The file's own stream is not shared: collecting it moves its tokens (no copy).
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let (existing, glob_model) = imported(&trees);
    let mut state = State { roots, rename, taken: BTreeMap::new(), existing, glob_model };
    let trees = state.rewrite_trees(trees);
    // Inner attributes (`#![…]`) stay first.
    let mut split = 0;
    while let (Some(TokenTree::Punct(p)), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(_))) =
        (trees.get(split), trees.get(split + 1), trees.get(split + 2))
    {
        if p.as_char() != '#' || bang.as_char() != '!' {
            break;
        }
        split += 3;
    }
    let mut trees = trees;
    let body = trees.split_off(split);
    let mut out: TokenStream = trees.into_iter().collect();
    out.extend(state.uses());
    out.extend(body);
    out
}

struct State<'a> {
    roots: &'a [&'a str],
    rename: &'a [(&'a str, &'a str)],
    /// Names the file's own `use` items bring in already.
    existing: BTreeSet<String>,
    /// Whether the file glob-imports the model crate (`pub use model::*`).
    glob_model: bool,
    /// Short name → the path it imports (`a::b::Name`).
    taken: BTreeMap<String, String>,
}

impl State<'_> {
    /// `trees` with every path shortened and the placeholder roots renamed. The trees are moved,
    /// not cloned: a group's stream is taken out of the group, so it is not shared either.
    fn rewrite_trees(&mut self, trees: Vec<TokenTree>) -> Vec<TokenTree> {
        let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
        let mut iter = trees.into_iter();
        // `rest` is what `iter` has not yielded yet, for looking ahead at a path.
        loop {
            let rest = iter.as_slice();
            let after_use = matches!(out.last(), Some(TokenTree::Ident(id)) if id == "use");
            if !after_use && let Some((segments, end)) = self.path_at(rest, 0) {
                match self.shorten(&segments) {
                    Some(short) => {
                        out.extend(short);
                        iter.nth(end - 1);
                    }
                    None => out.extend(iter.by_ref().take(end).map(|t| self.renamed(t))),
                }
                continue;
            }
            let Some(tree) = iter.next() else { break };
            match tree {
                TokenTree::Group(g) => {
                    let (delimiter, span) = (g.delimiter(), g.span());
                    let stream = g.stream();
                    drop(g);
                    let inner: TokenStream = self.rewrite_trees(stream.into_iter().collect()).into_iter().collect();
                    let mut ng = Group::new(delimiter, inner);
                    ng.set_span(span);
                    out.push(TokenTree::Group(ng));
                }
                t => out.push(self.renamed(t)),
            }
        }
        out
    }

    /// A placeholder crate root replaced by the crate's name.
    fn renamed(&self, t: TokenTree) -> TokenTree {
        if let TokenTree::Ident(id) = &t
            && let Some((_, to)) = self.rename.iter().find(|(from, _)| id == from)
        {
            return TokenTree::Ident(Ident::new(to, id.span()));
        }
        t
    }

    /// A path starting at `i` (`::root::a::B` or `crate::a::B`): its segments (root first, with
    /// `crate` kept) and the index after it.
    fn path_at(&self, t: &[TokenTree], i: usize) -> Option<(Vec<String>, usize)> {
        let colons = |j: usize| {
            matches!((t.get(j), t.get(j + 1)), (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':')
        };
        let ident = |j: usize| match t.get(j) {
            Some(TokenTree::Ident(id)) => Some(id.to_string()),
            _ => None,
        };
        let (mut segments, mut j) = if colons(i) {
            let root = ident(i + 2)?;
            if !self.roots.contains(&root.as_str()) {
                return None;
            }
            (vec![root], i + 3)
        } else if matches!(t.get(i), Some(TokenTree::Ident(id)) if id == "crate") && colons(i + 1) {
            // Not a continuation of a longer path (`super::crate` is not a thing, but `x::crate` may be).
            (vec!["crate".to_string()], i + 1)
        } else {
            return None;
        };
        while colons(j) {
            let Some(seg) = ident(j + 2) else { break };
            segments.push(seg);
            j += 3;
        }
        (segments.len() >= 2).then_some((segments, j))
    }

    /// The short form of a path, registering its import; `None` to keep it whole.
    fn shorten(&mut self, segments: &[String]) -> Option<Vec<TokenTree>> {
        // A prelude item, possibly followed by more (`Vec::with_capacity`, `Option::Some`).
        for len in (2..=segments.len()).rev() {
            let path = &segments[..len];
            if let Some((_, keep)) =
                PRELUDE.iter().find(|(p, _)| p.len() == len && p.iter().zip(path).all(|(a, b)| a == b))
            {
                return Some(path_tokens(&segments[len - keep..]));
            }
        }
        if segments[0] == MODEL && self.glob_model {
            return Some(path_tokens(&segments[segments.len() - 1..]));
        }
        let upper = segments.iter().position(|s| s.starts_with(|c: char| c.is_ascii_uppercase()));
        // The segment imported: a type (or its `fmt` module), else a function's module.
        let imported = match upper {
            Some(k) if segments[k - 1] == "fmt" => k - 1,
            Some(k) => k,
            None if segments.len() >= 3 => segments.len() - 2,
            None => return None,
        };
        if imported == 0 {
            return None;
        }
        let mut import: Vec<String> = segments[..=imported].to_vec();
        if import[0] == "core" {
            import[0] = "std".to_string();
        }
        if let Some((_, to)) = self.rename.iter().find(|(from, _)| *from == import[0]) {
            import[0] = (*to).to_string();
        }
        let import = import.join("::");
        let short = segments[imported].clone();
        if self.existing.contains(&short) {
            return Some(path_tokens(&segments[imported..]));
        }
        match self.taken.get(&short) {
            Some(existing) if *existing != import => return None,
            Some(_) => {}
            None => {
                self.taken.insert(short, import);
            }
        }
        Some(path_tokens(&segments[imported..]))
    }

    /// The `use` items, grouped by module: `std` first, then other crates, then `crate`.
    fn uses(&self) -> TokenStream {
        let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in self.taken.values() {
            let (module, name) = path.rsplit_once("::").unwrap_or(("", path));
            groups.entry(module.to_string()).or_default().insert(name.to_string());
        }
        // As rustfmt orders them: by the path of the first name imported.
        let mut groups: Vec<(String, BTreeSet<String>)> = groups.into_iter().collect();
        groups.sort_by_key(|(module, names)| {
            let rank = match module.split("::").next() {
                Some("std") => 0,
                Some("crate") => 2,
                _ => 1,
            };
            (rank, format!("{module}::{}", names.first().map(String::as_str).unwrap_or_default()))
        });
        let mut out = TokenStream::new();
        for (module, names) in groups {
            let module = path_tokens(&module.split("::").map(str::to_string).collect::<Vec<_>>());
            let names: Vec<Ident> = names.iter().map(|n| Ident::new(n, Span::call_site())).collect();
            let item = if names.len() == 1 {
                quote::quote! { use #( #module )* :: #( #names )*; }
            } else {
                quote::quote! { use #( #module )* :: { #( #names ),* }; }
            };
            out.extend(item);
        }
        out
    }
}

/// The names the top-level `use` items of a file bring in (the last segment of each path), and
/// whether one of them is a glob of the model crate.
fn imported(tokens: &[TokenTree]) -> (BTreeSet<String>, bool) {
    fn flatten(ts: TokenStream, out: &mut Vec<TokenTree>) {
        for t in ts {
            match t {
                TokenTree::Group(g) => flatten(g.stream(), out),
                t => out.push(t),
            }
        }
    }
    let mut names = BTreeSet::new();
    let mut glob = false;
    let mut item: Option<Vec<TokenTree>> = None;
    for t in tokens {
        match (t, item.as_mut()) {
            (TokenTree::Ident(id), None) if id == "use" => item = Some(Vec::new()),
            (TokenTree::Punct(p), Some(flat)) if p.as_char() == ';' => {
                for (i, f) in flat.iter().enumerate() {
                    let continues = matches!(flat.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                    match f {
                        TokenTree::Ident(id) if !continues && id != "as" => {
                            names.insert(id.to_string());
                        }
                        TokenTree::Punct(p) if p.as_char() == '*' => {
                            glob |= i >= 3 && matches!(&flat[i - 3], TokenTree::Ident(id) if id == MODEL);
                        }
                        _ => {}
                    }
                }
                item = None;
            }
            (_, Some(flat)) => flatten(TokenStream::from(t.clone()), flat),
            _ => {}
        }
    }
    (names, glob)
}

/// `a::b::c` as tokens (no leading `::`).
fn path_tokens(segments: &[String]) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push(TokenTree::Punct(Punct::new(':', Spacing::Joint)));
            out.push(TokenTree::Punct(Punct::new(':', Spacing::Alone)));
        }
        let id = match s.strip_prefix("r#") {
            Some(raw) => Ident::new_raw(raw, Span::call_site()),
            None => Ident::new(s, Span::call_site()),
        };
        out.push(TokenTree::Ident(id));
    }
    out
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::tidy;

    #[test]
    fn shortens_paths_and_imports_what_is_used() {
        let file = quote! {
            #![forbid(unsafe_code)]
            pub use ::__runtime::errors::ErrorCode;
            #[derive(::serde::Serialize)]
            pub struct A { pub x: ::core::option::Option<::std::string::String> }
            impl ::core::fmt::Debug for A {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    let _ = ::__runtime::extract::required(crate::shapes::User::default());
                    ::core::result::Result::Ok(())
                }
            }
        };
        let text = tidy(file, &["__runtime", "serde", "core", "std"], &[("__runtime", "rt")]).to_string();
        assert_eq!(
            text,
            "# ! [forbid (unsafe_code)] use std :: fmt ; use rt :: extract ; use serde :: Serialize ; \
             use crate :: shapes :: User ; pub use :: rt :: errors :: ErrorCode ; # [derive (Serialize)] \
             pub struct A { pub x : Option < String > } impl fmt :: Debug for A { fn fmt (& self , f : & mut \
             fmt :: Formatter < '_ >) -> fmt :: Result { let _ = extract :: required (User :: default ()) ; Ok (()) } }"
        );
    }
}
