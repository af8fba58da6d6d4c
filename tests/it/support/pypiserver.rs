//! A real pypiserver private Python index on loopback, for tests of private-index credentials.
//!
//! The hand-written loopback index (`pyindex.rs`) serves what the test author thinks an index
//! serves; this one is the real thing: PEP 503 HTML only, relative file links with a `#sha256=`
//! fragment, no JSON API, no Integrity API, and its own answers to missing or wrong credentials.
//! pypiserver is installed by `scripts/test-tools.sh` (pinned there, in a venv) and started per
//! test: under a second each.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// The pin lives in the install script only; reading it from there keeps the two in step.
const TEST_TOOLS_SCRIPT: &str = include_str!("../../../scripts/test-tools.sh");
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Another process can take the port between our probe and pypiserver's bind.
const START_ATTEMPTS: usize = 3;

pub struct PypiServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl PypiServer {
    /// Starts pypiserver on 127.0.0.1 with a free port, an empty packages dir and one htpasswd
    /// user; `-a download,list` makes every read need it (`-a update` too: nothing uploads).
    /// Panics with a clear message naming scripts/test-tools.sh if pypiserver is not installed.
    pub fn start(user: &str, password: &str) -> PypiServer {
        let venv = installed_venv();
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&venv, user, password) {
                Ok(s) => return s,
                Err(StartError::PortTaken(log)) => last = log,
                Err(StartError::Fatal(msg)) => panic!("{msg}"),
            }
        }
        panic!("pypiserver could not bind a port in {START_ATTEMPTS} attempts:\n{last}");
    }

    fn try_start(venv: &Path, user: &str, password: &str) -> Result<PypiServer, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("mcp-audit-pypiserver-")
            .tempdir()
            .expect("create pypiserver temp dir");
        let packages = dir.path().join("packages");
        fs::create_dir(&packages).expect("create packages dir");
        let htpasswd = dir.path().join("htpasswd");
        // passlib (which pypiserver reads the file with) writes it: an apr1 hash, as `htpasswd`
        // would, and no hashing code of our own.
        let made = Command::new(venv.join("bin/python"))
            .args([
                "-c",
                "import sys; from passlib.apache import HtpasswdFile as H; \
                 h = H(sys.argv[1], new=True); h.set_password(sys.argv[2], sys.argv[3]); h.save()",
            ])
            .arg(&htpasswd)
            .arg(user)
            .arg(password)
            .output()
            .expect("run the pypiserver venv's python");
        assert!(
            made.status.success(),
            "writing htpasswd failed: {}",
            String::from_utf8_lossy(&made.stderr)
        );

        let port = free_port();
        let out = File::create(dir.path().join("stdout.txt")).expect("create stdout file");
        let err = File::create(dir.path().join("stderr.txt")).expect("create stderr file");
        let mut cmd = Command::new(venv.join("bin/pypi-server"));
        cmd.args(["run", "-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-a", "download,list,update", "-P"])
            .arg(&htpasswd)
            // pypiserver's default fragment is md5; PEP 503 indexes worth the name give sha256.
            .args(["--hash-algo", "sha256", "--backend", "simple-dir"])
            .arg(&packages)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for key in [
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
            "PYTHONPATH",
        ] {
            cmd.env_remove(key).env_remove(key.to_ascii_uppercase());
        }
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .map_err(|e| StartError::Fatal(format!("could not start pypiserver ({e}): {HINT}")))?;
        let mut s = PypiServer { child, port, dir };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = s.child.try_wait() {
                let report = s.diagnostics();
                return Err(if report.contains("Address already in use") {
                    StartError::PortTaken(report)
                } else {
                    StartError::Fatal(format!(
                        "pypiserver exited during startup ({status}):\n{report}"
                    ))
                });
            }
            // Unauthenticated: the 401 proves it is up and that reads need the credential.
            if s.status_of("/simple/") == Some(401) {
                return Ok(s);
            }
            if Instant::now() > deadline {
                return Err(StartError::Fatal(format!(
                    "pypiserver did not answer on port {port} within {READY_TIMEOUT:?}:\n{}",
                    s.diagnostics()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT/simple/`, without credentials.
    pub fn simple_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Puts a distribution file in the packages dir, as an upload would leave it; pypiserver
    /// lists the directory on every request (`simple-dir` backend), so it is served at once.
    pub fn add(&self, filename: &str, bytes: &[u8]) {
        assert!(
            !filename.contains('/') && !filename.starts_with('.'),
            "a plain file name: {filename}"
        );
        fs::write(self.dir.path().join("packages").join(filename), bytes).unwrap();
    }

    /// pypiserver's log so far (its request lines go to stderr).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.txt")).unwrap_or_default()
    }

    fn status_of(&self, path: &str) -> Option<u16> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut head = [0u8; 64];
        let n = std::io::Read::read(&mut stream, &mut head).ok()?;
        String::from_utf8_lossy(&head[..n])
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    fn diagnostics(&self) -> String {
        let read = |f: &str| fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!(
            "--- stderr ---\n{}\n--- stdout ---\n{}",
            read("stderr.txt"),
            read("stdout.txt")
        )
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum StartError {
    PortTaken(String),
    Fatal(String),
}

const HINT: &str = "run `scripts/test-tools.sh` (it installs the pinned pypiserver into \
                    target/test-tools/pypiserver; set MCP_AUDIT_TEST_TOOLS to use another dir)";

fn tools_dir() -> PathBuf {
    std::env::var_os("MCP_AUDIT_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(MANIFEST_DIR).join("target/test-tools"))
}

fn pinned_version() -> &'static str {
    TEST_TOOLS_SCRIPT
        .lines()
        .find_map(|l| l.strip_prefix("PYPISERVER_VERSION="))
        .map(str::trim)
        .expect("scripts/test-tools.sh has a PYPISERVER_VERSION= line")
}

/// The venv, after checking that it holds the pinned version (the install stamp names it).
fn installed_venv() -> PathBuf {
    let venv = tools_dir().join("pypiserver");
    let want = pinned_version();
    let stamp = fs::read_to_string(venv.join(".installed")).unwrap_or_else(|_| {
        panic!(
            "pypiserver {want} is not installed at {}: {HINT}",
            venv.display()
        )
    });
    assert!(
        stamp.starts_with(&format!("pypiserver@{want} ")),
        "pypiserver at {} is {:?}, scripts/test-tools.sh pins {want}: {HINT}",
        venv.display(),
        stamp.trim()
    );
    venv
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}
