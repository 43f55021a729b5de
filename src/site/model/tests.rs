use super::*;
use crate::plan::{ExistingPackage, OnAur, Overrides};
use crate::review::queue::Entry;
use crate::sync::Push;
use crate::tarball::TarballFacts;

const ARCHIVE: &str = "https://raw.githubusercontent.com/raku/REA/main/archive";

fn entry(name: &str, version: &str, depends: &[&str], date: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name, "version": version, "depends": depends, "release-date": date,
        "description": format!("<script>window.pwned=1</script> {name}"),
        "license": "Artistic-2.0",
        "source-url": format!("{ARCHIVE}/{}.tar.gz", name.replace("::", "-")),
    })
}

/// Plans and renders `entries` (in their order), with `Stand::In` on the AUR.
fn world(entries: &[serde_json::Value]) -> (Plan, Vec<Rendered>) {
    let json = serde_json::to_vec(entries).unwrap();
    let parsed = crate::index::parse_index(&json, "test", 0).unwrap();
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let on_aur = OnAur {
        existing: [(
            "Stand::In".to_string(),
            ExistingPackage {
                pkgname: alpm_types::Name::new("perl6-stand-in").unwrap(),
                version: None,
            },
        )]
        .into(),
        ..OnAur::default()
    };
    let mut plan = crate::plan::plan(parsed.releases, &[], &on_aur, &Overrides::default()).unwrap();
    let facts = plan
        .packages
        .iter()
        .map(|p| {
            let facts = TarballFacts {
                sha256: "0".repeat(64),
                top_dir: "top".into(),
                bin_scripts: Vec::new(),
                has_tests: false,
                license_files: Vec::new(),
                skipped_names: Vec::new(),
            };
            (p.source_url.clone(), Ok(facts))
        })
        .collect();
    let rendered = crate::pipeline::render_planned(
        &mut plan,
        &facts,
        "Someone <someone@example.org>",
        &BTreeMap::new(),
    )
    .unwrap();
    (plan, rendered)
}

fn entries() -> Vec<serde_json::Value> {
    vec![
        entry("Base", "1.0", &[], "2024-01-02"),
        entry("Mid", "2.0", &["Base"], "2024-02-03T10:00:00Z"),
        entry("Top", "3.0", &["Mid"], "not a date"),
        entry("Gated", "1.0", &[], "2024-03-04"),
        entry("Broken", "1.0", &[], "2024-03-04"),
        entry("Flaky", "1.0", &[], "2024-03-04"),
        entry("Uses::Stand", "1.0", &["Stand::In"], "2024-03-04"),
        entry("Stand::In", "9.0", &[], "2024-03-04"),
        serde_json::json!({"name": "No::Tarball", "version": "1"}),
    ]
}

fn published(rendered: &[Rendered], pkgbase: &str, pushes: Vec<Push>) -> (String, Published) {
    let r = rendered
        .iter()
        .find(|r| r.model.pkgname.as_ref() == pkgbase)
        .unwrap();
    let record = Published {
        input_digest: crate::render::digest(&r.pkgbuild, &r.srcinfo),
        commit: "c1".into(),
        scripts: Vec::new(),
        pkgver: Some(r.model.pkgver.to_string()),
        pushes,
    };
    (pkgbase.to_string(), record)
}

fn row<'s>(site: &'s Site, dist: &str) -> &'s Row {
    site.rows
        .iter()
        .find(|r| r.dist.starts_with(dist))
        .unwrap_or_else(|| panic!("no row for {dist}: {:#?}", site.rows))
}

#[test]
fn each_distribution_gets_one_row_with_its_state_and_why() {
    let (plan, rendered) = world(&entries());
    let push = Push {
        pkgver: "1.0".into(),
        commit: "c1".into(),
        message: "Update to 1.0".into(),
        // 2024-05-06 12:00 UTC
        at: 1_714_996_800,
    };
    let mut flaky_old = published(&rendered, "raku-flaky", Vec::new());
    flaky_old.1.input_digest = "an older input".into();
    let published_records: BTreeMap<String, Published> = [
        published(&rendered, "raku-base", vec![push.clone()]),
        published(&rendered, "raku-broken", Vec::new()),
        flaky_old,
    ]
    .into();
    let queue: BTreeMap<String, Entry> = [(
        "raku-gated".to_string(),
        Entry {
            pkgbase: "raku-gated".into(),
            pkgver: "1.0".into(),
            message: "Update to 1.0".into(),
            reasons: Vec::new(),
            diff: "+pkgver=1.0".into(),
            input_digest: "d".into(),
            files_digest: "f".into(),
            decision: Verdict::Pending,
        },
    )]
    .into();
    let builds: BTreeMap<String, Build> = [
        (
            "raku-broken".to_string(),
            Build {
                version: "1:1.0-2".into(),
                failed: true,
            },
        ),
        // An older version's failure says nothing about the current one.
        (
            "raku-base".to_string(),
            Build {
                version: "0.9-1".into(),
                failed: true,
            },
        ),
    ]
    .into();
    let last_run: BTreeMap<String, LastRun> = [(
        "raku-flaky".to_string(),
        LastRun {
            status: PackageStatus::Failed,
            detail: "the server hung up".into(),
        },
    )]
    .into();
    let stand_ins: BTreeMap<String, AurFacts> = [(
        "Stand::In".to_string(),
        AurFacts {
            name: "perl6-stand-in".into(),
            version: "8.0-2".into(),
            maintainer: None,
            // 2021-03-04
            out_of_date: Some(1_614_816_000),
            last_modified: None,
            votes: 3,
            popularity: 0.1,
        },
    )]
    .into();
    let site = assemble(&Inputs {
        plan: &plan,
        rendered: &rendered,
        published: &published_records,
        queue: &queue,
        builds: &builds,
        last_run: &last_run,
        stand_ins: &stand_ins,
    });

    let dists: Vec<&str> = site.rows.iter().map(|r| r.dist.as_str()).collect();
    assert_eq!(
        dists,
        [
            "Base",
            "Broken",
            "Flaky",
            "Gated",
            "Mid",
            "No::Tarball:ver<1>",
            "Stand::In:ver<9.0>",
            "Top",
            "Uses::Stand"
        ]
    );
    let base = row(&site, "Base");
    assert_eq!(
        (
            base.state,
            base.published.as_deref(),
            base.upstream.as_deref()
        ),
        (State::Published, Some("1.0"), Some("1.0"))
    );
    assert_eq!(
        base.changed.as_deref(),
        Some("2024-05-06"),
        "the push's day"
    );
    assert_eq!(base.log, None);
    assert_eq!(base.required_by, ["raku-mid"]);
    let mid = row(&site, "Mid");
    assert_eq!(mid.state, State::Pending, "{mid:?}");
    assert_eq!(
        mid.changed.as_deref(),
        Some("2024-02-03"),
        "the release's day"
    );
    assert_eq!(mid.aur, None, "not on the AUR: no link");
    assert!(
        mid.depends.contains(&Dep {
            relation: "raku-base".into(),
            page: Some("raku-base".into())
        }),
        "{:?}",
        mid.depends
    );
    let top = row(&site, "Top");
    assert_eq!(top.state, State::Waiting);
    assert_eq!(
        top.reason,
        "needs raku-mid (not yet published), not on the AUR yet"
    );
    assert_eq!(top.changed, None);
    let broken = row(&site, "Broken");
    assert_eq!(broken.state, State::BuildFailed);
    assert_eq!(broken.log.as_deref(), Some("1:1.0-2"));
    let flaky = row(&site, "Flaky");
    assert_eq!(
        (flaky.state, flaky.reason.as_str()),
        (State::Failed, "the server hung up")
    );
    assert_eq!(row(&site, "Gated").state, State::Review);
    let held = row(&site, "No::Tarball");
    assert_eq!((held.state, held.pkgbase.as_deref()), (State::Held, None));
    assert!(held.reason.contains("no source tarball"), "{}", held.reason);
    let covered = row(&site, "Stand::In");
    assert_eq!(
        (covered.state, covered.aur.as_deref()),
        (State::Covered, Some("perl6-stand-in"))
    );
    // What the AUR says of it, beside upstream's newest.
    assert_eq!(
        (covered.published.as_deref(), covered.upstream.as_deref()),
        (Some("8.0-2"), Some("9.0"))
    );
    assert_eq!(
        covered.reason,
        "the AUR package perl6-stand-in ships it (orphaned; flagged out of date on 2021-03-04)"
    );
    let uses = row(&site, "Uses::Stand");
    assert!(
        uses.depends
            .iter()
            .any(|d| d.relation == "perl6-stand-in" && d.page.is_none()),
        "{:?}",
        uses.depends
    );

    let count = |s: State| site.counts.iter().find(|c| c.state == s).unwrap().count;
    assert_eq!(count(State::Published), 1);
    assert_eq!(count(State::Pending), 2, "Mid and Uses::Stand");
    assert_eq!(
        site.counts.iter().map(|c| c.count).sum::<usize>(),
        site.rows.len()
    );

    let pages: Vec<&str> = site
        .pages
        .iter()
        .map(|p| site.rows[p.row].pkgbase.as_deref().unwrap())
        .collect();
    assert_eq!(
        pages,
        [
            "raku-base",
            "raku-broken",
            "raku-flaky",
            "raku-gated",
            "raku-mid",
            "raku-top",
            "raku-uses-stand"
        ]
    );
    let page = |name: &str| {
        site.pages
            .iter()
            .find(|p| site.rows[p.row].pkgbase.as_deref() == Some(name))
            .unwrap()
    };
    assert_eq!(page("raku-gated").diff.as_deref(), Some("+pkgver=1.0"));
    assert_eq!(page("raku-base").diff, None);
    assert_eq!(page("raku-base").pushes[0].message, "Update to 1.0");
    assert!(page("raku-base").pkgbuild.contains("pkgname=raku-base"));
}

#[test]
fn the_same_state_in_any_order_is_the_same_site() {
    let mut shuffled = entries();
    let (plan, rendered) = world(&shuffled);
    shuffled.reverse();
    shuffled.swap(0, 3);
    let (plan2, rendered2) = world(&shuffled);
    let none = BTreeMap::new();
    let (queue, builds, last_run) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let site = |plan, rendered| {
        assemble(&Inputs {
            plan,
            rendered,
            published: &none,
            queue: &queue,
            builds: &builds,
            last_run: &last_run,
            stand_ins: &BTreeMap::new(),
        })
    };
    assert_eq!(site(&plan, &rendered), site(&plan2, &rendered2));
}

#[test]
fn dates_are_utc_days() {
    assert_eq!(date_of(0), "1970-01-01");
    assert_eq!(date_of(951_782_400), "2000-02-29");
    assert_eq!(date_of(1_714_996_800 + 43_199), "2024-05-06");
    assert_eq!(date_of(1_715_040_000), "2024-05-07");
    assert_eq!(
        day_of("2024-02-03T10:00:00Z").as_deref(),
        Some("2024-02-03")
    );
    assert_eq!(day_of("soon"), None);
    assert_eq!(day_of("2024/02/03"), None);
}
