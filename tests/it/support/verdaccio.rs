//! A real Verdaccio private registry on loopback, for tests of private-registry configuration.
//!
//! The hand-written loopback registry (`registry.rs`) serves what the test author thinks a
//! registry serves; this one is the real thing, so auth failures, tarball URLs and missing
//! endpoints are what a user of a private Verdaccio would see. Verdaccio is installed by
//! `scripts/test-tools.sh` (pinned there) and started per test: ~1 s each.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::time::Duration;

use super::tool_server::{self, ServerChild, StartError};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const CONFIG_TEMPLATE: &str = include_str!("../../../fixtures/verdaccio/config.yaml");

/// A package to publish: `name` and `version` win over the same keys in `manifest`.
#[derive(Clone, Debug, Default)]
pub struct FixturePackage {
    pub name: String,
    pub version: String,
    /// Extra package.json fields (dependencies, scripts, repository, bin, ...). Must be an object
    /// or null.
    pub manifest: serde_json::Value,
    /// Files besides package.json, by relative path (subdirectories are created). npm's own
    /// packing rules apply (`files`, `.npmignore`; README and LICENSE are always included).
    pub files: BTreeMap<String, String>,
}

impl FixturePackage {
    pub fn new(name: &str, version: &str) -> FixturePackage {
        FixturePackage {
            name: name.to_string(),
            version: version.to_string(),
            manifest: serde_json::json!({}),
            files: BTreeMap::new(),
        }
    }

    pub fn manifest(mut self, manifest: serde_json::Value) -> FixturePackage {
        self.manifest = manifest;
        self
    }

    pub fn file(mut self, path: &str, contents: &str) -> FixturePackage {
        self.files.insert(path.to_string(), contents.to_string());
        self
    }

    fn package_json(&self) -> serde_json::Value {
        let mut obj = match &self.manifest {
            serde_json::Value::Object(m) => m.clone(),
            serde_json::Value::Null => serde_json::Map::new(),
            other => panic!("FixturePackage.manifest must be a JSON object, got {other}"),
        };
        obj.insert("name".into(), self.name.clone().into());
        obj.insert("version".into(), self.version.clone().into());
        serde_json::Value::Object(obj)
    }
}

pub struct Verdaccio {
    child: ServerChild,
    /// Held only so it closes when we go away: `launch.js` exits on EOF (see there).
    _lifeline: ChildStdin,
    port: u16,
    dir: tempfile::TempDir,
}

impl tool_server::Started for Verdaccio {
    const NAME: &'static str = "Verdaccio";
    const PORT_TAKEN: &'static str = "EADDRINUSE";
    fn child(&mut self) -> &mut ServerChild {
        &mut self.child
    }
    fn ready(&self) -> bool {
        matches!(self.request("GET", "/-/ping", &[], None), Ok((200, _)))
    }
    fn diagnostics(&self) -> String {
        let read = |f: &str| fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!(
            "--- stderr (tail) ---\n{}\n--- stdout (tail) ---\n{}\n--- verdaccio.log (tail) ---\n{}",
            tail(&read("stderr.txt"), 30),
            tail(&read("stdout.txt"), 10),
            tail(&read("verdaccio.log"), 30),
        )
    }
}

impl Verdaccio {
    /// Starts Verdaccio on 127.0.0.1 with a free port, a fresh storage dir and htpasswd auth.
    /// Packages `@private/*` require an authenticated user to read and publish; every other
    /// package can be read anonymously and published by an authenticated user. No uplinks
    /// (nothing may leave the machine). Panics with a clear message naming scripts/test-tools.sh
    /// if Verdaccio is not installed.
    pub fn start() -> Verdaccio {
        let bin = installed_bin();
        tool_server::start_with_retries("Verdaccio", || Self::try_start(&bin))
    }

    fn try_start(bin: &Path) -> Result<Verdaccio, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("mcp-audit-verdaccio-")
            .tempdir()
            .expect("create Verdaccio temp dir");
        let port = tool_server::free_port();
        let config = dir.path().join("config.yaml");
        let storage = dir.path().join("storage");
        fs::create_dir(&storage).expect("create storage dir");
        let json = |p: &Path| serde_json::to_string(&p.to_string_lossy()).unwrap();
        let yaml = CONFIG_TEMPLATE
            .replace("{{storage}}", &json(&storage))
            .replace("{{htpasswd}}", &json(&dir.path().join("htpasswd")))
            .replace("{{log}}", &json(&dir.path().join("verdaccio.log")))
            .replace(
                "{{listen}}",
                &serde_json::to_string(&format!("127.0.0.1:{port}")).unwrap(),
            );
        let unfilled = yaml
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("{{"));
        assert!(!unfilled, "unfilled placeholder in config:\n{yaml}");
        fs::write(&config, yaml).expect("write Verdaccio config");

        let out = File::create(dir.path().join("stdout.txt")).expect("create stdout file");
        let err = File::create(dir.path().join("stderr.txt")).expect("create stderr file");
        let mut cmd = Command::new("node");
        cmd.arg(Path::new(MANIFEST_DIR).join("fixtures/verdaccio/launch.js"))
            .arg(bin)
            .arg(&config)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err);
        scrub_env(&mut cmd);
        tool_server::own_process_group(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| {
            StartError::Fatal(format!(
                "could not run `node` to start Verdaccio ({e}); Node >= 20 must be on PATH"
            ))
        })?;
        let lifeline = child.stdin.take().expect("piped stdin");
        let mut v = Verdaccio {
            child: ServerChild(child),
            _lifeline: lifeline,
            port,
            dir,
        };
        tool_server::wait_until_ready(&mut v, port, " GET /-/ping")?;
        Ok(v)
    }

    /// `http://127.0.0.1:PORT/`. Verdaccio builds tarball URLs from the request's Host header,
    /// so clients must use this host (not `localhost`) for tarball URLs to match it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The instance's temp dir (config.yaml, storage/, htpasswd, verdaccio.log); removed on Drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Verdaccio's log so far (text lines; `<--` marks requests it received, `-->` requests it
    /// would make to an uplink), for debugging a failing test.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("verdaccio.log")).unwrap_or_default()
    }

    /// Registers a user through the npm adduser API (PUT /-/user/org.couchdb.user:<name>) and
    /// returns its token (a JWT). Panics if the user exists already (Verdaccio answers 409).
    pub fn add_user(&self, name: &str, password: &str) -> String {
        let body = serde_json::json!({
            "_id": format!("org.couchdb.user:{name}"),
            "name": name,
            "password": password,
            "type": "user",
            "roles": [],
            "date": "2026-01-01T00:00:00.000Z",
        });
        let path = format!("/-/user/org.couchdb.user:{}", encode_component(name));
        let (status, text) = self
            .request(
                "PUT",
                &path,
                &[("Content-Type", "application/json")],
                Some(body.to_string().as_bytes()),
            )
            .unwrap_or_else(|e| panic!("PUT {path}: {e}"));
        assert_eq!(status, 201, "adduser {name}: HTTP {status}: {text}");
        let reply: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("adduser {name}: reply is not JSON ({e}): {text}"));
        reply["token"]
            .as_str()
            .unwrap_or_else(|| panic!("adduser {name}: no token in reply: {text}"))
            .to_string()
    }

    /// Publishes `pkg` with the real `npm publish` CLI, authenticated with `token`.
    ///
    /// The real CLI rather than a hand-built PUT: the tarball, `dist.integrity`/`shasum`, the
    /// packument fields npm adds (`_id`, `_npmVersion`, readme...) and the publish request are
    /// then exactly what a user's publish produces, and we need no tar/gzip code (the crate has
    /// no such dev-dependency). It costs ~1 s per package.
    ///
    /// npm runs isolated from the developer's configuration: a temp userconfig holding only the
    /// token, an empty globalconfig, a temp cache, no `npm_config_*` from the environment, and
    /// `--ignore-scripts` so fixture lifecycle scripts (`prepare`, `prepublishOnly`...) never
    /// run. A prerelease version is published under dist-tag `next` (npm 11 refuses to publish
    /// one without `--tag`) unless the manifest sets `publishConfig.tag`.
    pub fn publish(&self, token: &str, pkg: &FixturePackage) {
        let work = tempfile::Builder::new()
            .prefix("publish-")
            .tempdir_in(self.dir.path())
            .expect("create publish dir");
        let pkg_dir = work.path().join("package");
        fs::create_dir(&pkg_dir).unwrap();
        let package_json = serde_json::to_string_pretty(&pkg.package_json()).unwrap();
        fs::write(pkg_dir.join("package.json"), package_json).unwrap();
        for (rel, contents) in &pkg.files {
            let rel_path = Path::new(rel);
            assert!(
                rel_path.is_relative()
                    && rel_path
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_))),
                "fixture file path must be relative and plain: {rel}"
            );
            assert_ne!(
                rel, "package.json",
                "set package.json fields via `manifest`"
            );
            let dest = pkg_dir.join(rel_path);
            fs::create_dir_all(dest.parent().unwrap()).unwrap();
            fs::write(dest, contents).unwrap();
        }

        let userconfig = work.path().join("npmrc");
        fs::write(
            &userconfig,
            format!("//127.0.0.1:{}/:_authToken={token}\n", self.port),
        )
        .unwrap();
        let globalconfig = work.path().join("global-npmrc");
        fs::write(&globalconfig, "").unwrap();

        let mut cmd = Command::new("npm");
        cmd.arg("publish")
            .arg(&pkg_dir)
            .arg("--registry")
            .arg(self.url())
            .arg("--userconfig")
            .arg(&userconfig)
            .arg("--globalconfig")
            .arg(&globalconfig)
            .arg("--cache")
            .arg(work.path().join("npm-cache"))
            .args([
                "--ignore-scripts",
                "--provenance=false",
                "--update-notifier=false",
                "--audit=false",
                "--fund=false",
                "--loglevel=warn",
                // npm's default retries back off for over two minutes against a dead server
                // (e.g. after the test process was killed); loopback needs no retries.
                "--fetch-retries=0",
                "--fetch-timeout=30000",
            ])
            // npm also reads `<cwd>/.npmrc`; the work dir has none.
            .current_dir(work.path())
            .stdin(Stdio::null());
        let publish_tag = pkg.manifest.pointer("/publishConfig/tag");
        if pkg.version.contains('-') && publish_tag.is_none() {
            cmd.args(["--tag", "next"]);
        }
        scrub_env(&mut cmd);
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("could not run `npm publish` ({e}); npm must be on PATH"));
        assert!(
            out.status.success(),
            "npm publish {}@{} to {} failed ({}):\n{}\n{}\nVerdaccio log tail:\n{}",
            pkg.name,
            pkg.version,
            self.url(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log(), 20),
        );
    }

    /// A minimal HTTP/1.1 client over std, so the harness works from sync tests and from inside
    /// a tokio runtime alike. Returns (status, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::io::Result<(u16, String)> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let body = body.unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nAccept: application/json\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        parse_response(&raw)
    }
}

/// The Verdaccio bin script, after checking the installed version is the pinned one.
fn installed_bin() -> PathBuf {
    let root = tool_server::tools_dir().join("verdaccio/node_modules/verdaccio");
    let want = tool_server::pinned_version("VERDACCIO_VERSION");
    let hint =
        "run `scripts/test-tools.sh` (it installs the pinned Verdaccio into target/test-tools/; \
                set MCP_AUDIT_TEST_TOOLS to use another dir)";
    let manifest = fs::read_to_string(root.join("package.json")).unwrap_or_else(|_| {
        panic!(
            "Verdaccio {want} is not installed at {}: {hint}",
            root.display()
        )
    });
    let got = serde_json::from_str::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|m| m["version"].as_str().map(String::from))
        .unwrap_or_default();
    assert_eq!(
        got,
        want,
        "Verdaccio at {} is version {got:?}, scripts/test-tools.sh pins {want}: {hint}",
        root.display()
    );
    root.join("bin/verdaccio")
}

/// Keeps the developer's npm configuration and proxies out of Verdaccio and npm: a proxy would
/// send loopback traffic off the machine, and `npm_config_*` (set when tests run under an npm
/// script, or by CI) would override the isolated userconfig.
fn scrub_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy().to_ascii_lowercase();
        if k.starts_with("npm_config_")
            || k.starts_with("npm_package_")
            || k.starts_with("npm_lifecycle_")
            || matches!(
                k.as_str(),
                "http_proxy" | "https_proxy" | "all_proxy" | "no_proxy"
            )
        {
            cmd.env_remove(&key);
        }
    }
}

fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn parse_response(raw: &[u8]) -> std::io::Result<(u16, String)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of HTTP headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut body = raw[split + 4..].to_vec();
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("no HTTP status line"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("malformed chunked body"))?;
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_field.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
