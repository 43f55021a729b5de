//! META6 dependency specifications, in every form the ecosystem uses.
//!
//! The rules follow what zef (the tool that installs Raku distributions) does with the same
//! data, except where zef silently drops something it cannot read: we report an error instead,
//! so the planner can hold the package back with a reason rather than ship it with a missing
//! dependency.
//!
//! - **Where dependencies come from.** A list `depends` is the runtime list. A hash `depends`
//!   has phases `runtime`, `build` and `test`, each with `requires` and optionally `recommends`;
//!   any other phase or relation key is an error. `build` is `build-depends` followed by
//!   `depends.build.requires`, and `test` likewise; `recommends` gathers the `recommends` of all
//!   phases in the order runtime, build, test. A missing or `null` key means no dependencies.
//! - **Conditionals** (`{"by-distro.name": {"arch": …, "": …}}`) may stand anywhere a value
//!   may, as zef collapses them everywhere. They are decided for Arch Linux on x86_64:
//!   `by-distro.name` is `arch` and `by-kernel.name` is `linux`. The branch named by that value
//!   is taken, else the `""` branch, else it is an error. Any other `by-*` query (including
//!   zef's `by-env*`, which depends on the build machine) is an error rather than a guess, as is
//!   a conditional that shares its object with other keys.
//! - **"No dependency here"**: the empty string `""` and `null` as an item (zef drops both), a
//!   conditional that selects either of them, and an object whose `name` is `""`. These items are
//!   dropped. An `any` that has such an alternative is satisfied already, so it is dropped too.
//! - **Lists inside lists** are flattened: every item is required (zef flattens them the same
//!   way; they are not alternatives). Nesting of any kind is bounded by [`MAX_DEPTH`].
//! - **Strings** are `Name` followed by adverbs `:key<value>`, `:key('value')` or `:key("value")`
//!   in any order. The name ends at the first `:` that is not part of `::`. Adverbs `ver` (alias
//!   `version`, as in zef), `auth`, `api` and `from` are known; an unknown adverb is an error,
//!   since ignoring it (as zef does) could silently widen a constraint. An empty value means
//!   "unconstrained", as in zef's long names `Foo:ver<>:auth<>`. Values are kept as raw, trimmed
//!   text; the planner parses versions.
//! - **Names** are kept as written (trimmed): odd names are for the planner to match against
//!   `provides`. A name is an error only if it is empty, has a control character (or a Unicode
//!   line separator or bidirectional control, which could forge or reorder a report line), a
//!   lone `:`, or one of `<>()`, which META6 reserves for adverbs.
//! - **Duplicates** (equal specs) are removed within each list of [`DepPhases`] and within an
//!   `any`, keeping the first. Order is otherwise the order of the META6 data. Equal requests in
//!   different phases, and different requests for the same name, are left to the planner.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

/// How deep lists, `any` objects and conditionals may nest. Real data nests a few levels; the
/// bound keeps hostile data from exhausting the stack.
pub const MAX_DEPTH: usize = 16;

/// The answers to the `by-*` queries for the only platform we build for: Arch Linux, x86_64.
const TARGET_FACTS: &[(&str, &str)] = &[("by-distro.name", "arch"), ("by-kernel.name", "linux")];

/// Whether `c` can break a log line or reorder the text around it: control characters, Unicode
/// line and paragraph separators, and bidirectional controls ("Trojan Source").
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// How many characters of an offending value an error quotes: enough to recognise it, short
/// enough that hostile 10 kB values keep a report readable.
const EXCERPT_CHARS: usize = 80;

/// A request for a Raku module or distribution, with its raw, trimmed adverb values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModuleRequest {
    pub name: String,
    pub ver: Option<String>,
    pub auth: Option<String>,
    pub api: Option<String>,
}

/// A requirement outside Raku, named by a `from` adverb or key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum External {
    /// `:from<native>`: a shared library, with the ABI version given by `:ver` if any.
    Native { name: String, ver: Option<String> },
    /// `:from<bin>`: an executable.
    Bin { name: String },
    /// `:from<Perl5>`: a Perl module.
    Perl5 { name: String },
    /// Any other `from`, kept for the planner to report.
    Other { from: String, name: String },
}

/// One dependency item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DepSpec {
    Module(ModuleRequest),
    External(External),
    /// At least two distinct alternatives, one of which must be satisfied.
    AnyOf(Vec<DepSpec>),
}

/// The dependencies of one distribution, by phase, for Arch Linux on x86_64.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepPhases {
    pub runtime: Vec<DepSpec>,
    pub build: Vec<DepSpec>,
    pub test: Vec<DepSpec>,
    /// The `recommends` of every phase of a hash-style `depends`.
    pub recommends: Vec<DepSpec>,
}

/// An offending value as quoted in an error: escaped like `{:?}`, so newlines, NUL or terminal
/// escapes in hostile data cannot break a log line, and cut to [`EXCERPT_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    text: String,
    omitted: usize,
}

impl Excerpt {
    fn new(s: &str) -> Self {
        match s.char_indices().nth(EXCERPT_CHARS) {
            Some((cut, _)) => Excerpt {
                text: s[..cut].to_owned(),
                omitted: s[cut..].chars().count(),
            },
            None => Excerpt {
                text: s.to_owned(),
                omitted: 0,
            },
        }
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)?;
        if self.omitted > 0 {
            write!(f, "… ({} more characters)", self.omitted)?;
        }
        Ok(())
    }
}

/// Why a dependency specification cannot be used. Displays as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DepSpecError {
    #[error("dependency name {name} is invalid: {reason}")]
    InvalidName { name: Excerpt, reason: &'static str },
    #[error("dependency string {spec} is malformed: {reason}")]
    Malformed { spec: Excerpt, reason: &'static str },
    #[error("dependency {spec} has unknown adverb {adverb}")]
    UnknownAdverb { spec: Excerpt, adverb: Excerpt },
    #[error("dependency {spec} gives the adverb {adverb} twice")]
    DuplicateAdverb { spec: Excerpt, adverb: Excerpt },
    #[error("dependency {name} from {from} cannot have {adverb}")]
    NotApplicable {
        name: Excerpt,
        from: Excerpt,
        adverb: &'static str,
    },
    #[error("{place} has unknown key {key}")]
    UnknownKey { place: &'static str, key: Excerpt },
    #[error("{place} lacks the key {key:?}")]
    MissingKey {
        place: &'static str,
        key: &'static str,
    },
    #[error("{place} must be {expected}, found {found}")]
    WrongType {
        place: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("condition {query} cannot be decided for Arch Linux on x86_64: {reason}")]
    Condition {
        query: Excerpt,
        reason: &'static str,
    },
    #[error("dependencies nest deeper than {limit} levels")]
    TooDeep { limit: usize },
}

/// Reads `depends`, `build-depends` and `test-depends` of one META6 object.
pub fn parse_phases(meta: &Map<String, Value>) -> Result<DepPhases, DepSpecError> {
    let mut phases = DepPhases::default();
    if let Some(build) = meta.get("build-depends") {
        collect_list(build, "build-depends", &mut phases.build)?;
    }
    if let Some(test) = meta.get("test-depends") {
        collect_list(test, "test-depends", &mut phases.test)?;
    }
    if let Some(depends) = meta.get("depends") {
        let (depends, depth) = resolve(depends, 0)?;
        match depends {
            Value::Object(by_phase) => collect_phases(by_phase, depth, &mut phases)?,
            _ => collect_list(depends, "depends", &mut phases.runtime)?,
        }
    }
    for list in [
        &mut phases.runtime,
        &mut phases.build,
        &mut phases.test,
        &mut phases.recommends,
    ] {
        dedup(list);
    }
    Ok(phases)
}

impl FromStr for DepSpec {
    type Err = DepSpecError;

    /// Parses `Name:adverb<value>…`. Never yields [`DepSpec::AnyOf`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = |reason| DepSpecError::Malformed {
            spec: Excerpt::new(s),
            reason,
        };
        if s.chars().any(is_unsafe) {
            return Err(malformed(
                "it contains a control or bidirectional character",
            ));
        }
        let (name, mut rest) = split_name(s.trim());
        let mut adverbs = Adverbs::default();
        while let Some(after_colon) = rest.strip_prefix(':') {
            let key_end = after_colon
                .find(['<', '('])
                .ok_or_else(|| malformed("an adverb has no <value>"))?;
            let key = &after_colon[..key_end];
            if key.is_empty() || key.contains(':') {
                return Err(malformed("an adverb name is empty or has a colon"));
            }
            let (value, after) = adverb_value(&after_colon[key_end..])
                .ok_or_else(|| malformed("an adverb value is not closed properly"))?;
            if !(after.is_empty() || after.starts_with(':')) {
                return Err(malformed("text follows an adverb value"));
            }
            let slot = adverbs
                .slot(key)
                .ok_or_else(|| DepSpecError::UnknownAdverb {
                    spec: Excerpt::new(s),
                    adverb: Excerpt::new(key),
                })?;
            if slot.replace(value.to_owned()).is_some() {
                return Err(DepSpecError::DuplicateAdverb {
                    spec: Excerpt::new(s),
                    adverb: Excerpt::new(key),
                });
            }
            rest = after;
        }
        adverbs.into_spec(name)
    }
}

/// Splits `Foo::Bar:ver<1>` into `Foo::Bar` and `:ver<1>`: the name ends at the first `:`
/// that is not part of `::`.
pub fn split_name(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' {
            if bytes.get(i + 1) == Some(&b':') {
                i += 2;
                continue;
            }
            return (&s[..i], &s[i..]);
        }
        i += 1;
    }
    (s, "")
}

/// Reads `<value>`, `('value')` or `("value")` at the start of `s`; returns the value and the
/// rest. The quoted forms occur in real data (`Net::ZMQ:auth('github:gabrielash')`); other
/// parenthesised Raku expressions, such as ranges, are not values we can use.
fn adverb_value(s: &str) -> Option<(&str, &str)> {
    if let Some(inner) = s.strip_prefix('<') {
        let (value, rest) = inner.split_once('>')?;
        return (!value.contains('<')).then_some((value, rest));
    }
    let inner = s.strip_prefix('(')?;
    let quote = inner.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let (value, rest) = inner[1..].split_once(quote)?;
    Some((value, rest.strip_prefix(')')?))
}

/// The adverbs of one request, whether written in a string or as object keys.
#[derive(Default)]
struct Adverbs {
    ver: Option<String>,
    auth: Option<String>,
    api: Option<String>,
    from: Option<String>,
}

impl Adverbs {
    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "ver" | "version" => Some(&mut self.ver),
            "auth" => Some(&mut self.auth),
            "api" => Some(&mut self.api),
            "from" => Some(&mut self.from),
            _ => None,
        }
    }

    fn into_spec(self, name: &str) -> Result<DepSpec, DepSpecError> {
        let name = valid_name(name)?;
        // An empty value constrains nothing, as in zef's `Foo:ver<>:auth<>:api<>`.
        let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let (ver, auth, api) = (given(self.ver), given(self.auth), given(self.api));
        let from = match given(self.from) {
            None => {
                return Ok(DepSpec::Module(ModuleRequest {
                    name,
                    ver,
                    auth,
                    api,
                }));
            }
            Some(from) if from == "Raku" || from == "Perl6" => {
                return Ok(DepSpec::Module(ModuleRequest {
                    name,
                    ver,
                    auth,
                    api,
                }));
            }
            Some(from) => from,
        };
        let not_applicable = |adverb| DepSpecError::NotApplicable {
            name: Excerpt::new(&name),
            from: Excerpt::new(&from),
            adverb,
        };
        if auth.is_some() {
            return Err(not_applicable(":auth"));
        }
        if api.is_some() {
            return Err(not_applicable(":api"));
        }
        // Only a native library has a version we can express (its soname).
        if from == "native" {
            return Ok(DepSpec::External(External::Native { name, ver }));
        }
        if ver.is_some() {
            return Err(not_applicable(":ver"));
        }
        Ok(DepSpec::External(match from.as_str() {
            "bin" => External::Bin { name },
            "Perl5" => External::Perl5 { name },
            _ => External::Other { from, name },
        }))
    }
}

fn valid_name(name: &str) -> Result<String, DepSpecError> {
    let invalid = |reason| DepSpecError::InvalidName {
        name: Excerpt::new(name),
        reason,
    };
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if trimmed.chars().any(is_unsafe) {
        return Err(invalid("it contains a control or bidirectional character"));
    }
    if trimmed.contains(['<', '>', '(', ')']) {
        return Err(invalid(
            "it contains one of < > ( ), which are reserved for adverbs",
        ));
    }
    if split_name(trimmed).1.starts_with(':') {
        return Err(invalid("it contains a single colon"));
    }
    Ok(trimmed.to_owned())
}

fn deeper(depth: usize) -> Result<usize, DepSpecError> {
    if depth >= MAX_DEPTH {
        return Err(DepSpecError::TooDeep { limit: MAX_DEPTH });
    }
    Ok(depth + 1)
}

/// Follows `by-*` conditionals until a plain value is left; returns it with its depth.
fn resolve(mut v: &Value, mut depth: usize) -> Result<(&Value, usize), DepSpecError> {
    while let Value::Object(map) = v {
        let Some(query) = map.keys().find(|k| k.starts_with("by-")) else {
            break;
        };
        depth = deeper(depth)?;
        let condition = |reason| DepSpecError::Condition {
            query: Excerpt::new(query),
            reason,
        };
        if map.len() != 1 {
            return Err(condition("it shares its object with other keys"));
        }
        let &(_, answer) = TARGET_FACTS
            .iter()
            .find(|(known, _)| known == query)
            .ok_or_else(|| condition("only by-distro.name and by-kernel.name are known"))?;
        let Value::Object(branches) = &map[query] else {
            return Err(condition("its branches are not an object"));
        };
        v = branches
            .get(answer)
            .or_else(|| branches.get(""))
            .ok_or_else(|| condition("no branch matches and there is no \"\" branch"))?;
    }
    Ok((v, depth))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads a value that must be a list of items (or `null`, meaning none) into `out`.
fn collect_list(
    v: &Value,
    place: &'static str,
    out: &mut Vec<DepSpec>,
) -> Result<(), DepSpecError> {
    match resolve(v, 0)? {
        (Value::Null, _) => Ok(()),
        (list @ Value::Array(_), depth) => collect(list, depth, out),
        (other, _) => Err(DepSpecError::WrongType {
            place,
            expected: "a list",
            found: kind(other),
        }),
    }
}

/// Reads an item or a (possibly nested) list of items into `out`.
fn collect(v: &Value, depth: usize, out: &mut Vec<DepSpec>) -> Result<(), DepSpecError> {
    match resolve(v, depth)? {
        (Value::Array(items), depth) => {
            let depth = deeper(depth)?;
            items.iter().try_for_each(|item| collect(item, depth, out))
        }
        (item, depth) => {
            out.extend(item_at(item, depth)?);
            Ok(())
        }
    }
}

fn collect_phases(
    by_phase: &Map<String, Value>,
    depth: usize,
    phases: &mut DepPhases,
) -> Result<(), DepSpecError> {
    if let Some(unknown) = by_phase
        .keys()
        .find(|k| !matches!(k.as_str(), "runtime" | "build" | "test"))
    {
        return Err(DepSpecError::UnknownKey {
            place: "depends",
            key: Excerpt::new(unknown),
        });
    }
    // A fixed phase order keeps `recommends` deterministic whatever the map's key order.
    for (phase, requires) in [
        ("runtime", &mut phases.runtime),
        ("build", &mut phases.build),
        ("test", &mut phases.test),
    ] {
        let Some(body) = by_phase.get(phase) else {
            continue;
        };
        let relations = match resolve(body, depth)? {
            (Value::Null, _) => continue,
            (Value::Object(relations), _) => relations,
            (other, _) => {
                return Err(DepSpecError::WrongType {
                    place: "a depends phase",
                    expected: "an object",
                    found: kind(other),
                });
            }
        };
        for (relation, list) in relations {
            let (place, out) = match relation.as_str() {
                "requires" => ("requires", &mut *requires),
                "recommends" => ("recommends", &mut phases.recommends),
                _ => {
                    return Err(DepSpecError::UnknownKey {
                        place: "a depends phase",
                        key: Excerpt::new(relation),
                    });
                }
            };
            collect_list(list, place, out)?;
        }
    }
    Ok(())
}

fn item_at(v: &Value, depth: usize) -> Result<Option<DepSpec>, DepSpecError> {
    match resolve(v, depth)? {
        (Value::Null, _) => Ok(None),
        (Value::String(s), _) if s.is_empty() => Ok(None),
        (Value::String(s), _) => s.parse().map(Some),
        (Value::Object(map), depth) if map.contains_key("any") => any_of(map, depth),
        (Value::Object(map), depth) => object_item(map, depth),
        (other, _) => Err(DepSpecError::WrongType {
            place: "a dependency item",
            expected: "a string or an object",
            found: kind(other),
        }),
    }
}

fn any_of(map: &Map<String, Value>, depth: usize) -> Result<Option<DepSpec>, DepSpecError> {
    if let Some(other) = map.keys().find(|k| *k != "any") {
        return Err(DepSpecError::UnknownKey {
            place: "an \"any\" object",
            key: Excerpt::new(other),
        });
    }
    let wrong = |found| DepSpecError::WrongType {
        place: "\"any\"",
        expected: "a non-empty list",
        found,
    };
    let (alternatives, depth) = match resolve(&map["any"], deeper(depth)?)? {
        (Value::Array(list), _) if list.is_empty() => return Err(wrong("an empty list")),
        (Value::Array(list), depth) => (list, depth),
        (other, _) => return Err(wrong(kind(other))),
    };
    let mut specs = Vec::with_capacity(alternatives.len());
    for alternative in alternatives {
        match item_at(alternative, depth)? {
            Some(spec) => specs.push(spec),
            // Nothing needed on this platform satisfies the whole `any`.
            None => return Ok(None),
        }
    }
    dedup(&mut specs);
    Ok(Some(if specs.len() == 1 {
        specs.remove(0)
    } else {
        DepSpec::AnyOf(specs)
    }))
}

/// Reads `{"name": …, "from": …, "ver": …}`; every value may be a conditional.
fn object_item(map: &Map<String, Value>, depth: usize) -> Result<Option<DepSpec>, DepSpecError> {
    let name = match map.get("name") {
        None => {
            return Err(DepSpecError::MissingKey {
                place: "a dependency object",
                key: "name",
            });
        }
        Some(name) => match resolve(name, depth)? {
            (Value::String(name), _) if name.is_empty() => return Ok(None),
            (Value::String(name), _) => name,
            (other, _) => {
                return Err(DepSpecError::WrongType {
                    place: "the name in a dependency object",
                    expected: "a string",
                    found: kind(other),
                });
            }
        },
    };
    let mut adverbs = Adverbs::default();
    for (key, value) in map.iter().filter(|(key, _)| *key != "name") {
        let text = match resolve(value, depth)? {
            (Value::String(s), _) => s.clone(),
            // META6 writes `api` as a number at times (DBIish has `"api": 1`).
            (Value::Number(n), _) if key != "from" => n.to_string(),
            (other, _) => {
                return Err(DepSpecError::WrongType {
                    place: "an adverb in a dependency object",
                    expected: "a string",
                    found: kind(other),
                });
            }
        };
        let slot = adverbs.slot(key).ok_or_else(|| DepSpecError::UnknownKey {
            place: "a dependency object",
            key: Excerpt::new(key),
        })?;
        // Only `ver` and its alias `version` can collide, JSON keys being unique.
        if slot.replace(text).is_some() {
            return Err(DepSpecError::DuplicateAdverb {
                spec: Excerpt::new(name),
                adverb: Excerpt::new(key),
            });
        }
    }
    adverbs.into_spec(name).map(Some)
}

fn dedup(specs: &mut Vec<DepSpec>) {
    let mut seen = HashSet::new();
    specs.retain(|spec| seen.insert(spec.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn module(name: &str, ver: Option<&str>, auth: Option<&str>, api: Option<&str>) -> DepSpec {
        DepSpec::Module(ModuleRequest {
            name: name.to_owned(),
            ver: ver.map(str::to_owned),
            auth: auth.map(str::to_owned),
            api: api.map(str::to_owned),
        })
    }

    fn plain(name: &str) -> DepSpec {
        module(name, None, None, None)
    }

    fn native(name: &str, ver: Option<&str>) -> DepSpec {
        DepSpec::External(External::Native {
            name: name.to_owned(),
            ver: ver.map(str::to_owned),
        })
    }

    fn bin(name: &str) -> DepSpec {
        DepSpec::External(External::Bin {
            name: name.to_owned(),
        })
    }

    /// One dependency item, as a phase list holds it: `None` means "no dependency on Arch".
    fn item(v: Value) -> Result<Option<DepSpec>, DepSpecError> {
        item_at(&v, 0)
    }

    fn phases(v: Value) -> Result<DepPhases, DepSpecError> {
        parse_phases(v.as_object().expect("test META6 is an object"))
    }

    #[test]
    fn plain_string() {
        assert_eq!(
            item(json!("JSON::Fast")).unwrap(),
            Some(plain("JSON::Fast"))
        );
        assert_eq!("fez".parse::<DepSpec>().unwrap(), plain("fez"));
    }

    #[test]
    fn adverbs_in_any_order() {
        assert_eq!(
            item(json!("Cro::Core:ver<0.8.10+>:api<0>:auth<zef:cro>")).unwrap(),
            Some(module(
                "Cro::Core",
                Some("0.8.10+"),
                Some("zef:cro"),
                Some("0")
            ))
        );
        assert_eq!(
            item(json!("NativeLibs:auth<github:salortiz>:ver<0.0.9+>")).unwrap(),
            Some(module(
                "NativeLibs",
                Some("0.0.9+"),
                Some("github:salortiz"),
                None
            ))
        );
    }

    #[test]
    fn exact_version_pins() {
        assert_eq!(
            item(json!("JSON::Fast:ver<0.19>:auth<cpan:TIMOTIMO>")).unwrap(),
            Some(module(
                "JSON::Fast",
                Some("0.19"),
                Some("cpan:TIMOTIMO"),
                None
            ))
        );
        assert_eq!(
            item(json!("Test::Async:auth<zef:vrurg>:ver<0.1.16>")).unwrap(),
            Some(module(
                "Test::Async",
                Some("0.1.16"),
                Some("zef:vrurg"),
                None
            ))
        );
    }

    #[test]
    fn quoted_adverb_values() {
        // rea-pages, Net::Jupyter.
        assert_eq!(
            item(json!("Net::ZMQ:auth('github:gabrielash')")).unwrap(),
            Some(module("Net::ZMQ", None, Some("github:gabrielash"), None))
        );
        assert_eq!(
            item(json!(r#"Foo:ver("1.2"):api<1>"#)).unwrap(),
            Some(module("Foo", Some("1.2"), None, Some("1")))
        );
    }

    #[test]
    fn version_is_an_alias_of_ver() {
        // cpan, Config.
        assert_eq!(
            item(json!("Log:auth<cpan:TYIL>:version<0.3.0>")).unwrap(),
            Some(module("Log", Some("0.3.0"), Some("cpan:TYIL"), None))
        );
        assert!(matches!(
            item(json!("Log:ver<1>:version<2>")),
            Err(DepSpecError::DuplicateAdverb { .. })
        ));
    }

    #[test]
    fn empty_and_blank_adverb_values_constrain_nothing() {
        assert_eq!(
            item(json!("Foo:ver<>:auth< >:api<>")).unwrap(),
            Some(plain("Foo"))
        );
        assert_eq!(
            item(json!("Test:ver<6.c+>")).unwrap(),
            Some(module("Test", Some("6.c+"), None, None))
        );
    }

    #[test]
    fn from_native_with_and_without_ver() {
        assert_eq!(
            item(json!("curl:ver<4>:from<native>")).unwrap(),
            Some(native("curl", Some("4")))
        );
        assert_eq!(
            item(json!("gcrypt:from<native>")).unwrap(),
            Some(native("gcrypt", None))
        );
    }

    #[test]
    fn from_bin_perl5_raku_and_other() {
        assert_eq!(item(json!("curl:from<bin>")).unwrap(), Some(bin("curl")));
        assert_eq!(item(json!("g++:from<bin>")).unwrap(), Some(bin("g++")));
        assert_eq!(
            item(json!("POSIX:from<Perl5>")).unwrap(),
            Some(DepSpec::External(External::Perl5 {
                name: "POSIX".to_owned()
            }))
        );
        assert_eq!(
            item(json!("Foo:from<Raku>:ver<1>")).unwrap(),
            Some(module("Foo", Some("1"), None, None))
        );
        assert_eq!(item(json!("Foo:from<Perl6>")).unwrap(), Some(plain("Foo")));
        assert_eq!(
            item(json!("left-pad:from<node>")).unwrap(),
            Some(DepSpec::External(External::Other {
                from: "node".to_owned(),
                name: "left-pad".to_owned()
            }))
        );
    }

    #[test]
    fn raku_adverbs_do_not_apply_to_externals() {
        for spec in [
            "perl:from<bin>:ver<5>",
            "curl:from<native>:auth<x>",
            "POSIX:from<Perl5>:api<1>",
        ] {
            let err = item(json!(spec)).unwrap_err();
            assert!(
                matches!(err, DepSpecError::NotApplicable { .. }),
                "{spec}: {err}"
            );
        }
    }

    #[test]
    fn bin_object() {
        // Inline::Perl5.
        assert_eq!(
            item(json!({"from": "bin", "name": "perl"})).unwrap(),
            Some(bin("perl"))
        );
        assert_eq!(
            item(json!({"name": "Foo", "ver": "1.0", "auth": "zef:x", "api": 2})).unwrap(),
            Some(module("Foo", Some("1.0"), Some("zef:x"), Some("2")))
        );
    }

    #[test]
    fn by_distro_name_with_empty_fallback_means_no_dependency() {
        // File::Which.
        let v = json!({"name": {"by-distro.name": {"": "", "mswin32": "Win32::Registry"}}});
        assert_eq!(item(v).unwrap(), None);
    }

    #[test]
    fn by_distro_name_inside_a_bin_object() {
        // cpan, Termbox.
        let v =
            json!({"from": "bin", "name": {"by-distro.name": {"": "python", "centos": "python3"}}});
        assert_eq!(item(v).unwrap(), Some(bin("python")));
    }

    #[test]
    fn bare_by_distro_item_in_build_depends() {
        // cpan, Inline::Python: the META names a program without `from`, so it reads as a module.
        let meta = json!({"build-depends": [
            "Distribution::Builder::MakeFromJSON",
            {"by-distro.name": {"": "python3-config", "debian": "python3-config", "macosx": "python3-config"}}
        ]});
        assert_eq!(
            phases(meta).unwrap().build,
            [
                plain("Distribution::Builder::MakeFromJSON"),
                plain("python3-config")
            ]
        );
    }

    #[test]
    fn conditionals_are_decided_for_arch_linux() {
        let v = json!({"by-distro.name": {"arch": "Arch::Thing", "": "Other::Thing"}});
        assert_eq!(item(v).unwrap(), Some(plain("Arch::Thing")));
        let v = json!({"by-kernel.name": {"linux": "Linux::Thing", "darwin": "Mac::Thing"}});
        assert_eq!(item(v).unwrap(), Some(plain("Linux::Thing")));
        let v = json!({"by-distro.name": {"": {"by-kernel.name": {"linux": ["A", ["B"]]}}}});
        let meta = json!({ "depends": [v] });
        assert_eq!(phases(meta).unwrap().runtime, [plain("A"), plain("B")]);
    }

    #[test]
    fn undecidable_conditionals_are_errors() {
        for v in [
            json!({"by-env.HOME": {"": "Foo"}}),
            json!({"by-env-exists.FOO": {"yes": "Foo", "no": "Bar"}}),
            json!({"by-os": {"": "Foo"}}),
            json!({"by-distro.name": {"mswin32": "Foo"}}),
            json!({"by-distro.name": {"": "Foo"}, "name": "Bar"}),
            json!({"by-distro.name": ["Foo"]}),
        ] {
            let err = item(v.clone()).unwrap_err();
            assert!(matches!(err, DepSpecError::Condition { .. }), "{v}: {err}");
        }
    }

    #[test]
    fn any_of_native_libraries() {
        // p6c, Pakku.
        let v = json!({"any": ["curl:ver<4>:from<native>", "curl:from<native>"]});
        assert_eq!(
            item(v).unwrap(),
            Some(DepSpec::AnyOf(vec![
                native("curl", Some("4")),
                native("curl", None)
            ]))
        );
    }

    #[test]
    fn any_of_is_normalised() {
        let absent = json!({"any": ["Foo", {"by-distro.name": {"": ""}}]});
        assert_eq!(item(absent).unwrap(), None);
        assert_eq!(
            item(json!({"any": ["Foo", "Foo"]})).unwrap(),
            Some(plain("Foo"))
        );
        assert!(matches!(
            item(json!({"any": []})),
            Err(DepSpecError::WrongType { .. })
        ));
        assert!(matches!(
            item(json!({"any": ["Foo"], "name": "Bar"})),
            Err(DepSpecError::UnknownKey { .. })
        ));
        assert!(matches!(
            item(json!({"any": [["Foo"]]})),
            Err(DepSpecError::WrongType { .. })
        ));
    }

    #[test]
    fn nested_lists_in_test_requires_are_flattened() {
        // DBIish and rea-pages App::IRC::Log: every item of the inner list is required.
        let meta = json!({"depends": {
            "runtime": {"requires": ["NativeLibs:auth<github:salortiz>:ver<0.0.9+>"]},
            "test": {"requires": [["NativeCall::TypeDiag"], ["Cro::HTTP::Server:ver<0.8.13+>", "IRC::Log::Colabti"]]}
        }});
        let got = phases(meta).unwrap();
        assert_eq!(
            got.test,
            [
                plain("NativeCall::TypeDiag"),
                module("Cro::HTTP::Server", Some("0.8.13+"), None, None),
                plain("IRC::Log::Colabti")
            ]
        );
        assert_eq!(got.runtime.len(), 1);
    }

    #[test]
    fn depends_as_a_list_with_top_level_build_and_test() {
        let meta = json!({
            "depends": ["JSON::Fast", "File::Temp"],
            "build-depends": ["LibraryMake"],
            "test-depends": ["Test::META"]
        });
        let got = phases(meta).unwrap();
        assert_eq!(got.runtime, [plain("JSON::Fast"), plain("File::Temp")]);
        assert_eq!(got.build, [plain("LibraryMake")]);
        assert_eq!(got.test, [plain("Test::META")]);
        assert!(got.recommends.is_empty());
    }

    #[test]
    fn depends_as_phases_with_recommends() {
        // cpan, Lingua::Pangram.
        let meta = json!({"depends": {
            "build": {"requires": []},
            "runtime": {"requires": ["Pod::To::Text"]},
            "test": {"recommends": ["Test::META"], "requires": ["Test"]}
        }});
        let got = phases(meta).unwrap();
        assert_eq!(
            got,
            DepPhases {
                runtime: vec![plain("Pod::To::Text")],
                build: vec![],
                test: vec![plain("Test")],
                recommends: vec![plain("Test::META")],
            }
        );
    }

    #[test]
    fn depends_with_only_a_test_phase() {
        let meta = json!({"depends": {"test": {"requires": ["Test::META"]}}});
        let got = phases(meta).unwrap();
        assert!(got.runtime.is_empty());
        assert_eq!(got.test, [plain("Test::META")]);
    }

    #[test]
    fn phases_come_after_top_level_build_and_test_keys() {
        // Inline::Perl5 has build and runtime phases; add top-level keys to see the order.
        let meta = json!({
            "depends": {
                "build": {"requires": ["Distribution::Builder::MakeFromJSON:ver<0.6+>", {"from": "bin", "name": "perl"}]},
                "runtime": {"requires": [{"from": "bin", "name": "perl"}]},
                "test": {"requires": ["File::Temp"]}
            },
            "build-depends": ["LibraryMake"],
            "test-depends": ["Test::META"]
        });
        let got = phases(meta).unwrap();
        assert_eq!(got.runtime, [bin("perl")]);
        assert_eq!(
            got.build,
            [
                plain("LibraryMake"),
                module(
                    "Distribution::Builder::MakeFromJSON",
                    Some("0.6+"),
                    None,
                    None
                ),
                bin("perl")
            ]
        );
        assert_eq!(got.test, [plain("Test::META"), plain("File::Temp")]);
    }

    #[test]
    fn missing_or_null_depends_means_none() {
        assert_eq!(
            phases(json!({"name": "Digest::HMAC"})).unwrap(),
            DepPhases::default()
        );
        // rea-pages, UK::Sort.
        assert_eq!(
            phases(json!({"depends": null, "build-depends": null})).unwrap(),
            DepPhases::default()
        );
    }

    #[test]
    fn empty_string_item_is_no_dependency() {
        // rea-pages, File::Path::Copy.
        let got = phases(json!({"depends": [""], "test-depends": [""]})).unwrap();
        assert_eq!(got, DepPhases::default());
        assert_eq!(item(json!(null)).unwrap(), None);
    }

    #[test]
    fn duplicates_are_removed_keeping_the_first() {
        let meta = json!({
            "depends": ["B", "A", "B", ["A"], "A:ver<1>"],
            "test-depends": ["B"]
        });
        let got = phases(meta).unwrap();
        assert_eq!(
            got.runtime,
            [plain("B"), plain("A"), module("A", Some("1"), None, None)]
        );
        assert_eq!(got.test, [plain("B")]);
    }

    #[test]
    fn malformed_strings_from_real_data() {
        for (spec, expect_name_error) in [
            // rea-pages Slang::Subscripts
            ("Slangify:ver:<0.0.1+>:auth<zef:lizmat>", false),
            // cpan orion
            ("LWP::Simple::auth<github:raku-community-modules>", false),
            // cpan App::Prove6 and DBIish::Pool
            ("Path::Finder<0.4.0>", true),
            ("DBIish<0.6.0+>", true),
            // cpan App::Mi6: a Raku range is not a value we can use.
            ("CPAN::Uploader::Tiny:ver(v0.0.4 .. *)", false),
        ] {
            let err = item(json!(spec)).unwrap_err();
            let is_name_error = matches!(err, DepSpecError::InvalidName { .. });
            let is_malformed = matches!(err, DepSpecError::Malformed { .. });
            assert!(
                if expect_name_error {
                    is_name_error
                } else {
                    is_malformed
                },
                "{spec}: {err}"
            );
        }
    }

    #[test]
    fn other_malformed_strings() {
        for spec in [
            "Foo:ver",
            "Foo:ver<1",
            "Foo:ver<1>junk",
            "Foo:ver<<1>>",
            "Foo:(x)",
            "Foo:ver('1\"):auth<x>",
            "Foo:ver('1')x",
        ] {
            assert!(
                matches!(item(json!(spec)), Err(DepSpecError::Malformed { .. })),
                "{spec}"
            );
        }
    }

    #[test]
    fn unknown_adverbs_are_errors() {
        let err = item(json!("Foo:hash<abc>:ver<1>")).unwrap_err();
        assert!(matches!(err, DepSpecError::UnknownAdverb { .. }));
        assert_eq!(
            err.to_string(),
            r#"dependency "Foo:hash<abc>:ver<1>" has unknown adverb "hash""#
        );
    }

    #[test]
    fn invalid_names() {
        for v in [
            json!(":ver<1>"),
            json!("   "),
            json!("Foo::\nFoo"),
            json!("Foo::\u{0}Foo"),
            json!("Foo::<b>Foo"),
            json!("$(rm -rf /)"),
            json!({"name": "a:b"}),
            json!({"name": "  "}),
            json!({"name": "x\u{1b}[31m", "from": "bin"}),
        ] {
            let err = item(v.clone()).unwrap_err();
            assert!(
                matches!(
                    err,
                    DepSpecError::InvalidName { .. } | DepSpecError::Malformed { .. }
                ),
                "{v}: {err}"
            );
        }
    }

    #[test]
    fn odd_names_are_kept_as_written() {
        for (written, kept) in [
            ("../Foo", "../Foo"),
            (" * Foo:: * ", "* Foo:: *"),
            ("--Foo::--Foo", "--Foo::--Foo"),
            ("Perl6 Snowball Binding", "Perl6 Snowball Binding"),
            ("Foo:::ver<1>", "Foo::"),
            ("if", "if"),
        ] {
            let Some(DepSpec::Module(request)) = item(json!(written)).unwrap() else {
                panic!("{written} is not a module request");
            };
            assert_eq!(request.name, kept);
        }
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_errors() {
        for (meta, what) in [
            (json!({"depends": "JSON::Fast"}), "string depends"),
            (json!({"depends": [42]}), "number item"),
            (json!({"depends": [true]}), "boolean item"),
            (
                json!({"test-depends": {"name": "Foo"}}),
                "object test-depends",
            ),
            (
                json!({"depends": {"develop": {"requires": []}}}),
                "unknown phase",
            ),
            (
                json!({"depends": {"runtime": {"suggests": []}}}),
                "unknown relation",
            ),
            (json!({"depends": {"runtime": ["Foo"]}}), "list phase"),
            (
                json!({"depends": [{"name": "Foo", "hint": "x"}]}),
                "unknown object key",
            ),
            (json!({"depends": [{"from": "bin"}]}), "object without name"),
            (json!({"depends": [{"name": 3}]}), "number name"),
            (
                json!({"depends": [{"name": "Foo", "from": 5}]}),
                "number from",
            ),
        ] {
            assert!(phases(meta).is_err(), "{what}");
        }
    }

    #[test]
    fn errors_quote_hostile_values_on_one_line() {
        let hostile = [
            "Foo::\nFoo:ver<1>\n[ERROR] forged line",
            "Foo::\u{0}Foo",
            "\u{1b}[31mred\u{1b}[0m:ver<1>",
            "Foo\u{2028}Bar\u{202e}:ver<1>",
            "Foo\r:ver<1>",
        ];
        for spec in hostile {
            let shown = item(json!(spec)).unwrap_err().to_string();
            assert!(
                !shown.chars().any(|c| c.is_control()
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}')),
                "{shown}"
            );
        }
        let shown = item(json!("Foo\u{2028}Bar\u{202e}:ver<1>"))
            .unwrap_err()
            .to_string();
        assert!(
            shown.contains(r"\u{2028}") && shown.contains(r"\u{202e}"),
            "{shown}"
        );
    }

    #[test]
    fn long_values_are_cut_in_errors_but_kept_in_results() {
        let long_name = "A::".repeat(3_400) + "Z";
        assert!(long_name.len() > 10_000);
        assert_eq!(
            item(json!(long_name.clone())).unwrap(),
            Some(plain(&long_name))
        );

        let long_bad = format!("{long_name}:nope<1>");
        let shown = item(json!(long_bad)).unwrap_err().to_string();
        assert!(shown.len() < 400, "{} characters", shown.len());
        assert!(shown.contains("(10129 more characters)"), "{shown}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut list = json!("Foo");
        let mut conditional = json!("Foo");
        let mut any = json!("Foo");
        // serde_json refuses to parse JSON nested deeper than 128, so that is the worst real input.
        for _ in 0..128 {
            list = json!([list]);
            conditional = json!({"by-distro.name": {"": conditional}});
            any = json!({"any": [any]});
        }
        let too_deep = DepSpecError::TooDeep { limit: MAX_DEPTH };
        assert_eq!(phases(json!({"depends": [list]})).unwrap_err(), too_deep);
        assert_eq!(item(conditional).unwrap_err(), too_deep);
        assert_eq!(item(any).unwrap_err(), too_deep);

        let shallow = json!({"depends": [[[{"any": [{"by-distro.name": {"": "Foo"}}]}]]]});
        assert_eq!(phases(shallow).unwrap().runtime, [plain("Foo")]);
    }

    /// What parsing one data file is expected to give.
    struct Expected {
        file: &'static str,
        entries: usize,
        /// `name version` of every entry that fails.
        errors: &'static [&'static str],
        /// Items over all phases after removing duplicates: module, native, bin, Perl5, other,
        /// any.
        counts: [usize; 6],
    }

    // The counts were computed independently with a python3 script over the same files that
    // re-implements the rules in this module's documentation (regular expressions for strings,
    // dict.fromkeys for deduplication). They agree with tests/data and shared/data READMEs:
    // p6c has 4 `:from<native>` strings outside its 2 `any` items and 4 `:from<bin>` strings;
    // cpan has 4 `{from: bin}` objects, 4 `:from<bin>` strings, Termbox's conditional bin, 1
    // native and 1 Perl5 item.
    const EXPECTED: &[Expected] = &[
        Expected {
            file: "rea-sample.json",
            entries: 64,
            errors: &[],
            counts: [104, 0, 2, 0, 0, 0],
        },
        Expected {
            file: "rea-pages.json",
            entries: 698,
            errors: &["Slang::Subscripts 0.0.6"],
            counts: [1834, 0, 6, 0, 0, 0],
        },
        Expected {
            file: "p6c-2023-03.json",
            entries: 702,
            errors: &[],
            counts: [1117, 4, 4, 0, 0, 2],
        },
        Expected {
            file: "cpan-2023-03.json",
            entries: 1916,
            errors: &[
                "orion 0.2.2",
                "App::Prove6 0.0.13",
                "DBIish::Pool 1.0.0",
                "DBIish::Pool 1.0.1",
                "App::Mi6 0.1.6",
            ],
            counts: [4977, 1, 9, 1, 0, 0],
        },
    ];

    #[test]
    fn every_entry_of_the_real_data() {
        for expected in EXPECTED {
            let path = format!(
                "{}/tests/data/{}",
                env!("CARGO_MANIFEST_DIR"),
                expected.file
            );
            let text = std::fs::read_to_string(&path).expect("test data is readable");
            let entries: Vec<Value> = serde_json::from_str(&text).expect("test data is JSON");
            assert_eq!(entries.len(), expected.entries, "{}", expected.file);

            let mut errors = Vec::new();
            let mut counts = [0; 6];
            for entry in &entries {
                let meta = entry.as_object().expect("every entry is an object");
                match parse_phases(meta) {
                    Ok(got) => {
                        let all = [&got.runtime, &got.build, &got.test, &got.recommends];
                        for spec in all.into_iter().flatten() {
                            counts[match spec {
                                DepSpec::Module(_) => 0,
                                DepSpec::External(External::Native { .. }) => 1,
                                DepSpec::External(External::Bin { .. }) => 2,
                                DepSpec::External(External::Perl5 { .. }) => 3,
                                DepSpec::External(External::Other { .. }) => 4,
                                DepSpec::AnyOf(_) => 5,
                            }] += 1;
                        }
                    }
                    Err(err) => {
                        let shown = err.to_string();
                        assert!(!shown.contains('\n'), "{shown}");
                        errors
                            .push(format!("{} {}", meta["name"], meta["version"]).replace('"', ""));
                    }
                }
            }
            assert_eq!(errors, expected.errors, "{}", expected.file);
            assert_eq!(counts, expected.counts, "{}", expected.file);
        }
    }
}
