//! `smartag-service healthcheck`: one HTTP GET to a health endpoint, for container health checks
//! in images that have no `curl` (the distroless runtime image has none).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why a health probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL is not `http://HOST:PORT/PATH`.
    #[error("{url:?} is not an http:// URL with a host and port, e.g. http://127.0.0.1:9090/_admin/health")]
    Url {
        /// The URL given.
        url: String,
    },
    /// Connecting, writing or reading failed.
    #[error("{url}: {source}")]
    Io {
        /// The URL probed.
        url: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The answer is not HTTP.
    #[error("{url}: the answer is not HTTP")]
    NotHttp {
        /// The URL probed.
        url: String,
    },
}

/// GETs `url` (plain `http://HOST:PORT/PATH`), waiting at most `timeout` for each step, and returns
/// the HTTP status of the answer.
///
/// # Errors
/// A URL that is not `http://HOST:PORT/…`, a connection that fails, or an answer that is not HTTP.
pub fn probe(url: &str, timeout: Duration) -> Result<u16, ProbeError> {
    let bad_url = || ProbeError::Url { url: url.to_owned() };
    let rest = url.strip_prefix("http://").ok_or_else(bad_url)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let address: SocketAddr =
        authority.to_socket_addrs().ok().and_then(|mut addresses| addresses.next()).ok_or_else(bad_url)?;
    let io = |source| ProbeError::Io { url: url.to_owned(), source };
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut head = Vec::new();
    let mut buffer = [0u8; 512];
    // The status line is all that is needed.
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().and_then(|s| s.parse::<u16>().ok())) {
        (Some(version), Some(status)) if version.starts_with("HTTP/") => Ok(status),
        _ => Err(ProbeError::NotHttp { url: url.to_owned() }),
    }
}
