//! The command line, and nothing else: what was typed, as clap reads it. `None` (or an empty
//! list) means "not given"; defaults, the config file and validation are
//! [`crate::settings`]' business, so this module imports nothing of the crate.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Publishes every distribution of the Raku ecosystem as an AUR package.
#[derive(Debug, Parser)]
#[command(
    name = "raku-aur",
    version,
    about,
    after_help = "Exit status: 0 done (held-back packages and changes waiting for review are \
                  not errors); 1 sync published some packages and others failed, the next run \
                  retries them; 2 nothing could be done (bad arguments or config, an unusable \
                  index or AUR metadata, the state directory's lock is held). Each command's \
                  --help says more."
)]
pub struct Cli {
    /// How log lines on stderr look: `text` (coloured on a terminal), or `json`, one object
    /// per line, for journald or a log collector. RUST_LOG sets the level (default info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The config file (TOML; see contrib/config.example.toml). Default:
    /// $XDG_CONFIG_HOME/raku-aur/config.toml, else ~/.config/raku-aur/config.toml, used when it
    /// exists. Flags given on the command line win over it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// See [`Cli::log_format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a PKGBUILD and .SRCINFO for every distribution (or those named with --only).
    ///
    /// Writes OUT/<pkgbase>/PKGBUILD, OUT/<pkgbase>/.SRCINFO and OUT/report.json, which lists
    /// what was rendered and what was held back, with a reason for each.
    ///
    /// Exit status: 0 when it ran (held-back packages are not errors); 2 when nothing could be
    /// done (an index that cannot be read, a bad argument).
    Render(RenderArgs),
    /// Publish every rendered package to the AUR: one git repository per package, a commit
    /// only where something changed, pushed over ssh with pinned host keys.
    ///
    /// With a `[build]` table in the config, each package is built in a clean root first (see
    /// `build`) and pushed only if exactly its files built.
    ///
    /// Dependencies are published before their dependents. Distributions the AUR already ships
    /// (a hand-written perl6-* package, or anything that provides raku-<name>) are not published
    /// again; packages owned by another AUR account are never touched; a package whose
    /// dependency exists nowhere is held back. Writes STATE/report.json.
    ///
    /// Exit status: 0 all good; 1 some packages failed (the others were published); 2 nothing
    /// could be done (bad arguments, an unusable index or AUR metadata, the lock is held).
    Sync(SyncArgs),
    /// Build every package whose input changed (or that the repository lacks) in a clean root,
    /// dependencies first, with the builder `[build] command` names, and add it to our pacman
    /// repository (`[build] repo-dir`): signed with `[build] sign-key` when set, pruned to
    /// `[build] keep` versions per package. Pushes nothing to the AUR. Logs go to
    /// STATE/logs/<pkgbase>/<pkgver>-<pkgrel>.log, the record to STATE/build.json.
    ///
    /// Exit status: 0 everything built (or had nothing new); 1 some packages failed to build
    /// (their dependents waited; the others were added); 2 nothing could be done (bad settings,
    /// a missing or expired signing key, the lock is held).
    Build(BuildArgs),
    /// Show the changes that wait for a maintainer's review, each with its reasons and the
    /// unified diff against what the AUR has.
    ///
    /// Exit status: 0 (also when nothing waits); 2 when the queue cannot be read.
    Review(ReviewArgs),
    /// Approve changes waiting for review: the next sync pushes them, if it would still push
    /// exactly the reviewed files.
    ///
    /// Exit status: 0 done; 2 nothing was changed (a package that is not in the queue, or a
    /// sync holds the state directory's lock).
    Approve(VerdictArgs),
    /// Reject changes waiting for review: sync does not push them, nor queue them again; a
    /// different change to the same package waits for review anew.
    ///
    /// Exit status: 0 done; 2 nothing was changed (a package that is not in the queue, or a
    /// sync holds the state directory's lock).
    Reject(VerdictArgs),
    /// Check the config file and the flags as `sync` would take them: print every setting in
    /// effect and where it came from, check the ssh key (a regular file only its owner can
    /// read) and the pinned host keys, and list every problem found.
    ///
    /// Exit status: 0 when sync could run with these settings; 2 otherwise.
    CheckConfig(SyncArgs),
    /// List the AUR packages that stand in for distributions of the index (the hand-written
    /// perl6-* packages and the like): their version against the index's newest, maintainer,
    /// out-of-date flag, votes, how many of our packages they hold back, and the next step
    /// (adopt an orphan, flag it out of date, ask the maintainer, file an orphan request),
    /// with text to paste. The packages that hold back most come first.
    ///
    /// Exit status: 0 done; 2 nothing could be done (bad arguments or config, an unusable
    /// index or AUR metadata).
    Legacy(LegacyArgs),
    /// Write the status site: a static site with every distribution of the index, its AUR
    /// package, published version against upstream's newest, where it stands and why (held,
    /// waiting for review or a dependency, build failed), a page per package with its
    /// PKGBUILD, dependencies, pending diff and pushes, install instructions, and
    /// packages.json. Made from what the state directory records; nothing is published.
    ///
    /// Exit status: 0 done; 2 nothing could be done (bad arguments or config, an unusable
    /// index, AUR metadata or state directory, a file that cannot be written).
    Site(SiteArgs),
}

/// The index, selection and download options that `render` and `sync` share.
#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// A META6 index: a JSON array of META6 objects, as a path or an http(s) URL. Repeat to
    /// merge several; earlier ones win ties. Default: the Raku Ecosystem Archive's META.json.
    #[arg(long = "index", value_name = "PATH|URL")]
    pub indexes: Vec<String>,
    /// Only these distributions (exact names, e.g. JSON::Fast) and what they depend on.
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Download URLs starting with FROM from TO instead; the PKGBUILD keeps the public URL.
    #[arg(long = "mirror", value_name = "FROM=TO", value_parser = parse_mirror)]
    pub mirrors: Vec<(String, String)>,
    /// Where downloaded tarballs' checksums and facts are remembered. Default:
    /// $XDG_CACHE_HOME/raku-aur, else ~/.cache/raku-aur.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Named in each PKGBUILD's `# Maintainer:` line and as the commits' author.
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub maintainer: Option<String>,
    /// Seconds an HTTP server may stay silent (while connecting, or between two reads) before
    /// the download counts as failed; a hung server must not hang a cron run. Default: 30.
    #[arg(long, value_name = "SECONDS")]
    pub http_timeout: Option<u64>,
}

/// `render`'s own options.
#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The directory to write packages and report.json into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `sync`'s own options.
#[derive(Debug, Args, Clone, Default)]
pub struct SyncArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Holds one git repository per package, the record of what was published, the lock and
    /// report.json. Required, here or as `state-dir` in the config file.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Where each package's repository lives; `{pkgbase}` is replaced. Default:
    /// ssh://aur@aur.archlinux.org/{pkgbase}.git.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// The private ssh key registered with the AUR account.
    #[arg(long, value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
    /// Pinned host keys: OpenSSH known_hosts lines or `host SHA256:...` fingerprint lines.
    /// Default: the AUR's published keys, shipped in keys/.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// The AUR's package metadata (packages-meta-ext-v1.json[.gz]), as a path or URL.
    /// Default: the AUR's own https://aur.archlinux.org/packages-meta-ext-v1.json.gz.
    #[arg(long, value_name = "PATH|URL")]
    pub aur_metadata: Option<String>,
    /// The bot's AUR account: only packages it maintains (or new ones) are pushed to.
    /// Required, here or as `aur-user` in the config file.
    #[arg(long, value_name = "NAME")]
    pub aur_user: Option<String>,
    /// Commit and push nothing; print the diff each package would get.
    #[arg(long)]
    pub dry_run: bool,
}

/// `build`'s options: sync's source and state flags; the rest is `[build]` in the config.
#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// sync's state directory: the build record and logs are kept there. Required, here or as
    /// `state-dir` in the config file.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The AUR's package metadata (packages-meta-ext-v1.json[.gz]), as a path or URL.
    #[arg(long, value_name = "PATH|URL")]
    pub aur_metadata: Option<String>,
    /// The bot's AUR account, as for sync. Required, here or as `aur-user` in the config file.
    #[arg(long, value_name = "NAME")]
    pub aur_user: Option<String>,
}

/// `legacy`'s options: the index and the AUR's metadata, as `sync` reads them.
#[derive(Debug, Args)]
pub struct LegacyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The AUR's package metadata (packages-meta-ext-v1.json[.gz]), as a path or URL.
    #[arg(long, value_name = "PATH|URL")]
    pub aur_metadata: Option<String>,
    /// The bot's AUR account: packages it maintains are ours.
    #[arg(long, value_name = "NAME")]
    pub aur_user: Option<String>,
    /// One JSON document on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `site`'s options: what it reads, as `sync` does, and where it writes.
#[derive(Debug, Args)]
pub struct SiteArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// sync's state directory. Default: `state-dir` from the config file.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The AUR's package metadata (packages-meta-ext-v1.json[.gz]), as a path or URL.
    #[arg(long, value_name = "PATH|URL")]
    pub aur_metadata: Option<String>,
    /// The bot's AUR account: packages it maintains are ours.
    #[arg(long, value_name = "NAME")]
    pub aur_user: Option<String>,
    /// The directory to write the site into (its pages, logs and data files are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `review`'s options.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// sync's state directory, which holds the review queue (review/). Default: `state-dir`
    /// from the config file.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

/// `approve`'s and `reject`'s options.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// sync's state directory, which holds the review queue (review/). Default: `state-dir`
    /// from the config file.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The packages (pkgbase, e.g. raku-json-fast) to decide on.
    #[arg(value_name = "PKG", required = true)]
    pub packages: Vec<String>,
}

fn parse_mirror(arg: &str) -> Result<(String, String), String> {
    let (from, to) = arg
        .split_once('=')
        .ok_or_else(|| format!("--mirror takes FROM=TO, got {arg:?}"))?;
    if from.is_empty() || to.is_empty() {
        return Err(format!(
            "--mirror takes FROM=TO with both sides non-empty, got {arg:?}"
        ));
    }
    Ok((from.to_string(), to.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn log_format_is_a_global_choice() {
        let cli = Cli::try_parse_from(["raku-aur", "render", "--out", "o", "--log-format", "json"])
            .unwrap();
        assert_eq!(cli.log_format, LogFormat::Json);
        let cli = Cli::try_parse_from(["raku-aur", "render", "--out", "o"]).unwrap();
        assert_eq!(cli.log_format, LogFormat::Text);
        assert!(
            Cli::try_parse_from(["raku-aur", "--log-format", "xml", "render", "--out", "o"])
                .is_err()
        );
    }

    #[test]
    fn every_command_documents_its_exit_status() {
        let cli = Cli::command();
        assert!(
            cli.get_after_help()
                .is_some_and(|h| h.to_string().contains("Exit status"))
        );
        for command in cli.get_subcommands() {
            let help = command.get_long_about().map(ToString::to_string);
            assert!(
                help.as_deref()
                    .is_some_and(|h| h.contains("Exit status: 0")),
                "{}'s --help does not say its exit status",
                command.get_name()
            );
        }
    }

    #[test]
    fn mirrors_need_both_sides() {
        assert_eq!(parse_mirror("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_mirror("ab").is_err());
        assert!(parse_mirror("=b").is_err());
    }
}
