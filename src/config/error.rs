//! A config file that cannot be used, and where in it the problem is.

use std::path::{Path, PathBuf};

use super::toml_text::toml_key;

/// The config file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("the config file {} given with --config does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A syntax error, a bad value or an unknown key. `line` and `column` are 1-based.
    #[error("{}", invalid_message(path, *line, *column, key.as_deref(), message))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        /// The dotted key the error is about, as TOML writes it (`dist."Foo::Bar".auth`).
        key: Option<String>,
        message: String,
    },
}

fn invalid_message(
    path: &Path,
    line: Option<usize>,
    column: Option<usize>,
    key: Option<&str>,
    message: &str,
) -> String {
    let mut s = format!("config file {}", path.display());
    if let Some(line) = line {
        s.push_str(&format!(", line {line}"));
    }
    if let Some(column) = column {
        s.push_str(&format!(", column {column}"));
    }
    if let Some(key) = key {
        s.push_str(&format!(", key {key}"));
    }
    s.push_str(": ");
    s.push_str(message);
    s
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The dotted key whose key or value holds byte `offset`, as TOML writes it.
pub(super) fn key_at(text: &str, offset: usize) -> Option<String> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    find_key(doc.get_ref(), offset, &mut path).then(|| path.join("."))
}

fn find_key(table: &toml::de::DeTable, offset: usize, path: &mut Vec<String>) -> bool {
    for (key, value) in table.iter() {
        path.push(toml_key(key.get_ref()));
        // The deepest key first: a table's span may cover its whole body.
        let inner = match value.get_ref() {
            toml::de::DeValue::Table(t) => find_key(t, offset, path),
            _ => false,
        };
        if inner || key.span().contains(&offset) || value.span().contains(&offset) {
            return true;
        }
        path.pop();
    }
    false
}
