//! Holding back is transitive: a package that needs a held-back package is held back too,
//! whether the hold comes from planning or from a failure found later.

use std::collections::BTreeMap;

use alpm_types::Name;

use crate::text::escape_for_log;

use super::{Held, Plan, PlannedPackage};

impl Plan {
    /// Holds back the package of distribution `dist` (a failure found after planning, such
    /// as an unusable tarball) and, transitively, every package that needs it.
    pub(crate) fn hold(&mut self, dist: &str, reason: String) {
        let mut queue = vec![(dist.to_string(), reason)];
        while let Some((name, reason)) = queue.pop() {
            let Some(at) = self.packages.iter().position(|p| p.release.name == name) else {
                continue;
            };
            let removed = self.packages.remove(at);
            self.replaced
                .retain(|(pkgname, _)| pkgname != removed.pkgname.as_ref());
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

/// Holds back every package that needs a held-back package, until nothing changes.
pub(super) fn propagate_holds(
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
