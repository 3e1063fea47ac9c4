//! Reading a spec file: YAML syntax and shape through serde_yaml (unknown keys rejected), with
//! every error placed at `file:line:column`.

use crate::diagnostics::{Diagnostic, Diagnostics, did_you_mean};
use crate::raw::RawSpec;
use crate::source_map::SourceMap;

/// Deserializes `text` (named `file` in diagnostics) into the raw spec and indexes its places.
pub(crate) fn parse<'t>(text: &'t str, file: &str) -> Result<(RawSpec, SourceMap<'t>), Diagnostics> {
    match serde_yaml::from_str::<RawSpec>(text) {
        Ok(raw) => Ok((raw, SourceMap::build(text))),
        Err(e) => Err(Diagnostics(vec![from_serde(&e, file)])),
    }
}

fn from_serde(e: &serde_yaml::Error, file: &str) -> Diagnostic {
    let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    // serde_yaml writes " at line L column C" into its messages; the place is printed in front instead.
    let message = match regex::Regex::new(r" at line \d+ column \d+") {
        Ok(re) => re.replace_all(&e.to_string(), "").into_owned(),
        Err(_) => e.to_string(),
    };
    let hint = hint_for(&message);
    Diagnostic { file: file.to_string(), line, column, message, hint }
}

/// For an unknown field, the closest expected one; for a missing field, what to add.
fn hint_for(message: &str) -> Option<String> {
    if let Some(rest) = message.split("unknown field `").nth(1) {
        let word = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> =
            rest.split("expected ").nth(1).map(|e| e.split('`').skip(1).step_by(2).collect()).unwrap_or_default();
        return did_you_mean(word, expected.iter().copied())
            .or_else(|| Some(format!("allowed keys here: {}", expected.join(", "))));
    }
    if let Some(rest) = message.split("missing field `").nth(1) {
        let word = rest.split('`').next().unwrap_or_default();
        return Some(format!("add `{word}:` here"));
    }
    None
}
