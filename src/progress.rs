//! Progress bars for a person at a terminal, and nothing at all under cron or systemd.
//!
//! Log lines and bars share stderr, so every log line is written with the bars suspended:
//! the two never interleave on screen.

use std::io::{self, Write};
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;

/// Set once at start-up when bars are wanted; unset means every bar is hidden.
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Turns bars on for this process. Call it only when stderr is a terminal and the logs are
/// meant for a person.
pub fn enable() {
    let _ = BARS.set(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
}

/// A bar over `len` steps, labelled `what`; a no-op bar when bars are off.
pub fn bar(what: &'static str, len: usize) -> ProgressBar {
    let Some(bars) = BARS.get() else {
        return ProgressBar::hidden();
    };
    let bar = bars.add(ProgressBar::new(len as u64));
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}

/// tracing's writer: each event arrives as one formatted line and is written to stderr with
/// the bars out of the way.
pub struct LogWriter;

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new())
    }
}

/// One log event, written out when tracing drops it.
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let line = std::mem::take(&mut self.0);
        // A log line that cannot reach stderr has nowhere else to go.
        let write = || {
            let _ = io::stderr().write_all(&line);
        };
        match BARS.get() {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }
}
