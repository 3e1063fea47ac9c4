//! The INI dialect of `~/.alibabacloud/credentials`: `[profile]` headers, `key = value` lines,
//! `#` and `;` comment lines, blank lines. Values are trimmed, and one pair of surrounding double
//! quotes is removed. A section given twice is merged (later keys win). Keys before the first
//! section are ignored, as the official SDKs' INI readers keep them apart from every profile.

/// One `[name]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) name: String,
    /// The line (1-based) of its first header.
    pub(crate) line: usize,
    /// Keys and values, with the line of each, in file order.
    pub(crate) entries: Vec<(String, String, usize)>,
}

impl Section {
    /// The value of `key` (the last one given) and its line.
    pub(crate) fn get(&self, key: &str) -> Option<(&str, usize)> {
        self.entries.iter().rev().find(|(k, _, _)| k == key).map(|(_, v, line)| (v.as_str(), *line))
    }
}

/// A line that is not INI, with its number (1-based). Never holds the line's text (it may be a
/// secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) line: usize,
    pub(crate) message: &'static str,
}

/// Every section of `text`, in file order of first appearance.
pub(crate) fn parse(text: &str) -> Result<Vec<Section>, SyntaxError> {
    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err(SyntaxError { line, message: "a section header lacks its closing `]`" });
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(SyntaxError {
                    line,
                    message: "a section header has no name: write `[default]` or `[my-profile]`",
                });
            }
            current = Some(match sections.iter().position(|s| s.name == name) {
                Some(i) => i,
                None => {
                    sections.push(Section { name: name.to_owned(), line, entries: Vec::new() });
                    sections.len() - 1
                }
            });
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(SyntaxError { line, message: "expected `[profile]` or `key = value`" });
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(SyntaxError { line, message: "a `= value` without a key" });
        }
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        if let Some(i) = current {
            sections[i].entries.push((key.to_owned(), value.to_owned(), line));
        }
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_comments_and_quotes() {
        let text = "ignored = before\n# comment\n[default]\ntype = access_key\n  access_key_id=  id1 \n; note\n\n[dev]\nkey = \"quoted value\"\n[default]\naccess_key_id = id2\n";
        let sections = parse(text).unwrap();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].name, "default");
        assert_eq!(sections[0].line, 3);
        assert_eq!(sections[0].get("type"), Some(("access_key", 4)));
        assert_eq!(sections[0].get("access_key_id"), Some(("id2", 11)), "later keys win");
        assert_eq!(sections[1].get("key"), Some(("quoted value", 9)));
        assert_eq!(sections[1].get("nothing"), None);
    }

    #[test]
    fn syntax_errors_give_the_line_and_never_the_text() {
        assert_eq!(parse("[default]\ntype = access_key\nsecret-without-equals\n").unwrap_err().line, 3);
        assert_eq!(
            parse("[default\n").unwrap_err(),
            SyntaxError { line: 1, message: "a section header lacks its closing `]`" }
        );
        assert_eq!(parse("\n[ ]\n").unwrap_err().line, 2);
        assert_eq!(parse("[a]\n= x\n").unwrap_err().line, 2);
    }
}
