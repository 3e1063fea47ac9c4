//! Where a configuration problem is ([`Location`]) and the errors that report problems: a file's
//! ([`ConfigProblem`], [`ConfigError`]) and the environment's ([`EnvProblem`]).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where in a configuration file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    /// The 1-based column (in characters), when the problem has a place in the file.
    pub column: Option<usize>,
}

impl Location {
    pub(super) fn of(path: &Path, text: &str, span: Option<Range<usize>>) -> Location {
        let (line, column) = match span {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Location { path: path.to_path_buf(), line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigProblem {
    /// Where it is.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong type.
    #[error("{0}")]
    Parse(ConfigProblem),
    /// The file parsed, but values are wrong (every problem found, in file order; never empty).
    #[error("{}", render_problems(.0))]
    Invalid(Vec<ConfigProblem>),
    /// Environment variables have bad values (every one found; never empty).
    #[error("{}", render_problems(.0))]
    Environment(Vec<EnvProblem>),
}

/// A bad environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {variable}: {message}")]
pub struct EnvProblem {
    /// The variable, e.g. `SMARTAG_LISTEN`.
    pub variable: String,
    /// What is wrong and what is expected (never a secret's value).
    pub message: String,
}

impl ConfigError {
    /// The located problems this error reports (empty for [`ConfigError::Read`] and
    /// [`ConfigError::Environment`], whose problems are in environment variables, not the file).
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            ConfigError::Read { .. } | ConfigError::Environment(_) => &[],
            ConfigError::Parse(problem) => std::slice::from_ref(problem),
            ConfigError::Invalid(problems) => problems,
        }
    }
}

/// One problem a line.
fn render_problems<P: ToString>(problems: &[P]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 9), (2, 3)); // after "bé"
        assert_eq!(line_column(text, 8), (2, 2)); // inside é: clamped to its start
        assert_eq!(line_column(text, 999), (3, 1));
    }
}
