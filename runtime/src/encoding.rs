//! Percent-encoding as Alibaba Cloud's RPC signature expects it (RFC 3986 unreserved set).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything except `A-Z a-z 0-9 - _ . ~` is encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The media type of a body of percent-encoded `name=value` pairs joined by `&` (what
/// [`encode_query`] writes): the form the server reads parameters from, and the client sends
/// version 1.0 parameters in.
pub const FORM_URLENCODED: &str = "application/x-www-form-urlencoded";

/// Percent-encodes `s` in Alibaba's RFC 3986 form: keeps `A-Z a-z 0-9 - _ . ~`, turns every
/// other byte of the UTF-8 encoding into `%XY` with uppercase hex (space is `%20`, `*` is `%2A`).
///
/// ```
/// use alibaba_rpc_runtime::encoding::percent_encode;
/// assert_eq!(percent_encode("a b*~"), "a%20b%2A~");
/// ```
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    percent_encode_into(&mut out, s);
    out
}

/// [`percent_encode`], appended to `out` (no allocation of its own).
pub fn percent_encode_into(out: &mut String, s: &str) {
    for chunk in utf8_percent_encode(s, RFC3986) {
        out.push_str(chunk);
    }
}

/// [`percent_encode_into`] `out`, and the encoding of that encoding into `twice` (every `%` of it
/// written `%25`): what a version 1.0 string to sign holds of a canonicalized query, written in
/// the same pass as the query itself.
pub(crate) fn percent_encode_twice(out: &mut String, twice: &mut Vec<u8>, s: &str) {
    for chunk in utf8_percent_encode(s, RFC3986) {
        out.push_str(chunk);
        // A chunk is either a run of bytes kept as they are (`%` is never among them) or one
        // byte's `%XY`.
        match chunk.as_bytes() {
            [b'%', hex @ ..] => {
                twice.extend_from_slice(b"%25");
                twice.extend_from_slice(hex);
            }
            kept => twice.extend_from_slice(kept),
        }
    }
}

/// `pairs` in the order given, names and values percent-encoded ([`percent_encode`]), empty
/// values kept as `name=`, joined by `&`: a query string as the SDKs send it.
///
/// ```
/// use alibaba_rpc_runtime::encoding::encode_query;
/// assert_eq!(encode_query([("b", "x y"), ("a", "")]), "b=x%20y&a=");
/// ```
pub fn encode_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::with_capacity(256);
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(&mut out, name);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

/// Appends the lowercase hex of `bytes` to `out`.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    let mut digits = [0u8; 64];
    for chunk in bytes.chunks(32) {
        let digits = &mut digits[..chunk.len() * 2];
        // The buffer holds exactly two digits per byte, and hex digits are ASCII.
        if hex::encode_to_slice(chunk, digits).is_ok()
            && let Ok(text) = std::str::from_utf8(digits)
        {
            out.push_str(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn encodes_like_the_official_sdks() {
        let cases = [
            ("", ""),
            ("abcXYZ019", "abcXYZ019"),
            ("-_.~", "-_.~"),
            (" ", "%20"),
            ("*", "%2A"),
            ("+", "%2B"),
            ("/", "%2F"),
            (":", "%3A"),
            ("=&", "%3D%26"),
            ("%", "%25"),
            ("é", "%C3%A9"),
            ("用户", "%E7%94%A8%E6%88%B7"),
            ("space user*~", "space%20user%2A~"),
        ];
        for (input, expected) in cases {
            assert_eq!(percent_encode(input), expected, "{input:?}");
        }
    }

    #[test]
    fn encoding_twice_escapes_the_first_encoding_again() {
        let (mut once, mut twice) = (String::new(), Vec::new());
        super::percent_encode_twice(&mut once, &mut twice, "a b:~");
        assert_eq!((once.as_str(), twice.as_slice()), ("a%20b%3A~", &b"a%2520b%253A~"[..]));
    }

    #[test]
    fn hex_is_lowercase_and_complete() {
        let mut out = String::from("x");
        super::push_hex(&mut out, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(out, "x000fa5ff");
        let long: Vec<u8> = (0..=255).collect();
        let mut out = String::new();
        super::push_hex(&mut out, &long);
        assert_eq!(out, hex::encode(&long), "longer than one buffer");
    }
}
