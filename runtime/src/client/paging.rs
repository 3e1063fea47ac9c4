//! Walking every page of a paginated operation, for the generated `…_stream` and `…_all`
//! methods: [`Pages`], with the same per-call options as [`Call`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::{Stream, TryStreamExt as _, stream};
use reqwest::header::{HeaderName, HeaderValue};

use super::RpcClient;
use super::call::{Call, CallOptions};
use super::error::OperationError;
use super::retry::RetryPolicy;
use crate::operation::Paginated;

/// The items of one page walk, as the stream yields them.
type Items<'a, Op> = Pin<Box<dyn Stream<Item = Result<<Op as Paginated>::Item, OperationError<Op>>> + Send + 'a>>;

/// Every item of a paginated operation across all its pages: what the generated `…_stream` and
/// `…_all` methods return. Pages are fetched one at a time from the request's page on, until the
/// total count of items has been seen or a page comes back empty; each page is one call, retried
/// as the operation allows.
///
/// Use it as a [`Stream`] of items, or **await it** to collect them all. Before that, set the
/// options every page's call should have, as on a [`Call`]:
/// [`Pages::timeout`] (each attempt), [`Pages::header`], [`Pages::retry`], and
/// [`Pages::deadline`] / [`Pages::deadline_in`] — the deadline of the **whole walk**, every page
/// included.
///
/// ```no_run
/// # use alibaba_rpc_runtime::client::{OperationError, Pages};
/// # use alibaba_rpc_runtime::operation::Paginated;
/// # use std::time::Duration;
/// # async fn demo<Op: Paginated + Unpin>(pages: Pages<'_, Op>) -> Result<(), OperationError<Op>> {
/// // let pages = client.describe_users_all(request);
/// let every_item = pages.timeout(Duration::from_secs(5)).deadline_in(Duration::from_secs(60)).await?;
/// # let _ = every_item;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// The stream yields the first error and ends; awaited, the first error met while paging.
#[must_use = "pages are fetched only when the stream is polled or the walk awaited"]
pub struct Pages<'a, Op: Paginated> {
    state: State<'a, Op>,
}

enum State<'a, Op: Paginated> {
    /// Not started: the request and the options of every page's call.
    Ready { client: &'a RpcClient, request: Op, options: CallOptions },
    /// Walking.
    Running(Items<'a, Op>),
    /// Ended (or taken while polled).
    Done,
}

impl<'a, Op: Paginated> Pages<'a, Op> {
    pub(crate) fn new(client: &'a RpcClient, request: Op) -> Self {
        Pages { state: State::Ready { client, request, options: CallOptions::default() } }
    }

    /// Changes the options, if the walk has not started (afterwards options are fixed).
    fn with_options(mut self, change: impl FnOnce(&mut CallOptions)) -> Self {
        if let State::Ready { options, .. } = &mut self.state {
            change(options);
        }
        self
    }

    /// Time allowed for each attempt of every page's call, instead of the configuration's.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with_options(|o| o.timeout = Some(timeout))
    }

    /// Sends `name: value` with every attempt of every page's call (see
    /// [`Call::header`](super::Call::header)).
    pub fn header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.with_options(|o| o.insert_header(name, value))
    }

    /// The retry policy of every page's call, instead of the configuration's.
    pub fn retry(self, policy: RetryPolicy) -> Self {
        self.with_options(|o| o.retry = Some(policy))
    }

    /// When the whole walk must be over, every page included: no attempt runs past it and the
    /// client never waits past it (the page's call fails with
    /// [`OperationError::DeadlineExceeded`]).
    pub fn deadline(self, deadline: Instant) -> Self {
        self.with_options(|o| o.deadline = Some(deadline))
    }

    /// [`Pages::deadline`] `timeout` from now.
    pub fn deadline_in(self, timeout: Duration) -> Self {
        match Instant::now().checked_add(timeout) {
            Some(at) => self.deadline(at),
            None => self,
        }
    }

    /// The walk as a boxed stream of items.
    fn start(client: &'a RpcClient, request: Op, options: CallOptions) -> Items<'a, Op> {
        let first = request.page();
        let pages = stream::try_unfold((request, Some(first), 0i64), move |(mut request, page, seen)| {
            let options = options.clone();
            async move {
                let Some(page) = page else {
                    return Ok::<_, OperationError<Op>>(None);
                };
                request.set_page(page);
                let (total, items) = Op::into_page(Call::with_options(client, &request, options).await?);
                let seen = seen.saturating_add(i64::try_from(items.len()).unwrap_or(i64::MAX));
                let next = if items.is_empty() || seen >= total { None } else { page.checked_add(1) };
                Ok(Some((stream::iter(items.into_iter().map(Ok)), (request, next, seen))))
            }
        });
        Box::pin(pages.try_flatten())
    }
}

impl<'a, Op: Paginated + Unpin> Stream for Pages<'a, Op> {
    type Item = Result<Op::Item, OperationError<Op>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let State::Ready { .. } = this.state {
            this.state = match std::mem::replace(&mut this.state, State::Done) {
                State::Ready { client, request, options } => State::Running(Pages::start(client, request, options)),
                other => other,
            };
        }
        let State::Running(items) = &mut this.state else { return Poll::Ready(None) };
        let next = items.as_mut().poll_next(cx);
        if let Poll::Ready(None) = next {
            this.state = State::Done;
        }
        next
    }
}

impl<'a, Op: Paginated> IntoFuture for Pages<'a, Op> {
    type Output = Result<Vec<Op::Item>, OperationError<Op>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let items = match self.state {
            State::Ready { client, request, options } => Pages::start(client, request, options),
            State::Running(items) => items,
            State::Done => return Box::pin(async { Ok(Vec::new()) }),
        };
        Box::pin(items.try_collect())
    }
}

impl RpcClient {
    /// Every item of `request`'s operation across all pages: a [`Pages`], used as a stream or
    /// awaited for every item collected, with per-call options.
    pub fn paginate<Op: Paginated>(&self, request: Op) -> Pages<'_, Op> {
        Pages::new(self, request)
    }

    /// Every item of `request`'s operation across all pages, collected: see
    /// [`RpcClient::paginate`].
    ///
    /// # Errors
    /// The first error met while paging.
    pub async fn paginate_all<Op: Paginated>(&self, request: Op) -> Result<Vec<Op::Item>, OperationError<Op>> {
        self.paginate(request).await
    }
}
