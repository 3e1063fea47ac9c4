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
    let text = tokens.to_string();
    let parsed: syn::File =
        syn::parse2(tokens).map_err(|e| format!("emitter produced invalid Rust for {file}: {e}\n{text}"))?;
    let body = prettyplease::unparse(&parsed);
    Ok(format!("{}{body}", header(prov)))
}

/// The header of every generated file: no version, no timestamp.
pub fn header(prov: &Provenance<'_>) -> String {
    format!(
        "{} by `cargo xtask gen` from {}. Do not edit by hand:\n// change the spec and run `cargo xtask gen`; `cargo xtask check` fails on any difference.\n\n",
        crate::GENERATED_MARKER,
        prov.spec
    )
}
