//! `raku-aur render` end to end, on the real ecosystem data in `tests/data/`, with tarballs
//! generated for every entry and served from a local HTTP server (no network).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;
use common::fixtures::{self, REA_ARCHIVE_PREFIX};
use common::http::{Fault, TestServer};
use serde_json::{Value, json};

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

/// Archives for both REA files, served locally.
pub(crate) struct Ecosystem {
    dir: tempfile::TempDir,
    server: TestServer,
}

impl Ecosystem {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        let sample =
            fixtures::archive_index(&data("rea-sample.json"), REA_ARCHIVE_PREFIX, &archive);
        let pages = fixtures::archive_index(&data("rea-pages.json"), REA_ARCHIVE_PREFIX, &archive);
        assert_eq!((sample, pages), (64, 698));
        let server = TestServer::serve_dir(&archive);
        Ecosystem { dir, server }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `render` on `indexes` into `out`, with its own cache directory `cache`.
    fn render(&self, indexes: &[PathBuf], out: &Path, cache: &str, extra: &[&str]) -> Output {
        render_command(indexes, out, &self.path(cache), &self.server)
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .expect("raku-aur runs")
    }

    pub(crate) fn render_real(&self, out: &Path, cache: &str) -> Output {
        self.render(
            &[data("rea-sample.json"), data("rea-pages.json")],
            out,
            cache,
            &[],
        )
    }
}

/// `raku-aur render` on `indexes` into `out`, downloading archives from `server`. The config
/// directory is an empty one beside the cache, so no config file on this machine applies.
pub(crate) fn render_command(
    indexes: &[PathBuf],
    out: &Path,
    cache: &Path,
    server: &TestServer,
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
    cmd.env("XDG_CONFIG_HOME", cache.with_extension("no-config"));
    cmd.arg("render");
    for index in indexes {
        cmd.arg("--index").arg(index);
    }
    cmd.arg("--out")
        .arg(out)
        .arg("--cache")
        .arg(cache)
        .arg("--mirror")
        .arg(format!("{REA_ARCHIVE_PREFIX}={}", server.base_url()));
    cmd
}

pub(crate) fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "raku-aur failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

pub(crate) fn report(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report.json")).unwrap()
}

pub(crate) fn rendered_names(report: &Value) -> Vec<String> {
    report["rendered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pkgbase"].as_str().unwrap().to_string())
        .collect()
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    files
}

pub(crate) fn srcinfo_value(srcinfo: &str, key: &str) -> Vec<String> {
    let prefix = format!("\t{key} = ");
    srcinfo
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

#[test]
fn renders_the_real_ecosystem_data() {
    let eco = Ecosystem::new();
    let out = eco.path("out");
    ok(&eco.render_real(&out, "cache"));
    let report = report(&out);
    let names = rendered_names(&report);
    assert!(names.len() >= 50, "only {} rendered", names.len());
    for name in &names {
        let dir = out.join(name);
        let srcinfo = std::fs::read_to_string(dir.join(".SRCINFO")).unwrap();
        raku_aur::render::srcinfo::validate_srcinfo(&srcinfo)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{srcinfo}"));
        assert!(srcinfo.starts_with(&format!("pkgbase = {name}\n")));
        let pkgbuild = std::fs::read_to_string(dir.join("PKGBUILD")).unwrap();
        assert!(pkgbuild.contains("perl6-install-dist"), "{name}");
    }
    // Every held-back release has a one-line reason.
    let held = report["held"].as_array().unwrap();
    assert!(!held.is_empty());
    for h in held {
        let reason = h["reason"].as_str().unwrap();
        assert!(!reason.is_empty() && !reason.contains('\n'), "{h}");
    }
    // The version-order trap: Raku picks 1.001006 over the later release 1.3.
    let output = std::fs::read_to_string(out.join("raku-test-output/.SRCINFO")).unwrap();
    assert_eq!(srcinfo_value(&output, "pkgver"), ["1.001006"]);
    // Dependencies through `provides` and a version floor.
    let http = std::fs::read_to_string(out.join("raku-cro-http/.SRCINFO")).unwrap();
    let depends = srcinfo_value(&http, "depends");
    assert!(depends.contains(&"rakudo".to_string()), "{depends:?}");
    assert!(
        depends.iter().any(|d| d.starts_with("raku-cro-core>=")),
        "{depends:?}"
    );
    // The PKGBUILD downloads the public URL, not the mirror.
    let fast = std::fs::read_to_string(out.join("raku-json-fast/PKGBUILD")).unwrap();
    assert!(fast.contains(REA_ARCHIVE_PREFIX) && !fast.contains("127.0.0.1"));
}

/// A copy of an index with its entries in reverse order.
fn reversed(src: &Path, dest: &Path) -> PathBuf {
    let mut entries: Vec<Value> = serde_json::from_slice(&std::fs::read(src).unwrap()).unwrap();
    entries.reverse();
    std::fs::write(dest, serde_json::to_vec(&entries).unwrap()).unwrap();
    dest.to_path_buf()
}

#[test]
fn output_is_deterministic_and_a_second_run_downloads_nothing() {
    let eco = Ecosystem::new();
    let first = eco.path("first");
    ok(&eco.render_real(&first, "cache"));
    let downloads = eco.server.requests().len();
    assert!(downloads >= 50, "{downloads}");

    let second = eco.path("second");
    let sample = reversed(&data("rea-sample.json"), &eco.path("sample-reversed.json"));
    let pages = reversed(&data("rea-pages.json"), &eco.path("pages-reversed.json"));
    ok(&eco.render(&[sample, pages], &second, "cache", &[]));
    assert_eq!(
        eco.server.requests().len(),
        downloads,
        "the cache was not used"
    );

    let (a, b) = (tree(&first), tree(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        if path == Path::new("report.json") {
            continue; // it names the index files, which differ here
        }
        assert!(bytes == &b[path], "{} differs between runs", path.display());
    }
    assert_eq!(report(&first)["rendered"], report(&second)["rendered"]);
    assert_eq!(report(&first)["held"], report(&second)["held"]);
}

#[test]
fn a_broken_tarball_holds_its_package_and_the_packages_that_need_it() {
    let eco = Ecosystem::new();
    let sample: Vec<Value> =
        serde_json::from_slice(&std::fs::read(data("rea-sample.json")).unwrap()).unwrap();
    let fast = sample
        .iter()
        .find(|e| e["dist"] == "JSON::Fast:ver<0.21.0>:auth<zef:timo>")
        .unwrap();
    let path = fixtures::archive_rel_path(fast, REA_ARCHIVE_PREFIX);
    eco.server.set_fault(&path, Fault::Status(404));
    let out = eco.path("out");
    ok(&eco.render(&[data("rea-sample.json")], &out, "cache", &[]));
    let report = report(&out);
    let held: BTreeMap<String, String> = report["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["dist"].as_str().unwrap().to_string(),
                h["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = &held["JSON::Fast:ver<0.21.0>:auth<zef:timo>"];
    assert!(reason.contains("404"), "{reason}");
    let dependents: Vec<&String> = held
        .values()
        .filter(|r| r.as_str() == "needs raku-json-fast, which is held back")
        .collect();
    assert!(!dependents.is_empty(), "{held:#?}");
    assert!(!out.join("raku-json-fast").exists());

    // The failure is not cached: once the archive is back, the package renders.
    eco.server.clear_fault(&path);
    ok(&eco.render(&[data("rea-sample.json")], &out, "cache", &[]));
    assert!(out.join("raku-json-fast/PKGBUILD").is_file());
}

#[test]
fn an_unreadable_index_is_fatal_and_writes_nothing() {
    let eco = Ecosystem::new();
    let broken = eco.path("broken.json");
    std::fs::write(&broken, b"[{\"name\": \"JSON::Fast\", ").unwrap();
    let out = eco.path("out");
    let output = eco.render(&[data("rea-sample.json"), broken], &out, "cache", &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not valid JSON"), "{stderr}");
    assert!(!out.exists());
    assert!(
        eco.server.requests().is_empty(),
        "nothing may be downloaded"
    );
}

#[test]
fn only_renders_the_named_distributions_and_their_dependencies() {
    let eco = Ecosystem::new();
    let out = eco.path("out");
    ok(&eco.render(
        &[data("rea-sample.json")],
        &out,
        "cache",
        &["--only", "JSON::Class"],
    ));
    let names = rendered_names(&report(&out));
    for needed in [
        "raku-json-class",
        "raku-json-fast",
        "raku-json-marshal",
        "raku-json-unmarshal",
    ] {
        assert!(
            names.contains(&needed.to_string()),
            "{needed} missing from {names:?}"
        );
    }
    assert!(!names.contains(&"raku-cro-http".to_string()), "{names:?}");
    assert!(names.len() < 15, "{names:?}");
}

#[test]
fn an_archive_whose_bytes_changed_is_an_alarm_not_an_update() {
    let eco = Ecosystem::new();
    let out = eco.path("out");
    ok(&eco.render(
        &[data("rea-sample.json")],
        &out,
        "cache",
        &["--only", "JSON::Fast"],
    ));
    // Pretend the cache entry predates the current inspection code and remembers other
    // bytes: the archive is downloaded again, and its checksum no longer matches.
    let cache_file = eco.path("cache/tarballs.json");
    let mut cache: Value = serde_json::from_slice(&std::fs::read(&cache_file).unwrap()).unwrap();
    let entries = cache["entries"].as_object_mut().unwrap();
    assert_eq!(entries.len(), 1);
    let entry = entries.values_mut().next().unwrap();
    entry["facts_version"] = json!(0);
    entry["facts"]["sha256"] = json!("0".repeat(64));
    std::fs::write(&cache_file, serde_json::to_vec(&cache).unwrap()).unwrap();

    ok(&eco.render(
        &[data("rea-sample.json")],
        &out,
        "cache",
        &["--only", "JSON::Fast"],
    ));
    let report = report(&out);
    let reason = report["held"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("ALARM: the archive at this URL changed"),
        "{reason}"
    );
    assert!(!out.join("raku-json-fast").exists());
    // The alarm is not forgotten: the remembered checksum is kept, so the next run alarms too.
    let cache: Value = serde_json::from_slice(&std::fs::read(&cache_file).unwrap()).unwrap();
    assert_eq!(
        cache["entries"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["facts"]["sha256"],
        json!("0".repeat(64))
    );
}

#[test]
fn an_index_can_be_read_over_http() {
    let eco = Ecosystem::new();
    std::fs::copy(data("rea-sample.json"), eco.path("archive/index.json")).unwrap();
    let url = format!("{}index.json", eco.server.base_url());
    let out = eco.path("out");
    let output = eco.render(
        &[PathBuf::from(&url)],
        &out,
        "cache",
        &["--only", "JSON::Fast"],
    );
    ok(&output);
    assert_eq!(rendered_names(&report(&out)), ["raku-json-fast"]);
    assert!(
        eco.server
            .requests()
            .contains(&"GET /index.json".to_string()),
        "{:?}",
        eco.server.requests()
    );

    // A URL that fails is a fatal error that says which index, and writes nothing.
    let missing = format!("{}no-such-index.json", eco.server.base_url());
    let out = eco.path("out-missing");
    let output = eco.render(&[PathBuf::from(&missing)], &out, "cache", &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no-such-index.json") && stderr.contains("404"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn an_unchanged_index_is_not_downloaded_again_and_a_bad_one_never_replaces_it() {
    let eco = Ecosystem::new();
    std::fs::copy(data("rea-sample.json"), eco.path("archive/index.json")).unwrap();
    let url = PathBuf::from(format!("{}index.json", eco.server.base_url()));
    let only = ["--only", "JSON::Fast"];
    ok(&eco.render(
        std::slice::from_ref(&url),
        &eco.path("out1"),
        "cache",
        &only,
    ));
    let after_first = eco.server.body_bytes_sent();
    assert!(after_first > 80_000, "{after_first}");

    // Unchanged: a conditional request, answered 304, costs no body at all.
    ok(&eco.render(
        std::slice::from_ref(&url),
        &eco.path("out2"),
        "cache",
        &only,
    ));
    assert_eq!(eco.server.body_bytes_sent(), after_first);
    assert_eq!(tree(&eco.path("out1")), tree(&eco.path("out2")));

    // The index changes, but the download is cut short: the run fails and keeps nothing.
    let mut entries: Vec<Value> =
        serde_json::from_slice(&std::fs::read(data("rea-sample.json")).unwrap()).unwrap();
    entries.reverse();
    std::fs::write(
        eco.path("archive/index.json"),
        serde_json::to_vec(&entries).unwrap(),
    )
    .unwrap();
    eco.server.set_fault("index.json", Fault::Truncated);
    let out = eco.path("out3");
    let output = eco.render(std::slice::from_ref(&url), &out, "cache", &only);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!out.exists());
    let tries = eco
        .server
        .requests()
        .iter()
        .filter(|r| *r == "GET /index.json")
        .count();
    assert_eq!(tries, 2 + 3, "three attempts for the truncated download");

    // A server error is retried, then fatal.
    eco.server.set_fault("index.json", Fault::Status(503));
    let output = eco.render(std::slice::from_ref(&url), &out, "cache", &only);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("503"));

    // Once the server is well again, the new index is fetched whole and used.
    eco.server.clear_fault("index.json");
    ok(&eco.render(std::slice::from_ref(&url), &out, "cache", &only));
    assert_eq!(tree(&out), tree(&eco.path("out1")));
}

#[test]
fn report_json_is_the_same_bytes_whatever_the_order_of_the_index() {
    let eco = Ecosystem::new();
    let mut entries: Vec<Value> = Vec::new();
    for file in ["rea-sample.json", "rea-pages.json"] {
        let list: Vec<Value> = serde_json::from_slice(&std::fs::read(data(file)).unwrap()).unwrap();
        entries.extend(list);
    }
    // Entries that cannot be read, two of them described alike.
    entries.extend([
        json!({"name": "Skipped::Entry"}),
        json!({"name": "Skipped::Entry", "version": 1}),
        json!({"name": "Another::Skipped", "version": {}}),
    ]);
    // One path for every order: a skipped entry's description may name the file.
    let index = eco.path("index.json");
    let hash = |e: &Value| {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&e.to_string(), &mut h);
        std::hash::Hasher::finish(&h)
    };
    let mut reports = Vec::new();
    for order in ["as given", "reversed", "shuffled"] {
        match order {
            "reversed" => entries.reverse(),
            "shuffled" => entries.sort_by_cached_key(hash),
            _ => {}
        }
        std::fs::write(&index, serde_json::to_vec(&entries).unwrap()).unwrap();
        let out = eco.path(order);
        ok(&eco.render(std::slice::from_ref(&index), &out, "cache", &[]));
        reports.push((order, std::fs::read(out.join("report.json")).unwrap()));
    }
    let first: Value = serde_json::from_slice(&reports[0].1).unwrap();
    for list in ["rendered", "held", "skipped"] {
        assert!(
            first[list].as_array().unwrap().len() > 1,
            "{list}: {first:#}"
        );
    }
    for (order, bytes) in &reports[1..] {
        assert!(
            *bytes == reports[0].1,
            "report.json differs when the index is {order}"
        );
    }
}
