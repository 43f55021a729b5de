//! A synthetic `packages-meta-ext-v1.json.gz`: the AUR's bulk metadata in its real format and
//! at its real size (about 100,000 packages, 11–20 MB gzipped, 80–150 MB of JSON), for timing
//! its parse and a sync's memory with it.
//!
//! Every field the AUR writes is there, in its order (ID, Name, PackageBaseID, PackageBase,
//! Version, Description, URL, NumVotes, Popularity, OutOfDate, Maintainer, Submitter,
//! FirstSubmitted, LastModified, URLPath, Depends, MakeDepends, CheckDepends, OptDepends,
//! Conflicts, Provides, Replaces, Groups, License, Keywords, CoMaintainers; empty dependency
//! lists left out, `Maintainer` null for orphans). Values are drawn from a seeded generator
//! with skewed choices (a few libraries, words and accounts are very common, most are rare)
//! and dependencies by family (`python-*` packages need python and its build tools, ...).
//! It compresses less well than the real file (about 4.7 to 1): at the same gzipped size it
//! has less JSON to parse than the real file would. The Raku-related packages are the real
//! snapshot in `tests/data/aur-raku-packages-meta.json`, three times: as they are, and twice
//! with every `perl6-*`/`raku-*` name given a `-cN` suffix. No generated name starts with
//! `perl6-` or `raku-`, so only those claim distributions.

use serde::Serialize;
use serde_json::{Value, json};

/// About the AUR's package count today.
pub const PACKAGES: usize = 100_000;
/// The real snapshot, as is and in this many renamed copies in all.
const RAKU_COPIES: usize = 3;

/// The Raku-related entries: the real snapshot and its renamed copies.
pub fn raku_entries(snapshot: &[u8]) -> Vec<Value> {
    let real: Vec<Value> = serde_json::from_slice(snapshot).expect("the AUR snapshot parses");
    let mut out = Vec::new();
    let mut rng = Rng(7);
    for copy in 0..RAKU_COPIES {
        for entry in &real {
            let mut entry = entry.clone();
            if copy > 0 {
                rename_raku_names(&mut entry, &format!("-c{copy}"));
            }
            if let Value::Object(map) = &mut entry {
                // The snapshot has no accounts; the real file does.
                map.insert("Maintainer".into(), json!(account(&mut rng)));
            }
            out.push(entry);
        }
    }
    out
}

/// The whole file's JSON: `raku` spread evenly among generated packages, `PACKAGES` in all.
pub fn generate(raku: &[Value]) -> Vec<u8> {
    let mut rng = Rng(2026);
    let total = PACKAGES.max(raku.len());
    let every = total / raku.len().max(1);
    let mut out = Vec::with_capacity(130_000_000);
    out.push(b'[');
    let mut raku = raku.iter();
    for i in 0..total {
        if i > 0 {
            out.push(b',');
        }
        match (i % every == 0).then(|| raku.next()).flatten() {
            Some(real) => serde_json::to_writer(&mut out, real),
            None => serde_json::to_writer(&mut out, &synthetic_package(&mut rng, i)),
        }
        .expect("serialises");
    }
    out.push(b']');
    out
}

fn rename_raku_names(value: &mut Value, suffix: &str) {
    match value {
        Value::String(s) => {
            let name_end = s.find(['<', '>', '=', ':']).unwrap_or(s.len());
            let name = &s[..name_end];
            if (name.starts_with("perl6-") || name.starts_with("raku-")) && name.len() > 6 {
                s.insert_str(name_end, suffix);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_raku_names(v, suffix)),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if matches!(
                    key.as_str(),
                    "Name"
                        | "PackageBase"
                        | "Depends"
                        | "MakeDepends"
                        | "CheckDepends"
                        | "OptDepends"
                        | "Provides"
                        | "Conflicts"
                        | "Replaces"
                ) {
                    rename_raku_names(v, suffix);
                }
            }
        }
        _ => {}
    }
}

/// splitmix64: small, seeded, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Skewed towards 0 (the fourth power of a uniform draw): low indexes are common, as a
    /// few dependencies, accounts and words are in the real file.
    fn skewed(&mut self, n: u64) -> u64 {
        let u = self.below(1 << 20) as f64 / f64::from(1 << 20);
        ((u * u * u * u) * n as f64) as u64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const SYLLABLES: [&str; 48] = [
    "ka", "lo", "mi", "ne", "so", "tu", "ra", "vi", "po", "de", "fa", "gu", "hi", "jo", "ze", "bi",
    "cu", "xa", "qu", "wy", "ar", "el", "in", "on", "us", "str", "pl", "gr", "th", "ch", "ex",
    "ix", "ol", "um", "an", "ic", "lib", "net", "py", "go", "js", "ml", "db", "io", "fs", "gl",
    "qt", "gtk",
];

/// A pseudo-word; `id` picks it, so the same id is the same word.
fn word(id: u64) -> String {
    let mut id = id;
    let mut w = String::new();
    for _ in 0..2 + id % 3 {
        w.push_str(SYLLABLES[(id % SYLLABLES.len() as u64) as usize]);
        id = id / SYLLABLES.len() as u64 + 7;
    }
    w
}

/// `least` to `least + spread - 1` words.
fn words(rng: &mut Rng, least: u64, spread: u64, vocabulary: u64) -> String {
    let count = least + rng.below(spread);
    (0..count)
        .map(|_| word(rng.skewed(vocabulary)))
        .collect::<Vec<_>>()
        .join(" ")
}

const SUFFIXES: [&str; 7] = ["", "", "", "-git", "-bin", "-git", "-appimage"];
const LICENSES: [&str; 8] = [
    "MIT",
    "GPL-3.0-or-later",
    "GPL-2.0-only",
    "Apache-2.0",
    "BSD-3-Clause",
    "custom",
    "LGPL-2.1-or-later",
    "MPL-2.0",
];

fn account(rng: &mut Rng) -> String {
    let id = rng.skewed(40_000);
    format!("{}{}", word(id + 1_000_000), id % 100)
}

/// Libraries and tools many packages need, most common first.
const COMMON: [&str; 40] = [
    "glibc",
    "gcc-libs",
    "zlib",
    "openssl",
    "curl",
    "qt5-base",
    "gtk3",
    "python",
    "bash",
    "hicolor-icon-theme",
    "qt6-base",
    "libx11",
    "dbus",
    "systemd-libs",
    "sqlite",
    "libpng",
    "freetype2",
    "fontconfig",
    "alsa-lib",
    "libpulse",
    "ffmpeg",
    "boost-libs",
    "gtk4",
    "desktop-file-utils",
    "electron",
    "java-runtime",
    "nss",
    "libxss",
    "at-spi2-core",
    "mesa",
    "sdl2",
    "wayland",
    "libxkbcommon",
    "pcre2",
    "icu",
    "glib2",
    "cairo",
    "pango",
    "harfbuzz",
    "libsecret",
];

/// What a family of packages (by name prefix) depends on: its runtime, its usual build
/// tools, and libraries of its own kind.
struct Family {
    prefix: &'static str,
    runtime: &'static [&'static str],
    build: &'static [&'static str],
    check: &'static [&'static str],
}

const FAMILIES: [Family; 6] = [
    Family {
        prefix: "",
        runtime: &[],
        build: &["cmake", "git", "meson", "ninja"],
        check: &[],
    },
    Family {
        prefix: "python-",
        runtime: &["python"],
        build: &[
            "python-build",
            "python-installer",
            "python-wheel",
            "python-setuptools",
        ],
        check: &["python-pytest"],
    },
    Family {
        prefix: "lib",
        runtime: &["glibc"],
        build: &["cmake", "git"],
        check: &[],
    },
    Family {
        prefix: "perl-",
        runtime: &["perl"],
        build: &[],
        check: &["perl-test-simple"],
    },
    Family {
        prefix: "ruby-",
        runtime: &["ruby"],
        build: &["ruby-rdoc"],
        check: &[],
    },
    Family {
        prefix: "nodejs-",
        runtime: &["nodejs"],
        build: &["npm"],
        check: &[],
    },
];

/// A dependency of a package of `family`: a common library, or a package of its own kind.
fn dependency(rng: &mut Rng, family: &Family) -> String {
    let name = if family.prefix.is_empty() || rng.chance(40) {
        COMMON[rng.skewed(COMMON.len() as u64) as usize].to_string()
    } else {
        format!("{}{}", family.prefix, word(rng.skewed(3_000) + 500))
    };
    match rng.below(12) {
        0 => format!("{name}>={}.{}", rng.below(10), rng.below(30)),
        _ => name,
    }
}

fn dependencies(rng: &mut Rng, family: &Family, usual: &[&str], up_to: u64) -> Vec<String> {
    let mut out: Vec<String> = usual
        .iter()
        .filter(|_| rng.chance(80))
        .map(|d| d.to_string())
        .collect();
    for _ in 0..rng.skewed(up_to + 1) {
        let d = dependency(rng, family);
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

fn version(rng: &mut Rng) -> String {
    let epoch = if rng.chance(3) {
        format!("{}:", 1 + rng.below(3))
    } else {
        String::new()
    };
    let pkgver = match rng.below(6) {
        0 => format!("r{}.{:07x}", rng.below(5000), rng.next() & 0xfff_ffff),
        1 => format!("{}.{}", rng.below(30), rng.below(100)),
        _ => format!("{}.{}.{}", rng.below(10), rng.below(50), rng.below(200)),
    };
    format!("{epoch}{pkgver}-{}", 1 + rng.skewed(12))
}

/// One package, its fields in the order the AUR writes them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Package {
    #[serde(rename = "ID")]
    id: u64,
    name: String,
    #[serde(rename = "PackageBaseID")]
    package_base_id: u64,
    package_base: String,
    version: String,
    description: Option<String>,
    #[serde(rename = "URL")]
    url: Option<String>,
    num_votes: u64,
    popularity: f64,
    out_of_date: Option<u64>,
    maintainer: Option<String>,
    submitter: String,
    first_submitted: u64,
    last_modified: u64,
    #[serde(rename = "URLPath")]
    url_path: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    make_depends: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    check_depends: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    opt_depends: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conflicts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    provides: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replaces: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<String>,
    license: Vec<String>,
    keywords: Vec<String>,
    co_maintainers: Vec<String>,
}

fn synthetic_package(rng: &mut Rng, i: usize) -> Package {
    let family = &FAMILIES[rng.skewed(FAMILIES.len() as u64 * 2).min(5) as usize];
    let stem = format!(
        "{}{}",
        family.prefix,
        (0..1 + rng.below(3))
            .map(|_| word(rng.skewed(30_000) + 500))
            .collect::<Vec<_>>()
            .join("-")
    );
    let suffix = SUFFIXES[rng.below(SUFFIXES.len() as u64) as usize];
    // Unique: the AUR has one package per name.
    let name = format!("{stem}{suffix}-{i}");
    let base = if rng.chance(5) {
        format!("{stem}-split-{i}")
    } else {
        name.clone()
    };
    let id = 10_000 + i as u64 * 3;
    let first = 1_250_000_000 + rng.below(520_000_000);
    let user = word(rng.skewed(40_000) + 2_000_000);
    let maintainer = (!rng.chance(12)).then(|| account(rng));
    let (conflicts, provides) = if !suffix.is_empty() {
        let provide = if rng.chance(50) {
            stem.clone()
        } else {
            let v = version(rng);
            format!("{stem}={}", v.split('-').next().unwrap_or("1"))
        };
        (vec![stem.clone()], vec![provide])
    } else if rng.chance(8) {
        (vec![], vec![format!("lib{stem}.so=1-64")])
    } else {
        (vec![], vec![])
    };
    Package {
        id,
        package_base_id: id / 2,
        url_path: format!("/cgit/aur.git/snapshot/{base}.tar.gz"),
        name,
        package_base: base,
        version: version(rng),
        description: (!rng.chance(2)).then(|| {
            let text = words(rng, 3, 10, 3_000);
            if rng.chance(30) {
                format!("{stem} - {text}")
            } else {
                text
            }
        }),
        url: (!rng.chance(3)).then(|| {
            let host = [
                "github.com",
                "gitlab.com",
                "codeberg.org",
                "sourceforge.net",
            ];
            format!("https://{}/{user}/{stem}", host[rng.below(4) as usize])
        }),
        num_votes: rng.skewed(2_000),
        // Most packages have none; the rest have six decimals.
        popularity: if rng.chance(65) {
            0.0
        } else {
            rng.skewed(10_000_000) as f64 / 1e6
        },
        out_of_date: rng.chance(10).then(|| first + rng.below(100_000_000)),
        maintainer: maintainer.clone(),
        submitter: match maintainer {
            Some(m) if rng.chance(70) => m,
            _ => account(rng),
        },
        first_submitted: first,
        last_modified: first + rng.below(200_000_000),
        depends: dependencies(rng, family, family.runtime, 60),
        make_depends: dependencies(rng, family, family.build, 20),
        check_depends: dependencies(rng, family, family.check, 2),
        opt_depends: (0..rng.skewed(12))
            .map(|_| {
                let d = dependency(rng, family);
                format!("{d}: for {} support", word(rng.skewed(3_000)))
            })
            .collect(),
        conflicts,
        provides,
        replaces: if rng.chance(2) {
            vec![format!("{stem}-old")]
        } else {
            vec![]
        },
        groups: if rng.chance(4) {
            vec![word(rng.skewed(300))]
        } else {
            vec![]
        },
        license: vec![LICENSES[rng.skewed(LICENSES.len() as u64) as usize].to_string()],
        keywords: (0..rng.skewed(7))
            .map(|_| word(rng.skewed(5_000)))
            .collect(),
        co_maintainers: (0..rng.skewed(3)).map(|_| account(rng)).collect(),
    }
}
