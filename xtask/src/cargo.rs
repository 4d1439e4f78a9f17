//! Asking cargo about the workspace and building what the VM runs.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The workspace as `cargo metadata` sees it.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root.
    pub root: PathBuf,
    /// The target directory (`CARGO_TARGET_DIR` or `<root>/target`).
    pub target: PathBuf,
    /// Package name by manifest directory.
    packages: HashMap<PathBuf, String>,
}

/// A built test executable.
#[derive(Debug, Clone)]
pub struct TestBinary {
    /// `package (kind name)`, for the summary.
    pub name: String,
    /// The package's directory: cargo runs tests there, and
    /// `CARGO_MANIFEST_DIR` points there.
    pub manifest_dir: PathBuf,
    /// The executable.
    pub exe: PathBuf,
}

/// `cargo` as this xtask was started with (`$CARGO`), or the one on PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

impl Workspace {
    /// Reads the workspace layout.
    pub fn load() -> Result<Self> {
        let out = cargo()
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .stderr(Stdio::inherit())
            .output()
            .context("running cargo metadata")?;
        if !out.status.success() {
            bail!("cargo metadata failed");
        }
        let meta: Value = serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
        let path = |key: &str| -> Result<PathBuf> {
            meta[key]
                .as_str()
                .map(PathBuf::from)
                .with_context(|| format!("cargo metadata has no {key}"))
        };
        let mut packages = HashMap::new();
        for p in meta["packages"].as_array().into_iter().flatten() {
            if let (Some(name), Some(manifest)) = (p["name"].as_str(), p["manifest_path"].as_str())
            {
                if let Some(dir) = Path::new(manifest).parent() {
                    packages.insert(dir.to_owned(), name.to_owned());
                }
            }
        }
        Ok(Workspace {
            root: path("workspace_root")?,
            target: path("target_directory")?,
            packages,
        })
    }

    /// Builds every test executable of the workspace (`cargo test
    /// --workspace --no-run`) and returns them; cargo's progress goes to
    /// stderr.
    pub fn build_tests(&self, packages: &[String]) -> Result<Vec<TestBinary>> {
        let mut cmd = cargo();
        cmd.args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ]);
        if packages.is_empty() {
            cmd.arg("--workspace");
        }
        for p in packages {
            cmd.args(["--package", p]);
        }
        cmd.current_dir(&self.root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().context("running cargo test --no-run")?;
        let mut bins = Vec::new();
        for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
            let line = line?;
            let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if msg["reason"] != "compiler-artifact" || msg["profile"]["test"] != true {
                continue;
            }
            let Some(exe) = msg["executable"].as_str() else {
                continue;
            };
            let manifest_dir = msg["manifest_path"]
                .as_str()
                .and_then(|m| Path::new(m).parent())
                .map(Path::to_owned)
                .unwrap_or_else(|| self.root.clone());
            let package = self
                .packages
                .get(&manifest_dir)
                .cloned()
                .unwrap_or_else(|| "?".into());
            let target = msg["target"]["name"].as_str().unwrap_or("?");
            let kind = msg["target"]["kind"][0].as_str().unwrap_or("?");
            let name = match kind {
                "lib" | "bin" | "proc-macro"
                    if target.replace('-', "_") == package.replace('-', "_") =>
                {
                    format!("{package} ({kind})")
                }
                _ => format!("{package} ({kind} {target})"),
            };
            bins.push(TestBinary {
                name,
                manifest_dir,
                exe: PathBuf::from(exe),
            });
        }
        if !child.wait()?.success() {
            bail!("building the tests failed");
        }
        bins.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(bins)
    }

    /// Builds the `kipvs` binary and returns its path.
    pub fn build_kipvs(&self, release: bool) -> Result<PathBuf> {
        let mut cmd = cargo();
        cmd.args(["build", "--package", "kipvs-cli", "--bin", "kipvs"])
            .current_dir(&self.root);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().context("running cargo build")?;
        if !status.success() {
            bail!("building the kipvs binary failed");
        }
        Ok(self
            .target
            .join(if release { "release" } else { "debug" })
            .join("kipvs"))
    }

    /// The directories the VM must see at their host paths: the workspace,
    /// and the target directory when it lives elsewhere.
    pub fn shares(&self) -> Vec<PathBuf> {
        vec![self.root.clone(), self.target.clone()]
    }
}
