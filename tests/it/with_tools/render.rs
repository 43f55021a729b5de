//! `raku-aur render` checked by makepkg and bash: makepkg must print exactly the .SRCINFO we
//! write, and sourcing a PKGBUILD rendered from hostile metadata must run none of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use crate::render::{Ecosystem, ok, render_command, rendered_names, report, srcinfo_value};
use common::fixtures::{self, ArchiveOptions, REA_ARCHIVE_PREFIX};
use common::http::TestServer;
use serde_json::{Value, json};

#[test]
fn makepkg_prints_exactly_our_srcinfo() {
    let eco = Ecosystem::new();
    let out = eco.path("out");
    ok(&eco.render_real(&out, "cache"));
    let names = rendered_names(&report(&out));
    assert!(names.len() >= 50);
    // About a second per makepkg call: two at a time, one per core.
    let dirs: Vec<PathBuf> = names.iter().map(|n| out.join(n)).collect();
    std::thread::scope(|scope| {
        for half in dirs.chunks(dirs.len().div_ceil(2)) {
            scope.spawn(move || {
                for dir in half {
                    let ours = std::fs::read_to_string(dir.join(".SRCINFO")).unwrap();
                    assert_eq!(
                        ours,
                        common::makepkg::printsrcinfo(dir),
                        "{}",
                        dir.display()
                    );
                }
            });
        }
    });
}

/// Values planted in a hostile META6 entry; none may run, all must survive quoting.
const CANARY: &str = "RAKU_AUR_CANARY";

fn hostile_entry(marker: &Path) -> Value {
    let m = marker.display();
    let payload = format!(
        "a'b\"c $(touch {m}) `touch {m}` ${{HOME}} \\ ! * ~ $'\\x41' {CANARY}\nnext line\ttab\r\u{1b}[31mred\u{202e}rtl\0nul 漢字 é 🎉"
    );
    serde_json::json!({
        "name": "Hostile::Dist",
        "version": "1.2.3",
        "auth": format!("zef:evil$(touch {m})"),
        "description": format!("{payload}{}", "x".repeat(10_000)),
        "license": format!("MIT' ; touch {m}; '"),
        "support": { "source": format!("https://example.org/'$(touch {m})'") },
        "provides": { "Hostile::Dist": "lib/Hostile/Dist.rakumod" },
        "depends": [],
        "source-url": format!("{REA_ARCHIVE_PREFIX}H/Hostile%3A%3ADist/Hostile.tar.gz"),
        "dist": "Hostile::Dist:ver<1.2.3>"
    })
}

#[test]
fn hostile_values_are_quoted_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let entry = hostile_entry(&marker);
    let index = dir.path().join("hostile.json");
    std::fs::write(&index, serde_json::to_vec(&[&entry]).unwrap()).unwrap();
    let archive = dir.path().join("archive");
    fixtures::write_archive_with(
        &entry,
        &archive,
        REA_ARCHIVE_PREFIX,
        &ArchiveOptions {
            // File names cannot hold `/`: these planted commands touch a file in the
            // directory the PKGBUILD is sourced in.
            top_dir: Some("top 'dir' $(touch pwned-top)".into()),
            bin_scripts: vec!["$(touch pwned-bin)".into(), "good-script".into()],
            ..ArchiveOptions::default()
        },
    );
    let server = TestServer::serve_dir(&archive);
    let out = dir.path().join("out");
    let output = render_command(
        std::slice::from_ref(&index),
        &out,
        &dir.path().join("cache"),
        &server,
    )
    .arg("--maintainer")
    .arg(format!(
        "Evil $(touch {}) <e@x>\nrm -rf ~",
        marker.display()
    ))
    .output()
    .unwrap();
    ok(&output);
    let pkg = out.join("raku-hostile-dist");
    assert!(
        pkg.join("PKGBUILD").is_file(),
        "not rendered: {}",
        std::fs::read_to_string(out.join("report.json")).unwrap()
    );
    let pkgbuild = std::fs::read_to_string(pkg.join("PKGBUILD")).unwrap();

    // Source it in a clean bash and print every value back, one per line, NUL-separated.
    let script = r#"set -u
source ./PKGBUILD
for v in pkgname pkgver pkgrel pkgdesc url _srcdir; do printf '%s=%s\0' "$v" "${!v}"; done
for a in arch license depends source sha256sums _bin_scripts _license_files; do
  eval "vals=(\"\${$a[@]}\")"
  for x in "${vals[@]}"; do printf '%s[]=%s\0' "$a" "$x"; done
done"#;
    let sourced = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .current_dir(&pkg)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(
        sourced.status.success(),
        "{}",
        String::from_utf8_lossy(&sourced.stderr)
    );
    assert!(
        !marker.exists(),
        "sourcing the PKGBUILD ran a planted command"
    );
    assert!(!pkg.join("pwned-top").exists() && !pkg.join("pwned-bin").exists());
    let values: Vec<String> = String::from_utf8(sourced.stdout)
        .unwrap()
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let get = |key: &str| -> Vec<String> {
        values
            .iter()
            .filter_map(|v| v.strip_prefix(&format!("{key}=")).map(str::to_string))
            .collect()
    };
    let srcinfo = std::fs::read_to_string(pkg.join(".SRCINFO")).unwrap();
    // bash and the .SRCINFO agree on every value.
    assert_eq!(get("pkgdesc"), srcinfo_value(&srcinfo, "pkgdesc"));
    assert_eq!(get("url"), srcinfo_value(&srcinfo, "url"));
    assert_eq!(get("license[]"), srcinfo_value(&srcinfo, "license"));
    assert_eq!(get("source[]"), srcinfo_value(&srcinfo, "source"));
    // The planted text is there, as text.
    let desc = &get("pkgdesc")[0];
    assert!(
        desc.contains("$(touch") && desc.contains(CANARY) && desc.contains('\''),
        "{desc}"
    );
    assert!(!desc.contains('\n') && !desc.contains('\0') && !desc.contains('\u{1b}'));
    assert!(desc.chars().count() <= 120);
    assert_eq!(get("_srcdir"), ["top 'dir' $(touch pwned-top)"]);
    assert_eq!(get("_bin_scripts[]"), ["good-script"]);
    let license = get("license[]");
    assert_eq!(license.len(), 1);
    assert!(
        license[0].starts_with("LicenseRef-MIT-touch-"),
        "{license:?}"
    );
    assert!(
        license[0]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    );
    // Comments cannot be broken out of: the maintainer line stays one line.
    let maintainer_lines: Vec<&str> = pkgbuild.lines().filter(|l| l.contains("rm -rf")).collect();
    assert_eq!(maintainer_lines.len(), 1);
    assert!(maintainer_lines[0].starts_with("# Maintainer: "));

    // And makepkg, sourcing the same file, prints exactly our .SRCINFO.
    assert_eq!(common::makepkg::printsrcinfo(&pkg), srcinfo);
    assert!(!marker.exists(), "makepkg ran a planted command");
}

#[test]
fn packages_shipping_the_same_script_conflict_with_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |name: &str, file: &str| {
        json!({
            "name": name, "version": "1.0", "auth": "zef:test", "dist": format!("{name}:ver<1.0>:auth<zef:test>"),
            "description": "A tool", "license": "Artistic-2.0", "depends": [],
            "provides": { name: format!("lib/{file}.rakumod") },
            "source-url": format!("{REA_ARCHIVE_PREFIX}T/{file}.tar.gz"),
        })
    };
    let entries = [
        entry("Tool::One", "One"),
        entry("Tool::Two", "Two"),
        entry("Tool::Three", "Three"),
    ];
    let archive = dir.path().join("archive");
    for (e, scripts) in entries
        .iter()
        .zip([vec!["tool"], vec!["tool", "other"], vec!["third"]])
    {
        let options = ArchiveOptions {
            bin_scripts: scripts.into_iter().map(String::from).collect(),
            ..ArchiveOptions::default()
        };
        fixtures::write_archive_with(e, &archive, REA_ARCHIVE_PREFIX, &options);
    }
    let index = dir.path().join("index.json");
    std::fs::write(&index, serde_json::to_vec(&entries).unwrap()).unwrap();
    let server = TestServer::serve_dir(&archive);
    let out = dir.path().join("out");
    let output = render_command(
        std::slice::from_ref(&index),
        &out,
        &dir.path().join("cache"),
        &server,
    )
    .output()
    .unwrap();
    ok(&output);
    let conflicts = |pkg: &str| {
        let srcinfo = std::fs::read_to_string(out.join(pkg).join(".SRCINFO")).unwrap();
        srcinfo_value(&srcinfo, "conflicts")
    };
    assert_eq!(conflicts("raku-tool-one"), ["raku-tool-two"]);
    assert_eq!(conflicts("raku-tool-two"), ["raku-tool-one"]);
    assert!(conflicts("raku-tool-three").is_empty());
    let pkg = out.join("raku-tool-two");
    assert_eq!(
        common::makepkg::printsrcinfo(&pkg),
        std::fs::read_to_string(pkg.join(".SRCINFO")).unwrap()
    );
}
