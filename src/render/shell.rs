//! Proven-safe bash quoting for values that reach a PKGBUILD, and the text rules that make a
//! value survive `makepkg --printsrcinfo` unchanged.
//!
//! What makepkg 6.0.2 does, read from `/usr/share/makepkg/srcinfo.sh` and checked by running it
//! (see `tests/it/with_tools/srcinfo_oracle.rs`):
//!
//! - It refuses to source a PKGBUILD that contains a carriage return anywhere (`contains CRLF
//!   characters and cannot be sourced`), and bash cannot hold NUL in a variable, so neither
//!   character can be carried by a quoted word: [`single_quote`] rejects both.
//! - `srcinfo_write_attr` rewrites every value with
//!   `${v//+([[:space:]])/ }`, then strips one leading and one trailing `[[:space:]]`.
//!   `[[:space:]]` depends on the locale: in `C` it is space, TAB, LF, VT, FF and CR; in
//!   `C.UTF-8` glibc adds U+1680, U+2000–U+2006, U+2008–U+200A, U+2028, U+2029, U+205F and
//!   U+3000 (found by classifying every code point with bash). [`sanitize_line`] turns all of
//!   Unicode's `White_Space` (a superset of both) into single inner spaces, so its output is a
//!   fixed point of that rewrite in either locale, and the `.SRCINFO` can carry it verbatim.

use thiserror::Error;

/// A string that no single-quoted bash word in a PKGBUILD can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum QuoteError {
    /// A NUL character, at this byte offset: bash strings end at NUL.
    #[error("NUL at byte {0}: bash cannot hold it")]
    Nul(usize),
    /// A carriage return, at this byte offset: makepkg refuses a PKGBUILD containing one.
    #[error("carriage return at byte {0}: makepkg refuses to source a PKGBUILD containing it")]
    CarriageReturn(usize),
}

/// Quotes `s` as one bash word that evaluates to exactly `s`, for a PKGBUILD.
///
/// Inside single quotes bash gives no character a meaning except `'`, which ends the quoted
/// part; each `'` is written as `'\''` (close, escaped quote, reopen). The proof obligation is
/// checked here rather than left to callers: the result exists only for strings without NUL
/// (bash cannot hold it) and without CR (makepkg would refuse the whole file).
pub fn single_quote(s: &str) -> Result<String, QuoteError> {
    if let Some((at, c)) = s.char_indices().find(|&(_, c)| c == '\0' || c == '\r') {
        return Err(if c == '\0' {
            QuoteError::Nul(at)
        } else {
            QuoteError::CarriageReturn(at)
        });
    }
    let mut quoted = String::with_capacity(s.len() + 2);
    quoted.push('\'');
    for c in s.chars() {
        if c == '\'' {
            quoted.push_str(r"'\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    Ok(quoted)
}

/// Turns free text (a META6 `description`, say) into one line of at most `max_chars` chars.
///
/// Whitespace, control characters (NUL, CR, LF, TAB, ESC, DEL, C1 controls) and format
/// characters (bidi embeddings, overrides and isolates, zero-width characters, tag characters
/// and the rest of Unicode category `Cf`) become spaces, so nothing can hide text from a
/// reviewer or start a new line; runs of spaces become one space and the ends are trimmed.
/// Longer text is cut at a char (not grapheme) boundary, back to the last space if that keeps
/// at least half the budget, and ends in `…`; the result then has at most `max_chars` chars.
///
/// The result is a fixed point of makepkg's whitespace rewrite (see the module docs).
pub fn sanitize_line(s: &str, max_chars: usize) -> String {
    let line = s
        .split(is_blanked)
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if line.chars().count() <= max_chars {
        return line;
    }
    let Some(budget) = max_chars.checked_sub(1) else {
        return String::new();
    };
    // Room is kept for the ellipsis, which is one char.
    let cut = line
        .char_indices()
        .nth(budget)
        .map_or(line.len(), |(at, _)| at);
    let head = &line[..cut];
    let head = if line[cut..].starts_with(' ') {
        head
    } else {
        match head.rfind(' ') {
            Some(space) if head[..space].chars().count() >= budget / 2 => &head[..space],
            _ => head,
        }
    };
    let mut truncated = head.trim_end_matches(' ').to_owned();
    truncated.push('…');
    truncated
}

/// Whether `sanitize_line` replaces `c` by a space.
fn is_blanked(c: char) -> bool {
    c.is_whitespace() || c.is_control() || is_format(c)
}

/// Unicode general category `Cf` (as of Unicode 16): invisible characters that change how
/// neighbouring text is shown or read. std has no category lookup, and this set rarely grows.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Whether `s` is a non-empty URL made only of characters that need no thought anywhere we
/// put it: RFC 3986 unreserved characters, `%`, and the delimiters `: / ? # [ ] @ & + , ; =`.
///
/// Left out: `$`, `` ` ``, `\`, `"` and `!` (special to bash inside double quotes, `!` through
/// history expansion), `'` (ends a single-quoted word), `(`, `)`, `*` and all whitespace
/// (special to unquoted bash or to makepkg's whitespace rewrite). A `::` is refused as well:
/// makepkg's `source=()` splits `localname::url` at the first `::`, so a URL containing one
/// would be misread when written without a local name.
pub fn is_url_safe(s: &str) -> bool {
    !s.is_empty()
        && !s.contains("::")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~%:/?#[]@&+,;=".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_quote_wraps_and_escapes_quotes() {
        assert_eq!(single_quote("").unwrap(), "''");
        assert_eq!(single_quote("a b").unwrap(), "'a b'");
        assert_eq!(single_quote("it's").unwrap(), r"'it'\''s'");
        assert_eq!(single_quote("''").unwrap(), r"''\'''\'''");
        assert_eq!(single_quote("$(x)\n`y`").unwrap(), "'$(x)\n`y`'");
    }

    #[test]
    fn single_quote_refuses_nul_and_cr() {
        assert_eq!(single_quote("ab\0c"), Err(QuoteError::Nul(2)));
        assert_eq!(single_quote("é\r\0"), Err(QuoteError::CarriageReturn(2)));
    }

    #[test]
    fn sanitize_blanks_controls_and_formats_and_collapses() {
        let hostile = "\u{202E}evil\u{202C}\t\r\n a\0b\u{1b}[31mc\u{7f}d\u{85}e\u{2028}f\u{2066}g\u{200B}h\u{E0041}i\u{3000}j\u{A0} ";
        assert_eq!(sanitize_line(hostile, 100), "evil a b [31mc d e f g h i j");
        assert_eq!(sanitize_line("  é 漢字  🦀 ", 100), "é 漢字 🦀");
        assert_eq!(sanitize_line("\n\t ", 100), "");
    }

    #[test]
    fn sanitize_truncates_at_word_boundary_when_close() {
        assert_eq!(sanitize_line("one two three", 13), "one two three");
        assert_eq!(sanitize_line("one two three", 12), "one two…");
        // The cut lands right before a space: the whole head is kept.
        assert_eq!(sanitize_line("one two three", 8), "one two…");
        // The last space is too early: cut inside the word instead.
        assert_eq!(
            sanitize_line("a verylongwordwithoutspaces", 12),
            "a verylongw…"
        );
        assert_eq!(sanitize_line("漢字漢字漢字", 4), "漢字漢…");
        assert_eq!(sanitize_line("ab", 1), "…");
        assert_eq!(sanitize_line("ab", 0), "");
    }

    #[test]
    fn sanitize_output_never_exceeds_budget_and_is_idempotent() {
        let text = "Lorem ipsum, dolor\tsit amet; 漢字 🦀 consectetur adipiscing elit ".repeat(20);
        for max in 0..200 {
            let line = sanitize_line(&text, max);
            assert!(line.chars().count() <= max, "{max}: {line}");
            assert_eq!(sanitize_line(&line, max), line);
            assert!(!line.starts_with(' ') && !line.ends_with(' ') && !line.contains("  "));
        }
    }

    #[test]
    fn url_alphabet() {
        assert!(is_url_safe(
            "https://github.com/a-b/c_d/archive/v1.0~rc.tar.gz?x=1&y=%3A+2,3;z@[h]#f"
        ));
        assert!(is_url_safe("https://zef.example/x:y"));
        for bad in [
            "",
            "https://a/$x",
            "https://a/`x`",
            "https://a/\\",
            "https://a/\"",
            "https://a/!",
            "https://a/'",
            "https://a/(x)",
            "https://a/*",
            "https://a/ b",
            "https://a/\tb",
            "https://a/é",
            "https://a/b::c",
        ] {
            assert!(!is_url_safe(bad), "{bad:?}");
        }
    }
}
