//! Finding the request lines of an HTTP/1.1 byte stream, so that an overlong one can be answered
//! with the API's envelope instead of hyper's bare `414`.
//!
//! hyper refuses a request target over 65,534 bytes (the `http` crate's limit) while parsing,
//! before any service sees the request, and answers `414` with an empty body. [`RequestLines`]
//! follows the framing of the requests on one connection (request line, header fields,
//! `Content-Length` or chunked body, pipelined requests) and, when a request line would exceed
//! [`MAX_REQUEST_LINE`], replaces it with `METHOD /<OVERLONG_PATH> HTTP/1.x`: hyper parses that,
//! the router sees [`OVERLONG_PATH`] and answers `RequestTooLarge` with a `RequestId` (in JSON: the
//! query that named a `Format` is gone), and the connection stays usable.
//!
//! Everything else passes through byte for byte. Whenever the stream does not look like plain
//! HTTP/1.1 requests it can follow with certainty (HTTP/2 prior knowledge, `CONNECT`, `Upgrade`,
//! conflicting or unreadable framing headers, obsolete line folding), it stops looking at the
//! connection for good and leaves every judgement to hyper: it never rewrites a byte it is not
//! sure is the start of a request.

/// The longest request line (without its line ending) passed through unchanged: one that long
/// still holds a request target hyper accepts (at most 65,534 bytes).
pub const MAX_REQUEST_LINE: usize = 65_534;

/// The path an overlong request line is replaced with; the router answers it `RequestTooLarge`.
pub const OVERLONG_PATH: &str = "/.alibaba-rpc/request-line-too-long";

/// The longest method kept from an overlong line (longer ones are not methods hyper accepts).
const MAX_METHOD: usize = 32;
/// How much of a header line is kept to read `Content-Length` and `Transfer-Encoding`.
const MAX_HEADER_PREFIX: usize = 256;

/// Where in the stream the next byte is.
#[derive(Debug)]
enum State {
    /// At the start of a request (empty lines before a request line are allowed).
    RequestStart,
    /// Inside a request line of which `held` has been seen so far (not yet passed on).
    RequestLine { held: Vec<u8> },
    /// Inside a request line longer than [`MAX_REQUEST_LINE`], being dropped.
    Overlong { method: Vec<u8>, tail: Vec<u8> },
    /// Inside the header section.
    Headers(Headers),
    /// Inside a body of `remaining` more bytes.
    Body { remaining: u64 },
    /// Inside a chunked body.
    Chunked(Chunk),
    /// Not following this connection any more: everything passes through.
    Blind,
}

/// What the header section has said so far.
#[derive(Debug, Default)]
struct Headers {
    /// The current line's first bytes (at most [`MAX_HEADER_PREFIX`]).
    line: Vec<u8>,
    /// Whether the current line was longer than what `line` keeps.
    truncated: bool,
    content_length: Option<u64>,
    chunked: bool,
    /// Something this reader does not follow (see the module docs).
    unsure: bool,
}

/// Where in a chunked body the next byte is.
#[derive(Debug)]
enum Chunk {
    /// The chunk-size line: the size so far, whether a digit was seen, whether in an extension.
    Size { size: u64, digits: bool, extension: bool },
    /// The chunk's data, then its line ending.
    Data { remaining: u64 },
    /// The line ending after a chunk's data.
    DataEnd,
    /// The trailer section after the last chunk: `line_empty` while the current line is empty.
    Trailers { line_empty: bool },
}

/// Follows the requests on one connection; see the module docs.
#[derive(Debug)]
pub struct RequestLines {
    state: State,
}

impl Default for RequestLines {
    fn default() -> Self {
        RequestLines { state: State::RequestStart }
    }
}

impl RequestLines {
    /// A reader at the start of a connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `input`, the next bytes of the stream, and appends what hyper should see of them to
    /// `out`: the same bytes, except that a request line still being read is held back and an
    /// overlong one is replaced.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut rest = input;
        while !rest.is_empty() {
            let used = self.step(rest, out);
            rest = &rest[used..];
        }
    }

    /// The stream has ended: passes on a request line still held back (hyper answers the
    /// truncated request itself).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let State::RequestLine { held } = &mut self.state {
            out.append(held);
        }
        self.state = State::Blind;
    }

    /// Whether a request line is being held back or dropped (no byte of `feed` may come out).
    #[cfg(test)]
    fn holding(&self) -> bool {
        matches!(self.state, State::RequestLine { .. } | State::Overlong { .. })
    }

    /// Consumes a prefix of `input` (at least one byte), returning its length.
    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        match &mut self.state {
            State::Blind => {
                out.extend_from_slice(input);
                input.len()
            }
            State::RequestStart => {
                if input[0] == b'\r' || input[0] == b'\n' {
                    out.push(input[0]);
                    return 1;
                }
                self.state = State::RequestLine { held: Vec::new() };
                self.step(input, out)
            }
            State::RequestLine { held } => {
                let (line, ended) = until_lf(input);
                // The line's length without its ending (a `\r` at the end may still be followed
                // by the `\n`).
                let seen = held.len() + line.len();
                let content = match (ended, line.len()) {
                    (false, _) => seen.saturating_sub(1),
                    (true, 1) if held.last() == Some(&b'\r') => seen - 2,
                    (true, n) if n >= 2 && line[n - 2] == b'\r' => seen - 2,
                    (true, _) => seen - 1,
                };
                if content > MAX_REQUEST_LINE {
                    // Over the limit: drop it from here on.
                    let mut seen = std::mem::take(held);
                    seen.extend_from_slice(line);
                    let method = seen.iter().position(|&b| b == b' ').map_or(&[][..], |end| &seen[..end]);
                    let method = if method.len() <= MAX_METHOD { method.to_vec() } else { Vec::new() };
                    self.state = State::Overlong { method, tail: Vec::new() };
                    return self.step_overlong(line, ended, out);
                }
                held.extend_from_slice(line);
                if ended {
                    let line = std::mem::take(held);
                    out.extend_from_slice(&line);
                    self.state = after_request_line(&line);
                }
                line.len()
            }
            State::Overlong { .. } => {
                let (line, ended) = until_lf(input);
                self.step_overlong(line, ended, out)
            }
            State::Headers(headers) => {
                let (line, ended) = until_lf(input);
                out.extend_from_slice(line);
                let room = MAX_HEADER_PREFIX.saturating_sub(headers.line.len());
                headers.truncated |= line.len() > room;
                headers.line.extend_from_slice(&line[..line.len().min(room)]);
                if ended {
                    let line = std::mem::take(&mut headers.line);
                    let truncated = std::mem::take(&mut headers.truncated);
                    if let Some(next) = headers.end_of_line(trim_line_end(&line), truncated) {
                        self.state = next;
                    }
                }
                line.len()
            }
            State::Body { remaining } => {
                let take = input.len().min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                out.extend_from_slice(&input[..take]);
                *remaining -= take as u64;
                if *remaining == 0 {
                    self.state = State::RequestStart;
                }
                take
            }
            State::Chunked(chunk) => {
                let (used, next) = chunk.step(input);
                out.extend_from_slice(&input[..used]);
                if let Some(next) = next {
                    self.state = next;
                }
                used
            }
        }
    }

    /// Drops `line` of an overlong request line; at its end writes the replacement line.
    fn step_overlong(&mut self, line: &[u8], ended: bool, out: &mut Vec<u8>) -> usize {
        let State::Overlong { method, tail } = &mut self.state else {
            return 0;
        };
        // The version is the line's last word: keep the last bytes seen.
        tail.extend_from_slice(line);
        if tail.len() > 64 {
            tail.drain(..tail.len() - 64);
        }
        if ended {
            let tail_line = trim_line_end(tail);
            let version = tail_line.rsplit(|&b| b == b' ').next().unwrap_or(b"");
            let version: &[u8] = if version == b"HTTP/1.0" { b"HTTP/1.0" } else { b"HTTP/1.1" };
            if method.is_empty() {
                // Not a request line hyper would accept anyway: let it answer.
                self.state = State::Blind;
                out.extend_from_slice(b"X ");
            } else {
                out.extend_from_slice(method);
                out.push(b' ');
            }
            out.extend_from_slice(OVERLONG_PATH.as_bytes());
            out.push(b' ');
            out.extend_from_slice(version);
            out.extend_from_slice(b"\r\n");
            if !matches!(self.state, State::Blind) {
                self.state = State::Headers(Headers::default());
            }
        }
        line.len()
    }
}

/// What follows a complete request line (`line` with its line ending).
fn after_request_line(line: &[u8]) -> State {
    let line = trim_line_end(line);
    let method = line.split(|&b| b == b' ').next().unwrap_or(b"");
    if line.starts_with(b"PRI * HTTP/2") || method == b"CONNECT" {
        return State::Blind;
    }
    State::Headers(Headers::default())
}

impl Headers {
    /// A complete header line: `None` to stay in the header section, else the next state.
    fn end_of_line(&mut self, line: &[u8], truncated: bool) -> Option<State> {
        if line.is_empty() {
            return Some(self.body());
        }
        if line[0] == b' ' || line[0] == b'\t' {
            // Obsolete line folding.
            self.unsure = true;
            return None;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            self.unsure |= !truncated;
            return None;
        };
        let name = &line[..colon];
        let value = std::str::from_utf8(&line[colon + 1..]).map(str::trim);
        if name.eq_ignore_ascii_case(b"content-length") {
            match value.ok().filter(|_| !truncated).and_then(|v| v.parse::<u64>().ok()) {
                Some(n) if self.content_length.is_none_or(|m| m == n) => self.content_length = Some(n),
                _ => self.unsure = true,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            match value {
                Ok(v)
                    if !truncated
                        && v.rsplit(',').next().is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked")) =>
                {
                    self.chunked = true;
                }
                _ => self.unsure = true,
            }
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.unsure = true;
        }
        None
    }

    /// Where the body of a request with these headers ends.
    fn body(&self) -> State {
        match (self.unsure, self.chunked, self.content_length) {
            (true, _, _) | (false, true, Some(_)) => State::Blind,
            (false, true, None) => State::Chunked(Chunk::Size { size: 0, digits: false, extension: false }),
            (false, false, Some(n)) if n > 0 => State::Body { remaining: n },
            (false, false, _) => State::RequestStart,
        }
    }
}

impl Chunk {
    /// Consumes a prefix of `input`: its length, and the connection's next state when the chunked
    /// body ends or cannot be followed.
    fn step(&mut self, input: &[u8]) -> (usize, Option<State>) {
        match self {
            Chunk::Size { size, digits, extension } => {
                let byte = input[0];
                if byte == b'\n' {
                    return match (*digits, *size) {
                        (false, _) => (1, Some(State::Blind)),
                        (true, 0) => {
                            *self = Chunk::Trailers { line_empty: true };
                            (1, None)
                        }
                        (true, n) => {
                            *self = Chunk::Data { remaining: n };
                            (1, None)
                        }
                    };
                }
                if *extension || byte == b'\r' {
                    return (1, None);
                }
                if byte == b';' || byte == b' ' || byte == b'\t' {
                    *extension = true;
                    return (1, None);
                }
                let Some(digit) = (byte as char).to_digit(16) else {
                    return (1, Some(State::Blind));
                };
                match size.checked_mul(16).and_then(|s| s.checked_add(u64::from(digit))) {
                    Some(next) => {
                        *size = next;
                        *digits = true;
                        (1, None)
                    }
                    None => (1, Some(State::Blind)),
                }
            }
            Chunk::Data { remaining } => {
                let take = input.len().min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                *remaining -= take as u64;
                if *remaining == 0 {
                    *self = Chunk::DataEnd;
                }
                (take, None)
            }
            Chunk::DataEnd => match input[0] {
                b'\r' => (1, None),
                b'\n' => {
                    *self = Chunk::Size { size: 0, digits: false, extension: false };
                    (1, None)
                }
                _ => (1, Some(State::Blind)),
            },
            Chunk::Trailers { line_empty } => match input[0] {
                b'\r' => (1, None),
                b'\n' if *line_empty => (1, Some(State::RequestStart)),
                b'\n' => {
                    *line_empty = true;
                    (1, None)
                }
                _ => {
                    *line_empty = false;
                    (1, None)
                }
            },
        }
    }
}

/// The prefix of `input` up to and including the first `\n`, and whether it has one.
fn until_lf(input: &[u8]) -> (&[u8], bool) {
    match input.iter().position(|&b| b == b'\n') {
        Some(end) => (&input[..=end], true),
        None => (input, false),
    }
}

/// `line` without its `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What hyper sees of `chunks` fed one after another.
    fn through(chunks: &[&[u8]]) -> Vec<u8> {
        let mut lines = RequestLines::new();
        let mut out = Vec::new();
        for chunk in chunks {
            lines.feed(chunk, &mut out);
        }
        lines.finish(&mut out);
        out
    }

    /// `stream` fed in pieces of `size` bytes.
    fn in_pieces(stream: &[u8], size: usize) -> Vec<u8> {
        let pieces: Vec<&[u8]> = stream.chunks(size.max(1)).collect();
        through(&pieces)
    }

    fn overlong_get(len: usize) -> Vec<u8> {
        let mut line = b"GET /?Action=X&Pad=".to_vec();
        line.resize(len, b'a');
        line.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
        line
    }

    #[test]
    fn ordinary_requests_pass_unchanged() {
        let stream = b"POST /?A=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nx=1&yGET / HTTP/1.1\r\n\r\n".to_vec();
        for size in [1, 2, 3, 7, 1000] {
            assert_eq!(in_pieces(&stream, size), stream, "pieces of {size}");
        }
    }

    #[test]
    fn an_overlong_line_is_replaced_and_the_next_request_kept() {
        let mut stream = overlong_get(MAX_REQUEST_LINE + 10);
        stream.extend_from_slice(b"GET /?B=2 HTTP/1.1\r\nHost: h\r\n\r\n");
        for size in [1000, 65_536, 200_000] {
            let seen = in_pieces(&stream, size);
            let expected =
                format!("GET {OVERLONG_PATH} HTTP/1.1\r\nHost: h\r\n\r\nGET /?B=2 HTTP/1.1\r\nHost: h\r\n\r\n");
            assert_eq!(String::from_utf8_lossy(&seen), expected, "pieces of {size}");
        }
    }

    #[test]
    fn a_line_at_the_limit_passes() {
        let mut stream = b"GET /".to_vec();
        stream.resize(MAX_REQUEST_LINE, b'a');
        stream.extend_from_slice(b"\r\n\r\n");
        assert_eq!(in_pieces(&stream, 4096), stream);
    }

    #[test]
    fn a_long_line_inside_a_body_is_not_a_request_line() {
        let body = vec![b'b'; MAX_REQUEST_LINE * 2];
        let mut stream = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        stream.extend_from_slice(&body);
        assert_eq!(in_pieces(&stream, 8192), stream);
    }

    #[test]
    fn chunked_bodies_are_followed() {
        let mut stream =
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nab\nc\r\n0\r\nX-T: 1\r\n\r\n".to_vec();
        let next = overlong_get(MAX_REQUEST_LINE + 1);
        stream.extend_from_slice(&next);
        let seen = in_pieces(&stream, 3);
        let head = &stream[..stream.len() - next.len()];
        assert_eq!(&seen[..head.len()], head);
        assert!(seen[head.len()..].starts_with(format!("GET {OVERLONG_PATH} HTTP/1.1\r\n").as_bytes()));
    }

    #[test]
    fn doubtful_framing_stops_the_reader() {
        for head in [
            &b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
            b"CONNECT h:443 HTTP/1.1\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\n",
            b"POST / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n",
        ] {
            let mut stream = head.to_vec();
            stream.extend_from_slice(&overlong_get(MAX_REQUEST_LINE + 1));
            assert_eq!(in_pieces(&stream, 999), stream, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn a_truncated_request_line_is_passed_on_at_the_end() {
        assert_eq!(through(&[b"GET /?A=1"]), b"GET /?A=1");
        let mut lines = RequestLines::new();
        let mut out = Vec::new();
        lines.feed(b"GET /", &mut out);
        assert!(out.is_empty() && lines.holding());
    }

    #[test]
    fn an_overlong_line_without_a_method_is_left_to_hyper() {
        let mut stream = vec![b'z'; MAX_REQUEST_LINE + 5];
        stream.extend_from_slice(b"\r\n\r\n");
        let seen = in_pieces(&stream, 4096);
        assert!(seen.starts_with(format!("X {OVERLONG_PATH} HTTP/1.1\r\n").as_bytes()));
    }

    proptest! {
        /// Any sequence of well-formed requests with short request lines passes unchanged,
        /// whatever the read sizes.
        #[test]
        fn well_formed_streams_are_identity(
            requests in proptest::collection::vec(
                (0usize..3, "[a-zA-Z0-9=&%./?]{0,60}", proptest::collection::vec(any::<u8>(), 0..300), 1usize..5),
                1..5,
            ),
            size in 1usize..64,
        ) {
            let mut stream = Vec::new();
            for (kind, target, body, chunks) in &requests {
                let target = format!("/{target}");
                match kind {
                    0 => stream.extend_from_slice(format!("GET {target} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes()),
                    1 => {
                        stream.extend_from_slice(
                            format!("POST {target} HTTP/1.1\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes(),
                        );
                        stream.extend_from_slice(body);
                    }
                    _ => {
                        stream.extend_from_slice(format!("POST {target} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").as_bytes());
                        for part in body.chunks(body.len() / chunks + 1) {
                            stream.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                            stream.extend_from_slice(part);
                            stream.extend_from_slice(b"\r\n");
                        }
                        stream.extend_from_slice(b"0\r\n\r\n");
                    }
                }
            }
            prop_assert_eq!(in_pieces(&stream, size), stream);
        }
    }
}
