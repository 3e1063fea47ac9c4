//! Where each value of a YAML (or JSON) document stands, so that problems found after
//! deserialization can be reported at `line:column`.
//!
//! serde_yaml gives a location only for its own errors; this index, built from yaml-rust2's marked
//! events, maps a path such as `users[2].UserName` to the place of that value (and
//! `users[2].UserName@key` to the place of its key). (The same technique as `codegen`'s source
//! map, which the service does not depend on.)

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Places (1-based line and column) of the values and keys of a document, by path.
#[derive(Debug, Default)]
pub(super) struct Places {
    places: HashMap<String, (usize, usize)>,
}

enum Frame {
    /// `keyed`: whether a key has been seen (the first one also places a block mapping, whose
    /// start event is marked after that key).
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

impl Places {
    /// Indexes `text`. A document yaml-rust2 cannot parse gives an empty index (serde_yaml reports
    /// the syntax error itself, with its place).
    pub(super) fn of(text: &str) -> Places {
        let mut builder = Builder { stack: Vec::new(), places: Places::default() };
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Places::default();
        }
        builder.places
    }

    /// The place of the value at `path`, or of its nearest ancestor that has one.
    pub(super) fn locate(&self, path: &str) -> (usize, usize) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
