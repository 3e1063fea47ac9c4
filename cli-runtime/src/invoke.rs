//! Sending an operation: the two generic functions a generated table points at.

use std::future::Future;
use std::pin::Pin;

use alibaba_rpc_runtime::client::InvokeError;
use alibaba_rpc_runtime::operation::{Operation, Paginated};
use alibaba_rpc_runtime::params::Params;
use serde::Serialize;
use serde_json::Value;

use crate::exit::Failure;
use crate::settings::Settings;
use crate::spec::{OperationSpec, Product};

/// What a [`Runner`] answers: the JSON document to print, or why there is none.
pub type Pending = Pin<Box<dyn Future<Output = Result<Value, Failure>>>>;

/// Reads, validates and sends one operation: [`call`] or [`all_pages`] for a request type.
pub type Runner = fn(Call) -> Pending;

/// One invocation: the operation, its parameters as wire pairs, and the global flags.
#[derive(Debug)]
pub struct Call {
    product: &'static Product,
    op: &'static OperationSpec,
    params: Params,
    settings: Settings,
}

impl Call {
    /// An invocation of `op` with `params`.
    pub fn new(product: &'static Product, op: &'static OperationSpec, params: Params, settings: Settings) -> Call {
        Call { product, op, params, settings }
    }

    /// The parameters, as wire pairs.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Reads the request with the generated model's own reader: types, required parameters and
    /// every constraint of the spec, each violation with its code.
    fn request<Op: Operation>(&self) -> Result<Op, Failure> {
        Op::from_params(&self.params).map_err(Failure::Validation)
    }

    fn client(&self) -> Result<alibaba_rpc_runtime::client::RpcClient, Failure> {
        self.settings.client(self.product.service, &self.params)
    }
}

/// Sends the request once and answers its response, with the API's wire field names
/// (`RequestId` included). The request is validated before credentials are looked at, so an
/// invalid one fails the same way anywhere.
pub fn call<Op>(call: Call) -> Pending
where
    Op: Operation + Sync,
{
    Box::pin(async move {
        let request: Op = call.request()?;
        let client = call.client()?;
        let response = client.call(&request).await.map_err(|e| Failure::from(InvokeError::from(e)))?;
        to_json(&response)
    })
}

/// Fetches every page (the runtime's paginator: from the request's page, with its page size or
/// the largest the API allows, until the total count is seen or a page is empty) and answers
/// the merged list alone, `{"<list>": {"<element>": [every item]}}`, as the aliyun CLI's
/// `--pager` does.
pub fn all_pages<Op>(c: Call) -> Pending
where
    Op: Paginated,
    Op::Item: Serialize,
{
    Box::pin(async move {
        let Some(paging) = c.op.paging else {
            return call::<Op>(c).await;
        };
        let request: Op = c.request()?;
        let client = c.client()?;
        let items = client.paginate_all(request).await.map_err(|e| Failure::from(InvokeError::from(e)))?;
        let items = to_json(&items)?;
        let mut inner = serde_json::Map::new();
        inner.insert(paging.element.to_owned(), items);
        let mut outer = serde_json::Map::new();
        outer.insert(paging.list.to_owned(), Value::Object(inner));
        Ok(Value::Object(outer))
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::Config(format!("cannot print the answer as JSON: {e}")))
}
