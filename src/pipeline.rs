//! The pipeline `render` and `sync` share: indexes → releases → plan → tarball facts →
//! rendered packages, in memory; and `render`'s way of writing them out.
//!
//! The order is fixed so that a failure never leaves a half-written result: every index is
//! read and parsed before anything is written; each package is rendered and its `.SRCINFO`
//! checked in memory before its files are replaced; `report.json` is written last.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::aur::AurMetadata;
use crate::fetch::HttpCache;
use crate::index::{self, IndexLocation, Release, Skipped};
use crate::plan::{self, ExistingPackage, Held, OnAur, Plan};
use crate::render::{self, model::PackageModel};
use crate::settings::SourceSettings;
use crate::stand_ins::StandIns;
use crate::tarball::{Fetcher, TarballFacts};

/// `report.json`: every list sorted, so that the same input gives the same bytes whatever
/// the order of the index's entries.
#[derive(Debug, Serialize)]
pub struct Report {
    pub rendered: Vec<RenderedEntry>,
    pub held: Vec<Held>,
    /// Index entries that could not be read at all.
    pub skipped: Vec<Skipped>,
}

impl Report {
    /// The report with every list in a fixed order: packages by pkgbase, the rest by their
    /// fields in order, so ties are broken too.
    fn sorted(
        mut rendered: Vec<RenderedEntry>,
        mut held: Vec<Held>,
        mut skipped: Vec<Skipped>,
    ) -> Report {
        rendered.sort_by(|a, b| a.pkgbase.cmp(&b.pkgbase));
        for entry in &mut rendered {
            entry.depends.sort();
            entry.notes.sort();
        }
        held.sort();
        skipped.sort();
        Report {
            rendered,
            held,
            skipped,
        }
    }
}

/// One rendered package in the report.
#[derive(Debug, Serialize)]
pub struct RenderedEntry {
    pub dist: String,
    pub pkgbase: String,
    pub pkgver: String,
    pub pkgrel: String,
    pub depends: Vec<String>,
    pub notes: Vec<String>,
}

/// A package ready to be written.
pub struct Rendered {
    pub model: PackageModel,
    pub pkgbuild: String,
    pub srcinfo: String,
    pub notes: Vec<String>,
    pub dist: String,
    /// Package names of the other rendered packages this one needs (any phase).
    pub needs: BTreeSet<String>,
    /// The release's auth as the index gives it, unsanitised, for the review gate.
    pub auth: Option<String>,
    /// See [`plan::PlannedPackage::system_deps`].
    pub system_deps: BTreeSet<String>,
}

/// What the AUR already has, for runs that publish: which distributions it ships under
/// another name, and which dependencies exist.
pub struct AurContext {
    pub meta: AurMetadata,
    /// The bot's own AUR account: its packages are ours to update.
    pub account: String,
    /// Which other AUR packages may stand in for a distribution.
    pub stand_ins: StandIns,
    /// The scripts of every package we published, by name, as `published.json` records them.
    pub published_scripts: BTreeMap<String, Vec<String>>,
    /// Every distribution an AUR package has stood in for, and which package.
    pub stand_ins_seen: BTreeMap<String, String>,
}

/// Why a distribution that an untrusted AUR package claims is held back.
fn untrusted_claim(package: &str, maintainer: Option<String>) -> String {
    let by = maintainer.map_or_else(
        || "an orphan".to_string(),
        |m| format!("maintained by {}", crate::text::escape_for_log(&m)),
    );
    format!(
        "the AUR package {package} ({by}) claims this distribution but is not a trusted \
         stand-in: a duplicate for a human to sort out, or an attempt to take it over. Trust it \
         ([trust] packages in the config file) to depend on it, or have it removed"
    )
}

/// Reads the indexes, plans, fetches tarball facts and renders every package in memory.
/// With `aur`, distributions the AUR already ships are left to it, and packages with a
/// dependency that exists nowhere are held back before anything is downloaded.
pub async fn render_all(
    source: &SourceSettings,
    aur: Option<&AurContext>,
) -> anyhow::Result<(Vec<Rendered>, Plan, Vec<Skipped>)> {
    let client = http_client(source.http_timeout)?;
    let (releases, skipped) = read_indexes(source, &client).await?;
    let mut plan = plan_against(source, aur, releases)?;

    let fetcher = Fetcher::new(client, source.mirrors.clone(), &source.cache);
    let urls: Vec<String> = plan.packages.iter().map(|p| p.source_url.clone()).collect();
    let (facts, stats) = fetcher.facts_for(&urls).await.map_err(anyhow::Error::msg)?;
    tracing::info!(
        cached = stats.cached,
        downloaded = stats.downloaded,
        failed = stats.failed,
        "tarballs"
    );

    let published_scripts = aur.map(|a| &a.published_scripts);
    let rendered = render_planned(
        &mut plan,
        &facts,
        &source.maintainer,
        published_scripts.unwrap_or(&BTreeMap::new()),
    )?;
    Ok((rendered, plan, skipped))
}

/// Reads and parses every index, in order; a broken entry is skipped (and returned), an
/// unusable index stops everything.
///
/// # Errors
/// When an index cannot be read or parsed.
pub async fn read_indexes(
    source: &SourceSettings,
    client: &reqwest::Client,
) -> anyhow::Result<(Vec<Release>, Vec<Skipped>)> {
    let http_cache = HttpCache::new(&source.cache);
    let mut releases = Vec::new();
    let mut skipped = Vec::new();
    for (rank, arg) in source.indexes.iter().enumerate() {
        let location = IndexLocation::parse(arg);
        let loaded = index::load(&location, client, &http_cache)
            .await
            .with_context(|| "check the --index argument; nothing was written")?;
        let parsed = index::parse_index(loaded.bytes(), &location.to_string(), rank)
            .with_context(|| "the index is unusable; nothing was written")?;
        if let index::Loaded::Http(doc) = &loaded
            && let Err(e) = http_cache.remember(doc)
        {
            tracing::warn!(index = %location, error = %e, "cannot keep a copy of the index");
        }
        // The raw index (~20 MB for REA) is not needed past parsing; freeing it here keeps it
        // out of the run's peak memory, which comes next.
        drop(loaded);
        tracing::info!(
            index = %location,
            releases = parsed.releases.len(),
            skipped = parsed.skipped.len(),
            "read index"
        );
        for s in &parsed.skipped {
            tracing::warn!(entry = %s.entry, reason = %s.reason, "skipped index entry");
        }
        // Moving the first index's releases instead of copying them avoids holding two
        // buffers of every release at once.
        if releases.is_empty() {
            releases = parsed.releases;
        } else {
            releases.extend(parsed.releases);
        }
        skipped.extend(parsed.skipped);
    }
    Ok((releases, skipped))
}

/// Plans `releases`; with `aur`, distributions a trusted AUR package ships are left to it,
/// claims by untrusted ones and names taken by others hold packages back, and so does a
/// dependency that exists nowhere.
///
/// # Errors
/// When `--only` names a distribution the index does not have.
pub fn plan_against(
    source: &SourceSettings,
    aur: Option<&AurContext>,
    releases: Vec<Release>,
) -> anyhow::Result<Plan> {
    let names: BTreeSet<&str> = releases.iter().map(|r| r.name.as_str()).collect();
    let mut existing: BTreeMap<String, ExistingPackage> = BTreeMap::new();
    let mut adopted: BTreeMap<String, alpm_types::Name> = BTreeMap::new();
    let mut untrusted: Vec<(String, String)> = Vec::new();
    if let Some(aur) = aur {
        for name in names {
            let Some(claimant) = aur.meta.existing_for(name, &aur.account) else {
                continue;
            };
            let package = claimant.package.pkgname.to_string();
            let ours = claimant.maintainer.as_deref() == Some(aur.account.as_str())
                || claimant.co_maintainers.contains(&aur.account);
            if ours {
                // Adopted (or co-maintained): we publish the distribution in that package.
                adopted.insert(name.to_string(), claimant.package.pkgname);
            } else if aur
                .stand_ins
                .trusts(&package, claimant.maintainer.as_deref())
            {
                existing.insert(name.to_string(), claimant.package);
            } else {
                untrusted.push((
                    name.to_string(),
                    untrusted_claim(&package, claimant.maintainer),
                ));
            }
        }
    }
    // A stand-in that left the AUR (deleted, merged) is replaced by ours.
    let vanished: BTreeMap<String, alpm_types::Name> = aur
        .into_iter()
        .flat_map(|aur| {
            aur.stand_ins_seen
                .iter()
                .filter(|(_, package)| !aur.meta.has(package))
        })
        .filter(|(dist, _)| !existing.contains_key(*dist))
        .filter_map(|(dist, package)| Some((dist.clone(), alpm_types::Name::new(package).ok()?)))
        .collect();
    let on_aur = OnAur {
        existing,
        adopted,
        vanished,
        ours: aur.map_or_else(BTreeMap::new, |aur| aur.meta.versions_of(&aur.account)),
    };
    let mut plan = plan::plan(releases, &source.only, &on_aur, &source.overrides)?;
    for name in &plan.unknown_in_config {
        tracing::warn!(
            dist = %name,
            config = %source.overrides.origin,
            "the config file names a distribution the index does not have; check its spelling"
        );
    }
    for (module, dist) in &plan.pins_not_provided {
        tracing::warn!(
            module = %module,
            dist = %dist,
            config = %source.overrides.origin,
            "the config file's provider-of names a module the distribution does not provide; check its spelling (packages that need the module are held)"
        );
    }
    if let Some(aur) = aur {
        let taken: Vec<(String, String)> = plan
            .packages
            .iter()
            .filter_map(|p| {
                let reason = aur.meta.name_taken(p.pkgname.as_ref(), &aur.account)?;
                Some((p.release.name.clone(), reason))
            })
            .collect();
        // A claim says more than a taken name, so it goes first.
        for (name, reason) in untrusted.into_iter().chain(taken) {
            plan.hold(&name, reason);
        }
        // A name in our namespaces is met only by our own packages or a trusted stand-in:
        // anyone may upload a package that provides `raku-foo`.
        plan.hold_dangling(&source.overrides.system, |r| {
            let guarded = [plan::PKGNAME_PREFIX, "perl6-"]
                .iter()
                .any(|prefix| r.name.as_ref().starts_with(prefix));
            aur.meta.satisfies_by(r, |name, maintainer| {
                !guarded
                    || maintainer == Some(aur.account.as_str())
                    || aur.stand_ins.trusts(name, maintainer)
            })
        });
    }
    tracing::info!(
        packages = plan.packages.len(),
        held = plan.held.len(),
        "planned"
    );
    Ok(plan)
}

/// Reads the AUR's metadata from a file, or downloads it conditionally through the cache;
/// a download is kept as the last good copy only once it has parsed.
pub async fn load_aur_metadata(
    location: &str,
    source: &SourceSettings,
) -> anyhow::Result<AurMetadata> {
    let unusable = || {
        format!(
            "the AUR metadata from {location} is unusable; without it nothing can be published safely"
        )
    };
    if !crate::urls::is_http_url(location) {
        let file = std::fs::File::open(location)
            .with_context(|| format!("cannot read the AUR metadata {location}"))?;
        let meta = AurMetadata::read(file).with_context(unusable)?;
        log_skipped(&meta);
        return Ok(meta);
    }
    let client = http_client(source.http_timeout)?;
    let cache = HttpCache::new(&source.cache);
    let doc = cache.get(&client, location).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot get the AUR metadata, so nothing can be published safely and nothing was: {e}"
        )
    })?;
    let meta = AurMetadata::parse(&doc.bytes).with_context(unusable)?;
    if let Err(e) = cache.remember(&doc) {
        tracing::warn!(error = %e, "cannot keep a copy of the AUR metadata");
    }
    log_skipped(&meta);
    Ok(meta)
}

/// AUR entries that could not be understood are left out, and said so.
fn log_skipped(meta: &AurMetadata) {
    for entry in meta.skipped() {
        tracing::warn!(package = %entry.name, reason = %entry.reason, "AUR package skipped");
    }
}

/// Renders every planned package from its tarball's facts, in memory: no I/O, so the
/// benchmark times exactly this. A package whose facts are missing or unusable is held back,
/// with its dependents, before anything is rendered.
///
/// Script conflicts come from everything we publish: the packages planned now and, for those
/// not rendered in this run (`--only`, a hold, a tarball host that is down), the scripts
/// `published_scripts` records, so that a run's scope never changes a package's conflicts.
pub fn render_planned(
    plan: &mut Plan,
    facts: &BTreeMap<String, Result<TarballFacts, String>>,
    maintainer: &str,
    published_scripts: &BTreeMap<String, Vec<String>>,
) -> anyhow::Result<Vec<Rendered>> {
    // A package can still fail here (a bad tarball); holding it holds its dependents too,
    // so render only after every such hold is known.
    let mut models = BTreeMap::new();
    let mut failures = Vec::new();
    for p in &plan.packages {
        let outcome = match facts.get(&p.source_url) {
            Some(Ok(f)) => render::assemble(p, f, maintainer),
            Some(Err(e)) => Err(e.clone()),
            None => Err("its tarball was not fetched".to_string()),
        };
        match outcome {
            Ok(model) => {
                models.insert(p.release.name.clone(), model);
            }
            Err(reason) => failures.push((p.release.name.clone(), reason)),
        }
    }
    for (name, reason) in failures {
        plan.hold(&name, reason);
    }
    plan.hold_conflicting_needs(&script_conflicts(&models, published_scripts));
    models.retain(|name, _| plan.packages.iter().any(|p| &p.release.name == name));
    // What is held back (and was never published) conflicts with nothing: it is not there.
    let conflicts = script_conflicts(&models, published_scripts);
    for model in models.values_mut() {
        let others = conflicts.get(model.pkgname.as_ref()).into_iter().flatten();
        model
            .conflicts
            .extend(others.map(|n| alpm_types::PackageRelation::new(n.clone(), None)));
    }
    let pkgnames: BTreeMap<&str, &alpm_types::Name> = plan
        .packages
        .iter()
        .map(|p| (p.release.name.as_str(), &p.pkgname))
        .collect();
    let mut rendered = Vec::new();
    let mut late = Vec::new();
    for p in &plan.packages {
        let f = facts[&p.source_url]
            .as_ref()
            .expect("failures were held above");
        let model = models.remove(&p.release.name).expect("assembled above");
        match render::files(&model) {
            Ok(render::Files { pkgbuild, srcinfo }) => {
                let mut notes = p.notes.clone();
                if p.license.needs_own_file && f.license_files.is_empty() {
                    notes.push(format!(
                        "license {} needs its text installed, but the tarball has no license file",
                        p.license.expression
                    ));
                }
                notes.extend(f.skipped_names.iter().map(|n| {
                    format!(
                        "file {} not installed: its name is not a plain file name",
                        crate::text::escape_for_log(n)
                    )
                }));
                rendered.push(Rendered {
                    needs: p
                        .needs
                        .iter()
                        .filter_map(|d| pkgnames.get(d.as_str()))
                        .map(ToString::to_string)
                        .collect(),
                    dist: p.release.identity(),
                    auth: p.release.auth.clone(),
                    system_deps: p.system_deps.clone(),
                    model,
                    pkgbuild,
                    srcinfo,
                    notes,
                });
            }
            Err(e) => late.push((p.release.name.clone(), e)),
        }
    }
    if !late.is_empty() {
        // Rendering is checked before anything is written, so a failure here is a bug in
        // raku-aur, not bad input; refuse to write a partial set.
        let (name, e) = &late[0];
        bail!("rendering {name} failed, which is a bug in raku-aur: {e}");
    }
    Ok(rendered)
}

/// Per package name, the packages that ship a script of the same name: among `models` and
/// the published packages not among them.
fn script_conflicts(
    models: &BTreeMap<String, PackageModel>,
    published_scripts: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<alpm_types::Name>> {
    let rendered: BTreeSet<&str> = models.values().map(|m| m.pkgname.as_ref()).collect();
    let published: Vec<(alpm_types::Name, &[String])> = published_scripts
        .iter()
        .filter(|(name, _)| !rendered.contains(name.as_str()))
        .filter_map(|(name, scripts)| Some((alpm_types::Name::new(name).ok()?, &scripts[..])))
        .collect();
    let packages: Vec<(&alpm_types::Name, &[String])> = models
        .values()
        .map(|m| (&m.pkgname, &m.build.bin_scripts[..]))
        .chain(published.iter().map(|(n, s)| (n, *s)))
        .collect();
    let conflicts = plan::conflicts::script_conflicts(&packages);
    packages
        .iter()
        .zip(conflicts)
        .filter(|(_, others)| !others.is_empty())
        .map(|((name, _), others)| (name.to_string(), others))
        .collect()
}

/// The legacy report of `plan` (see [`crate::legacy`]) for the account `ours`, as of now: the
/// one place the clock is read for it, so that the report itself is decided on data.
pub(crate) fn legacy_report(
    plan: &Plan,
    aur: &AurContext,
    ours: Option<&str>,
) -> Vec<crate::legacy::LegacyEntry> {
    let now = i64::try_from(crate::clock::unix_now()).unwrap_or(i64::MAX);
    let coverages = crate::legacy::coverages(plan, |name| aur.meta.facts(name));
    crate::legacy::report(coverages, ours, now)
}

/// Positions in `rendered`, every package after the ones it needs: the order packages are
/// built and published in.
pub(crate) fn dependencies_first(rendered: &[Rendered]) -> Vec<usize> {
    let needs: Vec<(&str, &BTreeSet<String>)> = rendered
        .iter()
        .map(|r| (r.model.pkgname.as_ref(), &r.needs))
        .collect();
    crate::plan::order::dependency_order(&needs)
}

/// The one HTTP client configuration: bounded waits, and a user agent that names us.
/// `silence` bounds connecting and each read, so a server that stops answering fails the
/// download that soon; the overall bound only stops a server that trickles forever.
pub(crate) fn http_client(silence: std::time::Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("raku-aur/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(silence)
        .read_timeout(silence)
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .context("cannot build the HTTP client")
}

/// Replaces each package's directory, removes directories of packages no longer rendered,
/// then writes `report.json`.
pub fn write_out(
    out: &Path,
    rendered: &[Rendered],
    held: Vec<Held>,
    skipped: Vec<Skipped>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut names = BTreeSet::new();
    for r in rendered {
        let dir = out.join(r.model.pkgname.to_string());
        crate::fsutil::write_if_changed(&dir.join("PKGBUILD"), r.pkgbuild.as_bytes())
            .with_context(|| format!("cannot write {}", dir.display()))?;
        crate::fsutil::write_if_changed(&dir.join(".SRCINFO"), r.srcinfo.as_bytes())
            .with_context(|| format!("cannot write {}", dir.display()))?;
        names.insert(r.model.pkgname.to_string());
    }
    for entry in std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let ours = name.starts_with(plan::PKGNAME_PREFIX) && path.join(".SRCINFO").is_file();
        if ours && !names.contains(&name) {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove stale {}", path.display()))?;
        }
    }
    let report = Report::sorted(
        rendered
            .iter()
            .map(|r| RenderedEntry {
                dist: r.dist.clone(),
                pkgbase: r.model.pkgname.to_string(),
                pkgver: r.model.pkgver.to_string(),
                pkgrel: r.model.pkgrel.to_string(),
                depends: r.model.depends.iter().map(ToString::to_string).collect(),
                notes: r.notes.clone(),
            })
            .collect(),
        held,
        skipped,
    );
    let mut json = serde_json::to_vec_pretty(&report).expect("report serialises");
    json.push(b'\n');
    crate::fsutil::write_atomically(&out.join("report.json"), &json)
        .context("cannot write report.json")?;
    Ok(())
}
