//! Dependencies: how a Raku dependency request becomes an Arch package relation.
//!
//! A request for a module resolves to the selected distribution of that name, else to one
//! whose `provides` has it (several: in the order of [`super::providers`]), honouring `:ver`,
//! `:auth` and `:api` as Rakudo does; its version pattern becomes pacman bounds, each checked
//! with vercmp against the version that is published. `:from<native|bin|Perl5>` requests go
//! through [`super::system`]. The phases map to `depends` (plus rakudo), `makedepends`,
//! `checkdepends` and `optdepends`.

use std::collections::{BTreeMap, BTreeSet};

use alpm_types::{Epoch, Name, PackageRelation, Version, VersionComparison, VersionRequirement};

use crate::index::Release;
use crate::raku::depspec::{DepPhases, DepSpec, External, ModuleRequest};
use crate::raku::version::RakuVersion;
use crate::text::escape_for_log;

use super::providers::Providers;
use super::system::{self, SystemAdditions, SystemKind};
use super::{ExistingPackage, Overrides};

/// Every package runs on rakudo (an AUR package).
pub const RAKUDO: &str = "rakudo";

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
pub(super) struct Tables<'a> {
    pub(super) names: &'a BTreeMap<String, Name>,
    pub(super) providers: &'a Providers<'a>,
    pub(super) selected: &'a BTreeMap<String, Release>,
    pub(super) existing: &'a BTreeMap<String, ExistingPackage>,
    /// Our packages' epochs, by distribution (see `super::epochs`).
    pub(super) epochs: &'a BTreeMap<String, Epoch>,
    /// See [`super::OnAur::vanished`].
    pub(super) vanished: &'a BTreeMap<String, Name>,
    pub(super) overrides: &'a Overrides,
}

struct Context<'a> {
    release: &'a Release,
    tables: &'a Tables<'a>,
}

/// One release's dependencies, as Arch relations.
pub(super) struct Dependencies {
    pub(super) depends: Vec<PackageRelation>,
    pub(super) makedepends: Vec<PackageRelation>,
    pub(super) checkdepends: Vec<PackageRelation>,
    pub(super) optdepends: Vec<(Name, String)>,
    /// See [`super::PlannedPackage::needs`].
    pub(super) needs: BTreeSet<String>,
    /// See [`super::PlannedPackage::system_deps`].
    pub(super) system_deps: BTreeSet<String>,
    /// Recommendations that could not be met: they do not stop the package.
    pub(super) notes: Vec<String>,
}

/// Resolves every phase of `release` (as the overrides left them); a requirement that
/// cannot be met is the reason to hold the package back.
pub(super) fn dependencies(
    release: &Release,
    phases: &DepPhases,
    tables: &Tables,
) -> Result<Dependencies, String> {
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

    Ok(Dependencies {
        depends,
        makedepends,
        checkdepends,
        optdepends,
        needs,
        system_deps,
        notes,
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
    let candidates = cx
        .tables
        .providers
        .candidates(&request.name, cx.release.auth.as_deref())?;
    let mut refusals = Vec::new();
    for dist in &candidates {
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
                            let epoch = cx.tables.epochs.get(*dist).cloned();
                            Some(Version::new(pkgver, epoch, None))
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
        // The bound carries the package's epoch: pacman compares epochs first.
        let requirement =
            VersionRequirement::new(*comparison, Version::new(pkgver, published.epoch, None));
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
