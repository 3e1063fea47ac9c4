//! The intermediate representation: the spec checked, every reference resolved and every Rust
//! name decided, once. It is the middle of the generator's three stages:
//!
//! ```text
//! raw (serde, the YAML as written) → ir (checked, resolved, named) → emit (tokens, read-only over the IR)
//! ```
//!
//! - [`types`]: what the IR is made of ([`Api`], [`Operation`], [`Param`], …);
//! - [`names`]: the naming policy, the one place a spec name becomes a Rust name;
//! - [`check`]: the checks that build nothing, each reporting at the spec's `line:column`;
//! - [`param`]: parameters, their constraints and defaults;
//! - `resolve`: the walk over the raw spec that builds the IR, section by section.
//!
//! Resolution reports every problem at once and returns an IR only for a spec without any.

pub mod check;
pub mod names;
pub mod param;
mod resolve;
pub mod types;

pub(crate) use resolve::resolve;
pub use types::*;
