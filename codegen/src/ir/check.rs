//! The checks that build nothing: each looks at one piece of the raw spec (or at names already
//! decided) and reports what is wrong through the [`Checker`], at the piece's `line:column`.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::raw::{RawBounds, RawError, RawGeneration, RawService};
use crate::source_map::SourceMap;

/// Placeholders a message template may use.
const PLACEHOLDERS: &[&str] = &["param", "string_to_sign", "reason"];

/// The protocol parameters the runtime sends and checks itself; a spec cannot declare them.
const COMMON_PROTOCOL_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
];

/// Collects diagnostics, each placed at the `line:column` of a spec path such as
/// `operations[0].parameters[2].type`.
pub struct Checker<'a> {
    file: &'a str,
    map: &'a SourceMap<'a>,
    /// What has been reported so far.
    pub out: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    /// A checker for the spec `file` whose places `map` knows.
    pub fn new(file: &'a str, map: &'a SourceMap<'a>) -> Checker<'a> {
        Checker { file, map, out: Vec::new() }
    }

    /// Reports a problem at `path`.
    pub fn report(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let (line, column) = self.map.locate(path);
        self.out.push(Diagnostic { file: self.file.to_string(), line, column, message: message.into(), hint });
    }

    /// How many problems have been reported: compare before and after a piece to know whether
    /// it was sound.
    pub fn count(&self) -> usize {
        self.out.len()
    }
}

/// Whether `name` is one of the spec's scalar type names (or an alias of one).
pub fn is_scalar_name(name: &str) -> bool {
    super::types::Scalar::parse(name).is_some()
}

/// Whether `s` is one UpperCamelCase word of ASCII letters and digits.
pub fn is_upper_camel_word(s: &str) -> bool {
    s.starts_with(|ch: char| ch.is_ascii_uppercase()) && s.chars().all(|ch| ch.is_ascii_alphanumeric())
}

/// `service:`: protocol, endpoint, version, product.
pub fn service(c: &mut Checker<'_>, s: &RawService) {
    if s.protocol != "rpc" {
        c.report(
            "service.protocol",
            format!("unsupported protocol `{}`", s.protocol),
            Some("only `rpc` (Alibaba Cloud RPC style, signature v1.0) is supported".into()),
        );
    }
    if !s.endpoint.contains("{region}") {
        c.report(
            "service.endpoint",
            format!("endpoint `{}` has no `{{region}}` placeholder", s.endpoint),
            Some("write it as e.g. `https://ecs.{region}.aliyuncs.com`".into()),
        );
    }
    if !s.endpoint.starts_with("https://") && !s.endpoint.starts_with("http://") {
        c.report("service.endpoint", format!("endpoint `{}` is not an http(s) URL", s.endpoint), None);
    }
    if s.version.trim().is_empty() {
        c.report(
            "service.version",
            "service version is empty",
            Some("quote it, e.g. `version: \"2018-03-13\"`".into()),
        );
    }
    if !is_upper_camel_word(&s.product) {
        c.report("service.product", format!("product `{}` is not a single UpperCamelCase word", s.product), None);
    }
}

/// `generation:`: crate names are Rust identifiers; output directories are distinct relative
/// paths, none inside another.
pub fn generation(c: &mut Checker<'_>, g: &RawGeneration) {
    let cli_runtime = g.cli_runtime_crate.clone().unwrap_or_else(|| "alibaba_rpc_cli".to_string());
    for (key, name) in [
        ("runtime_crate", &g.runtime_crate),
        ("model_crate", &g.model_crate),
        ("client_crate", &g.client_crate),
        ("cli_runtime_crate", &cli_runtime),
    ] {
        let ok = name.starts_with(|ch: char| ch.is_ascii_lowercase() || ch == '_')
            && name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !ok {
            c.report(
                &format!("generation.{key}"),
                format!("`{name}` is not a crate name as Rust code spells it"),
                Some("use lowercase letters, digits and `_`, e.g. `my_api_model` (a package `my-api-model`)".into()),
            );
        }
    }
    let mut dirs = vec![("model", &g.output.model), ("client", &g.output.client), ("server", &g.output.server)];
    dirs.extend(g.output.cli.as_ref().map(|cli| ("cli", cli)));
    for (i, (key, dir)) in dirs.iter().enumerate() {
        let path = format!("generation.output.{key}");
        let parts: Vec<&str> = dir.split('/').collect();
        if dir.is_empty()
            || dir.starts_with('/')
            || dir.contains('\\')
            || parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..")
        {
            c.report(
                &path,
                format!("output directory `{dir}` is not a plain relative path"),
                Some("write it relative to the output directory, with `/`, e.g. `generated-model/src`".into()),
            );
        }
        for (other, odir) in &dirs[..i] {
            let nested = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/"));
            if nested(dir, odir) || nested(odir, dir) {
                c.report(
                    &path,
                    format!("output directory `{dir}` overlaps the {other} crate's `{odir}`"),
                    Some("every generated crate needs a directory of its own".into()),
                );
            }
        }
    }
}

/// Whether `code` is dot-separated words of ASCII letters and digits, the first starting with a
/// letter (`ClientUser.NameInvalid`): `^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$`, without compiling
/// a regex for every declared code.
fn is_code(code: &str) -> bool {
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric());
    code.starts_with(|c: char| c.is_ascii_alphabetic()) && code.split('.').all(word)
}

/// One error declaration (its code, status and message), apart from duplicates.
pub fn error(c: &mut Checker<'_>, e: &RawError, path: &str) {
    if !is_code(&e.code) {
        c.report(
            &format!("{path}.code"),
            format!("error code `{}` is not dot-separated words", e.code),
            Some("e.g. `ClientUser.NameInvalid`".into()),
        );
    }
    if !(400..=599).contains(&e.status) {
        c.report(
            &format!("{path}.status"),
            format!("HTTP status {} of `{}` is not an error status", e.status, e.code),
            Some("use a status from 400 to 599".into()),
        );
    }
    placeholders(c, &format!("{path}.message"), &e.message);
    if e.not_produced.as_deref().is_some_and(|r| r.trim().is_empty()) {
        c.report(
            &format!("{path}.not_produced"),
            format!("`not_produced` of `{}` gives no reason", e.code),
            Some("say why the service never answers this code".into()),
        );
    }
}

/// Every `{name}` of a message template is a known placeholder.
fn placeholders(c: &mut Checker<'_>, path: &str, message: &str) {
    let mut rest = message;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            c.report(
                path,
                format!("unknown placeholder `{{{name}}}` in message"),
                Some(format!(
                    "messages may use {}",
                    PLACEHOLDERS.iter().map(|p| format!("`{{{p}}}`")).collect::<Vec<_>>().join(", ")
                )),
            );
        }
        rest = &after[end + 1..];
    }
}

/// Inclusive bounds: at least one given, in order, within the type's `(lo, hi)`.
pub fn bounds(c: &mut Checker<'_>, path: &str, b: RawBounds, (lo, hi): (i64, i64)) {
    if b.min.is_none() && b.max.is_none() {
        c.report(path, "bounds need `min`, `max` or both", None);
    }
    if let (Some(min), Some(max)) = (b.min, b.max)
        && min > max
    {
        c.report(path, format!("min {min} is greater than max {max}"), Some("swap them".into()));
    }
    for v in [b.min, b.max].into_iter().flatten() {
        if v < lo || v > hi {
            c.report(path, format!("bound {v} does not fit the parameter's type"), None);
        }
    }
}

/// A parameter's wire name is a name, and not one of the protocol's own.
pub fn param_name(c: &mut Checker<'_>, name: &str, path: &str) {
    if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.') {
        c.report(
            &format!("{path}.name"),
            format!("parameter name `{name}` is not a wire name"),
            Some("use letters, digits, `_` and `.`".into()),
        );
    }
    if COMMON_PROTOCOL_PARAMS.contains(&name) {
        c.report(
            &format!("{path}.name"),
            format!("`{name}` is a common protocol parameter and cannot be declared"),
            Some("the runtime sends and checks it".into()),
        );
    }
}

/// An error code named at `path` is one the operation `op` can answer.
pub fn error_ref(c: &mut Checker<'_>, path: &str, code: &str, declared: &[&str], op: &str) {
    if !declared.contains(&code) {
        c.report(
            path,
            format!("error code `{code}` is not declared for operation `{op}`"),
            did_you_mean(code, declared.iter().copied()).or_else(|| {
                Some(format!("list `{code}` under the operation's `errors:` (and declare it under `errors:`)"))
            }),
        );
    }
}

/// The Rust type names of the generated crates: each claimed once, by its first claimant.
pub struct TypeNames(BTreeMap<String, String>);

impl TypeNames {
    /// The names the generated crates define or import themselves, already taken.
    pub fn new(reserved: &[&str]) -> TypeNames {
        TypeNames(reserved.iter().map(|t| ((*t).to_string(), "the generated crates".to_string())).collect())
    }

    /// Claims `ty` for `who` (declared at `path`), reporting a collision.
    pub fn claim(&mut self, c: &mut Checker<'_>, ty: &str, path: &str, who: &str) {
        if let Some(prev) = self.0.get(ty) {
            c.report(
                path,
                format!("{who} would generate the type `{ty}`, which {prev} already defines"),
                Some("rename one of them".into()),
            );
        } else {
            self.0.insert(ty.to_string(), who.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_code;

    #[test]
    fn error_codes_are_dot_separated_words() {
        for good in ["X", "ClientUser.NameInvalid", "SAG.InstanceIdEmpty", "Throttling.User", "A1.2b"] {
            assert!(is_code(good), "{good} was refused");
        }
        for bad in ["", "1Bad", ".X", "X.", "X..Y", "X-Y", "X.Y Z", "É"] {
            assert!(!is_code(bad), "{bad} was accepted");
        }
    }
}
