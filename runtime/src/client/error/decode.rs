//! [`DecodeError`]: a 2xx response whose body is not the operation's response.

/// A 2xx response whose body is not the operation's response.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{action}: cannot decode the response (HTTP {status}{rid}): {message}; body starts with: {excerpt:?}",
    rid = match &.request_id { Some(id) => format!(", RequestId: {id}"), None => String::new() }
)]
pub struct DecodeError {
    action: &'static str,
    attempts: u32,
    status: u16,
    request_id: Option<String>,
    message: String,
    excerpt: String,
}

impl DecodeError {
    pub(crate) fn new(
        action: &'static str,
        status: u16,
        request_id: Option<String>,
        message: String,
        excerpt: String,
    ) -> Self {
        DecodeError { action, attempts: 1, status, request_id, message, excerpt }
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// How many attempts were made, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The operation's wire name (`Action`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response's `RequestId`, when it could be found.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// What the JSON decoder reported.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The start of the body (at most a few hundred characters).
    pub fn excerpt(&self) -> &str {
        &self.excerpt
    }
}
