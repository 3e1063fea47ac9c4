//! Type states for the generated request builders: a required parameter's slot is [`Missing`]
//! until its setter is called, then [`Set`]; `build()` exists only when every slot is
//! [`Provided`], so leaving a required parameter out is a compile error, not a runtime one.

/// A required parameter that has not been given yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Missing;

/// A required parameter that has been given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Set<T>(pub T);

/// Implemented only by [`Set`]: the bound that `build()` puts on every required slot.
#[diagnostic::on_unimplemented(
    message = "a required parameter of this request has not been set",
    label = "this required parameter is still `Missing`",
    note = "call the parameter's setter on the builder before `build()`"
)]
pub trait Provided<T> {
    /// The value given.
    fn take(self) -> T;
}

impl<T> Provided<T> for Set<T> {
    fn take(self) -> T {
        self.0
    }
}
