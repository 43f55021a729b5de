//! Which AUR packages may stand in for a Raku distribution. Any AUR account can upload a
//! package that provides `raku-<name>`, or is named after a distribution; depending on it
//! would let a stranger decide what our users build. So only the packages shipped in
//! `data/trusted-stand-ins.json` (the hand-written `perl6-*` packages and the plain-named
//! ones, such as `zef` and `cro`, taken from a real snapshot of the AUR) and those the
//! operator names in the config file (`[trust] packages`, `maintainers`) may stand in.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct Shipped {
    packages: BTreeSet<String>,
}

fn shipped() -> &'static BTreeSet<String> {
    static SHIPPED: OnceLock<BTreeSet<String>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        serde_json::from_str::<Shipped>(include_str!("../data/trusted-stand-ins.json"))
            .expect("data/trusted-stand-ins.json is valid (checked by a test)")
            .packages
    })
}

/// The packages and maintainers the operator trusts beyond the shipped list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandIns {
    pub packages: BTreeSet<String>,
    pub maintainers: BTreeSet<String>,
}

impl StandIns {
    /// Whether the AUR package `name`, maintained by `maintainer` (`None`: an orphan), may
    /// stand in for a distribution.
    pub fn trusts(&self, name: &str, maintainer: Option<&str>) -> bool {
        shipped().contains(name)
            || self.packages.contains(name)
            || maintainer.is_some_and(|m| self.maintainers.contains(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_holds_the_hand_written_packages_only() {
        let list = shipped();
        assert!(list.len() > 100, "{}", list.len());
        for name in ["perl6-json-fast", "perl6-digest", "zef", "cro"] {
            assert!(list.contains(name), "{name}");
        }
        // Not Raku modules, though their names sit in our namespaces.
        for name in ["raku-music-bin", "perl6-junction", "rakudo"] {
            assert!(!list.contains(name), "{name}");
        }
        assert!(list.iter().all(|n| alpm_types::Name::new(n).is_ok()));
    }

    #[test]
    fn the_operator_can_trust_a_package_or_a_maintainer() {
        let none = StandIns::default();
        assert!(none.trusts("perl6-json-fast", None));
        assert!(!none.trusts("totally-legit", Some("stranger")));
        let more = StandIns {
            packages: ["totally-legit".to_string()].into(),
            maintainers: ["friend".to_string()].into(),
        };
        assert!(more.trusts("totally-legit", Some("stranger")));
        assert!(more.trusts("anything", Some("friend")));
        assert!(!more.trusts("anything", Some("stranger")));
        assert!(!more.trusts("anything", None));
    }
}
