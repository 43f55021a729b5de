//! The table of requirements that are not Raku distributions: native libraries, programs,
//! Perl 5 modules, and the modules that ship with rakudo. It lives in
//! `data/system-packages.json` so it can be reviewed and extended without touching code; an
//! operator adds to (or overrides) its native and bin maps in the config file, which reaches
//! here as [`SystemAdditions`].

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
pub(super) enum SystemKind {
    Native,
    Bin,
    Perl5,
}

/// The operator's entries for the native and bin maps (the config file's `[system.native]`
/// and `[system.bin]`): they win over the table's entry of the same name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SystemAdditions {
    pub(crate) native: BTreeMap<String, Name>,
    pub(crate) bin: BTreeMap<String, Name>,
}

/// The Arch package that provides a system requirement, if the operator's additions or the
/// table know it.
pub(super) fn arch_package(
    kind: SystemKind,
    name: &str,
    additions: &SystemAdditions,
) -> Option<Name> {
    let added = match kind {
        SystemKind::Native => additions.native.get(name),
        SystemKind::Bin => additions.bin.get(name),
        SystemKind::Perl5 => None,
    };
    if let Some(pkg) = added {
        return Some(pkg.clone());
    }
    let t = table();
    let map = match kind {
        SystemKind::Native => &t.native,
        SystemKind::Bin => &t.bin,
        SystemKind::Perl5 => &t.perl5,
    };
    map.get(name).and_then(|pkg| Name::new(pkg).ok())
}

/// True for the Arch packages the table maps to: they are in Arch's official repositories.
/// The operator's additions are taken at their word, as they are for the mapping itself.
pub(super) fn is_official(pkgname: &str, additions: &SystemAdditions) -> bool {
    let t = table();
    t.native
        .values()
        .chain(t.bin.values())
        .chain(t.perl5.values())
        .any(|p| p == pkgname)
        || additions
            .native
            .values()
            .chain(additions.bin.values())
            .any(|p| p.as_ref() == pkgname)
}

/// True for modules that ship with rakudo (`Test`, `NativeCall`, ...): never dependencies.
pub(super) fn is_core_module(name: &str) -> bool {
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
        let none = SystemAdditions::default();
        assert_eq!(
            arch_package(SystemKind::Native, "ssl", &none)
                .unwrap()
                .to_string(),
            "openssl"
        );
        assert_eq!(
            arch_package(SystemKind::Bin, "perl", &none)
                .unwrap()
                .to_string(),
            "perl"
        );
        assert_eq!(
            arch_package(SystemKind::Perl5, "POSIX", &none)
                .unwrap()
                .to_string(),
            "perl"
        );
        assert!(arch_package(SystemKind::Native, "no-such-lib", &none).is_none());
        assert!(is_core_module("Test"));
        assert!(is_core_module("NativeCall"));
        assert!(!is_core_module("JSON::Fast"));
    }

    #[test]
    fn additions_extend_and_override_the_table() {
        let name = |s: &str| Name::new(s).unwrap();
        let additions = SystemAdditions {
            native: [
                ("mylib".to_string(), name("mylib-git")),
                ("ssl".to_string(), name("openssl-1.1")),
            ]
            .into(),
            bin: [("mytool".to_string(), name("mytool"))].into(),
        };
        let found = |kind, n| arch_package(kind, n, &additions).map(|p| p.to_string());
        assert_eq!(
            found(SystemKind::Native, "mylib").as_deref(),
            Some("mylib-git")
        );
        assert_eq!(
            found(SystemKind::Native, "ssl").as_deref(),
            Some("openssl-1.1")
        );
        assert_eq!(found(SystemKind::Bin, "mytool").as_deref(), Some("mytool"));
        // A bin addition is not a native one.
        assert_eq!(found(SystemKind::Native, "mytool"), None);
        assert_eq!(found(SystemKind::Bin, "perl").as_deref(), Some("perl"));
        assert!(is_official("mylib-git", &additions));
        assert!(!is_official("mylib-git", &SystemAdditions::default()));
        assert!(is_official("openssl", &additions));
    }
}
