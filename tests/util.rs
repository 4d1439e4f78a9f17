//! Helpers for the integration tests.

use std::path::Path;

use kipvs_testutil::{run, Output};

/// Runs the kipvs binary with `args` and `stdin`.
#[allow(dead_code)]
pub fn kipvs(args: &[&str], stdin: &str) -> Output {
    run(env!("CARGO_BIN_EXE_kipvs"), args, stdin)
}

/// A stand-in kube-proxy: a script of that name (so the process's command
/// is `kube-proxy`) that waits on its standard input, in this thread's
/// network namespace. Killed when dropped.
pub struct FakeKubeProxy(std::process::Child);

impl FakeKubeProxy {
    pub fn start(dir: &Path, args: &[&str]) -> FakeKubeProxy {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("kube-proxy");
        // The test VM has bash but no /bin/sh.
        let bash = kipvs_testutil::sh("command -v bash");
        std::fs::write(&path, format!("#!{}\nread -r -t 300 _\n", bash.trim())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Owned at once, so that a panic below still kills and reaps it.
        let proxy = FakeKubeProxy(
            std::process::Command::new(&path)
                .args(args)
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        // Wait for the exec: until then the child is a copy of this test.
        let comm = format!("/proc/{}/comm", proxy.pid());
        for _ in 0..500 {
            if std::fs::read_to_string(&comm).is_ok_and(|c| c.trim() == "kube-proxy") {
                return proxy;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the stand-in kube-proxy did not start");
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for FakeKubeProxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A second network namespace, held by a process of the test: `unshare`
/// execs bash, so the process's pid names the namespace for `--netns`.
/// `setup` runs in it first. Killed when dropped.
pub struct OtherNetns(std::process::Child);

#[allow(dead_code)]
impl OtherNetns {
    pub fn start(setup: &str) -> OtherNetns {
        use std::io::BufRead;
        // Owned at once, so that a panic below still kills and reaps it.
        let mut holder = OtherNetns(
            std::process::Command::new("unshare")
                .args(["-n", "bash", "-c"])
                .arg(format!("{setup} && echo ready && exec sleep 120"))
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        std::io::BufReader::new(holder.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n", "the namespace's setup failed: {setup}");
        holder
    }

    pub fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for OtherNetns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
