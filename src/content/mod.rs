//! Published tarball content analysis (issue E), in memory.
//!
//! The registry's version document says what the publisher claims; the tarball is what runs.
//! [`analyze`] reads a downloaded `.tgz` without writing anything to disk and reports what it
//! found. It never fails as a whole: a broken or hostile archive is described inside the report
//! (`errors`, `complete: false`) so the caller can turn it into a finding or an unknown, never into
//! a silent pass. [`check_integrity`] verifies the bytes against `dist.integrity` and must be
//! called first: analysing bytes that are not the published ones proves nothing.
//!
//! Module map: `archive` (bounded gunzip + tar walk), `manifest` (install scripts, manifest
//! confusion, `bin`), `packlist` (npm's `files` rules), `secrets`, `scan` (native code,
//! obfuscation), `integrity` (SRI).
//!
//! Heuristics, and where they are knowingly wrong, are documented in each module.

mod archive;
mod integrity;
mod manifest;
mod packlist;
pub mod python;
mod scan;
mod secrets;
mod text;

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use integrity::{check_integrity, check_shasum, IntegrityError};
pub use manifest::{normalize_bin, SHADOWED_COMMANDS};

const MIB: u64 = 1024 * 1024;

/// A tarball below this many uncompressed bytes is never rejected by the ratio cap: small
/// packages of many tiny files are mostly tar padding and compress far beyond any real bomb
/// threshold, and at this size a "bomb" costs nothing anyway.
pub const RATIO_FLOOR: u64 = 8 * MIB;

/// Resource caps for one analysis. Every cap that trips is reported in `ContentReport::errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Compressed (`.tgz`) size; larger input is not decompressed at all.
    pub max_compressed: u64,
    /// Uncompressed tar stream size, headers and padding included.
    pub max_uncompressed: u64,
    /// Uncompressed / compressed; bounds gzip bombs well before `max_uncompressed`.
    pub max_ratio: u64,
    /// Tar entries of any type (files, directories, links).
    pub max_files: usize,
    /// Bytes of one file kept in memory and scanned; the rest is skipped (and counted).
    pub max_file_scan: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed: 50 * MIB,
            max_uncompressed: 500 * MIB,
            max_ratio: 100,
            max_files: 20_000,
            // Large enough for the single-file bundles MCP servers commonly ship.
            max_file_scan: 16 * MIB,
        }
    }
}

impl Limits {
    /// The uncompressed budget for an input of `compressed` bytes.
    pub fn uncompressed_budget(&self, compressed: u64) -> u64 {
        let by_ratio = compressed.saturating_mul(self.max_ratio).max(RATIO_FLOOR);
        by_ratio.min(self.max_uncompressed)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallScript {
    /// `preinstall`, `install` or `postinstall`.
    pub name: String,
    pub command: String,
    /// What the command does that deserves a look: `curl`, `wget`, `node-eval`, `base64`,
    /// `eval`, `url`, `pipe-to-shell`, `powershell`.
    pub signals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestMismatch {
    /// `name`, `version`, `scripts.<key>`, `dependencies.<pkg>`, `optionalDependencies.<pkg>`,
    /// `peerDependencies.<pkg>`, `bin.<cmd>`, `_hasShrinkwrap`, `hasInstallScript`.
    pub field: String,
    /// `null` when the registry document does not have it.
    pub registry: Value,
    /// `null` when the tarball's package.json does not have it.
    pub tarball: Value,
    /// The difference changes what runs at install time (install scripts, `hasInstallScript`).
    pub install_relevant: bool,
}

/// How sure a detection is: the same low / medium / high scale as a rule's confidence.
pub use crate::rules::Confidence;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    pub file: String,
    /// `npmrc-auth`, `npm-token`, `github-token`, `github-fine-grained-pat`, `private-key`,
    /// `dotenv-file`, `aws-access-key-id`.
    pub kind: String,
    /// File, line, kind and a redacted value (at most 4 characters, then `***`). Never the secret.
    pub evidence: String,
    pub line: u64,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeBinary {
    pub file: String,
    /// `elf`, `mach-o`, `mach-o-fat`, `pe`, or `node-addon` for a `.node` file without a known
    /// magic number.
    pub kind: String,
    /// The file name ends in `.node` (loaded by `require`).
    pub node_addon: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Obfuscation {
    pub file: String,
    /// `hex-identifiers`, `long-lines`, `base64-blob`, `hex-blob`.
    pub signal: String,
    pub detail: String,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinShadow {
    pub bin: String,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathProblemKind {
    /// A `..` component.
    ParentDir,
    /// Starts with `/`, `\` or a drive letter.
    Absolute,
    Symlink,
    Hardlink,
    NonUtf8,
    Duplicate,
    /// Character or block device, FIFO, or an unknown entry type.
    Special,
    /// The first path components differ between entries (npm strips the first one blindly).
    MultipleRoots,
    /// A file at the top level, outside any directory: npm's extraction drops it (nothing is
    /// left after stripping the first component), so it is scanned but never taken as the
    /// package's package.json.
    TopLevelFile,
    /// Non-zero bytes after the tar end-of-archive marker: unseen by tar readers.
    TrailingData,
    /// A GNU long-name/long-link record or PAX header larger than the cap (8 KiB), skipped
    /// unread: the entry's real name is unknown and the analysis incomplete.
    OversizedHeader,
}

impl PathProblemKind {
    /// The serialized name: facts strings show this, never the Debug name.
    pub fn as_str(self) -> &'static str {
        match self {
            PathProblemKind::ParentDir => "parent-dir",
            PathProblemKind::Absolute => "absolute",
            PathProblemKind::Symlink => "symlink",
            PathProblemKind::Hardlink => "hardlink",
            PathProblemKind::NonUtf8 => "non-utf8",
            PathProblemKind::Duplicate => "duplicate",
            PathProblemKind::Special => "special",
            PathProblemKind::MultipleRoots => "multiple-roots",
            PathProblemKind::TopLevelFile => "top-level-file",
            PathProblemKind::TrailingData => "trailing-data",
            PathProblemKind::OversizedHeader => "oversized-header",
        }
    }
}

impl std::fmt::Display for PathProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathProblem {
    pub kind: PathProblemKind,
    /// The raw entry path (lossy UTF-8), before npm's first component is stripped.
    pub path: String,
    /// Link target for links, the other roots for `multiple-roots`, etc.
    pub detail: Option<String>,
}

/// Everything [`analyze`] learnt. Paths are relative to the package root (npm's first path
/// component stripped), except in `path_problems`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentReport {
    /// The whole archive was read within the limits. When false, every list below is a lower
    /// bound and a clean result proves nothing.
    pub complete: bool,
    /// Why the analysis stopped (broken gzip or tar, a limit) or skipped a part (an extglob in
    /// `files`). Each should become an unknown for the rules that needed it, never a pass.
    pub errors: Vec<String>,
    pub compressed_bytes: u64,
    /// Uncompressed tar stream bytes read.
    pub tar_bytes: u64,
    /// Regular files.
    pub files: u64,
    /// Sum of regular file sizes (npm's `unpackedSize`).
    pub unpacked_bytes: u64,
    pub package_json: Option<Value>,
    pub package_json_error: Option<String>,
    pub install_scripts: Vec<InstallScript>,
    /// npm will run `node-gyp rebuild` at install: `binding.gyp` at the root, no
    /// `install`/`preinstall` script and `gypfile` not `false`.
    pub binding_gyp: bool,
    /// Both manifests were available and compared; `manifest_confusion` is meaningful.
    pub manifest_compared: bool,
    pub manifest_confusion: Vec<ManifestMismatch>,
    pub secrets: Vec<Secret>,
    pub native_binaries: Vec<NativeBinary>,
    pub obfuscation: Vec<Obfuscation>,
    pub bin_shadowing: Vec<BinShadow>,
    /// package.json has a `files` list that could be evaluated.
    pub files_whitelist_checked: bool,
    /// Files npm would not have packed under that `files` list: a sign of a hand-made tarball.
    pub outside_files_whitelist: Vec<String>,
    /// Files npm never packs whatever the configuration (`.npmrc`, root lockfiles other than
    /// npm-shrinkwrap.json, root `.git`, root `node_modules` outside bundled dependencies).
    pub never_packed: Vec<String>,
    pub has_shrinkwrap: bool,
    pub has_package_lock: bool,
    pub path_problems: Vec<PathProblem>,
    /// Files larger than `max_file_scan`: only their beginning was scanned.
    pub scan_truncated: Vec<String>,
}

/// Analyse a published tarball in memory. `version_doc` is the registry's version document
/// (`packument.versions[v]`); pass `Value::Null` when unavailable and manifest confusion is then
/// not compared. Never panics and never fails: problems are reported inside the result.
pub fn analyze(tgz: &[u8], version_doc: &Value, limits: &Limits) -> ContentReport {
    // Defence in depth: the parsers below are meant not to panic on any input, but a panic here
    // would take down a whole multi-package scan, so it is turned into an incomplete report.
    match std::panic::catch_unwind(|| analyze_inner(tgz, version_doc, limits)) {
        Ok(report) => report,
        Err(_) => ContentReport {
            complete: false,
            compressed_bytes: tgz.len() as u64,
            errors: vec!["internal error: tarball analysis panicked".to_string()],
            ..ContentReport::default()
        },
    }
}

/// State gathered while walking entries, consumed by the manifest-level passes at the end.
#[derive(Default)]
struct Walk {
    package_json: Option<Vec<u8>>,
    package_json_truncated: bool,
    /// Regular files, relative to the package root.
    files: Vec<String>,
    seen: HashSet<String>,
    roots: BTreeSet<String>,
    /// Oversized header records skipped.
    oversized: usize,
}

fn analyze_inner(tgz: &[u8], version_doc: &Value, limits: &Limits) -> ContentReport {
    let mut report = ContentReport {
        compressed_bytes: tgz.len() as u64,
        ..ContentReport::default()
    };
    if report.compressed_bytes > limits.max_compressed {
        report.errors.push(format!(
            "compressed size {} bytes exceeds the limit of {} bytes; not decompressed",
            report.compressed_bytes, limits.max_compressed
        ));
        return report;
    }

    let mut walk = Walk::default();
    let outcome = archive::walk(tgz, limits, |entry| visit(entry, &mut walk, &mut report));
    report.tar_bytes = outcome.tar_bytes;
    report.complete = outcome.error.is_none();
    if let Some(error) = outcome.error {
        report.errors.push(error);
    }
    for record in &outcome.orphan_oversized {
        walk.oversized += 1;
        report.path_problems.push(PathProblem {
            kind: PathProblemKind::OversizedHeader,
            path: String::new(),
            detail: Some(format!("{} (no entry followed it)", record.describe())),
        });
    }
    if walk.oversized > 0 {
        // npm reads records up to 1 MiB and would apply a name or size we never saw.
        report.complete = false;
        report.errors.push(format!(
            "{} tar header record(s) over {} bytes skipped unread; the names they carried are \
             unknown",
            walk.oversized,
            archive::MAX_HEADER_RECORD
        ));
    }
    if outcome.trailing_nonzero > 0 {
        report.path_problems.push(PathProblem {
            kind: PathProblemKind::TrailingData,
            path: String::new(),
            detail: Some(format!(
                "{} non-zero bytes after the end-of-archive marker",
                outcome.trailing_nonzero
            )),
        });
    }
    if walk.roots.len() > 1 {
        report.path_problems.push(PathProblem {
            kind: PathProblemKind::MultipleRoots,
            path: String::new(),
            detail: Some(walk.roots.iter().cloned().collect::<Vec<_>>().join(", ")),
        });
    }

    finish(&mut report, walk, version_doc);
    report
}

fn visit(entry: archive::Entry<'_>, walk: &mut Walk, report: &mut ContentReport) {
    let raw_name = String::from_utf8_lossy(entry.raw_path).into_owned();
    let mut problem = |kind, detail: Option<String>| {
        report.path_problems.push(PathProblem {
            kind,
            path: raw_name.clone(),
            detail,
        })
    };
    for record in entry.oversized {
        problem(PathProblemKind::OversizedHeader, Some(record.describe()));
    }
    walk.oversized += entry.oversized.len();
    if std::str::from_utf8(entry.raw_path).is_err() {
        problem(PathProblemKind::NonUtf8, None);
    }
    let split = archive::split_path(&raw_name);
    if split.absolute {
        problem(PathProblemKind::Absolute, None);
    }
    if split.parent_dir {
        problem(PathProblemKind::ParentDir, None);
    }
    if let Some(root) = &split.root {
        walk.roots.insert(root.clone());
    }
    let top_level = split.root.is_none() && !split.rel.is_empty();
    let rel = split.rel;

    match entry.kind {
        archive::Kind::Directory => return,
        archive::Kind::Symlink | archive::Kind::Hardlink => {
            let target = entry
                .link
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .unwrap_or_default();
            let escapes = archive::link_escapes(&rel, &target, entry.kind);
            let kind = if entry.kind == archive::Kind::Symlink {
                PathProblemKind::Symlink
            } else {
                PathProblemKind::Hardlink
            };
            let detail = if escapes {
                format!("-> {target} (outside the package)")
            } else {
                format!("-> {target}")
            };
            problem(kind, Some(detail));
            if !walk.seen.insert(rel.clone()) {
                problem(PathProblemKind::Duplicate, None);
            }
            return;
        }
        archive::Kind::Special(what) => {
            problem(PathProblemKind::Special, Some(what.to_string()));
            return;
        }
        archive::Kind::File => {}
    }

    // Top-level files live in a namespace of their own: they never land next to the package's.
    if !top_level && !walk.seen.insert(rel.clone()) {
        problem(PathProblemKind::Duplicate, None);
    }
    report.files += 1;
    report.unpacked_bytes = report.unpacked_bytes.saturating_add(entry.size);
    if entry.truncated {
        report.scan_truncated.push(rel.clone());
    }

    scan_contents(&rel, entry.data, report);
    if top_level {
        // Scanned for what it contains, but npm never installs it.
        report.path_problems.push(PathProblem {
            kind: PathProblemKind::TopLevelFile,
            path: raw_name,
            detail: None,
        });
        return;
    }

    match rel.as_str() {
        // Later duplicates win, as they do when node-tar extracts over the earlier copy.
        "package.json" => {
            walk.package_json = Some(entry.data.to_vec());
            walk.package_json_truncated = entry.truncated;
        }
        "npm-shrinkwrap.json" => report.has_shrinkwrap = true,
        "package-lock.json" => report.has_package_lock = true,
        _ => {}
    }

    walk.files.push(rel);
}

fn scan_contents(rel: &str, data: &[u8], report: &mut ContentReport) {
    secrets::scan_file(rel, data, &mut report.secrets);
    if let Some(native) = scan::native_kind(rel, data) {
        report.native_binaries.push(native);
    }
    scan::obfuscation(rel, data, &mut report.obfuscation);
}

fn finish(report: &mut ContentReport, walk: Walk, version_doc: &Value) {
    let Walk {
        package_json,
        package_json_truncated,
        files,
        ..
    } = walk;
    let pkg = match package_json {
        None => {
            report.package_json_error = Some(if report.complete {
                "package/package.json is missing".to_string()
            } else {
                "package/package.json was not reached before the analysis stopped".to_string()
            });
            None
        }
        Some(_) if package_json_truncated => {
            report.package_json_error =
                Some("package.json is larger than max_file_scan; not parsed".to_string());
            None
        }
        Some(bytes) => match manifest::parse_package_json(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                report.package_json_error = Some(e);
                None
            }
        },
    };

    let has_binding_gyp = files.iter().any(|f| f == "binding.gyp");
    let has_server_js = files.iter().any(|f| f == "server.js");
    if let Some(pkg) = &pkg {
        report.install_scripts = manifest::install_scripts(pkg);
        report.binding_gyp = manifest::implicit_gyp(pkg, has_binding_gyp);
        let ctx = manifest::NormalizeCtx {
            has_binding_gyp,
            has_server_js,
            has_shrinkwrap: report.has_shrinkwrap,
        };
        if version_doc.is_object() {
            report.manifest_compared = true;
            report.manifest_confusion = manifest::compare(version_doc, pkg, &ctx);
        }
        match packlist::outside_whitelist(pkg, &files) {
            packlist::Outcome::NoFilesList => {}
            packlist::Outcome::Checked(outside) => {
                report.files_whitelist_checked = true;
                report.outside_files_whitelist = outside;
            }
            packlist::Outcome::Unsupported(why) => report.errors.push(why),
        }
        report.never_packed = packlist::never_packed(pkg, &files);
    }
    // What runs is the tarball's package.json; the registry's is the best guess without it.
    let bin_source = pkg.as_ref().unwrap_or(version_doc);
    report.bin_shadowing = manifest::bin_shadowing(bin_source);
    if pkg.is_none() {
        report.never_packed = packlist::never_packed(&Value::Null, &files);
    }
    report.package_json = pkg;
}

/// One file at the package root (`package/<name>` after pacote's strip), read within `limits`.
/// `None` when the archive has no such file or it was longer than `max_file_scan`. Later
/// duplicates win, as they do when node-tar extracts over the earlier copy.
pub fn root_file(tgz: &[u8], name: &str, limits: &Limits) -> Option<Vec<u8>> {
    let mut found = None;
    archive::walk(tgz, limits, |entry| {
        if entry.kind != archive::Kind::File {
            return;
        }
        let raw = String::from_utf8_lossy(entry.raw_path);
        let split = archive::split_path(&raw);
        if split.root.is_some() && split.rel == name {
            found = (!entry.truncated).then(|| entry.data.to_vec());
        }
    });
    found
}
