//! The `rpc.invoke` span of every call records the attempts made and the last RequestId. Its own
//! test binary: the span is captured by a subscriber set for this thread, and tracing caches each
//! callsite's interest process-wide, so no test without a subscriber may run beside it.
#![cfg(feature = "client")]

mod client_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use client_support::*;

/// The fields recorded on every `rpc.invoke` span, in order of the spans' creation.
#[derive(Clone, Default)]
struct SpanFields(Arc<Mutex<Vec<HashMap<String, String>>>>);

struct Visit<'a>(&'a mut HashMap<String, String>);

impl tracing::field::Visit for Visit<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanFields
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if attrs.metadata().name() != "rpc.invoke" {
            return;
        }
        let mut fields = HashMap::new();
        attrs.record(&mut Visit(&mut fields));
        let mut all = self.0.lock().unwrap();
        all.push(fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(all.len() - 1);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let Some(index) = ctx.span(id).and_then(|span| span.extensions().get::<usize>().copied()) else { return };
        values.record(&mut Visit(&mut self.0.lock().unwrap()[index]));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_span_records_attempts_and_request_id() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let fields = SpanFields::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(fields.clone()));

    let server = FakeServer::start(vec![
        Reply::envelope_with_id(503, "ServiceUnavailable", "r-1"),
        Reply::ok(),
        Reply::envelope_with_id(404, "Not.Declared", "r-404"),
    ])
    .await;
    let client = client_v3(&server.endpoint(), fast_retry(3), credentials());
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    client.invoke(&FakeDescribe::valid()).await.unwrap_err();

    let spans = fields.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_eq!(spans[0]["action"], "DescribeSmartAccessGatewayClientUsers");
    assert_eq!(spans[0]["attempts"], "2", "{spans:?}");
    assert_eq!(spans[0]["request_id"], "req-ok", "{spans:?}");
    assert_eq!(spans[1]["attempts"], "1", "{spans:?}");
    assert_eq!(spans[1]["request_id"], "r-404", "{spans:?}");
}
