//! A TCP listener for `axum::serve` whose connections answer an overlong request line with the
//! API's envelope (`RequestTooLarge`, see [`framing`](super::framing)) instead of hyper's bare
//! `414`.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! # async fn serve(app: axum::Router) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(
//!     alibaba_rpc_runtime::server::listener::guard(listener),
//!     app.into_make_service_with_connect_info::<SocketAddr>(),
//! )
//! .await
//! # }
//! ```

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::serve::{Listener, ListenerExt, TapIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::framing::RequestLines;

/// How much is read from the socket at a time.
const READ_SIZE: usize = 16 * 1024;

/// The listener of [`guard`]: accepts like `TcpListener` and wraps each connection in a
/// [`GuardedStream`].
#[derive(Debug)]
pub struct GuardedListener {
    inner: TcpListener,
}

/// What [`guard`] returns: a [`GuardedListener`] that also sets `TCP_NODELAY` on each connection.
/// Serving it with `into_make_service_with_connect_info::<SocketAddr>()` gives the router the
/// peer's address, as with a plain `TcpListener`.
pub type Guarded = TapIo<GuardedListener, fn(&mut GuardedStream<TcpStream>)>;

/// Wraps `listener` for `axum::serve`; see the module docs.
pub fn guard(listener: TcpListener) -> Guarded {
    GuardedListener { inner: listener }.tap_io(no_delay as fn(&mut GuardedStream<TcpStream>))
}

fn no_delay(stream: &mut GuardedStream<TcpStream>) {
    // Answers are written whole; waiting to coalesce them only adds latency.
    if let Err(e) = stream.get_ref().set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
}

impl Listener for GuardedListener {
    type Io = GuardedStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => return (GuardedStream::new(stream), addr),
                Err(e) => {
                    // As axum does: errors of one connection (aborted, reset) are skipped; running
                    // out of file descriptors is waited out rather than spun on.
                    tracing::error!(error = %e, "accepting a connection failed");
                    if !is_connection_error(&e) {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// A connection whose incoming bytes pass through [`RequestLines`]; writes go straight through.
#[derive(Debug)]
pub struct GuardedStream<S> {
    inner: S,
    lines: RequestLines,
    /// Bytes ready for the reader, from `pos` on.
    out: Vec<u8>,
    pos: usize,
    scratch: Vec<u8>,
    eof: bool,
}

impl<S> GuardedStream<S> {
    /// Wraps `inner`, at the start of its first request.
    pub fn new(inner: S) -> Self {
        GuardedStream { inner, lines: RequestLines::new(), out: Vec::new(), pos: 0, scratch: Vec::new(), eof: false }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for GuardedStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pos < this.out.len() {
                let n = buf.remaining().min(this.out.len() - this.pos);
                buf.put_slice(&this.out[this.pos..this.pos + n]);
                this.pos += n;
                if this.pos == this.out.len() {
                    this.out.clear();
                    this.pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if this.scratch.len() != READ_SIZE {
                this.scratch.resize(READ_SIZE, 0);
            }
            let mut read = ReadBuf::new(&mut this.scratch);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.lines.finish(&mut this.out);
                this.eof = true;
                this.scratch = Vec::new();
            } else {
                this.lines.feed(read.filled(), &mut this.out);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GuardedStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_through_the_request_reader_in_small_reads() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut stream = GuardedStream::new(server);
        let mut request = b"GET /?Pad=".to_vec();
        request.resize(super::super::framing::MAX_REQUEST_LINE + 100, b'p');
        request.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
        let writer = tokio::spawn(async move {
            client.write_all(&request).await.unwrap();
            client.shutdown().await.unwrap();
        });
        let mut seen = Vec::new();
        let mut piece = [0u8; 7];
        loop {
            let n = stream.read(&mut piece).await.unwrap();
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&piece[..n]);
        }
        writer.await.unwrap();
        let expected = format!("GET {} HTTP/1.1\r\nHost: h\r\n\r\n", super::super::framing::OVERLONG_PATH);
        assert_eq!(String::from_utf8_lossy(&seen), expected);
    }
}
