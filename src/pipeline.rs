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
use crate::index::{self, IndexLocation, Skipped};
use crate::plan::{self, ExistingPackage, Held, Plan};
use crate::render::{self, model::PackageModel};
use crate::settings::SourceSettings;
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
}

/// Reads the indexes, plans, fetches tarball facts and renders every package in memory.
/// With `aur`, distributions the AUR already ships are left to it, and packages with a
/// dependency that exists nowhere are held back before anything is downloaded.
pub async fn render_all(
    source: &SourceSettings,
    aur: Option<&AurContext>,
) -> anyhow::Result<(Vec<Rendered>, Plan, Vec<Skipped>)> {
    let client = http_client(source.http_timeout)?;
    let http_cache = HttpCache::new(&source.cache);
    let mut releases = Vec::new();
    let mut skipped = Vec::new();
    for (rank, arg) in source.indexes.iter().enumerate() {
        let location = IndexLocation::parse(arg);
        let loaded = index::load(&location, &client, &http_cache)
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
    let names: BTreeSet<&str> = releases.iter().map(|r| r.name.as_str()).collect();
    let existing: BTreeMap<String, ExistingPackage> = match aur {
        Some(aur) => names
            .into_iter()
            .filter_map(|n| Some((n.to_string(), aur.meta.existing_for(n, &aur.account)?)))
            .collect(),
        None => BTreeMap::new(),
    };
    let mut plan = plan::plan(releases, &source.only, &existing, &source.overrides)?;
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
        for (name, reason) in taken {
            plan.hold(&name, reason);
        }
        plan.hold_dangling(&source.overrides.system, |r| aur.meta.satisfies(r));
    }
    tracing::info!(
        packages = plan.packages.len(),
        held = plan.held.len(),
        "planned"
    );

    let fetcher = Fetcher::new(client, source.mirrors.clone(), &source.cache);
    let urls: Vec<String> = plan.packages.iter().map(|p| p.source_url.clone()).collect();
    let (facts, stats) = fetcher.facts_for(&urls).await.map_err(anyhow::Error::msg)?;
    tracing::info!(
        cached = stats.cached,
        downloaded = stats.downloaded,
        failed = stats.failed,
        "tarballs"
    );

    let rendered = render_planned(&mut plan, &facts, &source.maintainer)?;
    Ok((rendered, plan, skipped))
}

/// Renders every planned package from its tarball's facts, in memory: no I/O, so the
/// benchmark times exactly this. A package whose facts are missing or unusable is held back,
/// with its dependents, before anything is rendered.
pub fn render_planned(
    plan: &mut Plan,
    facts: &BTreeMap<String, Result<TarballFacts, String>>,
    maintainer: &str,
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
    models.retain(|name, _| plan.packages.iter().any(|p| &p.release.name == name));
    render::add_script_conflicts(models.values_mut());
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
