//! The epoch each of our packages will carry, so that bounds on it carry it too: pacman
//! compares the epoch first, so `raku-foo>=1.9` is met by any `1:…` and `raku-foo<1.10` by
//! none. The rule is the one the pkgrel decision applies to the AUR's tip
//! (`crate::sync::pkgrel`): the published epoch is kept, and goes up by one when the new
//! pkgver sorts below the published one.

use std::collections::BTreeMap;

use alpm_types::{Epoch, Name, PackageVersion, Version};

/// The epoch of the package named `pkgname` at `pkgver`, given what the AUR holds of ours.
pub(super) fn epoch_for(
    pkgname: &Name,
    pkgver: &PackageVersion,
    ours: &BTreeMap<String, Version>,
) -> Option<Epoch> {
    let published = ours.get(pkgname.as_ref())?;
    match pkgver.cmp(&published.pkgver) {
        std::cmp::Ordering::Less => Some(Epoch::new(
            published
                .epoch
                .as_ref()
                .map_or(0, |e| e.0)
                .saturating_add(1),
        )),
        _ => published.epoch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn ours(list: &[(&str, &str)]) -> BTreeMap<String, Version> {
        list.iter()
            .map(|(n, v)| (n.to_string(), Version::from_str(v).unwrap()))
            .collect()
    }

    #[test]
    fn the_published_epoch_is_kept_and_bumped_when_upstream_goes_back() {
        let name = Name::new("raku-foo").unwrap();
        let v = |s: &str| PackageVersion::new(s.to_string()).unwrap();
        let aur = ours(&[("raku-foo", "1:2.0-1")]);
        assert_eq!(epoch_for(&name, &v("2.1"), &aur), Some(Epoch::new(1)));
        assert_eq!(epoch_for(&name, &v("2.0"), &aur), Some(Epoch::new(1)));
        assert_eq!(epoch_for(&name, &v("1.9"), &aur), Some(Epoch::new(2)));
        let aur = ours(&[("raku-foo", "2.0-3")]);
        assert_eq!(epoch_for(&name, &v("2.1"), &aur), None);
        assert_eq!(epoch_for(&name, &v("1.9"), &aur), Some(Epoch::new(1)));
        // Not published yet: no epoch.
        assert_eq!(epoch_for(&name, &v("1.9"), &BTreeMap::new()), None);
    }
}
