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
