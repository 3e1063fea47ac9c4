//! Where each value of the spec stands, so that semantic problems found after deserialization
//! can still be reported at `line:column`: a [`yaml_places::Places`] index of the spec's text,
//! built on the first lookup, so a spec without problems is never parsed a second time.

use std::cell::OnceCell;

use yaml_places::Places;

/// Places of the values (and keys) of a YAML document, by path (`operations[0].parameters[2].type`,
/// `…type@key`).
#[derive(Debug)]
pub struct SourceMap<'a> {
    text: &'a str,
    places: OnceCell<Places>,
}

impl<'a> SourceMap<'a> {
    /// The places of `text`, indexed when first asked for.
    pub fn build(text: &'a str) -> SourceMap<'a> {
        SourceMap { text, places: OnceCell::new() }
    }

    /// The place of the value at `path`, or of its nearest ancestor that has one.
    pub fn locate(&self, path: &str) -> (usize, usize) {
        self.places.get_or_init(|| Places::of(self.text)).locate(path)
    }
}
