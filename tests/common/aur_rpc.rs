//! The AUR's RPC, version 5, answered from what the test AUR holds: no I/O here, the front
//! ([`super::aur_front`]) reads the repositories and hands over one [`Published`] each.
//!
//! Records carry the fields helpers read, as aurweb writes them: `info` results have the
//! relations (absent when empty), `License` and `Keywords` (always arrays); `search` results
//! only the package's own fields. Errors come back as aurweb's `{"type": "error", "error": …}`.

use serde_json::{Map, Value, json};

/// One repository of the test AUR as its `master` has it.
pub struct Published {
    pub pkgbase: String,
    /// The `.SRCINFO` on `master`.
    pub srcinfo: String,
    /// The account that owns the package.
    pub maintainer: String,
    /// The last `set-keywords` for it, if any.
    pub keywords: Vec<String>,
    /// Committer times (Unix seconds) of the first and the last commit on `master`.
    pub first_submitted: i64,
    pub last_modified: i64,
}

/// The relations of a package, under their RPC names, in aurweb's order.
const RELATIONS: [(&str, &str); 7] = [
    ("depends", "Depends"),
    ("makedepends", "MakeDepends"),
    ("checkdepends", "CheckDepends"),
    ("optdepends", "OptDepends"),
    ("conflicts", "Conflicts"),
    ("provides", "Provides"),
    ("replaces", "Replaces"),
];

/// One package of a published pkgbase: what a `.SRCINFO` section says about it, resolved
/// (a `pkgname` section's key replaces the `pkgbase` section's).
pub struct Record {
    name: String,
    pkgbase: String,
    version: String,
    description: Option<String>,
    url: Option<String>,
    license: Vec<String>,
    /// `(RPC field, values)` for each of [`RELATIONS`].
    relations: Vec<(&'static str, Vec<String>)>,
    maintainer: String,
    keywords: Vec<String>,
    first_submitted: i64,
    last_modified: i64,
}

/// The records of every package `published` holds; an error names the pkgbase and the
/// problem, for a `.SRCINFO` the AUR would not have accepted.
pub fn records(published: &Published) -> Result<Vec<Record>, String> {
    let sections =
        sections(&published.srcinfo).map_err(|e| format!("{}: {e}", published.pkgbase))?;
    let (base, packages) = sections
        .split_first()
        .ok_or_else(|| format!("{}: empty .SRCINFO", published.pkgbase))?;
    if base.name != published.pkgbase {
        return Err(format!(
            "{}: .SRCINFO names pkgbase {}",
            published.pkgbase, base.name
        ));
    }
    let one = |key: &str| base.values(key).first().cloned();
    let (Some(pkgver), Some(pkgrel)) = (one("pkgver"), one("pkgrel")) else {
        return Err(format!("{}: no pkgver or pkgrel", published.pkgbase));
    };
    // aurweb leaves a zero epoch out of the version.
    let version = match one("epoch").filter(|e| e.parse::<u64>().is_ok_and(|e| e > 0)) {
        Some(epoch) => format!("{epoch}:{pkgver}-{pkgrel}"),
        None => format!("{pkgver}-{pkgrel}"),
    };
    Ok(packages
        .iter()
        .map(|package| {
            let values = |key: &str| {
                if package.has(key) {
                    package.values(key)
                } else {
                    base.values(key)
                }
            };
            Record {
                name: package.name.clone(),
                pkgbase: published.pkgbase.clone(),
                version: version.clone(),
                description: values("pkgdesc").first().cloned(),
                url: values("url").first().cloned(),
                license: values("license"),
                relations: RELATIONS
                    .iter()
                    .map(|(key, field)| (*field, values(key)))
                    .collect(),
                maintainer: published.maintainer.clone(),
                keywords: published.keywords.clone(),
                first_submitted: published.first_submitted,
                last_modified: published.last_modified,
            }
        })
        .collect())
}

/// A `pkgbase = …` or `pkgname = …` line and the attributes under it.
struct Section {
    name: String,
    attributes: Vec<(String, String)>,
}

impl Section {
    fn has(&self, key: &str) -> bool {
        self.attributes.iter().any(|(k, _)| k == key)
    }

    fn values(&self, key: &str) -> Vec<String> {
        self.attributes
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The `pkgbase` section first, then one per `pkgname`.
fn sections(srcinfo: &str) -> Result<Vec<Section>, String> {
    let mut sections: Vec<Section> = Vec::new();
    for line in srcinfo.lines().filter(|l| !l.trim().is_empty()) {
        // `key = ` with nothing after it is how a package clears an array of its pkgbase's.
        let (key, value) = line
            .trim()
            .split_once(" =")
            .map(|(key, value)| (key, value.trim_start()))
            .ok_or_else(|| format!("not `key = value`: {line:?}"))?;
        let indented = line.starts_with('\t');
        match (indented, key, sections.is_empty()) {
            (false, "pkgbase", true) | (false, "pkgname", false) => sections.push(Section {
                name: value.to_string(),
                attributes: Vec::new(),
            }),
            (true, _, false) => {
                let section = sections.last_mut().expect("checked non-empty");
                section
                    .attributes
                    .push((key.to_string(), value.to_string()));
            }
            _ => return Err(format!("out of place: {line:?}")),
        }
    }
    if sections.len() < 2 {
        return Err("no pkgname".to_string());
    }
    Ok(sections)
}

impl Record {
    /// The fields both `info` and `search` give.
    fn summary(&self) -> Map<String, Value> {
        let id = stable_id(&self.name);
        let base_id = stable_id(&self.pkgbase);
        let Value::Object(map) = json!({
            "ID": id,
            "Name": self.name,
            "PackageBaseID": base_id,
            "PackageBase": self.pkgbase,
            "Version": self.version,
            "Description": self.description,
            "URL": self.url,
            "NumVotes": 0,
            "Popularity": 0.0,
            "OutOfDate": null,
            "Maintainer": self.maintainer,
            "Submitter": self.maintainer,
            "FirstSubmitted": self.first_submitted,
            "LastModified": self.last_modified,
            "URLPath": format!("/cgit/aur.git/snapshot/{}.tar.gz", self.pkgbase),
        }) else {
            unreachable!("a JSON object literal")
        };
        map
    }

    /// Everything `info` gives.
    fn detail(&self) -> Map<String, Value> {
        let mut map = self.summary();
        for (field, values) in &self.relations {
            if !values.is_empty() {
                map.insert(field.to_string(), json!(values));
            }
        }
        map.insert("License".into(), json!(self.license));
        map.insert("Keywords".into(), json!(self.keywords));
        map.insert("CoMaintainers".into(), json!([]));
        map
    }

    fn relation(&self, field: &str) -> &[String] {
        self.relations
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(&[][..], |(_, values)| values)
    }
}

/// An ID that stays the same for a name whatever else is published (aurweb's are database
/// keys; helpers only pass them around).
fn stable_id(name: &str) -> u32 {
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash & 0x7fff_ffff
}

/// What a search matches on (`by=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Name,
    NameDesc,
    Maintainer,
    Keywords,
    Provides,
    Depends,
    MakeDepends,
    CheckDepends,
    OptDepends,
}

impl By {
    fn parse(by: &str) -> Option<By> {
        Some(match by {
            "name" => By::Name,
            "name-desc" => By::NameDesc,
            "maintainer" => By::Maintainer,
            "keywords" => By::Keywords,
            "provides" => By::Provides,
            "depends" => By::Depends,
            "makedepends" => By::MakeDepends,
            "checkdepends" => By::CheckDepends,
            "optdepends" => By::OptDepends,
            _ => return None,
        })
    }

    /// Whether `record` is a result for `arg`: names and descriptions match a substring
    /// (case-insensitively), relations the name before any version bound or `:` comment.
    fn matches(self, record: &Record, arg: &str) -> bool {
        let contains = |text: &str| text.to_lowercase().contains(&arg.to_lowercase());
        let names = |values: &[String]| values.iter().any(|v| relation_name(v) == arg);
        match self {
            By::Name => contains(&record.name),
            By::NameDesc => {
                contains(&record.name) || record.description.as_deref().is_some_and(contains)
            }
            By::Maintainer => record.maintainer == arg,
            By::Keywords => record.keywords.iter().any(|k| k == arg),
            By::Provides => record.name == arg || names(record.relation("Provides")),
            By::Depends => names(record.relation("Depends")),
            By::MakeDepends => names(record.relation("MakeDepends")),
            By::CheckDepends => names(record.relation("CheckDepends")),
            By::OptDepends => names(record.relation("OptDepends")),
        }
    }
}

/// `foo` from `foo>=1.2`, `foo=3` or `foo: why it is optional`.
fn relation_name(relation: &str) -> &str {
    let end = relation
        .find(['<', '>', '=', ':'])
        .unwrap_or(relation.len());
    relation[..end].trim()
}

/// A request the RPC understands.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Info(Vec<String>),
    Search { by: By, arg: String },
}

/// aurweb's error messages, word for word: helpers show them.
#[derive(Debug, PartialEq, Eq)]
pub enum RpcError {
    NoVersion,
    BadVersion,
    NoType,
    BadType,
    BadBy,
    NoArg,
    ArgTooSmall,
}

impl RpcError {
    fn message(&self) -> &'static str {
        match self {
            RpcError::NoVersion => "Please specify an API version.",
            RpcError::BadVersion => "Invalid version specified.",
            RpcError::NoType => "No request type/data specified.",
            RpcError::BadType => "Incorrect request type specified.",
            RpcError::BadBy => "Incorrect by field specified.",
            RpcError::NoArg => "No request type/data specified.",
            RpcError::ArgTooSmall => "Query arg too small.",
        }
    }
}

/// Reads a request from the decoded path and query pairs: `/rpc/?v=5&type=…` (also `/rpc`
/// and `/rpc.php`), `/rpc/v5/info[/<name>]` and `/rpc/v5/search/<arg>`. `None` when the path
/// is not the RPC's.
pub fn parse(path: &str, query: &[(String, String)]) -> Option<Result<Request, RpcError>> {
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let args = || -> Vec<String> {
        query
            .iter()
            .filter(|(k, _)| k == "arg[]" || k == "arg")
            .map(|(_, v)| v.clone())
            .collect()
    };
    let trimmed = path.trim_end_matches('/');
    if trimmed == "/rpc" || trimmed == "/rpc.php" {
        return Some(match get("v") {
            None => Err(RpcError::NoVersion),
            Some("5") => match get("type") {
                None => Err(RpcError::NoType),
                Some("info" | "multiinfo") => Ok(Request::Info(args())),
                Some("search") => search(get("by"), args().into_iter().next()),
                Some(_) => Err(RpcError::BadType),
            },
            Some(_) => Err(RpcError::BadVersion),
        });
    }
    let rest = trimmed.strip_prefix("/rpc/v")?;
    let (version, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if version != "5" {
        return Some(Err(RpcError::BadVersion));
    }
    let (kind, arg) = rest.split_once('/').unwrap_or((rest, ""));
    Some(match kind {
        "info" if arg.is_empty() => Ok(Request::Info(args())),
        "info" => Ok(Request::Info(vec![arg.to_string()])),
        "search" if arg.is_empty() => search(get("by"), args().into_iter().next()),
        "search" => search(get("by"), Some(arg.to_string())),
        _ => Err(RpcError::BadType),
    })
}

fn search(by: Option<&str>, arg: Option<String>) -> Result<Request, RpcError> {
    let by = match by {
        None => By::NameDesc,
        Some(by) => By::parse(by).ok_or(RpcError::BadBy)?,
    };
    let arg = arg.ok_or(RpcError::NoArg)?;
    // aurweb refuses one-character name searches, which would match nearly everything.
    if matches!(by, By::Name | By::NameDesc) && arg.chars().count() < 2 {
        return Err(RpcError::ArgTooSmall);
    }
    Ok(Request::Search { by, arg })
}

/// The response body for `request` over `records`, results sorted by name.
pub fn answer(request: &Request, records: &[Record]) -> Value {
    let mut found: Vec<&Record> = match request {
        // aurweb leaves out names it does not know, without an error.
        Request::Info(names) => records.iter().filter(|r| names.contains(&r.name)).collect(),
        Request::Search { by, arg } => records.iter().filter(|r| by.matches(r, arg)).collect(),
    };
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let (kind, results): (&str, Vec<Value>) = match request {
        Request::Info(_) => (
            "multiinfo",
            found.iter().map(|r| Value::Object(r.detail())).collect(),
        ),
        Request::Search { .. } => (
            "search",
            found.iter().map(|r| Value::Object(r.summary())).collect(),
        ),
    };
    json!({"resultcount": results.len(), "results": results, "type": kind, "version": 5})
}

/// The body aurweb answers an error with.
pub fn error_body(error: &RpcError) -> Value {
    let version = match error {
        RpcError::NoVersion | RpcError::BadVersion => Value::Null,
        _ => json!(5),
    };
    json!({
        "error": error.message(), "resultcount": 0, "results": [], "type": "error",
        "version": version
    })
}
