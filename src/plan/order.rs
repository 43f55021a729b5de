//! Publishing order: every package after the packages it needs, so the AUR has a package's
//! dependencies by the time the package itself arrives.

use std::collections::{BTreeMap, BTreeSet};

/// Positions in `packages` (each a package name and the names it needs), every package after
/// the ones it needs; ties keep the given order. Needs outside `packages` are ignored.
pub(crate) fn dependency_order(packages: &[(&str, &BTreeSet<String>)]) -> Vec<usize> {
    let by_name: BTreeMap<&str, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (*name, i))
        .collect();
    let needs: Vec<BTreeSet<usize>> = packages
        .iter()
        .map(|(_, needs)| {
            needs
                .iter()
                .filter_map(|n| by_name.get(n.as_str()).copied())
                .collect()
        })
        .collect();
    let mut done = vec![false; packages.len()];
    let mut order = Vec::with_capacity(packages.len());
    while order.len() < packages.len() {
        let ready: Vec<usize> = (0..packages.len())
            .filter(|&i| !done[i] && needs[i].iter().all(|&n| done[n] || n == i))
            .collect();
        // A dependency cycle: take the first remaining package so the run goes on.
        let batch = if ready.is_empty() {
            vec![
                (0..packages.len())
                    .find(|&i| !done[i])
                    .expect("some package remains"),
            ]
        } else {
            ready
        };
        for i in batch {
            done[i] = true;
            order.push(i);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(packages: &[(&str, &[&str])]) -> Vec<usize> {
        let needs: Vec<BTreeSet<String>> = packages
            .iter()
            .map(|(_, n)| n.iter().map(ToString::to_string).collect())
            .collect();
        let pairs: Vec<(&str, &BTreeSet<String>)> =
            packages.iter().map(|(name, _)| *name).zip(&needs).collect();
        dependency_order(&pairs)
    }

    #[test]
    fn packages_come_after_what_they_need() {
        assert_eq!(
            order(&[
                ("raku-app", &["raku-lib"]),
                ("raku-base", &[]),
                ("raku-lib", &["raku-base"]),
                // Needs this run does not publish, and a package's need of itself, wait for
                // nothing.
                ("raku-other", &["perl6-elsewhere", "raku-other"]),
            ]),
            [1, 3, 2, 0]
        );
        assert!(order(&[]).is_empty());
    }

    #[test]
    fn a_cycle_is_broken_at_the_first_remaining_package() {
        assert_eq!(
            order(&[
                ("raku-r", &["raku-q"]),
                ("raku-q", &["raku-p"]),
                ("raku-p", &["raku-q"]),
                ("raku-x", &[]),
            ]),
            // raku-x is ready; then nothing is, and raku-r goes first although it only needs
            // the cycle; then raku-q breaks the cycle itself, and raku-p follows.
            [3, 0, 1, 2]
        );
    }
}
