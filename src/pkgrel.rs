//! The pkgrel and epoch of the next commit of one package, given what its AUR repository
//! holds now. Pure: the caller reads the tip and writes the commit.
//!
//! - A new package starts at `pkgrel=1`.
//! - The same pkgver as published: the published pkgrel (and epoch) are kept if nothing else
//!   changed — no commit; otherwise the pkgrel goes one above the published one.
//! - A newer pkgver: `pkgrel=1`, the published epoch kept.
//! - A pkgver that vercmp puts *below* the published one (upstream went back, or the
//!   mapping changed): the epoch goes up by one, so pacman still sees an upgrade.

use std::cmp::Ordering;

use alpm_types::PackageRelease;

use crate::aur_tip::PublishedPackage;
use crate::render::Files;
use crate::render::model::PackageModel;

/// What the repository's tip needs for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TipUpdate {
    /// The repository already holds exactly these files: `new` with the published pkgrel
    /// and epoch.
    Unchanged {
        model: Box<PackageModel>,
        files: Files,
    },
    /// Commit these files with this message.
    Commit {
        model: Box<PackageModel>,
        files: Files,
        message: String,
    },
}

/// The commit for `new` (rendered with pkgrel 1 and no epoch) against the tip, if the
/// repository has one. `render` writes the files of a model.
pub fn next_commit(
    new: &PackageModel,
    tip: Option<&PublishedPackage>,
    render: &dyn Fn(&PackageModel) -> Result<Files, String>,
) -> Result<TipUpdate, String> {
    let mut model = new.clone();
    let Some(tip) = tip else {
        let files = render(&model)?;
        let message = format!("Add {} {}", model.pkgname, model.pkgver);
        return Ok(TipUpdate::Commit {
            model: Box::new(model),
            files,
            message,
        });
    };
    refuse_changed_checksums(tip, new)?;
    model.epoch = tip.epoch;
    let message = match model.pkgver.cmp(&tip.pkgver) {
        Ordering::Equal => {
            model.pkgrel = tip.pkgrel.clone();
            let same = render(&model)?;
            if same == tip.files {
                return Ok(TipUpdate::Unchanged {
                    model: Box::new(model),
                    files: same,
                });
            }
            let major = tip.pkgrel.major.checked_add(1).ok_or_else(|| {
                format!("the published pkgrel {} cannot go one higher", tip.pkgrel)
            })?;
            model.pkgrel = PackageRelease::new(major, None);
            if model.pkgver.to_string() == tip.pkgver.to_string() {
                format!(
                    "Regenerate: {}",
                    what_changed(&tip.files.srcinfo, &same.srcinfo)
                )
            } else {
                format!(
                    "Update to {} (same version for pacman as {})",
                    model.pkgver, tip.pkgver
                )
            }
        }
        Ordering::Greater => format!("Update to {}", model.pkgver),
        Ordering::Less => {
            let epoch = tip.epoch.unwrap_or(0).checked_add(1).ok_or_else(|| {
                format!(
                    "the published epoch {} cannot go one higher",
                    tip.epoch.unwrap_or(0)
                )
            })?;
            model.epoch = Some(epoch);
            format!(
                "Update to {} (epoch {epoch}: pacman orders it below the published {})",
                model.pkgver, tip.pkgver
            )
        }
    };
    let files = render(&model)?;
    Ok(TipUpdate::Commit {
        model: Box::new(model),
        files,
        message,
    })
}

/// Archived tarballs never change: the same source with another checksum than the one
/// published means the archive (or the way to it) was tampered with. Never publish that.
fn refuse_changed_checksums(tip: &PublishedPackage, new: &PackageModel) -> Result<(), String> {
    for (source, sum) in new.source.iter().zip(&new.sha256sums) {
        let changed = tip.sources.iter().find_map(|published| {
            let was = published.sha256.as_ref()?;
            (&published.entry == source && was != sum).then_some(was)
        });
        if let Some(was) = changed {
            return Err(format!(
                "ALARM: {source} was published with sha256 {was} and now has {sum}; archives must never change, so nothing is pushed"
            ));
        }
    }
    Ok(())
}

/// A short phrase naming which `.SRCINFO` keys differ, or "packaging changed".
fn what_changed(old: &str, new: &str) -> String {
    let keys = |text: &str| -> Vec<(String, String)> {
        text.lines()
            .filter_map(|l| l.trim_start().split_once(" = "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let (old, new) = (keys(old), keys(new));
    let mut changed: Vec<&str> = Vec::new();
    for (key, _) in old.iter().chain(new.iter()) {
        let a: Vec<_> = old.iter().filter(|(k, _)| k == key).collect();
        let b: Vec<_> = new.iter().filter(|(k, _)| k == key).collect();
        if a != b && !changed.contains(&key.as_str()) && key != "pkgrel" {
            changed.push(key);
        }
    }
    let deps = ["depends", "makedepends", "checkdepends", "optdepends"];
    if !changed.is_empty() && changed.iter().all(|k| deps.contains(k)) {
        "dependencies changed".to_string()
    } else if changed.is_empty() {
        "packaging changed".to_string()
    } else {
        format!("{} changed", changed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::model::BuildSteps;
    use alpm_types::{Name, PackageRelation};

    fn model(pkgver: &str, depends: &[&str]) -> PackageModel {
        PackageModel {
            pkgname: Name::new("raku-foo").unwrap(),
            pkgver: pkgver.parse().unwrap(),
            pkgrel: PackageRelease::new(1, None),
            epoch: None,
            pkgdesc: "Foo".into(),
            url: "https://raku.land/".into(),
            arch: vec!["any".into()],
            license: vec!["Artistic-2.0".into()],
            depends: depends
                .iter()
                .map(|d| d.parse::<PackageRelation>().unwrap())
                .collect(),
            makedepends: vec![],
            checkdepends: vec![],
            optdepends: vec![],
            provides: vec![],
            conflicts: vec![],
            source: vec!["raku-foo.tar.gz::https://example.org/foo.tar.gz".into()],
            sha256sums: vec!["0".repeat(64)],
            build: BuildSteps {
                dist: "Foo:ver<1>".into(),
                source_dir: "Foo".into(),
                tests: vec![],
                bin_scripts: vec![],
                license_files: vec![],
                maintainer: "me <me@example.org>".into(),
            },
        }
    }

    /// A stand-in renderer: the version fields, depends and sources, one per line.
    fn files(m: &PackageModel) -> Result<Files, String> {
        let mut srcinfo = format!(
            "pkgbase = {}\n\tpkgver = {}\n\tpkgrel = {}\n\tarch = any\n",
            m.pkgname, m.pkgver, m.pkgrel
        );
        for (s, sum) in m.source.iter().zip(&m.sha256sums) {
            srcinfo.push_str(&format!("\tsource = {s}\n\tsha256sums = {sum}\n"));
        }
        if let Some(e) = m.epoch {
            srcinfo.push_str(&format!("\tepoch = {e}\n"));
        }
        for d in &m.depends {
            srcinfo.push_str(&format!("\tdepends = {d}\n"));
        }
        srcinfo.push_str(&format!("\npkgname = {}\n", m.pkgname));
        Ok(Files {
            pkgbuild: srcinfo.replace(" = ", "="),
            srcinfo,
        })
    }

    fn commit(d: TipUpdate) -> (String, String, Option<u64>, String) {
        match d {
            TipUpdate::Commit { model, message, .. } => (
                model.pkgver.to_string(),
                model.pkgrel.to_string(),
                model.epoch,
                message,
            ),
            TipUpdate::Unchanged { .. } => panic!("expected a commit"),
        }
    }

    fn published_as(m: PackageModel) -> PublishedPackage {
        PublishedPackage::read(files(&m).unwrap()).unwrap()
    }

    #[test]
    fn a_new_package_starts_at_pkgrel_1() {
        let d = next_commit(&model("1.0", &["rakudo"]), None, &files).unwrap();
        assert_eq!(
            commit(d),
            ("1.0".into(), "1".into(), None, "Add raku-foo 1.0".into())
        );
    }

    #[test]
    fn the_same_files_make_no_commit() {
        let mut old = model("1.0", &["rakudo"]);
        old.pkgrel = PackageRelease::new(3, None);
        let tip = published_as(old);
        let TipUpdate::Unchanged {
            model: published, ..
        } = next_commit(&model("1.0", &["rakudo"]), Some(&tip), &files).unwrap()
        else {
            panic!("expected no commit");
        };
        assert_eq!(published.pkgrel, PackageRelease::new(3, None));
    }

    #[test]
    fn a_packaging_change_bumps_the_published_pkgrel() {
        let mut old = model("1.0", &["rakudo"]);
        old.pkgrel = PackageRelease::new(3, None);
        let tip = published_as(old);
        let d = next_commit(&model("1.0", &["rakudo", "raku-bar"]), Some(&tip), &files).unwrap();
        assert_eq!(
            commit(d),
            (
                "1.0".into(),
                "4".into(),
                None,
                "Regenerate: dependencies changed".into()
            )
        );
    }

    #[test]
    fn a_new_version_resets_pkgrel_and_keeps_the_epoch() {
        let mut old = model("1.0", &["rakudo"]);
        old.pkgrel = PackageRelease::new(3, None);
        old.epoch = Some(2);
        let tip = published_as(old);
        let d = next_commit(&model("1.1", &["rakudo"]), Some(&tip), &files).unwrap();
        assert_eq!(
            commit(d),
            ("1.1".into(), "1".into(), Some(2), "Update to 1.1".into())
        );
    }

    #[test]
    fn a_version_that_sorts_lower_bumps_the_epoch() {
        let tip = published_as(model("2.0", &["rakudo"]));
        let d = next_commit(&model("1.5", &["rakudo"]), Some(&tip), &files).unwrap();
        let (pkgver, pkgrel, epoch, message) = commit(d);
        assert_eq!(
            (pkgver.as_str(), pkgrel.as_str(), epoch),
            ("1.5", "1", Some(1))
        );
        assert!(message.starts_with("Update to 1.5 (epoch 1"), "{message}");
    }

    #[test]
    fn a_published_source_with_another_checksum_is_an_alarm() {
        let tip = published_as(model("1.0", &["rakudo"]));
        let mut tampered = model("1.0", &["rakudo"]);
        tampered.sha256sums = vec!["f".repeat(64)];
        let err = next_commit(&tampered, Some(&tip), &files).unwrap_err();
        assert!(
            err.starts_with("ALARM: raku-foo.tar.gz::https://example.org/foo.tar.gz was published with sha256 000"),
            "{err}"
        );
        // A new version has a new source: no alarm.
        let mut newer = model("1.1", &["rakudo"]);
        newer.source = vec!["raku-foo-1.1.tar.gz::https://example.org/foo-1.1.tar.gz".into()];
        newer.sha256sums = vec!["f".repeat(64)];
        assert!(next_commit(&newer, Some(&tip), &files).is_ok());
    }

    #[test]
    fn a_pkgrel_or_epoch_at_the_top_of_its_range_is_refused_not_wrapped() {
        let mut old = model("1.0", &["rakudo"]);
        old.pkgrel = PackageRelease::new(usize::MAX, None);
        let tip = published_as(old);
        let err = next_commit(&model("1.0", &["rakudo", "raku-bar"]), Some(&tip), &files);
        assert_eq!(
            err,
            Err(format!(
                "the published pkgrel {} cannot go one higher",
                usize::MAX
            ))
        );
        let mut old = model("2.0", &["rakudo"]);
        old.epoch = Some(u64::MAX);
        let tip = published_as(old);
        let err = next_commit(&model("1.0", &["rakudo"]), Some(&tip), &files).unwrap_err();
        assert_eq!(
            err,
            format!("the published epoch {} cannot go one higher", u64::MAX)
        );
    }
}
