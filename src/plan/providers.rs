//! Which distribution provides a module when several do.
//!
//! zef (`lib/Zef/Repository.rakumod`, `candidates`) collects every distribution whose name or
//! `provides` matches the request and takes the highest `api`, then the highest version, then
//! whichever its index listed last. Those are numbers and positions any author picks, so a new
//! distribution that provides `URI::Escape` at version 999 would take every request for it.
//! Here the order rests on what a newcomer cannot claim, best first:
//!
//! 1. the operator's choice (`[dist."X"] provider-of`): only X is considered;
//! 2. the distribution named like the module;
//! 3. a distribution by the requester's own auth (fez, PAUSE and the git hosts stand behind
//!    auths, and REA rewrites every other auth to one of them);
//! 4. the distribution with the longest history: the earliest `release-date` of any release of
//!    its name in the index (a release without a readable date shows no history);
//! 5. the name, in byte order: only between distributions that tie on all of the above.
//!
//! As in zef, candidates that do not meet the request's `:ver`, `:auth` and `:api` are passed
//! over (in [`super::resolve`]).

use std::collections::BTreeMap;

use crate::index::Release;
use crate::text::escape_for_log;

use super::Overrides;

/// A calendar day as `yyyymmdd`, so that days order as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Day(u32);

impl Day {
    /// `YYYY-MM-DD` and nothing else: a free-form date must not sort before real ones.
    fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && [0, 1, 2, 3, 5, 6, 8, 9]
                .iter()
                .all(|&i| b[i].is_ascii_digit());
        if !shape {
            return None;
        }
        let number = |range: std::ops::Range<usize>| s[range].parse::<u32>().ok();
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        ((1..=12).contains(&month) && (1..=31).contains(&day))
            .then_some(Day(year * 10_000 + month * 100 + day))
    }
}

/// The day each distribution name first appears in the index, over all its releases (not
/// only the selected one). Names without a readable date are left out.
pub(super) fn first_releases(releases: &[Release]) -> BTreeMap<String, Day> {
    let mut first: BTreeMap<String, Day> = BTreeMap::new();
    for release in releases {
        let Some(day) = release.release_date.as_deref().and_then(Day::parse) else {
            continue;
        };
        match first.get_mut(&release.name) {
            Some(known) => *known = (*known).min(day),
            None => {
                first.insert(release.name.clone(), day);
            }
        }
    }
    first
}

/// Module name → the selected distributions that provide it, in the order of the rule.
pub(super) struct Providers<'a> {
    /// Ranked by rules 2, 4 and 5; rule 3 depends on the requester and is applied per request.
    ranked: BTreeMap<&'a str, Vec<&'a str>>,
    /// Rule 1: module → the distribution the config file names for it.
    pinned: BTreeMap<&'a str, &'a str>,
    selected: &'a BTreeMap<String, Release>,
    origin: &'a str,
}

impl<'a> Providers<'a> {
    pub(super) fn new(
        selected: &'a BTreeMap<String, Release>,
        first: &BTreeMap<String, Day>,
        overrides: &'a Overrides,
    ) -> Self {
        let mut ranked: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, release) in selected {
            ranked.entry(name.as_str()).or_default().push(name.as_str());
            for module in &release.provides {
                if module != name {
                    ranked
                        .entry(module.as_str())
                        .or_default()
                        .push(name.as_str());
                }
            }
        }
        for (module, dists) in ranked.iter_mut() {
            if dists.len() > 1 {
                // `None` (no readable date) sorts after every day.
                dists.sort_by_key(|d| (d != module, first.get(*d).is_none(), first.get(*d), *d));
            }
        }
        let pinned = overrides
            .dists
            .iter()
            .flat_map(|(dist, o)| {
                o.provider_of
                    .iter()
                    .map(move |m| (m.as_str(), dist.as_str()))
            })
            .collect();
        Providers {
            ranked,
            pinned,
            selected,
            origin: &overrides.origin,
        }
    }

    /// The distributions that may meet a request for `module` from a release by
    /// `requester_auth`, best first; or why none may.
    pub(super) fn candidates(
        &self,
        module: &str,
        requester_auth: Option<&str>,
    ) -> Result<Vec<&'a str>, String> {
        let ranked = self.ranked.get(module);
        if let Some(&pinned) = self.pinned.get(module) {
            if ranked.is_some_and(|dists| dists.contains(&pinned)) {
                return Ok(vec![pinned]);
            }
            return Err(format!(
                "needs {}, which {} says {} provides (provider-of), but the index's {} does not",
                escape_for_log(module),
                escape_for_log(self.origin),
                escape_for_log(pinned),
                escape_for_log(pinned)
            ));
        }
        let Some(ranked) = ranked else {
            return Err(format!(
                "needs {}, which no distribution in the index provides",
                escape_for_log(module)
            ));
        };
        let mut dists = ranked.clone();
        if let Some(auth) = requester_auth
            && dists.len() > 1
        {
            // Stable: rules 4 and 5 still order each group.
            dists.sort_by_key(|d| {
                (
                    *d != module,
                    self.selected[*d].auth.as_deref() != Some(auth),
                )
            });
        }
        Ok(dists)
    }

    /// `(module, distribution)` pairs the config file names where that distribution's release
    /// does not provide the module (a typo, or gone upstream), escaped for display. A
    /// distribution the index lacks altogether is reported as such elsewhere.
    pub(super) fn pins_not_provided(&self) -> Vec<(String, String)> {
        self.pinned
            .iter()
            .filter(|(module, dist)| {
                self.selected.contains_key(**dist)
                    && !self.ranked.get(*module).is_some_and(|d| d.contains(dist))
            })
            .map(|(module, dist)| (escape_for_log(module), escape_for_log(dist)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_calendar_day_is_a_day() {
        assert_eq!(Day::parse("2019-10-06"), Some(Day(20191006)));
        assert!(Day::parse("2019-10-06") < Day::parse("2019-10-07"));
        for bad in [
            "",
            "0",
            "2019-1-06",
            "2019-13-01",
            "2019-00-10",
            "2019-10-32",
            "2019-10-06T00:00:00",
            "+019-10-06",
            "２０１９-10-06",
            "later",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad:?}");
        }
    }
}
