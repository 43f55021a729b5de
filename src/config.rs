//! The operator's config file (TOML): the settings `render`, `sync` and `check-config` also
//! take as flags, plus what only the file can say: per-distribution overrides, additions to
//! the system-package maps, and the review policy.
//!
//! - **Where.** `--config FILE`; else `$XDG_CONFIG_HOME/raku-aur/config.toml` when that
//!   variable is an absolute path; else `$HOME/.config/raku-aur/config.toml`. A missing default
//!   file means no config; a missing `--config` file is an error.
//! - **Precedence.** A flag given on the command line wins over the file, the file over the
//!   built-in default. A list flag (`--index`, `--only`, `--mirror`) replaces the file's list
//!   whole.
//! - **Validation.** Every value is validated into a type while the file is read, so a bad
//!   value stops the run before anything is done, with an error naming the file, the line and
//!   the key. Unknown keys are errors too: a misspelt key must not be silently ignored.
//! - **Paths** (`ssh-key`, `known-hosts`, `state-dir`, `cache-dir`, and `indexes` and
//!   `aur-metadata` when they are not URLs) are relative to the file's directory; `~` is not
//!   expanded, so a path starting with it is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;

use crate::cli::{SourceArgs, SyncArgs};
use crate::plan::system::SystemAdditions;
use crate::plan::{DistOverride, Overrides};
use crate::publish::git::Identity;
use crate::raku::depspec::{self, DepSpec, ModuleRequest};
use crate::sync::review::ReviewPolicy;
use crate::text::escape_for_log;
use crate::urls::{check_url, check_url_prefix, is_http_url};

/// The file name under the config directory.
const FILE_NAME: &str = "raku-aur/config.toml";
/// The longest `http-timeout` / `--http-timeout` accepted: an hour of silence is a dead server.
pub const MAX_HTTP_TIMEOUT: u64 = 3600;

/// Where the config file is looked for when `--config` is not given: `$XDG_CONFIG_HOME` (only
/// if absolute, as the XDG spec asks), else `$HOME/.config`. `None` when neither is set.
pub fn default_path() -> Option<PathBuf> {
    default_path_from(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

fn default_path_from(xdg: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let base = xdg
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join(FILE_NAME))
}

/// The config file, read and validated. Paths are resolved against the file's directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    pub maintainer: Option<String>,
    pub aur_user: Option<String>,
    pub ssh_key: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub remote: Option<String>,
    pub state_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub indexes: Option<Vec<String>>,
    pub aur_metadata: Option<String>,
    pub http_timeout: Option<u64>,
    /// `(FROM, TO)` pairs, the longest FROM first, so the most specific prefix wins.
    pub mirrors: Option<Vec<(String, String)>>,
    /// `publish.only`; empty means every distribution.
    pub only: Vec<String>,
    pub overrides: Overrides,
    /// `[review]`; `None` leaves the review gate off.
    pub review: Option<ReviewPolicy>,
    /// `key = value` lines for what only the file sets (`[dist]`, `[system]`, `[review]`,
    /// `publish.exclude`), for `check-config`.
    pub shown: Vec<(String, String)>,
}

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

/// Reads the config file: `explicit` (from `--config`), else the default location if a file
/// is there. `Ok(None)`: no config file applies.
///
/// # Errors
/// When `explicit` does not exist, a file exists but cannot be read, or it is invalid.
pub fn load(explicit: Option<&Path>) -> Result<Option<Config>, ConfigError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(None),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if required {
                Err(ConfigError::Missing { path })
            } else {
                Ok(None)
            }
        }
        Err(source) => Err(ConfigError::Read { path, source }),
    }
}

/// Parses and validates a config file's text; `path` names it in errors and anchors its
/// relative paths.
///
/// # Errors
/// [`ConfigError::Invalid`] with the line and key of the first problem.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let file: File = toml::from_str(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_column(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ConfigError::Invalid {
            key: e.span().and_then(|span| key_at(text, span.start)),
            path: path.clone(),
            line,
            column,
            message: e.message().trim_end().to_string(),
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    file.into_config(path, &base)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The dotted key whose key or value holds byte `offset`, as TOML writes it.
fn key_at(text: &str, offset: usize) -> Option<String> {
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

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare { key.to_string() } else { toml_str(key) }
}

/// A string as a TOML value: quoted, with anything unusual escaped.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| toml_str(s.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

// ---- The file's shape: every value a validated type, so toml reports its line. ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    maintainer: Option<Maintainer>,
    aur_user: Option<AurUser>,
    ssh_key: Option<FilePath>,
    known_hosts: Option<FilePath>,
    remote: Option<Remote>,
    state_dir: Option<FilePath>,
    cache_dir: Option<FilePath>,
    indexes: Option<Indexes>,
    aur_metadata: Option<Location>,
    http_timeout: Option<HttpTimeout>,
    mirrors: Option<BTreeMap<UrlPrefix, UrlPrefix>>,
    #[serde(default)]
    publish: Publish,
    #[serde(default)]
    system: System,
    #[serde(default)]
    dist: BTreeMap<DistName, Dist>,
    review: Option<ReviewPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Publish {
    #[serde(default)]
    only: Vec<DistName>,
    #[serde(default)]
    exclude: Vec<DistName>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct System {
    #[serde(default)]
    native: BTreeMap<SystemName, ArchName>,
    #[serde(default)]
    bin: BTreeMap<SystemName, ArchName>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Dist {
    auth: Option<Auth>,
    #[serde(default)]
    extra_depends: Vec<Dependency>,
    #[serde(default)]
    drop_depends: Vec<DistName>,
    #[serde(default)]
    skip_check: bool,
    hold: Option<Reason>,
}

/// Declares a newtype that deserializes from a string through `$check`, whose error toml
/// reports at the value's line.
macro_rules! validated {
    ($(#[$meta:meta])* $name:ident($inner:ty) = $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
        #[serde(try_from = "String")]
        struct $name($inner);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $check(s).map($name)
            }
        }
    };
}

validated!(
    /// `Name <email>`: the PKGBUILDs' maintainer and the commits' author.
    Maintainer(String) = check_maintainer
);
validated!(AurUser(String) = check_aur_user);

/// Seconds an HTTP server may stay silent, as `--http-timeout` accepts them.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u64")]
struct HttpTimeout(u64);

impl TryFrom<u64> for HttpTimeout {
    type Error = String;
    fn try_from(seconds: u64) -> Result<Self, String> {
        if (1..=MAX_HTTP_TIMEOUT).contains(&seconds) {
            Ok(HttpTimeout(seconds))
        } else {
            Err(format!(
                "{seconds} is not a number of seconds from 1 to {MAX_HTTP_TIMEOUT}"
            ))
        }
    }
}
validated!(
    /// A git remote with `{pkgbase}` in it.
    Remote(String) = check_remote
);
validated!(FilePath(PathBuf) = check_path);
validated!(
    /// An http(s) URL or a path.
    Location(String) = check_location
);
validated!(UrlPrefix(String) = check_url_prefix);
validated!(DistName(String) = check_dist_name);
validated!(
    /// A native library or program name as META6 writes it after `:from<...>`.
    SystemName(String) = check_system_name
);
validated!(ArchName(alpm_types::Name) = check_arch_name);
validated!(Auth(String) = check_auth);
validated!(
    /// A one-line reason for a report.
    Reason(String) = check_reason
);

/// A dependency spec, kept with its text for `check-config`'s listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct Dependency {
    text: String,
    spec: DepSpec,
}

impl TryFrom<String> for Dependency {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let spec = text.parse::<DepSpec>().map_err(|e| e.to_string())?;
        Ok(Dependency { text, spec })
    }
}

/// `indexes`: at least one.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Vec<Location>")]
struct Indexes(Vec<Location>);

impl TryFrom<Vec<Location>> for Indexes {
    type Error = String;
    fn try_from(list: Vec<Location>) -> Result<Self, String> {
        if list.is_empty() {
            return Err("name at least one index (leave the key out for the default)".into());
        }
        Ok(Indexes(list))
    }
}

// ---- Validation, shared with the flags where they need it. ----

/// Control characters, line separators and bidirectional controls: never in a setting.
fn refuse_unsafe(s: &str) -> Result<(), String> {
    if s.chars().any(depspec::is_unsafe) {
        return Err(format!(
            "{} contains a control or bidirectional character",
            escape_for_log(s)
        ));
    }
    Ok(())
}

/// `Name <email>`, on one line.
pub fn check_maintainer(s: String) -> Result<String, String> {
    refuse_unsafe(&s)?;
    s.parse::<Identity>().map_err(|_| {
        format!(
            "{} is not `Name <email>` (e.g. `Jane Doe <jane@example.org>`)",
            escape_for_log(&s)
        )
    })?;
    Ok(s)
}

/// An AUR account name: ASCII letters, digits, `.`, `-` and `_`, starting with a letter or
/// digit, at most 64 characters.
pub fn check_aur_user(s: String) -> Result<String, String> {
    let ok = s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c));
    if !ok {
        return Err(format!(
            "{} is not an AUR account name (letters, digits, `.`, `-`, `_`)",
            escape_for_log(&s)
        ));
    }
    Ok(s)
}

/// A remote template: one line without spaces, with `{pkgbase}` in it (else every package
/// would be pushed to one repository).
pub fn check_remote(s: String) -> Result<String, String> {
    refuse_unsafe(&s)?;
    if s.contains(char::is_whitespace) {
        return Err(format!("{} contains white space", escape_for_log(&s)));
    }
    if !s.contains("{pkgbase}") {
        return Err(format!(
            "{} has no {{pkgbase}}, so every package would go to one repository",
            escape_for_log(&s)
        ));
    }
    Ok(s)
}

fn check_path(s: String) -> Result<PathBuf, String> {
    refuse_unsafe(&s)?;
    if s.is_empty() {
        return Err("the path is empty".into());
    }
    if s.starts_with('~') {
        return Err(format!(
            "{} starts with ~, which is not expanded here; write the path out",
            escape_for_log(&s)
        ));
    }
    Ok(PathBuf::from(s))
}

fn check_location(s: String) -> Result<String, String> {
    if is_http_url(&s) {
        check_url(&s)?;
        return Ok(s);
    }
    check_path(s.clone())?;
    Ok(s)
}

/// A distribution (or module) name as META6 writes it: `JSON::Fast`, no adverbs.
fn check_dist_name(s: String) -> Result<String, String> {
    let not_a_name = || {
        format!(
            "{} is not a distribution name (like JSON::Fast)",
            escape_for_log(&s)
        )
    };
    match s.parse::<DepSpec>() {
        Ok(DepSpec::Module(ModuleRequest {
            name,
            ver: None,
            auth: None,
            api: None,
        })) if name == s => Ok(s),
        _ => Err(not_a_name()),
    }
}

fn check_system_name(s: String) -> Result<String, String> {
    refuse_unsafe(&s)?;
    let ok = !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || "<>():".contains(c));
    if !ok {
        return Err(format!(
            "{} is not a library or program name",
            escape_for_log(&s)
        ));
    }
    Ok(s)
}

fn check_arch_name(s: String) -> Result<alpm_types::Name, String> {
    alpm_types::Name::new(&s)
        .map_err(|e| format!("{} is not an Arch package name: {e}", escape_for_log(&s)))
}

/// An auth as META6 writes it: `zef:someone`, `cpan:SOMEONE`, `github:someone`.
/// Any auth the index may hold (old p6c ones are plain names, even with an email in `<>`),
/// as long as it is safe to show and not empty; it is only compared, never rendered.
fn check_auth(s: String) -> Result<String, String> {
    refuse_unsafe(&s)?;
    if s.trim().is_empty() {
        return Err("an empty auth matches no release".to_string());
    }
    Ok(s)
}

fn check_reason(s: String) -> Result<String, String> {
    refuse_unsafe(&s)?;
    if s.trim().is_empty() {
        return Err("the reason is empty".into());
    }
    Ok(s.trim().to_string())
}

// ---- From the file's shape to what the rest of the program takes. ----

impl File {
    fn into_config(self, path: PathBuf, base: &Path) -> Result<Config, ConfigError> {
        let location = |l: Location| -> Result<String, ConfigError> {
            if is_http_url(&l.0) {
                return Ok(l.0);
            }
            base.join(&l.0)
                .into_os_string()
                .into_string()
                .map_err(|_| ConfigError::Invalid {
                    path: path.clone(),
                    line: None,
                    column: None,
                    key: None,
                    message: format!(
                        "{} joined to the file's directory is not UTF-8",
                        escape_for_log(&l.0)
                    ),
                })
        };
        let file_path = |p: FilePath| base.join(p.0);
        let indexes = match self.indexes {
            Some(list) => Some(list.0.into_iter().map(location).collect::<Result<_, _>>()?),
            None => None,
        };
        let aur_metadata = self.aur_metadata.map(location).transpose()?;
        let mirrors = self.mirrors.map(|m| {
            let mut pairs: Vec<(String, String)> = m.into_iter().map(|(f, t)| (f.0, t.0)).collect();
            pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
            pairs
        });

        let mut shown = Vec::new();
        let exclude: BTreeSet<String> = self.publish.exclude.into_iter().map(|d| d.0).collect();
        if !exclude.is_empty() {
            let list: Vec<&String> = exclude.iter().collect();
            shown.push(("publish.exclude".to_string(), toml_list(&list)));
        }
        let mut system = SystemAdditions::default();
        for (table, from, to) in [
            ("native", self.system.native, &mut system.native),
            ("bin", self.system.bin, &mut system.bin),
        ] {
            for (name, pkg) in from {
                shown.push((
                    format!("system.{table}.{}", toml_key(&name.0)),
                    toml_str(pkg.0.as_ref()),
                ));
                to.insert(name.0, pkg.0);
            }
        }
        let mut dists = BTreeMap::new();
        for (name, d) in self.dist {
            let key = |k: &str| format!("dist.{}.{k}", toml_key(&name.0));
            if let Some(auth) = &d.auth {
                shown.push((key("auth"), toml_str(&auth.0)));
            }
            if !d.extra_depends.is_empty() {
                let texts: Vec<&String> = d.extra_depends.iter().map(|e| &e.text).collect();
                shown.push((key("extra-depends"), toml_list(&texts)));
            }
            if !d.drop_depends.is_empty() {
                let names: Vec<&String> = d.drop_depends.iter().map(|n| &n.0).collect();
                shown.push((key("drop-depends"), toml_list(&names)));
            }
            if d.skip_check {
                shown.push((key("skip-check"), "true".to_string()));
            }
            if let Some(hold) = &d.hold {
                shown.push((key("hold"), toml_str(&hold.0)));
            }
            dists.insert(
                name.0,
                DistOverride {
                    auth: d.auth.map(|a| a.0),
                    extra_depends: d.extra_depends.into_iter().map(|e| e.spec).collect(),
                    drop_depends: d.drop_depends.into_iter().map(|n| n.0).collect(),
                    skip_check: d.skip_check,
                    hold: d.hold.map(|h| h.0),
                },
            );
        }
        if let Some(review) = &self.review {
            let kinds: Vec<String> = review
                .changes
                .iter()
                .map(|k| k.as_str().to_string())
                .collect();
            shown.push(("review.changes".to_string(), toml_list(&kinds)));
            shown.push(("review.archive".to_string(), toml_list(&review.archive)));
        }
        let overrides = Overrides {
            origin: path.display().to_string(),
            exclude,
            dists,
            system,
        };
        Ok(Config {
            maintainer: self.maintainer.map(|m| m.0),
            aur_user: self.aur_user.map(|u| u.0),
            ssh_key: self.ssh_key.map(file_path),
            known_hosts: self.known_hosts.map(file_path),
            remote: self.remote.map(|r| r.0),
            state_dir: self.state_dir.map(file_path),
            cache_dir: self.cache_dir.map(file_path),
            indexes,
            aur_metadata,
            http_timeout: self.http_timeout.map(|t| t.0),
            mirrors,
            only: self.publish.only.into_iter().map(|d| d.0).collect(),
            overrides,
            review: self.review,
            shown,
            path,
        })
    }
}

// ---- Precedence: flags, then the file, then the built-in defaults. ----

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Config,
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "from the command line",
            Origin::Config => "from the config file",
            Origin::Default => "built-in default",
        })
    }
}

/// One setting in effect, as `check-config` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The config file's key.
    pub key: String,
    /// The value, TOML-quoted where it is text.
    pub value: String,
    pub origin: Origin,
}

/// Applies the config file under the flags of one subcommand, recording what came from where.
pub struct Resolution<'a> {
    matches: &'a ArgMatches,
    config: Option<&'a Config>,
    pub settings: Vec<Setting>,
    /// Settings that are missing or invalid, one sentence each.
    pub problems: Vec<String>,
}

impl<'a> Resolution<'a> {
    /// `matches` are the subcommand's own (where its flags are).
    pub fn new(matches: &'a ArgMatches, config: Option<&'a Config>) -> Self {
        Resolution {
            matches,
            config,
            settings: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Sets `slot` from the config file unless flag `id` was given; records the setting.
    fn pick<T>(
        &mut self,
        id: &str,
        key: &str,
        slot: &mut T,
        from_config: impl FnOnce(&Config) -> Option<T>,
        show: impl FnOnce(&T) -> String,
    ) -> Origin {
        let given = matches!(
            self.matches.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        let origin = if given {
            Origin::Flag
        } else if let Some(value) = self.config.and_then(from_config) {
            *slot = value;
            Origin::Config
        } else {
            Origin::Default
        };
        self.settings.push(Setting {
            key: key.to_string(),
            value: show(slot),
            origin,
        });
        origin
    }

    /// Where to say a missing key can be set.
    fn config_hint(&self, key: &str) -> String {
        match (self.config, default_path()) {
            (Some(c), _) => format!("set {key} in {}", c.path.display()),
            (None, Some(p)) => format!(
                "set {key} in a config file ({} does not exist)",
                p.display()
            ),
            (None, None) => format!("set {key} in a config file given with --config"),
        }
    }
}

fn show_path(p: &Path) -> String {
    toml_str(&p.display().to_string())
}

/// Applies the config file to the options `render` and `sync` share.
pub fn apply_source(source: &mut SourceArgs, r: &mut Resolution) {
    r.pick(
        "indexes",
        "indexes",
        &mut source.indexes,
        |c| c.indexes.clone(),
        |v| toml_list(v),
    );
    r.pick(
        "only",
        "publish.only",
        &mut source.only,
        |c| (!c.only.is_empty()).then(|| c.only.clone()),
        |v| toml_list(v),
    );
    r.pick(
        "mirrors",
        "mirrors",
        &mut source.mirrors,
        |c| c.mirrors.clone(),
        |v| {
            let pairs: Vec<String> = v
                .iter()
                .map(|(from, to)| format!("{} = {}", toml_str(from), toml_str(to)))
                .collect();
            if pairs.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", pairs.join(", "))
            }
        },
    );
    r.pick(
        "cache",
        "cache-dir",
        &mut source.cache,
        |c| c.cache_dir.clone(),
        |p| show_path(p),
    );
    r.pick(
        "http_timeout",
        "http-timeout",
        &mut source.http_timeout,
        |c| c.http_timeout,
        |t| t.to_string(),
    );
    r.pick(
        "maintainer",
        "maintainer",
        &mut source.maintainer,
        |c| c.maintainer.clone(),
        |m| toml_str(m),
    );
    source.overrides = r
        .config
        .map_or_else(Overrides::default, |c| c.overrides.clone());
}

/// The built-in default maintainer and the starting config name a `.invalid` address
/// (RFC 2606): it reaches nobody, so nothing may be published under it.
pub fn is_placeholder(maintainer: &str) -> bool {
    maintainer.trim_end_matches('>').ends_with(".invalid")
}

/// Applies the config file to `sync`'s options (and the shared ones); what is missing or
/// invalid lands in `r.problems`.
pub fn apply_sync(args: &mut SyncArgs, r: &mut Resolution) {
    apply_source(&mut args.source, r);
    // The two settings without a default hold an empty placeholder until given.
    let not_set = || "(not set)".to_string();
    let state = r.pick(
        "state",
        "state-dir",
        &mut args.state,
        |c| c.state_dir.clone(),
        |p| {
            if p.as_os_str().is_empty() {
                not_set()
            } else {
                show_path(p)
            }
        },
    );
    match state {
        Origin::Default => {
            let hint = r.config_hint("state-dir");
            r.problems.push(format!(
                "sync needs a state directory: pass --state DIR or {hint}"
            ));
        }
        Origin::Flag if args.state.as_os_str().is_empty() => {
            r.problems.push("--state is empty".to_string());
        }
        Origin::Flag | Origin::Config => {}
    }
    let user = r.pick(
        "aur_user",
        "aur-user",
        &mut args.aur_user,
        |c| c.aur_user.clone(),
        |u| if u.is_empty() { not_set() } else { toml_str(u) },
    );
    match user {
        Origin::Default => {
            let hint = r.config_hint("aur-user");
            r.problems.push(format!(
                "sync needs the bot's AUR account: pass --aur-user NAME or {hint}"
            ));
        }
        Origin::Flag => {
            if let Err(e) = check_aur_user(args.aur_user.clone()) {
                r.problems.push(format!("--aur-user: {e}"));
            }
        }
        Origin::Config => {}
    }
    let remote = r.pick(
        "remote",
        "remote",
        &mut args.remote,
        |c| c.remote.clone(),
        |u| toml_str(u),
    );
    if remote == Origin::Flag
        && let Err(e) = check_remote(args.remote.clone())
    {
        r.problems.push(format!("--remote: {e}"));
    }
    let unset = |what: &str| format!("(not set: {what})");
    r.pick(
        "ssh_key",
        "ssh-key",
        &mut args.ssh_key,
        |c| c.ssh_key.clone().map(Some),
        |p| {
            p.as_deref()
                .map_or_else(|| unset("no key is offered"), show_path)
        },
    );
    r.pick(
        "known_hosts",
        "known-hosts",
        &mut args.known_hosts,
        |c| c.known_hosts.clone().map(Some),
        |p| {
            p.as_deref()
                .map_or_else(|| unset("the AUR's keys shipped in keys/"), show_path)
        },
    );
    r.pick(
        "aur_metadata",
        "aur-metadata",
        &mut args.aur_metadata,
        |c| c.aur_metadata.clone(),
        |m| toml_str(m),
    );
    args.review = r.config.and_then(|c| c.review.clone());
    if args.review.is_none() {
        r.settings.push(Setting {
            key: "review".to_string(),
            value: unset("no [review] table, every change is pushed"),
            origin: Origin::Default,
        });
    }
    // The maintainer signs the PKGBUILDs and the commits: a flag is checked as the file's
    // value is, and a placeholder may only serve a dry run.
    match check_maintainer(args.source.maintainer.clone()) {
        Err(e) => r.problems.push(format!("maintainer: {e}")),
        Ok(m) if is_placeholder(&m) && !args.dry_run => r.problems.push(format!(
            "maintainer {m:?} is a placeholder (.invalid addresses do not exist): set \
             maintainer in the config file or pass --maintainer 'Name <email>'; only a \
             --dry-run may go without"
        )),
        Ok(_) => {}
    }
    // What only the file can set comes last, as tables come last in the file.
    for (key, value) in r.config.map(|c| c.shown.as_slice()).unwrap_or_default() {
        r.settings.push(Setting {
            key: key.clone(),
            value: value.clone(),
            origin: Origin::Config,
        });
    }
}

/// Reads the config file and applies it to `render`'s options.
///
/// # Errors
/// When the config file cannot be used.
pub fn prepare_render(
    args: &mut crate::cli::RenderArgs,
    matches: &ArgMatches,
    explicit: Option<&Path>,
) -> anyhow::Result<()> {
    let config = load_logged(explicit)?;
    let mut r = Resolution::new(matches, config.as_ref());
    apply_source(&mut args.source, &mut r);
    Ok(())
}

/// Reads the config file and applies it to `sync`'s options.
///
/// # Errors
/// When the config file cannot be used, or a setting `sync` needs is missing or invalid.
pub fn prepare_sync(
    args: &mut SyncArgs,
    matches: &ArgMatches,
    explicit: Option<&Path>,
) -> anyhow::Result<()> {
    let config = load_logged(explicit)?;
    let mut r = Resolution::new(matches, config.as_ref());
    apply_sync(args, &mut r);
    if !r.problems.is_empty() {
        anyhow::bail!("{}", r.problems.join("; "));
    }
    Ok(())
}

/// The state directory for the review commands: `--state`, else the config's `state-dir`.
pub fn state_dir(flag: Option<PathBuf>, explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    load(explicit)?.and_then(|c| c.state_dir).ok_or_else(|| {
        anyhow::anyhow!("no state directory: pass --state DIR or set state-dir in the config file")
    })
}

fn load_logged(explicit: Option<&Path>) -> Result<Option<Config>, ConfigError> {
    let config = load(explicit)?;
    if let Some(c) = &config {
        tracing::info!(config = %c.path.display(), "read the config file");
    }
    Ok(config)
}

#[cfg(test)]
mod tests;
