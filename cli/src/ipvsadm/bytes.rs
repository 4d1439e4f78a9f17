//! ipvsadm works on C strings: bytes, not UTF-8. Arguments, restore
//! lines, host and service names reach it as they are and come back out
//! in its messages (`invalid scheduler flag `\xff'`) byte for byte. The
//! front end keeps them in `String`s losslessly: each byte of the input
//! that is not part of valid UTF-8 (and each byte of a character that
//! would be mistaken for such an escape) becomes one character of the
//! last 256 code points of plane 16, and [`to_bytes`] turns them back
//! wherever a string leaves the program (output, NSS, truncation to a C
//! buffer's length).

use std::borrow::Cow;

/// The first of the 256 escape characters: `ESCAPE + byte`.
const ESCAPE: u32 = 0x10_FF00;

/// The UTF-8 lead bytes of the escape range (U+10FF00..=U+10FFFF is
/// `F4 8F BC..BF xx`).
fn starts_escape(b: &[u8]) -> bool {
    b.len() >= 3 && b[0] == 0xF4 && b[1] == 0x8F && b[2] >= 0xBC
}

/// Bytes as a `String`, losslessly.
pub fn from_bytes(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !s.as_bytes().windows(3).any(starts_escape) {
            return s.to_owned();
        }
    }
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, &[][..]),
            Err(e) => {
                let (v, b) = rest.split_at(e.valid_up_to());
                (std::str::from_utf8(v).unwrap_or_default(), b)
            }
        };
        for c in valid.chars() {
            let mut buf = [0u8; 4];
            let enc = c.encode_utf8(&mut buf).as_bytes();
            if starts_escape(enc) {
                enc.iter().for_each(|&b| out.push(escape(b)));
            } else {
                out.push(c);
            }
        }
        if let Some((&b, after)) = bad.split_first() {
            out.push(escape(b));
            rest = after;
        } else {
            rest = &[];
        }
    }
    out
}

fn escape(b: u8) -> char {
    char::from_u32(ESCAPE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The bytes a `String` from [`from_bytes`] stands for.
pub fn to_bytes(s: &str) -> Cow<'_, [u8]> {
    if !s.as_bytes().contains(&0xF4) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c).checked_sub(ESCAPE) {
            Some(b) => out.push(b as u8),
            None => out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// `strncpy(buf, s, max)` into a NUL-padded buffer: at most `max` bytes
/// of what `s` stands for (a cut character becomes its bytes, so the
/// result is what ipvsadm keeps).
pub fn truncate(s: &str, max: usize) -> String {
    let bytes = to_bytes(s);
    if bytes.len() <= max {
        return s.to_owned();
    }
    from_bytes(&bytes[..max])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_bytes() {
        for input in [
            &b"plain"[..],
            b"\xff",
            b"a\xffb\xc3",
            "é€𝄞".as_bytes(),
            "\u{10ff41}\u{10ffff}".as_bytes(),
            b"\xf4\x8f\xbc",
        ] {
            let s = from_bytes(input);
            assert_eq!(&*to_bytes(&s), input, "{input:?}");
        }
        assert_eq!(from_bytes(b"abc"), "abc");
        assert_eq!(
            truncate(&from_bytes("é".as_bytes()), 1),
            from_bytes(b"\xc3")
        );
        assert_eq!(truncate("rr", 15), "rr");
    }
}
