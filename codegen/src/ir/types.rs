//! The IR's types: the spec after checking, with every reference resolved (indexes, not names)
//! and every Rust name decided. Emitters read these and never derive a name themselves.

/// A whole, checked API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Service metadata.
    pub service: Service,
    /// Crate names and output directories.
    pub generation: Generation,
    /// The protocol errors every operation answers, as the runtime declares them
    /// (`alibaba_rpc_runtime::errors::ProtocolCode`).
    pub protocol_errors: Vec<ErrorDef>,
    /// Operation error codes, in spec order.
    pub errors: Vec<ErrorDef>,
    /// Enums: named sets of string values.
    pub enums: Vec<EnumDef>,
    /// Named structures.
    pub shapes: Vec<Shape>,
    /// Operations, in spec order.
    pub operations: Vec<Operation>,
    /// The name of the server trait, e.g. `EcsApi` for the product `Ecs`.
    pub trait_name: String,
    /// The name of the client's operations trait, e.g. `EcsOperations` for the product `Ecs`.
    pub operations_trait_name: String,
    /// The protocol code for a required parameter not given (`MissingParameter`): what a
    /// parameter raises unless the spec gives it a `missing_error`.
    pub missing_parameter: ErrorRef,
    /// The protocol code for a value that does not parse as its type (`InvalidParameter`),
    /// unless the spec gives the parameter a `type_error`.
    pub invalid_parameter: ErrorRef,
}

/// Service metadata.
#[derive(Debug, Clone)]
pub struct Service {
    /// Product code, e.g. `Ecs`.
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

/// What the generated code is called and where it goes.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The runtime crate, as named in `use` items.
    pub runtime_crate: String,
    /// The generated model crate.
    pub model_crate: String,
    /// The generated client crate.
    pub client_crate: String,
    /// The model crate's `src/`, relative to the output directory, `/`-separated.
    pub model_dir: String,
    /// The client crate's `src/`.
    pub client_dir: String,
    /// The server crate's `src/`.
    pub server_dir: String,
    /// The hand-written command-line runtime, as named in `use` items.
    pub cli_runtime_crate: String,
    /// The command-line crate's `src/`, when the spec asks for a command line.
    pub cli_dir: Option<String>,
}

impl Generation {
    /// The generated directories, each owned entirely by the generator.
    pub fn dirs(&self) -> Vec<&str> {
        let mut dirs = vec![self.model_dir.as_str(), self.client_dir.as_str(), self.server_dir.as_str()];
        dirs.extend(self.cli_dir.as_deref());
        dirs
    }
}

/// An error code.
#[derive(Debug, Clone)]
pub struct ErrorDef {
    /// Wire code, e.g. `ClientUser.UserExist`.
    pub code: String,
    /// Rust variant name, e.g. `ClientUserUserExist`.
    pub variant: String,
    /// The constant declaring it in the model's `codes` module, e.g. `CLIENT_USER_USER_EXIST`.
    pub constant: String,
    /// HTTP status.
    pub status: u16,
    /// Message template.
    pub message: String,
    /// When it fires.
    pub when: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// Why this project's service never answers it, when it does not.
    pub not_produced: Option<String>,
}

/// A reference to a declared error code, with the variant that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRef {
    /// Wire code.
    pub code: String,
    /// Rust variant name (of the operation's code enum).
    pub variant: String,
}

impl ErrorRef {
    /// A protocol error, named as the runtime's `ProtocolCode` names it.
    pub fn protocol(code: alibaba_rpc_runtime::errors::ProtocolCode) -> ErrorRef {
        use alibaba_rpc_runtime::errors::ErrorCode as _;
        ErrorRef { code: code.code().to_owned(), variant: super::names::variant(code.code()) }
    }
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
    /// The spec's names for the scalar types, as written in `type:`.
    pub const NAMES: &'static [&'static str] = &["string", "int32", "int64", "bool"];

    /// The scalar a spec type name denotes (with the aliases `integer`, `long`, `boolean`).
    pub fn parse(s: &str) -> Option<Scalar> {
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

    /// The inclusive range of values the type holds (for integers; the full `i64` otherwise).
    pub fn limits(self) -> (i64, i64) {
        match self {
            Scalar::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        }
    }
}

/// The type of a value that travels as one string: a scalar, or an enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A scalar.
    Scalar(Scalar),
    /// An enum; the index into [`Api::enums`].
    Enum(usize),
}

/// The type of a request parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// One value: `Name=value`.
    Value(ValueType),
    /// A repeat list of values, flattened `Name.1=a&Name.2=b` as the official SDKs send it.
    List(ValueType),
    /// A repeat list of structures, flattened `Name.1.Field=…`; the index into [`Api::shapes`].
    Structs(usize),
}

impl ParamType {
    /// The scalar of a one-value scalar parameter.
    pub fn scalar(self) -> Option<Scalar> {
        match self {
            ParamType::Value(ValueType::Scalar(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether the parameter is a repeat list (of values or structures).
    pub fn is_list(self) -> bool {
        matches!(self, ParamType::List(_) | ParamType::Structs(_))
    }
}

/// The type of a response or shape field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// One value.
    Value(ValueType),
    /// A wrapped list of a shape: `"Users": {"User": [...]}`; the index into [`Api::shapes`].
    List(usize),
    /// A wrapped list of values: `"VSwitchIds": {"VSwitchId": ["a", "b"]}`.
    Values {
        /// The values' type.
        item: ValueType,
        /// The name of the inner element, e.g. `VSwitchId`.
        element: String,
        /// The prefix of the model's serde functions for lists wrapped in this element, e.g.
        /// `v_switch_id_list` (`v_switch_id_list_serialize`, `…_deserialize` in `shapes`).
        module: String,
    },
    /// A nested structure; the index into [`Api::shapes`].
    Struct(usize),
}

/// An enum: a named set of string values.
#[derive(Debug, Clone)]
pub struct EnumDef {
    /// Spec name.
    pub name: String,
    /// Rust type name.
    pub rust: String,
    /// Rustdoc.
    pub description: String,
    /// The values, in spec order.
    pub values: Vec<EnumValue>,
}

/// One value of an enum.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// As sent on the wire, e.g. `VSWITCH`.
    pub wire: String,
    /// The Rust variant, e.g. `Vswitch`.
    pub variant: String,
    /// Rustdoc.
    pub description: String,
}

/// A request parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Wire name.
    pub wire: String,
    /// Rust field and setter name (possibly raw, `r#type`).
    pub rust: String,
    /// The builder's type parameter for a required parameter (`S1` for the first, …).
    pub type_state: String,
    /// The `…_or_default` getter of a parameter with a default.
    pub default_getter: String,
    /// Type.
    pub ty: ParamType,
    /// Whether it must be given (for a list: with at least one item).
    pub required: bool,
    /// Default the server assumes when absent.
    pub default: Option<i64>,
    /// Rustdoc.
    pub description: String,
    /// Redacted in Debug.
    pub secret: bool,
    /// Error when a required parameter is absent or empty.
    pub missing_error: ErrorRef,
    /// Error when an optional parameter is sent empty (otherwise empty means absent).
    pub empty_error: Option<ErrorRef>,
    /// Error when the value does not parse as the type.
    pub type_error: ErrorRef,
    /// Constraints, in spec order.
    pub constraints: Vec<Constraint>,
    /// One of the spec's `common_parameters` (every operation takes it, after its own).
    pub common: bool,
}

/// A constraint and the error it raises.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// What must hold.
    pub kind: ConstraintKind,
    /// The error raised when it does not.
    pub error: ErrorRef,
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
    Pattern {
        /// The expression (checked to compile).
        regex: String,
        /// The name of the `static` holding the compiled pattern, e.g. `USER_NAME_PATTERN_1`.
        name: String,
    },
    /// A named format.
    Format(Format),
    /// The number of items of a repeat list within inclusive bounds.
    Count {
        /// Fewest items.
        min: Option<i64>,
        /// Most items.
        max: Option<i64>,
    },
}

/// A named format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An e-mail address.
    Email,
    /// A private IPv4 address.
    PrivateIpv4,
}

impl Format {
    /// The spec's names for the formats.
    pub const NAMES: &'static [&'static str] = &["email", "private_ipv4"];

    /// The format a spec name denotes.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "email" => Some(Format::Email),
            "private_ipv4" => Some(Format::PrivateIpv4),
            _ => None,
        }
    }
}

/// When one parameter is given, another must be too.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The index of the parameter that triggers the rule.
    pub if_given: usize,
    /// The index of the parameter that must then be given.
    pub then_required: usize,
    /// The error raised.
    pub error: ErrorRef,
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
    /// Shown as `***` by the type's `Debug`.
    pub secret: bool,
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
    /// Fields.
    pub fields: Vec<Field>,
    /// Whether a request parameter lists it (it is then flattened, `Name.N.Field`).
    pub in_requests: bool,
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
    /// Index into [`Api::shapes`] of the listed items.
    pub item_shape: usize,
    /// Largest page size the spec allows (from the page-size range).
    pub max_page_size: i64,
}

/// Every Rust name an operation gives rise to, decided once by [`super::names`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationNames {
    /// The model module (and file stem) holding its types.
    pub module: String,
    /// The client and server method.
    pub method: String,
    /// The request type.
    pub request: String,
    /// The request's typestate builder.
    pub builder: String,
    /// The response type.
    pub response: String,
    /// The enum of the error codes it can answer.
    pub error_code: String,
    /// The client's error type.
    pub error: String,
    /// The server's error alias.
    pub server_error: String,
    /// The client's paging stream method (paged operations).
    pub stream: String,
    /// The client's collect-every-page method (paged operations).
    pub all: String,
}

/// An operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Wire name (`Action`).
    pub name: String,
    /// Its Rust names.
    pub names: OperationNames,
    /// One line.
    pub summary: String,
    /// More.
    pub description: String,
    /// Safe to retry.
    pub idempotent: bool,
    /// Called without an AccessKey signature (`auth: none`).
    pub anonymous: bool,
    /// Parameters: the operation's own, then the common ones.
    pub params: Vec<Param>,
    /// Cross-parameter rules.
    pub rules: Vec<Rule>,
    /// Response fields.
    pub response: Vec<Field>,
    /// Its own error codes (declared in [`Api::errors`]), as indexes into it.
    pub errors: Vec<usize>,
    /// Paging.
    pub pagination: Option<Pagination>,
}

impl Api {
    /// The declaration of an error code (operation or protocol).
    pub fn error(&self, code: &str) -> Option<&ErrorDef> {
        self.errors.iter().chain(&self.protocol_errors).find(|e| e.code == code)
    }

    /// The codes an operation declares itself (every operation also answers the protocol codes).
    pub fn operation_errors<'a>(&'a self, op: &'a Operation) -> impl Iterator<Item = &'a ErrorDef> + 'a {
        op.errors.iter().map(|i| &self.errors[*i])
    }

    /// Whether `code` is a protocol error (one every operation answers).
    pub fn is_protocol(&self, code: &str) -> bool {
        self.protocol_errors.iter().any(|e| e.code == code)
    }
}
