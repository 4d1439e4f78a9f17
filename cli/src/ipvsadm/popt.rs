//! The option scanner of popt 1.19, as ipvsadm drives it: the same bundling
//! of short options (`-Ln`, `-At1.2.3.4:80`), `--long=value`, optional
//! arguments (`-p [timeout]` takes the next word unless it starts with `-`),
//! leftovers collected for `poptGetArg`, `--` ending the options, and the same
//! error codes, so that error messages match byte for byte.

/// Whether an option takes an argument (`POPT_ARG_NONE`, `POPT_ARG_STRING`,
/// `POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    Required,
    Optional,
}

/// One row of the option table.
#[derive(Debug, Clone, Copy)]
pub struct Opt<T> {
    pub long: &'static str,
    pub short: Option<u8>,
    pub arg: Arg,
    pub tag: T,
}

/// popt's failures (`POPT_ERROR_*`), with the word `poptBadOption` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoptError {
    pub kind: PoptErrorKind,
    /// `poptBadOption(con, POPT_BADOPTION_NOALIAS)`: the whole argv word
    /// being processed.
    pub bad_option: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoptErrorKind {
    /// `POPT_ERROR_NOARG`.
    NoArg,
    /// `POPT_ERROR_UNWANTEDARG`.
    UnwantedArg,
    /// `POPT_ERROR_BADOPT`.
    BadOpt,
}

impl PoptErrorKind {
    /// `poptStrerror`.
    pub fn message(self) -> &'static str {
        match self {
            PoptErrorKind::NoArg => "missing argument",
            PoptErrorKind::UnwantedArg => "option does not take an argument",
            PoptErrorKind::BadOpt => "unknown option",
        }
    }
}

/// A popt context over one argv.
pub struct Popt<'a, T: Copy> {
    table: &'a [Opt<T>],
    argv: Vec<String>,
    next: usize,
    /// The rest of a bundle of short options: (argv index, byte offset).
    next_char: Option<(usize, usize)>,
    rest_leftover: bool,
    leftovers: Vec<String>,
    leftover_at: usize,
}

impl<'a, T: Copy> Popt<'a, T> {
    /// `poptGetContext`: `argv[0]` is the program name and is skipped.
    pub fn new(table: &'a [Opt<T>], argv: Vec<String>) -> Self {
        Popt {
            table,
            argv,
            next: 1,
            next_char: None,
            rest_leftover: false,
            leftovers: Vec::new(),
            leftover_at: 0,
        }
    }

    fn error(&self, kind: PoptErrorKind) -> PoptError {
        PoptError {
            kind,
            bad_option: self.argv[self.next - 1].clone(),
        }
    }

    /// `poptGetNextOpt`: the next option and its argument (`None` for an
    /// omitted optional argument), `Ok(None)` when the options are done.
    #[allow(clippy::type_complexity)]
    pub fn next_opt(&mut self) -> Result<Option<(T, Option<String>)>, PoptError> {
        loop {
            let mut long_arg: Option<String> = None;
            let opt: &Opt<T>;
            if self.next_char.is_none() {
                if self.next >= self.argv.len() {
                    return Ok(None);
                }
                let word = self.argv[self.next].clone();
                self.next += 1;
                if self.rest_leftover || !word.starts_with('-') || word == "-" {
                    self.leftovers.push(word);
                    continue;
                }
                if word == "--" {
                    self.rest_leftover = true;
                    continue;
                }
                if let Some(long) = word.strip_prefix("--") {
                    let (name, value) = match long.find('=') {
                        Some(i) => (&long[..i], Some(long[i + 1..].to_owned())),
                        None => (long, None),
                    };
                    match self.table.iter().find(|o| o.long == name) {
                        Some(o) => {
                            opt = o;
                            long_arg = value;
                        }
                        None => return Err(self.error(PoptErrorKind::BadOpt)),
                    }
                } else {
                    // A single dash: popt looks for a one-dash long option
                    // (ipvsadm has none), then reads short options.
                    self.next_char = Some((self.next - 1, 1));
                    continue;
                }
            } else {
                let (at, off) = self.next_char.take().unwrap_or_default();
                let bytes = self.argv[at].as_bytes();
                let c = bytes[off];
                match self.table.iter().find(|o| o.short == Some(c)) {
                    Some(o) => opt = o,
                    None => return Err(self.error(PoptErrorKind::BadOpt)),
                }
                if off + 1 < bytes.len() {
                    self.next_char = Some((at, off + 1));
                }
            }
            if opt.arg == Arg::None {
                let eq_follows = self
                    .next_char
                    .is_some_and(|(at, off)| self.argv[at].as_bytes()[off] == b'=');
                if long_arg.is_some() || eq_follows {
                    return Err(self.error(PoptErrorKind::UnwantedArg));
                }
                return Ok(Some((opt.tag, None)));
            }
            let value = if let Some(v) = long_arg {
                Some(v)
            } else if let Some((at, off)) = self.next_char.take() {
                let rest = &self.argv[at][off..];
                Some(rest.strip_prefix('=').unwrap_or(rest).to_owned())
            } else if self.next >= self.argv.len() {
                if opt.arg != Arg::Optional {
                    return Err(self.error(PoptErrorKind::NoArg));
                }
                None
            } else if opt.arg == Arg::Optional && self.argv[self.next].starts_with('-') {
                None
            } else {
                self.next += 1;
                Some(self.argv[self.next - 1].clone())
            };
            return Ok(Some((opt.tag, value)));
        }
    }

    /// `poptBadOption(con, POPT_BADOPTION_NOALIAS)`: the argv word last read.
    pub fn current_word(&self) -> String {
        self.argv[self.next - 1].clone()
    }

    /// `poptGetArg`: the next leftover (non-option) word.
    pub fn next_arg(&mut self) -> Option<String> {
        let arg = self.leftovers.get(self.leftover_at).cloned();
        if arg.is_some() {
            self.leftover_at += 1;
        }
        arg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum T {
        L,
        N,
        Svc,
        P,
    }

    const TABLE: &[Opt<T>] = &[
        Opt {
            long: "list",
            short: Some(b'L'),
            arg: Arg::None,
            tag: T::L,
        },
        Opt {
            long: "numeric",
            short: Some(b'n'),
            arg: Arg::None,
            tag: T::N,
        },
        Opt {
            long: "tcp-service",
            short: Some(b't'),
            arg: Arg::Required,
            tag: T::Svc,
        },
        Opt {
            long: "persistent",
            short: Some(b'p'),
            arg: Arg::Optional,
            tag: T::P,
        },
    ];

    type Parsed = (Vec<(T, Option<String>)>, Option<PoptError>, Vec<String>);

    fn all(words: &[&str]) -> Parsed {
        let mut argv = vec!["ipvsadm".to_owned()];
        argv.extend(words.iter().map(|w| w.to_string()));
        let mut p = Popt::new(TABLE, argv);
        let mut opts = Vec::new();
        let err = loop {
            match p.next_opt() {
                Ok(Some(o)) => opts.push(o),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let mut left = Vec::new();
        while let Some(a) = p.next_arg() {
            left.push(a);
        }
        (opts, err, left)
    }

    #[test]
    fn bundles_and_arguments() {
        let (o, e, l) = all(&[
            "-Lnt1.2.3.4:80",
            "x",
            "--tcp-service=a",
            "-t",
            "-b",
            "-p",
            "-n",
            "-p",
            "9",
        ]);
        assert_eq!(e, None);
        assert_eq!(l, vec!["x"]);
        assert_eq!(
            o,
            vec![
                (T::L, None),
                (T::N, None),
                (T::Svc, Some("1.2.3.4:80".into())),
                (T::Svc, Some("a".into())),
                (T::Svc, Some("-b".into())),
                (T::P, None),
                (T::N, None),
                (T::P, Some("9".into())),
            ]
        );
    }

    #[test]
    fn errors_name_the_whole_word() {
        let (_, e, _) = all(&["-Ln=3"]);
        assert_eq!(
            e,
            Some(PoptError {
                kind: PoptErrorKind::UnwantedArg,
                bad_option: "-Ln=3".into()
            })
        );
        let (_, e, _) = all(&["-L", "--foo=1"]);
        assert_eq!(e.unwrap().bad_option, "--foo=1");
        let (_, e, _) = all(&["-L", "-t"]);
        assert_eq!(e.unwrap().kind, PoptErrorKind::NoArg);
        let (_, e, _) = all(&["-Lq"]);
        assert_eq!(
            e,
            Some(PoptError {
                kind: PoptErrorKind::BadOpt,
                bad_option: "-Lq".into()
            })
        );
    }

    #[test]
    fn double_dash_ends_options() {
        let (o, e, l) = all(&["-L", "--", "-n", "-"]);
        assert_eq!((o.len(), e), (1, None));
        assert_eq!(l, vec!["-n", "-"]);
        let (o, _, _) = all(&["-t=1.1.1.1", "-p="]);
        assert_eq!(
            o,
            vec![(T::Svc, Some("1.1.1.1".into())), (T::P, Some("".into()))]
        );
    }
}
