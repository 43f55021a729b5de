//! Oracle tests for the `.SRCINFO` writer and the shell quoting it relies on.
//!
//! For each model: a PKGBUILD is written with a small local writer (quoting every value with
//! `shell::single_quote`), Debian's `makepkg --printsrcinfo` must print exactly what
//! `write_srcinfo` writes, `validate_srcinfo` must accept it, and bash must read every value
//! back as exactly the model's string while running none of the hostile text.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use alpm_types::{Name, PackageRelation};
use raku_aur::render::model::{BuildSteps, PackageModel};
use raku_aur::render::shell::{is_url_safe, sanitize_line, single_quote};
use raku_aur::render::srcinfo::{validate_srcinfo, write_srcinfo};
use tempfile::TempDir;

use crate::common;
use common::makepkg::printsrcinfo;

const SCALARS: [&str; 6] = ["pkgname", "pkgver", "pkgrel", "epoch", "pkgdesc", "url"];
const ARRAYS: [&str; 10] = [
    "arch",
    "license",
    "depends",
    "makedepends",
    "checkdepends",
    "optdepends",
    "provides",
    "conflicts",
    "source",
    "sha256sums",
];

/// What printing the executed canary command would show.
const EXECUTED_MARKER: &str = "CANARY-EXECUTED";

fn relations(specs: &[&str]) -> Vec<PackageRelation> {
    specs.iter().map(|s| s.parse().expect(s)).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

fn minimal() -> PackageModel {
    PackageModel {
        pkgname: Name::new("raku-json-fast").unwrap(),
        pkgver: "0.19".parse().unwrap(),
        pkgrel: "1".parse().unwrap(),
        epoch: None,
        pkgdesc: "A naive imperative JSON parser in pure Raku".into(),
        url: String::new(),
        arch: strings(&["any"]),
        license: Vec::new(),
        depends: Vec::new(),
        makedepends: Vec::new(),
        checkdepends: Vec::new(),
        optdepends: Vec::new(),
        provides: Vec::new(),
        conflicts: Vec::new(),
        source: Vec::new(),
        sha256sums: Vec::new(),
        build: BuildSteps {
            dist: "JSON::Fast:ver<0.19>:auth<cpan:TIMOTIMO>".into(),
            source_dir: "JSON-Fast-0.19".into(),
            tests: Vec::new(),
            bin_scripts: Vec::new(),
            license_files: Vec::new(),
            maintainer: "raku-aur bot <bot@example.org>".into(),
        },
    }
}

fn every_field() -> PackageModel {
    PackageModel {
        pkgname: Name::new("raku-cro-http").unwrap(),
        pkgver: "0.8.9.1".parse().unwrap(),
        pkgrel: "2.1".parse().unwrap(),
        epoch: Some(3),
        pkgdesc: "Cro HTTP client and server".into(),
        // Every delimiter `is_url_safe` allows.
        url: "https://github.com/croservices/cro-http/~a_b.c-d?x=1&y=%3A+2,3;z=@[h]#f:g".into(),
        arch: strings(&["x86_64"]),
        license: strings(&["Artistic-2.0", "LicenseRef-Cro"]),
        depends: relations(&[
            "rakudo>=2022.12",
            "raku-base64=0.1",
            "raku-json-fast<1.0",
            "raku-cro-core",
        ]),
        makedepends: relations(&["git"]),
        checkdepends: relations(&["perl>5.30", "raku-test-mock<=2"]),
        optdepends: strings(&["raku-io-socket-async-ssl: for HTTPS", "raku-cro-ws"]),
        provides: relations(&["raku-cro-http=0.8.9.1"]),
        conflicts: relations(&["raku-cro-http-git"]),
        source: strings(&[
            "raku-cro-http-0.8.9.1.tar.gz::https://github.com/croservices/cro-http/archive/v0.8.9.1.tar.gz",
            "LICENSE::https://example.org/LICENSE?x=1&y=%3A",
        ]),
        sha256sums: strings(&[
            "7f2b0e5d3c1a9f8e6d4b2a0c9e7f5d3b1a9c8e6f4d2b0a9e7c5f3d1b9a8c6e4f",
            "SKIP",
        ]),
        ..minimal()
    }
}

/// Text that breaks naive quoting or runs commands. Commands, if run, create files in
/// `canary` or print [`EXECUTED_MARKER`] (the text itself contains neither).
fn hostile(canary: &Path) -> String {
    let c = canary.display();
    format!(
        "it's \"quoted\" '; touch {c}/sq; ' \"; touch {c}/dq; \" $(touch {c}/cmdsub) \
         `touch {c}/backtick` $(printf 'CANARY%s' -EXECUTED) <(touch {c}/procsub) \
         > {c}/redirect ${{HOME}} $HOME ~ ~root \\ \\\\ \\n ! !! * ? [a] {{a,b}} ; && | \
         %s %n %% -e $'\\x41' line\nbreak\ttab\rcr\0nul \x1b[31mred\x1b[0m \x1b]0;title\x07 \
         del\x7f nel\u{85} \u{202E}evil\u{202C} \u{2066}iso\u{2069} \u{202A}\u{202B}\u{202D} \
         ls\u{2028}ps\u{2029} zw\u{200B}sp bom\u{FEFF} nb\u{A0}sp id\u{3000}sp \
         é 漢字 🦀 👨\u{200D}👩\u{200D}👧"
    )
}

fn canary_dir() -> TempDir {
    // Writable by everyone, so that a command run by the unprivileged makepkg user would leave
    // its file too.
    let dir = tempfile::Builder::new()
        .prefix("raku-aur-canary-")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn assert_canary_untouched(canary: &Path, outputs: &[&[u8]]) {
    let left: Vec<_> = fs::read_dir(canary).unwrap().collect();
    assert!(left.is_empty(), "hostile text ran a command: {left:?}");
    for output in outputs {
        assert!(
            !String::from_utf8_lossy(output).contains(EXECUTED_MARKER),
            "hostile text ran a command that printed {EXECUTED_MARKER}"
        );
    }
}

fn quote(value: &str) -> String {
    single_quote(value).expect("model values hold no NUL or CR")
}

/// The values each PKGBUILD variable should hold: scalars as zero or one elements.
fn expected_values(m: &PackageModel) -> Vec<(&'static str, Vec<String>)> {
    fn list<T: ToString>(values: &[T]) -> Vec<String> {
        values.iter().map(ToString::to_string).collect()
    }
    vec![
        ("pkgname", vec![m.pkgname.to_string()]),
        ("pkgver", vec![m.pkgver.to_string()]),
        ("pkgrel", vec![m.pkgrel.to_string()]),
        ("epoch", m.epoch.iter().map(u64::to_string).collect()),
        ("pkgdesc", vec![m.pkgdesc.clone()]),
        ("url", vec![m.url.clone()]),
        ("arch", m.arch.clone()),
        ("license", m.license.clone()),
        ("depends", list(&m.depends)),
        ("makedepends", list(&m.makedepends)),
        ("checkdepends", list(&m.checkdepends)),
        ("optdepends", m.optdepends.clone()),
        ("provides", list(&m.provides)),
        ("conflicts", list(&m.conflicts)),
        ("source", m.source.clone()),
        ("sha256sums", m.sha256sums.clone()),
    ]
}

/// A stand-in for the real template: variables in an order unlike `.SRCINFO`'s, empty values
/// and arrays written out (makepkg must drop them), and an empty `package()`.
fn write_pkgbuild(m: &PackageModel) -> String {
    let mut pkgbuild = String::from("# Test PKGBUILD\n");
    for (name, values) in expected_values(m) {
        let words: Vec<String> = values.iter().map(|v| quote(v)).collect();
        if SCALARS.contains(&name) {
            if let [value] = words.as_slice() {
                pkgbuild.push_str(&format!("{name}={value}\n"));
            }
        } else {
            pkgbuild.push_str(&format!("{name}=({})\n", words.join(" ")));
        }
    }
    pkgbuild.push_str("\npackage() {\n  :\n}\n");
    pkgbuild
}

/// Sources the PKGBUILD in `dir` with bash and prints every variable, NUL-separated: the
/// number of elements, then the elements (an unset scalar has none).
fn bash_values(dir: &Path) -> (Vec<(&'static str, Vec<String>)>, Output) {
    let script = format!(
        "source ./PKGBUILD
         for _v in {scalars}; do
           if [[ -v $_v ]]; then printf '%s\\0' 1 \"${{!_v}}\"; else printf '%s\\0' 0; fi
         done
         for _v in {arrays}; do
           _e=\"$_v[@]\"; _vals=(\"${{!_e}}\")
           printf '%s\\0' \"${{#_vals[@]}}\" \"${{_vals[@]}}\"
         done",
        scalars = SCALARS.join(" "),
        arrays = ARRAYS.join(" "),
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .current_dir(dir)
        .output()
        .expect("start bash");
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "bash failed to source the PKGBUILD: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout.clone()).expect("bash printed UTF-8");
    let mut fields = text.split('\0');
    let mut values = Vec::new();
    for name in SCALARS.iter().chain(&ARRAYS) {
        let count: usize = fields.next().unwrap().parse().unwrap();
        values.push((
            *name,
            fields.by_ref().take(count).map(String::from).collect(),
        ));
    }
    assert_eq!(
        fields.collect::<Vec<_>>(),
        [""],
        "unexpected output from bash"
    );
    (values, output)
}

/// Sorts bash's answers into `expected_values` order for comparison.
fn in_model_order(
    mut values: Vec<(&'static str, Vec<String>)>,
    m: &PackageModel,
) -> Vec<(&'static str, Vec<String>)> {
    let order: Vec<&str> = expected_values(m).iter().map(|(name, _)| *name).collect();
    values.sort_by_key(|(name, _)| order.iter().position(|n| n == name));
    values
}

/// Writes `m`'s PKGBUILD, checks that bash reads back the model's values, and returns the
/// directory along with bash's output.
fn pkgbuild_dir(m: &PackageModel) -> (TempDir, Output) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("PKGBUILD"), write_pkgbuild(m)).unwrap();
    let (values, output) = bash_values(dir.path());
    assert_eq!(in_model_order(values, m), expected_values(m));
    (dir, output)
}

/// The full check for one model; returns makepkg's output for further assertions.
fn check_against_makepkg(m: &PackageModel) -> String {
    let (dir, _) = pkgbuild_dir(m);
    let ours = write_srcinfo(m);
    let makepkg = printsrcinfo(dir.path());
    assert_eq!(
        ours, makepkg,
        "write_srcinfo differs from makepkg --printsrcinfo"
    );
    validate_srcinfo(&ours).unwrap_or_else(|e| panic!("{e}\n{ours}"));
    makepkg
}

#[test]
fn minimal_model() {
    let srcinfo = check_against_makepkg(&minimal());
    assert_eq!(
        srcinfo,
        "pkgbase = raku-json-fast\n\
         \tpkgdesc = A naive imperative JSON parser in pure Raku\n\
         \tpkgver = 0.19\n\
         \tpkgrel = 1\n\
         \tarch = any\n\
         \n\
         pkgname = raku-json-fast\n"
    );
}

#[test]
fn every_field_set_in_makepkg_order() {
    let srcinfo = check_against_makepkg(&every_field());
    let keys: Vec<&str> = srcinfo
        .lines()
        .filter_map(|line| line.strip_prefix('\t')?.split(" = ").next())
        .collect();
    assert_eq!(
        keys,
        [
            "pkgdesc",
            "pkgver",
            "pkgrel",
            "epoch",
            "url",
            "arch",
            "license",
            "license",
            "checkdepends",
            "checkdepends",
            "makedepends",
            "depends",
            "depends",
            "depends",
            "depends",
            "optdepends",
            "optdepends",
            "provides",
            "conflicts",
            "source",
            "source",
            "sha256sums",
            "sha256sums",
        ]
    );
    assert!(srcinfo.contains("\tpkgrel = 2.1\n\tepoch = 3\n\turl = "));
    assert!(srcinfo.contains("\toptdepends = raku-io-socket-async-ssl: for HTTPS\n"));
    assert!(srcinfo.contains("\tdepends = raku-json-fast<1.0\n"));
}

#[test]
fn epoch_zero_is_written() {
    let m = PackageModel {
        epoch: Some(0),
        ..minimal()
    };
    assert!(check_against_makepkg(&m).contains("\tpkgrel = 1\n\tepoch = 0\n"));
}

#[test]
fn hostile_text_after_sanitize_line() {
    let canary = canary_dir();
    let text = hostile(canary.path());
    let line = sanitize_line(&text, usize::MAX);
    assert!(!is_url_safe(&line));
    let m = PackageModel {
        pkgdesc: line.clone(),
        url: line.clone(),
        optdepends: vec![format!("raku-foo: {}", sanitize_line(&text, 80))],
        ..every_field()
    };
    let (dir, bash_output) = pkgbuild_dir(&m);
    let ours = write_srcinfo(&m);
    let makepkg = printsrcinfo(dir.path());
    assert_eq!(ours, makepkg);
    // The model only admits `is_url_safe` URLs; the Arch parser rejects this one.
    assert!(validate_srcinfo(&ours).is_err());
    let safe_url = PackageModel {
        url: every_field().url,
        ..m
    };
    validate_srcinfo(&write_srcinfo(&safe_url)).unwrap();
    assert!(ours.contains(&format!("\tpkgdesc = {line}\n")));
    assert_canary_untouched(canary.path(), &[&bash_output.stderr, makepkg.as_bytes()]);
}

/// makepkg's whitespace rewrite (an extglob substitution) takes time cubic in a value's
/// length: 0.4 s at 250 chars, 27 s at 1,000, 220 s at 2,000. So the 10,000-char text meets
/// makepkg only after `sanitize_line` has cut it; whole, it is checked by bash and alpm-srcinfo.
#[test]
fn ten_thousand_chars_kept_or_cut() {
    let text: String = "Raku 漢字 🦀 é\t\n".chars().cycle().take(10_000).collect();
    assert_eq!(text.chars().count(), 10_000);
    let whole = sanitize_line(&text, 20_000);
    let cut = sanitize_line(&text, 80);
    assert!(cut.chars().count() <= 80);
    let kept = cut.strip_suffix('…').unwrap();
    assert!(whole.starts_with(kept) && whole[kept.len()..].starts_with(' '));

    let long = PackageModel {
        pkgdesc: whole.clone(),
        ..minimal()
    };
    pkgbuild_dir(&long);
    let srcinfo = write_srcinfo(&long);
    assert!(srcinfo.contains(&format!("\tpkgdesc = {whole}\n")));
    validate_srcinfo(&srcinfo).unwrap();

    check_against_makepkg(&PackageModel {
        pkgdesc: cut.clone(),
        optdepends: vec![format!("raku-foo: {cut}")],
        ..minimal()
    });
}

#[test]
fn bash_reads_raw_hostile_values_verbatim() {
    let canary = canary_dir();
    let raw: String = hostile(canary.path()).replace(['\0', '\r'], "");
    let m = PackageModel {
        pkgdesc: raw.clone(),
        url: raw.clone(),
        license: vec![raw.clone(), String::new()],
        optdepends: vec![raw.clone()],
        source: vec![raw],
        ..every_field()
    };
    let (_dir, output) = pkgbuild_dir(&m);
    assert_canary_untouched(canary.path(), &[&output.stdout, &output.stderr]);
}

/// Every char of the Basic Multilingual Plane and of the tag block, sanitised in chunks, must
/// come back unchanged from makepkg's own `srcinfo_write_attr` (sourced from makepkg's
/// library, not copied) in both the C and the C.UTF-8 locale.
#[test]
fn sanitized_text_is_a_fixed_point_of_makepkg_whitespace_rewrite() {
    let chars: Vec<char> = ('\u{1}'..='\u{FFFF}')
        .chain('\u{E0000}'..='\u{E007F}')
        .collect();
    let chunks: Vec<String> = chars
        .chunks(256)
        .map(|chunk| sanitize_line(&chunk.iter().collect::<String>(), usize::MAX))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("values");
    fs::write(&input, chunks.join("\0")).unwrap();
    let expected: String = chunks.iter().map(|c| format!("\tk = {c}\n")).collect();
    for locale in ["C", "C.UTF-8"] {
        let output = Command::new("bash")
            .args(["--norc", "--noprofile", "-c"])
            .arg(
                "shopt -s extglob
                 source /usr/share/makepkg/srcinfo.sh
                 mapfile -t -d '' values < \"$1\"
                 s=é; printf '%s\\n' \"${#s}\" >&2
                 srcinfo_write_attr k \"${values[@]}\"",
            )
            .args(["bash", input.to_str().unwrap()])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", locale)
            .output()
            .expect("start bash");
        assert!(output.status.success(), "{output:?}");
        // é is one char only when the UTF-8 locale really is active.
        let chars_in_e = if locale == "C" { "2\n" } else { "1\n" };
        assert_eq!(String::from_utf8_lossy(&output.stderr), chars_in_e);
        assert!(
            String::from_utf8(output.stdout).unwrap() == expected,
            "makepkg rewrote sanitised text in locale {locale}"
        );
    }
}

/// One quoted word holding (nearly) every char comes back from bash byte for byte.
#[test]
fn single_quote_round_trips_through_bash() {
    let text: String = ('\u{1}'..='\u{FFFF}')
        .chain(['\u{1F980}', '\u{E0041}', '\u{10FFFF}'])
        .filter(|&c| c != '\r')
        .chain("'''\\'".chars())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script");
    fs::write(&script, format!("x={}\nprintf %s \"$x\"\n", quote(&text))).unwrap();
    for locale in ["C", "C.UTF-8"] {
        let output = Command::new("bash")
            .args(["--norc", "--noprofile"])
            .arg(&script)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", locale)
            .output()
            .expect("start bash");
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{output:?}"
        );
        assert!(
            output.stdout == text.as_bytes(),
            "bash changed the value in {locale}"
        );
    }
}
