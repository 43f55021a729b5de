//! The status site in headless Chromium, served over loopback with a strict CSP header as
//! well as the pages' own: every package is listed, search and the state filter leave exactly
//! the expected rows, a package page links to its dependencies, and a hostile description's
//! script did not run and shows as text. On a failure, a screenshot of the index is kept in
//! target/site-test-failures/.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use crate::common::browser::Browser;
use crate::common::http::TestServer;
use crate::common::status_site::{Ecosystem, HOSTILE_DESCRIPTION, ROWS, entries};

/// The visible rows as `state dist`.
fn visible(b: &Browser) -> Vec<String> {
    let rows = b.eval(
        "return Array.from(document.querySelectorAll('#packages tbody tr'))\
           .filter(r => !r.hidden)\
           .map(r => r.dataset.state + ' ' + r.cells[0].firstChild.textContent);",
    );
    rows.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn expected(keep: impl Fn(&str, &str) -> bool) -> Vec<String> {
    ROWS.iter()
        .filter(|(dist, _, state)| keep(dist, state))
        .map(|(dist, _, state)| format!("{state} {dist}"))
        .collect()
}

fn checks(b: &Browser, base: &str) {
    b.goto(&format!("{base}index.html"));
    assert_eq!(visible(b), expected(|_, _| true), "every package is listed");
    // site.js ran under the CSP: it shows the controls and counts the rows.
    assert_eq!(
        b.eval("return document.getElementById('filters').hidden;"),
        false
    );
    assert_eq!(
        b.eval("return document.getElementById('shown').textContent;"),
        format!("{n} of {n} shown", n = ROWS.len())
    );

    // The hostile description is text: no script ran, no image rendered.
    assert_eq!(
        b.eval("return window.pwned === undefined;"),
        true,
        "a hostile script ran"
    );
    assert_eq!(
        b.eval("return document.title;"),
        "Raku on the AUR: every distribution"
    );
    assert_eq!(b.eval("return document.images.length;"), 0);
    let shown = b.eval(
        "return document.querySelector('a[href=\"packages/raku-hostile-desc.html\"]')\
           .parentElement.querySelector('small').textContent;",
    );
    assert_eq!(shown, HOSTILE_DESCRIPTION);

    let search = b.find("#search");
    b.type_into(search.as_str(), "site::");
    assert_eq!(visible(b), expected(|d, _| d.starts_with("Site::")));
    let waiting = b.find("#state option[value=\"waiting\"]");
    b.click(&waiting);
    assert_eq!(
        visible(b),
        expected(|d, s| d.starts_with("Site::") && s == "waiting")
    );
    b.clear(&search);
    // Clearing fires no input event; typing does.
    b.type_into(&search, " ");
    assert_eq!(visible(b), expected(|_, s| s == "waiting"));
    let held = b.find("#state option[value=\"held\"]");
    b.click(&held);
    assert_eq!(visible(b), expected(|_, s| s == "held"));
    b.type_into(&search, "proud");
    assert_eq!(
        visible(b),
        Vec::<String>::new(),
        "the held row does not say proud"
    );
    let any = b.find("#state option[value=\"\"]");
    b.click(&any);
    assert_eq!(
        visible(b),
        expected(|d, _| d == "Hostile::Desc"),
        "found by its description"
    );

    // A package page links to its dependencies, and the link leads there.
    b.goto(&format!("{base}packages/raku-site-mid.html"));
    assert_eq!(
        b.eval("return document.querySelector('h1').textContent;"),
        "raku-site-mid"
    );
    let dep = b.find("ul.deps a[href=\"raku-site-base.html\"]");
    b.click(&dep);
    assert!(
        b.url().ends_with("/packages/raku-site-base.html"),
        "{}",
        b.url()
    );
    assert_eq!(
        b.eval("return document.querySelector('h1').textContent;"),
        "raku-site-base"
    );

    b.goto(&format!("{base}packages/raku-hostile-desc.html"));
    assert_eq!(b.eval("return window.pwned === undefined;"), true);
    assert_eq!(b.eval("return document.images.length;"), 0);

    let violations: Vec<String> = b
        .console()
        .into_iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Refused"))
        .collect();
    assert_eq!(
        violations,
        Vec::<String>::new(),
        "nothing the CSP had to stop"
    );
}

#[test]
fn the_site_works_in_a_browser_and_nothing_hostile_runs() {
    let eco = Ecosystem::new();
    let out = eco.path("site");
    eco.site(&entries(), &out);
    let server = TestServer::serve_dir(&out);
    let base = server.base_url();
    let browser = Browser::start();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| checks(&browser, &base)));
    if let Err(panic) = result {
        browser.goto(&format!("{base}index.html"));
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site-test-failures");
        let shot = browser.screenshot(&dir, "index");
        eprintln!("the index at the failure: {}", shot.display());
        std::panic::resume_unwind(panic);
    }
}
