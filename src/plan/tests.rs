use super::*;
use crate::index::parse_index;

fn releases(json: &str) -> Vec<Release> {
    let parsed = parse_index(json.as_bytes(), "test", 0).expect("test index parses");
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    parsed.releases
}

fn real(file: &str) -> Vec<Release> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    parse_index(&std::fs::read(path).unwrap(), file, 0)
        .unwrap()
        .releases
}

/// Plans everything, with nothing on the AUR and no overrides.
fn plan_all(releases: Vec<Release>) -> Plan {
    plan(releases, &[], &OnAur::default(), &Overrides::default()).expect("plans")
}

fn plan_of(json: &str) -> Plan {
    plan_all(releases(json))
}

fn package<'a>(plan: &'a Plan, pkgname: &str) -> &'a PlannedPackage {
    plan.packages
        .iter()
        .find(|p| p.pkgname.as_ref() == pkgname)
        .unwrap_or_else(|| panic!("{pkgname} not planned; held: {:?}", plan.held))
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

const URL: &str = r#""source-url":"https://example.org/x.tar.gz""#;

#[test]
fn the_highest_raku_version_wins_not_the_newest_release() {
    let p = plan_all(real("rea-sample.json"));
    let output = package(&p, "raku-test-output");
    assert_eq!(output.release.version.to_string(), "1.001006");
    assert_eq!(
        output.release.auth.as_deref(),
        Some("zef:raku-community-modules")
    );
    let class = package(&p, "raku-json-class");
    assert_eq!(class.release.auth.as_deref(), Some("zef:jonathanstowe"));
    // Raku's 0.21.0 and 0.21 are one version; the pkgver is their canonical form.
    assert_eq!(package(&p, "raku-json-fast").pkgver.to_string(), "0.21");
}

#[test]
fn colliding_names_are_both_held() {
    let p = plan_of(&format!(
        r#"[{{"name":"Foo::Bar","version":"1",{URL}}},{{"name":"Foo-Bar","version":"1",{URL}}}]"#
    ));
    assert!(p.packages.is_empty());
    assert_eq!(
        p.held,
        [
            Held {
                dist: "Foo-Bar:ver<1>".into(),
                reason: "package name raku-foo-bar collides with Foo::Bar".into()
            },
            Held {
                dist: "Foo::Bar:ver<1>".into(),
                reason: "package name raku-foo-bar collides with Foo-Bar".into()
            },
        ]
    );
}

#[test]
fn dependencies_resolve_through_names_and_provides_by_phase() {
    let p = plan_of(&format!(
        r#"[
        {{"name":"App","version":"1.0",{URL},
          "depends":{{"runtime":{{"requires":["Lib::Module","Test","NativeCall"],"recommends":["Opt"]}},
                      "build":{{"requires":["Builder"]}},"test":{{"requires":["Tester:ver<2.1+>"]}}}}}},
        {{"name":"Lib","version":"0.3",{URL},"provides":{{"Lib::Module":"lib/Lib/Module.rakumod"}}}},
        {{"name":"Builder","version":"1",{URL}}},
        {{"name":"Tester","version":"2.5",{URL}}},
        {{"name":"Opt","version":"1",{URL}}}
    ]"#
    ));
    let app = package(&p, "raku-app");
    assert_eq!(strings(&app.depends), ["raku-lib", "rakudo"]);
    assert_eq!(strings(&app.makedepends), ["raku-builder"]);
    assert_eq!(strings(&app.checkdepends), ["raku-tester>=2.1"]);
    assert_eq!(app.optdepends.len(), 1);
    assert_eq!(app.optdepends[0].0.to_string(), "raku-opt");
    assert_eq!(
        app.needs.iter().collect::<Vec<_>>(),
        ["Builder", "Lib", "Tester"]
    );
}

#[test]
fn a_pin_becomes_a_range_and_an_unmet_pin_holds() {
    let p = plan_of(&format!(
        r#"[
        {{"name":"A","version":"1",{URL},"depends":["Dep:ver<0.19>"]}},
        {{"name":"B","version":"1",{URL},"depends":["Dep:ver<0.18>"]}},
        {{"name":"Dep","version":"0.19.2",{URL}}}
    ]"#
    ));
    assert_eq!(
        strings(&package(&p, "raku-a").depends),
        ["raku-dep<0.20", "raku-dep>=0.19", "rakudo"]
    );
    assert_eq!(
        p.held,
        [Held {
            dist: "B:ver<1>".into(),
            reason: "needs Dep:ver<0.18>, but the newest Dep in the index is 0.19.2".into()
        }]
    );
}

/// Upstream went back from 2.0 to 1.9: the package will carry epoch 1, and bounds on it
/// must too, or pacman could never meet `raku-dep<1.10` with `1:1.9-1` and would take any
/// `1:…` for `raku-dep>=1.9`.
#[test]
fn bounds_on_our_packages_carry_their_epoch() {
    let json = format!(
        r#"[
        {{"name":"A","version":"1",{URL},"depends":["Dep:ver<1.9>"]}},
        {{"name":"B","version":"1",{URL},"depends":["Dep:ver<1.5+>"]}},
        {{"name":"Dep","version":"1.9",{URL}}}
    ]"#
    );
    let on_aur = OnAur {
        ours: [("raku-dep".to_string(), "2.0-3".parse().unwrap())].into(),
        ..OnAur::default()
    };
    let p = plan(releases(&json), &[], &on_aur, &Overrides::default()).unwrap();
    assert_eq!(
        strings(&package(&p, "raku-a").depends),
        ["raku-dep<1:1.10", "raku-dep>=1:1.9", "rakudo"]
    );
    assert_eq!(
        strings(&package(&p, "raku-b").depends),
        ["raku-dep>=1:1.5", "rakudo"]
    );
    assert_eq!(
        package(&p, "raku-dep").epoch,
        Some(alpm_types::Epoch::new(1))
    );
    // Without anything published there is no epoch to carry.
    assert_eq!(
        strings(&package(&plan_of(&json), "raku-a").depends),
        ["raku-dep<1.10", "raku-dep>=1.9", "rakudo"]
    );
}

#[test]
fn auth_and_api_must_match() {
    let p = plan_of(&format!(
        r#"[
        {{"name":"A","version":"1",{URL},"depends":["Dep:auth<zef:other>"]}},
        {{"name":"B","version":"1",{URL},"depends":["Dep:api<2>"]}},
        {{"name":"C","version":"1",{URL},"depends":["Dep:auth<zef:me>:api<1>"]}},
        {{"name":"Dep","version":"1","auth":"zef:me","api":"1",{URL}}}
    ]"#
    ));
    assert_eq!(
        strings(&package(&p, "raku-c").depends),
        ["raku-dep", "rakudo"]
    );
    let reasons: Vec<&str> = p.held.iter().map(|h| h.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "needs Dep:auth<zef:other>, but the index's Dep is by zef:me",
            "needs Dep:api<2>, but the index's Dep has api 1",
        ]
    );
}

#[test]
fn system_requirements_map_through_the_table_or_hold() {
    let p = plan_of(&format!(
        r#"[
        {{"name":"A","version":"1",{URL},"depends":["ssl:from<native>",{{"from":"bin","name":"perl"}}]}},
        {{"name":"B","version":"1",{URL},"depends":["nosuchlib:from<native>"]}},
        {{"name":"C","version":"1",{URL},"depends":[{{"any":["nosuchlib:from<native>","curl:from<native>"]}}]}}
    ]"#
    ));
    assert_eq!(
        strings(&package(&p, "raku-a").depends),
        ["openssl", "perl", "rakudo"]
    );
    assert_eq!(strings(&package(&p, "raku-c").depends), ["curl", "rakudo"]);
    // The review gate learns which dependencies are system packages, not Raku ones.
    assert_eq!(
        Vec::from_iter(&package(&p, "raku-a").system_deps),
        ["openssl", "perl"]
    );
    assert_eq!(p.held.len(), 1);
    assert_eq!(
        p.held[0].reason,
        "needs the native library nosuchlib, which is neither in data/system-packages.json nor in the config file's [system.native]"
    );
}

#[test]
fn system_dependencies_are_marked_in_every_phase_and_raku_ones_are_not() {
    let p = plan_of(&format!(
        r#"[
        {{"name":"App","version":"1",{URL},
          "depends":{{"runtime":{{"requires":["Lib"],"recommends":["dot:from<bin>"]}},
                      "build":{{"requires":["gcc:from<bin>"]}},
                      "test":{{"requires":["POSIX:from<Perl5>"]}}}}}},
        {{"name":"Lib","version":"1",{URL}}}
    ]"#
    ));
    assert_eq!(
        Vec::from_iter(&package(&p, "raku-app").system_deps),
        ["gcc", "graphviz", "perl"]
    );
    assert!(package(&p, "raku-lib").system_deps.is_empty());
}

#[test]
fn holding_back_is_transitive_and_says_why() {
    let p = plan_of(&format!(
        r#"[
        {{"name":"Top","version":"1",{URL},"depends":["Mid"]}},
        {{"name":"Mid","version":"1",{URL},"test-depends":["Bottom"]}},
        {{"name":"Bottom","version":"*",{URL}}},
        {{"name":"Git","version":"1","source-url":"git://github.com/x/Git.git"}},
        {{"name":"Missing","version":"1",{URL},"depends":["No::Such::Module"]}}
    ]"#
    ));
    assert!(
        p.packages.is_empty(),
        "{:?}",
        p.packages.iter().map(|p| &p.pkgname).collect::<Vec<_>>()
    );
    let held: Vec<(String, String)> = p
        .held
        .iter()
        .map(|h| (h.dist.clone(), h.reason.clone()))
        .collect();
    assert_eq!(held.len(), 5);
    assert_eq!(held[1].0, "Git:ver<1>");
    assert_eq!(held[1].1, "its index entry has no source tarball");
    assert_eq!(
        held[2],
        (
            "Mid:ver<1>".into(),
            "needs raku-bottom, which is held back".into()
        )
    );
    assert_eq!(
        held[3],
        (
            "Missing:ver<1>".into(),
            "needs No::Such::Module, which no distribution in the index provides".into()
        )
    );
    assert_eq!(
        held[4],
        (
            "Top:ver<1>".into(),
            "needs raku-mid, which is held back".into()
        )
    );
    assert!(held[0].0.starts_with("Bottom:ver<*>"), "{:?}", held[0]);
}

#[test]
fn existing_aur_packages_replace_ours() {
    let existing: BTreeMap<String, ExistingPackage> = [(
        "Dep".to_string(),
        ExistingPackage {
            pkgname: Name::new("perl6-dep").unwrap(),
            version: Some("0.5-2".parse().unwrap()),
        },
    )]
    .into();
    let p = plan(
        releases(&format!(
            r#"[
            {{"name":"A","version":"1",{URL},"depends":["Dep:ver<0.4+>"]}},
            {{"name":"B","version":"1",{URL},"depends":["Dep:ver<0.6+>"]}},
            {{"name":"Dep","version":"0.7",{URL}}}
        ]"#
        )),
        &[],
        &OnAur {
            existing: existing.clone(),
            ..OnAur::default()
        },
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        strings(&package(&p, "raku-a").depends),
        ["perl6-dep>=0.4", "rakudo"]
    );
    assert!(p.packages.iter().all(|p| p.pkgname.as_ref() != "raku-dep"));
    assert_eq!(
        p.covered,
        [Covered {
            dist: "Dep:ver<0.7>".into(),
            by: "perl6-dep".into(),
            name: "Dep".into(),
            newest: Some(PackageVersion::new("0.7".into()).unwrap()),
        }]
    );
    assert_eq!(p.held.len(), 1);
    assert!(
        p.held[0].reason.contains("not met by 0.5-2"),
        "{}",
        p.held[0].reason
    );
}

#[test]
fn only_selects_a_closure() {
    let p = plan(
        real("rea-sample.json"),
        &["Cro::HTTP".to_string()],
        &OnAur::default(),
        &Overrides::default(),
    )
    .unwrap();
    let names: Vec<&str> = p.packages.iter().map(|p| p.pkgname.as_ref()).collect();
    assert!(names.contains(&"raku-cro-http"));
    assert!(names.contains(&"raku-cro-core"));
    assert!(!names.contains(&"raku-text-csv"));
    assert_eq!(
        plan(
            real("rea-sample.json"),
            &["No::Such".to_string()],
            &OnAur::default(),
            &Overrides::default()
        )
        .unwrap_err(),
        PlanError::UnknownOnly("No::Such".into())
    );
}

#[test]
fn input_order_does_not_matter() {
    let mut forward = real("rea-sample.json");
    forward.extend(real("rea-pages.json"));
    let mut backward = forward.clone();
    backward.reverse();
    let summary = |p: Plan| -> (Vec<String>, Vec<Held>) {
        (
            p.packages
                .iter()
                .map(|p| {
                    format!(
                        "{} {} {:?} {:?}",
                        p.pkgname,
                        p.pkgver,
                        strings(&p.depends),
                        strings(&p.checkdepends)
                    )
                })
                .collect(),
            p.held,
        )
    };
    let a = summary(plan_all(forward));
    let b = summary(plan_all(backward));
    assert_eq!(a, b);
}

#[test]
fn the_closed_sample_plans_with_a_short_true_held_list() {
    let p = plan_all(real("rea-sample.json"));
    let held: Vec<String> = p
        .held
        .iter()
        .map(|h| format!("{}: {}", h.dist, h.reason))
        .collect();
    // The sample is closed over dependencies, so only genuinely unpackageable releases may
    // be held: NativeCall::TypeDiag's version is `*`, and DBIish needs it.
    assert_eq!(
        held,
        [
            "DBIish:ver<0.6.9>:auth<zef:raku-community-modules>:api<1>: needs raku-nativecall-typediag, which is held back",
            "NativeCall::TypeDiag:ver<*>:auth<github:Skarsnik>: version `*` has a `*` part, which no single pkgver can stand for",
        ]
    );
    assert_eq!(p.packages.len(), 59, "61 names, minus the two held back");
}

fn plan_with(json: &str, overrides: &Overrides) -> Plan {
    plan(releases(json), &[], &OnAur::default(), overrides).expect("plans")
}

fn reason_for<'a>(plan: &'a Plan, dist_prefix: &str) -> &'a str {
    plan.held
        .iter()
        .find(|h| h.dist.starts_with(dist_prefix))
        .map(|h| h.reason.as_str())
        .unwrap_or_else(|| panic!("{dist_prefix} not held: {:?}", plan.held))
}

fn with_dist(dist: &str, o: DistOverride) -> Overrides {
    Overrides {
        origin: "cfg.toml".into(),
        dists: [(dist.to_string(), o)].into(),
        ..Overrides::default()
    }
}

#[test]
fn an_auth_pin_selects_that_auth_even_over_a_newer_release() {
    let json = format!(
        r#"[
        {{"name":"A","version":"2","auth":"zef:new",{URL}}},
        {{"name":"A","version":"1","auth":"zef:old",{URL}}},
        {{"name":"B","version":"1","auth":"zef:x",{URL},"depends":["A"]}}
    ]"#
    );
    assert_eq!(
        package(&plan_of(&json), "raku-a").release.auth.as_deref(),
        Some("zef:new")
    );
    let pin = |auth: &str| {
        with_dist(
            "A",
            DistOverride {
                auth: Some(auth.into()),
                ..DistOverride::default()
            },
        )
    };
    let p = plan_with(&json, &pin("zef:old"));
    assert_eq!(
        package(&p, "raku-a").release.auth.as_deref(),
        Some("zef:old")
    );
    let p = plan_with(&json, &pin("zef:nobody"));
    assert_eq!(
        reason_for(&p, "A:"),
        "cfg.toml pins auth zef:nobody, and the index has no release by it (the newest is by zef:new)"
    );
    assert_eq!(reason_for(&p, "B:"), "needs raku-a, which is held back");
    assert!(p.packages.is_empty());
}

#[test]
fn exclude_and_hold_hold_dependents_too() {
    let json = format!(
        r#"[
        {{"name":"A","version":"1",{URL}}},
        {{"name":"B","version":"1",{URL},"depends":["A"]}},
        {{"name":"C","version":"1",{URL}}}
    ]"#
    );
    let mut o = with_dist(
        "C",
        DistOverride {
            hold: Some("waiting for upstream".into()),
            ..DistOverride::default()
        },
    );
    o.exclude.insert("A".into());
    let p = plan_with(&json, &o);
    assert!(p.packages.is_empty(), "{:?}", p.packages);
    assert_eq!(
        reason_for(&p, "A:"),
        "excluded by publish.exclude in cfg.toml"
    );
    assert_eq!(reason_for(&p, "B:"), "needs raku-a, which is held back");
    assert_eq!(
        reason_for(&p, "C:"),
        "held by cfg.toml: waiting for upstream"
    );
}

#[test]
fn dropped_extra_and_skipped_requests_change_the_dependencies() {
    let json = format!(
        r#"[
        {{"name":"A","version":"1",{URL},
          "depends":["Missing::Thing", "B:ver<9+>"],
          "test-depends":["Tester"]}},
        {{"name":"B","version":"1.5",{URL}}},
        {{"name":"C","version":"1",{URL}}}
    ]"#
    );
    let p = plan_of(&json);
    assert!(reason_for(&p, "A:").contains("Missing::Thing"));
    let o = with_dist(
        "A",
        DistOverride {
            drop_depends: ["Missing::Thing".to_string(), "B".to_string()].into(),
            extra_depends: vec![
                "B:ver<1.2+>".parse().unwrap(),
                "C".parse().unwrap(),
                "curl:from<bin>".parse().unwrap(),
            ],
            skip_check: true,
            ..DistOverride::default()
        },
    );
    let p = plan_with(&json, &o);
    let a = package(&p, "raku-a");
    assert_eq!(
        strings(&a.depends),
        ["curl", "raku-b>=1.2", "raku-c", "rakudo"]
    );
    assert!(a.checkdepends.is_empty());
    assert!(a.skip_check);
    assert!(
        a.notes
            .contains(&"no check(): cfg.toml sets skip-check".to_string()),
        "{:?}",
        a.notes
    );
    assert_eq!(
        a.needs,
        ["B".to_string(), "C".to_string()].into_iter().collect()
    );
}

#[test]
fn system_additions_map_native_and_bin_requests() {
    let json = format!(
        r#"[{{"name":"A","version":"1",{URL},
          "depends":["mylib:from<native>", "mytool:from<bin>"]}}]"#
    );
    let p = plan_of(&json);
    assert!(
        reason_for(&p, "A:").contains("neither in data/system-packages.json"),
        "{:?}",
        p.held
    );
    let name = |s: &str| Name::new(s).unwrap();
    let o = Overrides {
        system: system::SystemAdditions {
            native: [("mylib".to_string(), name("libmylib"))].into(),
            bin: [("mytool".to_string(), name("mytool-bin"))].into(),
        },
        ..Overrides::default()
    };
    let p = plan_with(&json, &o);
    assert_eq!(
        strings(&package(&p, "raku-a").depends),
        ["libmylib", "mytool-bin", "rakudo"]
    );
}

#[test]
fn names_the_config_file_has_but_the_index_lacks_are_reported() {
    let json = format!(r#"[{{"name":"A","version":"1","auth":"zef:x",{URL}}}]"#);
    let mut o = with_dist("Json::Fast", DistOverride::default());
    o.exclude = ["A".to_string(), "Gone::Upstream".to_string()].into();
    let p = plan_with(&json, &o);
    assert_eq!(p.unknown_in_config, ["Gone::Upstream", "Json::Fast"]);
    // A typo is reported, it does not stop the plan.
    assert!(p.held.iter().any(|h| h.dist.starts_with("A:")));
    assert!(plan_of(&json).unknown_in_config.is_empty());
}

mod providers;
