//! How the client waits between attempts: tokio's timer, or one the application (or a test)
//! provides ([`ClientConfigBuilder::sleep`](super::ClientConfigBuilder::sleep)).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Waits between attempts. The default, [`TokioSleep`], is `tokio::time::sleep`; a test can
/// record each wait the client chooses (and skip it), an application can use another timer.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use alibaba_rpc_runtime::client::AsyncSleep;
///
/// /// Records every wait and returns at once.
/// #[derive(Default, Clone)]
/// struct Recorded(Arc<Mutex<Vec<Duration>>>);
///
/// impl AsyncSleep for Recorded {
///     fn sleep(&self, duration: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
///         self.0.lock().unwrap().push(duration);
///         Box::pin(async {})
///     }
/// }
/// ```
pub trait AsyncSleep: Send + Sync + 'static {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// `tokio::time::sleep`: the default [`AsyncSleep`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

impl AsyncSleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}
