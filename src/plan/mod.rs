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
//!   selected release that has that name, else to one whose `provides` has it, honouring
//!   `:ver`, `:auth` and `:api` with Rakudo's matching rules. When several provide it, the
//!   rule of `providers.rs` picks one that a newcomer cannot displace: the operator's choice,
//!   the distribution of that name, one by the requester's auth, the one longest in the
//!   index, then the name. runtime → `depends` (plus
//!   `rakudo`), build → `makedepends`, test → `checkdepends`, recommends → `optdepends`.
//!   Modules that ship with rakudo are dropped; `:from<native|bin|Perl5>` go through
//!   `system.rs`. A `:ver<1.2+>` becomes `>=`; a pin `:ver<1.2>` (Rakudo: any 1.2.x) becomes
//!   `>=1.2` plus `<1.3`; every emitted constraint is checked with pacman's vercmp against
//!   the version we publish. Anything that cannot be honoured holds the package back.
//! - **Holding back is transitive**: a package that needs a held-back package is held back.
//! - **The operator's [`Overrides`]** (the config file) apply on top: an auth pin makes
//!   selection prefer that auth and holds the distribution when the index has no release by
//!   it; `exclude` and `hold` hold it; dropped requests leave every phase before resolution,
//!   extra requests join the runtime phase; skip-check clears the test phase and `check()`;
//!   `provider-of` names the provider of a module.
//!
//! Each rule has its file: `select.rs`, `naming.rs`, `resolve.rs` (with `providers.rs` for
//! the choice among providers and `system.rs` for what is not Raku), `holds.rs` and
//! `overrides.rs`; this one holds the types and runs them in order.

pub(crate) mod license;
pub(crate) mod overrides;
pub(crate) mod system;

pub(crate) mod conflicts;
mod dangling;
mod epochs;
mod holds;
mod naming;
pub(crate) mod order;
mod providers;
mod resolve;
mod select;

use std::collections::{BTreeMap, BTreeSet};

use alpm_types::{
    Epoch, Name, PackageRelation, PackageVersion, Version, VersionComparison, VersionRequirement,
};

use crate::index::Release;
use crate::text::escape_for_log;
use license::MappedLicense;
pub(crate) use naming::name_stem;
pub use naming::{PKGNAME_PREFIX, pkgname_for};
pub(crate) use overrides::DistOverride;
pub use overrides::Overrides;
pub use resolve::RAKUDO;
use resolve::Tables;

/// A distribution that will be rendered.
#[derive(Debug, Clone)]
pub struct PlannedPackage {
    pub release: Release,
    pub pkgname: Name,
    pub(crate) pkgver: PackageVersion,
    /// `raku-<name>=<pkgver>` for a package published under an adopted name, and the name of
    /// a stand-in that left the AUR.
    pub(crate) provides: Vec<PackageRelation>,
    /// The name of a stand-in that left the AUR (script conflicts are added when rendering).
    pub(crate) conflicts: Vec<PackageRelation>,
    /// The epoch the package will carry (see `epochs`): bounds on it carry it too.
    pub(crate) epoch: Option<Epoch>,
    pub depends: Vec<PackageRelation>,
    pub makedepends: Vec<PackageRelation>,
    pub checkdepends: Vec<PackageRelation>,
    /// A package and why upstream recommends it.
    pub(crate) optdepends: Vec<(Name, String)>,
    pub(crate) license: MappedLicense,
    /// The archived tarball's public URL.
    pub source_url: String,
    /// Names of the distributions this one needs at any phase (runtime, build, test).
    pub needs: BTreeSet<String>,
    /// The Arch packages among the dependencies (any phase, recommendations too) that stand
    /// for a native library, a program or a Perl 5 module: the review gate watches them.
    pub system_deps: BTreeSet<String>,
    /// Things a reviewer should know that do not stop the package.
    pub(crate) notes: Vec<String>,
    /// The operator asked for no `check()` (config `skip-check`).
    pub(crate) skip_check: bool,
}

/// A distribution that will not be rendered, and the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Held {
    /// The release's Raku identity (`Name:ver<..>:auth<..>`), escaped for display.
    pub(crate) dist: String,
    pub(crate) reason: String,
}

/// A package the AUR already has for a distribution, under a name that is not ours to
/// publish (a hand-written `perl6-*`, or someone else's). We depend on it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPackage {
    pub(crate) pkgname: Name,
    /// `None` when the AUR's version string cannot be read: only unversioned needs are met.
    pub(crate) version: Option<Version>,
}

/// A distribution left to an existing AUR package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Covered {
    pub(crate) dist: String,
    /// The AUR package that ships it.
    pub(crate) by: String,
    /// The distribution's name and the index's newest release as a pkgver (`None` when it
    /// has none), for comparing with the package's version.
    #[serde(skip)]
    pub(crate) name: String,
    #[serde(skip)]
    pub(crate) newest: Option<PackageVersion>,
}

/// The outcome of planning.
#[derive(Debug, Default)]
pub struct Plan {
    /// Sorted by package name.
    pub packages: Vec<PlannedPackage>,
    /// Sorted by distribution.
    pub(crate) held: Vec<Held>,
    /// Sorted by distribution.
    pub(crate) covered: Vec<Covered>,
    /// Distributions the config file names that the index does not have (a typo, or gone
    /// upstream): the operator hears of them, the run goes on. Sorted, escaped for display.
    pub(crate) unknown_in_config: Vec<String>,
    /// `(module, distribution)` pairs of the config file's `provider-of` where that
    /// distribution's release does not provide the module: requests for it are held. Sorted,
    /// escaped for display.
    pub(crate) pins_not_provided: Vec<(String, String)>,
    /// The package name of every distribution of the index, in scope or not.
    pub(crate) index_names: BTreeSet<String>,
    /// `(our package, the vanished stand-in it replaces)`, see [`OnAur::vanished`].
    pub(crate) replaced: Vec<(String, String)>,
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

/// What the AUR holds that planning must know.
#[derive(Debug, Default)]
pub struct OnAur {
    /// Distributions (by name) that a trusted AUR package already ships: they are not
    /// planned, and dependents depend on that package.
    pub existing: BTreeMap<String, ExistingPackage>,
    /// Our own packages' published versions (by package name), for their epochs.
    pub ours: BTreeMap<String, Version>,
    /// Distributions whose covering AUR package our account (co-)maintains, after an
    /// adoption: they are published under that package's name, providing `raku-<name>`.
    pub adopted: BTreeMap<String, Name>,
    /// Distributions whose stand-in has left the AUR, and its name: ours provides and
    /// conflicts with it, so that installing ours replaces it.
    pub vanished: BTreeMap<String, Name>,
}

/// Plans every distribution in `releases`; with a non-empty `only`, just those
/// distributions and everything they need. `on_aur` says what the AUR already has;
/// `overrides` are the operator's.
pub fn plan(
    releases: Vec<Release>,
    only: &[String],
    on_aur: &OnAur,
    overrides: &Overrides,
) -> Result<Plan, PlanError> {
    let existing = &on_aur.existing;
    let first_releases = providers::first_releases(&releases);
    let selected = select::select(releases, overrides);
    let missing: Vec<&String> = only.iter().filter(|n| !selected.contains_key(*n)).collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|n| escape_for_log(n)).collect();
        return Err(PlanError::UnknownOnly(names.join(", ")));
    }

    let mut held: BTreeMap<String, String> = BTreeMap::new();
    let names = naming::assign_names(&selected, &on_aur.adopted, &mut held);
    for (name, release) in &selected {
        if let Some(reason) = overrides.hold_reason(name, release.auth.as_deref()) {
            held.entry(name.clone()).or_insert(reason);
        }
    }
    let providers = providers::Providers::new(&selected, &first_releases, overrides);
    let epochs: BTreeMap<String, Epoch> = selected
        .iter()
        .filter_map(|(dist, release)| {
            let pkgver = release.version.to_pkgver().ok()?;
            let epoch = epochs::epoch_for(names.get(dist)?, &pkgver, &on_aur.ours)?;
            Some((dist.clone(), epoch))
        })
        .collect();

    let mut planned: BTreeMap<String, PlannedPackage> = BTreeMap::new();
    let cx = Tables {
        names: &names,
        providers: &providers,
        selected: &selected,
        existing,
        epochs: &epochs,
        vanished: &on_aur.vanished,
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
    holds::propagate_holds(&mut planned, &mut held, &names);

    let wanted: Option<BTreeSet<String>> =
        (!only.is_empty()).then(|| closure(only, &selected, &planned));
    let in_scope = |name: &String| wanted.as_ref().is_none_or(|w| w.contains(name));

    let mut packages: Vec<PlannedPackage> = planned
        .into_iter()
        .filter(|(name, _)| in_scope(name))
        .map(|(_, p)| p)
        .collect();
    packages.sort_by(|a, b| a.pkgname.as_ref().cmp(b.pkgname.as_ref()));
    let replaced = packages
        .iter()
        .filter_map(|p| {
            let old = on_aur.vanished.get(&p.release.name)?;
            Some((p.pkgname.to_string(), old.to_string()))
        })
        .collect();
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
                name: name.clone(),
                newest: release.version.to_pkgver().ok(),
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
        pins_not_provided: providers.pins_not_provided(),
        index_names: names.values().map(ToString::to_string).collect(),
        replaced,
    })
}

/// The package one selected release becomes, or why it cannot be one.
fn plan_one(release: &Release, tables: &Tables) -> Result<PlannedPackage, String> {
    let replaced = |dist: &str| {
        tables
            .vanished
            .get(dist)
            .map(|old| PackageRelation::new(old.clone(), None))
            .into_iter()
    };
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
    let deps = resolve::dependencies(release, &phases, tables)?;
    let mut notes = Vec::new();
    let skip_check = tables.overrides.skip_check(&release.name);
    if skip_check {
        notes.push(format!(
            "no check(): {} sets skip-check",
            escape_for_log(&tables.overrides.origin)
        ));
    }
    notes.extend(deps.notes);
    let license = license::map_licenses(&release.licenses);
    if let Some(note) = &license.note {
        notes.push(note.clone());
    }
    Ok(PlannedPackage {
        release: release.clone(),
        pkgname: tables.names[&release.name].clone(),
        provides: adopted_provides(&tables.names[&release.name], &release.name, &pkgver)
            .into_iter()
            .chain(replaced(&release.name))
            .collect(),
        conflicts: replaced(&release.name).collect(),
        pkgver,
        epoch: tables.epochs.get(&release.name).cloned(),
        depends: deps.depends,
        makedepends: deps.makedepends,
        checkdepends: deps.checkdepends,
        optdepends: deps.optdepends,
        license,
        source_url,
        needs: deps.needs,
        system_deps: deps.system_deps,
        notes,
        skip_check,
    })
}

/// What a package published under an adopted name provides: our own name, at its version,
/// so that `yay -S raku-<name>` and bounds on it find it. Nothing for our own names.
fn adopted_provides(pkgname: &Name, dist: &str, pkgver: &PackageVersion) -> Vec<PackageRelation> {
    match naming::pkgname_for(dist) {
        Ok(ours) if ours != *pkgname => vec![PackageRelation::new(
            ours,
            Some(VersionRequirement::new(
                VersionComparison::Equal,
                Version::new(pkgver.clone(), None, None),
            )),
        )],
        _ => Vec::new(),
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
