//! The INI dialect of `~/.alibabacloud/credentials`, read with the `configparser` crate:
//! `[profile]` headers, `key = value` lines, `#` and `;` comment lines (never inline: a secret may
//! hold either character), blank lines. Keys and profile names are case-sensitive, values are
//! trimmed and one pair of surrounding double quotes is removed. A section given twice is merged
//! (later keys win). Keys before the first section are ignored, as the official SDKs' INI readers
//! keep them apart from every profile.
//!
//! The crate reports the line of a malformed section header or an empty key, but keeps no line
//! per section or key; the line of a profile's header, and of a line that is not `key = value`
//! (the crate keeps such a line as a key without value), is found again in the text by
//! [`header_name`] and an exact match, so that errors still point into the file.

use configparser::ini::Ini;

/// The section the crate puts keys before the first header in: a name no header gives in
/// practice (it holds NUL characters).
const BEFORE_ANY_SECTION: &str = "\u{0}before any section\u{0}";

/// One `[name]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) name: String,
    /// The line (1-based) of its first header.
    pub(crate) line: usize,
    /// Keys and values, in file order (a key given twice once, with its last value).
    pub(crate) entries: Vec<(String, String)>,
}

impl Section {
    /// The value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A file that is not INI. Never holds the text of a line (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Where, e.g. `line 3`, and what is wrong.
    pub(crate) message: String,
}

/// Every section of `text`, in file order of first appearance.
pub(crate) fn parse(text: &str) -> Result<Vec<Section>, SyntaxError> {
    let mut defaults = Ini::new().defaults();
    defaults.default_section = BEFORE_ANY_SECTION.to_owned();
    defaults.comment_symbols = vec!['#', ';'];
    defaults.enable_inline_comments = false;
    defaults.delimiters = vec!['='];
    defaults.case_sensitive = true;
    defaults.multiline = false;
    defaults.cascade_defaults = false;
    let mut ini = Ini::new_from_defaults(defaults);
    // The crate's messages name the line and never quote it: "line 1: Found opening bracket for
    // section name but no closing bracket", "line 2:0: Key cannot be empty".
    let map = ini.read(text.to_owned()).map_err(|message| SyntaxError { message })?;

    let mut sections = Vec::with_capacity(map.len());
    for (name, entries) in map {
        if name == BEFORE_ANY_SECTION {
            continue;
        }
        let line = header_line(text, &name);
        if name.is_empty() {
            return Err(SyntaxError {
                message: format!("line {line}: a section header has no name: write `[default]` or `[my-profile]`"),
            });
        }
        let mut kept = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Some(value) = value else {
                // A line without `=`: the crate keeps the whole (trimmed) line as a key.
                let line = text.lines().position(|l| l.trim() == key).map_or(0, |i| i + 1);
                return Err(SyntaxError { message: format!("line {line}: expected `[profile]` or `key = value`") });
            };
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).map(str::to_owned).unwrap_or(value);
            kept.push((key, value));
        }
        sections.push(Section { name, line, entries: kept });
    }
    Ok(sections)
}

/// The name of the section `line` opens, by the crate's rule (`[`, the name up to the last `]`,
/// trimmed), if it is a header.
fn header_name(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix('[')?;
    Some(rest[..rest.rfind(']')?].trim())
}

/// The line (1-based) of the first header of section `name` (0 if not found).
fn header_line(text: &str, name: &str) -> usize {
    text.lines().position(|l| header_name(l) == Some(name)).map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_comments_and_quotes() {
        let text = "ignored = before\n# comment\n[default]\ntype = access_key\n  access_key_id=  id1 \n; note\n\n[dev]\nkey = \"quoted value\"\nsecret = a#b;c\n[default]\naccess_key_id = id2\n";
        let sections = parse(text).unwrap();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].name, "default");
        assert_eq!(sections[0].line, 3);
        assert_eq!(sections[0].get("type"), Some("access_key"));
        assert_eq!(sections[0].get("access_key_id"), Some("id2"), "later keys win");
        assert_eq!(sections[1].line, 8);
        assert_eq!(sections[1].get("key"), Some("quoted value"));
        assert_eq!(sections[1].get("secret"), Some("a#b;c"), "no inline comments");
        assert_eq!(sections[1].get("nothing"), None);
        assert_eq!(sections[1].get("ignored"), None);
    }

    #[test]
    fn keys_and_profiles_are_case_sensitive() {
        let sections = parse("[Dev]\nAccess_Key_Id = x\n").unwrap();
        assert_eq!(sections[0].name, "Dev");
        assert_eq!(sections[0].get("Access_Key_Id"), Some("x"));
        assert_eq!(sections[0].get("access_key_id"), None);
    }

    #[test]
    fn syntax_errors_give_the_line_and_never_the_text() {
        let e = parse("[default]\ntype = access_key\nsecret-without-equals\n").unwrap_err();
        assert!(e.message.starts_with("line 3: ") && !e.message.contains("secret"), "{e:?}");
        let e = parse("[default\n").unwrap_err();
        assert!(e.message.contains("line 1") && e.message.contains("closing bracket"), "{e:?}");
        let e = parse("\n[ ]\n").unwrap_err();
        assert!(e.message.starts_with("line 2: a section header has no name"), "{e:?}");
        let e = parse("[a]\n= x-secret\n").unwrap_err();
        assert!(e.message.contains("line 2") && !e.message.contains("x-secret"), "{e:?}");
    }
}
