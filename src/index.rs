//! The ecosystem index: META6 entries, as REA's `META.json`, the zef p6c/cpan indexes and the
//! fez index publish them, parsed into [`Release`]s.
//!
//! Every field is written by strangers. Parsing keeps what the rest of the program needs,
//! normalised once, and never lets a value through unchecked: an entry without a usable name
//! or version is skipped with a warning that names it; an entry with unreadable dependencies
//! is kept so the planner can hold it back with that reason. A file that is not a JSON array
//! is an error for the whole index, so nothing is written from half an index.
//!
//! Loading (files, http) lives in [`load`]; [`parse_index`] is pure.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::fetch::{Document, HttpCache};
use crate::raku::depspec::{self, DepPhases};
use crate::raku::version::RakuVersion;
use crate::text::escape_for_log;
use crate::urls::is_http_url;

/// Where the fez index keeps its tarballs; fez entries carry a `path` relative to it.
pub const FEZ_BASE_URL: &str = "https://360.zef.pm/";

/// One release of one distribution, as the index describes it.
#[derive(Debug, Clone)]
pub struct Release {
    /// The distribution name (`JSON::Fast`): non-empty, no control characters.
    pub name: String,
    pub version: RakuVersion,
    /// `zef:timo`, `cpan:TIMOTIMO`, ... ; from `auth`, else from the `dist` string.
    pub auth: Option<String>,
    /// `None` when missing or empty.
    pub api: Option<RakuVersion>,
    pub description: Option<String>,
    /// The license strings as written (`license` or `licence`; a list keeps its items).
    pub licenses: Vec<String>,
    /// The module names the release provides. Sorted. (Their paths are not kept: nothing
    /// uses them, and for a whole ecosystem they are megabytes.)
    pub provides: BTreeSet<String>,
    /// The dependencies, or why they could not be read.
    pub depends: Result<DepPhases, String>,
    /// The archived tarball's public URL, when the entry has one.
    pub source_url: Option<String>,
    /// `support.source`, `support.homepage` or a non-archive `source-url`: a human's homepage.
    pub homepage: Option<String>,
    pub release_date: Option<String>,
    /// META6 `builder` (a build step runs native code at build time).
    pub builder: Option<String>,
    /// Position of the index among the `--index` arguments, for tie-breaking.
    pub index_rank: usize,
}

impl Release {
    /// The Raku identity: `Name:ver<1.0>:auth<zef:me>:api<1>`, as REA writes `dist`.
    pub fn identity(&self) -> String {
        let mut s = format!("{}:ver<{}>", self.name, self.version);
        if let Some(auth) = &self.auth {
            s.push_str(&format!(":auth<{auth}>"));
        }
        if let Some(api) = &self.api {
            s.push_str(&format!(":api<{api}>"));
        }
        s
    }
}

/// An entry that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Skipped {
    /// Which entry: its name and version if it has them, else its position.
    pub entry: String,
    pub reason: String,
}

/// A whole index, parsed.
#[derive(Debug, Default)]
pub struct ParsedIndex {
    pub releases: Vec<Release>,
    pub skipped: Vec<Skipped>,
}

/// The index as a whole could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    // The cause is not repeated here: it is the error's source, which callers print after it.
    #[error("index {origin} is not valid JSON")]
    Json {
        origin: String,
        source: serde_json::Error,
    },
    #[error("index {origin} is not a JSON array of META6 objects (found {found})")]
    NotAnArray { origin: String, found: &'static str },
    #[error("could not read index {origin}")]
    Io {
        origin: String,
        source: std::io::Error,
    },
    #[error("could not download index {origin}: {message}")]
    Http { origin: String, message: String },
}

/// Where an index comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexLocation {
    Path(PathBuf),
    Url(String),
}

impl IndexLocation {
    /// `http://` and `https://` are URLs; anything else is a path.
    pub fn parse(arg: &str) -> Self {
        if is_http_url(arg) {
            IndexLocation::Url(arg.to_string())
        } else {
            IndexLocation::Path(PathBuf::from(arg))
        }
    }
}

impl fmt::Display for IndexLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexLocation::Path(p) => write!(f, "{}", p.display()),
            IndexLocation::Url(u) => f.write_str(u),
        }
    }
}

/// An index's bytes, and for a download what the cache should keep once they parse.
#[derive(Debug)]
pub enum Loaded {
    File(Vec<u8>),
    Http(Document),
}

impl Loaded {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Loaded::File(bytes) => bytes,
            Loaded::Http(doc) => &doc.bytes,
        }
    }
}

/// Reads an index from disk or over http(s) (conditionally, through `cache`).
pub async fn load(
    location: &IndexLocation,
    client: &reqwest::Client,
    cache: &HttpCache,
) -> Result<Loaded, IndexError> {
    let origin = location.to_string();
    match location {
        IndexLocation::Path(path) => tokio::fs::read(path)
            .await
            .map(Loaded::File)
            .map_err(|source| IndexError::Io { origin, source }),
        IndexLocation::Url(url) => cache
            .get(client, url)
            .await
            .map(Loaded::Http)
            .map_err(|message| IndexError::Http { origin, message }),
    }
}

/// Parses one index: a JSON array of META6 objects.
///
/// # Errors
/// When the text is not JSON, or not an array. Bad entries are not errors: they are
/// returned in [`ParsedIndex::skipped`].
pub fn parse_index(
    bytes: &[u8],
    origin: &str,
    index_rank: usize,
) -> Result<ParsedIndex, IndexError> {
    let json_error = |source| IndexError::Json {
        origin: origin.to_string(),
        source,
    };
    // Entries are read one at a time: a JSON tree of the whole index would take several times
    // the index's size (REA's is ~20 MB), where one entry's tree is a few kB.
    let first = bytes.iter().find(|b| !b" \t\n\r".contains(b));
    if first != Some(&b'[') {
        let value: Value = serde_json::from_slice(bytes).map_err(json_error)?;
        return Err(IndexError::NotAnArray {
            origin: origin.to_string(),
            found: json_kind(&value),
        });
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde::Deserializer::deserialize_seq(&mut json, Entries { origin, index_rank })
        .map_err(json_error)?;
    json.end().map_err(json_error)?;
    Ok(parsed)
}

/// Reads the index's array entry by entry into a [`ParsedIndex`].
struct Entries<'a> {
    origin: &'a str,
    index_rank: usize,
}

impl<'de> serde::de::Visitor<'de> for Entries<'_> {
    type Value = ParsedIndex;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of META6 objects")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ParsedIndex, A::Error> {
        let mut parsed = ParsedIndex::default();
        let mut position = 0;
        while let Some(entry) = seq.next_element::<Value>()? {
            match parse_entry(&entry, self.index_rank) {
                Ok(release) => parsed.releases.push(release),
                Err(reason) => parsed.skipped.push(Skipped {
                    entry: describe_entry(&entry, self.origin, position),
                    reason,
                }),
            }
            position += 1;
        }
        Ok(parsed)
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe_entry(entry: &Value, origin: &str, position: usize) -> String {
    let name = entry.get("name").and_then(Value::as_str);
    let version = entry
        .get("version")
        .or_else(|| entry.get("ver"))
        .and_then(Value::as_str);
    match (name, version) {
        (Some(n), Some(v)) => format!("{}:ver<{}>", escape_for_log(n), escape_for_log(v)),
        (Some(n), None) => escape_for_log(n),
        _ => format!("entry #{position} of {origin}"),
    }
}

/// Turns one META6 object into a [`Release`], or says why it can't.
fn parse_entry(entry: &Value, index_rank: usize) -> Result<Release, String> {
    let Value::Object(meta) = entry else {
        return Err(format!("is {}, not a META6 object", json_kind(entry)));
    };
    let name = match meta.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("`name` is not a string".into()),
        None => return Err("has no `name`".into()),
    };
    if name.trim().is_empty() {
        return Err("`name` is empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "`name` {} contains control characters",
            escape_for_log(&name)
        ));
    }
    let version_text = match meta.get("version").or_else(|| meta.get("ver")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("`version` is not a string".into()),
        None => return Err("has no `version`".into()),
    };
    let version: RakuVersion = version_text
        .parse()
        .map_err(|e| format!("`version` {}: {e}", escape_for_log(&version_text)))?;
    let auth = string_field(meta, "auth")
        .or_else(|| string_field(meta, "dist").and_then(|dist| adverb(&dist, "auth")));
    let api = match meta.get("api") {
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(
            s.parse::<RakuVersion>()
                .map_err(|e| format!("`api` {}: {e}", escape_for_log(s)))?,
        ),
        Some(Value::Number(n)) => Some(
            n.to_string()
                .parse::<RakuVersion>()
                .map_err(|e| format!("`api` {n}: {e}"))?,
        ),
        _ => None,
    };
    let licenses = match meta.get("license").or_else(|| meta.get("licence")) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let provides = match meta.get("provides") {
        Some(Value::Object(map)) => map
            .iter()
            .filter(|(_, v)| has_provide_path(v))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => BTreeSet::new(),
    };
    let depends = depspec::parse_phases(meta).map_err(|e| e.to_string());
    let (source_url, repository) = source_of(meta);
    let support = meta.get("support").and_then(Value::as_object);
    let homepage = support
        .and_then(|s| string_field(s, "source").or_else(|| string_field(s, "homepage")))
        .filter(|u| is_http_url(u))
        .or(repository);
    Ok(Release {
        name,
        version,
        auth,
        api,
        description: string_field(meta, "description"),
        licenses,
        provides,
        depends,
        source_url,
        homepage,
        release_date: string_field(meta, "release-date"),
        builder: string_field(meta, "builder"),
        index_rank,
    })
}

/// A `provides` value is a path, or (old META) a hash whose keys are paths; a module
/// without one is not provided.
fn has_provide_path(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }
}

fn string_field(meta: &Map<String, Value>, key: &str) -> Option<String> {
    meta.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The value of `:key<value>` in a Raku identity string such as REA's `dist`.
fn adverb(identity: &str, key: &str) -> Option<String> {
    let start = identity.find(&format!(":{key}<"))? + key.len() + 2;
    let len = identity[start..].find('>')?;
    Some(identity[start..start + len].to_string()).filter(|s| !s.is_empty())
}

/// Splits the entry's source into an archived tarball URL (if it is one) and a repository
/// URL that only serves as a homepage.
fn source_of(meta: &Map<String, Value>) -> (Option<String>, Option<String>) {
    if let Some(path) = string_field(meta, "path") {
        // fez: a path relative to its archive, e.g. `F/EZ/FEZ/<sha1>.tar.gz`.
        if is_tarball_path(&path) && !path.starts_with('/') && !path.contains("..") {
            return (Some(format!("{FEZ_BASE_URL}{path}")), None);
        }
    }
    let Some(url) = string_field(meta, "source-url") else {
        return (None, None);
    };
    let web = is_http_url(&url);
    if web && is_tarball_path(url.split(['?', '#']).next().unwrap_or("")) {
        (Some(url), None)
    } else if web {
        (None, Some(url.trim_end_matches(".git").to_string()))
    } else {
        (None, None)
    }
}

fn is_tarball_path(path: &str) -> bool {
    path.ends_with(".tar.gz") || path.ends_with(".tgz")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParsedIndex {
        parse_index(text.as_bytes(), "test", 0).expect("parses")
    }

    #[test]
    fn not_json_is_an_error_for_the_whole_index() {
        let err = parse_index(b"[{\"name\":", "idx", 0).unwrap_err();
        assert!(
            err.to_string().starts_with("index idx is not valid JSON"),
            "{err}"
        );
    }

    #[test]
    fn broken_json_after_good_entries_is_still_an_error() {
        for text in [
            "[{\"name\":\"A\",\"version\":\"1\"}, {\"name\":",
            "[{\"name\":\"A\",\"version\":\"1\"}] trailing",
            " \n[] []",
        ] {
            let err = parse_index(text.as_bytes(), "idx", 0).unwrap_err();
            assert!(
                err.to_string().starts_with("index idx is not valid JSON"),
                "{text}: {err}"
            );
        }
        assert!(
            parse_index(b" \n[]\n", "idx", 0)
                .unwrap()
                .releases
                .is_empty()
        );
    }

    #[test]
    fn an_object_is_not_an_index() {
        let err = parse_index(b"{\"name\":\"X\"}", "idx", 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "index idx is not a JSON array of META6 objects (found an object)"
        );
    }

    #[test]
    fn malformed_entries_are_skipped_and_named() {
        let parsed = parse(
            r#"[1, {"version":"1"}, {"name":"A","version":"1.0"}, {"name":"B"},
                {"name":"Foo::\nBar","version":"1"}, {"name":"","version":"1"}]"#,
        );
        assert_eq!(parsed.releases.len(), 1);
        assert_eq!(parsed.releases[0].name, "A");
        let reasons: Vec<_> = parsed
            .skipped
            .iter()
            .map(|s| format!("{} {}", s.entry, s.reason))
            .collect();
        assert_eq!(
            reasons,
            [
                "entry #0 of test is a number, not a META6 object",
                "entry #1 of test has no `name`",
                "B has no `version`",
                "\"Foo::\\nBar\":ver<1> `name` \"Foo::\\nBar\" contains control characters",
                "\"\":ver<1> `name` is empty",
            ]
        );
    }

    #[test]
    fn auth_falls_back_to_the_dist_string() {
        let parsed = parse(
            r#"[{"name":"Crypt::Random","version":"0.4.1","author":"github:skinkade",
                 "dist":"Crypt::Random:ver<0.4.1>:auth<github:skinkade>"}]"#,
        );
        assert_eq!(parsed.releases[0].auth.as_deref(), Some("github:skinkade"));
    }

    #[test]
    fn api_may_be_a_number_or_empty() {
        let parsed =
            parse(r#"[{"name":"A","version":"1","api":1},{"name":"B","version":"1","api":""}]"#);
        assert_eq!(
            parsed.releases[0]
                .api
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("1")
        );
        assert!(parsed.releases[1].api.is_none());
    }

    #[test]
    fn licence_spelling_and_lists_are_read() {
        let parsed = parse(
            r#"[{"name":"A","version":"1","licence":"MIT"},
                {"name":"B","version":"1","license":["GPL","Artistic-2.0"]},
                {"name":"C","version":"1","license":null}]"#,
        );
        let licenses: Vec<_> = parsed.releases.iter().map(|r| r.licenses.clone()).collect();
        assert_eq!(licenses, [vec!["MIT"], vec!["GPL", "Artistic-2.0"], vec![]]);
    }

    #[test]
    fn only_http_tarballs_are_archives() {
        let parsed = parse(
            r#"[{"name":"A","version":"1","source-url":"https://example.org/a/A.tar.gz"},
                {"name":"B","version":"1","source-url":"git://github.com/x/B.git"},
                {"name":"C","version":"1","source-url":"https://github.com/x/C.git"},
                {"name":"D","version":"1","path":"D/D1/D.tar.gz"},
                {"name":"E","version":"1","path":"../E.tar.gz"}]"#,
        );
        let sources: Vec<_> = parsed
            .releases
            .iter()
            .map(|r| (r.source_url.as_deref(), r.homepage.as_deref()))
            .collect();
        assert_eq!(
            sources,
            [
                (Some("https://example.org/a/A.tar.gz"), None),
                (None, None),
                (None, Some("https://github.com/x/C")),
                (Some("https://360.zef.pm/D/D1/D.tar.gz"), None),
                (None, None),
            ]
        );
    }

    #[test]
    fn every_real_index_parses() {
        for (file, entries) in [
            ("rea-sample.json", 64),
            ("rea-pages.json", 698),
            ("p6c-2023-03.json", 702),
            ("cpan-2023-03.json", 1916),
        ] {
            let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(&path).expect("test data");
            let parsed = parse_index(&bytes, file, 0).expect("real index parses");
            assert_eq!(
                parsed.releases.len() + parsed.skipped.len(),
                entries,
                "{file}"
            );
        }
    }
}
