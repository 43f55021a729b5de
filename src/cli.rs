//! The command line: flags are defined once here (clap derive), and `main` only maps the
//! outcome to an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::TypedValueParser as _;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::sync::review::queue::{self, Choice};

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
    /// Dependencies are published before their dependents. Distributions the AUR already ships
    /// (a hand-written perl6-* package, or anything that provides raku-<name>) are not published
    /// again; packages owned by another AUR account are never touched; a package whose
    /// dependency exists nowhere is held back. Writes STATE/report.json.
    ///
    /// Exit status: 0 all good; 1 some packages failed (the others were published); 2 nothing
    /// could be done (bad arguments, an unusable index or AUR metadata, the lock is held).
    Sync(SyncArgs),
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
    Approve(DecideArgs),
    /// Reject changes waiting for review: sync does not push them, nor queue them again; a
    /// different change to the same package waits for review anew.
    ///
    /// Exit status: 0 done; 2 nothing was changed (a package that is not in the queue, or a
    /// sync holds the state directory's lock).
    Reject(DecideArgs),
    /// Check the config file and the flags as `sync` would take them: print every setting in
    /// effect and where it came from, check the ssh key (a regular file only its owner can
    /// read) and the pinned host keys, and list every problem found.
    ///
    /// Exit status: 0 when sync could run with these settings; 2 otherwise.
    CheckConfig(SyncArgs),
}

/// The index, selection and download options that `render` and later `sync` share.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// A META6 index: a JSON array of META6 objects, as a path or an http(s) URL. Repeat to
    /// merge several; earlier ones win ties.
    #[arg(long = "index", value_name = "PATH|URL", default_value = DEFAULT_INDEX)]
    pub indexes: Vec<String>,
    /// Only these distributions (exact names, e.g. JSON::Fast) and what they depend on.
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Download URLs starting with FROM from TO instead; the PKGBUILD keeps the public URL.
    #[arg(long = "mirror", value_name = "FROM=TO", value_parser = parse_mirror)]
    pub mirrors: Vec<(String, String)>,
    /// Where downloaded tarballs' checksums and facts are remembered.
    #[arg(long, value_name = "DIR", default_value_os_t = default_cache_dir())]
    pub cache: PathBuf,
    /// Named in each PKGBUILD's `# Maintainer:` line.
    #[arg(long, value_name = "NAME <EMAIL>", default_value = DEFAULT_MAINTAINER)]
    pub maintainer: String,
    /// The config file's per-distribution and system-package overrides.
    #[arg(skip)]
    pub overrides: crate::plan::Overrides,
    /// Seconds an HTTP server may stay silent (while connecting, or between two reads) before
    /// the download counts as failed; a hung server must not hang a cron run.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=crate::config::MAX_HTTP_TIMEOUT))]
    pub http_timeout: u64,
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
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Holds one git repository per package, the record of what was published, the lock and
    /// report.json. Required, here or as `state-dir` in the config file.
    // The empty default only stands for "not given": the config file fills it in, or the run
    // stops (see crate::config::apply_sync).
    #[arg(
        long,
        value_name = "DIR",
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from),
        default_value = "",
        hide_default_value = true
    )]
    pub state: PathBuf,
    /// Where each package's repository lives; `{pkgbase}` is replaced.
    #[arg(
        long,
        value_name = "URL",
        default_value = "ssh://aur@aur.archlinux.org/{pkgbase}.git"
    )]
    pub remote: String,
    /// The private ssh key registered with the AUR account.
    #[arg(long, value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
    /// Pinned host keys: OpenSSH known_hosts lines or `host SHA256:...` fingerprint lines.
    /// Default: the AUR's published keys, shipped in keys/.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// The AUR's package metadata (packages-meta-ext-v1.json[.gz]), as a path or URL.
    #[arg(
        long,
        value_name = "PATH|URL",
        default_value = "https://aur.archlinux.org/packages-meta-ext-v1.json.gz"
    )]
    pub aur_metadata: String,
    /// The bot's AUR account: only packages it maintains (or new ones) are pushed to.
    /// Required, here or as `aur-user` in the config file.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "",
        hide_default_value = true
    )]
    pub aur_user: String,
    /// Commit and push nothing; print the diff each package would get.
    #[arg(long)]
    pub dry_run: bool,
    /// Build each package that would be committed with makepkg (checks included) in a scratch
    /// directory first; a failed build is not pushed and is reported with the end of its log.
    /// makepkg refuses root, so this needs an unprivileged user, and checks dependencies
    /// itself: they must be installed on this host.
    #[arg(long)]
    pub verify_build: bool,
    /// The review gate: which kinds of change wait in the review queue instead of being
    /// pushed. `None` (no `[review]` in the config) turns the gate off.
    #[arg(skip)]
    pub review: Option<crate::sync::review::ReviewPolicy>,
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
pub struct DecideArgs {
    /// sync's state directory, which holds the review queue (review/). Default: `state-dir`
    /// from the config file.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The packages (pkgbase, e.g. raku-json-fast) to decide on.
    #[arg(value_name = "PKG", required = true)]
    pub packages: Vec<String>,
}

/// The Raku Ecosystem Archive's index of every release ever made.
pub const DEFAULT_INDEX: &str = "https://raw.githubusercontent.com/Raku/REA/main/META.json";
/// A placeholder an operator replaces with `--maintainer`.
pub const DEFAULT_MAINTAINER: &str = "raku-aur <raku-aur@example.invalid>";

fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("raku-aur")
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

/// Exit status when some packages failed and the others were done.
pub const EXIT_SOME_FAILED: u8 = 1;
/// Exit status when the run could not be done at all.
pub const EXIT_FATAL: u8 = 2;

/// How long libgit2 waits to connect, and then for each network read.
const GIT_CONNECT_TIMEOUT_MS: i32 = 30_000;
const GIT_READ_TIMEOUT_MS: i32 = 120_000;

/// libgit2 waits forever by default: a server that accepts and then goes silent would hang
/// a cron run until the next one piles up behind it.
#[allow(unsafe_code)]
fn set_git_timeouts() -> Result<(), git2::Error> {
    // SAFETY: these write a C global without synchronisation; they run first thing in
    // `main`, before the async runtime or anything else has started a thread.
    unsafe {
        git2::opts::set_server_connect_timeout_in_milliseconds(GIT_CONNECT_TIMEOUT_MS)?;
        git2::opts::set_server_timeout_in_milliseconds(GIT_READ_TIMEOUT_MS)?;
    }
    Ok(())
}

/// Parses the command line, runs the command, and turns the outcome into an exit status.
pub fn main() -> ExitCode {
    if let Err(e) = set_git_timeouts() {
        eprintln!("raku-aur: cannot set libgit2's timeouts: {e}");
        return ExitCode::from(EXIT_FATAL);
    }
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let (_, sub_matches) = matches.subcommand().expect("clap requires a subcommand");
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(crate::progress::LogWriter)
        .with_target(false);
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match cli.log_format {
        // Colour and progress bars only for a person at a terminal: cron mail and journald
        // get plain lines.
        LogFormat::Text => {
            if terminal {
                crate::progress::enable();
            }
            logs.with_ansi(terminal).init()
        }
        LogFormat::Json => logs.json().with_ansi(false).init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("raku-aur: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FATAL);
        }
    };
    let config = cli.config.as_deref();
    let outcome = match cli.command {
        Command::Render(mut args) => crate::config::prepare_render(&mut args, sub_matches, config)
            .and_then(|()| runtime.block_on(crate::render_cmd::run(args)))
            .map(|()| ExitCode::SUCCESS),
        Command::Sync(mut args) => crate::config::prepare_sync(&mut args, sub_matches, config)
            .and_then(|()| runtime.block_on(crate::sync::run(args)))
            .map(|o| match o {
                crate::sync::Outcome::Clean => ExitCode::SUCCESS,
                crate::sync::Outcome::SomeFailed => ExitCode::from(EXIT_SOME_FAILED),
            }),
        Command::CheckConfig(args) => Ok(crate::check_config::run(args, sub_matches, config)),
        Command::Review(args) => crate::config::state_dir(args.state, config)
            .and_then(|state| queue::show(&state))
            .map(|()| ExitCode::SUCCESS),
        Command::Approve(args) => crate::config::state_dir(args.state, config)
            .and_then(|state| queue::record_verdict(&state, &args.packages, Choice::Approve))
            .map(|()| ExitCode::SUCCESS),
        Command::Reject(args) => crate::config::state_dir(args.state, config)
            .and_then(|state| queue::record_verdict(&state, &args.packages, Choice::Reject))
            .map(|()| ExitCode::SUCCESS),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("raku-aur: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
