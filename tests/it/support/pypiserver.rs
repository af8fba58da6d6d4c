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
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::tool_server::{self, ServerChild, StartError};

pub struct PypiServer {
    child: ServerChild,
    port: u16,
    dir: tempfile::TempDir,
}

impl tool_server::Started for PypiServer {
    const NAME: &'static str = "pypiserver";
    const PORT_TAKEN: &'static str = "Address already in use";
    fn child(&mut self) -> &mut ServerChild {
        &mut self.child
    }
    // Unauthenticated: the 401 proves it is up and that reads need the credential.
    fn ready(&self) -> bool {
        self.status_of("/simple/") == Some(401)
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

impl PypiServer {
    /// Starts pypiserver on 127.0.0.1 with a free port, an empty packages dir and one htpasswd
    /// user; `-a download,list` makes every read need it (`-a update` too: nothing uploads).
    /// Panics with a clear message naming scripts/test-tools.sh if pypiserver is not installed.
    pub fn start(user: &str, password: &str) -> PypiServer {
        let venv = installed_venv();
        tool_server::start_with_retries("pypiserver", || Self::try_start(&venv, user, password))
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

        let port = tool_server::free_port();
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
        tool_server::own_process_group(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| StartError::Fatal(format!("could not start pypiserver ({e}): {HINT}")))?;
        let mut s = PypiServer {
            child: ServerChild(child),
            port,
            dir,
        };
        tool_server::wait_until_ready(&mut s, port, "")?;
        Ok(s)
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
}

const HINT: &str = "run `scripts/test-tools.sh` (it installs the pinned pypiserver into \
                    target/test-tools/pypiserver; set MCP_AUDIT_TEST_TOOLS to use another dir)";

/// The venv, after checking that it holds the pinned version (the install stamp names it).
fn installed_venv() -> PathBuf {
    let venv = tool_server::tools_dir().join("pypiserver");
    let want = tool_server::pinned_version("PYPISERVER_VERSION");
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
