//! The resolved model: the spec after every name, type and reference has been checked. Emitters
//! read only this, never the raw YAML.
//!
//! [`resolve`] reports every problem at once; it returns a model only for a spec without any.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostics::{Diagnostic, Diagnostics, did_you_mean};
use crate::names;
use crate::raw::{RawBounds, RawError, RawField, RawParam, RawScalar, RawSpec};
use crate::source_map::SourceMap;

/// The protocol roles the runtime needs a code for, with what each is for.
pub const PROTOCOL_ROLES: &[(&str, &str)] = &[
    ("missing_parameter", "a required parameter is absent"),
    ("invalid_parameter", "a parameter cannot be read as its type"),
    ("signature_does_not_match", "a wrong signature"),
    ("invalid_access_key_id", "an unknown AccessKeyId"),
    ("signature_nonce_used", "a replayed SignatureNonce"),
    ("invalid_timestamp_expired", "a Timestamp outside the window"),
    ("invalid_timestamp_format", "a malformed Timestamp"),
    ("invalid_action", "an unknown Action"),
    ("invalid_version", "a wrong Version"),
    ("request_too_large", "an oversized request"),
    ("request_timeout", "a request the server could not answer in time"),
    ("throttling", "a request refused for load"),
    ("internal_error", "an unexpected server failure"),
];

/// Placeholders a message template may use.
const PLACEHOLDERS: &[&str] = &["param", "string_to_sign"];

/// Variant names the generated client error enums define themselves.
const RESERVED_VARIANTS: &[&str] = &["Unknown", "Validation", "Transport", "Decode"];

/// Type names the generated crates define besides the per-operation ones.
const RESERVED_TYPES: &[&str] =
    &["Client", "ClientConfig", "Credentials", "RetryPolicy", "ApiError", "Violation", "Violations"];

/// A whole, checked API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Service metadata.
    pub service: Service,
    /// Protocol errors shared by all operations, in spec order.
    pub protocol_errors: Vec<ErrorDef>,
    /// Operation error codes, in spec order.
    pub errors: Vec<ErrorDef>,
    /// Named structures.
    pub shapes: Vec<Shape>,
    /// Operations, in spec order.
    pub operations: Vec<Operation>,
}

/// Service metadata.
#[derive(Debug, Clone)]
pub struct Service {
    /// Product code, e.g. `Smartag`.
    pub product: String,
    /// API version, e.g. `2018-03-13`.
    pub version: String,
    /// Endpoint with a `{region}` placeholder.
    pub endpoint: String,
    /// The HostId answered in error envelopes.
    pub host_id: String,
    /// What the service is.
    pub description: String,
}

/// An error code.
#[derive(Debug, Clone)]
pub struct ErrorDef {
    /// Wire code, e.g. `ClientUser.UserExist`.
    pub code: String,
    /// Rust variant name, e.g. `ClientUserUserExist`.
    pub variant: String,
    /// HTTP status.
    pub status: u16,
    /// Message template.
    pub message: String,
    /// When it fires.
    pub when: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// The runtime role of a protocol error.
    pub role: Option<String>,
}

/// A scalar wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// UTF-8 text.
    String,
    /// 32-bit integer.
    Int32,
    /// 64-bit integer.
    Int64,
    /// `true` / `false`.
    Bool,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        match s {
            "string" => Some(Scalar::String),
            "int32" | "integer" => Some(Scalar::Int32),
            "int64" | "long" => Some(Scalar::Int64),
            "bool" | "boolean" => Some(Scalar::Bool),
            _ => None,
        }
    }

    /// Whether the type is an integer.
    pub fn is_integer(self) -> bool {
        matches!(self, Scalar::Int32 | Scalar::Int64)
    }

    fn limits(self) -> (i64, i64) {
        match self {
            Scalar::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        }
    }
}

const SCALAR_NAMES: &[&str] = &["string", "int32", "int64", "bool"];

/// The type of a response field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// A scalar.
    Scalar(Scalar),
    /// A wrapped list of a shape: `"Users": {"User": [...]}`; the index into [`Api::shapes`].
    List(usize),
}

/// A request parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Wire name.
    pub wire: String,
    /// Rust field name (possibly raw, `r#type`).
    pub rust: String,
    /// Type.
    pub ty: Scalar,
    /// Whether it must be given.
    pub required: bool,
    /// Default the server assumes when absent.
    pub default: Option<i64>,
    /// Rustdoc.
    pub description: String,
    /// Redacted in Debug.
    pub secret: bool,
    /// Code when a required parameter is absent or empty.
    pub missing_error: String,
    /// Code when an optional parameter is sent empty (otherwise empty means absent).
    pub empty_error: Option<String>,
    /// Code when the value does not parse as the type.
    pub type_error: String,
    /// Constraints, in spec order.
    pub constraints: Vec<Constraint>,
}

/// A constraint and the error it raises.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// What must hold.
    pub kind: ConstraintKind,
    /// The code of the error raised when it does not.
    pub error: String,
}

/// What a constraint checks.
#[derive(Debug, Clone)]
pub enum ConstraintKind {
    /// Integer within inclusive bounds.
    Range {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// Length in characters within inclusive bounds.
    Length {
        /// Fewest characters.
        min: Option<i64>,
        /// Most characters.
        max: Option<i64>,
    },
    /// Matches a regular expression.
    Pattern(String),
    /// A named format.
    Format(Format),
}

/// A named format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An e-mail address.
    Email,
    /// A private IPv4 address.
    PrivateIpv4,
}

const FORMATS: &[&str] = &["email", "private_ipv4"];

/// When one parameter is given, another must be too.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The index of the parameter that triggers the rule.
    pub if_given: usize,
    /// The index of the parameter that must then be given.
    pub then_required: usize,
    /// The code raised.
    pub error: String,
}

/// A response or shape field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Wire name.
    pub wire: String,
    /// Rust field name.
    pub rust: String,
    /// Type.
    pub ty: FieldType,
    /// Whether the field is always present (not an `Option`).
    pub required: bool,
    /// Rustdoc.
    pub description: String,
}

/// A named structure.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Spec name.
    pub name: String,
    /// Rust type name.
    pub rust: String,
    /// Element name of one item in a wrapped list.
    pub element: String,
    /// Rustdoc.
    pub description: String,
    /// Fields (scalars).
    pub fields: Vec<Field>,
}

/// How an operation pages.
#[derive(Debug, Clone)]
pub struct Pagination {
    /// Index of the page-number parameter.
    pub page_number: usize,
    /// Index of the page-size parameter.
    pub page_size: usize,
    /// Index of the total-count response field.
    pub total_count: usize,
    /// Index of the list response field.
    pub items: usize,
    /// Largest page size the spec allows (from the page-size range), if any.
    pub max_page_size: Option<i64>,
}

/// An operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Wire name (`Action`).
    pub name: String,
    /// Rust type prefix (UpperCamel).
    pub rust: String,
    /// Rust method name (snake).
    pub method: String,
    /// One line.
    pub summary: String,
    /// More.
    pub description: String,
    /// Safe to retry.
    pub idempotent: bool,
    /// Parameters: the operation's own, then the common ones.
    pub params: Vec<Param>,
    /// Cross-parameter rules.
    pub rules: Vec<Rule>,
    /// Response fields.
    pub response: Vec<Field>,
    /// Codes of its own errors (declared in [`Api::errors`]).
    pub errors: Vec<String>,
    /// Paging.
    pub pagination: Option<Pagination>,
}

impl Api {
    /// The declaration of an error code (operation or protocol).
    pub fn error(&self, code: &str) -> Option<&ErrorDef> {
        self.errors.iter().chain(&self.protocol_errors).find(|e| e.code == code)
    }

    /// Every error an operation can answer: its own codes, then the protocol codes.
    pub fn operation_errors<'a>(&'a self, op: &'a Operation) -> impl Iterator<Item = &'a ErrorDef> + 'a {
        op.errors.iter().filter_map(|c| self.error(c)).chain(&self.protocol_errors)
    }

    /// The protocol error playing a runtime role.
    pub fn role(&self, role: &str) -> Option<&ErrorDef> {
        self.protocol_errors.iter().find(|e| e.role.as_deref() == Some(role))
    }
}

struct Checker<'a> {
    file: &'a str,
    map: &'a SourceMap,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn report(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let (line, column) = self.map.locate(path);
        self.out.push(Diagnostic { file: self.file.to_string(), line, column, message: message.into(), hint });
    }
}

/// Checks a deserialized spec and resolves it into the model, reporting every problem at once.
pub(crate) fn resolve(raw: RawSpec, file: &str, map: &SourceMap) -> Result<Api, Diagnostics> {
    let mut c = Checker { file, map, out: Vec::new() };
    let service = check_service(&mut c, &raw);

    let protocol_errors = check_errors(&mut c, &raw.protocol_errors, "protocol_errors", &mut BTreeMap::new());
    let mut seen_codes: BTreeMap<String, ()> = protocol_errors.iter().map(|e| (e.code.clone(), ())).collect();
    let errors = check_errors(&mut c, &raw.errors, "errors", &mut seen_codes);
    check_roles(&mut c, &raw.protocol_errors);

    let shapes = check_shapes(&mut c, &raw);
    let mut type_names: BTreeMap<String, String> = BTreeMap::new();
    for t in RESERVED_TYPES {
        type_names.insert((*t).to_string(), "the generated crates".to_string());
    }
    for (i, s) in shapes.iter().enumerate() {
        claim_type(&mut c, &mut type_names, &s.rust, &format!("shapes[{i}].name"), &format!("shape `{}`", s.name));
    }

    let mut operations = Vec::new();
    let mut seen_ops: HashMap<String, usize> = HashMap::new();
    let mut methods: HashMap<String, usize> = HashMap::new();
    if raw.operations.is_empty() {
        c.report(
            "operations",
            "the spec declares no operation",
            Some("add at least one entry under `operations:`".into()),
        );
    }
    for (i, op) in raw.operations.iter().enumerate() {
        let path = format!("operations[{i}]");
        if let Some(prev) = seen_ops.insert(op.name.clone(), i) {
            c.report(
                &format!("{path}.name"),
                format!("duplicate operation `{}`", op.name),
                Some(format!("it is already declared as operations[{prev}]; rename or remove one")),
            );
            continue;
        }
        if !is_upper_camel_word(&op.name) {
            c.report(
                &format!("{path}.name"),
                format!("operation name `{}` is not an UpperCamelCase action name", op.name),
                Some("use letters and digits only, starting with an uppercase letter, e.g. `CreateThing`".into()),
            );
        }
        let rust = names::camel(&op.name);
        for suffix in ["Request", "RequestBuilder", "Response", "ErrorCode", "Error"] {
            claim_type(
                &mut c,
                &mut type_names,
                &format!("{rust}{suffix}"),
                &format!("{path}.name"),
                &format!("operation `{}`", op.name),
            );
        }
        let method = client_method_name(&op.name);
        if let Some(prev) = methods.insert(method.clone(), i) {
            c.report(
                &format!("{path}.name"),
                format!("operation `{}` gives the method name `{method}`, as operations[{prev}] does", op.name),
                Some("rename one of the operations".into()),
            );
        }
        if let Some(o) = check_operation(&mut c, &raw, op, &path, &shapes, &errors, &protocol_errors) {
            operations.push(Operation { rust, method, ..o });
        }
    }

    let diags = Diagnostics(c.out).finish();
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Api { service, protocol_errors, errors, shapes, operations })
}

/// The client method for an operation, escaped away from the client's own inherent methods.
fn client_method_name(op: &str) -> String {
    let m = names::snake(op);
    const OWN: &[&str] = &["new", "config_builder", "region", "rpc"];
    if OWN.contains(&names::bare(&m)) { format!("{}_operation", names::bare(&m)) } else { m }
}

fn claim_type(c: &mut Checker<'_>, names: &mut BTreeMap<String, String>, ty: &str, path: &str, who: &str) {
    if let Some(prev) = names.get(ty) {
        c.report(
            path,
            format!("{who} would generate the type `{ty}`, which {prev} already defines"),
            Some("rename one of them".into()),
        );
    } else {
        names.insert(ty.to_string(), who.to_string());
    }
}

fn is_upper_camel_word(s: &str) -> bool {
    s.starts_with(|ch: char| ch.is_ascii_uppercase()) && s.chars().all(|ch| ch.is_ascii_alphanumeric())
}

fn check_service(c: &mut Checker<'_>, raw: &RawSpec) -> Service {
    let s = &raw.service;
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
            Some("write it as e.g. `https://smartag.{region}.aliyuncs.com`".into()),
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
    Service {
        product: s.product.clone(),
        version: s.version.clone(),
        endpoint: s.endpoint.clone(),
        host_id: s.host_id.clone(),
        description: s.description.clone(),
    }
}

fn check_errors(
    c: &mut Checker<'_>,
    raw: &[RawError],
    section: &str,
    seen: &mut BTreeMap<String, ()>,
) -> Vec<ErrorDef> {
    let code_re = regex::Regex::new(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$").ok();
    let mut variants: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let path = format!("{section}[{i}]");
        if seen.insert(e.code.clone(), ()).is_some() {
            c.report(
                &format!("{path}.code"),
                format!("duplicate error code `{}`", e.code),
                Some("each code is declared once, in `errors:` or `protocol_errors:`".into()),
            );
            continue;
        }
        if code_re.as_ref().is_some_and(|re| !re.is_match(&e.code)) {
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
        check_placeholders(c, &format!("{path}.message"), &e.message);
        if section == "errors" && e.role.is_some() {
            c.report(
                &format!("{path}.role"),
                format!("`{}` has a role, but roles belong to protocol errors", e.code),
                Some("move it under `protocol_errors:` or drop `role`".into()),
            );
        }
        let variant = names::camel(&e.code);
        if RESERVED_VARIANTS.contains(&variant.as_str()) {
            c.report(
                &format!("{path}.code"),
                format!(
                    "error code `{}` would generate the variant `{variant}`, which the client error enum uses itself",
                    e.code
                ),
                Some("rename the code".into()),
            );
        }
        if let Some(prev) = variants.insert(variant.clone(), e.code.clone()) {
            c.report(
                &format!("{path}.code"),
                format!("error codes `{prev}` and `{}` both become the variant `{variant}`", e.code),
                None,
            );
        }
        out.push(ErrorDef {
            code: e.code.clone(),
            variant,
            status: e.status,
            message: e.message.clone(),
            when: e.when.clone(),
            retryable: e.retryable,
            role: e.role.clone(),
        });
    }
    out
}

fn check_placeholders(c: &mut Checker<'_>, path: &str, message: &str) {
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

fn check_roles(c: &mut Checker<'_>, raw: &[RawError]) {
    let known: BTreeSet<&str> = PROTOCOL_ROLES.iter().map(|(r, _)| *r).collect();
    let mut taken: HashMap<&str, usize> = HashMap::new();
    for (i, e) in raw.iter().enumerate() {
        let Some(role) = e.role.as_deref() else { continue };
        let path = format!("protocol_errors[{i}].role");
        if !known.contains(role) {
            c.report(
                &path,
                format!("unknown protocol role `{role}`"),
                did_you_mean(role, known.iter().copied())
                    .or_else(|| Some(format!("roles are: {}", known.iter().copied().collect::<Vec<_>>().join(", ")))),
            );
        } else if let Some(prev) = taken.insert(role, i) {
            c.report(
                &path,
                format!("role `{role}` is already played by protocol_errors[{prev}]"),
                Some("give each role to one code".into()),
            );
        }
    }
    for (role, what) in PROTOCOL_ROLES {
        if !taken.contains_key(role) {
            c.report(
                "protocol_errors",
                format!("no protocol error has the role `{role}` ({what})"),
                Some(format!("add `role: {role}` to the code the server answers for {what}")),
            );
        }
    }
}

fn check_shapes(c: &mut Checker<'_>, raw: &RawSpec) -> Vec<Shape> {
    let mut out = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, s) in raw.shapes.iter().enumerate() {
        let path = format!("shapes[{i}]");
        if let Some(prev) = seen.insert(&s.name, i) {
            c.report(
                &format!("{path}.name"),
                format!("duplicate shape `{}`", s.name),
                Some(format!("already declared as shapes[{prev}]")),
            );
        }
        let fields = check_fields(c, &s.fields, &format!("{path}.fields"), &[], false);
        out.push(Shape {
            name: s.name.clone(),
            rust: names::camel(&s.name),
            element: s.element.clone(),
            description: s.description.clone(),
            fields,
        });
    }
    out
}

fn check_fields(
    c: &mut Checker<'_>,
    raw: &[RawField],
    path: &str,
    shapes: &[Shape],
    lists_allowed: bool,
) -> Vec<Field> {
    let mut out = Vec::new();
    let mut wire: HashMap<&str, usize> = HashMap::new();
    let mut rust: HashMap<String, usize> = HashMap::new();
    for (i, f) in raw.iter().enumerate() {
        let fp = format!("{path}[{i}]");
        if f.name == "RequestId" {
            c.report(
                &format!("{fp}.name"),
                "`RequestId` is part of every response already",
                Some("remove this field; the generated types carry RequestId themselves".into()),
            );
            continue;
        }
        if let Some(prev) = wire.insert(&f.name, i) {
            c.report(
                &format!("{fp}.name"),
                format!("duplicate field `{}`", f.name),
                Some(format!("already declared at {path}[{prev}]")),
            );
            continue;
        }
        let r = names::snake(&f.name);
        if let Some(prev) = rust.insert(r.clone(), i) {
            c.report(
                &format!("{fp}.name"),
                format!("field `{}` has the Rust name `{r}`, as {path}[{prev}] does", f.name),
                None,
            );
        }
        let ty = match parse_field_type(&f.ty, shapes) {
            Ok(FieldType::List(_)) if !lists_allowed => {
                c.report(
                    &format!("{fp}.type"),
                    format!("a list (`{}`) cannot be nested in a shape", f.ty),
                    Some("shape fields are scalars".into()),
                );
                continue;
            }
            Ok(t) => t,
            Err(msg) => {
                let hint = type_hint(&f.ty, shapes, lists_allowed);
                c.report(&format!("{fp}.type"), msg, Some(hint));
                continue;
            }
        };
        out.push(Field { wire: f.name.clone(), rust: r, ty, required: f.required, description: f.description.clone() });
    }
    out
}

fn type_hint(ty: &str, shapes: &[Shape], lists_allowed: bool) -> String {
    let mut candidates: Vec<String> = SCALAR_NAMES.iter().map(|s| s.to_string()).collect();
    if lists_allowed {
        candidates.extend(shapes.iter().map(|s| format!("list<{}>", s.name)));
    }
    did_you_mean(ty, candidates.iter().map(String::as_str))
        .unwrap_or_else(|| format!("types are {}", candidates.join(", ")))
}

fn parse_field_type(ty: &str, shapes: &[Shape]) -> Result<FieldType, String> {
    if let Some(s) = Scalar::parse(ty) {
        return Ok(FieldType::Scalar(s));
    }
    if let Some(inner) = ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
        return match shapes.iter().position(|s| s.name == inner) {
            Some(i) => Ok(FieldType::List(i)),
            None => Err(format!("unknown shape `{inner}` in type `{ty}`")),
        };
    }
    Err(format!("unknown type `{ty}`"))
}

fn check_operation(
    c: &mut Checker<'_>,
    raw: &RawSpec,
    op: &crate::raw::RawOperation,
    path: &str,
    shapes: &[Shape],
    errors: &[ErrorDef],
    protocol: &[ErrorDef],
) -> Option<Operation> {
    let before = c.out.len();
    // The operation's own codes.
    let mut own: Vec<String> = Vec::new();
    for (i, code) in op.errors.iter().enumerate() {
        let ep = format!("{path}.errors[{i}]");
        if own.contains(code) {
            c.report(&ep, format!("`{code}` is listed twice"), None);
        } else if protocol.iter().any(|e| &e.code == code) {
            c.report(
                &ep,
                format!("`{code}` is a protocol error, which every operation answers already"),
                Some("remove it from the operation's list".into()),
            );
        } else if !errors.iter().any(|e| &e.code == code) {
            c.report(
                &ep,
                format!("error code `{code}` is not declared"),
                did_you_mean(code, errors.iter().map(|e| e.code.as_str()))
                    .or_else(|| Some("declare it under `errors:`".into())),
            );
        } else {
            own.push(code.clone());
        }
    }
    let declared = |code: &str| own.iter().any(|c| c == code) || protocol.iter().any(|e| e.code == code);
    let missing_default = role_code(protocol, "missing_parameter");
    let invalid_default = role_code(protocol, "invalid_parameter");

    let mut params = Vec::new();
    // Names declared but broken: later references to them are not reported again.
    let mut broken: Vec<String> = Vec::new();
    let mut wire_seen: HashMap<&str, String> = HashMap::new();
    let mut rust_seen: HashMap<String, String> = HashMap::new();
    let all = op
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("{path}.parameters[{i}]"), p))
        .chain(raw.common_parameters.iter().enumerate().map(|(i, p)| (format!("common_parameters[{i}]"), p)));
    for (pp, p) in all {
        if let Some(prev) = wire_seen.insert(&p.name, pp.clone()) {
            c.report(
                &format!("{pp}.name"),
                format!("duplicate parameter `{}` in operation `{}`", p.name, op.name),
                Some(format!("it is already declared at {prev}")),
            );
            continue;
        }
        let param = check_param(c, p, &pp, &op.name, &declared, &own, protocol, &missing_default, &invalid_default);
        if param.is_none() {
            broken.push(p.name.clone());
        }
        if let Some(param) = param {
            if let Some(prev) = rust_seen.insert(param.rust.clone(), pp.clone()) {
                c.report(
                    &format!("{pp}.name"),
                    format!("parameter `{}` has the Rust name `{}`, as {prev} does", p.name, param.rust),
                    Some("set `rust_name:` on one of them".into()),
                );
            }
            params.push(param);
        }
    }

    let mut rules = Vec::new();
    for (i, r) in op.rules.iter().enumerate() {
        let rp = format!("{path}.rules[{i}]");
        let find = |name: &str| params.iter().position(|p: &Param| p.wire == name);
        let a = find(&r.requires.if_given);
        let b = find(&r.requires.then_required);
        let names: Vec<&str> = params.iter().map(|p| p.wire.as_str()).collect();
        if a.is_none() {
            c.report(
                &format!("{rp}.requires.if"),
                format!("rule names `{}`, which is not a parameter of `{}`", r.requires.if_given, op.name),
                did_you_mean(&r.requires.if_given, names.iter().copied()),
            );
        }
        if b.is_none() {
            c.report(
                &format!("{rp}.requires.then"),
                format!("rule names `{}`, which is not a parameter of `{}`", r.requires.then_required, op.name),
                did_you_mean(&r.requires.then_required, names.iter().copied()),
            );
        }
        check_error_ref(c, &format!("{rp}.error"), &r.error, &declared, &own, protocol, &op.name);
        if let (Some(a), Some(b)) = (a, b) {
            rules.push(Rule { if_given: a, then_required: b, error: r.error.clone() });
        }
    }

    let response = check_fields(c, &op.response, &format!("{path}.response"), shapes, true);
    broken.extend(op.response.iter().filter(|f| !response.iter().any(|r| r.wire == f.name)).map(|f| f.name.clone()));

    let pagination = op.pagination.as_ref().and_then(|pg| {
        let pgp = format!("{path}.pagination");
        let param = |c: &mut Checker<'_>, key: &str, name: &str| -> Option<usize> {
            match params.iter().position(|p| p.wire == name) {
                Some(i) if params[i].ty.is_integer() => Some(i),
                Some(_) => {
                    c.report(&format!("{pgp}.{key}"), format!("pagination parameter `{name}` is not an integer"), None);
                    None
                }
                None if broken.iter().any(|b| b == name) => None,
                None => {
                    c.report(
                        &format!("{pgp}.{key}"),
                        format!("pagination names the parameter `{name}`, which `{}` does not have", op.name),
                        did_you_mean(name, params.iter().map(|p| p.wire.as_str())),
                    );
                    None
                }
            }
        };
        let pn = param(c, "page_number", &pg.page_number);
        let ps = param(c, "page_size", &pg.page_size);
        let field = |c: &mut Checker<'_>, key: &str, name: &str, want_list: bool| -> Option<usize> {
            match response.iter().position(|f| f.wire == name) {
                Some(i) => {
                    let ok = match response[i].ty {
                        FieldType::List(_) => want_list,
                        FieldType::Scalar(s) => !want_list && s.is_integer(),
                    };
                    if !ok {
                        c.report(
                            &format!("{pgp}.{key}"),
                            format!(
                                "pagination field `{name}` is not {}",
                                if want_list { "a list" } else { "an integer" }
                            ),
                            None,
                        );
                        return None;
                    }
                    Some(i)
                }
                None if broken.iter().any(|b| b == name) => None,
                None => {
                    c.report(
                        &format!("{pgp}.{key}"),
                        format!("pagination names the response field `{name}`, which `{}` does not have", op.name),
                        did_you_mean(name, response.iter().map(|f| f.wire.as_str())),
                    );
                    None
                }
            }
        };
        let tc = field(c, "total_count", &pg.total_count, false);
        let it = field(c, "items", &pg.items, true);
        let max_page_size = ps.and_then(|i| {
            params[i].constraints.iter().find_map(|k| match k.kind {
                ConstraintKind::Range { max, .. } => max,
                _ => None,
            })
        });
        if let Some(i) = ps
            && max_page_size.is_none()
        {
            c.report(
                &format!("{pgp}.page_size"),
                format!("page-size parameter `{}` has no maximum", params[i].wire),
                Some("add `range: { min: 1, max: N }` so that listing every page uses bounded pages".into()),
            );
        }
        Some(Pagination { page_number: pn?, page_size: ps?, total_count: tc?, items: it?, max_page_size })
    });

    if c.out.len() > before {
        return None;
    }
    Some(Operation {
        name: op.name.clone(),
        rust: String::new(),
        method: String::new(),
        summary: op.summary.clone(),
        description: op.description.clone(),
        idempotent: op.idempotent,
        params,
        rules,
        response,
        errors: own,
        pagination,
    })
}

fn role_code(protocol: &[ErrorDef], role: &str) -> String {
    protocol.iter().find(|e| e.role.as_deref() == Some(role)).map(|e| e.code.clone()).unwrap_or_default()
}

fn check_error_ref(
    c: &mut Checker<'_>,
    path: &str,
    code: &str,
    declared: &dyn Fn(&str) -> bool,
    own: &[String],
    protocol: &[ErrorDef],
    op: &str,
) {
    if !declared(code) {
        let candidates = own.iter().map(String::as_str).chain(protocol.iter().map(|e| e.code.as_str()));
        c.report(
            path,
            format!("error code `{code}` is not declared for operation `{op}`"),
            did_you_mean(code, candidates).or_else(|| {
                Some(format!("list `{code}` under the operation's `errors:` (and declare it under `errors:`)"))
            }),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn check_param(
    c: &mut Checker<'_>,
    p: &RawParam,
    pp: &str,
    op: &str,
    declared: &dyn Fn(&str) -> bool,
    own: &[String],
    protocol: &[ErrorDef],
    missing_default: &str,
    invalid_default: &str,
) -> Option<Param> {
    let before = c.out.len();
    let Some(ty) = Scalar::parse(&p.ty) else {
        c.report(
            &format!("{pp}.type"),
            format!("unknown type `{}` for parameter `{}`", p.ty, p.name),
            Some(
                did_you_mean(&p.ty, SCALAR_NAMES.iter().copied())
                    .unwrap_or_else(|| format!("parameter types are {}", SCALAR_NAMES.join(", "))),
            ),
        );
        return None;
    };
    let error_ref = |c: &mut Checker<'_>, key: &str, code: &str| {
        check_error_ref(c, &format!("{pp}.{key}"), code, declared, own, protocol, op)
    };
    if let Some(code) = &p.missing_error {
        error_ref(c, "missing_error", code);
        if !p.required {
            c.report(
                &format!("{pp}.missing_error"),
                format!("`missing_error` on optional parameter `{}`", p.name),
                Some("set `required: true`, or use `empty_error` for a parameter sent empty".into()),
            );
        }
    }
    if let Some(code) = &p.empty_error {
        error_ref(c, "empty_error", code);
        if p.required || ty != Scalar::String {
            c.report(
                &format!("{pp}.empty_error"),
                format!("`empty_error` applies only to optional string parameters, and `{}` is not one", p.name),
                Some("a required parameter sent empty raises its `missing_error`".into()),
            );
        }
    }
    if let Some(code) = &p.type_error {
        error_ref(c, "type_error", code);
    }
    let mut constraints = Vec::new();
    for (i, k) in p.constraints.iter().enumerate() {
        let kp = format!("{pp}.constraints[{i}]");
        error_ref(c, &format!("constraints[{i}].error"), &k.error);
        let given = [k.range.is_some(), k.length.is_some(), k.pattern.is_some(), k.format.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if given != 1 {
            c.report(
                &kp,
                format!(
                    "a constraint needs exactly one of `range`, `length`, `pattern`, `format`; this one has {given}"
                ),
                Some("split it into one constraint per check".into()),
            );
            continue;
        }
        let kind = if let Some(b) = k.range {
            if !ty.is_integer() {
                c.report(
                    &format!("{kp}.range"),
                    format!("`range` on non-integer parameter `{}`", p.name),
                    Some("use `length` for strings".into()),
                );
            }
            check_bounds(c, &format!("{kp}.range"), b, ty.limits());
            ConstraintKind::Range { min: b.min, max: b.max }
        } else if let Some(b) = k.length {
            if ty != Scalar::String {
                c.report(
                    &format!("{kp}.length"),
                    format!("`length` on non-string parameter `{}`", p.name),
                    Some("use `range` for integers".into()),
                );
            }
            check_bounds(c, &format!("{kp}.length"), b, (0, i64::MAX));
            ConstraintKind::Length { min: b.min, max: b.max }
        } else if let Some(re) = &k.pattern {
            if ty != Scalar::String {
                c.report(&format!("{kp}.pattern"), format!("`pattern` on non-string parameter `{}`", p.name), None);
            }
            if let Err(e) = regex::Regex::new(re) {
                let first = e.to_string().lines().last().unwrap_or_default().trim().to_string();
                c.report(
                    &format!("{kp}.pattern"),
                    format!("pattern `{re}` does not compile: {first}"),
                    Some("patterns use the `regex` crate's syntax".into()),
                );
            }
            ConstraintKind::Pattern(re.clone())
        } else {
            let f = k.format.clone().unwrap_or_default();
            if ty != Scalar::String {
                c.report(&format!("{kp}.format"), format!("`format` on non-string parameter `{}`", p.name), None);
            }
            match f.as_str() {
                "email" => ConstraintKind::Format(Format::Email),
                "private_ipv4" => ConstraintKind::Format(Format::PrivateIpv4),
                other => {
                    c.report(
                        &format!("{kp}.format"),
                        format!("unknown format `{other}`"),
                        did_you_mean(other, FORMATS.iter().copied())
                            .or_else(|| Some(format!("formats are {}", FORMATS.join(", ")))),
                    );
                    continue;
                }
            }
        };
        constraints.push(Constraint { kind, error: k.error.clone() });
    }
    let default = match &p.default {
        None => None,
        Some(d) => {
            let dp = format!("{pp}.default");
            if p.required {
                c.report(
                    &dp,
                    format!("required parameter `{}` has a default", p.name),
                    Some("a default is what the server assumes when an optional parameter is absent".into()),
                );
            }
            match (d, ty.is_integer()) {
                (RawScalar::Int(v), true) => {
                    let (lo, hi) = ty.limits();
                    if *v < lo || *v > hi {
                        c.report(&dp, format!("default {v} does not fit the type `{}`", p.ty), None);
                    }
                    for k in &constraints {
                        if let ConstraintKind::Range { min, max } = k.kind
                            && (min.is_some_and(|m| *v < m) || max.is_some_and(|m| *v > m))
                        {
                            c.report(
                                &dp,
                                format!(
                                    "default {v} of `{}` is outside its own range {}..={}",
                                    p.name,
                                    min.map(|m| m.to_string()).unwrap_or_default(),
                                    max.map(|m| m.to_string()).unwrap_or_default()
                                ),
                                Some("change the default or the range".into()),
                            );
                        }
                    }
                    Some(*v)
                }
                _ => {
                    c.report(
                        &dp,
                        format!("default of `{}` must be an integer; only integer parameters take defaults", p.name),
                        None,
                    );
                    None
                }
            }
        }
    };
    if p.name.is_empty() || !p.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.') {
        c.report(
            &format!("{pp}.name"),
            format!("parameter name `{}` is not a wire name", p.name),
            Some("use letters, digits, `_` and `.`".into()),
        );
    }
    if [
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
    ]
    .contains(&p.name.as_str())
    {
        c.report(
            &format!("{pp}.name"),
            format!("`{}` is a common protocol parameter and cannot be declared", p.name),
            Some("the runtime sends and checks it".into()),
        );
    }
    let rust = match &p.rust_name {
        Some(r) => names::snake(r),
        None => names::snake(&p.name),
    };
    if c.out.len() > before {
        return None;
    }
    Some(Param {
        wire: p.name.clone(),
        rust,
        ty,
        required: p.required,
        default,
        description: p.description.clone(),
        secret: p.secret,
        missing_error: p.missing_error.clone().unwrap_or_else(|| missing_default.to_string()),
        empty_error: p.empty_error.clone(),
        type_error: p.type_error.clone().unwrap_or_else(|| invalid_default.to_string()),
        constraints,
    })
}

fn check_bounds(c: &mut Checker<'_>, path: &str, b: RawBounds, (lo, hi): (i64, i64)) {
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
