//! Flags over the config file over the built-in defaults, one setting at a time, recording
//! where each value came from and every problem found.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::defaults::*;
use super::{
    BuildRunSettings, BuildSettings, LegacySettings, Origin, PublicRepo, RenderSettings, Setting,
    SettingsError, SiteSettings, SourceSettings, SyncOptions, SyncSettings,
};
use crate::cli::{BuildArgs, LegacyArgs, RenderArgs, SiteArgs, SourceArgs, SyncArgs};
use crate::config::{
    Config, HttpTimeout, check_aur_user, check_maintainer, check_remote, default_path,
    is_placeholder, toml_list, toml_str,
};
use crate::legacy::LegacyAutomation;
use crate::plan::Overrides;
use crate::review::ReviewPolicy;

/// Records each setting as it is picked, and the problems found on the way.
struct Resolver<'a> {
    config: Option<&'a Config>,
    listing: Vec<Setting>,
    problems: Vec<String>,
}

impl<'a> Resolver<'a> {
    fn new(config: Option<&'a Config>) -> Self {
        Resolver {
            config,
            listing: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// The flag's value if it was given, else the config file's, else `default`.
    fn pick<T>(
        &mut self,
        key: &str,
        flag: Option<T>,
        from_config: impl FnOnce(&Config) -> Option<T>,
        default: impl FnOnce() -> T,
        show: impl FnOnce(&T) -> String,
    ) -> (T, Origin) {
        let (value, origin) = match (flag, self.config.and_then(from_config)) {
            (Some(v), _) => (v, Origin::Flag),
            (None, Some(v)) => (v, Origin::Config),
            (None, None) => (default(), Origin::Default),
        };
        self.listing.push(Setting {
            key: key.to_string(),
            value: show(&value),
            origin,
        });
        (value, origin)
    }

    /// A setting without a default: `None` when neither the flag nor the file gives it.
    fn pick_required<T>(
        &mut self,
        key: &str,
        flag: Option<T>,
        from_config: impl FnOnce(&Config) -> Option<T>,
        show: impl FnOnce(&T) -> String,
    ) -> (Option<T>, Origin) {
        let (value, origin) = self.pick(
            key,
            flag.map(Some),
            |c| from_config(c).map(Some),
            || None,
            |v| v.as_ref().map_or_else(|| "(not set)".to_string(), show),
        );
        (value, origin)
    }

    /// Where to say a missing key can be set.
    fn config_hint(&self, key: &str) -> String {
        match (self.config, default_path()) {
            (Some(c), _) => format!("set {key} in {}", c.path.display()),
            (None, Some(p)) => format!(
                "set {key} in a config file ({} does not exist)",
                p.display()
            ),
            (None, None) => format!("set {key} in a config file given with --config"),
        }
    }
}

/// `aur-metadata`: a flag, the file, or the AUR's own.
fn pick_aur_metadata(r: &mut Resolver, flag: Option<String>) -> String {
    r.pick(
        "aur-metadata",
        flag,
        |c| c.aur_metadata.clone(),
        || DEFAULT_AUR_METADATA.to_string(),
        |m| toml_str(m),
    )
    .0
}

/// `aur-user`, checked when it comes from a flag (the file's was checked as it was read).
fn pick_aur_user(r: &mut Resolver, flag: Option<String>) -> (Option<String>, Origin) {
    let (user, origin) = r.pick_required("aur-user", flag, |c| c.aur_user.clone(), |u| toml_str(u));
    if let (Some(user), Origin::Flag) = (&user, origin)
        && let Err(e) = check_aur_user(user.clone())
    {
        r.problems.push(format!("--aur-user: {e}"));
    }
    (user, origin)
}

fn show_path(p: &Path) -> String {
    toml_str(&p.display().to_string())
}

/// A list flag is given when it was typed at least once; it then replaces the file's list.
fn given<T>(list: Vec<T>) -> Option<Vec<T>> {
    (!list.is_empty()).then_some(list)
}

fn resolve_source(args: SourceArgs, r: &mut Resolver) -> SourceSettings {
    let (indexes, _) = r.pick(
        "indexes",
        given(args.indexes),
        |c| c.indexes.clone(),
        || vec![DEFAULT_INDEX.to_string()],
        |v| toml_list(v),
    );
    let (only, _) = r.pick(
        "publish.only",
        given(args.only),
        |c| (!c.only.is_empty()).then(|| c.only.clone()),
        Vec::new,
        |v| toml_list(v),
    );
    let (mirrors, _) = r.pick(
        "mirrors",
        given(args.mirrors),
        |c| c.mirrors.clone(),
        Vec::new,
        |v| {
            let pairs: Vec<String> = v
                .iter()
                .map(|(from, to)| format!("{} = {}", toml_str(from), toml_str(to)))
                .collect();
            if pairs.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", pairs.join(", "))
            }
        },
    );
    let (cache, _) = r.pick(
        "cache-dir",
        args.cache,
        |c| c.cache_dir.clone(),
        default_cache_dir,
        |p| show_path(p),
    );
    let (seconds, origin) = r.pick(
        "http-timeout",
        args.http_timeout,
        |c| c.http_timeout,
        || DEFAULT_HTTP_TIMEOUT.as_secs(),
        |t| t.to_string(),
    );
    // The file's value was checked as it was read; a flag is checked as the file's would be.
    if origin == Origin::Flag
        && let Err(e) = HttpTimeout::try_from(seconds)
    {
        r.problems.push(format!("--http-timeout: {e}"));
    }
    let (maintainer, _) = r.pick(
        "maintainer",
        args.maintainer,
        |c| c.maintainer.clone(),
        || DEFAULT_MAINTAINER.to_string(),
        |m| toml_str(m),
    );
    SourceSettings {
        indexes,
        only,
        mirrors,
        cache,
        maintainer,
        overrides: r
            .config
            .map_or_else(Overrides::default, |c| c.overrides.clone()),
        http_timeout: Duration::from_secs(seconds),
    }
}

/// The settings `render` and `sync` share, with where each came from.
///
/// # Errors
/// When a flag's value is invalid.
pub fn source(args: SourceArgs, config: Option<&Config>) -> Result<SourceSettings, SettingsError> {
    let mut r = Resolver::new(config);
    let settings = resolve_source(args, &mut r);
    if r.problems.is_empty() {
        Ok(settings)
    } else {
        Err(SettingsError::Unusable {
            problems: r.problems,
        })
    }
}

/// `render`'s settings.
///
/// # Errors
/// When a flag's value is invalid.
pub fn render(args: RenderArgs, config: Option<&Config>) -> Result<RenderSettings, SettingsError> {
    Ok(RenderSettings {
        source: source(args.source, config)?,
        out: args.out,
    })
}

/// `legacy`'s settings.
///
/// # Errors
/// When a flag's value is invalid.
pub fn legacy(args: LegacyArgs, config: Option<&Config>) -> Result<LegacySettings, SettingsError> {
    let mut r = Resolver::new(config);
    let source = resolve_source(args.source, &mut r);
    let aur_metadata = pick_aur_metadata(&mut r, args.aur_metadata);
    let (aur_user, _) = pick_aur_user(&mut r, args.aur_user);
    if !r.problems.is_empty() {
        return Err(SettingsError::Unusable {
            problems: r.problems,
        });
    }
    Ok(LegacySettings {
        source,
        aur_metadata,
        aur_user,
        stand_ins: config.map_or_else(Default::default, |c| c.stand_ins.clone()),
        json: args.json,
    })
}

/// `site`'s settings: the state directory as `review` finds it, the rest as `legacy` does.
///
/// # Errors
/// When a flag's value is invalid, or no state directory is given.
pub fn site(args: SiteArgs, config: Option<&Config>) -> Result<SiteSettings, SettingsError> {
    let mut r = Resolver::new(config);
    let source = resolve_source(args.source, &mut r);
    let aur_metadata = pick_aur_metadata(&mut r, args.aur_metadata);
    let (aur_user, _) = pick_aur_user(&mut r, args.aur_user);
    let state = match state_dir(args.state, config) {
        Ok(state) => Some(state),
        Err(SettingsError::Unusable { problems }) => {
            r.problems.extend(problems);
            None
        }
        Err(e) => return Err(e),
    };
    match state {
        Some(state) if r.problems.is_empty() => Ok(SiteSettings {
            source,
            state,
            aur_metadata,
            aur_user,
            stand_ins: config.map_or_else(Default::default, |c| c.stand_ins.clone()),
            out: args.out,
            repo: public_repo(config),
        }),
        _ => Err(SettingsError::Unusable {
            problems: r.problems,
        }),
    }
}

/// What `sync`'s flags and the config file come to: every setting with its origin, the
/// problems, and the settings themselves when there is none.
pub struct SyncResolution {
    pub listing: Vec<Setting>,
    pub problems: Vec<String>,
    /// What was resolved, missing values as `None`: `check-config` inspects it even when
    /// something is missing, so that it can list every problem at once.
    pub draft: SyncDraft,
}

/// `sync`'s settings as resolved, before the required ones are known to be there.
pub struct SyncDraft {
    pub state: Option<PathBuf>,
    pub aur_user: Option<String>,
    pub options: SyncOptions,
}

impl SyncResolution {
    /// The settings, when nothing is missing or invalid.
    ///
    /// # Errors
    /// [`SettingsError::Unusable`] naming every problem.
    pub fn settings(self) -> Result<SyncSettings, SettingsError> {
        let SyncDraft {
            state,
            aur_user,
            options,
        } = self.draft;
        match (state, aur_user) {
            (Some(state), Some(aur_user)) if self.problems.is_empty() => Ok(SyncSettings {
                state,
                aur_user,
                options,
            }),
            _ => Err(SettingsError::Unusable {
                problems: self.problems,
            }),
        }
    }
}

/// Resolves `sync`'s settings (also what `check-config` shows).
pub fn sync(args: SyncArgs, config: Option<&Config>) -> SyncResolution {
    let mut r = Resolver::new(config);
    let source = resolve_source(args.source, &mut r);
    let (state, origin) = r.pick_required(
        "state-dir",
        args.state,
        |c| c.state_dir.clone(),
        |p| show_path(p),
    );
    match (&state, origin) {
        (None, _) => {
            let hint = r.config_hint("state-dir");
            r.problems.push(format!(
                "sync needs a state directory: pass --state DIR or {hint}"
            ));
        }
        (Some(p), Origin::Flag) if p.as_os_str().is_empty() => {
            r.problems.push("--state is empty".to_string());
        }
        (Some(_), _) => {}
    }
    let (aur_user, _) = pick_aur_user(&mut r, args.aur_user);
    if aur_user.is_none() {
        let hint = r.config_hint("aur-user");
        r.problems.push(format!(
            "sync needs the bot's AUR account: pass --aur-user NAME or {hint}"
        ));
    }
    let (remote, origin) = r.pick(
        "remote",
        args.remote,
        |c| c.remote.clone(),
        || DEFAULT_REMOTE.to_string(),
        |u| toml_str(u),
    );
    if origin == Origin::Flag
        && let Err(e) = check_remote(remote.clone())
    {
        r.problems.push(format!("--remote: {e}"));
    }
    let unset = |what: &str| format!("(not set: {what})");
    let (ssh_key, _) = r.pick(
        "ssh-key",
        args.ssh_key.map(Some),
        |c| c.ssh_key.clone().map(Some),
        || None,
        |p| {
            p.as_deref()
                .map_or_else(|| unset("no key is offered"), show_path)
        },
    );
    let (known_hosts, _) = r.pick(
        "known-hosts",
        args.known_hosts.map(Some),
        |c| c.known_hosts.clone().map(Some),
        || None,
        |p| {
            p.as_deref()
                .map_or_else(|| unset("the AUR's keys shipped in keys/"), show_path)
        },
    );
    let aur_metadata = pick_aur_metadata(&mut r, args.aur_metadata);
    let (max_new_per_run, _) = r.pick(
        "publish.max-new-per-run",
        None,
        |c| c.max_new_per_run,
        || DEFAULT_MAX_NEW_PER_RUN,
        |n| n.to_string(),
    );
    let build = match (r.config.and_then(|c| c.build.as_ref()), &state) {
        (Some(_), Some(state)) => Some(resolve_build(&mut r, state)),
        _ => {
            r.listing.push(Setting {
                key: "build".to_string(),
                value: unset("no [build] table, packages are pushed without a build"),
                origin: Origin::Default,
            });
            None
        }
    };
    let review: Option<ReviewPolicy> = r.config.and_then(|c| c.review.clone());
    if review.is_none() {
        r.listing.push(Setting {
            key: "review".to_string(),
            value: unset("no [review] table, every change is pushed"),
            origin: Origin::Default,
        });
    }
    // The maintainer signs the PKGBUILDs and the commits: a flag is checked as the file's
    // value is, and a placeholder may only serve a dry run.
    match check_maintainer(source.maintainer.clone()) {
        Err(e) => r.problems.push(format!("maintainer: {e}")),
        Ok(m) if is_placeholder(&m) && !args.dry_run => r.problems.push(format!(
            "maintainer {m:?} is a placeholder (.invalid addresses do not exist): set \
             maintainer in the config file or pass --maintainer 'Name <email>'; only a \
             --dry-run may go without"
        )),
        Ok(_) => {}
    }
    // What only the file can set comes last, as tables come last in the file.
    for (key, value) in r.config.map(|c| c.shown.as_slice()).unwrap_or_default() {
        r.listing.push(Setting {
            key: key.clone(),
            value: value.clone(),
            origin: Origin::Config,
        });
    }
    SyncResolution {
        listing: r.listing,
        problems: r.problems,
        draft: SyncDraft {
            state,
            aur_user,
            options: SyncOptions {
                source,
                remote,
                ssh_key,
                known_hosts,
                aur_metadata,
                dry_run: args.dry_run,
                build,
                review,
                stand_ins: r
                    .config
                    .map_or_else(Default::default, |c| c.stand_ins.clone()),
                max_new_per_run,
                legacy: r
                    .config
                    .map_or_else(LegacyAutomation::default, |c| c.legacy),
                site_dir: r.config.and_then(|c| c.site_dir.clone()),
                site_repo: public_repo(r.config),
            },
        },
    }
}

/// The repository users add, when `[site] repo-url` says where it is served.
fn public_repo(config: Option<&Config>) -> Option<PublicRepo> {
    let config = config?;
    let build = config.build.clone().unwrap_or_default();
    Some(PublicRepo {
        name: build
            .repo_name
            .unwrap_or_else(|| DEFAULT_REPO_NAME.to_string()),
        url: config.site_repo_url.clone()?,
        sign_key: build.sign_key,
    })
}

/// `[build]`, each key from the file or its default; the repository defaults to
/// `STATE/repo`.
fn resolve_build(r: &mut Resolver, state: &Path) -> BuildSettings {
    let file = r.config.and_then(|c| c.build.clone()).unwrap_or_default();
    let (repo_dir, _) = r.pick(
        "build.repo-dir",
        None,
        |_| file.repo_dir.clone(),
        || state.join("repo"),
        |p| show_path(p),
    );
    let (command, _) = r.pick(
        "build.command",
        None,
        |_| file.command.clone(),
        || default_build_command(&repo_dir),
        |v| toml_list(v),
    );
    let (repo_name, _) = r.pick(
        "build.repo-name",
        None,
        |_| file.repo_name.clone(),
        || DEFAULT_REPO_NAME.to_string(),
        |n| toml_str(n),
    );
    let (sign_key, _) = r.pick(
        "build.sign-key",
        None,
        |_| file.sign_key.clone().map(Some),
        || None,
        |k| {
            k.as_deref()
                .map_or_else(|| "(not set: nothing is signed)".to_string(), toml_str)
        },
    );
    let (keep, _) = r.pick(
        "build.keep",
        None,
        |_| file.keep,
        || DEFAULT_KEEP,
        |n| n.to_string(),
    );
    let (timeout, _) = r.pick(
        "build.timeout",
        None,
        |_| file.timeout.map(Duration::from_secs),
        || DEFAULT_BUILD_TIMEOUT,
        |t| t.as_secs().to_string(),
    );
    let (retry_failed_after, _) = r.pick(
        "build.retry-failed-after",
        None,
        |_| {
            file.retry_failed_after
                .map(|h| Duration::from_secs(h * 3600))
        },
        || DEFAULT_RETRY_FAILED_AFTER,
        |d| (d.as_secs() / 3600).to_string(),
    );
    let (rebuild, _) = r.pick(
        "build.rebuild-on-rakudo-change",
        None,
        |_| file.rebuild_on_rakudo_change.then_some(true),
        || false,
        bool::to_string,
    );
    let (version_command, _) = r.pick(
        "build.rakudo-version-command",
        None,
        |_| file.rakudo_version_command.clone(),
        || DEFAULT_RAKUDO_VERSION_COMMAND.map(str::to_string).to_vec(),
        |v| toml_list(v),
    );
    let rakudo_rebuild = rebuild.then_some(version_command);
    BuildSettings {
        command,
        repo_dir,
        repo_name,
        sign_key,
        keep,
        timeout,
        retry_failed_after,
        rakudo_rebuild,
    }
}

/// `build`'s settings: sync's (state, account, source, AUR metadata) and `[build]`, which
/// takes its defaults when the file has no such table.
///
/// # Errors
/// When sync's settings would be unusable.
pub fn build(args: BuildArgs, config: Option<&Config>) -> Result<BuildRunSettings, SettingsError> {
    let as_sync = SyncArgs {
        source: args.source,
        state: args.state,
        aur_metadata: args.aur_metadata,
        aur_user: args.aur_user,
        ..SyncArgs::default()
    };
    let settings = sync(as_sync, config).settings()?;
    let build = match settings.options.build {
        Some(build) => build,
        None => resolve_build(&mut Resolver::new(config), &settings.state),
    };
    Ok(BuildRunSettings {
        state: settings.state,
        aur_user: settings.aur_user,
        source: settings.options.source,
        aur_metadata: settings.options.aur_metadata,
        stand_ins: settings.options.stand_ins,
        build,
    })
}

/// The state directory for the review commands: `--state`, else the config's `state-dir`.
///
/// # Errors
/// When neither gives one.
pub fn state_dir(flag: Option<PathBuf>, config: Option<&Config>) -> Result<PathBuf, SettingsError> {
    flag.or_else(|| config.and_then(|c| c.state_dir.clone()))
        .ok_or_else(|| SettingsError::Unusable {
            problems: vec![
                "no state directory: pass --state DIR or set state-dir in the config file"
                    .to_string(),
            ],
        })
}
