//! `ipvsadm -R`: each line of standard input is one ipvsadm command, run
//! as ipvsadm runs it, with ipvsadm's line splitting (`config_stream_read`)
//! and error semantics: a refused change prints its message and the run
//! goes on; a bad line ends the run at once with ipvsadm's exit code; the
//! exit code is the last command's. Consecutive changes go to the kernel
//! in batches (`Ipvs::apply`, many per `sendmsg`), their errors reported
//! per line, in order, before anything a later line prints.

use super::{
    args, bytes,
    errors::{errno_of, ipvs_strerror},
    exec::{self, Change, Ctx},
    Exit,
};

/// config_stream.h's `MAX_LINE_LENGTH`, the width of each `fscanf` word.
const MAX_LINE_LENGTH: usize = 4096;

/// `config_stream_read`: the next line's words, `argv[0]` first, or `None`
/// at the end. ipvsadm drops every word `ipvsadm`; it has no comments (its
/// `#` test looks at the wrong buffer); blanks before a final line that has
/// no newline make it vanish. Its `fscanf("%4096[^ \t\n\r]%1[ \t\n\r]")`
/// cuts a longer word into 4096-byte words on the same line (the
/// terminating NUL of a full buffer lands on the blank it failed to read,
/// so the line goes on), and a word ends, as a C string, at a NUL byte.
pub fn next_line(input: &[u8], pos: &mut usize, program: &str) -> Option<Vec<String>> {
    let mut words = vec![program.to_owned()];
    let mut ntoken = 0;
    let is_blank = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    loop {
        if *pos >= input.len() {
            return (ntoken > 0).then_some(words);
        }
        if is_blank(input[*pos]) {
            // fscanf matched nothing: skip blanks up to the end of the line.
            loop {
                let &c = input.get(*pos)?;
                *pos += 1;
                match c {
                    b'\n' => return Some(words),
                    b'\t' | b'\r' | b' ' => {}
                    _ => {
                        *pos -= 1;
                        break;
                    }
                }
            }
            continue;
        }
        let start = *pos;
        while *pos < input.len() && *pos - start < MAX_LINE_LENGTH && !is_blank(input[*pos]) {
            *pos += 1;
        }
        let word = &input[start..*pos];
        let word = word.split(|&b| b == 0).next().unwrap_or_default();
        if word != b"ipvsadm" {
            ntoken += 1;
            words.push(bytes::from_bytes(word));
        }
        if *pos - start == MAX_LINE_LENGTH && input.get(*pos).is_some_and(|&c| !is_blank(c)) {
            continue;
        }
        if let Some(&c) = input.get(*pos) {
            *pos += 1;
            if c == b'\n' {
                return Some(words);
            }
        }
    }
}

/// Changes sent per batch at most: bounds memory on long inputs while
/// keeping `sendmsg`s full.
const BATCH: usize = 1024;

/// `restore_table`. Lines are read and parsed on a thread of their own
/// (no line's words span a newline, and parsing needs no kernel), so the
/// next lines are parsed while the kernel works through a batch; changes
/// wait in a batch until a line that prints, a bad line, a full batch or
/// the end of the input, and on a terminal each line is sent at once, as
/// ipvsadm does.
pub fn restore(ctx: &mut Ctx<'_>, program: &str) -> Result<i32, Exit> {
    use std::io::IsTerminal;
    let interactive = std::io::stdin().is_terminal();
    let lines = read_lines(program.to_owned());
    let mut result = 0;
    let mut pending: Vec<Change> = Vec::new();
    for parsed in lines {
        let entry = match parsed {
            Ok(entry) => entry,
            Err(e) => {
                flush(ctx, &mut pending, &mut result);
                if e.fatal {
                    return Err(e);
                }
                ctx.out.print(&e.stdout);
                ctx.out.eprint(&e.stderr);
                result = e.code;
                continue;
            }
        };
        if entry.cmd == args::Cmd::Restore {
            flush(ctx, &mut pending, &mut result);
            return Err(args::tryhelp(program));
        }
        match exec::change(&entry) {
            Some(Ok(change)) => {
                pending.push(change);
                if interactive || pending.len() >= BATCH {
                    flush(ctx, &mut pending, &mut result);
                }
            }
            Some(Err(refused)) => {
                flush(ctx, &mut pending, &mut result);
                result = exec::refuse(ctx, &entry, refused);
            }
            None => {
                flush(ctx, &mut pending, &mut result);
                exec::list(ctx, &entry)?;
                result = 0;
            }
        }
    }
    flush(ctx, &mut pending, &mut result);
    Ok(result)
}

/// Standard input's lines as `args::parse` takes them, read and parsed on
/// a thread that stays up to two batches ahead. The thread ends at the end
/// of the input or when the receiver is gone (a run that stopped early;
/// one still waiting on a terminal ends with the process).
fn read_lines(program: String) -> std::sync::mpsc::IntoIter<Result<args::Entry, Exit>> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::sync_channel(BATCH);
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut pos = 0;
            let Some(words) = next_line(&line, &mut pos, &program) else {
                return;
            };
            if words.len() > 1 && tx.send(args::parse(words)).is_err() {
                return;
            }
        }
    });
    rx.into_iter()
}

/// Sends the pending changes as one batch and reports each refused one.
fn flush(ctx: &mut Ctx<'_>, pending: &mut Vec<Change>, result: &mut i32) {
    if pending.is_empty() {
        return;
    }
    let changes = std::mem::take(pending);
    let funcs: Vec<_> = changes.iter().map(|c| c.func).collect();
    let mut errnos: Vec<Option<i32>> = vec![None; funcs.len()];
    match ctx.ipvs.apply(changes.into_iter().map(|c| c.op)) {
        Ok(errs) => {
            for e in errs {
                if let Some(slot) = errnos.get_mut(e.index) {
                    *slot = Some(e.error.errno.abs());
                }
            }
        }
        Err(e) => errnos.fill(Some(errno_of(&e))),
    }
    for (func, errno) in funcs.iter().zip(&errnos) {
        if let Some(errno) = errno {
            ctx.out
                .eprint(&format!("{}\n", ipvs_strerror(*func, *errno)));
        }
    }
    *result = if errnos.last().copied().flatten().is_some() {
        255
    } else {
        0
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &str) -> Vec<Vec<String>> {
        let mut pos = 0;
        let mut out = Vec::new();
        while let Some(l) = next_line(input.as_bytes(), &mut pos, "ipvsadm") {
            out.push(l);
        }
        out
    }

    #[test]
    fn splits_like_config_stream_read() {
        assert_eq!(
            lines("-A -t 1.1.1.1:80\n\n  ipvsadm -C\t\r\n# x\n-Z"),
            vec![
                vec!["ipvsadm", "-A", "-t", "1.1.1.1:80"],
                vec!["ipvsadm"],
                vec!["ipvsadm", "-C"],
                vec!["ipvsadm", "#", "x"],
                vec!["ipvsadm", "-Z"],
            ]
        );
        // Blanks after the last word of an unterminated last line lose it.
        assert_eq!(lines("-C\n-Z  "), vec![vec!["ipvsadm", "-C"]]);
        assert_eq!(lines("-Z "), vec![vec!["ipvsadm", "-Z"]]);
    }

    #[test]
    fn long_words_split_and_nul_ends_a_word() {
        let long = "x".repeat(4096 + 10);
        let got = lines(&format!("-A {long}-t\n-C\n"));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0][2], "x".repeat(4096));
        assert_eq!(got[0][3], "xxxxxxxxxx-t");
        assert_eq!(got[1], vec!["ipvsadm", "-C"]);
        assert_eq!(
            lines("-A\0x -t 1.1.1.1:80\0y\n\0 ipvsadm\0z\n"),
            vec![
                vec!["ipvsadm", "-A", "-t", "1.1.1.1:80"],
                vec!["ipvsadm", ""],
            ]
        );
    }
}
