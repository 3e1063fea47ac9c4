//! What an operation's implementation answers with: its response, owned or shared.

use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// A successful operation's response as the implementation hands it to the router: built for
/// this request ([`Reply::Owned`]), or one the implementation keeps and shares between requests
/// ([`Reply::Shared`], e.g. a cached page), which the router serializes from the shared value
/// without copying it.
///
/// Both convert with `into()`: `Ok(response.into())` answers an owned response,
/// `Ok(Arc::clone(&cached).into())` a shared one. The `RequestId` the router answers replaces
/// whatever the response's own `request_id` holds, so a shared response can leave it empty.
///
/// ```
/// use std::sync::Arc;
/// use alibaba_rpc_runtime::server::Reply;
///
/// #[derive(serde::Serialize)]
/// struct Page {
///     total: u32,
/// }
///
/// let owned: Reply<Page> = Page { total: 1 }.into();
/// let cached = Arc::new(Page { total: 2 });
/// let shared: Reply<Page> = Arc::clone(&cached).into();
/// assert_eq!((owned.total, shared.total), (1, 2));
/// assert!(shared.is_shared() && !owned.is_shared());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<T> {
    /// A response built for this request.
    Owned(T),
    /// A response shared with other requests (not copied to be answered).
    Shared(Arc<T>),
}

impl<T> Reply<T> {
    /// Whether the response is shared ([`Reply::Shared`]).
    pub fn is_shared(&self) -> bool {
        matches!(self, Reply::Shared(_))
    }

    /// The response, owned: moved out of [`Reply::Owned`], taken out of an [`Arc`] held by no
    /// one else, or else cloned.
    pub fn into_owned(self) -> T
    where
        T: Clone,
    {
        match self {
            Reply::Owned(response) => response,
            Reply::Shared(response) => Arc::unwrap_or_clone(response),
        }
    }
}

impl<T> Deref for Reply<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Reply::Owned(response) => response,
            Reply::Shared(response) => response,
        }
    }
}

impl<T> From<T> for Reply<T> {
    fn from(response: T) -> Reply<T> {
        Reply::Owned(response)
    }
}

impl<T> From<Arc<T>> for Reply<T> {
    fn from(response: Arc<T>) -> Reply<T> {
        Reply::Shared(response)
    }
}

impl<T: Serialize> Serialize for Reply<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize)]
    struct Page {
        #[serde(rename = "Total")]
        total: u32,
    }

    #[test]
    fn both_forms_serialize_as_the_response() {
        let owned: Reply<Page> = Page { total: 1 }.into();
        let shared: Reply<Page> = Arc::new(Page { total: 1 }).into();
        assert_eq!(serde_json::to_string(&owned).ok().as_deref(), Some(r#"{"Total":1}"#));
        assert_eq!(serde_json::to_string(&shared).ok().as_deref(), Some(r#"{"Total":1}"#));
    }

    #[test]
    fn into_owned_takes_a_lone_arc_and_clones_a_shared_one() {
        let kept = Arc::new(Page { total: 2 });
        let shared = Reply::Shared(Arc::clone(&kept));
        assert_eq!(shared.into_owned(), Page { total: 2 });
        assert_eq!(Arc::strong_count(&kept), 1);
        assert_eq!(Reply::Shared(kept).into_owned(), Page { total: 2 });
        assert_eq!(Reply::Owned(Page { total: 3 }).into_owned(), Page { total: 3 });
    }
}
