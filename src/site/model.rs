//! The site's data, assembled from what the bot already has: one row per distribution of the
//! index (from the plan and the rendered packages), where it stands (from `published.json`,
//! the review queue, the last run's report and the build outcomes), and a page per package.
//! Pure: no I/O, no clock; every list sorted, so the same state gives the same site.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::legacy::AurFacts;
use crate::pipeline::Rendered;
use crate::plan::Plan;
use crate::review::queue::{Entry, Verdict};
use crate::sync::{PackageStatus, Published};

/// Where a distribution stands. The order is the order of the counts at the top of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// On the AUR (perhaps one version behind, which the reason says).
    Published,
    /// A change waits for a maintainer's review.
    Review,
    /// Needs a package that is not on the AUR yet, or waits for the publication pace.
    Waiting,
    /// Not published, with the reason: by the plan, or rejected by a maintainer.
    Held,
    /// Left to another AUR package.
    Covered,
    /// The build of the version we publish failed; its log is on the site.
    BuildFailed,
    /// Publishing failed in the last run; the next run retries.
    Failed,
    /// Rendered, not yet published: the next sync takes it.
    Pending,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Published,
        State::Review,
        State::Waiting,
        State::Held,
        State::Covered,
        State::BuildFailed,
        State::Failed,
        State::Pending,
    ];

    /// The name in `packages.json`, the filter and the rows' `data-state`.
    pub fn slug(self) -> &'static str {
        match self {
            State::Published => "published",
            State::Review => "review",
            State::Waiting => "waiting",
            State::Held => "held",
            State::Covered => "covered",
            State::BuildFailed => "build-failed",
            State::Failed => "failed",
            State::Pending => "pending",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Published => "published",
            State::Review => "waiting for review",
            State::Waiting => "waiting for a dependency",
            State::Held => "held",
            State::Covered => "covered by another AUR package",
            State::BuildFailed => "build failed",
            State::Failed => "publishing failed",
            State::Pending => "not yet published",
        }
    }
}

impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.slug())
    }
}

/// One build's outcome, from `STATE/build.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// `[epoch:]pkgver-pkgrel`.
    pub version: String,
    pub failed: bool,
}

impl Build {
    /// The pkgver of [`Build::version`]: what a rendered package is compared with.
    fn pkgver(&self) -> &str {
        let v = self
            .version
            .split_once(':')
            .map_or(&*self.version, |(_, v)| v);
        v.rsplit_once('-').map_or(v, |(v, _)| v)
    }
}

/// One package of the last run's `report.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub status: PackageStatus,
    pub detail: String,
}

/// Everything the site is made from.
pub struct Inputs<'a> {
    pub plan: &'a Plan,
    /// The packages rendered now, from the plan's packages.
    pub rendered: &'a [Rendered],
    /// `published.json`, by pkgbase.
    pub published: &'a BTreeMap<String, Published>,
    /// The review queue, by pkgbase.
    pub queue: &'a BTreeMap<String, Entry>,
    /// `build.json`'s packages, by pkgbase.
    pub builds: &'a BTreeMap<String, Build>,
    /// The last run's `report.json` packages, by pkgbase.
    pub last_run: &'a BTreeMap<String, LastRun>,
    /// What the AUR says of the packages that cover distributions (the legacy report's
    /// data), by distribution name.
    pub stand_ins: &'a BTreeMap<String, AurFacts>,
}

/// A dependency as the PKGBUILD states it, and our package's name when it has a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dep {
    pub relation: String,
    pub page: Option<String>,
}

/// One distribution of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The distribution's name, or its Raku identity when it is held or covered.
    pub dist: String,
    pub description: String,
    /// Our package: it has a page. Always a validated package name.
    pub pkgbase: Option<String>,
    /// The AUR package to link: ours, or the one that covers the distribution.
    pub aur: Option<String>,
    /// The pkgver on the AUR, as `published.json` records it.
    pub published: Option<String>,
    /// The pkgver of upstream's newest release.
    pub upstream: Option<String>,
    pub state: State,
    pub state_label: &'static str,
    pub reason: String,
    /// `YYYY-MM-DD`: our last push, else the release's date.
    pub changed: Option<String>,
    /// The failed build's version, whose log the site carries as `logs/<pkgbase>.txt`.
    pub log: Option<String>,
    pub depends: Vec<Dep>,
    pub makedepends: Vec<Dep>,
    pub checkdepends: Vec<Dep>,
    /// Our packages that need this one, sorted.
    pub required_by: Vec<String>,
}

/// A push, for a package's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushRow {
    pub date: String,
    pub pkgver: String,
    pub message: String,
    pub commit: String,
}

/// What a package page shows beyond its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// Index into [`Site::rows`].
    pub row: usize,
    pub pkgbuild: String,
    /// The pending change's diff against the AUR, when it waits for review.
    pub diff: Option<String>,
    /// Newest first.
    pub pushes: Vec<PushRow>,
}

/// How many distributions are in a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub state: State,
    pub label: &'static str,
    pub count: usize,
}

/// The whole site's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub counts: Vec<Count>,
    /// Sorted by distribution.
    pub rows: Vec<Row>,
    /// Sorted by pkgbase.
    #[serde(skip)]
    pub pages: Vec<Page>,
}

/// Assembles the site from `inputs`.
pub fn assemble(inputs: &Inputs) -> Site {
    let ours: BTreeSet<&str> = inputs
        .rendered
        .iter()
        .map(|r| r.model.pkgname.as_ref())
        .collect();
    let mut required_by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in inputs.rendered {
        for need in &r.needs {
            required_by
                .entry(need.as_str())
                .or_default()
                .push(r.model.pkgname.to_string());
        }
    }
    let released: BTreeMap<&str, &str> = inputs
        .plan
        .packages
        .iter()
        .filter_map(|p| Some((p.pkgname.as_ref(), p.release.release_date.as_deref()?)))
        .collect();
    let names: BTreeMap<&str, &str> = inputs
        .plan
        .packages
        .iter()
        .map(|p| (p.pkgname.as_ref(), p.release.name.as_str()))
        .collect();

    let own: BTreeMap<&str, (State, String)> = inputs
        .rendered
        .iter()
        .map(|r| (r.model.pkgname.as_ref(), own_state(r, inputs)))
        .collect();

    let deps = |relations: &[alpm_types::PackageRelation]| -> Vec<Dep> {
        relations
            .iter()
            .map(|rel| {
                let name = rel.name.as_ref();
                Dep {
                    relation: rel.to_string(),
                    page: ours.contains(name).then(|| name.to_string()),
                }
            })
            .collect()
    };

    let mut rows = Vec::new();
    let mut pages = Vec::new();
    for r in inputs.rendered {
        let pkgbase = r.model.pkgname.as_ref();
        let record = inputs.published.get(pkgbase);
        let (mut state, mut reason) = own[pkgbase].clone();
        if matches!(state, State::Pending | State::Published) {
            // A dependency the AUR does not have yet keeps this one back, whatever it is.
            let missing: Vec<String> = r
                .needs
                .iter()
                .filter(|n| !inputs.published.contains_key(n.as_str()))
                .map(|n| format!("{n} ({})", own.get(n.as_str()).map_or("", |s| s.0.label())))
                .collect();
            if state == State::Pending && !missing.is_empty() {
                state = State::Waiting;
                reason = format!("needs {}, not on the AUR yet", missing.join(", "));
            }
        }
        let build = inputs
            .builds
            .get(pkgbase)
            .filter(|b| b.failed && b.pkgver() == r.model.pkgver.to_string());
        if let Some(b) = build {
            state = State::BuildFailed;
            reason = format!("the build of {} failed", b.version);
        }
        let pushes: Vec<PushRow> = record
            .map(|p| p.pushes.as_slice())
            .unwrap_or_default()
            .iter()
            .rev()
            .map(|p| PushRow {
                date: date_of(p.at),
                pkgver: p.pkgver.clone(),
                message: p.message.clone(),
                commit: p.commit.clone(),
            })
            .collect();
        let changed = pushes
            .first()
            .map(|p| p.date.clone())
            .or_else(|| released.get(pkgbase).and_then(|d| day_of(d)));
        pages.push(Page {
            row: 0,
            pkgbuild: r.pkgbuild.clone(),
            diff: inputs
                .queue
                .get(pkgbase)
                .filter(|e| e.decision == Verdict::Pending)
                .map(|e| e.diff.clone()),
            pushes,
        });
        rows.push(Row {
            dist: names
                .get(pkgbase)
                .map_or_else(|| r.dist.clone(), |n| n.to_string()),
            description: r.model.pkgdesc.clone(),
            pkgbase: Some(pkgbase.to_string()),
            aur: record.map(|_| pkgbase.to_string()),
            published: record.and_then(|p| p.pkgver.clone()),
            upstream: Some(r.model.pkgver.to_string()),
            state,
            state_label: state.label(),
            reason,
            changed,
            log: build.map(|b| b.version.clone()),
            depends: deps(&r.model.depends),
            makedepends: deps(&r.model.makedepends),
            checkdepends: deps(&r.model.checkdepends),
            required_by: required_by.remove(pkgbase).unwrap_or_default(),
        });
    }
    for held in &inputs.plan.held {
        rows.push(other_row(
            &held.dist,
            State::Held,
            held.reason.clone(),
            None,
        ));
    }
    for covered in &inputs.plan.covered {
        let facts = inputs.stand_ins.get(&covered.name);
        let mut row = other_row(
            &covered.dist,
            State::Covered,
            covered_reason(&covered.by, facts),
            Some(covered.by.clone()),
        );
        row.published = facts.map(|f| f.version.clone());
        row.upstream = covered.newest.as_ref().map(ToString::to_string);
        rows.push(row);
    }

    // Rows by distribution, pages by pkgbase, each page pointing at its row.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        (rows[a].dist.as_str(), &rows[a].pkgbase).cmp(&(rows[b].dist.as_str(), &rows[b].pkgbase))
    });
    let mut at = vec![0; rows.len()];
    for (new, &old) in order.iter().enumerate() {
        at[old] = new;
    }
    for (i, page) in pages.iter_mut().enumerate() {
        page.row = at[i];
    }
    let mut slots: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
    let rows: Vec<Row> = order
        .iter()
        .map(|&i| slots[i].take().expect("each row once"))
        .collect();
    pages.sort_by(|a, b| rows[a.row].pkgbase.cmp(&rows[b.row].pkgbase));

    let counts = State::ALL
        .iter()
        .map(|&state| Count {
            state,
            label: state.label(),
            count: rows.iter().filter(|r| r.state == state).count(),
        })
        .collect();
    Site {
        counts,
        rows,
        pages,
    }
}

/// A rendered package's state from its own records, before its dependencies are looked at.
fn own_state(r: &Rendered, inputs: &Inputs) -> (State, String) {
    let pkgbase = r.model.pkgname.as_ref();
    let record = inputs.published.get(pkgbase);
    let current =
        record.is_some_and(|p| p.input_digest == crate::render::digest(&r.pkgbuild, &r.srcinfo));
    if let Some(e) = inputs.queue.get(pkgbase)
        && e.decision == Verdict::Pending
    {
        let reasons: Vec<&str> = e.reasons.iter().map(|r| r.text.as_str()).collect();
        return (
            State::Review,
            format!("{} {}: {}", e.pkgver, e.message, reasons.join("; ")),
        );
    }
    if current {
        return (State::Published, String::new());
    }
    match inputs.last_run.get(pkgbase) {
        Some(run) if run.status == PackageStatus::Failed => {
            return (State::Failed, run.detail.clone());
        }
        Some(run) if run.status == PackageStatus::Rejected => {
            return (State::Held, run.detail.clone());
        }
        Some(run) if run.status == PackageStatus::Waiting => {
            return (State::Waiting, run.detail.clone());
        }
        _ => {}
    }
    match record {
        Some(_) => (
            State::Published,
            format!(
                "{} is not pushed yet: the next sync takes it",
                r.model.pkgver
            ),
        ),
        None => (
            State::Pending,
            "not published yet: the next sync takes it".to_string(),
        ),
    }
}

/// Who ships a covered distribution, and how it is kept: maintained or orphaned, flagged out
/// of date since when.
fn covered_reason(by: &str, facts: Option<&AurFacts>) -> String {
    let Some(facts) = facts else {
        return format!("the AUR package {by} ships it");
    };
    let kept = match &facts.maintainer {
        Some(m) => format!("maintained by {m}"),
        None => "orphaned".to_string(),
    };
    let flagged = facts
        .out_of_date
        .and_then(|t| u64::try_from(t).ok())
        .map(|t| format!("; flagged out of date on {}", date_of(t)))
        .unwrap_or_default();
    format!("the AUR package {by} ships it ({kept}{flagged})")
}

/// A held or covered distribution: no package page.
fn other_row(dist: &str, state: State, reason: String, aur: Option<String>) -> Row {
    Row {
        dist: dist.to_string(),
        description: String::new(),
        pkgbase: None,
        aur,
        published: None,
        upstream: None,
        state,
        state_label: state.label(),
        reason,
        changed: None,
        log: None,
        depends: Vec::new(),
        makedepends: Vec::new(),
        checkdepends: Vec::new(),
        required_by: Vec::new(),
    }
}

/// `YYYY-MM-DD` of a release date when it starts with one (REA writes plain dates).
fn day_of(date: &str) -> Option<String> {
    let day = date.get(..10)?;
    let b = day.as_bytes();
    let shape = b.iter().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    shape.then(|| day.to_string())
}

/// The UTC date of a Unix time, `YYYY-MM-DD` (the civil-from-days algorithm).
fn date_of(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX / 2) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests;
