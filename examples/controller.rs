//! A load-balancer controller loop: keep the kernel equal to a state
//! document that someone else rewrites (a config-management tool, a
//! Kubernetes watch), with graceful termination of removed real servers.
//!
//! `cargo run --example controller -- state.json [SECONDS]` reads the
//! document whenever it changes and syncs it, and syncs again every
//! SECONDS (default 5) so that draining real servers go once their
//! connections end. Pruning stays inside the document's `"scope"`. The
//! watcher and the syncer are two threads joined by a channel, the shape a
//! controller built on an async runtime has with `spawn_blocking`: a
//! [`Syncer`] is `Send` and each sync blocks only on the kernel.
//!
//! Stop it with Ctrl-C; nothing needs cleaning up.

use std::{
    path::PathBuf,
    process::ExitCode,
    sync::mpsc,
    thread,
    time::{Duration, SystemTime},
};

use kipvs::sync::{document, Desired, PlanOptions, SyncOptions, Syncer};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: controller STATE.json [SECONDS]");
        return ExitCode::FAILURE;
    };
    let every = Duration::from_secs(args.next().and_then(|s| s.parse().ok()).unwrap_or(5));

    // The watcher: sends each new valid version of the document.
    let (tx, rx) = mpsc::channel::<Desired>();
    thread::spawn(move || watch(path, tx));

    // The syncer: the last desired state, synced on every change and on
    // every tick.
    let options = SyncOptions {
        plan: PlanOptions {
            prune: true,
            ..PlanOptions::default()
        },
        ..SyncOptions::default()
    };
    let mut syncer = Syncer::new(Default::default(), options);
    let mut desired: Option<Desired> = None;
    loop {
        match rx.recv_timeout(every) {
            Ok(d) => desired = Some(d),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return ExitCode::FAILURE,
        }
        let Some(d) = &desired else { continue };
        match syncer.sync(d) {
            Ok(report) => {
                for c in &report.applied {
                    println!("applied  {c}");
                }
                for f in &report.failed {
                    println!("FAILED   {}: {}", f.change, f.error);
                }
                for s in &report.skipped {
                    println!("skipped  {} ({})", s.change, s.reason);
                }
                for d in &report.draining {
                    println!(
                        "draining {} -> {}: {} active, {} inactive, {} s left",
                        d.service,
                        std::net::SocketAddr::new(d.addr, d.port),
                        d.active_conns,
                        d.inactive_conns,
                        d.left.as_secs()
                    );
                }
            }
            // The kernel could not be read: try again next tick.
            Err(e) => eprintln!("controller: sync failed: {e}"),
        }
    }
}

fn watch(path: PathBuf, tx: mpsc::Sender<Desired>) {
    let mut seen: Option<SystemTime> = None;
    loop {
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        if modified.is_some() && modified != seen {
            seen = modified;
            match std::fs::read_to_string(&path) {
                Ok(text) => match document::parse(&text) {
                    Ok(d) => {
                        if tx.send(d).is_err() {
                            return;
                        }
                    }
                    Err(problems) => {
                        eprintln!("controller: {}: not applied: {problems}", path.display())
                    }
                },
                Err(e) => eprintln!("controller: {}: {e}", path.display()),
            }
        }
        thread::sleep(Duration::from_millis(500));
    }
}
