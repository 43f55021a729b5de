//! Whole-ecosystem benchmark: index parsing, planning and rendering of every package, a no-op
//! `sync` over thousands of published packages, the AUR's metadata at its full size, peak
//! memory, and `makepkg --printsrcinfo` side by side. Run with `cargo bench --bench scale`;
//! see README, "Benchmarks".
//!
//! Nothing here touches the network: tarball facts are synthetic and pre-filled into the
//! checksum cache, downloads are redirected to a closed port on 127.0.0.1 so a cache miss
//! fails loudly instead of downloading, and the package "servers" are bare repositories behind
//! `file://` URLs.
//!
//! Environment: `BENCH_RUNS` (timed runs per figure, median reported; default 5),
//! `BENCH_SYNC_PACKAGES` (default 2000), `BENCH_MAKEPKG_SAMPLE` (default 20), `BENCH_SKIP`
//! (comma-separated parts to leave out while profiling: `index`, which holds `process` and
//! `makepkg`, then `site`, `sync`, `aur`), `BENCH_ONLY` (the parts to run, the same names: e.g.
//! `BENCH_ONLY=aur` for the AUR metadata rows and the first sync they need), `BENCH_WORK` (a
//! directory to generate into and keep, instead of a temporary one).

#[path = "scale/aur_metadata.rs"]
mod aur_metadata;
#[path = "../tests/common/makepkg.rs"]
mod makepkg;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use raku_aur::aur::AurMetadata;
use raku_aur::cli::SourceArgs;
use raku_aur::index::{self, Release};
use raku_aur::pipeline::{self, Rendered};
use raku_aur::plan::{self, Plan};
use raku_aur::render::{self, srcinfo};
use raku_aur::tarball::TarballFacts;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The real data, in `--index` order.
const REAL_INDEXES: [&str; 4] = [
    "rea-sample.json",
    "rea-pages.json",
    "p6c-2023-03.json",
    "cpan-2023-03.json",
];
/// About the size of REA's `META.json` today.
const SYNTHETIC_ENTRIES: usize = 25_000;
const REA_ARCHIVE_PREFIX: &str = "https://raw.githubusercontent.com/raku/REA/main/archive/";
const MAINTAINER: &str = "raku-aur bench <bench@example.org>";
/// The bot's AUR account in the syncs.
const BOT: &str = "raku-aur-bot";
/// Port 9 (discard) on loopback has no listener here: a tarball the cache lacks fails at once.
const NOWHERE: &str = "http://127.0.0.1:9/";
/// `tarball.rs`'s cache format version; if it moves on, the pre-filled cache is ignored, every
/// tarball "download" fails against [`NOWHERE`], and the count checks below stop the run.
const FACTS_VERSION: u32 = 1;

fn main() {
    let runs = env_usize("BENCH_RUNS", 5);
    let sync_packages = env_usize("BENCH_SYNC_PACKAGES", 2000);
    let skip = std::env::var("BENCH_SKIP").unwrap_or_default();
    let only = std::env::var("BENCH_ONLY").ok();
    let wanted = |part: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|s| s.trim() == part))
            && !skip.split(',').any(|s| s.trim() == part)
    };
    let temp = tempfile::Builder::new()
        .prefix("raku-aur-bench-")
        .tempdir()
        .expect("temporary directory");
    // BENCH_WORK keeps the generated index, cache and repositories for profiling afterwards.
    let kept = std::env::var_os("BENCH_WORK").map(std::path::PathBuf::from);
    let work = kept.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(work).unwrap();
    print_machine();
    println!("median of {runs} runs per figure, fastest run in brackets\n");

    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let real: Vec<(String, Vec<u8>)> = REAL_INDEXES
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(data.join(f)).expect("test data"),
            )
        })
        .collect();
    let synthetic = synthesize(&real, SYNTHETIC_ENTRIES);
    let synthetic_bytes = to_index_bytes(&synthetic);
    let synthetic_path = work.join("META.json");
    std::fs::write(&synthetic_path, &synthetic_bytes).unwrap();
    let synthetic_input = vec![("META.json".to_string(), synthetic_bytes)];
    let (synthetic_releases, synthetic_facts) = if wanted("index") {
        index_rows(&real, &synthetic, &synthetic_input, work, runs, &wanted)
    } else {
        let releases = parse_all(&synthetic_input);
        let facts = facts_for_plan(&releases);
        (releases, facts)
    };
    if wanted("site") {
        println!();
        site_rows(&synthetic_releases, &synthetic_facts, work, runs);
    }
    if wanted("sync") || wanted("aur") {
        println!();
        sync_rows(
            work,
            &synthetic,
            &synthetic_releases,
            &synthetic_facts,
            sync_packages,
            runs,
            &wanted,
        );
    }
}

/// Index parsing, planning and rendering, and what compares with them (the `render`
/// process, makepkg): the synthetic releases and their tarball facts, for the sync rows.
fn index_rows(
    real: &[(String, Vec<u8>)],
    synthetic: &[Value],
    synthetic_input: &[(String, Vec<u8>)],
    work: &Path,
    runs: usize,
    wanted: &dyn Fn(&str) -> bool,
) -> (Vec<Release>, BTreeMap<String, Result<TarballFacts, String>>) {
    let makepkg_sample = env_usize("BENCH_MAKEPKG_SAMPLE", 20);
    // (a) parsing.
    let real_bytes: usize = real.iter().map(|(_, b)| b.len()).sum();
    let (t, real_releases) = median(runs, || parse_all(real));
    let real_entries: usize = real
        .iter()
        .map(|(_, b)| serde_json::from_slice::<Vec<Value>>(b).unwrap().len())
        .sum();
    row(
        &format!(
            "parse real index ({real_entries} entries, {})",
            mib(real_bytes)
        ),
        t,
        None,
    );

    let synthetic_path = work.join("META.json");
    reset_peak();
    let (t, synthetic_releases) = median(runs, || parse_all(synthetic_input));
    row(
        &format!(
            "parse synthetic REA index ({} entries, {})",
            synthetic.len(),
            mib(synthetic_input[0].1.len())
        ),
        t,
        Some(peak_kib()),
    );

    // REA's META.json is ~20 MB; the synthetic entries are larger than REA's on average, so
    // also time the prefix of the synthetic index that is 20 MB.
    let twenty = twenty_mb_prefix(synthetic);
    let twenty_input = vec![("META-20MB.json".to_string(), twenty.1)];
    let (t, _) = median(runs, || parse_all(&twenty_input));
    row(
        &format!(
            "parse synthetic REA index, first {} entries ({})",
            twenty.0,
            mib(twenty_input[0].1.len())
        ),
        t,
        None,
    );

    // (b) selection, resolution and rendering, with every tarball's facts at hand.
    let real_facts = facts_for_plan(&real_releases);
    let (t, real_rendered) = median(runs, || render_everything(&real_releases, &real_facts));
    row(
        &format!(
            "plan + render real ({} releases -> {} packages)",
            real_releases.len(),
            real_rendered.len()
        ),
        t,
        None,
    );
    let synthetic_facts = facts_for_plan(&synthetic_releases);
    reset_peak();
    let (t_render, synthetic_rendered) = median(runs, || {
        render_everything(&synthetic_releases, &synthetic_facts)
    });
    row(
        &format!(
            "plan + render synthetic ({} releases -> {} packages)",
            synthetic_releases.len(),
            synthetic_rendered.len()
        ),
        t_render,
        Some(peak_kib()),
    );
    let (t, _) = median(runs, || plan_all(&synthetic_releases));
    row("  of which plan (selection, names, resolution)", t, None);

    // The same through render_all, as `render` and `sync` call it: index file read and
    // parsed, checksum cache read from disk, then plan and render.
    let cache = work.join("cache");
    write_facts_cache(&cache, &synthetic_facts);
    // Settings resolved as the binary resolves `render`'s flags, without a config file.
    let flags = SourceArgs {
        indexes: vec![synthetic_path.display().to_string()],
        mirrors: vec![("https://".to_string(), NOWHERE.to_string())],
        cache: Some(cache.clone()),
        maintainer: Some(MAINTAINER.to_string()),
        ..SourceArgs::default()
    };
    let source = raku_aur::settings::source(flags, None).expect("valid settings");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    reset_peak();
    let (t, (all, _plan, _)) = median(runs, || {
        runtime
            .block_on(pipeline::render_all(&source, None))
            .expect("render_all")
    });
    assert_eq!(
        all.len(),
        synthetic_rendered.len(),
        "render_all rendered a different set: is the facts cache format still version {FACTS_VERSION}?"
    );
    row(
        "render_all synthetic (read + parse + cache + plan + render)",
        t,
        Some(peak_kib()),
    );
    drop(all);

    // The whole `render` command on the synthetic index, as a process: also writes every
    // package's two files.
    if wanted("process") {
        render_process(
            &synthetic_path,
            work,
            &cache,
            runs,
            synthetic_rendered.len(),
        );
    }
    if wanted("makepkg") {
        println!();
        compare_with_makepkg(
            &real_rendered,
            makepkg_sample,
            runs,
            work,
            t_render,
            synthetic_rendered.len(),
        );
    }
    (synthetic_releases, synthetic_facts)
}

fn render_process(synthetic_path: &Path, work: &Path, cache: &Path, runs: usize, expected: usize) {
    let out = work.join("out");
    let mut render_times = Vec::new();
    let mut render_rss = 0;
    for _ in 0..runs {
        let (t, rss, status) = timed_process(
            Command::new(env!("CARGO_BIN_EXE_raku-aur"))
                .arg("render")
                .arg("--index")
                .arg(synthetic_path)
                .arg("--out")
                .arg(&out)
                .arg("--cache")
                .arg(cache)
                .args(["--mirror", &format!("https://={NOWHERE}")])
                .args(["--maintainer", MAINTAINER])
                .env("RUST_LOG", "warn"),
        );
        assert!(status.success(), "raku-aur render failed");
        render_times.push(t);
        render_rss = render_rss.max(rss);
    }
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["rendered"].as_array().map(Vec::len), Some(expected));
    row(
        "`raku-aur render` process, synthetic, writing out/ (median of reruns)",
        median_of(render_times),
        Some(render_rss),
    );
}

/// Everything `parse_index` returns for these files, merged in `--index` order.
fn parse_all(indexes: &[(String, Vec<u8>)]) -> Vec<Release> {
    let mut releases = Vec::new();
    for (rank, (origin, bytes)) in indexes.iter().enumerate() {
        let parsed = index::parse_index(bytes, origin, rank).expect("index parses");
        releases.extend(parsed.releases);
    }
    releases
}

/// The status site of the synthetic index (no state: every package not yet published), into
/// a fresh directory and again over it unchanged; and the size of the index page for 2,000
/// packages.
fn site_rows(
    releases: &[Release],
    facts: &BTreeMap<String, Result<TarballFacts, String>>,
    work: &Path,
    runs: usize,
) {
    let mut plan = plan_all(releases);
    let rendered =
        pipeline::render_planned(&mut plan, facts, MAINTAINER, &BTreeMap::new()).expect("renders");
    let state = work.join("site-state");
    std::fs::create_dir_all(&state).unwrap();
    let mut fresh = 0;
    let (t, ()) = median(runs, || {
        fresh += 1;
        let out = work.join(format!("site-{fresh}"));
        raku_aur::site::generate(&state, &out, &rendered, &plan, &BTreeMap::new(), None)
            .expect("site");
    });
    let out = work.join(format!("site-{fresh}"));
    let files = std::fs::read_dir(out.join("packages")).unwrap().count();
    row(
        &format!(
            "site of the synthetic index ({} packages, {files} pages), fresh dir",
            rendered.len()
        ),
        t,
        None,
    );
    let (t, ()) = median(runs, || {
        raku_aur::site::generate(&state, &out, &rendered, &plan, &BTreeMap::new(), None)
            .expect("site");
    });
    row("site again over the same dir (nothing changed)", t, None);
    for i in 1..=fresh {
        std::fs::remove_dir_all(work.join(format!("site-{i}"))).unwrap();
    }

    let some: Vec<Rendered> = rendered.into_iter().take(2000).collect();
    let names: BTreeSet<&str> = some.iter().map(|r| r.model.pkgname.as_ref()).collect();
    // The rows of these packages only: the plan's held and covered ones are left out.
    let mut small = Plan::default();
    small.packages = plan
        .packages
        .into_iter()
        .filter(|p| names.contains(p.pkgname.as_ref()))
        .collect();
    let none = BTreeMap::new();
    let (queue, builds, last_run) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let site = raku_aur::site::model::assemble(&raku_aur::site::model::Inputs {
        plan: &small,
        rendered: &some,
        published: &none,
        queue: &queue,
        builds: &builds,
        last_run: &last_run,
        stand_ins: &BTreeMap::new(),
    });
    let files = raku_aur::site::write::files(&site, None, |_, _| Vec::new()).expect("site");
    println!(
        "{:<66} {:>10}",
        format!("site index.html for {} packages", site.rows.len()),
        format!("{:.0} KB", files["index.html"].len() as f64 / 1e3)
    );
}

/// `plan` then `render_planned`: selection, resolution, models, PKGBUILD, `.SRCINFO` and its
/// validation, for every distribution.
fn render_everything(
    releases: &[Release],
    facts: &BTreeMap<String, Result<TarballFacts, String>>,
) -> Vec<Rendered> {
    let mut plan = plan_all(releases);
    pipeline::render_planned(&mut plan, facts, MAINTAINER, &BTreeMap::new()).expect("renders")
}

fn plan_all(releases: &[Release]) -> Plan {
    plan::plan(
        releases.to_vec(),
        &[],
        &plan::OnAur::default(),
        &plan::Overrides::default(),
    )
    .expect("plans")
}

/// Made-up but plausible facts for every planned package's tarball, varied by a hash of the
/// URL so that some have tests, scripts or no license file.
fn facts_for_plan(releases: &[Release]) -> BTreeMap<String, Result<TarballFacts, String>> {
    plan_all(releases)
        .packages
        .iter()
        .map(|p| {
            let digest = Sha256::digest(p.source_url.as_bytes());
            let facts = TarballFacts {
                sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
                top_dir: format!(
                    "{}-{}",
                    p.release.name.replace("::", "-"),
                    p.release.version
                ),
                bin_scripts: if digest[1] % 8 == 0 {
                    vec![p.pkgname.to_string()]
                } else {
                    Vec::new()
                },
                has_tests: digest[0] % 4 != 0,
                license_files: if digest[2] % 10 == 0 {
                    Vec::new()
                } else {
                    vec!["LICENSE".to_string()]
                },
                skipped_names: Vec::new(),
            };
            (p.source_url.clone(), Ok(facts))
        })
        .collect()
}

/// Writes `<cache>/tarballs.json` as `tarball.rs` keeps it, so render_all finds every
/// checksum cached.
fn write_facts_cache(cache: &Path, facts: &BTreeMap<String, Result<TarballFacts, String>>) {
    let entries: Map<String, Value> = facts
        .iter()
        .map(|(url, f)| {
            let f = f.as_ref().expect("synthetic facts are all usable");
            (
                url.clone(),
                json!({"facts_version": FACTS_VERSION, "facts": f}),
            )
        })
        .collect();
    std::fs::create_dir_all(cache).unwrap();
    std::fs::write(
        cache.join("tarballs.json"),
        serde_json::to_vec_pretty(&json!({ "entries": entries })).unwrap(),
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The synthetic index.

/// An REA-format index of `count` entries made from the real ones: copy 0 is the real data
/// with REA archive URLs; copy `k` renames every distribution and provided module to
/// `Name::Bk`, and points dependencies on modules the real data knows at copy `k`'s modules,
/// so copies resolve among themselves as far as the real data does (rea-pages is not closed
/// over its dependencies, and p6c/cpan hold hostile names: those stay held back).
fn synthesize(real: &[(String, Vec<u8>)], count: usize) -> Vec<Value> {
    let entries: Vec<Value> = real
        .iter()
        .flat_map(|(_, bytes)| serde_json::from_slice::<Vec<Value>>(bytes).unwrap())
        .collect();
    let mut known = BTreeSet::new();
    for e in &entries {
        if let Some(name) = e.get("name").and_then(Value::as_str) {
            known.insert(name.to_string());
        }
        if let Some(Value::Object(provides)) = e.get("provides") {
            known.extend(provides.keys().cloned());
        }
    }
    let mut out = Vec::with_capacity(count);
    'copies: for copy in 0.. {
        for e in &entries {
            if out.len() == count {
                break 'copies;
            }
            out.push(copy_entry(e, copy, &known));
        }
    }
    out
}

fn copy_entry(entry: &Value, copy: usize, known: &BTreeSet<String>) -> Value {
    let Value::Object(meta) = entry else {
        return entry.clone();
    };
    let rename = |module: &str| {
        if copy == 0 || !known.contains(module) {
            module.to_string()
        } else {
            format!("{module}::B{copy}")
        }
    };
    let mut meta = meta.clone();
    if let Some(Value::String(name)) = meta.get("name").cloned() {
        let name = rename(&name);
        let version = meta
            .get("version")
            .or_else(|| meta.get("ver"))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .unwrap_or_default();
        let mut dist = format!("{name}:ver<{version}>");
        if let Some(auth) = meta.get("auth").and_then(Value::as_str) {
            dist.push_str(&format!(":auth<{auth}>"));
        }
        let first: String = name.chars().take(1).flat_map(char::to_uppercase).collect();
        meta.insert(
            "source-url".into(),
            Value::String(format!(
                "{REA_ARCHIVE_PREFIX}{}/{}/{}.tar.gz",
                percent_encode(&first),
                percent_encode(&name),
                percent_encode(&dist)
            )),
        );
        meta.insert("dist".into(), Value::String(dist));
        meta.insert("name".into(), Value::String(name));
    }
    meta.remove("path");
    if let Some(Value::Object(provides)) = meta.get("provides").cloned() {
        let renamed: Map<String, Value> =
            provides.into_iter().map(|(k, v)| (rename(&k), v)).collect();
        meta.insert("provides".into(), Value::Object(renamed));
    }
    for field in ["depends", "build-depends", "test-depends"] {
        if let Some(v) = meta.get_mut(field) {
            rename_dependencies(v, &rename);
        }
    }
    Value::Object(meta)
}

/// Renames the module in every dependency request (strings such as `JSON::Fast:ver<0.2+>`,
/// or `{"name": ...}` objects) under `value`; `:from<...>` requests name no Raku module.
fn rename_dependencies(value: &mut Value, rename: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) if !s.contains(":from<") => {
            let (module, adverbs) = raku_aur::raku::depspec::split_name(s);
            *s = format!("{}{adverbs}", rename(module));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| rename_dependencies(i, rename)),
        Value::Object(map) => {
            if map.contains_key("from") {
                return;
            }
            for (key, v) in map.iter_mut() {
                match (key.as_str(), v) {
                    ("name", Value::String(s)) => *s = rename(s),
                    (_, v) => rename_dependencies(v, rename),
                }
            }
        }
        _ => {}
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The longest prefix of `entries` whose index is at most 20 MB: (entries, bytes).
fn twenty_mb_prefix(entries: &[Value]) -> (usize, Vec<u8>) {
    let mut size = 4;
    let count = entries
        .iter()
        .take_while(|e| {
            size += serde_json::to_vec(e).unwrap().len() + 2;
            size <= 20_000_000
        })
        .count();
    (count, to_index_bytes(&entries[..count]))
}

/// One compact entry per line, as REA writes `META.json`.
fn to_index_bytes(entries: &[Value]) -> Vec<u8> {
    let mut out = b"[\n".to_vec();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        serde_json::to_writer(&mut out, e).unwrap();
    }
    out.extend_from_slice(b"\n]\n");
    out
}

// ---------------------------------------------------------------------------------------------
// makepkg side by side.

fn compare_with_makepkg(
    rendered: &[Rendered],
    sample: usize,
    runs: usize,
    work: &Path,
    whole_render: Duration,
    whole_count: usize,
) {
    if !Path::new("/usr/bin/makepkg").is_file() {
        println!("makepkg --printsrcinfo: /usr/bin/makepkg is missing; comparison skipped");
        return;
    }
    let step = (rendered.len() / sample.max(1)).max(1);
    let picked: Vec<&Rendered> = rendered.iter().step_by(step).take(sample).collect();
    let (ours, _) = median(runs, || {
        for r in &picked {
            let pkgbuild = render::pkgbuild(&r.model).expect("renders");
            let text = srcinfo::write_srcinfo(&r.model);
            srcinfo::validate_srcinfo(&text).expect("valid");
            std::hint::black_box(pkgbuild);
        }
    });
    let mut makepkg_total = Duration::ZERO;
    let mut identical = 0;
    for (i, r) in picked.iter().enumerate() {
        let dir = work.join(format!("makepkg-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("PKGBUILD"), &r.pkgbuild).unwrap();
        let start = Instant::now();
        let printed = makepkg::printsrcinfo(&dir);
        makepkg_total += start.elapsed();
        if printed == r.srcinfo {
            identical += 1;
        }
    }
    let n = picked.len() as u32;
    let ours_each = ours / n;
    let makepkg_each = makepkg_total / n;
    let pipeline_each = whole_render / whole_count as u32;
    println!(
        "makepkg --printsrcinfo, {n} PKGBUILDs: {} per package ({identical}/{n} byte-identical to ours)",
        ms(makepkg_each)
    );
    println!(
        "ours, same {n} (PKGBUILD + .SRCINFO + validation): {} per package -> makepkg/ours = {:.0}x",
        us(ours_each),
        makepkg_each.as_secs_f64() / ours_each.as_secs_f64()
    );
    println!(
        "ours, whole synthetic plan + render: {} per package -> makepkg/ours = {:.0}x",
        us(pipeline_each),
        makepkg_each.as_secs_f64() / pipeline_each.as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// The no-op sync.

/// A first sync of `count` packages, then no-op syncs of them: with a one-package AUR
/// metadata file (`sync`) and with a synthetic one of the AUR's full size (`aur`).
fn sync_rows(
    work: &Path,
    synthetic: &[Value],
    releases: &[Release],
    facts: &BTreeMap<String, Result<TarballFacts, String>>,
    count: usize,
    runs: usize,
    wanted: &dyn Fn(&str) -> bool,
) {
    let dir = work.join("sync");
    std::fs::create_dir_all(&dir).unwrap();
    let snapshot =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aur-raku-packages-meta.json");
    let raku = aur_metadata::raku_entries(&std::fs::read(snapshot).unwrap());
    // The packages synced are none that the AUR's Raku packages claim, so that every sync
    // below, whichever metadata it reads, has the same packages to publish.
    let claims = AurMetadata::parse(&serde_json::to_vec(&raku).unwrap()).unwrap();
    let claimed = |dist: &str| {
        claims.existing_for(dist, BOT).is_some()
            || plan::pkgname_for(dist).is_ok_and(|n| claims.name_taken(n.as_ref(), BOT).is_some())
    };
    let setup = first_sync(&dir, synthetic, releases, facts, count, &claimed);
    if wanted("sync") {
        let (t, rss) = noop_sync(&setup, &setup.small_metadata, runs);
        row(
            &format!(
                "no-op sync of {} packages (remotes unreachable: 0 git operations)",
                setup.pkgbases.len()
            ),
            t,
            Some(rss),
        );
    }
    if wanted("aur") {
        aur_rows(&setup, &raku, runs);
    }
}

/// The AUR's metadata at full size: its parse, in process, and the no-op sync reading it.
fn aur_rows(setup: &SyncSetup, raku: &[Value], runs: usize) {
    println!();
    let json = aur_metadata::generate(raku);
    let plain = setup.dir.join("packages-meta-ext-v1.json");
    let gzipped = setup.dir.join("packages-meta-ext-v1.json.gz");
    std::fs::write(&plain, &json).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &json).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(&gzipped, &gz).unwrap();
    let (json_len, gz_len) = (json.len(), gz.len());
    drop((json, gz));
    let what = format!(
        "{} packages, {} gzipped, {} of JSON",
        aur_metadata::PACKAGES,
        mib(gz_len),
        mib(json_len)
    );
    // In process, read from the file as sync reads it; the sync rows below have its memory.
    for (file, form) in [(&gzipped, "gzipped"), (&plain, "plain")] {
        let (t, meta) = median(runs, || {
            AurMetadata::read(std::fs::File::open(file).unwrap()).expect("the metadata parses")
        });
        assert!(meta.skipped().is_empty(), "{:?}", meta.skipped());
        row(&format!("parse AUR metadata ({what}), {form}"), t, None);
    }
    for (file, form) in [(&gzipped, "gzipped"), (&plain, "plain")] {
        let (t, rss) = noop_sync(setup, file, runs);
        row(
            &format!(
                "no-op sync of {} packages with that AUR metadata, {form}",
                setup.pkgbases.len()
            ),
            t,
            Some(rss),
        );
    }
}

/// A state directory whose packages are all published.
struct SyncSetup {
    dir: std::path::PathBuf,
    index: std::path::PathBuf,
    remotes: std::path::PathBuf,
    pkgbases: Vec<String>,
    /// An AUR metadata file that lists only rakudo.
    small_metadata: std::path::PathBuf,
}

impl SyncSetup {
    fn sync(&self, remotes: &Path, metadata: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        c.arg("--config")
            .arg(self.dir.join("config.toml"))
            .arg("sync")
            .arg("--index")
            .arg(&self.index)
            .arg("--state")
            .arg(self.dir.join("state"))
            .arg("--cache")
            .arg(self.dir.join("cache"))
            .args(["--mirror", &format!("https://={NOWHERE}")])
            .arg("--remote")
            .arg(format!("file://{}/{{pkgbase}}.git", remotes.display()))
            .arg("--aur-metadata")
            .arg(metadata)
            .args(["--aur-user", BOT, "--maintainer", MAINTAINER])
            .env("RUST_LOG", "warn");
        c
    }

    /// `report.json`'s packages, counted by status and detail.
    fn statuses(&self) -> BTreeMap<String, usize> {
        let report: Value =
            serde_json::from_slice(&std::fs::read(self.dir.join("state/report.json")).unwrap())
                .unwrap();
        let mut counts = BTreeMap::new();
        for p in report["packages"].as_array().unwrap() {
            let key = format!(
                "{}: {}",
                p["status"].as_str().unwrap(),
                p["detail"].as_str().unwrap()
            );
            *counts.entry(key).or_default() += 1;
        }
        counts
    }
}

/// Publishes `count` packages from the synthetic index (none that `claimed`) to bare
/// repositories behind `file://` URLs, and prints how long that took.
fn first_sync(
    dir: &Path,
    synthetic: &[Value],
    releases: &[Release],
    facts: &BTreeMap<String, Result<TarballFacts, String>>,
    count: usize,
    claimed: &dyn Fn(&str) -> bool,
) -> SyncSetup {
    let chosen = closed_subset(releases, count, claimed);
    let names: BTreeSet<&str> = chosen.iter().map(|(dist, _)| dist.as_str()).collect();
    let entries: Vec<Value> = synthetic
        .iter()
        .filter(|e| {
            e.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| names.contains(n))
        })
        .cloned()
        .collect();
    let index = dir.join("index.json");
    std::fs::write(&index, to_index_bytes(&entries)).unwrap();
    let urls: BTreeSet<&str> = chosen.iter().map(|(_, url)| url.as_str()).collect();
    let sync_facts: BTreeMap<String, Result<TarballFacts, String>> = facts
        .iter()
        .filter(|(url, _)| urls.contains(url.as_str()))
        .map(|(u, f)| (u.clone(), f.clone()))
        .collect();
    write_facts_cache(&dir.join("cache"), &sync_facts);
    // The AUR knows rakudo, and every other dependency is one of ours: nothing dangles.
    let small_metadata = dir.join("aur.json");
    std::fs::write(
        &small_metadata,
        serde_json::to_vec(&json!([{"Name": "rakudo", "PackageBase": "rakudo",
            "Version": "2026.04-1", "Maintainer": "someone"}]))
        .unwrap(),
    )
    .unwrap();
    let remotes = dir.join("remotes");
    let pkgbases: Vec<String> = chosen
        .iter()
        .map(|(dist, _)| plan::pkgname_for(dist).unwrap().to_string())
        .collect();
    for pkgbase in &pkgbases {
        git2::Repository::init_bare(remotes.join(format!("{pkgbase}.git"))).unwrap();
    }
    // The whole set goes up in one run: the benchmark times a first publication of 2,000.
    std::fs::write(
        dir.join("config.toml"),
        "[publish]\nmax-new-per-run = 100000\n",
    )
    .unwrap();
    let setup = SyncSetup {
        dir: dir.to_path_buf(),
        index,
        remotes,
        pkgbases,
        small_metadata,
    };
    let (t, rss, status) = timed_process(&mut setup.sync(&setup.remotes, &setup.small_metadata));
    assert!(
        status.success(),
        "first sync failed: {:?}",
        setup.statuses()
    );
    let first = setup.statuses();
    let pushed = first
        .iter()
        .filter(|(k, _)| k.starts_with("pushed"))
        .map(|(_, n)| n)
        .sum::<usize>();
    assert_eq!(pushed, setup.pkgbases.len(), "first sync: {first:?}");
    row(
        &format!("first sync: publish {pushed} packages to file:// repos (1 run)"),
        median_of(vec![t]),
        Some(rss),
    );
    setup
}

/// `runs` syncs of the published packages with the servers taken away, reading `metadata`:
/// a sync that fetched or pushed anything would fail, so an all-unchanged report proves zero
/// git operations. The median time and the highest peak RSS (KiB).
fn noop_sync(setup: &SyncSetup, metadata: &Path, runs: usize) -> (Duration, u64) {
    let moved = setup.dir.join("remotes-moved-away");
    std::fs::rename(&setup.remotes, &moved).unwrap();
    let published_before = std::fs::read(setup.dir.join("state/published.json")).unwrap();
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let (t, rss, status) = timed_process(&mut setup.sync(&setup.remotes, metadata));
        assert!(
            status.success(),
            "no-op sync failed: {:?}",
            setup.statuses()
        );
        times.push(t);
        peak = peak.max(rss);
        assert_eq!(
            setup.statuses(),
            BTreeMap::from([(
                "unchanged: same input as the last confirmed push".to_string(),
                setup.pkgbases.len()
            )]),
            "the no-op sync did something"
        );
    }
    assert_eq!(
        published_before,
        std::fs::read(setup.dir.join("state/published.json")).unwrap(),
        "published.json changed"
    );
    std::fs::rename(&moved, &setup.remotes).unwrap();
    (median_of(times), peak)
}

/// Up to `count` planned packages closed over their Raku dependencies and needing nothing
/// else but rakudo, none `claimed`, taken dependencies first: (distribution name, source URL).
fn closed_subset(
    releases: &[Release],
    count: usize,
    claimed: &dyn Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let plan = plan_all(releases);
    let only_ours = |p: &plan::PlannedPackage| {
        p.depends
            .iter()
            .chain(&p.makedepends)
            .chain(&p.checkdepends)
            .all(|r| {
                let n = r.name.to_string();
                n == plan::RAKUDO || n.starts_with(plan::PKGNAME_PREFIX)
            })
    };
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut chosen = Vec::new();
    loop {
        let before = chosen.len();
        for p in &plan.packages {
            if chosen.len() == count {
                return chosen;
            }
            if !taken.contains(&p.release.name)
                && !claimed(&p.release.name)
                && only_ours(p)
                && p.needs.iter().all(|n| taken.contains(n))
            {
                taken.insert(p.release.name.clone());
                chosen.push((p.release.name.clone(), p.source_url.clone()));
            }
        }
        if chosen.len() == before {
            return chosen;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/// Runs `f` `runs` times; the median time and the last result (dropped outside the timing).
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        drop(last.take());
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed());
        last = Some(out);
    }
    (median_of(times), last.expect("ran at least once"))
}

/// The median, and the fastest run (less disturbed by other work on a shared machine)
/// printed beside it by [`row`].
fn median_of(mut times: Vec<Duration>) -> Duration {
    times.sort();
    LAST_MIN.with(|m| m.set(times[0]));
    times[times.len() / 2]
}

thread_local! {
    static LAST_MIN: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

/// Wall time, peak RSS (KiB, from GNU time) and exit status of one process run.
fn timed_process(command: &mut Command) -> (Duration, u64, std::process::ExitStatus) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
    let envs: Vec<_> = command
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
        .collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-v")
        .arg("-o")
        .arg(report.path())
        .arg(program)
        .args(args);
    for (k, v) in envs {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    let start = Instant::now();
    let output = timed
        .output()
        .expect("run /usr/bin/time (apt-get install time)");
    let elapsed = start.elapsed();
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    let text = std::fs::read_to_string(report.path()).unwrap();
    let rss = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.parse().ok())
        .expect("GNU time reports the maximum resident set size");
    (elapsed, rss, output.status)
}

/// Resets this process's VmHWM to its current RSS, so the next reading is a stage's peak.
fn reset_peak() {
    // "5" resets the peak resident set size (Linux >= 4.0); where refused, the peak since
    // start is read instead, which only overstates.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn row(what: &str, t: Duration, peak_kib: Option<u64>) {
    let peak = peak_kib.map_or_else(String::new, |k| {
        format!("  peak RSS {:.0} MiB", k as f64 / 1024.0)
    });
    let min = LAST_MIN.with(std::cell::Cell::get);
    println!("{what:<66} {:>10} (min {:>9}){peak}", ms(t), ms(min));
}

fn ms(t: Duration) -> String {
    format!("{:.1} ms", t.as_secs_f64() * 1e3)
}

fn us(t: Duration) -> String {
    format!("{:.1} µs", t.as_secs_f64() * 1e6)
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(str::trim)
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cpus} CPUs, {model}, MemTotal {mem}");
}
