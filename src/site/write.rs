//! The site's files: the templates of `templates/site/` rendered with tera (autoescaping every
//! value: they are all the index's, or the AUR's, or derived from them), `packages.json`, the
//! build logs as plain text; then written out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context;
use serde::Serialize;

use super::install::{RepoInfo, install};
use super::model::{Dep, Site};

/// The directory of package pages, and of build logs, inside the site.
const PAGES: &str = "packages";
const LOGS: &str = "logs";

fn templates() -> &'static tera::Tera {
    static TERA: OnceLock<tera::Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        // Names ending in .html: tera autoescapes them.
        tera.add_raw_templates([
            ("head.html", include_str!("../../templates/site/head.html")),
            (
                "index.html",
                include_str!("../../templates/site/index.html"),
            ),
            (
                "package.html",
                include_str!("../../templates/site/package.html"),
            ),
        ])
        .expect("templates/site/ parses (checked by every site test)");
        tera
    })
}

/// A dependency phase on a package page.
#[derive(Serialize)]
struct Phase<'a> {
    name: &'static str,
    deps: &'a [Dep],
}

/// The site's files by path relative to its root, in memory: `log(pkgbase, version)` gives a
/// failed build's log.
///
/// # Errors
/// When a template fails to render, which is a bug.
pub fn files(
    site: &Site,
    repo: Option<&RepoInfo>,
    log: impl Fn(&str, &str) -> Vec<u8>,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let tera = templates();
    let mut out = BTreeMap::new();
    let mut cx = tera::Context::new();
    cx.insert("root", "");
    cx.insert("counts", &site.counts);
    cx.insert("rows", &site.rows);
    cx.insert("install", &install("PACKAGE", repo));
    let index = tera
        .render("index.html", &cx)
        .context("rendering the site's index")?;
    out.insert("index.html".to_string(), index.into_bytes());

    let mut cx = tera::Context::new();
    cx.insert("root", "../");
    for page in &site.pages {
        let row = &site.rows[page.row];
        let pkgbase = row
            .pkgbase
            .as_deref()
            .expect("a page is for one of our packages");
        cx.insert("row", row);
        cx.insert("page", page);
        cx.insert("install", &install(pkgbase, repo));
        cx.insert(
            "phases",
            &[
                Phase {
                    name: "Runtime",
                    deps: &row.depends,
                },
                Phase {
                    name: "Build",
                    deps: &row.makedepends,
                },
                Phase {
                    name: "Test",
                    deps: &row.checkdepends,
                },
            ],
        );
        let html = tera
            .render("package.html", &cx)
            .with_context(|| format!("rendering the page of {pkgbase}"))?;
        out.insert(format!("{PAGES}/{pkgbase}.html"), html.into_bytes());
        if let Some(version) = &row.log {
            out.insert(format!("{LOGS}/{pkgbase}.txt"), log(pkgbase, version));
        }
    }

    let mut json = serde_json::to_vec_pretty(&PackagesJson {
        counts: &site.counts,
        distributions: &site.rows,
    })
    .expect("the site's data serialises");
    json.push(b'\n');
    out.insert("packages.json".to_string(), json);
    out.insert(
        "site.js".to_string(),
        include_bytes!("../../templates/site/site.js").to_vec(),
    );
    out.insert(
        "site.css".to_string(),
        include_bytes!("../../templates/site/site.css").to_vec(),
    );
    Ok(out)
}

/// `packages.json`: the index page's data.
#[derive(Serialize)]
struct PackagesJson<'a> {
    counts: &'a [super::model::Count],
    distributions: &'a [super::model::Row],
}

/// Writes `files` under `out`, leaving unchanged files alone, and removes the pages and logs
/// of packages no longer on the site. Nothing else in `out` is touched.
///
/// # Errors
/// When a file cannot be written or removed.
pub fn write(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    for dir in [out.to_path_buf(), out.join(PAGES), out.join(LOGS)] {
        crate::fsutil::remove_stale_temp_files(&dir)
            .with_context(|| format!("cannot clean up {}", dir.display()))?;
    }
    for (path, bytes) in files {
        let path = out.join(path);
        crate::fsutil::write_unsynced_if_changed(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let wanted: BTreeSet<&str> = files.keys().map(String::as_str).collect();
    for dir in [PAGES, LOGS] {
        let listing = match std::fs::read_dir(out.join(dir)) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot list {}/{dir}", out.display()));
            }
        };
        for entry in listing {
            let entry = entry.with_context(|| format!("cannot list {}/{dir}", out.display()))?;
            let name = format!("{dir}/{}", entry.file_name().to_string_lossy());
            if !wanted.contains(name.as_str()) && entry.file_type()?.is_file() {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::model::{Count, Page, Row, State};

    const HOSTILE: &str = "<script>window.pwned=1</script><img src=x onerror=alert(1)>\"'&";

    fn hostile_site() -> Site {
        let dep = Dep {
            relation: format!("raku-dep>=1 {HOSTILE}"),
            page: Some("raku-dep".into()),
        };
        let row = Row {
            dist: format!("Evil::{HOSTILE}"),
            description: HOSTILE.into(),
            pkgbase: Some("raku-evil".into()),
            aur: Some("raku-evil".into()),
            published: Some(HOSTILE.into()),
            upstream: Some("1.0".into()),
            state: State::BuildFailed,
            state_label: State::BuildFailed.label(),
            reason: HOSTILE.into(),
            changed: Some("2024-01-01".into()),
            log: Some("1.0-1".into()),
            depends: vec![dep.clone()],
            makedepends: vec![dep.clone()],
            checkdepends: vec![dep],
            required_by: vec!["raku-top".into()],
        };
        Site {
            counts: vec![Count {
                state: State::BuildFailed,
                label: State::BuildFailed.label(),
                count: 1,
            }],
            rows: vec![row],
            pages: vec![Page {
                row: 0,
                pkgbuild: format!("pkgdesc='{HOSTILE}'"),
                diff: Some(format!("+{HOSTILE}")),
                pushes: vec![super::super::model::PushRow {
                    date: "2024-01-01".into(),
                    pkgver: "1.0".into(),
                    message: HOSTILE.into(),
                    commit: "c".into(),
                }],
            }],
        }
    }

    #[test]
    fn every_value_is_escaped_and_the_only_script_is_site_js() {
        let repo = RepoInfo {
            name: "raku".into(),
            server_url: "https://example.org/$arch".into(),
            fingerprint: Some("0123456789ABCDEF0123456789ABCDEF01234567".into()),
        };
        let files = files(&hostile_site(), Some(&repo), |_, _| {
            HOSTILE.as_bytes().to_vec()
        })
        .unwrap();
        let keys: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "index.html",
                "logs/raku-evil.txt",
                "packages.json",
                "packages/raku-evil.html",
                "site.css",
                "site.js"
            ]
        );
        for page in ["index.html", "packages/raku-evil.html"] {
            let html = std::str::from_utf8(&files[page]).unwrap();
            assert!(!html.contains("<script>"), "{page}: {html}");
            assert!(!html.contains("<img"), "{page}");
            assert!(
                html.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;"),
                "{page}"
            );
            assert!(
                html.contains("&lt;script&gt;window.pwned=1&lt;&#x2F;script&gt;"),
                "{page}"
            );
            assert!(
                html.contains("script-src 'self'") && !html.contains("unsafe-inline"),
                "{page}: the CSP forbids inline scripts"
            );
            // Nothing from elsewhere: the only absolute URLs in attributes are links to the AUR.
            for (at, _) in html.match_indices("=\"http") {
                let rest = &html[at..];
                assert!(
                    rest.starts_with("=\"https://aur.archlinux.org/packages/"),
                    "{page}: {}",
                    &rest[..rest.len().min(60)]
                );
            }
        }
        let index = std::str::from_utf8(&files["index.html"]).unwrap();
        assert_eq!(index.matches("<script").count(), 1);
        assert!(index.contains(r#"<script src="site.js" defer></script>"#));
        assert!(index.contains("[raku]\nSigLevel = Required DatabaseOptional\nServer = https:&#x2F;&#x2F;example.org&#x2F;$arch"));
        assert!(index.contains(r#"<a href="logs/raku-evil.txt">log</a>"#));
        let page = std::str::from_utf8(&files["packages/raku-evil.html"]).unwrap();
        assert!(page.contains(r#"<a href="raku-dep.html">"#));
        assert!(page.contains(r#"<a href="raku-top.html">raku-top</a>"#));
        assert!(page.contains("yay -S raku-evil"));
        // JSON is served as JSON, never inside a page; its strings are JSON-escaped.
        let json: serde_json::Value = serde_json::from_slice(&files["packages.json"]).unwrap();
        assert_eq!(json["distributions"][0]["description"], HOSTILE);
        assert_eq!(json["distributions"][0]["state"], "build-failed");
        assert_eq!(files["logs/raku-evil.txt"], HOSTILE.as_bytes());
    }

    #[test]
    fn writing_replaces_what_changed_and_removes_what_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::create_dir_all(out.join("packages")).unwrap();
        std::fs::write(out.join("packages/raku-gone.html"), "old").unwrap();
        std::fs::write(out.join("unrelated.txt"), "the operator's").unwrap();
        let files = files(&hostile_site(), None, |_, _| b"log".to_vec()).unwrap();
        write(out, &files).unwrap();
        write(out, &files).unwrap();
        assert!(!out.join("packages/raku-gone.html").exists());
        assert!(out.join("unrelated.txt").exists());
        assert_eq!(
            std::fs::read(out.join("index.html")).unwrap(),
            files["index.html"]
        );
        let mut names: Vec<String> = std::fs::read_dir(out.join("packages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["raku-evil.html"]);
    }
}
