//! `kipvs set ...`: ipsets with kipvs's own syntax (`--json` listings).

use anyhow::{bail, Context, Result};
use kipvs::ipset::{CreateOptions, Entry, IpSet, Op, Set, SetName, SetType};

use crate::Global;

/// Subcommands of this area.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Work with ipsets.
    #[command(subcommand)]
    Set(SetCommand),
}

/// `kipvs set ...`.
#[derive(Debug, clap::Subcommand)]
pub enum SetCommand {
    /// List sets (all, or one) with their entries.
    List {
        /// The set.
        name: Option<SetName>,
        /// Headers only.
        #[arg(long, short)]
        terse: bool,
    },
    /// Create a set: `kipvs set create NAME hash:ip,port [timeout 5 comment ...]`.
    Create {
        /// The set.
        name: SetName,
        /// Its type (`hash:ip`, `hash:ip,port`, `bitmap:port`, ...).
        set_type: SetType,
        /// ipset's create options, as words.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
        /// No error when an identical set exists.
        #[arg(long)]
        exist: bool,
    },
    /// Destroy a set, or every set.
    Destroy {
        /// The set (all when omitted).
        name: Option<SetName>,
    },
    /// Remove every entry of a set, or of every set.
    Flush {
        /// The set (all when omitted).
        name: Option<SetName>,
    },
    /// Add entries: `kipvs set add NAME 10.0.0.1,tcp:80 ...`.
    Add {
        /// The set.
        name: SetName,
        /// Entries in ipset's syntax (one word each).
        entries: Vec<String>,
        /// No error for entries already there.
        #[arg(long)]
        exist: bool,
    },
    /// Delete entries.
    Del {
        /// The set.
        name: SetName,
        /// Entries in ipset's syntax.
        entries: Vec<String>,
        /// No error for entries not there.
        #[arg(long)]
        exist: bool,
    },
    /// Test whether an entry is in a set (exit 1 when not).
    Test {
        /// The set.
        name: SetName,
        /// The entry in ipset's syntax.
        entry: String,
    },
    /// Replace the contents of a set atomically (fill a new set, swap, destroy).
    Replace {
        /// The set.
        name: SetName,
        /// Entries in ipset's syntax; `-` reads them from standard input, one a line.
        entries: Vec<String>,
    },
    /// Make a set hold exactly these entries, adding and deleting only the difference
    /// (and re-adding an entry whose comment, skbinfo, nomatch or stated timeout differs).
    Sync {
        /// The set.
        name: SetName,
        /// Entries in ipset's syntax; `-` reads them from standard input.
        entries: Vec<String>,
    },
    /// Rename a set.
    Rename {
        /// The set.
        from: SetName,
        /// Its new name.
        to: SetName,
    },
    /// Swap two sets.
    Swap {
        /// One set.
        a: SetName,
        /// The other.
        b: SetName,
    },
}

fn entries(h: &mut IpSet, name: &SetName, words: &[String], op: Op) -> Result<Vec<Entry>> {
    let kind = h.kind(name).with_context(|| format!("set {name}"))?;
    let mut lines: Vec<String> = Vec::new();
    for w in words {
        if w == "-" {
            let text = std::io::read_to_string(std::io::stdin())?;
            lines.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        } else {
            lines.push(w.clone());
        }
    }
    lines
        .iter()
        .map(|l| {
            let mut words = l.split_whitespace();
            let elem = words.next().unwrap_or_default();
            let mut e = Entry::parse(kind.set_type, kind.family, elem)?;
            let rest: Vec<&str> = words.collect();
            let used = e.parse_options_checked(kind.set_type, op, &rest)?;
            if let Some(extra) = rest.get(used) {
                bail!("unknown entry option {extra:?} in {l:?}");
            }
            Ok(e)
        })
        .collect()
}

fn print_sets(global: &Global, sets: &[Set]) -> Result<()> {
    if global.json {
        println!("{}", serde_json::to_string_pretty(sets)?);
        return Ok(());
    }
    for (i, s) in sets.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{} {} {}", s.name, s.set_type, s.header_text());
        println!(
            "  references {} entries {} memory {}",
            s.references, s.elements, s.memsize
        );
        for e in &s.entries {
            println!("  {}", e.display(s.set_type));
        }
    }
    Ok(())
}

impl Command {
    /// Runs the subcommand; returns the exit code.
    pub fn run(self, global: &Global) -> Result<i32> {
        let Command::Set(cmd) = self;
        let mut h = IpSet::new_in(&global.netns).context("opening ipset")?;
        match cmd {
            SetCommand::List { name, terse } => {
                let sets = if terse {
                    h.list_headers(name.as_ref())?
                } else {
                    h.list(name.as_ref())?
                };
                print_sets(global, &sets)?;
            }
            SetCommand::Create {
                name,
                set_type,
                options,
                exist,
            } => {
                let words: Vec<&str> = options.iter().map(String::as_str).collect();
                let opts = CreateOptions::parse(set_type, &words)?;
                h.create(&name, set_type, &opts, exist)?;
            }
            SetCommand::Destroy { name } => h.destroy(name.as_ref())?,
            SetCommand::Flush { name } => h.flush(name.as_ref())?,
            SetCommand::Add {
                name,
                entries: e,
                exist,
            } => {
                let list = entries(&mut h, &name, &e, Op::Add)?;
                h.add_many(&name, &list, exist).map_err(|b| {
                    anyhow::anyhow!(
                        "{}: {}",
                        list[b.index]
                            .display(h.kind(&name).map(|k| k.set_type).unwrap_or(SetType::HashIp)),
                        b.error
                    )
                })?;
            }
            SetCommand::Del {
                name,
                entries: e,
                exist,
            } => {
                let list = entries(&mut h, &name, &e, Op::Del)?;
                h.del_many(&name, &list, exist)
                    .map_err(|b| anyhow::anyhow!("entry {}: {}", b.index + 1, b.error))?;
            }
            SetCommand::Test { name, entry } => {
                let list = entries(&mut h, &name, &[entry], Op::Test)?;
                let found = h.test(&name, &list[0])?;
                if global.json {
                    println!("{}", serde_json::json!({ "set": name, "present": found }));
                }
                return Ok(if found { 0 } else { 1 });
            }
            SetCommand::Replace { name, entries: e } => {
                let list = entries(&mut h, &name, &e, Op::Add)?;
                h.replace(&name, &list)?;
            }
            SetCommand::Sync { name, entries: e } => {
                let list = entries(&mut h, &name, &e, Op::Add)?;
                let stats = h.sync(&name, &list)?;
                if global.json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "added": stats.added,
                            "deleted": stats.deleted,
                            "updated": stats.updated,
                        })
                    );
                } else {
                    println!(
                        "added {} deleted {} updated {}",
                        stats.added, stats.deleted, stats.updated
                    );
                }
            }
            SetCommand::Rename { from, to } => h.rename(&from, &to)?,
            SetCommand::Swap { a, b } => h.swap(&a, &b)?,
        }
        Ok(0)
    }
}
