//! What the real-server harnesses (`verdaccio.rs`, `pypiserver.rs`) share: the pinned install
//! under `target/test-tools`, a free loopback port, start with retries when another process takes
//! the port first, waiting until the server answers, and killing its process group on drop.
#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// The pins live in the install script only; reading them from there keeps the two in step.
const TEST_TOOLS_SCRIPT: &str = include_str!("../../../scripts/test-tools.sh");
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Another process can take the port between our probe and the server's bind.
const START_ATTEMPTS: usize = 3;

pub enum StartError {
    PortTaken(String),
    Fatal(String),
}

/// Where `scripts/test-tools.sh` installs the servers.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("MCP_AUDIT_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(MANIFEST_DIR).join("target/test-tools"))
}

/// The version `scripts/test-tools.sh` pins on its `KEY=` line.
pub fn pinned_version(key: &str) -> &'static str {
    TEST_TOOLS_SCRIPT
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
        .unwrap_or_else(|| panic!("scripts/test-tools.sh has a {key}= line"))
}

pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Calls `try_start` until it does not fail for a taken port, at most `START_ATTEMPTS` times.
pub fn start_with_retries<T>(
    name: &str,
    mut try_start: impl FnMut() -> Result<T, StartError>,
) -> T {
    let mut last = String::new();
    for _ in 0..START_ATTEMPTS {
        match try_start() {
            Ok(s) => return s,
            Err(StartError::PortTaken(log)) => last = log,
            Err(StartError::Fatal(msg)) => panic!("{msg}"),
        }
    }
    panic!("{name} could not bind a port in {START_ATTEMPTS} attempts:\n{last}");
}

/// A started server as `wait_until_ready` sees it.
pub trait Started {
    /// The name in messages.
    const NAME: &'static str;
    /// What the server prints when its port is taken.
    const PORT_TAKEN: &'static str;
    fn child(&mut self) -> &mut ServerChild;
    /// Whether it answers as a ready server does.
    fn ready(&self) -> bool;
    /// Its output so far, for a failure message.
    fn diagnostics(&self) -> String;
}

/// Waits until `server` is ready, has exited (for a taken port or otherwise) or `READY_TIMEOUT`
/// has passed; `what` names the readiness probe in the timeout message. On an error the caller
/// drops `server`, which reaps the child and removes its temp dir.
pub fn wait_until_ready<S: Started>(
    server: &mut S,
    port: u16,
    what: &str,
) -> Result<(), StartError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = server.child().0.try_wait() {
            let report = server.diagnostics();
            return Err(if report.contains(S::PORT_TAKEN) {
                StartError::PortTaken(report)
            } else {
                StartError::Fatal(format!(
                    "{} exited during startup ({status}):\n{report}",
                    S::NAME
                ))
            });
        }
        if server.ready() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(StartError::Fatal(format!(
                "{} did not answer{what} on port {port} within {READY_TIMEOUT:?}:\n{}",
                S::NAME,
                server.diagnostics()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Puts `cmd` in a process group of its own, so that `ServerChild`'s drop can kill the server
/// and anything it spawned in one go.
pub fn own_process_group(cmd: &mut Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    #[cfg(not(unix))]
    let _ = cmd;
}

/// A server process started with `own_process_group`, killed with its whole group on drop: a
/// server that spawns (a plugin, a worker, a future version) would otherwise leave an orphan
/// holding the port and the temp dir. Declare it before the temp dir in a struct, so the dir is
/// removed only once the process no longer writes to it.
pub struct ServerChild(pub Child);

impl ServerChild {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.0.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
