//! The runtime of the command lines generated for Alibaba Cloud RPC APIs, written once: a
//! generated binary holds only a static table of its operations ([`Product`], from the spec)
//! and calls [`main`]; everything else lives here.
//!
//! - the command line, in the aliyun CLI's conventions: `<bin> <Operation> --<WireName> value …`,
//!   repeat lists as a repeated flag (`--InstanceId a --InstanceId b`) or numbered
//!   (`--InstanceId.1 a --InstanceId.2 b`, `--Tag.1.Key k --Tag.1.Value v`), built with clap's
//!   builder API from the table ([`args`]);
//! - global flags, accepted before or after the operation name: `--region`, `--endpoint`,
//!   `--access-key-id`, `--access-key-secret`, `--sts-token`, `--profile`, `--compact`
//!   ([`settings`]); credentials resolved by one function ([`credentials::resolve`]);
//! - validation before anything is sent, by the generated model's own
//!   [`Operation::from_params`](alibaba_rpc_runtime::operation::Operation::from_params): every
//!   violation with the spec's code;
//! - the answer as JSON with the API's wire field names, pretty by default; `--all-pages` for
//!   paginated operations merges every page's list into one document as the aliyun CLI's
//!   `--pager` does ([`invoke`]);
//! - exit codes that tell the failures apart ([`exit`]), and `completion bash|zsh|fish|…`.
//!
//! ```no_run
//! use alibaba_rpc_cli::{OperationSpec, ParamSpec, Product};
//! use alibaba_rpc_runtime::operation::ServiceInfo;
//! # use alibaba_rpc_runtime::errors::{ErrorCode, ErrorSpec};
//! # use alibaba_rpc_runtime::operation::Operation;
//! # use alibaba_rpc_runtime::params::Params;
//! # use alibaba_rpc_runtime::validate::Violations;
//! # #[derive(Debug, Clone, Copy, PartialEq, Eq)] enum Code { X }
//! # impl ErrorCode for Code {
//! #     const DECLARED: &'static [Self] = &[Code::X];
//! #     fn spec(&self) -> &'static ErrorSpec { const X: ErrorSpec = ErrorSpec::new("X", 400, "x"); &X }
//! # }
//! # #[derive(serde::Serialize, serde::Deserialize)] struct Resp {}
//! # struct DescribeThingsRequest;
//! # impl Operation for DescribeThingsRequest {
//! #     const ACTION: &'static str = "DescribeThings";
//! #     const IDEMPOTENT: bool = true;
//! #     type Response = Resp;
//! #     type ErrorCode = Code;
//! #     fn validate(&self) -> Result<(), Violations> { Ok(()) }
//! #     fn to_params(&self) -> Vec<alibaba_rpc_runtime::flatten::WireParam<'_>> { Vec::new() }
//! #     fn from_params(_: &Params) -> Result<Self, Violations> { Ok(DescribeThingsRequest) }
//! # }
//!
//! static SERVICE: ServiceInfo =
//!     ServiceInfo { product: "Demo", version: "2020-01-01", endpoint_pattern: "https://demo.{region}.aliyuncs.com" };
//!
//! static PRODUCT: Product = Product::new("demo", "0.1.0", &SERVICE)
//!     .about("A demo API.")
//!     .operations(&[OperationSpec::new("DescribeThings", alibaba_rpc_cli::call::<DescribeThingsRequest>)
//!         .summary("Lists the things.")
//!         .params(&[ParamSpec::value("RegionId", "string").required().about("The region.")])])
//!     // Parameters every operation takes, after each one's own.
//!     .common_params(&[ParamSpec::value("OwnerId", "int64").about("The owner's account ID.")]);
//!
//! fn main() -> std::process::ExitCode {
//!     alibaba_rpc_cli::main(&PRODUCT)
//! }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod credentials;
pub mod exit;
pub mod invoke;
pub mod output;
pub mod settings;
mod spec;

pub use exit::Failure;
pub use invoke::{Call, Pending, Runner, all_pages, call};
pub use spec::{OperationSpec, Paging, ParamSpec, Product, Repeat};

use std::ffi::OsString;
use std::process::ExitCode;

/// The whole command line of a generated binary: reads the process's arguments, runs, and
/// answers the exit code (see [`exit`]).
pub fn main(product: &'static Product) -> ExitCode {
    run(product, std::env::args_os())
}

/// [`main`] over given arguments (the first is the program name): what the tests drive.
pub fn run(product: &'static Product, argv: impl IntoIterator<Item = impl Into<OsString>>) -> ExitCode {
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let parsed = match args::parse(product, argv) {
        Ok(parsed) => parsed,
        Err(err) => {
            // Help and version are "errors" that print to stdout and exit 0.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    match parsed {
        args::Parsed::Completion(text) => output::print_text(&text),
        args::Parsed::Call { op, params, settings } => {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::Config(format!("cannot start the async runtime: {e}")))
                .and_then(|rt| {
                    rt.block_on((op.run_for(settings.all_pages))(Call::new(product, op, params, settings.clone())))
                });
            match outcome {
                Ok(value) => output::print_json(&value, settings.compact),
                Err(failure) => exit::report(&failure),
            }
        }
    }
}
