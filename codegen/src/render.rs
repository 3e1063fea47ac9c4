//! Turning token streams into source text: parse into `syn::File`, print with prettyplease, and
//! put the `@generated` header in front (comments do not survive a token stream).

use proc_macro2::TokenStream;

/// The spec path and command named in every header.
pub struct Provenance<'a> {
    /// The spec file, as named in headers (relative to the output directory when inside it).
    pub spec: &'a str,
}

/// Renders one generated file. A token stream that does not parse is a bug in an emitter; it is
/// reported with the file name and the parser's message rather than a panic.
pub fn render(tokens: TokenStream, file: &str, prov: &Provenance<'_>) -> Result<String, String> {
    // Keep a copy (cheap: shared) to show the tokens only when they do not parse.
    let shown = tokens.clone();
    let parsed: syn::File =
        syn::parse2(tokens).map_err(|e| format!("emitter produced invalid Rust for {file}: {e}\n{shown}"))?;
    let body = space_items(&prettyplease::unparse(&parsed));
    Ok(format!("{}{body}", header(prov)))
}

/// Puts a blank line between items, as a person would (prettyplease prints none): after the
/// inner docs and attributes, between groups of `use` lines (std, other crates, this crate,
/// re-exports) and after `mod` lines, after an item's last line, and before a documented field
/// or variant. Text only, so it is deterministic; function bodies are untouched (a blank line is
/// added only before a line that starts an item).
pub fn space_items(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev: Option<Line<'_>> = None;
    // The kind of the item the previous line belongs to, per indentation (for multi-line `use`).
    let mut kinds: Vec<(usize, Kind)> = Vec::new();
    for text in text.lines() {
        // Each line is trimmed once (the rules below look at every line several times).
        let l = text.trim_start();
        let line = Line { trimmed: l.trim_end(), depth: text.len() - l.len() };
        let kind = kind(line.trimmed);
        let prev_kind = kinds.iter().rev().find(|(d, _)| *d == line.depth).map(|(_, k)| *k);
        if let Some(p) = prev
            && needs_blank(p, line, prev_kind, kind)
        {
            out.push('\n');
        }
        out.push_str(text);
        out.push('\n');
        if kind != Kind::Other || line.trimmed.starts_with(['}', ')', '>']) {
            kinds.retain(|(d, _)| *d < line.depth);
            kinds.push((line.depth, if kind == Kind::Other { prev_kind.unwrap_or(Kind::Other) } else { kind }));
        }
        prev = Some(line);
    }
    out
}

/// A line of printed code, trimmed, and its indentation.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    trimmed: &'a str,
    depth: usize,
}

/// What kind of item a line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `use std::…`
    UseStd,
    /// `use other_crate::…`
    UseCrate,
    /// `use crate::…` / `use super::…`
    UseLocal,
    /// `pub use …`
    Reexport,
    /// `mod x;`
    Mod,
    /// Anything else.
    Other,
}

fn kind(l: &str) -> Kind {
    if let Some(rest) = l.strip_prefix("use ") {
        if rest.starts_with("std::") {
            Kind::UseStd
        } else if rest.starts_with("crate::") || rest.starts_with("super::") || rest.starts_with("self::") {
            Kind::UseLocal
        } else {
            Kind::UseCrate
        }
    } else if l.starts_with("pub use ") {
        Kind::Reexport
    } else if (l.starts_with("mod ") || l.starts_with("pub mod ")) && l.ends_with(';') {
        Kind::Mod
    } else {
        Kind::Other
    }
}

fn needs_blank(prev: Line<'_>, line: Line<'_>, prev_kind: Option<Kind>, kind: Kind) -> bool {
    let (p, l) = (prev.trimmed, line.trimmed);
    if p.is_empty() || l.is_empty() || prev.depth != line.depth {
        return false;
    }
    let starts_item = l.starts_with("///") || l.starts_with("#[") || is_item(l);
    if p.starts_with("//!") || p.starts_with("#![") {
        return !(l.starts_with("//!") || l.starts_with("#!["));
    }
    if p.starts_with("///") || p.starts_with("#[") || p.starts_with("//") {
        return false;
    }
    let ends_item = p == "}" || (p.ends_with(';') && (p.starts_with(['}', ')', '>']) || is_item(p)));
    if let Some(pk) = prev_kind
        && pk != Kind::Other
        && ends_item
    {
        return starts_item && kind != pk;
    }
    (ends_item && starts_item) || (p.ends_with(',') && l.starts_with("///"))
}

/// Whether a line starts an item (not a statement or an expression).
fn is_item(l: &str) -> bool {
    let l = l.strip_prefix("pub(crate) ").or_else(|| l.strip_prefix("pub ")).unwrap_or(l);
    ["fn ", "async fn ", "const ", "static ", "struct ", "enum ", "impl ", "impl<", "trait ", "type ", "mod ", "use "]
        .iter()
        .any(|k| l.starts_with(k))
}

/// The header of every generated file: no version, no timestamp.
pub fn header(prov: &Provenance<'_>) -> String {
    format!(
        "{} by `cargo xtask gen` from {}. Do not edit by hand:\n// change the spec and run `cargo xtask gen`; `cargo xtask check` fails on any difference.\n\n",
        crate::GENERATED_MARKER,
        prov.spec
    )
}
