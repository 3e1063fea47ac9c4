//! What the generated code implements for each operation, and the list shape of responses.

use crate::errors::ErrorCode;
use crate::flatten::WireParam;
use crate::params::Params;
use crate::validate::Violations;

/// A request type of the API, generated from the spec for each operation.
pub trait Operation: Sized + Send + 'static {
    /// The wire name of the operation, e.g. `CreateSmartAccessGatewayClientUser`.
    const ACTION: &'static str;
    /// Whether repeating the request is harmless (a client may then retry it freely).
    const IDEMPOTENT: bool;
    /// Whether the operation is called without an AccessKey signature (the spec's `auth: none`),
    /// as STS `AssumeRoleWithOIDC` is: the client sends the protocol fields but no credentials and
    /// no signature, and the server answers it without authenticating. `false` unless generated
    /// otherwise.
    const ANONYMOUS: bool = false;
    /// The response type.
    type Response: serde::Serialize + serde::de::DeserializeOwned + Send + 'static;
    /// The codes the operation may fail with.
    type ErrorCode: ErrorCode;
    /// Checks every constraint of the spec, collecting all violations.
    fn validate(&self) -> Result<(), Violations>;
    /// The operation's own parameters as sent on the wire (the protocol's common parameters
    /// excluded), repeat lists flattened.
    fn to_params(&self) -> Vec<WireParam<'_>>;
    /// Reads the request from received parameters: types, the spec's missing/empty rules, then
    /// [`Operation::validate`], collecting every violation.
    fn from_params(params: &Params) -> Result<Self, Violations>;
}

/// An operation whose answers come in pages (generated for operations the spec gives a
/// `pagination` section): what a client needs to walk every page.
pub trait Paginated: Operation + Sync {
    /// One listed item.
    type Item: Send + 'static;

    /// The page this request asks for (the API's first page when it does not say).
    fn page(&self) -> i64;

    /// Asks for page `page`, with pages of the request's size, or the largest the API allows
    /// when the request does not set one.
    fn set_page(&mut self, page: i64);

    /// The total number of items over every page, and the items of this page.
    fn into_page(response: Self::Response) -> (i64, Vec<Self::Item>);
}

/// An element type of a wrapped list: on the wire a `Vec<T>` field `Users` is
/// `"Users": {"User": [ ... ]}`, with `ELEMENT` = `"User"`.
pub trait ListItem {
    /// The name of the inner element, e.g. `User`.
    const ELEMENT: &'static str;
}

/// The service a generated crate speaks to, generated as `pub static SERVICE: ServiceInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The product code, e.g. `Ecs`.
    pub product: &'static str,
    /// The API version, e.g. `2018-03-13`.
    pub version: &'static str,
    /// The endpoint with a `{region}` placeholder, e.g. `https://ecs.{region}.aliyuncs.com`.
    pub endpoint_pattern: &'static str,
}

impl ServiceInfo {
    /// The endpoint of `region` (the pattern with `{region}` replaced).
    pub fn endpoint(&self, region: &str) -> String {
        self.endpoint_pattern.replace("{region}", region)
    }
}

/// Serde adapter for a `Vec<T: ListItem>` field wrapped in an object on the wire:
/// `#[serde(default, with = "alibaba_rpc_runtime::wrapped_list")]` turns `vec![a, b]` into
/// `{"User": [a, b]}`.
///
/// Decoding is lenient: a missing field (with `default`), `null`, `{}`, `""`, or `{"User": null}`
/// is an empty list; `{"User": x}` with a single object and a bare array are also accepted.
pub mod wrapped_list {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor};
    use serde::ser::{SerializeMap, Serializer};
    use serde::{Deserialize, Serialize};

    use super::ListItem;

    /// Serializes `items` as `{ELEMENT: [items...]}`.
    pub fn serialize<T, S>(items: &[T], serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize + ListItem,
        S: Serializer,
    {
        serialize_as(items, T::ELEMENT, serializer)
    }

    /// Deserializes `{ELEMENT: [...]}` (leniently, see the module docs).
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Vec<T>, D::Error>
    where
        T: Deserialize<'de> + ListItem,
        D: Deserializer<'de>,
    {
        deserialize_as(deserializer, T::ELEMENT)
    }

    /// Serializes `items` as `{element: [items...]}`: for lists of values (`{"VSwitchId": ["a"]}`),
    /// whose element name belongs to the field, not to the item type.
    pub fn serialize_as<T, S>(items: &[T], element: &'static str, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
        S: Serializer,
    {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(element, items)?;
        map.end()
    }

    /// Deserializes `{element: [...]}`, as leniently as [`deserialize`].
    pub fn deserialize_as<'de, T, D>(deserializer: D, element: &'static str) -> Result<Vec<T>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        deserializer.deserialize_any(Wrapped { element, item: PhantomData })
    }

    /// Whether a map key is the element's name, compared without allocating.
    struct KeyIs(&'static str);

    impl<'de> DeserializeSeed<'de> for KeyIs {
        type Value = bool;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl<'de> Visitor<'de> for KeyIs {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a key")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            Ok(v == self.0)
        }
    }

    /// The element's value, appended to `out` as it is read (no buffering): an array of items,
    /// a single item (an object or a scalar), or null.
    struct Items<'a, T> {
        out: &'a mut Vec<T>,
    }

    impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Items<'_, T> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de, T: Deserialize<'de>> Visitor<'de> for Items<'_, T> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of items, one item, or null")
        }

        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_none<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            if let Some(n) = seq.size_hint() {
                self.out.reserve(n);
            }
            while let Some(item) = seq.next_element()? {
                self.out.push(item);
            }
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
            self.out.push(T::deserialize(de::value::MapAccessDeserializer::new(map))?);
            Ok(())
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            self.out.push(T::deserialize(v.into_deserializer())?);
            Ok(())
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
            self.out.push(T::deserialize(v.into_deserializer())?);
            Ok(())
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
            self.out.push(T::deserialize(v.into_deserializer())?);
            Ok(())
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
            self.out.push(T::deserialize(v.into_deserializer())?);
            Ok(())
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
            self.out.push(T::deserialize(v.into_deserializer())?);
            Ok(())
        }
    }

    struct Wrapped<T> {
        element: &'static str,
        item: PhantomData<T>,
    }

    impl<'de, T: Deserialize<'de>> Visitor<'de> for Wrapped<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an object {{\"{}\": [...]}}", self.element)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<T>, E> {
            if v.trim().is_empty() { Ok(Vec::new()) } else { Err(E::invalid_value(de::Unexpected::Str(v), &self)) }
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element()? {
                out.push(item);
            }
            Ok(out)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(is_element) = map.next_key_seed(KeyIs(self.element))? {
                if is_element {
                    map.next_value_seed(Items { out: &mut out })?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct User {
        #[serde(rename = "UserName")]
        name: String,
    }

    impl ListItem for User {
        const ELEMENT: &'static str = "User";
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Page {
        #[serde(rename = "TotalCount")]
        total: i64,
        #[serde(rename = "Users", default, with = "crate::wrapped_list")]
        users: Vec<User>,
    }

    fn decode(json: &str) -> Option<Page> {
        serde_json::from_str(json).ok()
    }

    #[test]
    fn round_trip() {
        let page = Page { total: 2, users: vec![User { name: "a".into() }, User { name: "b".into() }] };
        let json = serde_json::to_string(&page).unwrap_or_default();
        assert_eq!(json, r#"{"TotalCount":2,"Users":{"User":[{"UserName":"a"},{"UserName":"b"}]}}"#);
        assert_eq!(decode(&json), Some(page));
        let empty = Page { total: 0, users: vec![] };
        let json = serde_json::to_string(&empty).unwrap_or_default();
        assert_eq!(json, r#"{"TotalCount":0,"Users":{"User":[]}}"#);
        assert_eq!(decode(&json), Some(empty));
    }

    #[test]
    fn lenient_decoding() {
        let empty = Some(Page { total: 0, users: vec![] });
        for json in [
            r#"{"TotalCount":0}"#,
            r#"{"TotalCount":0,"Users":null}"#,
            r#"{"TotalCount":0,"Users":{}}"#,
            r#"{"TotalCount":0,"Users":""}"#,
            r#"{"TotalCount":0,"Users":[]}"#,
            r#"{"TotalCount":0,"Users":{"User":null}}"#,
            r#"{"TotalCount":0,"Users":{"User":[]}}"#,
        ] {
            assert_eq!(decode(json), empty, "{json}");
        }
        let one = Some(Page { total: 1, users: vec![User { name: "a".into() }] });
        assert_eq!(decode(r#"{"TotalCount":1,"Users":{"User":{"UserName":"a"}}}"#), one);
        assert_eq!(decode(r#"{"TotalCount":1,"Users":{"Other":1,"User":[{"UserName":"a"}]}}"#), one);
        assert_eq!(decode(r#"{"TotalCount":1,"Users":[{"UserName":"a"}]}"#), one);
        assert_eq!(decode(r#"{"TotalCount":1,"Users":5}"#), None);
        assert_eq!(decode(r#"{"TotalCount":1,"Users":{"User":[{"Nope":1}]}}"#), None);
    }

    #[test]
    fn lists_of_values_under_a_field_element() {
        let ids = |json: &str| {
            let mut de = serde_json::Deserializer::from_str(json);
            wrapped_list::deserialize_as::<String, _>(&mut de, "IpAddress").ok()
        };
        let two = Some(vec!["10.0.0.1".to_owned(), "10.0.0.2".to_owned()]);
        assert_eq!(ids(r#"{"IpAddress":["10.0.0.1","10.0.0.2"]}"#), two);
        assert_eq!(ids(r#"{"IpAddress":"10.0.0.1"}"#), Some(vec!["10.0.0.1".to_owned()]));
        assert_eq!(ids(r#"{"IpAddress":null}"#), Some(vec![]));
        assert_eq!(ids(r#"{"IpAddress":[1]}"#), None);
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut out);
        assert!(wrapped_list::serialize_as(&["a".to_owned()], "IpAddress", &mut ser).is_ok());
        assert_eq!(out, br#"{"IpAddress":["a"]}"#);
    }

    #[test]
    fn endpoint() {
        let s = ServiceInfo { product: "P", version: "v", endpoint_pattern: "https://p.{region}.example.com" };
        assert_eq!(s.endpoint("cn-shanghai"), "https://p.cn-shanghai.example.com");
    }
}
