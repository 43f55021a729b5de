//! The choice among several distributions that provide one module (`providers.rs`).

use super::*;

/// An index entry with a source tarball.
fn entry(name: &str, version: &str, auth: &str, date: Option<&str>, extra: &str) -> String {
    let date = date.map_or(String::new(), |d| format!(r#","release-date":"{d}""#));
    format!(r#"{{"name":"{name}","version":"{version}","auth":"{auth}"{date},{URL}{extra}}}"#)
}

fn provides(modules: &[&str]) -> String {
    let list: Vec<String> = modules
        .iter()
        .map(|m| format!(r#""{m}":"lib/{m}.rakumod""#))
        .collect();
    format!(r#","provides":{{{}}}"#, list.join(","))
}

fn needs(module: &str) -> String {
    format!(r#","depends":["{module}"]"#)
}

fn index(entries: &[String]) -> String {
    format!("[{}]", entries.join(","))
}

/// The package names `pkgname` depends on, without rakudo.
fn depends_of(plan: &Plan, pkgname: &str) -> Vec<String> {
    strings(&package(plan, pkgname).depends)
        .into_iter()
        .filter(|d| d != "rakudo")
        .collect()
}

/// `URI::Old` has provided `URI::Escape` since 2016; `AAA::Squat` arrives in 2026, sorts
/// first, provides it too at a higher version, and claims more.
fn with_newcomer(newcomer_date: Option<&str>) -> Vec<String> {
    vec![
        entry(
            "App",
            "1",
            "zef:app",
            Some("2026-01-02"),
            &needs("URI::Escape"),
        ),
        entry(
            "URI::Old",
            "0.1",
            "zef:old",
            Some("2016-03-01"),
            &provides(&["URI::Escape"]),
        ),
        entry(
            "URI::Old",
            "0.2",
            "zef:old",
            Some("2025-12-01"),
            &provides(&["URI::Escape"]),
        ),
        entry(
            "AAA::Squat",
            "99",
            "zef:squat",
            newcomer_date,
            &provides(&["URI::Escape"]),
        ),
    ]
}

#[test]
fn a_newcomer_that_sorts_first_does_not_take_a_module() {
    // Its first release is later, it has no date, or a date that is not a day.
    for date in [
        Some("2026-01-01"),
        None,
        Some("0"),
        Some(""),
        Some("2015-13-01"),
    ] {
        let p = plan_of(&index(&with_newcomer(date)));
        assert_eq!(depends_of(&p, "raku-app"), ["raku-uri-old"], "{date:?}");
    }
    // Without the long-standing provider, the newcomer is the only one there is.
    let mut entries = with_newcomer(None);
    entries.retain(|e| !e.contains("URI::Old"));
    let p = plan_of(&index(&entries));
    assert_eq!(depends_of(&p, "raku-app"), ["raku-aaa-squat"]);
}

#[test]
fn history_counts_from_the_first_release_of_the_name() {
    // The selected URI::Old (0.2, 2025) is newer than the rival's first release (2020), but
    // its name has been in the index since 2016.
    let mut entries = with_newcomer(None);
    entries.push(entry(
        "Rival",
        "1",
        "zef:rival",
        Some("2020-05-05"),
        &provides(&["URI::Escape"]),
    ));
    let p = plan_of(&index(&entries));
    assert_eq!(depends_of(&p, "raku-app"), ["raku-uri-old"]);
    entries.retain(|e| !e.contains(r#""version":"0.1""#));
    let p = plan_of(&index(&entries));
    assert_eq!(depends_of(&p, "raku-app"), ["raku-rival"]);
}

#[test]
fn the_requesters_own_auth_and_the_module_s_own_name_come_first() {
    let entries = vec![
        entry(
            "Mine",
            "1",
            "zef:me",
            Some("2026-01-01"),
            &needs("Util::Thing"),
        ),
        entry(
            "Theirs",
            "1",
            "zef:them",
            Some("2026-01-01"),
            &needs("Util::Thing"),
        ),
        entry("Uses::Named", "1", "zef:me", None, &needs("Named")),
        entry(
            "Old::Util",
            "1",
            "zef:them",
            Some("2016-01-01"),
            &provides(&["Util::Thing", "Named"]),
        ),
        entry(
            "My::Util",
            "1",
            "zef:me",
            Some("2025-01-01"),
            &provides(&["Util::Thing", "Named"]),
        ),
        entry("Named", "1", "zef:other", Some("2026-01-01"), ""),
    ];
    let p = plan_of(&index(&entries));
    assert_eq!(depends_of(&p, "raku-mine"), ["raku-my-util"]);
    assert_eq!(depends_of(&p, "raku-theirs"), ["raku-old-util"]);
    // The distribution of that very name wins over the requester's auth and over history.
    assert_eq!(depends_of(&p, "raku-uses-named"), ["raku-named"]);
}

#[test]
fn a_candidate_that_does_not_meet_the_request_is_passed_over() {
    let mut entries = with_newcomer(None);
    entries[0] = entry("App", "1", "zef:app", None, &needs("URI::Escape:ver<50+>"));
    let p = plan_of(&index(&entries));
    assert_eq!(depends_of(&p, "raku-app"), ["raku-aaa-squat>=50.0"]);
}

#[test]
fn the_config_names_the_provider() {
    let json = index(&with_newcomer(None));
    let chosen = |dist: &str, modules: &[&str]| {
        let o = with_dist(
            dist,
            DistOverride {
                provider_of: modules.iter().map(ToString::to_string).collect(),
                ..DistOverride::default()
            },
        );
        plan_with(&json, &o)
    };
    let p = chosen("AAA::Squat", &["URI::Escape"]);
    assert_eq!(depends_of(&p, "raku-app"), ["raku-aaa-squat"]);
    assert!(p.pins_not_provided.is_empty());

    // A module the named distribution does not provide is reported, as a typo would be.
    let p = chosen("URI::Old", &["URI::Escapes", "URI::Escape"]);
    assert_eq!(depends_of(&p, "raku-app"), ["raku-uri-old"]);
    assert_eq!(
        p.pins_not_provided,
        [("URI::Escapes".to_string(), "URI::Old".to_string())]
    );
    // ... and a request for it is held, not given to another provider by the rule.
    let p = chosen("App", &["URI::Escape"]);
    assert_eq!(
        p.pins_not_provided,
        [("URI::Escape".to_string(), "App".to_string())]
    );
    assert_eq!(
        reason_for(&p, "App:"),
        "needs URI::Escape, which cfg.toml says App provides (provider-of), but the index's App does not"
    );
    let o = with_dist(
        "Gone",
        DistOverride {
            provider_of: ["URI::Escape".to_string()].into(),
            ..DistOverride::default()
        },
    );
    let p = plan_with(&json, &o);
    assert_eq!(
        reason_for(&p, "App:"),
        "needs URI::Escape, which cfg.toml says Gone provides (provider-of), but the index's Gone does not"
    );
    // Gone is reported as a distribution the index lacks, not twice.
    assert_eq!(p.unknown_in_config, ["Gone"]);
    assert!(p.pins_not_provided.is_empty());
}

#[test]
fn provider_choice_does_not_depend_on_input_order() {
    let mut entries = with_newcomer(None);
    entries.push(entry(
        "Rival",
        "1",
        "zef:rival",
        None,
        &provides(&["URI::Escape"]),
    ));
    entries.push(entry(
        "Same::Day",
        "1",
        "zef:day",
        Some("2016-03-01"),
        &provides(&["URI::Escape"]),
    ));
    entries.push(entry("Mine", "1", "zef:rival", None, &needs("URI::Escape")));
    let summary = |entries: &[String]| {
        let p = plan_of(&index(entries));
        (depends_of(&p, "raku-app"), depends_of(&p, "raku-mine"))
    };
    // A tie on history goes to the name; the requester's auth goes first.
    let expected = (
        vec!["raku-same-day".to_string()],
        vec!["raku-rival".to_string()],
    );
    // Every rotation, forwards and backwards.
    for turn in 0..entries.len() {
        let mut order = entries.clone();
        order.rotate_left(turn);
        assert_eq!(summary(&order), expected, "rotated by {turn}");
        order.reverse();
        assert_eq!(summary(&order), expected, "reversed, rotated by {turn}");
    }
}

#[test]
fn in_the_real_data_undated_providers_lose_to_dated_ones() {
    let mut releases = Vec::new();
    for (rank, file) in [
        "rea-sample.json",
        "rea-pages.json",
        "p6c-2023-03.json",
        "cpan-2023-03.json",
    ]
    .iter()
    .enumerate()
    {
        let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
        releases.extend(
            parse_index(&std::fs::read(path).unwrap(), file, rank)
                .unwrap()
                .releases,
        );
    }
    let first = crate::plan::providers::first_releases(&releases);
    let overrides = Overrides::default();
    let selected = select::select(releases, &overrides);
    let providers = crate::plan::providers::Providers::new(&selected, &first, &overrides);
    // Modules that two selected distributions provide, neither of them named like it.
    let mut chosen = BTreeMap::new();
    for release in selected.values() {
        for module in release
            .provides
            .iter()
            .filter(|m| !selected.contains_key(*m))
        {
            let candidates = providers.candidates(module, None).unwrap();
            if candidates.len() > 1 {
                chosen.insert(module.as_str(), candidates[0]);
            }
        }
    }
    let module2rpm = [
        "Archive::Tar",
        "Cro::Client",
        "Download::Git",
        "Helper",
        "Package",
        "Role::Archive",
        "Role::Download",
        "Role::Internet",
        "Upload::OBS",
    ]
    .map(|m| format!("Module2Rpm::{m}"));
    let mut expected: BTreeMap<&str, &str> = module2rpm
        .iter()
        .map(|m| (m.as_str(), "Module2Rpm"))
        .collect();
    // Neither has a release date (p6c, cpan): name order, as before.
    expected.insert("DB::RSCS", "Context");
    // HTTP::UserAgent is in REA since 2017; HTTP::Headers (cpan) has no date. Name order
    // chose HTTP::Headers.
    expected.insert("HTTP::Header", "HTTP::UserAgent");
    assert_eq!(chosen, expected);
}
