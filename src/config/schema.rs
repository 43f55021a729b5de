//! The file's shape: every value a validated type, so toml reports the line of a bad one; and
//! the conversion into [`Config`], with paths resolved against the file's directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::toml_text::{toml_key, toml_list, toml_str};
use super::values::*;
use super::{BuildConfig, Config, ConfigError};
use crate::legacy::LegacyAutomation;
use crate::plan::system::SystemAdditions;
use crate::plan::{DistOverride, Overrides};
use crate::review::ReviewPolicy;
use crate::stand_ins::StandIns;
use crate::text::escape_for_log;
use crate::urls::is_http_url;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct File {
    maintainer: Option<Maintainer>,
    aur_user: Option<AurUser>,
    ssh_key: Option<FilePath>,
    known_hosts: Option<FilePath>,
    remote: Option<Remote>,
    state_dir: Option<FilePath>,
    cache_dir: Option<FilePath>,
    indexes: Option<Indexes>,
    aur_metadata: Option<Location>,
    http_timeout: Option<HttpTimeout>,
    mirrors: Option<BTreeMap<UrlPrefix, UrlPrefix>>,
    #[serde(default)]
    publish: Publish,
    #[serde(default)]
    system: System,
    #[serde(default)]
    dist: BTreeMap<DistName, Dist>,
    review: Option<ReviewPolicy>,
    #[serde(default)]
    trust: Trust,
    #[serde(default)]
    legacy: Legacy,
    build: Option<Build>,
    #[serde(default)]
    site: Site,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Build {
    command: Option<Argv>,
    repo_dir: Option<FilePath>,
    repo_name: Option<RepoName>,
    sign_key: Option<SignKey>,
    keep: Option<Keep>,
    timeout: Option<BuildTimeout>,
    retry_failed_after: Option<RetryHours>,
    #[serde(default)]
    rebuild_on_rakudo_change: bool,
    rakudo_version_command: Option<Argv>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Site {
    /// Where sync writes the status site after each run.
    dir: Option<FilePath>,
    /// The public URL of the binary repository, for the site's `pacman.conf` lines.
    repo_url: Option<UrlPrefix>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Legacy {
    #[serde(default)]
    adopt_orphans: bool,
    #[serde(default)]
    flag_out_of_date: bool,
    max_actions_per_run: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Trust {
    #[serde(default)]
    packages: Vec<ArchName>,
    #[serde(default)]
    maintainers: Vec<AurUser>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Publish {
    #[serde(default)]
    only: Vec<DistName>,
    #[serde(default)]
    exclude: Vec<DistName>,
    max_new_per_run: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct System {
    #[serde(default)]
    native: BTreeMap<SystemName, ArchName>,
    #[serde(default)]
    bin: BTreeMap<SystemName, ArchName>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Dist {
    auth: Option<Auth>,
    #[serde(default)]
    extra_depends: Vec<Dependency>,
    #[serde(default)]
    drop_depends: Vec<DistName>,
    #[serde(default)]
    skip_check: bool,
    hold: Option<Reason>,
    /// Spanned, so that a module two distributions claim is reported at its line.
    #[serde(default)]
    provider_of: Vec<Spanned<ModuleName>>,
}

impl File {
    /// The first `provider-of` entry, in the file's order, naming a module that an earlier
    /// entry already gave to another distribution: its byte span and the message. A module
    /// has one provider, so two would leave the choice to chance.
    pub(super) fn provider_claimed_twice(&self) -> Option<(std::ops::Range<usize>, String)> {
        let mut claims: Vec<(&Spanned<ModuleName>, &str)> = self
            .dist
            .iter()
            .flat_map(|(dist, d)| d.provider_of.iter().map(move |m| (m, dist.0.as_str())))
            .collect();
        claims.sort_by_key(|(m, _)| m.span().start);
        let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
        for (module, dist) in claims {
            let name = module.get_ref().0.as_str();
            match claimed.insert(name, dist) {
                Some(earlier) if earlier != dist => {
                    return Some((
                        module.span(),
                        format!(
                            "{} is already the provider-of {}; a module has one provider",
                            escape_for_log(earlier),
                            escape_for_log(name)
                        ),
                    ));
                }
                _ => {}
            }
        }
        None
    }

    pub(super) fn into_config(self, path: PathBuf, base: &Path) -> Result<Config, ConfigError> {
        let location = |l: Location| -> Result<String, ConfigError> {
            if is_http_url(&l.0) {
                return Ok(l.0);
            }
            base.join(&l.0)
                .into_os_string()
                .into_string()
                .map_err(|_| ConfigError::Invalid {
                    path: path.clone(),
                    line: None,
                    column: None,
                    key: None,
                    message: format!(
                        "{} joined to the file's directory is not UTF-8",
                        escape_for_log(&l.0)
                    ),
                })
        };
        let file_path = |p: FilePath| base.join(p.0);
        let indexes = match self.indexes {
            Some(list) => Some(list.0.into_iter().map(location).collect::<Result<_, _>>()?),
            None => None,
        };
        let aur_metadata = self.aur_metadata.map(location).transpose()?;
        let mirrors = self.mirrors.map(|m| {
            let mut pairs: Vec<(String, String)> = m.into_iter().map(|(f, t)| (f.0, t.0)).collect();
            pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
            pairs
        });

        let mut shown = Vec::new();
        let exclude: BTreeSet<String> = self.publish.exclude.into_iter().map(|d| d.0).collect();
        if !exclude.is_empty() {
            let list: Vec<&String> = exclude.iter().collect();
            shown.push(("publish.exclude".to_string(), toml_list(&list)));
        }
        let mut system = SystemAdditions::default();
        for (table, from, to) in [
            ("native", self.system.native, &mut system.native),
            ("bin", self.system.bin, &mut system.bin),
        ] {
            for (name, pkg) in from {
                shown.push((
                    format!("system.{table}.{}", toml_key(&name.0)),
                    toml_str(pkg.0.as_ref()),
                ));
                to.insert(name.0, pkg.0);
            }
        }
        let mut dists = BTreeMap::new();
        for (name, d) in self.dist {
            let key = |k: &str| format!("dist.{}.{k}", toml_key(&name.0));
            if let Some(auth) = &d.auth {
                shown.push((key("auth"), toml_str(&auth.0)));
            }
            if !d.extra_depends.is_empty() {
                let texts: Vec<&String> = d.extra_depends.iter().map(|e| &e.text).collect();
                shown.push((key("extra-depends"), toml_list(&texts)));
            }
            if !d.drop_depends.is_empty() {
                let names: Vec<&String> = d.drop_depends.iter().map(|n| &n.0).collect();
                shown.push((key("drop-depends"), toml_list(&names)));
            }
            if d.skip_check {
                shown.push((key("skip-check"), "true".to_string()));
            }
            if let Some(hold) = &d.hold {
                shown.push((key("hold"), toml_str(&hold.0)));
            }
            if !d.provider_of.is_empty() {
                let modules: Vec<&String> = d.provider_of.iter().map(|m| &m.get_ref().0).collect();
                shown.push((key("provider-of"), toml_list(&modules)));
            }
            dists.insert(
                name.0,
                DistOverride {
                    auth: d.auth.map(|a| a.0),
                    extra_depends: d.extra_depends.into_iter().map(|e| e.spec).collect(),
                    drop_depends: d.drop_depends.into_iter().map(|n| n.0).collect(),
                    skip_check: d.skip_check,
                    hold: d.hold.map(|h| h.0),
                    provider_of: d
                        .provider_of
                        .into_iter()
                        .map(|m| m.into_inner().0)
                        .collect(),
                },
            );
        }
        if let Some(review) = &self.review {
            let kinds: Vec<String> = review
                .changes
                .iter()
                .map(|k| k.as_str().to_string())
                .collect();
            shown.push(("review.changes".to_string(), toml_list(&kinds)));
            shown.push(("review.archive".to_string(), toml_list(&review.archive)));
        }
        let stand_ins = StandIns {
            packages: self
                .trust
                .packages
                .iter()
                .map(|p| p.0.to_string())
                .collect(),
            maintainers: self.trust.maintainers.into_iter().map(|m| m.0).collect(),
        };
        if !stand_ins.packages.is_empty() {
            let list: Vec<&String> = stand_ins.packages.iter().collect();
            shown.push(("trust.packages".to_string(), toml_list(&list)));
        }
        if !stand_ins.maintainers.is_empty() {
            let list: Vec<&String> = stand_ins.maintainers.iter().collect();
            shown.push(("trust.maintainers".to_string(), toml_list(&list)));
        }
        let build = self.build.map(|b| BuildConfig {
            command: b.command.map(|a| a.0),
            repo_dir: b.repo_dir.map(file_path),
            repo_name: b.repo_name.map(|n| n.0),
            sign_key: b.sign_key.map(|k| k.0),
            keep: b.keep.map(|k| k.0),
            timeout: b.timeout.map(|t| t.0),
            retry_failed_after: b.retry_failed_after.map(|h| h.0),
            rebuild_on_rakudo_change: b.rebuild_on_rakudo_change,
            rakudo_version_command: b.rakudo_version_command.map(|a| a.0),
        });
        let site_dir = self.site.dir.map(file_path);
        if let Some(dir) = &site_dir {
            shown.push(("site.dir".to_string(), toml_str(&dir.display().to_string())));
        }
        let site_repo_url = self.site.repo_url.map(|u| u.0);
        if let Some(url) = &site_repo_url {
            shown.push(("site.repo-url".to_string(), toml_str(url)));
        }
        let overrides = Overrides {
            origin: path.display().to_string(),
            exclude,
            dists,
            system,
        };
        Ok(Config {
            maintainer: self.maintainer.map(|m| m.0),
            aur_user: self.aur_user.map(|u| u.0),
            ssh_key: self.ssh_key.map(file_path),
            known_hosts: self.known_hosts.map(file_path),
            remote: self.remote.map(|r| r.0),
            state_dir: self.state_dir.map(file_path),
            cache_dir: self.cache_dir.map(file_path),
            indexes,
            aur_metadata,
            http_timeout: self.http_timeout.map(|t| t.0),
            mirrors,
            only: self.publish.only.into_iter().map(|d| d.0).collect(),
            max_new_per_run: self.publish.max_new_per_run,
            legacy: LegacyAutomation {
                adopt_orphans: self.legacy.adopt_orphans,
                flag_out_of_date: self.legacy.flag_out_of_date,
                max_actions_per_run: self
                    .legacy
                    .max_actions_per_run
                    .unwrap_or(LegacyAutomation::default().max_actions_per_run),
            },
            overrides,
            review: self.review,
            stand_ins,
            build,
            site_dir,
            site_repo_url,
            shown,
            path,
        })
    }
}
