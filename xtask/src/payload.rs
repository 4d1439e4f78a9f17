//! Scripts run in the VM with the repository mounted: `vm-run`, `demo`,
//! `bench`.

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};

use crate::{cargo::Workspace, vm};

/// Runs the bash script at `script` (a host path) in the VM with `args`,
/// with `kipvs` (built in the given profile) first on the PATH. Returns the
/// script's exit status.
pub fn run_script(
    ws: &Workspace,
    script: &Path,
    args: &[String],
    release: bool,
    build: bool,
    files: Vec<(PathBuf, Vec<u8>)>,
) -> Result<i32> {
    let text =
        fs::read_to_string(script).with_context(|| format!("reading {}", script.display()))?;
    let kipvs = if build {
        ws.build_kipvs(release)?
    } else {
        ws.target
            .join(if release { "release" } else { "debug" })
            .join("kipvs")
    };
    let mut run = vm::Run::new(wrapper(args), &ws.root);
    run.shares = ws.shares();
    run.scratch = vec![ws.target.join("tmp")];
    run.files = files;
    run.files
        .push((PathBuf::from("/kipvs/payload.sh"), text.into_bytes()));
    if kipvs.exists() {
        run.executables.push(kipvs.clone());
        run.pin.push(kipvs.clone());
        run.pin_dir = Some(ws.target.join("kipvs-vm"));
    }
    run.env = vec![
        ("KIPVS".into(), kipvs.to_string_lossy().into_owned()),
        ("KIPVS_REPO".into(), ws.root.to_string_lossy().into_owned()),
        ("KIPVS_TEST_VM".into(), "1".into()),
        (
            "PATH".into(),
            format!(
                "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox",
                kipvs.parent().unwrap_or(Path::new("/")).display()
            ),
        ),
    ];
    let outcome = vm::run(&run, vm::print_line)?;
    match outcome {
        vm::Outcome::Exited(code) => Ok(code),
        other => bail!("{other}"),
    }
}

fn wrapper(args: &[String]) -> String {
    let mut s = String::from("exec bash /kipvs/payload.sh");
    for a in args {
        let _ = write!(s, " '{}'", a.replace('\'', r"'\''"));
    }
    s.push('\n');
    s
}

/// `cargo xtask demo`: the kube-proxy IPVS walkthrough with `kipvs`.
pub fn demo(ws: &Workspace) -> Result<i32> {
    let script = ws.root.join("xtask/vm/demo.sh");
    run_script(ws, &script, &[], false, true, Vec::new())
}

/// A benchmark scenario: a script in `xtask/vm/bench/` and the input files
/// the xtask generates for it (put under `/kipvs/data` in the VM).
struct Scenario {
    name: &'static str,
    about: &'static str,
    inputs: fn() -> Vec<(String, Vec<u8>)>,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ipvsadm-restore",
        about: "5,000 services x 3 real servers: ipvsadm -R vs kipvs ipvsadm -R, then -Ln",
        inputs: || vec![("ipvs-5000x3.rules".into(), ipvs_rules(5000, 3).into_bytes())],
    },
    Scenario {
        name: "ipset-restore",
        about: "100,000 hash:ip,port entries: ipset restore vs kipvs ipset restore; swap-replace",
        inputs: Vec::new,
    },
    Scenario {
        name: "addr-sync",
        about: "5,000 addresses on kube-ipvs0: ip -batch vs kipvs addr sync; no-op and churn syncs",
        inputs: Vec::new,
    },
    Scenario {
        name: "sync",
        about: "declarative sync: 1k/5k/10k services x 3 + entry + address; cold apply vs \
                ipvsadm -R + ipset restore + ip -batch; no-change and 1% churn syncs",
        inputs: Vec::new,
    },
];

/// `ipvsadm -S -n` style rules: `services` TCP services round-robin, each
/// with `reals` masqueraded real servers of weight 1.
pub fn ipvs_rules(services: u32, reals: u32) -> String {
    let mut s = String::new();
    let mut real = 0u32;
    for i in 0..services {
        let vip = format!("10.{}.{}.{}", 96 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
        let _ = writeln!(s, "-A -t {vip}:80 -s rr");
        for _ in 0..reals {
            real += 1;
            let rip = format!(
                "172.{}.{}.{}",
                16 + (real >> 16),
                (real >> 8) & 0xff,
                real & 0xff
            );
            let _ = writeln!(s, "-a -t {vip}:80 -r {rip}:8080 -m -w 1");
        }
    }
    s
}

/// `cargo xtask bench [SCENARIO...]`: release build, each scenario's script
/// in the VM. Returns the worst exit status.
pub fn bench(ws: &Workspace, names: &[String]) -> Result<i32> {
    for n in names {
        if !SCENARIOS.iter().any(|s| s.name == n) {
            let known: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
            bail!("no benchmark scenario {n} (known: {})", known.join(", "));
        }
    }
    ws.build_kipvs(true)?;
    let mut worst = 0;
    for s in SCENARIOS
        .iter()
        .filter(|s| names.is_empty() || names.iter().any(|n| n == s.name))
    {
        println!("==> bench {}: {}", s.name, s.about);
        let files = (s.inputs)()
            .into_iter()
            .map(|(name, data)| (PathBuf::from("/kipvs/data").join(name), data))
            .collect();
        let script = ws.root.join(format!("xtask/vm/bench/{}.sh", s.name));
        let code = run_script(ws, &script, &[], true, false, files)?;
        if code != 0 {
            println!("bench {}: failed (exit {code})", s.name);
        }
        worst = worst.max(code);
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_unique_and_restorable() {
        let rules = ipvs_rules(300, 3);
        let lines: Vec<&str> = rules.lines().collect();
        assert_eq!(lines.len(), 300 * 4);
        assert_eq!(lines[0], "-A -t 10.96.0.0:80 -s rr");
        assert_eq!(lines[1], "-a -t 10.96.0.0:80 -r 172.16.0.1:8080 -m -w 1");
        assert_eq!(lines[4], "-A -t 10.96.0.1:80 -s rr");
        let mut uniq: Vec<&str> = lines.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), lines.len());
    }

    #[test]
    fn wrapper_quotes_arguments() {
        assert_eq!(
            wrapper(&["a b".into(), "it's".into()]),
            "exec bash /kipvs/payload.sh 'a b' 'it'\\''s'\n"
        );
    }
}
