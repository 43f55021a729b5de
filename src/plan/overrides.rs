//! What the operator's config file changes about planning, as plain data: `crate::config`
//! reads and validates the file, the planner only applies these values.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::raku::depspec::{DepPhases, DepSpec, External};
use crate::text::escape_for_log;

use super::system::SystemAdditions;

/// Everything the planner takes from the config file. The default changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Where these came from (the config file's path), named in the reasons of holds they cause.
    pub(crate) origin: String,
    /// Distributions never to publish (`publish.exclude`).
    pub(crate) exclude: BTreeSet<String>,
    /// Per-distribution changes (`[dist."Name"]`), by distribution name.
    pub(crate) dists: BTreeMap<String, DistOverride>,
    /// Additions to the native and bin maps (`[system.native]`, `[system.bin]`).
    pub(crate) system: SystemAdditions,
}

/// The changes for one distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DistOverride {
    /// Only releases by this auth (`zef:someone`) are considered.
    pub(crate) auth: Option<String>,
    /// Requests added to the runtime dependencies, after `drop_depends` is applied.
    pub(crate) extra_depends: Vec<DepSpec>,
    /// Requests with these names are removed from every phase before resolution.
    pub(crate) drop_depends: BTreeSet<String>,
    /// Test dependencies are ignored and the PKGBUILD has no `check()`.
    pub(crate) skip_check: bool,
    /// Held back with this reason.
    pub(crate) hold: Option<String>,
    /// Modules this distribution provides for every request, whoever else provides them
    /// (see `providers.rs`). No module is in two distributions' sets.
    pub(crate) provider_of: BTreeSet<String>,
}

impl Overrides {
    /// Every distribution the config file names (`publish.exclude` and `[dist."Name"]`).
    pub(super) fn named(&self) -> impl Iterator<Item = &String> {
        self.exclude.iter().chain(self.dists.keys())
    }

    /// Why the config file keeps `dist` from being planned at all, if it does. `selected_auth`
    /// is the auth of the release selection chose (which prefers the pinned auth).
    pub(super) fn hold_reason(&self, dist: &str, selected_auth: Option<&str>) -> Option<String> {
        let origin = escape_for_log(&self.origin);
        if self.exclude.contains(dist) {
            return Some(format!("excluded by publish.exclude in {origin}"));
        }
        let o = self.dists.get(dist)?;
        if let Some(reason) = &o.hold {
            return Some(format!("held by {origin}: {reason}"));
        }
        match &o.auth {
            Some(pinned) if selected_auth != Some(pinned.as_str()) => Some(format!(
                "{origin} pins auth {}, and the index has no release by it (the newest is by {})",
                escape_for_log(pinned),
                escape_for_log(selected_auth.unwrap_or("an unknown auth"))
            )),
            _ => None,
        }
    }

    /// The auth `dist` is pinned to, if any.
    pub(super) fn pinned_auth(&self, dist: &str) -> Option<&str> {
        self.dists.get(dist)?.auth.as_deref()
    }

    /// `phases` with the override for `dist` applied: dropped requests removed from every
    /// phase, test requests cleared under skip-check, extra requests appended to runtime.
    /// Borrowed as they are when `dist` has no override: the planner's hot path.
    pub(super) fn phases_for<'a>(&self, dist: &str, phases: &'a DepPhases) -> Cow<'a, DepPhases> {
        let Some(o) = self.dists.get(dist) else {
            return Cow::Borrowed(phases);
        };
        let keep = |list: &[DepSpec]| -> Vec<DepSpec> {
            list.iter()
                .filter_map(|spec| without(spec, &o.drop_depends))
                .collect()
        };
        let mut runtime = keep(&phases.runtime);
        for extra in &o.extra_depends {
            if !runtime.contains(extra) {
                runtime.push(extra.clone());
            }
        }
        Cow::Owned(DepPhases {
            runtime,
            build: keep(&phases.build),
            test: if o.skip_check {
                Vec::new()
            } else {
                keep(&phases.test)
            },
            recommends: keep(&phases.recommends),
        })
    }

    /// Whether the PKGBUILD of `dist` leaves out `check()`.
    pub(super) fn skip_check(&self, dist: &str) -> bool {
        self.dists.get(dist).is_some_and(|o| o.skip_check)
    }
}

/// `spec` without the requests named in `dropped`: `None` when nothing is left. An `any` keeps
/// its other alternatives, so dropping one of them makes the others the requirement.
fn without(spec: &DepSpec, dropped: &BTreeSet<String>) -> Option<DepSpec> {
    match spec {
        DepSpec::Module(request) => (!dropped.contains(&request.name)).then(|| spec.clone()),
        DepSpec::External(external) => {
            let name = match external {
                External::Native { name, .. }
                | External::Bin { name }
                | External::Perl5 { name }
                | External::Other { name, .. } => name,
            };
            (!dropped.contains(name)).then(|| spec.clone())
        }
        DepSpec::AnyOf(alternatives) => {
            let mut left: Vec<DepSpec> = alternatives
                .iter()
                .filter_map(|a| without(a, dropped))
                .collect();
            match left.len() {
                0 => None,
                1 => left.pop(),
                _ => Some(DepSpec::AnyOf(left)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> DepSpec {
        s.parse().unwrap()
    }

    fn overrides(dist: &str, o: DistOverride) -> Overrides {
        Overrides {
            origin: "/etc/raku-aur/config.toml".into(),
            dists: [(dist.to_string(), o)].into(),
            ..Overrides::default()
        }
    }

    #[test]
    fn drop_applies_to_every_phase_and_inside_any_then_extra_is_added() {
        let phases = DepPhases {
            runtime: vec![
                spec("Foo::Bar:ver<1+>"),
                spec("Keep"),
                DepSpec::AnyOf(vec![spec("Foo::Bar"), spec("Other")]),
                DepSpec::AnyOf(vec![spec("Foo::Bar"), spec("z:from<native>")]),
            ],
            build: vec![spec("Foo::Bar"), spec("Builder")],
            test: vec![spec("z:from<native>"), spec("Tester")],
            recommends: vec![spec("Foo::Bar")],
        };
        let o = overrides(
            "D",
            DistOverride {
                drop_depends: ["Foo::Bar".to_string(), "z".to_string()].into(),
                extra_depends: vec![spec("Foo::Bar:ver<2+>"), spec("Keep")],
                ..DistOverride::default()
            },
        );
        let got = o.phases_for("D", &phases);
        assert_eq!(
            got.runtime,
            vec![spec("Keep"), spec("Other"), spec("Foo::Bar:ver<2+>")]
        );
        assert_eq!(got.build, vec![spec("Builder")]);
        assert_eq!(got.test, vec![spec("Tester")]);
        assert!(got.recommends.is_empty());
        // Other distributions are untouched.
        assert!(matches!(o.phases_for("E", &phases), Cow::Borrowed(p) if *p == phases));
    }

    #[test]
    fn skip_check_clears_the_test_phase() {
        let phases = DepPhases {
            test: vec![spec("Tester")],
            ..DepPhases::default()
        };
        let o = overrides(
            "D",
            DistOverride {
                skip_check: true,
                ..DistOverride::default()
            },
        );
        assert!(o.phases_for("D", &phases).test.is_empty());
        assert!(o.skip_check("D"));
        assert!(!o.skip_check("E"));
    }

    #[test]
    fn hold_reasons_name_the_config_file() {
        let mut o = overrides(
            "Pinned",
            DistOverride {
                auth: Some("zef:me".into()),
                ..DistOverride::default()
            },
        );
        o.dists.insert(
            "Held".into(),
            DistOverride {
                hold: Some("breaks on rakudo 2026.01".into()),
                ..DistOverride::default()
            },
        );
        o.exclude.insert("Gone".into());
        let reason = |d, auth| o.hold_reason(d, auth);
        assert_eq!(reason("Pinned", Some("zef:me")), None);
        assert_eq!(
            reason("Pinned", Some("zef:other")).unwrap(),
            "/etc/raku-aur/config.toml pins auth zef:me, and the index has no release by it (the newest is by zef:other)"
        );
        assert_eq!(
            reason("Held", None).unwrap(),
            "held by /etc/raku-aur/config.toml: breaks on rakudo 2026.01"
        );
        assert_eq!(
            reason("Gone", None).unwrap(),
            "excluded by publish.exclude in /etc/raku-aur/config.toml"
        );
        assert_eq!(reason("Free", None), None);
    }
}
