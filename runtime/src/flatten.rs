//! Writing a request's parameters as they go on the wire, for the generated
//! `Operation::to_params`: optional parameters left out when unset, and repeat lists flattened as
//! the official SDKs flatten them (`InstanceId.1`, `InstanceId.2`, … and `Tag.1.Key`).

use std::borrow::Cow;

use crate::params::{Params, WireValue};

/// One parameter as sent: its wire name (static for a plain parameter, built for an element of
/// a repeat list such as `InstanceId.2`) and its value, borrowed from the request where the
/// request holds it as text (strings; enums and booleans borrow their static wire text), so
/// writing a request's parameters copies none of its strings.
pub type WireParam<'a> = (Cow<'static, str>, Cow<'a, str>);

/// The parameters as `(name, value)` text pairs, as the signers and encoders take them.
pub fn as_pairs<'p>(params: &'p [WireParam<'_>]) -> impl Iterator<Item = (&'p str, &'p str)> {
    params.iter().map(|(name, value)| (name.as_ref(), value.as_ref()))
}

/// A structure sent inside a repeat list, such as a tag (`Tag.N.Key`, `Tag.N.Value`):
/// implemented by the generated request structures.
pub trait FlatStruct: Sized {
    /// Writes the fields under `prefix` (e.g. `Tag.1`), each as `prefix.Field`.
    fn flatten<'a>(&'a self, prefix: &str, out: &mut Flattener<'a>);

    /// Reads one structure back from its fields; `None` when a required field is absent or a
    /// field does not parse.
    fn unflatten(fields: &FlatFields<'_>) -> Option<Self>;
}

/// The fields of one structure of a repeat list as received, e.g. every `Tag.2.*` parameter.
#[derive(Debug)]
pub struct FlatFields<'a> {
    params: &'a Params,
    prefix: String,
}

impl<'a> FlatFields<'a> {
    /// The fields of `params` under `prefix` (e.g. `Tag.2`).
    pub fn new(params: &'a Params, prefix: String) -> Self {
        FlatFields { params, prefix }
    }

    /// Whether any parameter lies under the prefix (the structure was sent at all).
    pub fn any(&self) -> bool {
        self.params
            .iter()
            .any(|(name, _)| name.strip_prefix(self.prefix.as_str()).is_some_and(|rest| rest.starts_with('.')))
    }

    fn raw(&self, field: &str) -> Option<&'a str> {
        self.params.get(&format!("{}.{field}", self.prefix))
    }

    /// A required field: `None` when absent, empty or unreadable.
    pub fn required<T: WireValue>(&self, field: &str) -> Option<T> {
        self.raw(field).filter(|raw| !raw.is_empty()).and_then(T::from_wire)
    }

    /// An optional field: `Some(None)` when absent or empty, `None` when unreadable.
    pub fn optional<T: WireValue>(&self, field: &str) -> Option<Option<T>> {
        match self.raw(field) {
            None | Some("") => Some(None),
            Some(raw) => T::from_wire(raw).map(Some),
        }
    }
}

/// Collects the parameters of one request, in the order written, borrowing their values from
/// the request (`'a`).
#[derive(Debug, Default)]
pub struct Flattener<'a> {
    out: Vec<WireParam<'a>>,
}

impl<'a> Flattener<'a> {
    /// An empty list with room for `capacity` parameters.
    pub fn with_capacity(capacity: usize) -> Flattener<'a> {
        Flattener { out: Vec::with_capacity(capacity) }
    }

    /// A parameter that is always sent.
    pub fn put<T: WireValue>(&mut self, name: &'static str, value: &'a T) {
        self.out.push((Cow::Borrowed(name), value.to_wire()));
    }

    /// A parameter sent only when set.
    pub fn put_opt<T: WireValue>(&mut self, name: &'static str, value: &'a Option<T>) {
        if let Some(value) = value {
            self.put(name, value);
        }
    }

    /// A parameter under a name built at run time (a field of a structure in a repeat list).
    pub fn put_named<T: WireValue>(&mut self, name: String, value: &'a T) {
        self.out.push((Cow::Owned(name), value.to_wire()));
    }

    /// [`Flattener::put_named`] for an optional field, left out when unset.
    pub fn put_named_opt<T: WireValue>(&mut self, name: String, value: &'a Option<T>) {
        if let Some(value) = value {
            self.put_named(name, value);
        }
    }

    /// A repeat list of values: `name.1`, `name.2`, … (nothing when empty).
    pub fn put_list<T: WireValue>(&mut self, name: &str, values: &'a [T]) {
        for (i, value) in values.iter().enumerate() {
            self.put_named(format!("{name}.{}", i + 1), value);
        }
    }

    /// A repeat list of structures: each one's fields under `name.1`, `name.2`, …
    pub fn put_structs<T: FlatStruct>(&mut self, name: &str, values: &'a [T]) {
        for (i, value) in values.iter().enumerate() {
            value.flatten(&format!("{name}.{}", i + 1), self);
        }
    }

    /// The parameters, in the order written.
    pub fn finish(self) -> Vec<WireParam<'a>> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tag {
        key: String,
        value: Option<String>,
    }

    impl FlatStruct for Tag {
        fn flatten<'a>(&'a self, prefix: &str, out: &mut Flattener<'a>) {
            out.put_named(format!("{prefix}.Key"), &self.key);
            out.put_named_opt(format!("{prefix}.Value"), &self.value);
        }

        fn unflatten(fields: &FlatFields<'_>) -> Option<Self> {
            Some(Tag { key: fields.required("Key")?, value: fields.optional("Value")? })
        }
    }

    #[test]
    fn reads_structures_back() {
        let params = Params::parse_urlencoded(b"Tag.1.Key=env&Tag.1.Value=prod&Tag.2.Key=team&Tag.3.Value=orphan");
        let first = Tag::unflatten(&FlatFields::new(&params, "Tag.1".into()));
        assert_eq!(first.map(|t| (t.key, t.value)), Some(("env".into(), Some("prod".into()))));
        let second = Tag::unflatten(&FlatFields::new(&params, "Tag.2".into()));
        assert_eq!(second.map(|t| (t.key, t.value)), Some(("team".into(), None)));
        // A structure without its required field is refused; an unsent one is not there at all.
        assert!(Tag::unflatten(&FlatFields::new(&params, "Tag.3".into())).is_none());
        assert!(FlatFields::new(&params, "Tag.3".into()).any());
        assert!(!FlatFields::new(&params, "Tag.4".into()).any());
        assert!(!FlatFields::new(&params, "Tag.1.K".into()).any());
    }

    #[test]
    fn flattens_as_the_official_sdks() {
        let region = "cn-hangzhou".to_owned();
        let instances = ["i-1".to_owned(), "i-2".to_owned()];
        let tags = [Tag { key: "env".into(), value: Some("prod".into()) }, Tag { key: "team".into(), value: None }];
        let mut out = Flattener::with_capacity(4);
        out.put("RegionId", &region);
        out.put_opt::<i64>("PageSize", &None);
        out.put_opt("DryRun", &Some(true));
        out.put_opt("PageNumber", &Some(3i32));
        out.put_list("InstanceId", &instances);
        out.put_structs("Tag", &tags);
        let params = out.finish();
        // Strings are borrowed from the request, not copied; only numbers are written out.
        for (name, value) in &params {
            let borrowed = matches!(value, Cow::Borrowed(_));
            assert_eq!(borrowed, name != "PageNumber", "{name}");
        }
        let pairs: Vec<(String, String)> = params.into_iter().map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
        let expected = [
            ("RegionId", "cn-hangzhou"),
            ("DryRun", "true"),
            ("PageNumber", "3"),
            ("InstanceId.1", "i-1"),
            ("InstanceId.2", "i-2"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("Tag.2.Key", "team"),
        ];
        assert_eq!(pairs, expected.map(|(n, v)| (n.to_owned(), v.to_owned())));
    }
}
