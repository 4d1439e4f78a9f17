//! ipset 7.17's command line grammar (`ipset_parser` in `lib/ipset.c`):
//! the environment options, taken out wherever they stand, one option kind
//! after the other in ipset's table order, then the command word, matched
//! as a prefix of a command name or alias.

use super::{print::Mode, Fail};

/// Options that apply to every command (`-exist`, `-o`, ...). In restore
/// and interactive mode they stick to the session from the line that gave
/// them on, as in ipset.
#[derive(Debug, Clone, Default)]
pub(crate) struct Opts {
    pub exist: bool,
    pub output: Option<Mode>,
    pub quiet: bool,
    pub resolve: bool,
    pub sorted: bool,
    pub names: bool,
    pub terse: bool,
    pub file: Option<String>,
}

/// The environment options of ipset's `ipset_envopts[]`, in its order:
/// its parser takes every `-o` first, then every `-s`, and so on, which
/// decides which error a bad command line reports.
#[derive(Debug, Clone, Copy)]
enum EnvOpt {
    Output,
    Sorted,
    Quiet,
    Resolve,
    Exist,
    Name,
    Terse,
    File,
}

const ENVOPTS: [(EnvOpt, &str, &str); 8] = [
    (EnvOpt::Output, "-o", "-output"),
    (EnvOpt::Sorted, "-s", "-sorted"),
    (EnvOpt::Quiet, "-q", "-quiet"),
    (EnvOpt::Resolve, "-r", "-resolve"),
    (EnvOpt::Exist, "-!", "-exist"),
    (EnvOpt::Name, "-n", "-name"),
    (EnvOpt::Terse, "-t", "-terse"),
    (EnvOpt::File, "-f", "-file"),
];

/// `ipset_match_envopt`: `--exist` is `-exist`.
fn matches_envopt(arg: &str, short: &str, long: &str) -> bool {
    let arg = if arg.starts_with("--") {
        &arg[1..]
    } else {
        arg
    };
    arg == short || arg == long
}

/// Takes ipset's environment options out of `args`, wherever they are,
/// into `opts`. On an error, `opts` holds what was parsed before it (a
/// `-q` read earlier silences the message, as in ipset).
pub(crate) fn take_options(mut args: Vec<String>, opts: &mut Opts) -> Result<Vec<String>, Fail> {
    // Every option begins with a dash; most restore lines have none.
    if !args.iter().any(|a| a.starts_with('-')) {
        return Ok(args);
    }
    for (opt, short, long) in ENVOPTS {
        let mut i = 0;
        while i < args.len() {
            if !matches_envopt(&args[i], short, long) {
                i += 1;
                continue;
            }
            args.remove(i);
            match opt {
                EnvOpt::Output | EnvOpt::File => {
                    if i >= args.len() {
                        return Err(Fail::Param(format!(
                            "Missing mandatory argument to option {short}"
                        )));
                    }
                    let value = args.remove(i);
                    if let EnvOpt::Output = opt {
                        opts.output = Some(match value.as_str() {
                            "plain" => Mode::Plain,
                            "save" => Mode::Save,
                            "xml" => Mode::Xml,
                            "json" => Mode::Json,
                            _ => {
                                return Err(Fail::Other(format!(
                                    "Syntax error: unknown output mode '{value}'"
                                )))
                            }
                        });
                    } else if opts.file.is_some() {
                        return Err(Fail::Param(
                            "-file option cannot be used when full io is activated".into(),
                        ));
                    } else {
                        opts.file = Some(value);
                    }
                }
                EnvOpt::Sorted => opts.sorted = true,
                EnvOpt::Quiet => opts.quiet = true,
                EnvOpt::Resolve => opts.resolve = true,
                EnvOpt::Exist => opts.exist = true,
                EnvOpt::Name => opts.names = true,
                EnvOpt::Terse => opts.terse = true,
            }
        }
    }
    Ok(args)
}

/// The commands, by ipset's names and aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    Create,
    Add,
    Del,
    Test,
    Destroy,
    List,
    Save,
    Restore,
    Flush,
    Rename,
    Swap,
    Help,
    Version,
    Quit,
}

/// `ipset_commands[]`: the order decides which command a prefix names
/// (`d` is `del`, `s` is `save`).
const COMMANDS: [(Cmd, &[&str]); 14] = [
    (Cmd::Create, &["create", "new", "-N"]),
    (Cmd::Add, &["add", "-A"]),
    (Cmd::Del, &["del", "-D"]),
    (Cmd::Test, &["test", "-T"]),
    (Cmd::Destroy, &["destroy", "x", "-X"]),
    (Cmd::List, &["list", "-L"]),
    (Cmd::Save, &["save", "-S"]),
    (Cmd::Restore, &["restore", "-R"]),
    (Cmd::Flush, &["flush", "-F"]),
    (Cmd::Rename, &["rename", "e", "-E"]),
    (Cmd::Swap, &["swap", "w", "-W"]),
    (Cmd::Help, &["help", "-h", "-H"]),
    (Cmd::Version, &["version", "-v", "-V"]),
    (Cmd::Quit, &["quit"]),
];

impl Cmd {
    /// `ipset_match_cmd`: two leading dashes are dropped, and what is left
    /// names a command when it begins a name or alias (`l`, `--list`).
    pub(crate) fn parse(arg: &str) -> Option<Cmd> {
        let word = arg.strip_prefix("--").unwrap_or(arg);
        if word.is_empty() || arg == "-" {
            return None;
        }
        COMMANDS
            .iter()
            .find(|(_, names)| names.iter().any(|n| n.starts_with(word)))
            .map(|(c, _)| *c)
    }

    pub(crate) fn name(self) -> &'static str {
        COMMANDS
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("unknown command", |(_, names)| names[0])
    }

    /// How many set names or words the command takes before its options.
    pub(crate) fn arity(self) -> Arity {
        match self {
            Cmd::Create | Cmd::Add | Cmd::Del | Cmd::Test | Cmd::Rename | Cmd::Swap => Arity::Two,
            Cmd::Destroy | Cmd::List | Cmd::Save | Cmd::Flush | Cmd::Help => Arity::Optional,
            Cmd::Restore | Cmd::Version | Cmd::Quit => Arity::None,
        }
    }
}

/// `has_arg` of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arity {
    None,
    Optional,
    Two,
}

/// A command line split as ipset splits it: the command, its first two
/// words, and what follows them.
#[derive(Debug)]
pub(crate) struct Line {
    pub cmd: Cmd,
    pub arg0: Option<String>,
    pub arg1: Option<String>,
    pub rest: Vec<String>,
}

/// The command that `args` (environment options already taken out) name
/// by their first word. `None` when no command word matches; the caller
/// decides what that means (interactive mode, `-`, or an error).
pub(crate) fn command_of(args: &[String]) -> Option<Cmd> {
    args.first().and_then(|a| Cmd::parse(a))
}

/// Splits `args`, whose first word names `cmd` ([`command_of`]), into the
/// command and its words; the words move, uncopied.
pub(crate) fn split_command(cmd: Cmd, args: Vec<String>) -> Result<Line, Fail> {
    let mut words = args.into_iter().skip(1);
    let (mut arg0, mut arg1) = (None, None);
    match cmd.arity() {
        Arity::Two => {
            arg0 = Some(words.next().ok_or_else(|| {
                Fail::Param(format!(
                    "Missing mandatory argument to command {}",
                    cmd.name()
                ))
            })?);
            arg1 = Some(words.next().ok_or_else(|| {
                Fail::Param(format!(
                    "Missing second mandatory argument to command {}",
                    cmd.name()
                ))
            })?);
        }
        Arity::Optional => arg0 = words.next(),
        Arity::None => {}
    }
    Ok(Line {
        cmd,
        arg0,
        arg1,
        rest: words.collect(),
    })
}

/// ipset's last check: a word nobody took.
pub(crate) fn no_more(rest: &[String]) -> Result<(), Fail> {
    match rest.first() {
        Some(extra) => Err(Fail::Param(format!("Unknown argument {extra}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn commands_match_by_prefix_in_table_order() {
        assert_eq!(Cmd::parse("l"), Some(Cmd::List));
        assert_eq!(Cmd::parse("d"), Some(Cmd::Del));
        assert_eq!(Cmd::parse("des"), Some(Cmd::Destroy));
        assert_eq!(Cmd::parse("s"), Some(Cmd::Save));
        assert_eq!(Cmd::parse("sw"), Some(Cmd::Swap));
        assert_eq!(Cmd::parse("n"), Some(Cmd::Create));
        assert_eq!(Cmd::parse("--list"), Some(Cmd::List));
        assert_eq!(Cmd::parse("-L"), Some(Cmd::List));
        assert_eq!(Cmd::parse("q"), Some(Cmd::Quit));
        assert_eq!(Cmd::parse("-"), None);
        assert_eq!(Cmd::parse("--"), None);
        assert_eq!(Cmd::parse("lists"), None);
        assert_eq!(Cmd::parse("-l"), None);
    }

    #[test]
    fn options_go_kind_by_kind() {
        let mut o = Opts::default();
        let rest = take_options(words("list --exist -t s -o xml"), &mut o).unwrap();
        assert_eq!(rest, words("list s"));
        assert!(o.exist && o.terse);
        // -o is taken before -! is, so it swallows it.
        let mut o = Opts::default();
        let e = take_options(words("-o -exist list"), &mut o).unwrap_err();
        assert_eq!(e.message(), "Syntax error: unknown output mode '-exist'");
        let mut o = Opts::default();
        let e = take_options(words("-f a -f b list"), &mut o).unwrap_err();
        assert_eq!(
            e.message(),
            "-file option cannot be used when full io is activated"
        );
        let e = take_options(words("list -output"), &mut Opts::default()).unwrap_err();
        assert_eq!(e.message(), "Missing mandatory argument to option -o");
    }
}
