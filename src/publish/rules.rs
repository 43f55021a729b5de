//! The AUR's push rules (aurweb's update hook), checked locally before we push, so a refusal
//! is found with a precise reason instead of as `remote:` text after the fact.
//!
//! Every pushed commit must have a `PKGBUILD`, no subdirectory other than `keys/pgp/*.asc` and
//! `LICENSES/`, and no blob over [`MAX_BLOB_SIZE`]. The new tip must also have a `.SRCINFO`
//! that parses, names the repository as its pkgbase, keeps names and descriptions to 255
//! characters and URLs and sources to 8000, and whose local files are in the tree. The branch
//! rule (only `master`) holds by construction: [`super::git`] writes and pushes nothing else.

use alpm_srcinfo::SourceInfoV1;
use alpm_srcinfo::source_info::v1::package::Override;
use alpm_types::Source;
use git2::{ObjectType, Oid, Repository, Tree};

/// aurweb's default `max_blob_size`; production allows more, so staying under this is safe.
pub const MAX_BLOB_SIZE: usize = 256_000;

/// Checks the commits after `base` (the server's tip; `None` for an empty repository) up to
/// `tip`, and `tip`'s `.SRCINFO` against `pkgbase`.
///
/// # Errors
/// One message per broken rule, naming the commit.
pub fn check_aur_rules(
    repo: &Repository,
    base: Option<Oid>,
    tip: Oid,
    pkgbase: &str,
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    match new_commits(repo, base, tip) {
        Ok(commits) => {
            for id in commits {
                if let Err(e) = check_commit(repo, id, &mut problems) {
                    problems.push(format!("commit {}: cannot read it: {e}", short(id)));
                }
            }
        }
        Err(e) => problems.push(format!("cannot list the commits to push: {e}")),
    }
    if let Err(e) = check_tip(repo, tip, pkgbase, &mut problems) {
        problems.push(format!("commit {}: cannot read it: {e}", short(tip)));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn short(id: Oid) -> String {
    id.to_string()[..8].to_owned()
}

fn new_commits(repo: &Repository, base: Option<Oid>, tip: Oid) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.push(tip)?;
    if let Some(base) = base {
        walk.hide(base)?;
    }
    walk.collect()
}

fn check_commit(repo: &Repository, id: Oid, problems: &mut Vec<String>) -> Result<(), git2::Error> {
    let tree = repo.find_commit(id)?.tree()?;
    let mut complain = |what: String| problems.push(format!("commit {}: {what}", short(id)));
    if tree.get_name("PKGBUILD").and_then(|e| e.kind()) != Some(ObjectType::Blob) {
        complain("has no PKGBUILD".into());
    }
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        match (entry.kind(), name.as_str()) {
            (Some(ObjectType::Blob), _) => check_blob(repo, entry.id(), &name, &mut complain)?,
            (Some(ObjectType::Tree), "keys") => {
                check_keys(repo, &repo.find_tree(entry.id())?, &mut complain)?
            }
            (Some(ObjectType::Tree), "LICENSES") => {
                for license in repo.find_tree(entry.id())?.iter() {
                    let path =
                        format!("LICENSES/{}", String::from_utf8_lossy(license.name_bytes()));
                    if license.kind() == Some(ObjectType::Blob) {
                        check_blob(repo, license.id(), &path, &mut complain)?;
                    } else {
                        complain(format!("{path}: LICENSES/ may only hold files"));
                    }
                }
            }
            (Some(ObjectType::Tree), _) => {
                complain(format!("{name}/: subdirectories are not allowed"))
            }
            _ => complain(format!("{name}: only files are allowed (no submodules)")),
        }
    }
    Ok(())
}

fn check_blob(
    repo: &Repository,
    id: Oid,
    path: &str,
    complain: &mut impl FnMut(String),
) -> Result<(), git2::Error> {
    let size = repo.find_blob(id)?.size();
    if size > MAX_BLOB_SIZE {
        complain(format!(
            "{path}: {size} bytes, over the limit of {MAX_BLOB_SIZE}"
        ));
    }
    Ok(())
}

/// `keys/` may only be `keys/pgp/*.asc`, the layout makepkg reads PGP keys from.
fn check_keys(
    repo: &Repository,
    keys: &Tree<'_>,
    complain: &mut impl FnMut(String),
) -> Result<(), git2::Error> {
    for entry in keys.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        if name != "pgp" || entry.kind() != Some(ObjectType::Tree) {
            complain(format!(
                "keys/{name}: only keys/pgp/*.asc is allowed under keys/"
            ));
            continue;
        }
        for key in repo.find_tree(entry.id())?.iter() {
            let path = format!("keys/pgp/{}", String::from_utf8_lossy(key.name_bytes()));
            if key.kind() == Some(ObjectType::Blob) && path.ends_with(".asc") {
                check_blob(repo, key.id(), &path, complain)?;
            } else {
                complain(format!(
                    "{path}: only keys/pgp/*.asc is allowed under keys/"
                ));
            }
        }
    }
    Ok(())
}

fn check_tip(
    repo: &Repository,
    tip: Oid,
    pkgbase: &str,
    problems: &mut Vec<String>,
) -> Result<(), git2::Error> {
    let tree = repo.find_commit(tip)?.tree()?;
    let mut complain = |what: String| problems.push(format!("commit {}: {what}", short(tip)));
    let Some(entry) = tree.get_name(".SRCINFO") else {
        complain("the tip has no .SRCINFO".into());
        return Ok(());
    };
    let blob = repo.find_blob(entry.id())?;
    let Ok(text) = std::str::from_utf8(blob.content()) else {
        complain(".SRCINFO is not UTF-8".into());
        return Ok(());
    };
    check_lengths(text, &mut complain);
    let srcinfo = match SourceInfoV1::from_string(text) {
        Ok(srcinfo) => srcinfo,
        Err(e) => {
            complain(format!(".SRCINFO does not parse: {e}"));
            return Ok(());
        }
    };
    let base = &srcinfo.base;
    if base.name.as_ref() != pkgbase {
        complain(format!(
            ".SRCINFO has pkgbase {}, but the repository is {pkgbase}",
            base.name
        ));
    }

    // Files makepkg takes from next to the PKGBUILD must be committed with it.
    let sources = base
        .sources
        .iter()
        .chain(
            base.architecture_properties
                .values()
                .flat_map(|a| &a.sources),
        )
        .filter_map(|s| match s {
            Source::File { location, .. } => Some(location.as_path()),
            Source::SourceUrl { .. } => None,
        });
    let scripts = base
        .install
        .iter()
        .chain(&base.changelog)
        .map(AsRef::as_ref);
    let package_scripts = srcinfo.packages.iter().flat_map(|p| {
        [&p.install, &p.changelog]
            .into_iter()
            .filter_map(|o| match o {
                Override::Yes { value } => Some(value.as_ref()),
                Override::No | Override::Clear => None,
            })
    });
    for path in sources.chain(scripts).chain(package_scripts) {
        let name = path.to_string_lossy();
        if tree.get_name(&name).and_then(|e| e.kind()) != Some(ObjectType::Blob) {
            complain(format!(
                ".SRCINFO names the local file {name}, which is not committed"
            ));
        }
    }
    Ok(())
}

/// The hook measures the values as written in `.SRCINFO`, in characters.
fn check_lengths(srcinfo: &str, complain: &mut impl FnMut(String)) {
    for line in srcinfo.lines() {
        let Some((key, value)) = line.trim_start().split_once(" = ") else {
            continue;
        };
        let limit = match key {
            "pkgname" | "pkgdesc" => 255,
            "url" => 8000,
            k if k == "source" || k.starts_with("source_") => 8000,
            _ => continue,
        };
        let length = value.chars().count();
        if length > limit {
            complain(format!(
                ".SRCINFO {key} is {length} characters, over the limit of {limit}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use git2::{Signature, TreeBuilder};

    use super::*;

    const PKGBUILD: &[u8] = b"pkgname=raku-foo\n";

    fn srcinfo(pkgbase: &str, extra: &str) -> String {
        format!(
            "pkgbase = {pkgbase}\n\tpkgdesc = A test\n\tpkgver = 1.0\n\tpkgrel = 1\n\
             \turl = https://example.org\n\tarch = any\n{extra}\npkgname = {pkgbase}\n"
        )
    }

    enum Node<'a> {
        File(&'a [u8]),
        Dir(Vec<(&'a str, Node<'a>)>),
    }
    use Node::{Dir, File};

    fn write_tree(repo: &Repository, entries: &[(&str, Node<'_>)]) -> Oid {
        let mut builder: TreeBuilder<'_> = repo.treebuilder(None).unwrap();
        for (name, node) in entries {
            match node {
                File(content) => builder.insert(name, repo.blob(content).unwrap(), 0o100644),
                Dir(children) => builder.insert(name, write_tree(repo, children), 0o040000),
            }
            .unwrap();
        }
        builder.write().unwrap()
    }

    fn commit(repo: &Repository, parent: Option<Oid>, entries: &[(&str, Node<'_>)]) -> Oid {
        let tree = repo.find_tree(write_tree(repo, entries)).unwrap();
        let sig = Signature::now("t", "t@example.org").unwrap();
        let parents: Vec<_> = parent
            .map(|p| repo.find_commit(p).unwrap())
            .into_iter()
            .collect();
        repo.commit(
            None,
            &sig,
            &sig,
            "m",
            &tree,
            &parents.iter().collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn repo() -> (tempfile::TempDir, Repository) {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(tmp.path()).unwrap();
        (tmp, repo)
    }

    /// The problems for a single root commit with `entries`, or none.
    fn problems(entries: &[(&str, Node<'_>)]) -> Vec<String> {
        let (_tmp, repo) = repo();
        let tip = commit(&repo, None, entries);
        check_aur_rules(&repo, None, tip, "raku-foo")
            .err()
            .unwrap_or_default()
    }

    fn assert_one_problem(entries: &[(&str, Node<'_>)], needle: &str) {
        let found = problems(entries);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(needle), "{found:?} lacks {needle:?}");
    }

    #[test]
    fn a_good_package_passes() {
        let info = srcinfo(
            "raku-foo",
            "\tsource = https://example.org/foo-1.0.tar.gz\n\tsource = foo.patch\n",
        );
        let key = Dir(vec![("pgp", Dir(vec![("ABCD.asc", File(b"key"))]))]);
        let licenses = Dir(vec![("MIT.txt", File(b"MIT"))]);
        let found = problems(&[
            ("PKGBUILD", File(PKGBUILD)),
            (".SRCINFO", File(info.as_bytes())),
            ("foo.patch", File(b"patch")),
            ("keys", key),
            ("LICENSES", licenses),
        ]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn every_new_commit_needs_a_pkgbuild_but_old_ones_are_not_checked() {
        let (_tmp, repo) = repo();
        let info = srcinfo("raku-foo", "");
        let old = commit(&repo, None, &[("README", File(b"x"))]);
        let middle = commit(&repo, Some(old), &[("README", File(b"y"))]);
        let tip = commit(
            &repo,
            Some(middle),
            &[
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(info.as_bytes())),
            ],
        );
        let found = check_aur_rules(&repo, Some(old), tip, "raku-foo").unwrap_err();
        assert_eq!(
            found,
            [format!("commit {}: has no PKGBUILD", short(middle))]
        );
        assert_eq!(
            check_aur_rules(&repo, Some(middle), tip, "raku-foo"),
            Ok(())
        );
    }

    #[test]
    fn subdirectories_are_refused_except_keys_pgp_and_licenses() {
        let info = srcinfo("raku-foo", "");
        let base = |extra: (&'static str, Node<'static>)| {
            let mut v = vec![
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(info.as_bytes())),
            ];
            v.push(extra);
            problems(&v)
        };
        let cases = [
            (
                ("src", Dir(vec![("a", File(b"a"))])),
                "src/: subdirectories are not allowed",
            ),
            (
                ("keys", Dir(vec![("x.asc", File(b"k"))])),
                "keys/x.asc: only keys/pgp/*.asc",
            ),
            (
                ("keys", Dir(vec![("pgp", Dir(vec![("x.gpg", File(b"k"))]))])),
                "keys/pgp/x.gpg: only keys/pgp/*.asc",
            ),
            (
                ("LICENSES", Dir(vec![("sub", Dir(vec![("a", File(b"a"))]))])),
                "LICENSES/sub: LICENSES/ may only hold files",
            ),
        ];
        for (extra, needle) in cases {
            let found = base(extra);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(found[0].contains(needle), "{found:?} lacks {needle:?}");
        }
    }

    #[test]
    fn blobs_over_the_limit_are_refused_anywhere() {
        let info = srcinfo("raku-foo", "");
        let at_limit = vec![b'x'; MAX_BLOB_SIZE];
        let over = vec![b'x'; MAX_BLOB_SIZE + 1];
        assert_eq!(
            problems(&[
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(info.as_bytes())),
                ("big", File(&at_limit)),
            ]),
            Vec::<String>::new()
        );
        assert_one_problem(
            &[
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(info.as_bytes())),
                ("LICENSES", Dir(vec![("big", File(&over))])),
            ],
            "LICENSES/big: 256001 bytes, over the limit of 256000",
        );
    }

    #[test]
    fn the_tip_needs_a_srcinfo_that_parses_and_names_the_repository() {
        assert_one_problem(&[("PKGBUILD", File(PKGBUILD))], "the tip has no .SRCINFO");
        assert_one_problem(
            &[
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(b"pkgbase = raku-foo\n")),
            ],
            ".SRCINFO does not parse",
        );
        let other = srcinfo("raku-bar", "");
        assert_one_problem(
            &[
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(other.as_bytes())),
            ],
            ".SRCINFO has pkgbase raku-bar, but the repository is raku-foo",
        );
    }

    #[test]
    fn long_values_are_refused() {
        let desc = "d".repeat(256);
        let url = format!("https://example.org/{}", "u".repeat(8000));
        let info = srcinfo("raku-foo", "")
            .replace("pkgdesc = A test", &format!("pkgdesc = {desc}"))
            .replace("url = https://example.org", &format!("url = {url}"));
        let found = problems(&[
            ("PKGBUILD", File(PKGBUILD)),
            (".SRCINFO", File(info.as_bytes())),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("pkgdesc is 256 characters, over the limit of 255"),
            "{found:?}"
        );
        assert!(
            found[1].contains("url is 8020 characters, over the limit of 8000"),
            "{found:?}"
        );

        // Counted in characters, like the hook: 255 two-byte characters are fine.
        let info = srcinfo("raku-foo", "").replace("A test", &"é".repeat(255));
        assert_eq!(
            problems(&[
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(info.as_bytes()))
            ]),
            Vec::<String>::new()
        );

        let source = format!(
            "\tsource_x86_64 = https://example.org/{}\n",
            "s".repeat(8000)
        );
        let info = srcinfo("raku-foo", &source).replace("arch = any", "arch = x86_64");
        assert_one_problem(
            &[
                ("PKGBUILD", File(PKGBUILD)),
                (".SRCINFO", File(info.as_bytes())),
            ],
            "source_x86_64 is 8020 characters",
        );
    }

    #[test]
    fn local_files_named_by_srcinfo_must_be_committed() {
        let info = srcinfo(
            "raku-foo",
            "\tinstall = raku-foo.install\n\tsource = fix.patch\n",
        );
        let found = problems(&[
            ("PKGBUILD", File(PKGBUILD)),
            (".SRCINFO", File(info.as_bytes())),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found.iter().any(|p| p.contains("local file fix.patch")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("local file raku-foo.install")),
            "{found:?}"
        );
    }
}
