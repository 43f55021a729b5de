//! A JSON array too big to hold (the AUR's metadata: 80–150 MB of text), read one element
//! at a time.
//!
//! The text is read into a buffer of about a megabyte, and each element is parsed straight
//! from it with serde_json's slice reader, which borrows strings instead of copying them and
//! is several times faster than its reader over `io::Read`. An element the buffer holds only
//! part of fails with an end-of-input error; the buffer is then refilled and the element
//! parsed again from its start, so memory stays at one buffer plus the largest element.

use std::io::Read;

use serde::de::Error as _;

/// Text read at a time; elements of the AUR's metadata are about a kilobyte.
const BUFFER: usize = 1 << 20;
/// An element larger than this is refused rather than buffered: the AUR caps every field.
const ELEMENT_MAX: usize = 16 << 20;

/// Why the array could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArrayError {
    #[error("{0}")]
    Read(std::io::Error),
    #[error("{0}")]
    Json(serde_json::Error),
}

/// Calls `parse` with the text at the start of each element of the top-level array in `text`,
/// in order; `parse` reads one element from the start of the slice and says how many bytes
/// it took. Whitespace, commas and brackets between elements are checked here.
pub(crate) fn for_each_element(
    text: impl Read,
    parse: impl FnMut(&[u8]) -> Result<usize, serde_json::Error>,
) -> Result<(), ArrayError> {
    read_array(text, BUFFER, parse)
}

/// [`for_each_element`], reading `step` bytes at a time.
fn read_array(
    text: impl Read,
    step: usize,
    mut parse: impl FnMut(&[u8]) -> Result<usize, serde_json::Error>,
) -> Result<(), ArrayError> {
    let mut reader = Buffered {
        text,
        step,
        buf: Vec::with_capacity(step),
        pos: 0,
        eof: false,
    };
    let syntax = |what: &str| ArrayError::Json(serde_json::Error::custom(what));
    if reader.next_token()? != Some(b'[') {
        return Err(syntax("expected a JSON array"));
    }
    reader.pos += 1;
    if reader.next_token()? == Some(b']') {
        reader.pos += 1;
    } else {
        loop {
            if reader.next_token()?.is_none() {
                return Err(syntax("the array ends without `]`"));
            }
            reader.element(&mut parse)?;
            match reader.next_token()? {
                Some(b',') => reader.pos += 1,
                Some(b']') => {
                    reader.pos += 1;
                    break;
                }
                _ => return Err(syntax("expected `,` or `]` after an array element")),
            }
        }
    }
    match reader.next_token()? {
        None => Ok(()),
        Some(_) => Err(syntax("trailing characters after the array")),
    }
}

struct Buffered<R> {
    text: R,
    step: usize,
    /// Bytes read and not yet consumed start at `pos`.
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> Buffered<R> {
    /// Drops what was consumed and reads up to `step` more bytes.
    fn refill(&mut self) -> Result<(), ArrayError> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        let read = (&mut self.text)
            .take(self.step as u64)
            .read_to_end(&mut self.buf)
            .map_err(ArrayError::Read)?;
        self.eof = read == 0;
        Ok(())
    }

    /// The next byte that is not JSON whitespace, left unconsumed; `None` at the end.
    fn next_token(&mut self) -> Result<Option<u8>, ArrayError> {
        loop {
            let rest = &self.buf[self.pos..];
            match rest.iter().position(|b| !b" \t\n\r".contains(b)) {
                Some(skip) => {
                    self.pos += skip;
                    return Ok(Some(rest[skip]));
                }
                None if self.eof => {
                    self.pos = self.buf.len();
                    return Ok(None);
                }
                None => {
                    self.pos = self.buf.len();
                    self.refill()?;
                }
            }
        }
    }

    /// Parses the element at `pos` (which [`Self::next_token`] found), refilling while it is
    /// cut off by the buffer's end.
    fn element(
        &mut self,
        parse: &mut impl FnMut(&[u8]) -> Result<usize, serde_json::Error>,
    ) -> Result<(), ArrayError> {
        loop {
            let rest = &self.buf[self.pos..];
            // A number that reaches the buffer's end may go on after it, and would parse
            // (wrongly) as it stands: everything else cut off fails as end of input.
            let number_may_go_on = rest
                .first()
                .is_some_and(|b| *b == b'-' || b.is_ascii_digit())
                && rest.iter().all(|b| b"0123456789+-.eE".contains(b));
            let wait_for_more = number_may_go_on && !self.eof;
            if !wait_for_more {
                match parse(rest) {
                    Ok(used) if used > 0 => {
                        self.pos += used;
                        return Ok(());
                    }
                    Ok(_) => {
                        return Err(ArrayError::Json(serde_json::Error::custom("empty element")));
                    }
                    Err(e) if e.is_eof() && !self.eof => {}
                    Err(e) => return Err(ArrayError::Json(e)),
                }
            }
            if rest.len() > ELEMENT_MAX {
                return Err(ArrayError::Json(serde_json::Error::custom(format!(
                    "an array element is larger than {ELEMENT_MAX} bytes"
                ))));
            }
            self.refill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element, parsed as a JSON value, reading `step` bytes at a time (so that
    /// elements are cut at every possible place).
    fn elements(text: &str, step: usize) -> Result<Vec<serde_json::Value>, String> {
        let mut out = Vec::new();
        read_array(text.as_bytes(), step, |bytes| {
            let mut one = serde_json::Deserializer::from_slice(bytes).into_iter();
            let value = one
                .next()
                .unwrap_or_else(|| Err(serde_json::Error::custom("none")))?;
            out.push(value);
            Ok(one.byte_offset())
        })
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn elements_cut_anywhere_are_read_whole() {
        let text = r#" [ {"a": "x\"y", "b": [1, 2, {"c": null}]} ,{"d":"\u00e9"},
            {"e": 123456789}, [], "s", 12, -3.5e10, true, null ] "#;
        let whole: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
        for step in 1..text.len() + 1 {
            assert_eq!(elements(text, step).unwrap(), whole, "step {step}");
        }
        assert_eq!(elements("[]", 1).unwrap(), Vec::<serde_json::Value>::new());
    }

    #[test]
    fn anything_but_one_whole_array_is_refused() {
        for bad in [
            "",
            "{}",
            "[",
            "[{}",
            "[{},",
            "[{} {}]",
            "[{},]",
            "[{\"a\": 1",
            "[] []",
            "[{}] x",
            "[,]",
            "[12",
            "[tru]",
        ] {
            assert!(elements(bad, 3).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_element_larger_than_the_cap_is_refused_not_buffered() {
        let text = format!("[\"{}", "a".repeat(ELEMENT_MAX + 1));
        let err = elements(&text, 2 * ELEMENT_MAX).unwrap_err();
        assert!(err.contains("larger than"), "{err}");
    }
}
