//! Enums of the spec: named sets of string values. The generated enums list their values once
//! ([`WireEnum::VALUES`]) and keep any other value as their `Unknown` variant; the wire text,
//! parsing and serde live here.
//!
//! A response decodes whatever value the server sends (an API may add values after the code was
//! generated); a request parameter accepts only the listed values ([`WireValue::from_wire`]),
//! so a server refuses the others with the parameter's type error.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serializer};

use crate::params::WireValue;

/// A generated enum.
pub trait WireEnum: Sized + Clone + PartialEq + 'static {
    /// Every listed value with its wire text, in the spec's order.
    const VALUES: &'static [(&'static str, Self)];

    /// The value of a text the spec does not list.
    fn unknown(text: String) -> Self;

    /// The text of an unlisted value; `None` for a listed one.
    fn unknown_text(&self) -> Option<&str>;

    /// The wire text.
    fn as_str(&self) -> &str {
        if let Some(text) = self.unknown_text() {
            return text;
        }
        Self::VALUES.iter().find(|(_, v)| v == self).map_or("", |(text, _)| text)
    }

    /// The listed value with wire text `text`.
    fn known(text: &str) -> Option<Self> {
        Self::VALUES.iter().find(|(t, _)| *t == text).map(|(_, v)| v.clone())
    }

    /// The value of `text`: a listed one, or an unknown one.
    fn from_text(text: &str) -> Self {
        Self::known(text).unwrap_or_else(|| Self::unknown(text.to_owned()))
    }
}

impl<T: WireEnum> WireValue for T {
    const TYPE_NAME: &'static str = "String";

    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }

    fn from_wire(s: &str) -> Option<Self> {
        T::known(s)
    }
}

/// Serializes an enum as its wire text (for the generated `Serialize` impls).
///
/// # Errors
/// The serializer's.
pub fn serialize<T: WireEnum, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_str())
}

/// Deserializes an enum from its wire text, an unlisted text as the `Unknown` variant.
///
/// # Errors
/// When the value is not a string.
pub fn deserialize<'de, T: WireEnum, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(T::from_text(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    enum Kind {
        Vpc,
        VSwitch,
        Unknown(String),
    }

    impl WireEnum for Kind {
        const VALUES: &'static [(&'static str, Self)] = &[("VPC", Kind::Vpc), ("VSWITCH", Kind::VSwitch)];

        fn unknown(text: String) -> Self {
            Kind::Unknown(text)
        }

        fn unknown_text(&self) -> Option<&str> {
            match self {
                Kind::Unknown(t) => Some(t),
                _ => None,
            }
        }
    }

    #[test]
    fn wire_text_both_ways() {
        assert_eq!(Kind::VSwitch.as_str(), "VSWITCH");
        assert_eq!(Kind::Unknown("EIP".into()).as_str(), "EIP");
        assert_eq!(Kind::from_wire("VPC"), Some(Kind::Vpc));
        // A request names only listed values; an answer keeps any.
        assert_eq!(Kind::from_wire("vpc"), None);
        assert_eq!(Kind::from_text("EIP"), Kind::Unknown("EIP".into()));
        assert_eq!(Kind::Vpc.to_wire(), "VPC");
    }

    #[test]
    fn serde_round_trip() {
        let mut json = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut json);
        assert!(serialize(&Kind::VSwitch, &mut ser).is_ok());
        assert_eq!(json, b"\"VSWITCH\"");
        let mut de = serde_json::Deserializer::from_str("\"NAT\"");
        assert_eq!(deserialize::<Kind, _>(&mut de).ok(), Some(Kind::Unknown("NAT".into())));
    }
}
