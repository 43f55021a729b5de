//! Tests of the test AUR's web front (tests/common/aur_front.rs): its RPC records against
//! `.SRCINFO` files pushed with the git command line, and git over HTTP.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::common;
use common::arch::{run, text};
use common::aur_front::AurFront;
use common::sshd::{self, AurServer, BOT_ACCOUNT};
use serde_json::{Value, json};
use tempfile::TempDir;

const DEMO_SRCINFO: &str = "pkgbase = raku-demo
\tpkgdesc = A demo with \"quotes\" & <angles>
\tpkgver = 1.2.3
\tpkgrel = 2
\tepoch = 1
\turl = https://example.org/demo
\tarch = any
\tlicense = Artistic-2.0
\tlicense = MIT
\tcheckdepends = perl
\tmakedepends = git
\tdepends = rakudo
\tdepends = raku-base>=0.1
\toptdepends = zlib: compression
\tprovides = raku-demo-lib=1.2.3
\tconflicts = raku-old-demo
\treplaces = raku-older-demo
\tsource = demo.tar.gz
\tsha256sums = SKIP

pkgname = raku-demo
";

/// Three packages from one pkgbase; the second overrides the description and dependencies,
/// the third clears the dependencies.
const SPLIT_SRCINFO: &str = "pkgbase = raku-split
\tpkgdesc = Shared description
\tpkgver = 0.5
\tpkgrel = 1
\tepoch = 0
\tarch = any
\tlicense = MIT
\tdepends = rakudo

pkgname = raku-split-a

pkgname = raku-split-b
\tpkgdesc = The second one
\tdepends = rakudo
\tdepends = raku-split-a

pkgname = raku-split-c
\tdepends = 
";

/// A git user with its own HOME who pushes to the test AUR over ssh.
struct Pusher {
    home: TempDir,
    ssh: String,
    remote: String,
}

impl Pusher {
    fn new(aur: &AurServer) -> Pusher {
        Pusher {
            home: tempfile::tempdir().unwrap(),
            ssh: aur.git_ssh_command(),
            remote: aur.remote_template(),
        }
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_SSH_COMMAND", &self.ssh)
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .output()
            .expect("git runs")
    }

    /// Commits `srcinfo` (with a PKGBUILD and the source it names) to `pkgbase`'s master and
    /// pushes it.
    fn push(&self, pkgbase: &str, srcinfo: &str) {
        let dir = self.home.path().join(pkgbase);
        if !dir.exists() {
            fs::create_dir(&dir).unwrap();
            run(Command::new("git")
                .args(["init", "-q", "-b", "master"])
                .arg(&dir));
        }
        fs::write(dir.join(".SRCINFO"), srcinfo).unwrap();
        fs::write(dir.join("PKGBUILD"), "# not read by the front\n").unwrap();
        fs::write(dir.join("demo.tar.gz"), "").unwrap();
        for args in [
            &["add", "-A"][..],
            &["commit", "-q", "-m", "Update"],
            &[
                "push",
                "-q",
                &self.remote.replace("{pkgbase}", pkgbase),
                "master",
            ],
        ] {
            let output = self.git(&dir, args);
            assert!(output.status.success(), "git {args:?}: {}", text(&output));
        }
    }
}

/// `GET target` from the front: status and body. The target goes out as written.
fn get(front: &AurFront, target: &str) -> (u16, Vec<u8>) {
    let output = run(Command::new("curl")
        .args(["-sS", "--globoff", "--path-as-is", "-w", "\n%{http_code}"])
        .arg(format!("{}{target}", front.url())));
    let out = output.stdout;
    let at = out
        .iter()
        .rposition(|b| *b == b'\n')
        .expect("curl prints the status last");
    let status = String::from_utf8_lossy(&out[at + 1..])
        .parse()
        .expect("a status code");
    (status, out[..at].to_vec())
}

fn rpc(front: &AurFront, target: &str) -> Value {
    let (status, body) = get(front, target);
    assert_eq!(status, 200, "{target}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("JSON")
}

/// The names of a response's results, in order.
fn names(response: &Value) -> Vec<&str> {
    response["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["Name"].as_str().expect("Name"))
        .collect()
}

/// `master`'s committer time in `pkgbase`'s repository.
fn commit_time(aur: &AurServer, pkgbase: &str) -> i64 {
    common::git::bare(
        &aur.bare_repo(pkgbase),
        &["log", "-1", "--format=%ct", "master"],
    )
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn the_rpc_answers_from_the_srcinfo_on_master() {
    let aur = sshd::start();
    let front = AurFront::start(&aur);
    let pusher = Pusher::new(&aur);
    pusher.push("raku-demo", DEMO_SRCINFO);
    pusher.push("raku-split", SPLIT_SRCINFO);
    // A clone creates a repository without a master: it is no package.
    let cloned = pusher.git(
        pusher.home.path(),
        &[
            "clone",
            "-q",
            &aur.remote_template().replace("{pkgbase}", "raku-empty"),
        ],
    );
    assert!(cloned.status.success(), "{}", text(&cloned));
    assert!(aur.repo_names().contains(&"raku-empty".to_string()));
    let keywords = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} {}@127.0.0.1 set-keywords raku-demo raku demo",
            aur.git_ssh_command(),
            aur.user()
        ))
        .output()
        .unwrap();
    assert!(keywords.status.success(), "{}", text(&keywords));

    let info = rpc(
        &front,
        "/rpc/?v=5&type=info&arg[]=raku-demo&arg[]=raku-nothing",
    );
    assert_eq!(info["type"], "multiinfo");
    assert_eq!(info["resultcount"], 1);
    assert!(info.get("error").is_none(), "{info}");
    let mut demo = info["results"][0].clone();
    let time = commit_time(&aur, "raku-demo");
    assert_eq!(demo["FirstSubmitted"], time);
    assert_eq!(demo["LastModified"], time);
    assert!(demo["ID"].as_u64().is_some() && demo["PackageBaseID"].as_u64().is_some());
    for volatile in ["FirstSubmitted", "LastModified", "ID", "PackageBaseID"] {
        demo.as_object_mut().unwrap().remove(volatile);
    }
    assert_eq!(
        demo,
        json!({
            "Name": "raku-demo",
            "PackageBase": "raku-demo",
            "Version": "1:1.2.3-2",
            "Description": "A demo with \"quotes\" & <angles>",
            "URL": "https://example.org/demo",
            "Depends": ["rakudo", "raku-base>=0.1"],
            "MakeDepends": ["git"],
            "CheckDepends": ["perl"],
            "OptDepends": ["zlib: compression"],
            "Provides": ["raku-demo-lib=1.2.3"],
            "Conflicts": ["raku-old-demo"],
            "Replaces": ["raku-older-demo"],
            "License": ["Artistic-2.0", "MIT"],
            "Keywords": ["raku", "demo"],
            "Maintainer": BOT_ACCOUNT,
            "Submitter": BOT_ACCOUNT,
            "CoMaintainers": [],
            "NumVotes": 0,
            "Popularity": 0.0,
            "OutOfDate": null,
            "URLPath": "/cgit/aur.git/snapshot/raku-demo.tar.gz",
        })
    );
    // The REST-style paths answer the same.
    assert_eq!(
        rpc(&front, "/rpc/v5/info/raku-demo")["results"],
        info["results"]
    );
    assert_eq!(
        rpc(&front, "/rpc/v5/info?arg[]=raku-demo")["results"],
        info["results"]
    );

    // Split packages: one record each, the package's own keys winning; a zero epoch is left
    // out of the version.
    let split = rpc(
        &front,
        "/rpc/v5/info?arg[]=raku-split-a&arg[]=raku-split-b&arg[]=raku-split-c",
    );
    assert_eq!(
        names(&split),
        ["raku-split-a", "raku-split-b", "raku-split-c"]
    );
    let [a, b, c] = [0, 1, 2].map(|i| &split["results"][i]);
    assert_eq!(c["Description"], "Shared description");
    assert!(c.get("Depends").is_none(), "{c}");
    assert_eq!(
        (&a["PackageBase"], &a["Version"]),
        (&json!("raku-split"), &json!("0.5-1"))
    );
    assert_eq!(a["Description"], "Shared description");
    assert_eq!(a["Depends"], json!(["rakudo"]));
    assert_eq!(b["Description"], "The second one");
    assert_eq!(b["Depends"], json!(["rakudo", "raku-split-a"]));
    assert!(a.get("MakeDepends").is_none(), "{a}");
    assert_eq!(a["Keywords"], json!([]));

    // Searches, by each field helpers use; results carry no relations.
    let search = |query: &str| {
        let found = rpc(&front, &format!("/rpc/?v=5&type=search&{query}"));
        assert_eq!(found["type"], "search", "{query}: {found}");
        found
    };
    let by_name = search("by=name&arg=split");
    assert_eq!(
        names(&by_name),
        ["raku-split-a", "raku-split-b", "raku-split-c"]
    );
    assert!(by_name["results"][0].get("Depends").is_none());
    assert_eq!(names(&search("arg=QUOTES")), ["raku-demo"]);
    assert_eq!(
        names(&search("by=name-desc&arg=second+one")),
        ["raku-split-b"]
    );
    assert_eq!(
        names(&search("by=provides&arg=raku-demo-lib")),
        ["raku-demo"]
    );
    assert_eq!(
        names(&search("by=provides&arg=raku-split-a")),
        ["raku-split-a"]
    );
    assert_eq!(
        names(&search("by=depends&arg=rakudo")),
        ["raku-demo", "raku-split-a", "raku-split-b"]
    );
    assert_eq!(names(&search("by=depends&arg=raku-base")), ["raku-demo"]);
    assert_eq!(names(&search("by=makedepends&arg=git")), ["raku-demo"]);
    assert_eq!(names(&search("by=checkdepends&arg=perl")), ["raku-demo"]);
    assert_eq!(names(&search("by=optdepends&arg=zlib")), ["raku-demo"]);
    assert_eq!(names(&search("by=keywords&arg=demo")), ["raku-demo"]);
    assert_eq!(
        names(&search(&format!("by=maintainer&arg={BOT_ACCOUNT}"))).len(),
        4
    );
    assert_eq!(
        names(&rpc(&front, "/rpc/v5/search/raku-split-b?by=name")),
        ["raku-split-b"]
    );

    // Errors, word for word as aurweb's.
    for (target, error) in [
        (
            "/rpc/?type=info&arg[]=raku-demo",
            "Please specify an API version.",
        ),
        (
            "/rpc/?v=4&type=info&arg[]=raku-demo",
            "Invalid version specified.",
        ),
        (
            "/rpc/?v=5&arg[]=raku-demo",
            "No request type/data specified.",
        ),
        (
            "/rpc/?v=5&type=delete&arg=raku-demo",
            "Incorrect request type specified.",
        ),
        (
            "/rpc/?v=5&type=search&by=votes&arg=raku",
            "Incorrect by field specified.",
        ),
        ("/rpc/?v=5&type=search&arg=r", "Query arg too small."),
    ] {
        let answer = rpc(&front, target);
        assert_eq!(
            (&answer["type"], &answer["error"], &answer["resultcount"]),
            (&json!("error"), &json!(error), &json!(0)),
            "{target}"
        );
    }
    assert_eq!(get(&front, "/packages/raku-demo").0, 404);

    // A new push shows at once; the first submission stays.
    pusher.push(
        "raku-demo",
        &DEMO_SRCINFO.replace("pkgrel = 2", "pkgrel = 3"),
    );
    let again = rpc(&front, "/rpc/v5/info/raku-demo");
    assert_eq!(again["results"][0]["Version"], "1:1.2.3-3");
    assert_eq!(again["results"][0]["FirstSubmitted"], time);
    assert_eq!(
        again["results"][0]["LastModified"],
        commit_time(&aur, "raku-demo")
    );

    // A .SRCINFO the AUR would have refused makes the RPC fail loudly, naming it.
    pusher.push(
        "raku-broken",
        "pkgbase = raku-broken\n\tpkgver = 1\nthis is not srcinfo\n",
    );
    let (status, body) = get(&front, "/rpc/v5/info/raku-demo");
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("raku-broken"), "{body}");
}

#[test]
fn git_over_http_clones_what_was_pushed_and_nothing_else() {
    let aur = sshd::start();
    let front = AurFront::start(&aur);
    let pusher = Pusher::new(&aur);
    pusher.push("raku-demo", DEMO_SRCINFO);
    let url = format!("{}/raku-demo.git", front.url());

    let clone = pusher.home.path().join("over-http");
    let cloned = pusher.git(
        pusher.home.path(),
        &["clone", "-q", &url, &clone.to_string_lossy()],
    );
    assert!(cloned.status.success(), "{}", text(&cloned));
    assert_eq!(
        fs::read_to_string(clone.join(".SRCINFO")).unwrap(),
        DEMO_SRCINFO
    );
    let head = pusher.git(&clone, &["rev-parse", "HEAD"]);
    assert_eq!(
        String::from_utf8_lossy(&head.stdout),
        common::git::bare(&aur.bare_repo("raku-demo"), &["rev-parse", "master"])
    );

    // Pushes go over ssh only.
    fs::write(clone.join("PKGBUILD"), "# changed\n").unwrap();
    let committed = pusher.git(&clone, &["commit", "-qam", "over http"]);
    assert!(committed.status.success(), "{}", text(&committed));
    let pushed = pusher.git(&clone, &["push", "-q", &url, "master"]);
    assert!(!pushed.status.success(), "a push over HTTP went through");
    assert_eq!(
        String::from_utf8_lossy(&head.stdout),
        common::git::bare(&aur.bare_repo("raku-demo"), &["rev-parse", "master"])
    );

    // A repository that does not exist, and paths out of the repositories' directory.
    let missing = pusher.git(
        pusher.home.path(),
        &["ls-remote", &format!("{}/raku-nothing.git", front.url())],
    );
    assert!(!missing.status.success());
    for target in [
        "/raku-nothing.git/info/refs?service=git-upload-pack",
        "/raku-demo.git/info/refs?service=git-receive-pack",
        "/../srv/repos/raku-demo.git/info/refs?service=git-upload-pack",
        "/%2E%2E%2Fowners.git/info/refs?service=git-upload-pack",
        "/raku-demo.git/HEAD",
        "/raku-demo.git/config",
    ] {
        let (status, body) = get(&front, target);
        assert_eq!(status, 404, "{target}: {}", String::from_utf8_lossy(&body));
    }
}
