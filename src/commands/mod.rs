//! The commands: each takes what was typed, resolves its settings once, runs, and says how it
//! ended. The exit status of every command is decided here, in [`main`], and nowhere else.

mod build;
mod check_config;
mod legacy;
mod render;
mod review;
mod site;
mod sync;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, LogFormat};

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Everything that could be done was done.
    Done,
    /// Some packages failed; the others were done, and the next run retries.
    SomeFailed,
    /// Nothing could be done (the error was printed).
    Fatal,
}

/// Exit status when some packages failed and the others were done.
const EXIT_SOME_FAILED: u8 = 1;
/// Exit status when the run could not be done at all.
const EXIT_FATAL: u8 = 2;

impl From<Ending> for ExitCode {
    fn from(ending: Ending) -> ExitCode {
        match ending {
            Ending::Done => ExitCode::SUCCESS,
            Ending::SomeFailed => ExitCode::from(EXIT_SOME_FAILED),
            Ending::Fatal => ExitCode::from(EXIT_FATAL),
        }
    }
}

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

fn init_logs(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(crate::progress::LogWriter)
        .with_target(false);
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match format {
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
}

/// Parses the command line, runs the command, and turns how it ended into an exit status.
pub fn main() -> ExitCode {
    if let Err(e) = set_git_timeouts() {
        eprintln!("raku-aur: cannot set libgit2's timeouts: {e}");
        return Ending::Fatal.into();
    }
    let cli = Cli::parse();
    init_logs(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("raku-aur: cannot start the async runtime: {e}");
            return Ending::Fatal.into();
        }
    };
    let config = cli.config.as_deref();
    let ending = match cli.command {
        Command::Render(args) => runtime.block_on(render::run(args, config)),
        Command::Sync(args) => runtime.block_on(sync::run(args, config)),
        Command::Build(args) => runtime.block_on(build::run(args, config)),
        Command::CheckConfig(args) => Ok(check_config::run(args, config)),
        Command::Legacy(args) => runtime.block_on(legacy::run(args, config)),
        Command::Review(args) => review::show(args, config),
        Command::Approve(args) => review::approve(args, config),
        Command::Reject(args) => review::reject(args, config),
        Command::Site(args) => runtime.block_on(site::run(args, config)),
    };
    match ending {
        Ok(ending) => ending.into(),
        Err(e) => {
            eprintln!("raku-aur: {e:#}");
            Ending::Fatal.into()
        }
    }
}
