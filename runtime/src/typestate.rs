//! Type states for the generated request builders: a required parameter's slot is [`Missing`]
//! until its setter is called (which asks that the slot be [`Unset`]), then [`Set`]; `build()` exists only when every slot is
//! [`Provided`], so leaving a required parameter out is a compile error, not a runtime one.
//!
//! The states are markers only: the builder keeps the values in the request it is building.

/// A required parameter that has not been given yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Missing;

/// A required parameter that has been given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Set;

/// Implemented only by [`Set`]: the bound that `build()` puts on every required slot.
#[diagnostic::on_unimplemented(
    message = "a required parameter of this request has not been set",
    label = "this required parameter is still `Missing`",
    note = "call the parameter's setter on the builder before `build()`"
)]
pub trait Provided {}

impl Provided for Set {}

/// Implemented only by [`Missing`]: the bound a required parameter's setter puts on its slot, so
/// that a required parameter cannot be set twice.
#[diagnostic::on_unimplemented(
    message = "this required parameter has already been set",
    label = "the parameter's slot is already `Set`",
    note = "a required parameter's setter can be called once per builder"
)]
pub trait Unset {}

impl Unset for Missing {}
