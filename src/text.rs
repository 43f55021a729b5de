//! Small helpers for showing untrusted text to humans.

/// At most this many characters of an untrusted value go into a log line or a reason.
const LOG_VALUE_MAX_CHARS: usize = 200;

/// Quotes an untrusted value for a log line or a report reason: Rust's debug escaping turns
/// newlines, NUL, ESC and other control characters into visible escapes, so the value cannot
/// break a line or drive a terminal; very long values are cut.
pub fn escape_for_log(value: &str) -> String {
    let mut cut: String = value.chars().take(LOG_VALUE_MAX_CHARS).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    let quoted = format!("{cut:?}");
    // Plain names read better bare; anything unusual stays quoted.
    let plain = cut
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:<>+*/".contains(c));
    if plain && !cut.is_empty() {
        cut
    } else {
        quoted
    }
}

/// A tool's multi-line complaint on one log line: its non-blank lines, trimmed, joined with
/// `; `, then escaped as [`escape_for_log`] does; empty when it said nothing.
pub fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    escape_for_log(&lines.join("; "))
}

/// Multi-line untrusted text (a diff against what the server holds) for a terminal: lines and
/// tabs stay, every other control or format character becomes a visible `\u{..}` escape, so
/// the text cannot move the cursor, recolour or retitle the maintainer's terminal.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' || c == '\t' || !(c.is_control() || is_format(c)) {
            out.push(c);
        } else {
            out.push_str(&c.escape_unicode().to_string());
        }
    }
    out
}

/// Unicode format characters that can reorder or hide text (bidi controls, zero-width ones).
fn is_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Refuses a setting that holds a control character, a line separator or a bidirectional
/// control: it could break a log line or hide what it really says.
pub fn refuse_unsafe(s: &str) -> Result<(), String> {
    if s.chars().any(crate::raku::depspec::is_unsafe) {
        return Err(format!(
            "{} contains a control or bidirectional character",
            escape_for_log(s)
        ));
    }
    Ok(())
}

/// Lowercase hexadecimal, as checksums are written in PKGBUILDs and caches.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_keeps_lines_and_tabs_and_shows_escapes() {
        assert_eq!(
            for_terminal("+\tdepends = a\n-x\u{1b}[2J\u{7}\r\u{202e}y\n"),
            "+\tdepends = a\n-x\\u{1b}[2J\\u{7}\\u{d}\\u{202e}y\n"
        );
    }

    #[test]
    fn a_complaint_becomes_one_escaped_line() {
        assert_eq!(
            one_line("\n  gpg: skipped \n\ngpg: signing failed\n"),
            "\"gpg: skipped; gpg: signing failed\""
        );
        assert_eq!(one_line("error\u{1b}[31m"), "\"error\\u{1b}[31m\"");
        assert_eq!(one_line(" \n\t\n"), "");
    }

    #[test]
    fn hex_is_lowercase_and_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab]), "000fab");
    }

    #[test]
    fn plain_names_stay_bare() {
        assert_eq!(
            escape_for_log("JSON::Fast:ver<1.0+>"),
            "JSON::Fast:ver<1.0+>"
        );
    }

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(
            escape_for_log("a\nb\u{1b}[31m\0"),
            "\"a\\nb\\u{1b}[31m\\0\""
        );
        assert_eq!(escape_for_log(""), "\"\"");
        assert_eq!(escape_for_log("with space"), "\"with space\"");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(1000);
        let shown = escape_for_log(&long);
        assert_eq!(shown.chars().count(), LOG_VALUE_MAX_CHARS + 3);
        assert!(shown.ends_with("…\""));
    }
}
