//! A listing line put together on the stack.

use std::{fmt, net::Ipv4Addr};

/// 32 spaces.
const SPACES: [u8; 32] = [b' '; 32];

/// "00", "01", ... "99".
const PAIRS: [u8; 200] = {
    let mut t = [0; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Lines of a listing, put together in a buffer on the stack and appended
/// to the output a few at a time. A listing has tens of thousands of
/// lines; appending them to a `String` field by field and digit by digit
/// cost more under an emulated CPU than the kernel's service dump.
///
/// Pieces are whole strings and ASCII bytes, so every piece boundary is a
/// character boundary and what is appended is valid UTF-8. What is left
/// is appended when the writer is dropped.
pub(super) struct Line<'a> {
    out: &'a mut String,
    buf: [u8; 256],
    len: usize,
    /// Bytes written since the line began, appended or not: what padding
    /// counts from.
    written: usize,
}

impl<'a> Line<'a> {
    pub fn new(out: &'a mut String) -> Self {
        Line {
            out,
            buf: [0; 256],
            len: 0,
            written: 0,
        }
    }

    /// Where the line is now, for [`Line::pad_from`].
    pub fn mark(&self) -> usize {
        self.written
    }

    /// Spaces up to `width` bytes written since `mark`, as `%-Ns` pads.
    pub fn pad_from(&mut self, mark: usize, width: usize) {
        self.spaces(width.saturating_sub(self.written - mark));
    }

    pub fn str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        self.room(bytes.len());
        if bytes.len() > self.buf.len() {
            self.out.push_str(s);
        } else {
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
        self.written += bytes.len();
    }

    /// `s` then spaces up to `width` bytes (`%-Ns`).
    pub fn left(&mut self, s: &str, width: usize) {
        let mark = self.mark();
        self.str(s);
        self.pad_from(mark, width);
    }

    /// One ASCII byte.
    pub fn ascii(&mut self, b: u8) {
        debug_assert!(b.is_ascii());
        self.room(1);
        self.buf[self.len] = if b.is_ascii() { b } else { b'?' };
        self.len += 1;
        self.written += 1;
    }

    pub fn spaces(&mut self, mut n: usize) {
        if n <= SPACES.len() {
            // A fixed-size store, then only `n` of it kept: padding is most
            // of a listing's bytes.
            self.room(SPACES.len());
            self.buf[self.len..self.len + SPACES.len()].copy_from_slice(&SPACES);
            self.len += n;
            self.written += n;
            return;
        }
        while n > 0 {
            self.room(n.min(self.buf.len()));
            let k = n.min(self.buf.len() - self.len);
            self.buf[self.len..self.len + k].fill(b' ');
            self.len += k;
            self.written += k;
            n -= k;
        }
    }

    /// A number in decimal (`%u`), two digits at a time.
    pub fn uint(&mut self, mut n: u64) {
        if n < 100 {
            // Octets, ports' first digits, weights, connection counts.
            self.room(2);
            if n < 10 {
                self.buf[self.len] = b'0' + n as u8;
                self.len += 1;
                self.written += 1;
            } else {
                let pair = n as usize * 2;
                self.buf[self.len..self.len + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
                self.len += 2;
                self.written += 2;
            }
            return;
        }
        if n < 10_000 {
            // Octets, ports.
            let (hi, lo) = (n as usize / 100, n as usize % 100 * 2);
            let digits = if hi < 10 { 3 } else { 4 };
            self.room(4);
            let at = self.len;
            if hi < 10 {
                self.buf[at] = b'0' + hi as u8;
            } else {
                self.buf[at..at + 2].copy_from_slice(&PAIRS[hi * 2..hi * 2 + 2]);
            }
            self.buf[at + digits - 2..at + digits].copy_from_slice(&PAIRS[lo..lo + 2]);
            self.len += digits;
            self.written += digits;
            return;
        }
        let digits = n.checked_ilog10().unwrap_or(0) as usize + 1;
        self.room(digits);
        let end = self.len + digits;
        let mut at = end;
        while n >= 100 {
            let pair = (n % 100) as usize * 2;
            n /= 100;
            at -= 2;
            self.buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
        }
        if n >= 10 {
            let pair = n as usize * 2;
            self.buf[at - 2..at].copy_from_slice(&PAIRS[pair..pair + 2]);
        } else {
            self.buf[at - 1] = b'0' + n as u8;
        }
        self.len = end;
        self.written += digits;
    }

    /// A signed number then spaces up to `width` (`%-Nd`).
    pub fn int_left(&mut self, n: i64, width: usize) {
        let mark = self.mark();
        if n < 0 {
            self.ascii(b'-');
        }
        self.uint(n.unsigned_abs());
        self.pad_from(mark, width);
    }

    /// A dotted quad, as `inet_ntop` writes it.
    pub fn ipv4(&mut self, a: Ipv4Addr) {
        let [a, b, c, d] = a.octets();
        self.uint(a.into());
        self.ascii(b'.');
        self.uint(b.into());
        self.ascii(b'.');
        self.uint(c.into());
        self.ascii(b'.');
        self.uint(d.into());
    }

    /// Makes room for `n` more bytes, appending what the buffer holds if
    /// they would not fit.
    fn room(&mut self, n: usize) {
        if self.len + n > self.buf.len() {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let bytes = &self.buf[..self.len];
        match std::str::from_utf8(bytes) {
            Ok(s) => self.out.push_str(s),
            // Whole strings and ASCII bytes are valid UTF-8 together.
            Err(_) => self.out.push_str(&String::from_utf8_lossy(bytes)),
        }
        self.len = 0;
    }
}

/// For the rare pieces (`persistent 360`, `mask 255.255.255.0`).
impl fmt::Write for Line<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.str(s);
        Ok(())
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_pad_and_numbers_as_printf_writes_them() {
        let mut out = String::from(">");
        {
            let mut l = Line::new(&mut out);
            l.str("  -> ");
            let mark = l.mark();
            l.ipv4(Ipv4Addr::new(10, 0, 255, 1));
            l.ascii(b':');
            l.uint(8080);
            l.pad_from(mark, 28);
            l.ascii(b' ');
            l.left("Masq", 7);
            l.ascii(b' ');
            l.int_left(-1, 6);
            l.ascii(b' ');
            l.int_left(i64::from(i32::MIN), 10);
            l.ascii(b'|');
            for n in [
                0,
                7,
                10,
                99,
                100,
                101,
                255,
                999,
                1000,
                1005,
                8080,
                9999,
                10_000,
                65535,
                100_000,
                u64::MAX,
            ] {
                l.uint(n);
                l.ascii(b',');
            }
        }
        assert_eq!(
            out,
            format!(
                ">  -> {:<28} {:<7} {:<6} {:<10}|0,7,10,99,100,101,255,999,1000,1005,8080,9999,10000,65535,100000,{},",
                "10.0.255.1:8080",
                "Masq",
                -1,
                i32::MIN,
                u64::MAX
            )
        );
    }

    #[test]
    fn lines_longer_than_the_buffer_are_appended_in_pieces() {
        let mut out = String::new();
        let name = "ü".repeat(100);
        {
            let mut l = Line::new(&mut out);
            for _ in 0..30 {
                l.uint(1234567);
                l.ascii(b' ');
            }
            l.left(&name, 250);
            l.str("é");
            l.spaces(300);
            l.ascii(b'\n');
        }
        // Padded by bytes, as printf pads: 200 bytes of name, 50 spaces.
        let want = format!(
            "{}{name}{}é{}\n",
            "1234567 ".repeat(30),
            " ".repeat(50),
            " ".repeat(300)
        );
        assert_eq!(out, want);
    }
}
