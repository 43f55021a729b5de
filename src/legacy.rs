//! The stale packages that stand in for the ecosystem's most used distributions, and what the
//! operator can do about each (`raku-aur legacy`). Pure: the command reads the AUR's metadata,
//! the index and the clock; this module decides.
//!
//! The AUR gives a way forward that a person takes: an orphan can be adopted; a maintainer
//! can be asked to add a co-maintainer or disown; an orphan request is granted automatically
//! once a package has been flagged out of date for 180 days (AUR submission guidelines).

use std::cmp::Ordering;

use alpm_types::{PackageVersion, Version};
use serde::Serialize;

use crate::plan::Plan;
use crate::render::shell::single_quote;
use crate::text::escape_for_log;

/// After this long flagged out of date, an orphan request is granted automatically.
const ORPHAN_AFTER_DAYS: i64 = 180;
const DAY: i64 = 24 * 60 * 60;

/// What the operator allows sync to do over the AUR's ssh interface (`[legacy]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyAutomation {
    pub adopt_orphans: bool,
    pub flag_out_of_date: bool,
    pub max_actions_per_run: usize,
}

impl Default for LegacyAutomation {
    /// Nothing is done unless the operator asks; then a few steps per run.
    fn default() -> Self {
        LegacyAutomation {
            adopt_orphans: false,
            flag_out_of_date: false,
            max_actions_per_run: 5,
        }
    }
}

/// What the AUR's metadata says of a covering package.
#[derive(Debug, Clone, Default)]
pub struct AurFacts {
    pub(crate) name: String,
    /// `[epoch:]pkgver-pkgrel`, as the AUR states it.
    pub(crate) version: String,
    pub(crate) maintainer: Option<String>,
    /// Unix time it was flagged out of date, if it is.
    pub(crate) out_of_date: Option<i64>,
    pub(crate) last_modified: Option<i64>,
    pub(crate) votes: u64,
    pub(crate) popularity: f64,
}

/// A distribution of the index that an AUR package covers.
#[derive(Debug, Clone)]
pub(crate) struct Coverage {
    /// The distribution's name, as the index writes it.
    pub(crate) dist: String,
    /// The index's newest release, as a pkgver.
    pub(crate) newest: PackageVersion,
    pub(crate) package: AurFacts,
    /// Our packages that depend on it.
    pub(crate) dependents: usize,
    /// Our packages held back because of it (its version does not satisfy them).
    pub(crate) held: usize,
}

/// What the operator can do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NextStep {
    /// It is current.
    Nothing,
    /// An orphan: anyone may adopt it.
    Adopt,
    /// Behind upstream and not flagged: flag it out of date.
    FlagOutOfDate,
    /// Flagged, not yet long enough for an orphan request: ask the maintainer.
    AskMaintainer,
    /// Flagged for 180 days or more: an orphan request is granted automatically.
    FileOrphanRequest,
}

/// One line of the legacy report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LegacyEntry {
    pub(crate) dist: String,
    pub(crate) package: String,
    pub(crate) version: String,
    pub(crate) newest: String,
    pub(crate) behind: bool,
    /// `None`: an orphan.
    pub(crate) maintainer: Option<String>,
    /// Unix time it was flagged out of date.
    pub(crate) out_of_date_since: Option<i64>,
    pub(crate) last_modified: Option<i64>,
    pub(crate) votes: u64,
    pub(crate) popularity: f64,
    pub(crate) dependents: usize,
    pub(crate) held: usize,
    pub(crate) next_step: NextStep,
    /// What the operator can paste: a command, a flag comment or a request.
    pub(crate) request: Option<String>,
}

/// The covering packages of `plan`, with what the AUR says of each (`facts`) and how many of
/// our packages depend on it or are held back because of it.
pub(crate) fn coverages(plan: &Plan, facts: impl Fn(&str) -> Option<AurFacts>) -> Vec<Coverage> {
    plan.covered
        .iter()
        .filter_map(|c| {
            let newest = c.newest.clone()?;
            let package = facts(&c.by)?;
            let dependents = plan
                .packages
                .iter()
                .filter(|p| {
                    p.depends
                        .iter()
                        .chain(&p.makedepends)
                        .chain(&p.checkdepends)
                        .any(|r| r.name.as_ref() == c.by)
                })
                .count();
            // Held because its version does not meet their bounds: their reasons name it.
            let held = plan.held.iter().filter(|h| names(&h.reason, &c.by)).count();
            Some(Coverage {
                dist: c.name.clone(),
                newest,
                package,
                dependents,
                held,
            })
        })
        .collect()
}

/// What the AUR says of each package that covers a distribution of `plan`, by distribution
/// (what the status site shows of it).
pub(crate) fn stand_in_facts(
    plan: &Plan,
    facts: impl Fn(&str) -> Option<AurFacts>,
) -> std::collections::BTreeMap<String, AurFacts> {
    coverages(plan, facts)
        .into_iter()
        .map(|c| (c.dist, c.package))
        .collect()
}

/// Whether `text` names the package `name` (not merely a longer name that starts with it).
fn names(text: &str, name: &str) -> bool {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || "@._+-".contains(c);
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(part_of_name) && !after.is_some_and(part_of_name)
    })
}

/// Decides the next step for each covering package at time `now` (unix seconds), for the
/// bot's account `ours`, and sorts them by how much they hold back: held packages, then
/// dependents, votes, popularity, then name.
pub(crate) fn report(coverages: Vec<Coverage>, ours: Option<&str>, now: i64) -> Vec<LegacyEntry> {
    let mut entries: Vec<LegacyEntry> =
        coverages.into_iter().map(|c| entry(c, ours, now)).collect();
    entries.sort_by(|a, b| {
        b.held
            .cmp(&a.held)
            .then(b.dependents.cmp(&a.dependents))
            .then(b.votes.cmp(&a.votes))
            .then(
                b.popularity
                    .partial_cmp(&a.popularity)
                    .unwrap_or(Ordering::Equal),
            )
            .then_with(|| a.package.cmp(&b.package))
    });
    entries
}

fn entry(c: Coverage, ours: Option<&str>, now: i64) -> LegacyEntry {
    let p = &c.package;
    // An AUR version that cannot be read is treated as behind: a human should look.
    let behind = p
        .version
        .parse::<Version>()
        .map_or(true, |v| v.pkgver.cmp(&c.newest) == Ordering::Less);
    let flagged_days = p.out_of_date.map(|t| (now - t).max(0) / DAY);
    // Packages our account (co-)maintains are not listed: they are published in place.
    let next_step = if p.maintainer.is_none() {
        NextStep::Adopt
    } else if !behind {
        NextStep::Nothing
    } else {
        match flagged_days {
            None => NextStep::FlagOutOfDate,
            Some(days) if days >= ORPHAN_AFTER_DAYS => NextStep::FileOrphanRequest,
            Some(_) => NextStep::AskMaintainer,
        }
    };
    let request = request_text(next_step, &c, ours, flagged_days);
    LegacyEntry {
        dist: c.dist.clone(),
        package: p.name.clone(),
        version: p.version.clone(),
        newest: c.newest.to_string(),
        behind,
        maintainer: p.maintainer.clone(),
        out_of_date_since: p.out_of_date,
        last_modified: p.last_modified,
        votes: p.votes,
        popularity: p.popularity,
        dependents: c.dependents,
        held: c.held,
        next_step,
        request,
    }
}

/// The text the operator can paste for `step`. Values from the metadata and the index are
/// escaped: they come from strangers.
fn request_text(
    step: NextStep,
    c: &Coverage,
    ours: Option<&str>,
    flagged_days: Option<i64>,
) -> Option<String> {
    let package = escape_for_log(&c.package.name);
    let dist = escape_for_log(&c.dist);
    let newest = &c.newest;
    let version = escape_for_log(&c.package.version);
    let account = ours.map_or_else(|| "the raku-aur account".to_string(), escape_for_log);
    match step {
        NextStep::Nothing => None,
        NextStep::Adopt => Some(format!("ssh aur@aur.archlinux.org adopt {package}")),
        NextStep::FlagOutOfDate => {
            let comment = format!(
                "{dist} {newest} is released in the Raku ecosystem (the package has {version})"
            );
            // The operator pastes this into a shell: the comment is one quoted word.
            let comment = single_quote(&comment).unwrap_or_else(|_| "''".to_string());
            Some(format!(
                "ssh aur@aur.archlinux.org flag {package} {comment}"
            ))
        }
        NextStep::AskMaintainer => Some(format!(
            "Hello {maintainer}, {package} has been flagged out of date for {days} days; the \
             Raku ecosystem has {dist} {newest}. raku-aur (the AUR account {account}) keeps \
             every Raku distribution packaged from the ecosystem's archive and could maintain \
             {package} in place, under its name, with its history. Would you add {account} \
             as a co-maintainer, or disown the package? Thank you.",
            maintainer = c
                .package
                .maintainer
                .as_deref()
                .map_or_else(String::new, escape_for_log),
            days = flagged_days.unwrap_or(0),
        )),
        NextStep::FileOrphanRequest => Some(format!(
            "Orphan request for {package}: flagged out of date for {days} days (more than \
             {ORPHAN_AFTER_DAYS}); the Raku ecosystem has {dist} {newest}, the package \
             {version}. {account} will maintain it in place.",
            days = flagged_days.unwrap_or(0),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn coverage(name: &str, version: &str, maintainer: Option<&str>) -> Coverage {
        Coverage {
            dist: "JSON::Fast".into(),
            newest: PackageVersion::new("0.21.0".into()).unwrap(),
            package: AurFacts {
                name: name.into(),
                version: version.into(),
                maintainer: maintainer.map(str::to_string),
                ..AurFacts::default()
            },
            dependents: 0,
            held: 0,
        }
    }

    fn step(c: Coverage) -> (NextStep, Option<String>) {
        let e = entry(c, Some("raku-aur-bot"), NOW);
        (e.next_step, e.request)
    }

    #[test]
    fn each_situation_gets_its_next_step_and_text() {
        let (s, r) = step(coverage("perl6-json-fast", "0.9.10-1", None));
        assert_eq!(s, NextStep::Adopt);
        assert_eq!(
            r.unwrap(),
            "ssh aur@aur.archlinux.org adopt perl6-json-fast"
        );
        let (s, r) = step(coverage("perl6-json-fast", "0.9.10-1", Some("human")));
        assert_eq!(s, NextStep::FlagOutOfDate);
        assert!(
            r.unwrap()
                .contains("flag perl6-json-fast 'JSON::Fast 0.21.0 is released")
        );
        let mut quoted = coverage("perl6-x", "0.1-1", Some("human"));
        quoted.dist = "It's::Fine".into();
        let r = step(quoted).1.unwrap();
        // Escaped for display (quoted, as it is not a plain name), then quoted for the shell.
        assert!(r.ends_with(r#"flag perl6-x '"It'\''s::Fine" 0.21.0 is released in the Raku ecosystem (the package has 0.1-1)'"#), "{r}");
        let mut flagged = coverage("perl6-json-fast", "0.9.10-1", Some("human"));
        flagged.package.out_of_date = Some(NOW - 30 * DAY);
        let (s, r) = step(flagged.clone());
        assert_eq!(s, NextStep::AskMaintainer);
        assert!(r.unwrap().contains("flagged out of date for 30 days"));
        flagged.package.out_of_date = Some(NOW - 200 * DAY);
        let (s, r) = step(flagged);
        assert_eq!(s, NextStep::FileOrphanRequest);
        assert!(r.unwrap().starts_with("Orphan request for perl6-json-fast"));
        let (s, r) = step(coverage("perl6-json-fast", "0.21.0-1", Some("human")));
        assert_eq!((s, r), (NextStep::Nothing, None));
    }

    #[test]
    fn hostile_values_are_escaped_in_the_texts() {
        let mut c = coverage("perl6-x", "0.1-1", Some("evil\u{1b}[31m'; rm -rf /"));
        c.package.out_of_date = Some(NOW - DAY);
        let (_, r) = step(c);
        let r = r.unwrap();
        assert!(!r.contains('\u{1b}'), "{r}");
    }

    #[test]
    fn a_reason_names_a_package_only_as_a_whole_word() {
        assert!(names("the bound perl6-a>=0.16 is not met", "perl6-a"));
        assert!(names("needs perl6-a", "perl6-a"));
        assert!(!names("needs perl6-ab", "perl6-a"));
        assert!(!names("needs xperl6-a", "perl6-a"));
    }

    #[test]
    fn the_report_puts_what_holds_most_back_first() {
        let mut a = coverage("perl6-a", "0.1-1", Some("x"));
        a.held = 1;
        let mut b = coverage("perl6-b", "0.1-1", Some("x"));
        b.dependents = 5;
        let mut c = coverage("perl6-c", "0.1-1", Some("x"));
        c.held = 3;
        let names: Vec<String> = report(vec![a, b, c], None, NOW)
            .into_iter()
            .map(|e| e.package)
            .collect();
        assert_eq!(names, ["perl6-c", "perl6-a", "perl6-b"]);
    }
}
