//! `scan pypi:NAME` against a real private Python index: pypiserver on loopback with htpasswd
//! auth on every read (tests/it/support/pypiserver.rs; installed by scripts/test-tools.sh). The
//! credential reaches it in each form uv and pip accept, never shows in any output, and never
//! goes to another host: a second loopback server, named `localhost` so that neither the
//! credential's realm nor `.netrc`'s host matches it, records what it receives.

use std::io::Write;

use crate::support::pyindex::sdist;
use crate::support::pypiserver::PypiServer;
use crate::support::*;

const USER: &str = "ci-reader";
const PASSWORD: &str = "pypiserver-pw-7f3a9c21";

/// A wheel with METADATA and a module, as `pip wheel` would lay it out.
fn wheel(name: &str, version: &str) -> Vec<u8> {
    let module = name.replace('-', "_");
    let dist_info = format!("{module}-{version}.dist-info");
    let files = [
        (format!("{module}/__init__.py"), "def main():\n    pass\n".to_string()),
        (
            format!("{dist_info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Dist: mcp>=1.0,<2\n"),
        ),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_string(),
        ),
        (format!("{dist_info}/RECORD"), String::new()),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (path, body) in &files {
        zip.start_file(path.as_str(), opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// One pypiserver holding `corp-mcp` 1.0 (sdist) and 1.1 (wheel and sdist).
fn private_index() -> PypiServer {
    let server = PypiServer::start(USER, PASSWORD);
    server.add(
        "corp_mcp-1.0.tar.gz",
        &sdist("corp-mcp", "1.0", &["mcp>=1.0,<2"], &[]),
    );
    server.add(
        "corp_mcp-1.1.tar.gz",
        &sdist("corp-mcp", "1.1", &["mcp>=1.0,<2"], &[]),
    );
    server.add("corp_mcp-1.1-py3-none-any.whl", &wheel("corp-mcp", "1.1"));
    server
}

/// A scan with no uv or pip settings of the developer's; the caller adds the index.
fn bare_scan(dir: &std::path::Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = mcp_audit();
    cmd.arg("scan")
        .args(args)
        .args(["--format", "json", "--now", NOW, "--no-policy", "-v"])
        .args(["--retries", "1", "--retry-base-ms", "10"]);
    for var in [
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX",
        "UV_EXTRA_INDEX_URL",
        "UV_CONFIG_FILE",
        "UV_NO_CONFIG",
        "XDG_CONFIG_HOME",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_CONFIG_FILE",
        "VIRTUAL_ENV",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", dir)
        .env("NETRC", dir.join("no-netrc"))
        .current_dir(dir);
    cmd
}

fn assert_scanned(out: &Output, other: &TestRegistry) {
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    out.assert_no_leak(&[PASSWORD]);
    let r = json(out);
    assert_eq!(r["packages"][0]["status"], "passed", "{r:#}");
    assert_eq!(r["packages"][0]["ecosystem"], "pypi");
    assert_eq!(r["packages"][0]["version"], "1.1", "{r:#}");
    assert!(
        out.stdout.contains("corp_mcp-1.1"),
        "the file read is named in the report: {r:#}"
    );
    // The other index was asked for the name (the dependency-confusion check), without the
    // credential.
    assert!(
        other
            .requests()
            .iter()
            .any(|q| q.decoded_path.contains("corp-mcp")),
        "the extra index was not consulted"
    );
    assert!(
        other.authorizations().iter().all(Option::is_none),
        "the private index's credential reached another host: {:?}",
        other.authorizations()
    );
}

fn other_host() -> (TestRegistry, String) {
    let other = TestRegistry::start_empty();
    let url = format!("{}simple/", other.url()).replace("127.0.0.1", "localhost");
    (other, url)
}

#[test]
fn pypiserver_credentials_in_the_index_url_work_and_never_leak() {
    let server = private_index();
    let (other, other_url) = other_host();
    let dir = tempfile::tempdir().unwrap();
    let url = server
        .simple_url()
        .replace("http://", &format!("http://{USER}:{PASSWORD}@"));
    let out = run(bare_scan(
        dir.path(),
        &[
            "pypi:Corp.MCP",
            "--index-url",
            &url,
            "--extra-index-url",
            &other_url,
        ],
    ));
    assert_scanned(&out, &other);

    // Without a credential pypiserver answers 401: one line, exit 3, saying none was sent.
    let out = run(bare_scan(
        dir.path(),
        &["pypi:corp-mcp", "--index-url", &server.simple_url()],
    ));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
}

#[test]
fn pypiserver_credentials_from_netrc_work_and_never_leak() {
    let server = private_index();
    let (other, other_url) = other_host();
    let dir = tempfile::tempdir().unwrap();
    let netrc = dir.path().join("netrc");
    std::fs::write(
        &netrc,
        format!("machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n"),
    )
    .unwrap();
    let mut cmd = bare_scan(
        dir.path(),
        &[
            "pypi:corp-mcp",
            "--index-url",
            &server.simple_url(),
            "--extra-index-url",
            &other_url,
        ],
    );
    cmd.env("NETRC", &netrc);
    let out = run(cmd);
    assert_scanned(&out, &other);
}

#[test]
fn pypiserver_credentials_from_uv_index_variables_work_and_never_leak() {
    let server = private_index();
    let (other, other_url) = other_host();
    let dir = tempfile::tempdir().unwrap();
    // A project uv.toml, found from the working directory as uv finds it; the credential for its
    // named index comes from uv's per-index variables.
    std::fs::write(
        dir.path().join("uv.toml"),
        format!(
            "[[index]]\nname = \"corp\"\nurl = \"{}\"\ndefault = true\n\n\
             [[index]]\nname = \"elsewhere\"\nurl = \"{other_url}\"\n",
            server.simple_url()
        ),
    )
    .unwrap();
    let mut cmd = bare_scan(dir.path(), &["pypi:corp-mcp"]);
    cmd.env("UV_INDEX_CORP_USERNAME", USER)
        .env("UV_INDEX_CORP_PASSWORD", PASSWORD);
    let out = run(cmd);
    assert_scanned(&out, &other);
    assert!(
        out.stdout.contains(&server.simple_url()),
        "the uv.toml index was used: {}",
        out.stdout
    );
}

#[test]
fn a_wrong_pypiserver_password_is_one_line_exit_3_and_not_shown() {
    let server = private_index();
    let dir = tempfile::tempdir().unwrap();
    let wrong = "wrong-pw-0d9e8f7a6b5c";
    let url = server
        .simple_url()
        .replace("http://", &format!("http://{USER}:{wrong}@"));
    let out = run(bare_scan(
        dir.path(),
        &["pypi:corp-mcp", "--index-url", &url],
    ));
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    out.assert_no_leak(&[wrong, PASSWORD]);
    // pypiserver refuses a wrong password with 403 (not 401); the one error line says so and
    // names the credential's source, not its value.
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("mcp-audit: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(errors[0].contains("403"), "{}", errors[0]);
    assert!(errors[0].contains("URL userinfo"), "{}", errors[0]);
    assert!(errors[0].contains("wrong password"), "{}", errors[0]);
}
