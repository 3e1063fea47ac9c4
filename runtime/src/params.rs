//! Request parameters as received on the wire, and the conversion of typed values to and from
//! their wire text.

use std::fmt;

/// The parameters of a request as received: an ordered list of `(name, value)` pairs, the query
/// first and then the form body. Names may repeat; [`Params::get`] returns the first occurrence.
///
/// `Debug` shows the names only: values may be passwords.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params::default()
    }

    /// Parameters from `(name, value)` pairs, in order.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Params {
        Params { pairs: pairs.into_iter().collect() }
    }

    /// Parses an `application/x-www-form-urlencoded` string (a query string or a form body):
    /// `&`-separated `name=value` pairs, `+` is a space, `%XY` is decoded, invalid UTF-8 is
    /// replaced lossily. A pair without `=` is a name with an empty value; empty pairs are skipped.
    pub fn parse_urlencoded(input: &[u8]) -> Params {
        Params { pairs: form_urlencoded::parse(input).map(|(k, v)| (k.into_owned(), v.into_owned())).collect() }
    }

    /// Appends every pair of `other` (for example the form body after the query).
    pub fn extend(&mut self, other: impl IntoIterator<Item = (String, String)>) {
        self.pairs.extend(other);
    }

    /// Appends one pair.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((name.into(), value.into()));
    }

    /// The value of the first parameter called `name`, if any (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether a parameter called `name` was sent (even with an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// Every pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs, in order.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }
}

impl IntoIterator for Params {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter()
    }
}

impl FromIterator<(String, String)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Params {
        Params::from_pairs(iter)
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.pairs.iter().map(|(n, _)| n)).finish()
    }
}

/// A parameter type and its wire text.
pub trait WireValue: Sized {
    /// The type's name in the spec (`String`, `Integer`, `Long`, `Boolean`), for messages.
    const TYPE_NAME: &'static str;
    /// The value as sent on the wire.
    fn to_wire(&self) -> String;
    /// Reads a wire value; `None` if it is not of this type.
    fn from_wire(s: &str) -> Option<Self>;
}

impl WireValue for String {
    const TYPE_NAME: &'static str = "String";

    fn to_wire(&self) -> String {
        self.clone()
    }

    fn from_wire(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

/// Whether `s` is a plain decimal integer: optional `-`, then ASCII digits only (no `+`, spaces
/// or other forms Rust's parser would also take).
fn is_plain_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

impl WireValue for i32 {
    const TYPE_NAME: &'static str = "Integer";

    fn to_wire(&self) -> String {
        self.to_string()
    }

    fn from_wire(s: &str) -> Option<Self> {
        if is_plain_integer(s) { s.parse().ok() } else { None }
    }
}

impl WireValue for i64 {
    const TYPE_NAME: &'static str = "Long";

    fn to_wire(&self) -> String {
        self.to_string()
    }

    fn from_wire(s: &str) -> Option<Self> {
        if is_plain_integer(s) { s.parse().ok() } else { None }
    }
}

impl WireValue for bool {
    const TYPE_NAME: &'static str = "Boolean";

    fn to_wire(&self) -> String {
        if *self { "true".to_owned() } else { "false".to_owned() }
    }

    fn from_wire(s: &str) -> Option<Self> {
        match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urlencoded() {
        let p = Params::parse_urlencoded(b"A=1&B=a+b%20c&C=&D&A=2&&E=%E7%94%A8&F=%FF%2A");
        let pairs: Vec<(&str, &str)> = p.iter().collect();
        assert_eq!(
            pairs,
            vec![("A", "1"), ("B", "a b c"), ("C", ""), ("D", ""), ("A", "2"), ("E", "用"), ("F", "\u{FFFD}*")]
        );
        assert_eq!(p.get("A"), Some("1"));
        assert_eq!(p.get("C"), Some(""));
        assert_eq!(p.get("Z"), None);
        assert!(p.contains("D"));
        assert_eq!(p.len(), 7);
    }

    #[test]
    fn extend_keeps_query_first() {
        let mut p = Params::parse_urlencoded(b"Action=X");
        p.extend(Params::parse_urlencoded(b"Action=Y&B=1"));
        assert_eq!(p.get("Action"), Some("X"));
        assert_eq!(p.get("B"), Some("1"));
        assert_eq!(p.len(), 3);
        assert!(Params::new().is_empty());
    }

    #[test]
    fn debug_hides_values() {
        let p = Params::from_pairs([("Password".to_owned(), "hunter2".to_owned())]);
        let shown = format!("{p:?}");
        assert!(shown.contains("Password"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn wire_values() {
        assert_eq!(i64::from_wire("20"), Some(20));
        assert_eq!(i64::from_wire("-5"), Some(-5));
        for bad in ["", "+5", " 5", "5 ", "1e3", "ten", "-", "99999999999999999999"] {
            assert_eq!(i64::from_wire(bad), None, "{bad:?}");
        }
        assert_eq!(i32::from_wire("2147483648"), None);
        assert_eq!(i32::from_wire("2147483647"), Some(i32::MAX));
        assert_eq!(bool::from_wire("true"), Some(true));
        assert_eq!(bool::from_wire("false"), Some(false));
        assert_eq!(bool::from_wire("True"), None);
        assert_eq!(true.to_wire(), "true");
        assert_eq!(42i32.to_wire(), "42");
        assert_eq!(String::from_wire(""), Some(String::new()));
        assert_eq!("x y".to_owned().to_wire(), "x y");
    }
}
