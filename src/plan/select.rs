//! Selection: which release of a distribution becomes its package, as `zef install Name`
//! would pick it, with the operator's auth pin on top.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::index::Release;
use crate::raku::version::RakuVersion;

use super::Overrides;

/// The newest release of each distribution name; for a name whose auth the operator pinned,
/// the newest by that auth when there is one.
pub(super) fn select(releases: Vec<Release>, overrides: &Overrides) -> BTreeMap<String, Release> {
    let mut by_name: BTreeMap<String, Release> = BTreeMap::new();
    for release in releases {
        let pinned = |r: &Release| {
            overrides
                .pinned_auth(&r.name)
                .is_some_and(|auth| r.auth.as_deref() == Some(auth))
        };
        match by_name.get(&release.name) {
            Some(current)
                if pinned(current)
                    .cmp(&pinned(&release))
                    .then_with(|| preference(current, &release))
                    != Ordering::Less => {}
            _ => {
                by_name.insert(release.name.clone(), release);
            }
        }
    }
    by_name
}

/// Orders two releases of one name; `Greater` means `a` is preferred.
fn preference(a: &Release, b: &Release) -> Ordering {
    let zero: RakuVersion = "0".parse().expect("0 is a version");
    let api = |r: &Release| r.api.clone().unwrap_or_else(|| zero.clone());
    (!a.version.has_whatever())
        .cmp(&!b.version.has_whatever())
        .then_with(|| a.version.raku_cmp(&b.version))
        .then_with(|| api(a).raku_cmp(&api(b)))
        .then_with(|| a.source_url.is_some().cmp(&b.source_url.is_some()))
        .then_with(|| a.release_date.cmp(&b.release_date))
        .then_with(|| b.index_rank.cmp(&a.index_rank))
        .then_with(|| b.auth.cmp(&a.auth))
        .then_with(|| b.identity().cmp(&a.identity()))
}
