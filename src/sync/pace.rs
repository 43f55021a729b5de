//! The pace of first publications: at most `max_new` packages that the AUR does not have yet
//! go up in one run. A flood of new packages is what gets an account's packages removed, and
//! a maintainer reviewing them needs them in portions. Whole dependency chains go together
//! (a package is useless without the new packages it needs), the most depended-on first, so
//! that each run unblocks as much as it can.

use std::collections::{BTreeMap, BTreeSet};

/// What the pace lets through this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Paced {
    /// New packages to publish now.
    pub(super) now: BTreeSet<String>,
    /// New packages that wait for a later run.
    pub(super) later: BTreeSet<String>,
    /// How many runs, this one included, the new packages need at this pace.
    pub(super) runs: usize,
}

/// Picks the new packages to publish now. `needs` maps every package of the run to the
/// packages of the run it needs (any phase); `new` are those the AUR does not have yet.
pub(super) fn pace(
    needs: &BTreeMap<String, BTreeSet<String>>,
    new: &BTreeSet<String>,
    max_new: usize,
) -> Paced {
    // The new packages each new package brings along: itself and what it needs, transitively.
    let chain = |start: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.to_string()];
        while let Some(next) = stack.pop() {
            if new.contains(&next) && seen.insert(next.clone()) {
                stack.extend(needs.get(&next).into_iter().flatten().cloned());
            }
        }
        seen
    };
    // How many packages of the run need each package, directly or not.
    let mut dependents: BTreeMap<&str, usize> = BTreeMap::new();
    for start in needs.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = needs[start].iter().collect();
        while let Some(next) = stack.pop() {
            if next != start && seen.insert(next.as_str()) {
                stack.extend(needs.get(next).into_iter().flatten());
            }
        }
        for name in seen {
            *dependents.entry(name).or_default() += 1;
        }
    }
    let mut order: Vec<&String> = new.iter().collect();
    order.sort_by(|a, b| {
        let count = |n: &str| dependents.get(n).copied().unwrap_or(0);
        count(b).cmp(&count(a)).then_with(|| a.cmp(b))
    });
    let mut left: Vec<BTreeSet<String>> = order.iter().map(|n| chain(n)).collect();
    let mut runs = 0;
    let mut now = BTreeSet::new();
    while left.iter().any(|c| !c.is_empty()) {
        runs += 1;
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for c in &left {
            let more: BTreeSet<String> = c.difference(&taken).cloned().collect();
            // A chain longer than the whole pace still has to go up some day: alone.
            if !more.is_empty() && (taken.len() + more.len() <= max_new || taken.is_empty()) {
                taken.extend(more);
            }
        }
        if runs == 1 {
            now = taken.clone();
        }
        for c in &mut left {
            c.retain(|n| !taken.contains(n));
        }
    }
    Paced {
        later: new.difference(&now).cloned().collect(),
        now,
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(n, deps)| {
                (
                    n.to_string(),
                    deps.iter().map(ToString::to_string).collect(),
                )
            })
            .collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn whole_chains_go_together_the_most_depended_on_first() {
        // base is needed by three packages; lone by none.
        let needs = graph(&[
            ("base", &[]),
            ("mid", &["base"]),
            ("top", &["mid"]),
            ("side", &["base"]),
            ("lone", &[]),
        ]);
        let new = set(&["base", "mid", "top", "side", "lone"]);
        let p = pace(&needs, &new, 3);
        // base first (3 dependents), then mid's chain (base, mid: 1), then by name among
        // those nothing needs: lone.
        assert_eq!(p.now, set(&["base", "mid", "lone"]));
        assert_eq!(p.later, set(&["side", "top"]));
        assert_eq!(p.runs, 2);
        // A chain never goes up without what it needs.
        let p = pace(&needs, &new, 2);
        assert_eq!(p.now, set(&["base", "mid"]));
        assert_eq!(p.runs, 3);
    }

    #[test]
    fn published_packages_do_not_count_and_a_long_chain_goes_alone() {
        let needs = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &[])]);
        // a is on the AUR already: c's chain is b and c.
        let p = pace(&needs, &set(&["b", "c", "d"]), 1);
        assert_eq!(p.now, set(&["b"]));
        assert_eq!(p.runs, 3);
        // Longer than the pace: it still goes, alone.
        let p = pace(&needs, &set(&["a", "b", "c"]), 2);
        assert_eq!(p.now, set(&["a", "b"]));
        let p = pace(&needs, &set(&["a", "b", "c"]), 0);
        assert_eq!(p.now, set(&["a"]));
        assert_eq!(pace(&needs, &BTreeSet::new(), 25).runs, 0);
    }
}
