//! Where each value of a YAML (or JSON) document stands, so that problems found after
//! deserialization can still be reported at `line:column`.
//!
//! serde_yaml gives a location only for its own errors. This index, built from yaml-rust2's
//! marked events, maps a path such as `operations[0].parameters[2].type` to the place of that
//! value, and `…type@key` to the place of its key. The spec loader (`codegen`) and the service's
//! seed files both report through it.
//!
//! ```
//! let places = yaml_places::Places::of("users:\n  - UserName: alice01\n");
//! assert_eq!(places.locate("users[0].UserName"), (2, 15));
//! assert_eq!(places.locate("users[0].UserName@key"), (2, 5));
//! // A path with no place of its own falls back to its nearest ancestor's.
//! assert_eq!(places.locate("users[0].Missing"), (2, 5));
//! ```

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Places (1-based line and column) of the values and keys of a document, by path: `a.b` for
/// key `b` of mapping `a`, `a[2]` for the third item of sequence `a`, `a.b@key` for the key
/// itself, and the empty path for the document's root.
#[derive(Debug, Default, Clone)]
pub struct Places {
    places: HashMap<String, (usize, usize)>,
}

impl Places {
    /// Indexes `text`. A document yaml-rust2 cannot parse gives an empty index (serde_yaml reports
    /// the syntax error itself, with its place), where every path is `(1, 1)`.
    pub fn of(text: &str) -> Places {
        let mut builder = Builder { stack: Vec::new(), places: Places::default() };
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Places::default();
        }
        builder.places
    }

    /// The place of the value at `path`, or of its nearest ancestor that has one (the document's
    /// start when none has).
    pub fn locate(&self, path: &str) -> (usize, usize) {
        let mut p = path.to_owned();
        loop {
            if let Some(place) = self.places.get(&p) {
                return *place;
            }
            match p.rfind(['.', '[', '@']) {
                Some(i) => p.truncate(i),
                None => return self.places.get("").copied().unwrap_or((1, 1)),
            }
        }
    }
}

/// A collection being read: its path and where its next value goes.
enum Frame {
    /// `key`: the key whose value comes next (none: a key comes next). `keyed`: whether a key has
    /// been seen (the first one also places a block mapping, whose start event is marked after
    /// that key).
    Map {
        path: String,
        key: Option<String>,
        keyed: bool,
    },
    Seq {
        path: String,
        index: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    places: Places,
}

impl Builder {
    /// The path of the value that starts now, advancing the parent's cursor; `None` for a key.
    fn next_value_path(&mut self, mark: Marker, scalar: Option<&str>) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
            Some(Frame::Map { path, key, keyed }) => match key.take() {
                Some(k) => Some(join(path, &k)),
                None => {
                    // This scalar is a key: remember it and where it stands.
                    if let Some(k) = scalar {
                        let p = join(path, k);
                        self.places.places.insert(format!("{p}@key"), place(mark));
                        *key = Some(k.to_owned());
                        if !*keyed {
                            *keyed = true;
                            let map = self.places.places.entry(path.clone()).or_insert(place(mark));
                            *map = (*map).min(place(mark));
                        }
                    }
                    None
                }
            },
        }
    }

    /// Places the value that starts now; its path, `None` for a key.
    fn value(&mut self, mark: Marker, scalar: Option<&str>) -> Option<String> {
        let path = self.next_value_path(mark, scalar)?;
        self.places.places.insert(path.clone(), place(mark));
        Some(path)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn place(mark: Marker) -> (usize, usize) {
    (mark.line(), mark.col() + 1)
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, ..) => {
                self.value(mark, Some(&value));
            }
            Event::Alias(_) => {
                self.value(mark, None);
            }
            Event::MappingStart(..) => {
                let path = self.value(mark, None).unwrap_or_default();
                self.stack.push(Frame::Map { path, key: None, keyed: false });
            }
            Event::SequenceStart(..) => {
                let path = self.value(mark, None).unwrap_or_default();
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_values_keys_and_items() {
        let text = "a:\n  b: 1\n  list:\n    - x: 2\n    - y\n";
        let places = Places::of(text);
        assert_eq!(places.locate("a.b"), (2, 6));
        assert_eq!(places.locate("a.b@key"), (2, 3));
        assert_eq!(places.locate("a.list[0].x"), (4, 10));
        assert_eq!(places.locate("a.list[1]"), (5, 7));
        assert_eq!(places.locate("a.list[0].missing").0, 4);
    }

    #[test]
    fn locates_values_keys_and_items_in_yaml_and_json() {
        let yaml = "users:\n  - UserName: alice01\n    Bandwidth: 20\n  - UserMail: b@x.com\n";
        let places = Places::of(yaml);
        assert_eq!(places.locate("users[0].UserName"), (2, 15));
        assert_eq!(places.locate("users[0].Bandwidth@key"), (3, 5));
        assert_eq!(places.locate("users[1]"), (4, 5));
        assert_eq!(places.locate("users[1].Missing").0, 4);
        let json = "{\"users\": [\n  {\"UserName\": \"alice01\"},\n  {\"UserMail\": \"b@x.com\"}\n]}";
        let places = Places::of(json);
        assert_eq!(places.locate("users[1].UserMail"), (3, 16));
    }

    /// A block mapping's start event is marked after its first key; its place is that key's.
    #[test]
    fn a_block_mapping_stands_at_its_first_key() {
        let places = Places::of("operations:\n  - name: A\n    params: 1\n");
        assert_eq!(places.locate("operations[0]"), (2, 5));
        assert_eq!(places.locate("operations[0].name@key"), (2, 5));
    }

    #[test]
    fn an_unparsable_document_places_everything_at_its_start() {
        let places = Places::of("a: [1, 2\n");
        assert_eq!(places.locate("a[0]"), (1, 1));
    }
}
