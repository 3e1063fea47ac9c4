//! Request parameters as received on the wire, and the conversion of typed values to and from
//! their wire text.

use std::borrow::Cow;
use std::fmt;

/// The parameters of a request as received: an ordered list of `(name, value)` pairs, the query
/// first and then the form body. Names may repeat; [`Params::get`] returns the first occurrence.
///
/// The text of every name and value lives in one buffer (a request's parameters cost two
/// allocations, not two per parameter).
///
/// `Debug` shows the names only: values may be passwords.
#[derive(Clone, Default)]
pub struct Params {
    text: String,
    /// Per pair: where its name ends in `text` (it starts where the previous value ended) and
    /// where its value ends (it starts where the name ended).
    pairs: Vec<(usize, usize)>,
}

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params::default()
    }

    /// Parameters from `(name, value)` pairs, in order.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (N, V)>) -> Params {
        let mut params = Params::new();
        for (name, value) in pairs {
            params.push(name.as_ref(), value.as_ref());
        }
        params
    }

    /// Parses an `application/x-www-form-urlencoded` string (a query string or a form body):
    /// `&`-separated `name=value` pairs, `+` is a space, `%XY` is decoded, invalid UTF-8 is
    /// replaced lossily. A pair without `=` is a name with an empty value; empty pairs are skipped.
    pub fn parse_urlencoded(input: &[u8]) -> Params {
        let mut params = Params { text: String::with_capacity(input.len()), pairs: Vec::with_capacity(16) };
        params.append_urlencoded(input);
        params
    }

    /// Appends the pairs of an `application/x-www-form-urlencoded` string (see
    /// [`Params::parse_urlencoded`]), e.g. a form body after the query.
    pub fn append_urlencoded(&mut self, input: &[u8]) {
        for (name, value) in form_urlencoded::parse(input) {
            self.push(&name, &value);
        }
    }

    /// Appends every pair of `other` (for example the form body after the query).
    pub fn extend<N: AsRef<str>, V: AsRef<str>>(&mut self, other: impl IntoIterator<Item = (N, V)>) {
        for (name, value) in other {
            self.push(name.as_ref(), value.as_ref());
        }
    }

    /// Appends one pair.
    pub fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.pairs.push((name_end, self.text.len()));
    }

    /// The value of the first parameter called `name`, if any (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        // Names are compared as bytes, lengths first: the common miss costs one comparison.
        let (text, wanted) = (self.text.as_bytes(), name.as_bytes());
        let mut start = 0;
        for &(name_end, value_end) in &self.pairs {
            if name_end - start == wanted.len() && text.get(start..name_end) == Some(wanted) {
                return self.text.get(name_end..value_end);
            }
            start = value_end;
        }
        None
    }

    /// Whether a parameter called `name` was sent (even with an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|(n, _)| n == name)
    }

    /// Every pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        let mut start = 0;
        self.pairs.iter().map(move |&(name_end, value_end)| {
            let pair = (
                self.text.get(start..name_end).unwrap_or_default(),
                self.text.get(name_end..value_end).unwrap_or_default(),
            );
            start = value_end;
            pair
        })
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
        self.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Params) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Params {}

impl IntoIterator for Params {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_pairs().into_iter()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Params {
        Params::from_pairs(iter)
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|(n, _)| n)).finish()
    }
}

/// A parameter type and its wire text.
pub trait WireValue: Sized {
    /// The type's name in the spec (`String`, `Integer`, `Long`, `Boolean`), for messages.
    const TYPE_NAME: &'static str;
    /// The value as sent on the wire: borrowed where the value is held as text (a string, an
    /// enum's or a boolean's static wire text), written out for numbers.
    fn to_wire(&self) -> Cow<'_, str>;
    /// Reads a wire value; `None` if it is not of this type.
    fn from_wire(s: &str) -> Option<Self>;
}

impl WireValue for String {
    const TYPE_NAME: &'static str = "String";

    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
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

    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }

    fn from_wire(s: &str) -> Option<Self> {
        if is_plain_integer(s) { s.parse().ok() } else { None }
    }
}

impl WireValue for i64 {
    const TYPE_NAME: &'static str = "Long";

    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }

    fn from_wire(s: &str) -> Option<Self> {
        if is_plain_integer(s) { s.parse().ok() } else { None }
    }
}

impl WireValue for bool {
    const TYPE_NAME: &'static str = "Boolean";

    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
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
    fn pairs_keep_their_boundaries() {
        // Empty names and values, multi-byte text, and the same pairs built three ways.
        let pairs = [("", "x"), ("用户", ""), ("a", "é=&"), ("", "")];
        let built = Params::from_pairs(pairs);
        assert_eq!(built.iter().collect::<Vec<_>>(), pairs);
        let mut pushed = Params::new();
        for (n, v) in pairs {
            pushed.push(n, v);
        }
        assert_eq!(pushed, built);
        let parsed = Params::parse_urlencoded(b"=x&%E7%94%A8%E6%88%B7=&a=%C3%A9%3D%26&=");
        assert_eq!(parsed.iter().collect::<Vec<_>>()[..3], pairs[..3]);
        assert_eq!(built.clone().into_pairs().len(), 4);
        assert_ne!(built, Params::from_pairs(pairs[..3].iter().copied()));
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
