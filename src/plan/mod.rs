//! Planning: which release of each distribution becomes which AUR package, with which
//! dependencies — or why it is held back.
//!
//! Rules (pure functions of the releases; input order never matters):
//! - **Selection.** One package per distribution name: the release with the highest version
//!   by Raku's `Version` order, as `zef install Name` picks. Ties (several auths or indexes
//!   publishing the same version) go to the higher api, then the release with an archived
//!   tarball, then the newer `release-date`, then the earlier `--index`, then the auth that
//!   sorts first. A release whose version has a `*` only wins when no other release exists.
//! - **Names.** `raku-` + the lowercased name with `::` → `-`; a name with anything else an
//!   AUR name cannot hold is held back, and two distributions that map to one name are both
//!   held back (a collision is reported, never resolved by overwriting).
//! - **Dependencies.** A request names a module or a distribution; it resolves to the
//!   selected release that has that name, else to the one whose `provides` has it, honouring
//!   `:ver`, `:auth` and `:api` with Rakudo's matching rules. runtime → `depends` (plus
//!   `rakudo`), build → `makedepends`, test → `checkdepends`, recommends → `optdepends`.
//!   Modules that ship with rakudo are dropped; `:from<native|bin|Perl5>` go through
//!   [`system`]. A `:ver<1.2+>` becomes `>=`; a pin `:ver<1.2>` (Rakudo: any 1.2.x) becomes
//!   `>=1.2` plus `<1.3`; every emitted constraint is checked with pacman's vercmp against
//!   the version we publish. Anything that cannot be honoured holds the package back.
//! - **Holding back is transitive**: a package that needs a held-back package is held back.
//! - **The operator's [`Overrides`]** (the config file) apply on top: an auth pin makes
//!   selection prefer that auth and holds the distribution when the index has no release by
//!   it; `exclude` and `hold` hold it; dropped requests leave every phase before resolution,
//!   extra requests join the runtime phase; skip-check clears the test phase and `check()`.

pub mod license;
pub mod overrides;
pub mod system;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use alpm_types::{
    Name, PackageRelation, PackageVersion, Version, VersionComparison, VersionRequirement,
};

use crate::index::Release;
use crate::raku::depspec::{DepSpec, External, ModuleRequest};
use crate::raku::version::RakuVersion;
use crate::text::escape_for_log;
use license::MappedLicense;
pub use overrides::{DistOverride, Overrides};
use system::{SystemAdditions, SystemKind};

/// Every generated package name starts with this.
pub const PKGNAME_PREFIX: &str = "raku-";
/// The AUR's limit on a package name.
const PKGNAME_MAX_LEN: usize = 255;
/// Every package runs on rakudo (an AUR package).
pub const RAKUDO: &str = "rakudo";

/// A distribution that will be rendered.
#[derive(Debug, Clone)]
pub struct PlannedPackage {
    pub release: Release,
    pub pkgname: Name,
    pub pkgver: PackageVersion,
    pub depends: Vec<PackageRelation>,
    pub makedepends: Vec<PackageRelation>,
    pub checkdepends: Vec<PackageRelation>,
    /// A package and why upstream recommends it.
    pub optdepends: Vec<(Name, String)>,
    pub license: MappedLicense,
    /// The archived tarball's public URL.
    pub source_url: String,
    /// Names of the distributions this one needs at any phase (runtime, build, test).
    pub needs: BTreeSet<String>,
    /// The Arch packages among the dependencies (any phase, recommendations too) that stand
    /// for a native library, a program or a Perl 5 module: the review gate watches them.
    pub system_deps: BTreeSet<String>,
    /// Things a reviewer should know that do not stop the package.
    pub notes: Vec<String>,
    /// The operator asked for no `check()` (config `skip-check`).
    pub skip_check: bool,
}

/// A distribution that will not be rendered, and the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    /// The release's Raku identity (`Name:ver<..>:auth<..>`), escaped for display.
    pub dist: String,
    pub reason: String,
}

/// A package the AUR already has for a distribution, under a name that is not ours to
/// publish (a hand-written `perl6-*`, or someone else's). We depend on it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPackage {
    pub pkgname: Name,
    /// `None` when the AUR's version string cannot be read: only unversioned needs are met.
    pub version: Option<Version>,
}

/// A distribution left to an existing AUR package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Covered {
    pub dist: String,
    /// The AUR package that ships it.
    pub by: String,
}

/// The outcome of planning.
#[derive(Debug, Default)]
pub struct Plan {
    /// Sorted by package name.
    pub packages: Vec<PlannedPackage>,
    /// Sorted by distribution.
    pub held: Vec<Held>,
    /// Sorted by distribution.
    pub covered: Vec<Covered>,
    /// Distributions the config file names that the index does not have (a typo, or gone
    /// upstream): the operator hears of them, the run goes on. Sorted, escaped for display.
    pub unknown_in_config: Vec<String>,
}

/// The plan cannot be made as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    #[error(
        "--only (or publish.only in the config file) names {0}, which no index entry has (names are case-sensitive, e.g. JSON::Fast)"
    )]
    UnknownOnly(String),
}

/// Plans every distribution in `releases`; with a non-empty `only`, just those
/// distributions and everything they need. Distributions in `existing` (by name) are not
/// planned: dependents depend on the existing package. `overrides` are the operator's.
pub fn plan(
    releases: Vec<Release>,
    only: &[String],
    existing: &BTreeMap<String, ExistingPackage>,
    overrides: &Overrides,
) -> Result<Plan, PlanError> {
    let selected = select(releases, overrides);
    let missing: Vec<&String> = only.iter().filter(|n| !selected.contains_key(*n)).collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|n| escape_for_log(n)).collect();
        return Err(PlanError::UnknownOnly(names.join(", ")));
    }

    let mut held: BTreeMap<String, String> = BTreeMap::new();
    let names = assign_names(&selected, &mut held);
    for (name, release) in &selected {
        if let Some(reason) = overrides.hold_reason(name, release.auth.as_deref()) {
            held.entry(name.clone()).or_insert(reason);
        }
    }
    let providers = provider_index(&selected);

    let mut planned: BTreeMap<String, PlannedPackage> = BTreeMap::new();
    let cx = Tables {
        names: &names,
        providers: &providers,
        selected: &selected,
        existing,
        overrides,
    };
    for (name, release) in &selected {
        if held.contains_key(name) || existing.contains_key(name) {
            continue;
        }
        match plan_one(release, &cx) {
            Ok(p) => {
                planned.insert(name.clone(), p);
            }
            Err(reason) => {
                held.insert(name.clone(), reason);
            }
        }
    }
    propagate_holds(&mut planned, &mut held, &names);

    let wanted: Option<BTreeSet<String>> =
        (!only.is_empty()).then(|| closure(only, &selected, &planned));
    let in_scope = |name: &String| wanted.as_ref().is_none_or(|w| w.contains(name));

    let mut packages: Vec<PlannedPackage> = planned
        .into_iter()
        .filter(|(name, _)| in_scope(name))
        .map(|(_, p)| p)
        .collect();
    packages.sort_by(|a, b| a.pkgname.as_ref().cmp(b.pkgname.as_ref()));
    let mut held: Vec<Held> = held
        .into_iter()
        .filter(|(name, _)| in_scope(name))
        .map(|(name, reason)| Held {
            dist: escape_for_log(&selected[&name].identity()),
            reason,
        })
        .collect();
    held.sort_by(|a, b| a.dist.cmp(&b.dist));
    let covered = selected
        .iter()
        .filter(|(name, _)| in_scope(name))
        .filter_map(|(name, release)| {
            Some(Covered {
                dist: escape_for_log(&release.identity()),
                by: existing.get(name)?.pkgname.to_string(),
            })
        })
        .collect();
    let unknown_in_config = overrides
        .named()
        .filter(|n| !selected.contains_key(*n))
        .map(|n| escape_for_log(n))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(Plan {
        packages,
        held,
        covered,
        unknown_in_config,
    })
}

impl Plan {
    /// Holds back the package of distribution `dist` (a failure found after planning, such
    /// as an unusable tarball) and, transitively, every package that needs it.
    pub fn hold(&mut self, dist: &str, reason: String) {
        let mut queue = vec![(dist.to_string(), reason)];
        while let Some((name, reason)) = queue.pop() {
            let Some(at) = self.packages.iter().position(|p| p.release.name == name) else {
                continue;
            };
            let removed = self.packages.remove(at);
            for p in &self.packages {
                if p.needs.contains(&name) {
                    queue.push((
                        p.release.name.clone(),
                        format!("needs {}, which is held back", removed.pkgname),
                    ));
                }
            }
            self.held.push(Held {
                dist: escape_for_log(&removed.release.identity()),
                reason,
            });
        }
        self.held.sort_by(|a, b| a.dist.cmp(&b.dist));
    }
}

/// The newest release of each distribution name; for a name whose auth the operator pinned,
/// the newest by that auth when there is one.
fn select(releases: Vec<Release>, overrides: &Overrides) -> BTreeMap<String, Release> {
    let mut by_name: BTreeMap<String, Release> = BTreeMap::new();
    for release in releases {
        let pinned = |r: &Release| {
            overrides
                .pinned_auth(&r.name)
                .is_some_and(|auth| r.auth.as_deref() == Some(auth))
        };
        match by_name.get(&release.name) {
            Some(current)
                if pinned(current)
                    .cmp(&pinned(&release))
                    .then_with(|| preference(current, &release))
                    != Ordering::Less => {}
            _ => {
                by_name.insert(release.name.clone(), release);
            }
        }
    }
    by_name
}

/// Orders two releases of one name; `Greater` means `a` is preferred.
fn preference(a: &Release, b: &Release) -> Ordering {
    let zero: RakuVersion = "0".parse().expect("0 is a version");
    let api = |r: &Release| r.api.clone().unwrap_or_else(|| zero.clone());
    (!a.version.has_whatever())
        .cmp(&!b.version.has_whatever())
        .then_with(|| a.version.raku_cmp(&b.version))
        .then_with(|| api(a).raku_cmp(&api(b)))
        .then_with(|| a.source_url.is_some().cmp(&b.source_url.is_some()))
        .then_with(|| a.release_date.cmp(&b.release_date))
        .then_with(|| b.index_rank.cmp(&a.index_rank))
        .then_with(|| b.auth.cmp(&a.auth))
        .then_with(|| b.identity().cmp(&a.identity()))
}

/// `raku-` + lowercased name, `::` → `-`; or why the name cannot be an AUR package name.
pub fn pkgname_for(dist: &str) -> Result<Name, String> {
    let mapped = format!(
        "{PKGNAME_PREFIX}{}",
        dist.replace("::", "-").to_ascii_lowercase()
    );
    if let Some(bad) = mapped
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ".+_-".contains(*c)))
    {
        return Err(format!(
            "name {} contains {}, which an AUR package name cannot hold",
            escape_for_log(dist),
            escape_for_log(&bad.to_string())
        ));
    }
    if mapped.len() > PKGNAME_MAX_LEN {
        return Err(format!(
            "name is {} characters long; an AUR package name holds at most {PKGNAME_MAX_LEN}",
            mapped.len()
        ));
    }
    Name::new(&mapped).map_err(|e| format!("package name {mapped} is invalid: {e}"))
}

/// Package names for every selected distribution; collisions and bad names are held.
fn assign_names(
    selected: &BTreeMap<String, Release>,
    held: &mut BTreeMap<String, String>,
) -> BTreeMap<String, Name> {
    let mut by_pkgname: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    let mut names = BTreeMap::new();
    for name in selected.keys() {
        match pkgname_for(name) {
            Ok(pkgname) => {
                by_pkgname
                    .entry(pkgname.to_string())
                    .or_default()
                    .push(name);
                names.insert(name.clone(), pkgname);
            }
            Err(reason) => {
                held.insert(name.clone(), reason);
            }
        }
    }
    for (pkgname, dists) in by_pkgname {
        if dists.len() > 1 {
            for dist in &dists {
                let others: Vec<String> = dists
                    .iter()
                    .filter(|d| d != &dist)
                    .map(|d| escape_for_log(d))
                    .collect();
                held.insert(
                    (*dist).clone(),
                    format!("package name {pkgname} collides with {}", others.join(", ")),
                );
            }
        }
    }
    names
}

/// Module name → the selected distributions that provide it, best candidate first: the
/// distribution of that very name, then the others by name.
fn provider_index(selected: &BTreeMap<String, Release>) -> BTreeMap<&str, Vec<&str>> {
    let mut index: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, release) in selected {
        index.entry(name.as_str()).or_default().push(name.as_str());
        for module in &release.provides {
            if module != name {
                index
                    .entry(module.as_str())
                    .or_default()
                    .push(name.as_str());
            }
        }
    }
    for (module, dists) in index.iter_mut() {
        dists.sort_by_key(|d| (d != module, *d));
        dists.dedup();
    }
    index
}

/// What one dependency request turned into.
enum Resolved {
    /// Core module, the distribution itself, or a platform where it is not needed.
    Nothing,
    Raku {
        dist: String,
        relations: Vec<PackageRelation>,
    },
    System(PackageRelation),
}

/// What resolution looks things up in.
struct Tables<'a> {
    names: &'a BTreeMap<String, Name>,
    providers: &'a BTreeMap<&'a str, Vec<&'a str>>,
    selected: &'a BTreeMap<String, Release>,
    existing: &'a BTreeMap<String, ExistingPackage>,
    overrides: &'a Overrides,
}

struct Context<'a> {
    release: &'a Release,
    tables: &'a Tables<'a>,
}

fn plan_one(release: &Release, tables: &Tables) -> Result<PlannedPackage, String> {
    let source_url = match &release.source_url {
        Some(url) => url.clone(),
        None if release.homepage.is_some() => {
            return Err(
                "its index entry points at a git repository, not an archived tarball".into(),
            );
        }
        None => return Err("its index entry has no source tarball".into()),
    };
    let pkgver = release.version.to_pkgver().map_err(|e| e.to_string())?;
    let phases = release
        .depends
        .as_ref()
        .map_err(|e| format!("its dependencies cannot be read: {e}"))?;
    let phases = tables.overrides.phases_for(&release.name, phases);
    let cx = Context { release, tables };
    let mut needs = BTreeSet::new();
    let mut system_deps = BTreeSet::new();
    let mut phase = |specs: &[DepSpec], out: &mut Vec<PackageRelation>| -> Result<(), String> {
        for spec in specs {
            match resolve(spec, &cx)? {
                Resolved::Nothing => {}
                Resolved::Raku { dist, relations } => {
                    needs.insert(dist);
                    out.extend(relations);
                }
                Resolved::System(relation) => {
                    system_deps.insert(relation.name.to_string());
                    out.push(relation);
                }
            }
        }
        Ok(())
    };
    let rakudo = PackageRelation::new(Name::new(RAKUDO).expect("valid name"), None);
    let mut depends = vec![rakudo];
    let mut makedepends = Vec::new();
    let mut checkdepends = Vec::new();
    phase(&phases.runtime, &mut depends)?;
    phase(&phases.build, &mut makedepends)?;
    phase(&phases.test, &mut checkdepends)?;
    let mut notes = Vec::new();
    let skip_check = tables.overrides.skip_check(&release.name);
    if skip_check {
        notes.push(format!(
            "no check(): {} sets skip-check",
            escape_for_log(&tables.overrides.origin)
        ));
    }
    let mut optdepends = Vec::new();
    for spec in &phases.recommends {
        match resolve(spec, &cx) {
            Ok(Resolved::Raku { relations, .. }) => {
                for r in relations {
                    optdepends.push((r.name, "recommended by upstream".to_string()));
                }
            }
            Ok(Resolved::System(r)) => {
                system_deps.insert(r.name.to_string());
                optdepends.push((r.name, "recommended by upstream".to_string()))
            }
            Ok(Resolved::Nothing) => {}
            Err(reason) => notes.push(format!("recommendation dropped: {reason}")),
        }
    }
    let depends = dedup_relations(depends, &[]);
    let makedepends = dedup_relations(makedepends, &depends);
    let checkdepends = dedup_relations(checkdepends, &[&depends[..], &makedepends[..]].concat());
    optdepends.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    optdepends.dedup_by(|a, b| a.0 == b.0);
    optdepends.retain(|(n, _)| !depends.iter().any(|d| &d.name == n));

    let license = license::map_licenses(&release.licenses);
    if let Some(note) = &license.note {
        notes.push(note.clone());
    }
    Ok(PlannedPackage {
        release: release.clone(),
        pkgname: tables.names[&release.name].clone(),
        pkgver,
        depends,
        makedepends,
        checkdepends,
        optdepends,
        license,
        source_url,
        needs,
        system_deps,
        notes,
        skip_check,
    })
}

/// Sorted, without exact duplicates and without what `already` has.
fn dedup_relations(
    mut relations: Vec<PackageRelation>,
    already: &[PackageRelation],
) -> Vec<PackageRelation> {
    relations.retain(|r| !already.contains(r));
    relations.sort_by_key(|r| r.to_string());
    relations.dedup();
    relations
}

fn resolve(spec: &DepSpec, cx: &Context) -> Result<Resolved, String> {
    match spec {
        DepSpec::Module(request) => resolve_module(request, cx),
        DepSpec::External(external) => {
            resolve_external(external, &cx.tables.overrides.system).map(Resolved::System)
        }
        DepSpec::AnyOf(alternatives) => {
            let mut reasons = Vec::new();
            for alternative in alternatives {
                match resolve(alternative, cx) {
                    Ok(resolved) => return Ok(resolved),
                    Err(reason) => reasons.push(reason),
                }
            }
            Err(format!(
                "none of the alternatives can be met ({})",
                reasons.join("; ")
            ))
        }
    }
}

fn resolve_external(
    external: &External,
    additions: &SystemAdditions,
) -> Result<PackageRelation, String> {
    // The config file can add native libraries and programs, not Perl 5 modules.
    let (kind, name, what, config_table) = match external {
        External::Native { name, .. } => (
            SystemKind::Native,
            name,
            "native library",
            Some("system.native"),
        ),
        External::Bin { name } => (SystemKind::Bin, name, "program", Some("system.bin")),
        External::Perl5 { name } => (SystemKind::Perl5, name, "Perl 5 module", None),
        External::Other { from, name } => {
            return Err(format!(
                "needs {} from {}, which raku-aur cannot map to an Arch package",
                escape_for_log(name),
                escape_for_log(from)
            ));
        }
    };
    system::arch_package(kind, name, additions)
        .map(|pkg| PackageRelation::new(pkg, None))
        .ok_or_else(|| {
            let name = escape_for_log(name);
            match config_table {
                Some(table) => format!(
                    "needs the {what} {name}, which is neither in data/system-packages.json nor in the config file's [{table}]"
                ),
                None => format!("needs the {what} {name}, which is not in data/system-packages.json"),
            }
        })
}

fn resolve_module(request: &ModuleRequest, cx: &Context) -> Result<Resolved, String> {
    let wanted = escape_for_log(&request.name);
    if system::is_core_module(&request.name)
        || request.name == cx.release.name
        || cx.release.provides.contains(&request.name)
    {
        return Ok(Resolved::Nothing);
    }
    let Some(candidates) = cx.tables.providers.get(request.name.as_str()) else {
        return Err(format!(
            "needs {wanted}, which no distribution in the index provides"
        ));
    };
    let mut refusals = Vec::new();
    for dist in candidates {
        let provider = &cx.tables.selected[*dist];
        match constraints(request, provider) {
            Ok(bounds) => {
                let relations = match cx.tables.existing.get(*dist) {
                    Some(existing) => {
                        relations_for(existing.pkgname.clone(), &bounds, existing.version.clone())?
                    }
                    None => {
                        let pkgname = cx.tables.names.get(*dist).cloned().ok_or_else(|| {
                            format!(
                                "needs {wanted} from {}, which has no package name",
                                escape_for_log(dist)
                            )
                        })?;
                        // Only a bound needs our pkgver; an unversioned need must not fail
                        // on the provider's version (that is the provider's own hold).
                        let ours = if bounds.is_empty() {
                            None
                        } else {
                            let pkgver = provider.version.to_pkgver().map_err(|e| e.to_string())?;
                            Some(Version::new(pkgver, None, None))
                        };
                        relations_for(pkgname, &bounds, ours)?
                    }
                };
                return Ok(Resolved::Raku {
                    dist: (*dist).to_string(),
                    relations,
                });
            }
            Err(reason) => refusals.push(reason),
        }
    }
    Err(refusals.join("; "))
}

/// The pacman bounds a request puts on `provider`, or why the provider does not meet it.
fn constraints(
    request: &ModuleRequest,
    provider: &Release,
) -> Result<Vec<(VersionComparison, RakuVersion)>, String> {
    let shown = || escape_for_log(&request_text(request));
    if let Some(auth) = &request.auth
        && provider.auth.as_deref() != Some(auth.as_str())
    {
        return Err(format!(
            "needs {}, but the index's {} is by {}",
            shown(),
            escape_for_log(&provider.name),
            escape_for_log(provider.auth.as_deref().unwrap_or("an unknown auth"))
        ));
    }
    if let Some(api) = &request.api {
        let pattern: RakuVersion = api
            .parse()
            .map_err(|e| format!("needs {} with an unreadable api: {e}", shown()))?;
        let have = provider
            .api
            .clone()
            .unwrap_or_else(|| "0".parse().expect("0 is a version"));
        if !pattern.accepts(&have) {
            return Err(format!(
                "needs {}, but the index's {} has api {have}",
                shown(),
                escape_for_log(&provider.name)
            ));
        }
    }
    let Some(ver) = &request.ver else {
        return Ok(Vec::new());
    };
    let pattern: RakuVersion = ver
        .parse()
        .map_err(|e| format!("needs {} with an unreadable version: {e}", shown()))?;
    if !pattern.accepts(&provider.version) {
        return Err(format!(
            "needs {}, but the newest {} in the index is {}",
            shown(),
            escape_for_log(&provider.name),
            provider.version
        ));
    }
    let Some(floor) = floor_of(&pattern) else {
        return Ok(Vec::new());
    };
    let mut bounds = vec![(VersionComparison::GreaterOrEqual, floor.clone())];
    if !pattern.plus() {
        let ceiling = next_prefix(&floor)
            .ok_or_else(|| format!("needs {}, a pin pacman cannot express", shown()))?;
        bounds.push((VersionComparison::Less, ceiling));
    }
    Ok(bounds)
}

/// The parts of a version pattern before any `*`, without `+`: `1.2.*` → `1.2`; `*` → none.
fn floor_of(pattern: &RakuVersion) -> Option<RakuVersion> {
    let text = pattern.to_string();
    let mut parts: Vec<&str> = text.trim_end_matches('+').split('.').collect();
    while parts.last() == Some(&"*") {
        parts.pop();
    }
    if parts.is_empty() || parts.contains(&"*") {
        return None;
    }
    parts.join(".").parse().ok()
}

/// The smallest version above every version a pin accepts: `0.19` → `0.20`. Rakudo matches a
/// pin as a prefix, so `0.19` accepts `0.19.5` but not `0.20`.
fn next_prefix(floor: &RakuVersion) -> Option<RakuVersion> {
    let text = floor.to_string();
    let (head, last) = match text.rsplit_once('.') {
        Some((head, last)) => (Some(head), last),
        None => (None, text.as_str()),
    };
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let next = increment_decimal(last);
    let joined = head.map_or_else(|| next.clone(), |h| format!("{h}.{next}"));
    joined.parse().ok()
}

/// `"199"` → `"200"`, for digit strings of any length.
fn increment_decimal(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8(bytes).expect("ASCII digits");
        }
    }
    format!("1{}", String::from_utf8(bytes).expect("ASCII digits"))
}

/// The relations for `pkgname` under `bounds`, checked with vercmp against the version the
/// package has (ours, or the existing AUR package's).
fn relations_for(
    pkgname: Name,
    bounds: &[(VersionComparison, RakuVersion)],
    published: Option<Version>,
) -> Result<Vec<PackageRelation>, String> {
    if bounds.is_empty() {
        return Ok(vec![PackageRelation::new(pkgname, None)]);
    }
    let Some(published) = published else {
        return Err(format!(
            "needs a version of {pkgname}, whose version the AUR does not state readably"
        ));
    };
    let mut relations = Vec::new();
    for (comparison, bound) in bounds {
        let pkgver = bound.to_pkgver().map_err(|e| {
            format!("a version bound for {pkgname} cannot be written for pacman: {e}")
        })?;
        let requirement = VersionRequirement::new(*comparison, Version::new(pkgver, None, None));
        if !requirement.is_satisfied_by(&published) {
            return Err(format!(
                "the bound {pkgname}{requirement} that Raku's rule becomes is not met by {published} under pacman's ordering"
            ));
        }
        relations.push(PackageRelation::new(pkgname.clone(), Some(requirement)));
    }
    Ok(relations)
}

fn request_text(request: &ModuleRequest) -> String {
    let mut s = request.name.clone();
    for (key, value) in [
        ("ver", &request.ver),
        ("auth", &request.auth),
        ("api", &request.api),
    ] {
        if let Some(v) = value {
            s.push_str(&format!(":{key}<{v}>"));
        }
    }
    s
}

/// Holds back every package that needs a held-back package, until nothing changes.
fn propagate_holds(
    planned: &mut BTreeMap<String, PlannedPackage>,
    held: &mut BTreeMap<String, String>,
    names: &BTreeMap<String, Name>,
) {
    loop {
        let newly: Vec<(String, String)> = planned
            .iter()
            .filter_map(|(name, p)| {
                let blocker = p.needs.iter().find(|n| held.contains_key(*n))?;
                let shown = names
                    .get(blocker)
                    .map_or_else(|| escape_for_log(blocker), ToString::to_string);
                Some((name.clone(), format!("needs {shown}, which is held back")))
            })
            .collect();
        if newly.is_empty() {
            return;
        }
        for (name, reason) in newly {
            planned.remove(&name);
            held.insert(name, reason);
        }
    }
}

/// `roots` and every distribution they need, transitively.
fn closure(
    roots: &[String],
    selected: &BTreeMap<String, Release>,
    planned: &BTreeMap<String, PlannedPackage>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots
        .iter()
        .filter(|r| selected.contains_key(*r))
        .cloned()
        .collect();
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone())
            && let Some(p) = planned.get(&name)
        {
            stack.extend(p.needs.iter().cloned());
        }
    }
    seen
}

#[cfg(test)]
mod tests;
