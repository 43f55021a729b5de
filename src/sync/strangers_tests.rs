//! Property test: nothing strangers write can make a sync panic. Random, huge and malformed
//! names, versions and relation strings — in index entries, in the AUR's metadata, and in the
//! `.SRCINFO` an AUR repository holds — go through the pure steps of a sync in its order:
//! parse the index and the metadata; plan with the AUR's packages standing in; hold what is
//! taken or dangling; render; then decide pkgrel and epoch against the published tip.
//!
//! The names are drawn mostly from a small pool, so that index entries, AUR packages and
//! dependencies meet: a distribution `Foo::Bar` is `raku-foo-bar`, and the AUR may hold
//! `perl6-foo-bar`, `raku-foo-bar` or `foo-bar`, or provide them.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::aur::AurMetadata;
use crate::aur_tip::PublishedPackage;
use crate::pkgrel;
use crate::render::{self, Files};
use crate::tarball::TarballFacts;

const BOT: &str = "raku-aur-bot";
const DISTS: [&str; 6] = ["Foo", "Foo::Bar", "JSON::Fast", "zef", "A::B", "Baz"];
const STEMS: [&str; 6] = ["foo", "foo-bar", "json-fast", "zef", "a-b", "baz"];
const HUGE: &str = "100000000000000000000000";

/// Text that is anything at all, or has the characters that break parsers and terminals.
fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,12}",
        "[\\x00-\\x1f\u{202e}\u{2028}:<>=*+.-]{0,6}",
    ]
}

/// A number as a version part: small, at the edges of the integer types, or far beyond.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[0-9]{1,3}",
        1 => "[0-9]{18,30}",
        1 => "0{5,30}[0-9]{1,2}",
        1 => prop::sample::select(vec![
            usize::MAX.to_string(),
            format!("{}1", usize::MAX),
            i64::MAX.to_string(),
            "9223372036854775808".to_string(),
            HUGE.to_string(),
        ]),
    ]
}

/// A version as upstream, a pattern or a pkgver might write it: mostly plain, sometimes with
/// huge numbers, letters, `*` or odd separators, sometimes anything.
fn version() -> impl Strategy<Value = String> {
    let plain = "[0-9]{1,2}(\\.[0-9]{1,3}){0,3}\\+?";
    let numbers = prop::collection::vec(number(), 1..4).prop_map(|parts| parts.join("."));
    let part = prop_oneof![
        4 => number(),
        1 => "[a-z]{1,5}",
        1 => Just("*".to_string()),
        1 => "[\u{660}-\u{669}\u{b2}]{1,3}",
    ];
    let mixed = prop::collection::vec((part, "[._:+-]?"), 1..5)
        .prop_map(|parts| parts.into_iter().map(|(p, sep)| p + &sep).collect());
    prop_oneof![8 => plain, 2 => numbers, 2 => mixed, 1 => garbage()]
}

/// A full AUR version, `[epoch:]pkgver-pkgrel`, mostly; sometimes anything.
fn aur_version() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => ("[0-9]{1,2}(\\.[0-9]{1,3}){0,2}", "[1-9]").prop_map(|(v, r)| format!("{v}-{r}")),
        2 => (prop::option::of(number()), version(), number())
            .prop_map(|(e, v, r)| format!("{}{v}-{r}", e.map(|e| e + ":").unwrap_or_default())),
        1 => version(),
    ]
}

fn dist_name() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => prop::sample::select(DISTS.to_vec()).prop_map(String::from),
        1 => "[A-Za-z][A-Za-z0-9]{0,5}(::[A-Za-z0-9]{1,5}){0,2}",
        1 => garbage(),
    ]
}

/// A dependency request as META6 writes it.
fn request() -> impl Strategy<Value = Value> {
    let adverb = prop_oneof![
        4 => version().prop_map(|v| format!(":ver<{v}>")),
        1 => version().prop_map(|v| format!(":api<{v}>")),
        1 => garbage().prop_map(|a| format!(":auth<{a}>")),
        1 => Just(":from<native>".to_string()),
        1 => Just(":from<bin>".to_string()),
        2 => Just(String::new()),
    ];
    let spec = (dist_name(), prop::collection::vec(adverb, 0..3))
        .prop_map(|(name, adverbs)| Value::String(name + &adverbs.concat()))
        .boxed();
    prop_oneof![
        12 => spec.clone(),
        1 => prop::collection::vec(spec, 1..3).prop_map(|any| json!({ "any": any })),
        1 => garbage().prop_map(Value::String),
    ]
}

fn index_entry() -> impl Strategy<Value = Value> {
    (
        dist_name(),
        version(),
        prop::option::weighted(0.2, version()),
        prop::option::weighted(0.3, garbage()),
        prop::collection::vec(request(), 0..3),
        prop::collection::vec(dist_name(), 0..3),
        prop::option::weighted(
            0.2,
            prop_oneof![Just("https://example.org/d.tar.gz".to_string()), garbage()],
        ),
    )
        .prop_map(|(name, version, api, auth, depends, provides, source)| {
            let provides: serde_json::Map<String, Value> = provides
                .into_iter()
                .map(|m| (m, json!("lib/M.rakumod")))
                .collect();
            let source = source.unwrap_or_else(|| format!("https://example.org/{name}.tar.gz"));
            json!({
                "name": name, "version": version, "api": api, "auth": auth,
                "depends": depends, "provides": provides, "source-url": source,
                "license": "Artistic-2.0",
            })
        })
}

fn aur_name() -> impl Strategy<Value = String> {
    let stem = prop::sample::select(STEMS.to_vec());
    prop_oneof![
        2 => stem.clone().prop_map(|s| format!("perl6-{s}")),
        2 => stem.clone().prop_map(|s| format!("raku-{s}")),
        1 => stem.prop_map(String::from),
        1 => Just("rakudo".to_string()),
        1 => garbage(),
    ]
}

fn aur_entry() -> impl Strategy<Value = Value> {
    let relation = prop_oneof![
        3 => (aur_name(), prop::option::of(("(=|>=|<|<=|>)", aur_version())))
            .prop_map(|(n, v)| v.map_or(n.clone(), |(op, v)| format!("{n}{op}{v}"))),
        1 => garbage(),
    ]
    .boxed();
    (
        aur_name(),
        aur_version(),
        prop_oneof![
            Just(json!(BOT)),
            Just(json!("someone")),
            Just(Value::Null),
            garbage().prop_map(Value::String),
        ],
        prop_oneof![
            3 => Just(vec!["rakudo".to_string()]),
            1 => Just(vec!["perl6".to_string()]),
            1 => prop::collection::vec(relation.clone(), 0..3),
        ],
        prop::collection::vec(relation, 0..3),
    )
        .prop_map(|(name, version, maintainer, depends, provides)| {
            json!({
                "Name": name, "PackageBase": name, "Version": version,
                "Maintainer": maintainer, "Depends": depends, "Provides": provides,
            })
        })
}

/// What the AUR repository of a rendered package holds.
#[derive(Debug, Clone)]
enum Tip {
    /// No repository yet.
    New,
    /// What we rendered, with one line changed or added.
    Edited { key: &'static str, value: String },
    /// Anything at all.
    Garbage(String),
}

fn tip() -> impl Strategy<Value = Tip> {
    let key = prop::sample::select(vec!["pkgver", "pkgrel", "epoch", "depends", "provides"]);
    prop_oneof![
        1 => Just(Tip::New),
        4 => (key, prop_oneof![aur_version(), number(), version()])
            .prop_map(|(key, value)| Tip::Edited { key, value }),
        1 => garbage().prop_map(Tip::Garbage),
    ]
}

impl Tip {
    fn files(&self, ours: &Files) -> Option<Files> {
        let srcinfo = match self {
            Tip::New => return None,
            Tip::Garbage(text) => text.clone(),
            Tip::Edited { key, value } => {
                let line = format!("\t{key} = {value}");
                let mut lines: Vec<String> = ours
                    .srcinfo
                    .lines()
                    .filter(|l| !l.starts_with(&format!("\t{key} = ")))
                    .map(String::from)
                    .collect();
                lines.insert(1, line);
                lines.join("\n") + "\n"
            }
        };
        Some(Files {
            pkgbuild: ours.pkgbuild.clone(),
            srcinfo,
        })
    }
}

/// Plausible facts for a tarball, as inspection finds them.
fn facts(source_url: &str) -> TarballFacts {
    TarballFacts {
        sha256: "ab".repeat(32),
        top_dir: "dist-1.0".to_string(),
        bin_scripts: if source_url.len().is_multiple_of(2) {
            vec!["tool".to_string()]
        } else {
            vec![]
        },
        has_tests: true,
        license_files: vec!["LICENSE".to_string()],
        skipped_names: vec![],
    }
}

/// The pure steps of a sync, as `pipeline::render_all` and `sync::run` take them.
fn sync_steps(index: &[Value], aur: &[Value], tips: &[Tip]) {
    let index_bytes = serde_json::to_vec(index).unwrap();
    let releases = crate::index::parse_index(&index_bytes, "proptest", 0)
        .expect("an array of objects is an index")
        .releases;
    // The AUR has rakudo, or nothing could be published at all.
    let rakudo = json!({"Name": "rakudo", "Version": "2026.04-1", "Provides": ["perl6"]});
    let aur: Vec<&Value> = std::iter::once(&rakudo).chain(aur).collect();
    let meta = AurMetadata::parse(&serde_json::to_vec(&aur).unwrap())
        .expect("an array of packages with the required fields is metadata");
    // Planned the way render_all plans: trust, adoption, epochs, dangling dependencies.
    let aur = crate::pipeline::AurContext {
        meta,
        account: BOT.to_string(),
        stand_ins: Default::default(),
        published_scripts: Default::default(),
        stand_ins_seen: Default::default(),
    };
    let source = crate::settings::source(crate::cli::SourceArgs::default(), None).unwrap();
    let mut plan = crate::pipeline::plan_against(&source, Some(&aur), releases).expect("no --only");
    let facts: BTreeMap<String, Result<TarballFacts, String>> = plan
        .packages
        .iter()
        .map(|p| (p.source_url.clone(), Ok(facts(&p.source_url))))
        .collect();
    let rendered =
        crate::pipeline::render_planned(&mut plan, &facts, "me <me@example.org>", &BTreeMap::new())
            .expect("what plan accepted renders");
    let render_files =
        |m: &render::model::PackageModel| render::files(m).map_err(|e| e.to_string());
    for (r, tip) in rendered.iter().zip(tips.iter().cycle()) {
        let ours = Files {
            pkgbuild: r.pkgbuild.clone(),
            srcinfo: r.srcinfo.clone(),
        };
        PublishedPackage::read(ours.clone()).expect("what we render reads back");
        let tip = tip.files(&ours).map(PublishedPackage::read);
        match tip {
            None => drop(pkgrel::next_commit(&r.model, None, &render_files)),
            Some(Ok(tip)) => drop(pkgrel::next_commit(&r.model, Some(&tip), &render_files)),
            Some(Err(_)) => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn nothing_strangers_write_makes_a_sync_panic(
        index in prop::collection::vec(index_entry(), 2..10),
        aur in prop::collection::vec(aur_entry(), 0..7),
        tips in prop::collection::vec(tip(), 1..4),
    ) {
        sync_steps(&index, &aur, &tips);
    }
}

/// The case of issue 11, fixed: it panicked inside alpm-types before the metadata was checked.
#[test]
fn a_24_digit_provide_on_the_aur_goes_through_every_step() {
    let index = [
        json!({"name": "JSON::Fast", "version": "0.19", "source-url": "https://example.org/f.tar.gz"}),
        json!({"name": "Foo", "version": "1.0", "depends": ["JSON::Fast:ver<0.19+>"],
               "source-url": "https://example.org/foo.tar.gz"}),
    ];
    let aur = [
        json!({"Name": "totally-legit", "Version": "1-1", "Maintainer": "stranger",
               "Depends": ["rakudo"], "Provides": [format!("raku-json-fast={HUGE}")]}),
    ];
    let tips = [
        Tip::Edited {
            key: "pkgver",
            value: format!("1.{HUGE}"),
        },
        Tip::New,
    ];
    sync_steps(&index, &aur, &tips);
}
