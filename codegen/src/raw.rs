//! The spec as written: serde types that mirror the YAML one to one. Unknown keys are rejected.
//! Meaning (types, references, ranges) is checked later, by [`crate::ir`].

use serde::Deserialize;

/// The whole spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub service: RawService,
    pub generation: RawGeneration,
    /// Rejected with a diagnostic: the protocol errors are the runtime's (kept here so that the
    /// loader can say so at the section's line rather than "unknown field").
    #[serde(default)]
    pub protocol_errors: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub errors: Vec<RawError>,
    #[serde(default)]
    pub common_parameters: Vec<RawParam>,
    #[serde(default)]
    pub enums: Vec<RawEnum>,
    #[serde(default)]
    pub shapes: Vec<RawShape>,
    pub operations: Vec<RawOperation>,
}

/// A named set of string values (`ResourceType: VPC | VSWITCH | …`), usable as a parameter's or
/// a field's type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnum {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub values: Vec<RawEnumValue>,
}

/// One value of an enum, as sent on the wire.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnumValue {
    pub value: String,
    #[serde(default)]
    pub description: String,
}

/// `service:` — product metadata.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub product: String,
    pub version: String,
    pub protocol: String,
    pub endpoint: String,
    pub host_id: String,
    #[serde(default)]
    pub description: String,
}

/// `generation:` — what the generated code is called and where it goes: the only settings that
/// tie the generator to one product's crates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGeneration {
    /// The crate name (as in `use`) of the hand-written runtime.
    pub runtime_crate: String,
    /// The crate name of the generated model crate, which the client and server crates use.
    pub model_crate: String,
    /// The crate name of the generated client crate (named in its examples).
    pub client_crate: String,
    /// The crate name of the hand-written command-line runtime (default `alibaba_rpc_cli`).
    #[serde(default)]
    pub cli_runtime_crate: Option<String>,
    /// The `src/` directory of each generated crate, relative to the output directory.
    pub output: RawOutput,
}

/// `generation.output:` — one directory per generated crate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub model: String,
    pub client: String,
    pub server: String,
    /// The command line's `src/`: optional, a spec without it gets no command line.
    #[serde(default)]
    pub cli: Option<String>,
}

/// An error code of the spec's operations, in `errors:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawError {
    pub code: String,
    pub status: u16,
    pub message: String,
    #[serde(default)]
    pub when: String,
    #[serde(default)]
    pub retryable: bool,
    /// Why the service of this project never answers the code (it is still declared, for
    /// clients of the real API); absent when the service can answer it.
    #[serde(default)]
    pub not_produced: Option<String>,
}

/// A request parameter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    pub name: String,
    #[serde(default)]
    pub rust_name: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<RawScalar>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub missing_error: Option<String>,
    #[serde(default)]
    pub empty_error: Option<String>,
    #[serde(default)]
    pub type_error: Option<String>,
    #[serde(default)]
    pub constraints: Vec<RawConstraint>,
}

/// A literal default value.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RawScalar {
    Bool(bool),
    Int(i64),
    Str(String),
}

/// One constraint: exactly one of `range`, `length`, `pattern`, `format`, `count`, and the error
/// it raises.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConstraint {
    #[serde(default)]
    pub range: Option<RawBounds>,
    #[serde(default)]
    pub count: Option<RawBounds>,
    #[serde(default)]
    pub length: Option<RawBounds>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    pub error: String,
}

/// Inclusive bounds.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct RawBounds {
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
}

/// A cross-parameter rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub requires: RawRequires,
    pub error: String,
}

/// `requires: { if: A, then: B }` — when A is given, B must be given too.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequires {
    #[serde(rename = "if")]
    pub if_given: String,
    #[serde(rename = "then")]
    pub then_required: String,
}

/// A response field or shape field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// The element name of a wrapped list of values: `"VSwitchIds": {"VSwitchId": [...]}`.
    #[serde(default)]
    pub element: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
    /// A secret value (an AccessKey secret, a token): `***` in the type's `Debug`.
    #[serde(default)]
    pub secret: bool,
}

/// A named structure: in responses (the items of a list, a nested object) or in requests (the
/// items of a repeat list, flattened as `Tag.1.Key`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShape {
    pub name: String,
    /// The element name of one item when the shape is listed: `"Users": {"User": [...]}`.
    pub element: String,
    #[serde(default)]
    pub description: String,
    pub fields: Vec<RawField>,
}

/// Which parameters and fields page an operation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPagination {
    pub page_number: String,
    pub page_size: String,
    pub total_count: String,
    pub items: String,
}

/// An operation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperation {
    pub name: String,
    pub summary: String,
    #[serde(default)]
    pub description: String,
    pub idempotent: bool,
    /// How callers authenticate: `signed` (the default, an AccessKey signature) or `none` (an
    /// anonymous call, such as STS `AssumeRoleWithOIDC`).
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub parameters: Vec<RawParam>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub response: Vec<RawField>,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub pagination: Option<RawPagination>,
}
