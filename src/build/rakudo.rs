//! The rakudo version builds get, read with the operator's command: precompiled files are
//! tied to the rakudo build, so when it changes every package is rebuilt into the repository.

use std::process::{Command, Stdio};

/// Runs `command` and reads one version (`[epoch:]pkgver-pkgrel`) from its output.
pub fn probe(command: &[String]) -> Result<String, String> {
    let (program, args) = command
        .split_first()
        .ok_or("build.rakudo-version-command is empty")?;
    let output = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {program} (build.rakudo-version-command): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            crate::text::escape_for_log(&command.join(" ")),
            output.status,
            crate::text::one_line(&String::from_utf8_lossy(&output.stderr))
        ));
    }
    read_version(&text)
}

/// The one line of `text`, if it is a full version pacman could have printed.
fn read_version(text: &str) -> Result<String, String> {
    let line = text.trim();
    match crate::checked_version::parse(line) {
        Ok(v) if v.pkgrel.is_some() && !line.contains(char::is_whitespace) => Ok(line.to_string()),
        _ => Err(format!(
            "build.rakudo-version-command printed {}, not a version like 2026.04-1",
            crate::text::escape_for_log(line)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_full_version_is_read_and_anything_else_refused() {
        assert_eq!(read_version("2026.04-1\n").unwrap(), "2026.04-1");
        assert_eq!(read_version("1:2026.04-2").unwrap(), "1:2026.04-2");
        assert!(read_version("").is_err());
        assert!(read_version("2026.04").is_err());
        assert!(read_version("2026.04-1\n2026.05-1").is_err());
        assert!(read_version("error: target not found: rakudo").is_err());
    }

    #[test]
    fn a_failing_command_is_an_error_naming_it() {
        let error = probe(&["sh".into(), "-c".into(), "echo nope >&2; exit 1".into()]).unwrap_err();
        assert!(error.contains("nope"), "{error}");
    }
}
