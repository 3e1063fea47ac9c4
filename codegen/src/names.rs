//! Rust names for spec names: heck for the case, and escapes for what would collide with Rust
//! keywords or with names the generated code itself defines.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Every Rust keyword (strict, reserved, and edition-2024 `gen`).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// A snake_case identifier for a field, method or module: keywords become raw identifiers
/// (`r#type`), and those that cannot be raw get a trailing `_`.
pub fn snake(name: &str) -> String {
    let s = name.to_snake_case();
    let s = if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) { format!("n_{s}") } else { s };
    escape(s)
}

/// An UpperCamelCase identifier for a type or variant; `Self` and a leading digit are escaped.
pub fn camel(name: &str) -> String {
    let s = name.replace('.', "_").to_upper_camel_case();
    let s = if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) { format!("N{s}") } else { s };
    if KEYWORDS.contains(&s.as_str()) { format!("{s}Value") } else { s }
}

fn escape(s: String) -> String {
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// An identifier token for a name made by [`snake`] or [`camel`] (raw when it starts with `r#`).
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// The name without a raw prefix, for building derived names (`r#type` → `type`).
pub fn bare(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_keywords_and_cases() {
        assert_eq!(snake("SmartAGId"), "smart_ag_id");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("Self"), "self_");
        assert_eq!(snake("Crate"), "crate_");
        assert_eq!(camel("ClientUser.BandwidthInvalid"), "ClientUserBandwidthInvalid");
        assert_eq!(camel("InvalidAccessKeyId.NotFound"), "InvalidAccessKeyIdNotFound");
        assert_eq!(camel("self"), "SelfValue");
        assert_eq!(camel("3way"), "N3way");
    }
}
