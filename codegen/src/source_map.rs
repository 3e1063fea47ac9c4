//! Where each value of a YAML document stands, so that semantic problems found after
//! deserialization can still be reported at `line:column`.
//!
//! serde_yaml gives a location only for its own errors; this index, built from yaml-rust2's
//! marked events, maps a path such as `operations[0].parameters[2].type` to the place of that
//! value (and `…type@key` to the place of its key).

use std::cell::OnceCell;
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Places of the values (and keys) of a YAML document, by path. Built on the first lookup: a
/// spec without problems is never parsed a second time.
#[derive(Debug)]
pub struct SourceMap<'a> {
    text: &'a str,
    places: OnceCell<Places>,
}

type Places = HashMap<String, (usize, usize)>;

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

struct Builder {
    stack: Vec<Frame>,
    places: Places,
}

impl Builder {
    /// The path of the value that starts now, advancing the parent's cursor.
    fn next_value_path(&mut self, mark: Marker, scalar: Option<&str>) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(join(path, &k)),
                None => {
                    // This scalar is a key: remember it and where it stands.
                    if let Some(k) = scalar {
                        let p = join(path, k);
                        self.places.insert(format!("{p}@key"), place(mark));
                        *key = Some(k.to_string());
                    }
                    None
                }
            },
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn place(mark: Marker) -> (usize, usize) {
    (mark.line(), mark.col() + 1)
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(p) = self.next_value_path(mark, Some(&value)) {
                    self.places.insert(p, place(mark));
                }
            }
            Event::Alias(_) => {
                if let Some(p) = self.next_value_path(mark, None) {
                    self.places.insert(p, place(mark));
                }
            }
            Event::MappingStart(..) => {
                let p = self.next_value_path(mark, None).unwrap_or_default();
                self.places.insert(p.clone(), place(mark));
                self.stack.push(Frame::Map { path: p, key: None });
            }
            Event::SequenceStart(..) => {
                let p = self.next_value_path(mark, None).unwrap_or_default();
                self.places.insert(p.clone(), place(mark));
                self.stack.push(Frame::Seq { path: p, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

impl<'a> SourceMap<'a> {
    /// The places of `text`, indexed when first asked for.
    pub fn build(text: &'a str) -> SourceMap<'a> {
        SourceMap { text, places: OnceCell::new() }
    }

    /// Indexes the text. A document yaml-rust2 cannot parse gives an empty map (serde_yaml
    /// reports the syntax error itself, with its place).
    fn places(&self) -> &Places {
        self.places.get_or_init(|| {
            let mut b = Builder { stack: Vec::new(), places: Places::new() };
            let mut parser = Parser::new_from_str(self.text);
            if parser.load(&mut b, false).is_err() {
                return Places::new();
            }
            b.places
        })
    }

    /// The place of the value at `path`, or of its nearest ancestor that has one.
    pub fn locate(&self, path: &str) -> (usize, usize) {
        let places = self.places();
        let mut p = path.to_string();
        loop {
            if let Some(place) = places.get(&p) {
                return *place;
            }
            match p.rfind(['.', '[', '@']) {
                Some(i) => p.truncate(i),
                None => return places.get("").copied().unwrap_or((1, 1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_values_keys_and_items() {
        let text = "a:\n  b: 1\n  list:\n    - x: 2\n    - y\n";
        let m = SourceMap::build(text);
        assert_eq!(m.locate("a.b"), (2, 6));
        assert_eq!(m.locate("a.b@key"), (2, 3));
        assert_eq!(m.locate("a.list[0].x"), (4, 10));
        assert_eq!(m.locate("a.list[1]"), (5, 7));
        assert_eq!(m.locate("a.list[0].missing").0, 4);
    }
}
