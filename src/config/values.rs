//! The config file's values as validated types, and the checks behind them, which the flags
//! share where they need one.

use std::path::PathBuf;

use serde::Deserialize;

use crate::publish::git::Identity;
use crate::raku::depspec::{DepSpec, ModuleRequest};
use crate::text::{escape_for_log, refuse_unsafe};
use crate::urls::{check_url, check_url_prefix, is_http_url};

/// The longest `http-timeout` / `--http-timeout` accepted: an hour of silence is a dead server.
pub const MAX_HTTP_TIMEOUT: u64 = 3600;

/// Declares a newtype that deserializes from a string through `$check`, whose error toml
/// reports at the value's line.
macro_rules! validated {
    ($(#[$meta:meta])* $name:ident($inner:ty) = $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
        #[serde(try_from = "String")]
        pub(super) struct $name(pub(super) $inner);

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
pub struct HttpTimeout(pub(super) u64);

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
    /// A module name as `provides` writes it: `URI::Escape`, no adverbs.
    ModuleName(String) = check_module_name
);
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
pub(super) struct Dependency {
    pub(super) text: String,
    pub(super) spec: DepSpec,
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
pub(super) struct Indexes(pub(super) Vec<Location>);

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
    check_plain_name(s, "distribution")
}

fn check_module_name(s: String) -> Result<String, String> {
    check_plain_name(s, "module")
}

/// A name as a dependency request writes it, without adverbs; `what` names it in the error.
fn check_plain_name(s: String, what: &str) -> Result<String, String> {
    match s.parse::<DepSpec>() {
        Ok(DepSpec::Module(ModuleRequest {
            name,
            ver: None,
            auth: None,
            api: None,
        })) if name == s => Ok(s),
        _ => Err(format!(
            "{} is not a {what} name (like JSON::Fast)",
            escape_for_log(&s)
        )),
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

/// `[build] timeout`: seconds a build may run; a day is the longest a build may take.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u64")]
pub(super) struct BuildTimeout(pub(super) u64);

impl TryFrom<u64> for BuildTimeout {
    type Error = String;
    fn try_from(seconds: u64) -> Result<Self, String> {
        if (1..=86_400).contains(&seconds) {
            Ok(BuildTimeout(seconds))
        } else {
            Err(format!(
                "{seconds} is not a number of seconds from 1 to 86400"
            ))
        }
    }
}

/// `[build] retry-failed-after`: hours, at most a year.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u64")]
pub(super) struct RetryHours(pub(super) u64);

impl TryFrom<u64> for RetryHours {
    type Error = String;
    fn try_from(hours: u64) -> Result<Self, String> {
        if hours <= 8760 {
            Ok(RetryHours(hours))
        } else {
            Err(format!("{hours} is not a number of hours from 0 to 8760"))
        }
    }
}

/// `[build] keep`: package versions kept per package, at least the newest.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "usize")]
pub(super) struct Keep(pub(super) usize);

impl TryFrom<usize> for Keep {
    type Error = String;
    fn try_from(n: usize) -> Result<Self, String> {
        if (1..=100).contains(&n) {
            Ok(Keep(n))
        } else {
            Err(format!("{n} is not a number of versions from 1 to 100"))
        }
    }
}

/// A command as an argv list: a program and its arguments, none empty, none with a control
/// character.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub(super) struct Argv(pub(super) Vec<String>);

impl TryFrom<Vec<String>> for Argv {
    type Error = String;
    fn try_from(argv: Vec<String>) -> Result<Self, String> {
        if argv.is_empty() {
            return Err("name a program (leave the key out for the default)".into());
        }
        for arg in &argv {
            refuse_unsafe(arg)?;
            if arg.is_empty() {
                return Err("an argument is empty".into());
            }
        }
        Ok(Argv(argv))
    }
}

validated!(
    /// A pacman repository name, as `pacman.conf` takes it in `[...]`.
    RepoName(String) = check_repo_name
);
validated!(
    /// The operator's GnuPG signing key: its full fingerprint.
    SignKey(String) = check_sign_key
);

/// Letters, digits, `.`, `-`, `_` and `@`, not starting with `.` or `-`: a name repo-add
/// and pacman take as a file name and a section; `local` is pacman's own.
pub fn check_repo_name(s: String) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c))
        && s != "local";
    if !ok {
        return Err(format!(
            "{} is not a repository name (letters, digits, `.`, `-`, `_`, `@`; not `local`)",
            escape_for_log(&s)
        ));
    }
    Ok(s)
}

/// A key's full fingerprint, 40 hexadecimal digits (spaces allowed, as gpg prints them):
/// short key ids collide, and users pin the fingerprint in their keyring.
pub fn check_sign_key(s: String) -> Result<String, String> {
    let hex: String = s.chars().filter(|c| *c != ' ').collect();
    if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{} is not a key's full fingerprint (40 hexadecimal digits)",
            escape_for_log(&s)
        ));
    }
    Ok(hex.to_ascii_uppercase())
}

/// The built-in default maintainer and the starting config name a `.invalid` address
/// (RFC 2606): it reaches nobody, so nothing may be published under it.
pub fn is_placeholder(maintainer: &str) -> bool {
    maintainer.trim_end_matches('>').ends_with(".invalid")
}
