//! Walking every page of a paginated operation, for the generated `…_stream` and `…_all`
//! methods.

use futures::{Stream, TryStreamExt as _, stream};

use super::RpcClient;
use super::error::OperationError;
use crate::operation::Paginated;

impl RpcClient {
    /// Every item of `request`'s operation across all pages, as a stream: pages are fetched one
    /// at a time from the request's page on, until the total count of items has been seen or a
    /// page comes back empty. Each page is one [`RpcClient::call`], retried as the operation
    /// allows.
    ///
    /// # Errors
    /// The stream yields the first error and ends.
    pub fn paginate<Op: Paginated>(
        &self,
        request: Op,
    ) -> impl Stream<Item = Result<Op::Item, OperationError<Op>>> + Send + '_ {
        let first = request.page();
        stream::try_unfold((request, Some(first), 0i64), move |(mut request, page, seen)| async move {
            let Some(page) = page else {
                return Ok::<_, OperationError<Op>>(None);
            };
            request.set_page(page);
            let (total, items) = Op::into_page(self.call(&request).await?);
            let seen = seen.saturating_add(i64::try_from(items.len()).unwrap_or(i64::MAX));
            let next = if items.is_empty() || seen >= total { None } else { page.checked_add(1) };
            Ok(Some((stream::iter(items.into_iter().map(Ok)), (request, next, seen))))
        })
        .try_flatten()
    }

    /// Every item of `request`'s operation across all pages, collected: see
    /// [`RpcClient::paginate`].
    ///
    /// # Errors
    /// The first error met while paging.
    pub async fn paginate_all<Op: Paginated>(&self, request: Op) -> Result<Vec<Op::Item>, OperationError<Op>> {
        self.paginate(request).try_collect().await
    }
}
