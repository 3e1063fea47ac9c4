//! The table a generated command line is made of: the product, its operations and their
//! parameters, as the spec describes them. Built in `static`s with `const` builder methods, so
//! the generated code states only what is specific to an operation.

use alibaba_rpc_runtime::operation::ServiceInfo;

use crate::invoke::Runner;

/// A generated command line: its name, its API and its operations.
#[derive(Debug)]
pub struct Product {
    /// The binary's name (`env!("CARGO_BIN_NAME")`), as help and completions spell it.
    pub bin: &'static str,
    /// The binary's version (`env!("CARGO_PKG_VERSION")`).
    pub version: &'static str,
    /// The API the binary calls.
    pub service: &'static ServiceInfo,
    /// What the API is (the spec's service description).
    pub about: &'static str,
    /// The operations, in spec order.
    pub operations: &'static [OperationSpec],
    /// The parameters every operation takes (the spec's `common_parameters`), written once
    /// here; each operation's own parameters come first.
    pub common_params: &'static [ParamSpec],
}

impl Product {
    /// A product with no description and no operations yet.
    pub const fn new(bin: &'static str, version: &'static str, service: &'static ServiceInfo) -> Product {
        Product { bin, version, service, about: "", operations: &[], common_params: &[] }
    }

    /// Sets the description.
    pub const fn about(mut self, about: &'static str) -> Product {
        self.about = about;
        self
    }

    /// Sets the operations.
    pub const fn operations(mut self, operations: &'static [OperationSpec]) -> Product {
        self.operations = operations;
        self
    }

    /// Sets the parameters every operation takes.
    pub const fn common_params(mut self, params: &'static [ParamSpec]) -> Product {
        self.common_params = params;
        self
    }

    /// The operation whose wire name is `action`.
    pub fn operation(&self, action: &str) -> Option<&'static OperationSpec> {
        self.operations.iter().find(|op| op.action == action)
    }

    /// Every parameter of `op`, in spec order: its own, then the common ones.
    pub fn params(&self, op: &OperationSpec) -> impl Iterator<Item = &'static ParamSpec> + use<> {
        op.params.iter().chain(self.common_params)
    }

    /// The parameter of `op` whose wire name is `wire` (its own or a common one).
    pub fn param(&self, op: &OperationSpec, wire: &str) -> Option<&'static ParamSpec> {
        self.params(op).find(|p| p.wire == wire)
    }
}

/// One operation: its wire name (the subcommand), its documentation, its parameters, and the
/// generic function that reads, validates and sends it.
#[derive(Debug)]
pub struct OperationSpec {
    /// The wire name (`Action`), e.g. `CreateSmartAccessGatewayClientUser`.
    pub action: &'static str,
    /// One line.
    pub summary: &'static str,
    /// More.
    pub description: &'static str,
    /// The operation's own parameters, in spec order ([`Product::common_params`] follow them:
    /// [`Product::params`] gives them all).
    pub params: &'static [ParamSpec],
    /// Cross-parameter rules, as sentences (for the help).
    pub rules: &'static [&'static str],
    /// Sends one request: [`crate::call`]`::<Request>`.
    pub run: Runner,
    /// For a paginated operation, how to fetch every page.
    pub paging: Option<Paging>,
}

impl OperationSpec {
    /// An operation sent by `run` (`alibaba_rpc_cli::call::<Request>`).
    pub const fn new(action: &'static str, run: Runner) -> OperationSpec {
        OperationSpec { action, summary: "", description: "", params: &[], rules: &[], run, paging: None }
    }

    /// Sets the one-line summary.
    pub const fn summary(mut self, summary: &'static str) -> OperationSpec {
        self.summary = summary;
        self
    }

    /// Sets the longer description.
    pub const fn description(mut self, description: &'static str) -> OperationSpec {
        self.description = description;
        self
    }

    /// Sets the operation's own parameters.
    pub const fn params(mut self, params: &'static [ParamSpec]) -> OperationSpec {
        self.params = params;
        self
    }

    /// Sets the cross-parameter rules, as sentences.
    pub const fn rules(mut self, rules: &'static [&'static str]) -> OperationSpec {
        self.rules = rules;
        self
    }

    /// Makes the operation paginated: `--all-pages` runs `all` (`alibaba_rpc_cli::all_pages::<Request>`),
    /// which merges every page's list, found at `list`.`element` in an answer
    /// (`Users`.`User`).
    pub const fn paged(mut self, all: Runner, list: &'static str, element: &'static str) -> OperationSpec {
        self.paging = Some(Paging { all, list, element });
        self
    }

    /// The function for one call, or for every page with `--all-pages`.
    pub fn run_for(&self, all_pages: bool) -> Runner {
        match (&self.paging, all_pages) {
            (Some(paging), true) => paging.all,
            _ => self.run,
        }
    }
}

/// How a paginated operation is walked and merged.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// Fetches every page and merges the lists.
    pub all: Runner,
    /// The response field holding the list, e.g. `Users`.
    pub list: &'static str,
    /// The element inside it, e.g. `User`: the list is `{"Users": {"User": [...]}}`.
    pub element: &'static str,
}

/// How a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// One value: `--Name value`.
    One,
    /// A repeat list of values: `--Name a --Name b`, or `--Name.1 a --Name.2 b`.
    Values,
    /// A repeat list of structures with these fields: `--Name.1.Field value`.
    Structs(&'static [&'static str]),
}

/// One request parameter, as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// The wire name, which is also the flag (`--SmartAGId`).
    pub wire: &'static str,
    /// The spec's type, e.g. `int64`, `InstanceStatus`, `list<string>`, `list<Tag>`.
    pub ty: &'static str,
    /// One value or a repeat list.
    pub repeat: Repeat,
    /// Whether the request needs it.
    pub required: bool,
    /// The spec's description.
    pub about: &'static str,
    /// The values of an enum type.
    pub values: &'static [&'static str],
    /// The value the server assumes when it is not given.
    pub default: Option<&'static str>,
    /// The constraints, as sentences with the code each raises.
    pub constraints: &'static [&'static str],
    /// A secret (a password): the help says so.
    pub secret: bool,
}

impl ParamSpec {
    const fn base(wire: &'static str, ty: &'static str, repeat: Repeat) -> ParamSpec {
        ParamSpec {
            wire,
            ty,
            repeat,
            required: false,
            about: "",
            values: &[],
            default: None,
            constraints: &[],
            secret: false,
        }
    }

    /// A parameter of one value.
    pub const fn value(wire: &'static str, ty: &'static str) -> ParamSpec {
        ParamSpec::base(wire, ty, Repeat::One)
    }

    /// A repeat list of values.
    pub const fn list(wire: &'static str, ty: &'static str) -> ParamSpec {
        ParamSpec::base(wire, ty, Repeat::Values)
    }

    /// A repeat list of structures with `fields`.
    pub const fn structs(wire: &'static str, ty: &'static str, fields: &'static [&'static str]) -> ParamSpec {
        ParamSpec::base(wire, ty, Repeat::Structs(fields))
    }

    /// Marks it required.
    pub const fn required(mut self) -> ParamSpec {
        self.required = true;
        self
    }

    /// Sets the description.
    pub const fn about(mut self, about: &'static str) -> ParamSpec {
        self.about = about;
        self
    }

    /// Sets the values of its enum type.
    pub const fn values(mut self, values: &'static [&'static str]) -> ParamSpec {
        self.values = values;
        self
    }

    /// Sets the value the server assumes.
    pub const fn default(mut self, default: &'static str) -> ParamSpec {
        self.default = Some(default);
        self
    }

    /// Sets the constraints.
    pub const fn constraints(mut self, constraints: &'static [&'static str]) -> ParamSpec {
        self.constraints = constraints;
        self
    }

    /// Marks it secret.
    pub const fn secret(mut self) -> ParamSpec {
        self.secret = true;
        self
    }
}
