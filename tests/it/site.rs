//! `raku-aur site` over a small ecosystem and a state with one distribution per state: every
//! row is there with its state, hostile values stay text, and the same state gives the same
//! bytes whatever the index's order. (The browser suite loads the same site.)

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::status_site::{Ecosystem, ROWS, entries};

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn site_lists_every_distribution_with_its_state_and_the_same_state_gives_the_same_bytes() {
    let eco = Ecosystem::new();
    let first = eco.path("site-1");
    eco.site(&entries(), &first);
    let mut shuffled = entries();
    shuffled.reverse();
    shuffled.swap(1, 4);
    let second = eco.path("site-2");
    eco.site(&shuffled, &second);
    let (a, b) = (tree(&first), tree(&second));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        [
            "index.html",
            "logs/raku-site-broken.txt",
            "packages.json",
            "packages/raku-hostile-desc.html",
            "packages/raku-site-base.html",
            "packages/raku-site-broken.html",
            "packages/raku-site-mid.html",
            "packages/raku-site-top.html",
            "site.css",
            "site.js",
        ]
    );
    for (path, bytes) in &a {
        assert!(b[path] == *bytes, "{path} differs between the two runs");
    }

    let json: serde_json::Value = serde_json::from_slice(&a["packages.json"]).unwrap();
    let rows: Vec<(String, Option<String>, String)> = json["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["dist"].as_str().unwrap().to_string(),
                r["pkgbase"].as_str().map(String::from),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, Option<String>, String)> = ROWS
        .iter()
        .map(|(d, p, s)| (d.to_string(), p.map(String::from), s.to_string()))
        .collect();
    assert_eq!(rows, expected);
    let base = &json["distributions"][2];
    assert_eq!(base["changed"], "2024-05-06", "from the recorded push");
    assert_eq!(base["published"], "1.0");

    let index = String::from_utf8(a["index.html"].clone()).unwrap();
    assert_eq!(index.matches("<tr data-state=").count(), ROWS.len());
    assert!(!index.contains("<script>") && !index.contains("<img"));
    assert!(index.contains("&lt;script&gt;document.title=&#x27;pwned&#x27;"));
    let mid = String::from_utf8(a["packages/raku-site-mid.html"].clone()).unwrap();
    assert!(
        mid.contains("+&lt;b&gt;not bold&lt;&#x2F;b&gt;"),
        "the pending diff, as text"
    );
    assert!(mid.contains(r#"<a href="raku-site-base.html">raku-site-base</a>"#));
    assert!(mid.contains(r#"<a href="raku-site-top.html">raku-site-top</a>"#));
    let base = String::from_utf8(a["packages/raku-site-base.html"].clone()).unwrap();
    assert!(base.contains("Update to 1.0") && base.contains("c0ffee"));
    assert!(base.contains("pkgname=raku-site-base"));
    assert_eq!(
        a["logs/raku-site-broken.txt"],
        b"==> ERROR: <script>window.pwned=3</script> check() failed\n",
        "served as text/plain, never as a page"
    );
}
