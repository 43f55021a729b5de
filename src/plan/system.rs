//! The table of requirements that are not Raku distributions: native libraries, programs,
//! Perl 5 modules, and the modules that ship with rakudo. It lives in
//! `data/system-packages.json` so it can be reviewed and extended without touching code.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use alpm_types::Name;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Table {
    native: BTreeMap<String, String>,
    bin: BTreeMap<String, String>,
    perl5: BTreeMap<String, String>,
    core_modules: BTreeSet<String>,
}

/// The table, parsed once and checked: every value must be a valid package name.
fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/system-packages.json"))
            .expect("data/system-packages.json is valid (checked by a test)")
    })
}

/// The kinds of system requirement META6 can express with `:from<...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemKind {
    Native,
    Bin,
    Perl5,
}

/// The Arch package that provides a system requirement, if the table knows it.
pub fn arch_package(kind: SystemKind, name: &str) -> Option<Name> {
    let t = table();
    let map = match kind {
        SystemKind::Native => &t.native,
        SystemKind::Bin => &t.bin,
        SystemKind::Perl5 => &t.perl5,
    };
    map.get(name).and_then(|pkg| Name::new(pkg).ok())
}

/// True for the Arch packages the table maps to: they are in Arch's official repositories.
pub fn is_official(pkgname: &str) -> bool {
    let t = table();
    t.native
        .values()
        .chain(t.bin.values())
        .chain(t.perl5.values())
        .any(|p| p == pkgname)
}

/// True for modules that ship with rakudo (`Test`, `NativeCall`, ...): never dependencies.
pub fn is_core_module(name: &str) -> bool {
    table().core_modules.contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_package_in_the_table_is_a_valid_name() {
        let t = table();
        for pkg in t
            .native
            .values()
            .chain(t.bin.values())
            .chain(t.perl5.values())
        {
            assert!(Name::new(pkg).is_ok(), "{pkg}");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            arch_package(SystemKind::Native, "ssl").unwrap().to_string(),
            "openssl"
        );
        assert_eq!(
            arch_package(SystemKind::Bin, "perl").unwrap().to_string(),
            "perl"
        );
        assert_eq!(
            arch_package(SystemKind::Perl5, "POSIX")
                .unwrap()
                .to_string(),
            "perl"
        );
        assert!(arch_package(SystemKind::Native, "no-such-lib").is_none());
        assert!(is_core_module("Test"));
        assert!(is_core_module("NativeCall"));
        assert!(!is_core_module("JSON::Fast"));
    }
}
