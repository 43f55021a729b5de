//! What a person at a terminal sees, against what cron and journald get: progress bars and
//! colour only on a TTY. util-linux's `script` gives the run a real pseudo-terminal.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use common::fixtures::{self, REA_ARCHIVE_PREFIX};
use common::http::TestServer;

fn rea_sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rea-sample.json")
}

/// The `render` command line for the real sample with tarballs from `server`, run by `sh`.
fn render_line(dir: &Path, server: &TestServer, cache: &str, out: &str) -> String {
    let quote = |p: &Path| format!("'{}'", p.display());
    format!(
        "{} render --index {} --mirror '{REA_ARCHIVE_PREFIX}={}' --cache {} --out {}",
        env!("CARGO_BIN_EXE_raku-aur"),
        quote(&rea_sample()),
        server.base_url(),
        quote(&dir.join(cache)),
        quote(&dir.join(out)),
    )
}

fn run_sh(dir: &Path, line: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("RUST_LOG", "info")
        .output()
        .expect("sh runs")
}

#[test]
fn a_terminal_gets_a_progress_bar_and_a_pipe_gets_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    fixtures::archive_index(&rea_sample(), REA_ARCHIVE_PREFIX, &archive);
    let server = TestServer::serve_dir(&archive);

    // `script -e` runs the line on a pseudo-terminal and passes its exit status on.
    let on_tty = run_sh(
        dir.path(),
        &format!(
            "script -qec \"{}\" /dev/null",
            render_line(dir.path(), &server, "cache-tty", "out-tty")
        ),
    );
    let screen = String::from_utf8_lossy(&on_tty.stdout);
    assert!(on_tty.status.success(), "{screen}");
    assert!(
        screen.contains("tarballs [") && screen.contains("/59"),
        "no progress bar over the 59 planned downloads on the terminal:\n{screen}"
    );
    assert!(screen.contains("\u{1b}["), "no colour on the terminal");

    let piped = run_sh(
        dir.path(),
        &render_line(dir.path(), &server, "cache-pipe", "out-pipe"),
    );
    let log = String::from_utf8_lossy(&piped.stderr);
    assert!(piped.status.success(), "{log}");
    assert!(
        log.contains("tarballs") && log.contains("downloaded=59"),
        "{log}"
    );
    assert!(
        !log.contains("tarballs [") && !log.contains('\u{1b}'),
        "bar or escape codes in piped logs:\n{log}"
    );
}
