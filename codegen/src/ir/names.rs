//! The naming policy: every Rust name the generated code uses for a spec name is decided here,
//! once, while the IR is built. heck gives the case; keywords become raw identifiers; names that
//! would collide with what the generated code defines or imports itself are escaped or refused.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

use super::types::OperationNames;

/// Every Rust keyword (strict, reserved, and edition-2024 `gen`).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Variant names the generated error types define themselves.
pub const RESERVED_VARIANTS: &[&str] = &["Unknown", "Validation", "Transport", "Decode", "Protocol"];

/// Type names the generated crates define or import besides the per-operation ones; a spec
/// name that would produce one of them is refused.
pub const RESERVED_TYPES: &[&str] = &[
    "Client",
    "ClientConfig",
    "ClientConfigBuilder",
    "ConfigError",
    "Credentials",
    "RetryPolicy",
    "ApiError",
    "Violation",
    "Violations",
    "TransportError",
    "TransportErrorKind",
    "SignatureVersion",
    "KeyMaterial",
    "DecodeError",
    "Authentication",
    "CredentialStore",
    "RequestContext",
    "ServerConfig",
    "ServerError",
    "ProtocolCode",
];

/// Names of the standard prelude and of what generated files import: a shape named like one of
/// them gets the suffix `Shape` so that the generated code can use the short names.
const SHADOWED: &[&str] = &[
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "IntoIterator",
    "Into",
    "From",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Hash",
    "ToString",
    "ToOwned",
    "Serialize",
    "Deserialize",
    "Stream",
    "Arc",
    "Future",
    "Router",
    "Operation",
    "ErrorCode",
    "ErrorSpec",
    "ProtocolErrors",
    "ServiceInfo",
    "ListItem",
    "Params",
    "WireValue",
    "Pattern",
    "Missing",
    "Set",
    "Provided",
    "Code",
    "PhantomData",
    "WireParam",
    "Flattener",
    "FlatStruct",
    "Reader",
    "Paginated",
    "Dispatch",
    "DispatchFuture",
    "RpcClient",
    "InvokeError",
    "Formatter",
    "Error",
];

/// Module names an operation may not take (crates and modules generated files refer to).
const RESERVED_MODULES: &[&str] = &["std", "core", "alloc", "serde", "futures", "axum", "thiserror", "mod"];

/// Inherent methods of the generated `Client` that an operation's method must not shadow.
const CLIENT_METHODS: &[&str] = &["new", "config_builder", "region", "rpc"];

/// A snake_case identifier for a field, method or module: keywords become raw identifiers
/// (`r#type`), and those that cannot be raw get a trailing `_`.
pub fn snake(name: &str) -> String {
    let s = name.to_snake_case();
    let s = if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) { format!("n_{s}") } else { s };
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// An UpperCamelCase identifier for a type or variant; keywords and a leading digit are escaped.
pub fn camel(name: &str) -> String {
    let s = name.replace('.', "_").to_upper_camel_case();
    let s = if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) { format!("N{s}") } else { s };
    if KEYWORDS.contains(&s.as_str()) { format!("{s}Value") } else { s }
}

/// The name without a raw prefix, for building derived names (`r#type` → `type`).
pub fn bare(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// The Rust type of a shape: its name in UpperCamelCase, suffixed with `Shape` when that would
/// shadow a prelude or imported name.
pub fn shape(name: &str) -> String {
    let s = camel(name);
    if SHADOWED.contains(&s.as_str()) || RESERVED_TYPES.contains(&s.as_str()) || is_type_parameter(&s) {
        format!("{s}Shape")
    } else {
        s
    }
}

/// Whether `s` has the form of the builders' type parameters (`S1`, `T2`, …), which a shape
/// must not take.
fn is_type_parameter(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('S' | 'T')) && !chars.as_str().is_empty() && chars.all(|c| c.is_ascii_digit())
}

/// The variant of an error code, e.g. `ClientUser.UserExist` → `ClientUserUserExist`.
pub fn variant(code: &str) -> String {
    camel(code)
}

/// The variant of an enum value, e.g. `VSWITCH` → `Vswitch`, `cn-hangzhou` → `CnHangzhou`;
/// `Unknown` is taken by the variant that keeps values the spec does not list.
pub fn enum_variant(value: &str) -> String {
    let s = camel(&value.replace(['-', ' ', '/', ':'], "_"));
    if s == "Unknown" { "UnknownValue".to_string() } else { s }
}

/// The prefix of the serde functions (in the model's `shapes`) for lists of values wrapped in
/// `element`, e.g. `VSwitchId` → `v_switch_id_list`.
pub fn list_module(element: &str) -> String {
    format!("{}_list", bare(&snake(element)))
}

/// The name of the constant declaring an error code, e.g. `CLIENT_USER_USER_EXIST`.
pub fn error_constant(code: &str) -> String {
    let s = code.replace('.', "_").to_shouty_snake_case();
    if s.starts_with(|c: char| c.is_ascii_digit()) { format!("N_{s}") } else { s }
}

/// The server trait of a product, e.g. `EcsApi` for the product `Ecs`.
pub fn trait_name(product: &str) -> String {
    format!("{}Api", camel(product))
}

/// The client's operations trait of a product, e.g. `EcsOperations` for the product `Ecs`.
pub fn operations_trait_name(product: &str) -> String {
    format!("{}Operations", camel(product))
}

/// Every Rust name of the operation `op` (its wire name).
pub fn operation(op: &str) -> OperationNames {
    let rust = camel(op);
    let method = snake(op);
    let method = if CLIENT_METHODS.contains(&bare(&method)) { format!("{}_operation", bare(&method)) } else { method };
    let module = snake(op);
    let module = if RESERVED_MODULES.contains(&bare(&module)) { format!("{}_", bare(&module)) } else { module };
    let base = bare(&method).trim_end_matches('_').to_string();
    OperationNames {
        module,
        stream: format!("{base}_stream"),
        all: format!("{base}_all"),
        method,
        request: format!("{rust}Request"),
        builder: format!("{rust}RequestBuilder"),
        response: format!("{rust}Response"),
        error_code: format!("{rust}ErrorCode"),
        error: format!("{rust}Error"),
        server_error: format!("{rust}ServerError"),
    }
}

/// The type names an operation's names claim (the ones that may collide with other types).
pub fn operation_types(n: &OperationNames) -> [&str; 6] {
    [&n.request, &n.builder, &n.response, &n.error_code, &n.error, &n.server_error]
}

/// The builder's type parameter for the `n`-th required parameter (from 1): `S1`, `S2`, …
pub fn type_state(n: usize) -> String {
    format!("S{n}")
}

/// The type parameter of the builder's state change for the `n`-th required parameter: `T1`, …
pub fn type_state_target(n: usize) -> String {
    format!("T{n}")
}

/// The getter of a parameter's value-or-default.
pub fn default_getter(field: &str) -> String {
    format!("{}_or_default", bare(field))
}

/// The `static` of the pattern constraint number `index` of the parameter with Rust name `field`.
pub fn pattern_static(field: &str, index: usize) -> String {
    format!("{}_PATTERN_{index}", bare(field).to_shouty_snake_case())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated checks spell a protocol code `ProtocolCode::{variant(code)}`; the runtime's
    /// hand-written enum must name every code the same way.
    #[test]
    fn protocol_variants_match_the_runtime() {
        use alibaba_rpc_runtime::errors::{ErrorCode as _, ProtocolCode};
        for code in ProtocolCode::DECLARED {
            assert_eq!(variant(code.code()), format!("{code:?}"), "{}", code.code());
        }
    }

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
        assert_eq!(error_constant("InvalidTimeStamp.Expired"), "INVALID_TIME_STAMP_EXPIRED");
    }

    #[test]
    fn decides_every_operation_name_once() {
        let n = operation("New");
        assert_eq!((n.method.as_str(), n.module.as_str()), ("new_operation", "new"));
        assert_eq!(n.stream, "new_operation_stream");
        let n = operation("Mod");
        assert_eq!((n.method.as_str(), n.module.as_str()), ("r#mod", "mod_"));
        assert_eq!(operation("Type").stream, "type_stream");
        assert_eq!(shape("Option"), "OptionShape");
        assert_eq!(shape("User"), "User");
    }
}
