//! Constraint violations and the checks generated validation code calls.
//!
//! Validation collects every violation (not only the first), each carrying the spec's own error
//! code, so client and server report the same problems the same way.

use std::fmt;
use std::net::Ipv4Addr;
use std::sync::OnceLock;

use regex::Regex;

use crate::errors::{ErrorCode, ErrorSpec, render_message};

/// One broken rule: the spec's error code and status, the parameter concerned, and the rendered
/// message. Never holds the parameter's value (it may be a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The wire code, e.g. `ClientUser.BandwidthInvalid`.
    pub code: &'static str,
    /// The HTTP status a server answers for it.
    pub status: u16,
    /// The wire name of the parameter, e.g. `Bandwidth`.
    pub param: &'static str,
    /// The code's message with `{param}` filled in.
    pub message: String,
}

impl Violation {
    /// The violation of `param` raising `code` (message rendered from the code's template).
    pub fn new<C: ErrorCode>(code: C, param: &'static str) -> Violation {
        Violation {
            code: code.code(),
            status: code.status(),
            param,
            message: render_message(code.message(), &[("param", param)]),
        }
    }

    /// The violation of `param` raising a protocol error.
    pub fn from_spec(spec: &ErrorSpec, param: &'static str) -> Violation {
        Violation { code: spec.code, status: spec.status, param, message: spec.render(&[("param", param)]) }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.param, self.message)
    }
}

/// Every violation of a request, in the order found. `Display` lists them all, `; `-separated,
/// each as `CODE (param): message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// No violations.
    pub fn new() -> Violations {
        Violations(Vec::new())
    }

    /// Adds one.
    pub fn push(&mut self, violation: Violation) {
        self.0.push(violation);
    }

    /// Adds the violation of `param` raising `code`.
    pub fn add<C: ErrorCode>(&mut self, code: C, param: &'static str) {
        self.0.push(Violation::new(code, param));
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Each violation, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// The first violation (the one whose code a server answers with).
    pub fn first(&self) -> Option<&Violation> {
        self.0.first()
    }

    /// The violations, in order.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<Violation> for Violations {
    fn from(v: Violation) -> Violations {
        Violations(vec![v])
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(v: Vec<Violation>) -> Violations {
        Violations(v)
    }
}

impl FromIterator<Violation> for Violations {
    fn from_iter<I: IntoIterator<Item = Violation>>(iter: I) -> Violations {
        Violations(iter.into_iter().collect())
    }
}

impl Extend<Violation> for Violations {
    fn extend<I: IntoIterator<Item = Violation>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no violations");
        }
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// A regular expression from the spec, compiled once on first use.
///
/// A pattern that fails to compile matches nothing (codegen has already checked that every
/// pattern compiles).
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// A pattern for `source` (not compiled yet), usable in a `static`.
    pub const fn new(source: &'static str) -> Pattern {
        Pattern { source, compiled: OnceLock::new() }
    }

    /// The pattern's source text.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Whether `value` matches (`false` if the pattern does not compile).
    pub fn is_match(&self, value: &str) -> bool {
        let compiled = self.compiled.get_or_init(|| match Regex::new(self.source) {
            Ok(re) => Some(re),
            Err(e) => {
                tracing::error!(pattern = self.source, error = %e, "pattern does not compile; it matches nothing");
                None
            }
        });
        compiled.as_ref().is_some_and(|re| re.is_match(value))
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// Whether `s` is an e-mail address: one `@`; a non-empty local part of `A-Za-z0-9._%+-`; a
/// domain of at least two dot-separated non-empty labels of `A-Za-z0-9-`, none starting or ending
/// with `-`; at most 254 characters in all.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    let local_ok = local.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'));
    if !local_ok {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Whether `s` is a strictly written dotted-quad IPv4 address (four decimal parts 0–255, no
/// leading zeros, signs or spaces) in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.
pub fn is_private_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return false;
    }
    let mut octets = [0u8; 4];
    for (slot, part) in octets.iter_mut().zip(&parts) {
        let plain = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && !(part.len() > 1 && part.starts_with('0'));
        if !plain {
            return false;
        }
        match part.parse::<u8>() {
            Ok(v) => *slot = v,
            Err(_) => return false,
        }
    }
    Ipv4Addr::from(octets).is_private()
}

/// The length of `s` in characters (not bytes), as the spec's length limits count.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Code {
        Missing,
        Bad,
    }

    impl ErrorCode for Code {
        const DECLARED: &'static [Self] = &[Code::Missing, Code::Bad];

        fn spec(&self) -> &'static ErrorSpec {
            const MISSING: ErrorSpec = ErrorSpec::new(
                "MissingParameter",
                400,
                "The input parameter \"{param}\" that is mandatory for processing this request is not supplied.",
            );
            const BAD: ErrorSpec =
                ErrorSpec::new("ClientUser.BandwidthInvalid", 400, "The specified Bandwidth is invalid.");
            match self {
                Code::Missing => &MISSING,
                Code::Bad => &BAD,
            }
        }
    }

    #[test]
    fn violations_display_all() {
        let mut v = Violations::new();
        assert!(v.is_empty());
        assert!(v.clone().into_result().is_ok());
        v.push(Violation::new(Code::Missing, "SmartAGId"));
        v.push(Violation::new(Code::Bad, "Bandwidth"));
        assert_eq!(v.len(), 2);
        assert_eq!(v.first().map(|f| f.code), Some("MissingParameter"));
        assert_eq!(
            v.to_string(),
            "MissingParameter (SmartAGId): The input parameter \"SmartAGId\" that is mandatory for processing this \
request is not supplied.; ClientUser.BandwidthInvalid (Bandwidth): The specified Bandwidth is invalid."
        );
        let err = v.clone().into_result().err();
        assert_eq!(err.map(|e| e.len()), Some(2));
        assert_eq!(v.iter().map(|x| x.param).collect::<Vec<_>>(), ["SmartAGId", "Bandwidth"]);
        assert_eq!(v.into_vec().len(), 2);
    }

    #[test]
    fn patterns() {
        static USER: Pattern = Pattern::new("^[A-Za-z0-9][A-Za-z0-9_@.\\-]*$");
        static BROKEN: Pattern = Pattern::new("([");
        assert!(USER.is_match("alice.b@c-d_e"));
        assert!(!USER.is_match("_alice"));
        assert!(!USER.is_match("al ice"));
        assert!(!BROKEN.is_match("(["));
        assert_eq!(USER.source(), "^[A-Za-z0-9][A-Za-z0-9_@.\\-]*$");
    }

    #[test]
    fn emails() {
        let good = ["a@b.c", "first.last+tag@example.com", "x_y%z-1@sub.do-main.org", "A@B.CO"];
        let bad = [
            "", "a", "@b.c", "a@", "a@b", "a@@b.c", "a@b@c.d", "a b@c.d", "a@b..c", "a@.b.c", "a@b.c.", "a@-b.c",
            "a@b-.c", "a@b_c.d", "ü@b.c", "a@b.c ",
        ];
        for s in good {
            assert!(is_email(s), "{s:?} should be an e-mail address");
        }
        for s in bad {
            assert!(!is_email(s), "{s:?} should not be an e-mail address");
        }
        let long = format!("{}@example.com", "a".repeat(242));
        assert_eq!(long.len(), 254);
        assert!(is_email(&long));
        let too_long = format!("{}@example.com", "a".repeat(243));
        assert!(!is_email(&too_long));
    }

    #[test]
    fn private_ipv4() {
        let good = [
            "10.0.0.0",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.0.1",
            "192.168.255.255",
            "10.10.0.99",
        ];
        let bad = [
            "",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "127.0.0.1",
            "100.64.0.1",
            "169.254.1.1",
            "10.0.0",
            "10.0.0.0.1",
            "10.0.0.256",
            "010.0.0.1",
            "10.00.0.1",
            "10.0.0.-1",
            "10.0.0.+1",
            " 10.0.0.1",
            "10.0.0.1 ",
            "10..0.1",
            "0x0a.0.0.1",
            "fd00::1",
            "10.0.0.1/8",
        ];
        for s in good {
            assert!(is_private_ipv4(s), "{s:?} should be private");
        }
        for s in bad {
            assert!(!is_private_ipv4(s), "{s:?} should not be accepted");
        }
    }

    #[test]
    fn char_lengths() {
        assert_eq!(char_len(""), 0);
        assert_eq!(char_len("abc"), 3);
        assert_eq!(char_len("用户名"), 3);
    }
}
