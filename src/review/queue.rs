//! The review queue: changes the gate holds back wait in `STATE/review/<pkgbase>.json` until a
//! maintainer gives a verdict with `raku-aur approve` or `raku-aur reject`; `raku-aur review`
//! shows them.
//!
//! An entry names the exact files it proposes (by digest), so a verdict holds for those files
//! only: when what sync would push changes, the change waits for review again.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::verdicts::Reason;
use crate::render::Files;
use crate::text::escape_for_log;

/// The queue's directory inside the state directory.
pub const DIR: &str = "review";

/// What a maintainer said about an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pending,
    Approved,
    Rejected,
}

/// One change waiting for, or decided by, a maintainer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub pkgbase: String,
    pub pkgver: String,
    /// The commit message sync would use.
    pub message: String,
    pub reasons: Vec<Reason>,
    /// Both files against the server's tip when the entry was written.
    pub diff: String,
    /// The input digest `published.json` uses: the same input proposes the same change.
    pub input_digest: String,
    /// [`files_digest`] of the proposed files: what a verdict is about.
    pub files_digest: String,
    pub decision: Verdict,
}

/// sha256 over a package's two files; equal digests mean equal files.
pub fn files_digest(files: &Files) -> String {
    files.digest()
}

/// The queue of one state directory.
pub struct Queue {
    dir: PathBuf,
}

/// The readable entries by pkgbase, and the files that could not be read (file stem, why).
pub type Loaded = (BTreeMap<String, Entry>, Vec<(String, String)>);

impl Queue {
    pub fn new(state: &Path) -> Queue {
        Queue {
            dir: state.join(DIR),
        }
    }

    fn path(&self, pkgbase: &str) -> PathBuf {
        self.dir.join(format!("{pkgbase}.json"))
    }

    /// Every entry. An entry that cannot be read, or whose file is not named after its
    /// pkgbase, is left out and reported: sync then treats the package as unreviewed (it waits
    /// again and its entry is rewritten), which never pushes anything.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let mut entries = BTreeMap::new();
        let mut unreadable = Vec::new();
        let listing = match std::fs::read_dir(&self.dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((entries, unreadable));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot list {}", self.dir.display()));
            }
        };
        for item in listing {
            let path = item
                .with_context(|| format!("cannot list {}", self.dir.display()))?
                .path();
            // Temporary files of an interrupted write have no `.json` name: not entries.
            let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let parsed = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Entry>(&b).map_err(|e| e.to_string()))
                .and_then(|entry| {
                    if entry.pkgbase == stem {
                        Ok(entry)
                    } else {
                        Err(format!(
                            "it holds {}, not {stem}",
                            escape_for_log(&entry.pkgbase)
                        ))
                    }
                });
            match parsed {
                Ok(entry) => {
                    entries.insert(entry.pkgbase.clone(), entry);
                }
                Err(why) => unreadable.push((stem.to_string(), why)),
            }
        }
        Ok((entries, unreadable))
    }

    /// Writes (or replaces) an entry. `entry.pkgbase` must be a package name we assigned or
    /// read back from the queue: it becomes a file name.
    pub fn write(&self, entry: &Entry) -> anyhow::Result<()> {
        let path = self.path(&entry.pkgbase);
        let mut json = serde_json::to_vec_pretty(entry).expect("a review entry serialises");
        json.push(b'\n');
        crate::fsutil::write_atomically(&path, &json)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Removes an entry, if there is one.
    pub fn remove(&self, pkgbase: &str) -> anyhow::Result<()> {
        let path = self.path(pkgbase);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
}

/// `raku-aur review`: prints every pending entry with its reasons and diff.
pub fn show(state: &Path) -> anyhow::Result<()> {
    // A mistyped --state must not read as an empty queue.
    require_state(state)?;
    let (entries, unreadable) = Queue::new(state).load()?;
    print!("{}", listing(state, &entries, &unreadable));
    Ok(())
}

/// The text `raku-aur review` prints: pending entries by pkgbase, then the decided ones and
/// how to decide.
fn listing(
    state: &Path,
    entries: &BTreeMap<String, Entry>,
    unreadable: &[(String, String)],
) -> String {
    let mut out = String::new();
    let with =
        |v: Verdict| -> Vec<&Entry> { entries.values().filter(|e| e.decision == v).collect() };
    let pending = with(Verdict::Pending);
    for e in &pending {
        let _ = writeln!(out, "=== {} {}: {}", e.pkgbase, e.pkgver, e.message);
        for r in &e.reasons {
            let _ = writeln!(out, "  - {}", r.text);
        }
        // The old side is whatever the server held, pushed by anyone.
        out.push_str(&crate::text::for_terminal(&e.diff));
        out.push('\n');
    }
    let names = |es: &[&Entry]| {
        es.iter()
            .map(|e| format!("{} {}", e.pkgbase, e.pkgver))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let approved = with(Verdict::Approved);
    if !approved.is_empty() {
        let _ = writeln!(
            out,
            "Approved, pushed at the next sync: {}",
            names(&approved)
        );
    }
    let rejected = with(Verdict::Rejected);
    if !rejected.is_empty() {
        let _ = writeln!(
            out,
            "Rejected, not pushed (a different change is reviewed anew): {}",
            names(&rejected)
        );
    }
    for (stem, why) in unreadable {
        let _ = writeln!(
            out,
            "Unreadable, rewritten by the next sync: {}/{DIR}/{}.json: {why}",
            state.display(),
            escape_for_log(stem)
        );
    }
    if pending.is_empty() {
        let _ = writeln!(out, "Nothing waits for review in {}.", state.display());
    } else {
        let state = state.display();
        let _ = writeln!(
            out,
            "{} waiting for review. Decide with\n  raku-aur approve --state {state} PKG...   (pushed at the next sync)\n  raku-aur reject --state {state} PKG...    (never pushed; a different change is reviewed anew)",
            match pending.len() {
                1 => "1 change is".to_string(),
                n => format!("{n} changes are"),
            }
        );
    }
    out
}

/// A maintainer's verdict on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Approve,
    Reject,
}

/// `raku-aur approve` / `raku-aur reject`: records the choice for each named package, under
/// the state directory's lock (a running sync holds it; this fails at once instead of
/// waiting). Any name without an entry is an error and nothing is changed.
pub fn record_verdict(state: &Path, packages: &[String], choice: Choice) -> anyhow::Result<()> {
    require_state(state)?;
    let _lock = crate::fsutil::lock_state_dir(state)?;
    let queue = Queue::new(state);
    let (mut entries, unreadable) = queue.load()?;
    let problems: Vec<String> = packages
        .iter()
        .filter(|p| !entries.contains_key(*p))
        .map(|p| match unreadable.iter().find(|(stem, _)| stem == p) {
            Some((_, why)) => format!(
                "{}: its entry is unreadable ({why}); the next sync rewrites it",
                escape_for_log(p)
            ),
            None => format!("{}: not in the review queue", escape_for_log(p)),
        })
        .collect();
    if !problems.is_empty() {
        bail!(
            "nothing was changed; {} (see raku-aur review --state {})",
            problems.join("; "),
            state.display()
        );
    }
    let (verdict, effect) = match choice {
        Choice::Approve => (Verdict::Approved, "approved; the next sync pushes it"),
        Choice::Reject => (
            Verdict::Rejected,
            "rejected; sync will not push it, and reviews a different change anew",
        ),
    };
    for pkgbase in packages {
        let entry = entries.get_mut(pkgbase).expect("checked above");
        entry.decision = verdict;
        queue.write(entry)?;
        println!("{} {}: {effect}", entry.pkgbase, entry.pkgver);
    }
    Ok(())
}

fn require_state(state: &Path) -> anyhow::Result<()> {
    if !state.is_dir() {
        bail!(
            "{} is not a state directory: it does not exist (check --state)",
            state.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::ReviewKind;

    fn entry(pkgbase: &str, decision: Verdict) -> Entry {
        Entry {
            pkgbase: pkgbase.into(),
            pkgver: "1.0".into(),
            message: format!("Add {pkgbase} 1.0"),
            reasons: vec![Reason {
                kind: ReviewKind::FirstPublication,
                text: "first publication: the AUR has no such package yet".into(),
            }],
            diff: "+pkgname=x\n".into(),
            input_digest: "i".into(),
            files_digest: "f".into(),
            decision,
        }
    }

    #[test]
    fn entries_round_trip_and_unreadable_ones_are_reported_not_fatal() {
        let state = tempfile::tempdir().unwrap();
        let queue = Queue::new(state.path());
        assert!(queue.load().unwrap().0.is_empty(), "no directory yet");
        let a = entry("raku-a", Verdict::Pending);
        queue.write(&a).unwrap();
        queue.write(&entry("raku-b", Verdict::Rejected)).unwrap();
        let dir = state.path().join(DIR);
        std::fs::write(dir.join("raku-c.json"), "{ half").unwrap();
        let mut other = entry("raku-d", Verdict::Approved);
        other.pkgbase = "raku-e".into();
        std::fs::write(dir.join("raku-d.json"), serde_json::to_vec(&other).unwrap()).unwrap();
        std::fs::write(dir.join(".tmpXYZ"), "partial").unwrap();
        let (entries, unreadable) = queue.load().unwrap();
        assert_eq!(Vec::from_iter(entries.keys()), ["raku-a", "raku-b"]);
        assert_eq!(entries["raku-a"], a);
        let stems: Vec<&str> = unreadable.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(stems.len(), 2);
        assert!(stems.contains(&"raku-c") && stems.contains(&"raku-d"));
        queue.remove("raku-a").unwrap();
        queue.remove("raku-a").unwrap();
        assert!(!queue.load().unwrap().0.contains_key("raku-a"));
    }

    #[test]
    fn the_listing_shows_pending_changes_with_reasons_and_diff_then_the_decided() {
        let state = Path::new("/var/lib/raku-aur/state");
        let entries: BTreeMap<String, Entry> = [
            entry("raku-b", Verdict::Pending),
            entry("raku-a", Verdict::Pending),
            entry("raku-c", Verdict::Approved),
            entry("raku-d", Verdict::Rejected),
        ]
        .into_iter()
        .map(|e| (e.pkgbase.clone(), e))
        .collect();
        let text = listing(state, &entries, &[("raku-x".into(), "EOF".into())]);
        assert_eq!(
            text,
            "=== raku-a 1.0: Add raku-a 1.0\n  - first publication: the AUR has no such package yet\n+pkgname=x\n\n\
             === raku-b 1.0: Add raku-b 1.0\n  - first publication: the AUR has no such package yet\n+pkgname=x\n\n\
             Approved, pushed at the next sync: raku-c 1.0\n\
             Rejected, not pushed (a different change is reviewed anew): raku-d 1.0\n\
             Unreadable, rewritten by the next sync: /var/lib/raku-aur/state/review/raku-x.json: EOF\n\
             2 changes are waiting for review. Decide with\n\
             \x20 raku-aur approve --state /var/lib/raku-aur/state PKG...   (pushed at the next sync)\n\
             \x20 raku-aur reject --state /var/lib/raku-aur/state PKG...    (never pushed; a different change is reviewed anew)\n"
        );
        assert_eq!(
            listing(state, &BTreeMap::new(), &[]),
            "Nothing waits for review in /var/lib/raku-aur/state.\n"
        );
    }

    #[test]
    fn a_decision_on_an_unknown_package_changes_nothing() {
        let state = tempfile::tempdir().unwrap();
        let queue = Queue::new(state.path());
        queue.write(&entry("raku-a", Verdict::Pending)).unwrap();
        let err = record_verdict(
            state.path(),
            &["raku-a".into(), "raku-nope".into()],
            Choice::Approve,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("raku-nope: not in the review queue")
                && err.starts_with("nothing was changed"),
            "{err}"
        );
        assert_eq!(queue.load().unwrap().0["raku-a"].decision, Verdict::Pending);
        record_verdict(state.path(), &["raku-a".into()], Choice::Reject).unwrap();
        assert_eq!(
            queue.load().unwrap().0["raku-a"].decision,
            Verdict::Rejected
        );
        let missing = state.path().join("no-such-state");
        for result in [
            show(&missing),
            record_verdict(&missing, &["raku-a".into()], Choice::Approve),
        ] {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("is not a state directory"), "{err}");
        }
    }
}
