//! Python distribution content (issue G): wheels (zip) and sdists (`.tar.gz`), read in memory
//! with the same caps as npm tarballs ([`Limits`]). Never extracted, never executed.
//!
//! [`analyze_dist`] never fails and never panics: a broken or hostile archive is described in
//! the report (`errors`, `complete: false`) so the caller turns it into a finding or an unknown.
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::sync::LazyLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use super::text::{basename, entropy, extension, line_at, redact};
use super::{archive, scan, secrets};
use super::{Confidence, Limits, NativeBinary, Obfuscation, Secret, SHADOWED_COMMANDS};

/// What kind of distribution the filename says this is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistKind {
    Wheel,
    Sdist,
    /// Neither `.whl` nor `.tar.gz` / `.zip`: not analysed.
    #[default]
    Unknown,
}

/// The parts of a distribution filename (PEP 427 wheels, PEP 625 sdists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistFilename {
    /// As written in the filename.
    pub name: String,
    /// PEP 503-normalised name (`-`, `_`, `.` runs to `-`, lowercase).
    pub normalized_name: String,
    pub version: String,
    /// Wheels only.
    pub build: Option<String>,
    /// Wheels only: `python-abi-platform` tag triples as written.
    pub tags: Vec<String>,
}

/// Core metadata (`*.dist-info/METADATA` in a wheel, `PKG-INFO` in an sdist).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreMetadata {
    /// The file it was read from, inside the archive.
    pub file: String,
    pub metadata_version: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub summary: Option<String>,
    /// `Project-URL` values (`label, url`) and `Home-page`.
    pub project_urls: Vec<String>,
}

/// A `.pth` line that Python's `site` module executes at every interpreter start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PthExec {
    pub file: String,
    pub line: u64,
    /// The line, cut to 200 characters and with any credential redacted.
    pub code: String,
}

/// Build-time code (setup.py, a local build backend) that does something beyond building.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildScriptSignal {
    pub file: String,
    /// `fetch` (urllib/requests/http.client/socket/curl), `decode` (base64/zlib/marshal/codecs),
    /// `exec` (exec/eval/compile/`__import__`), `subprocess` (subprocess/os.system/os.popen).
    pub signals: Vec<String>,
    /// First line number of each signal, in `signals` order.
    pub lines: Vec<u64>,
}

/// An entry point in `entry_points.txt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPoint {
    /// `console_scripts` or `gui_scripts`.
    pub group: String,
    pub name: String,
    pub target: String,
    /// The name is a common command (`python`, `pip`, `git`, `ls`, ...): installing the package
    /// puts a script of that name on PATH.
    pub shadows: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PyPathProblemKind {
    /// A `..` component.
    ParentDir,
    /// Starts with `/`, `\` or a drive letter.
    Absolute,
    /// A zip entry name with `\` (Windows separators are not allowed in zip names).
    Backslash,
    Duplicate,
    Symlink,
    Hardlink,
    NonUtf8,
    /// Device, FIFO or unknown tar entry type.
    Special,
    /// A zip entry whose data differs in size from what the central directory declares.
    SizeMismatch,
    /// Encrypted zip entry: not readable, not scanned.
    Encrypted,
    /// A zip compression method this reader does not decode: not scanned.
    UnsupportedCompression,
    /// An sdist whose entries do not share one top directory.
    MultipleRoots,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PyPathProblem {
    pub kind: PyPathProblemKind,
    /// The raw entry path (lossy UTF-8).
    pub path: String,
    pub detail: Option<String>,
}

/// Everything [`analyze_dist`] learnt. Paths are as in the archive (sdists keep their top
/// directory).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PythonContentReport {
    /// The whole archive was read within the limits. When false, every list is a lower bound
    /// and a clean result proves nothing.
    pub complete: bool,
    /// Why the analysis stopped or skipped something (broken archive, a limit).
    pub errors: Vec<String>,
    pub kind: DistKind,
    /// The filename parsed; `None` with `filename_error` when it is not a valid wheel or sdist
    /// name.
    pub filename: Option<DistFilename>,
    pub filename_error: Option<String>,
    pub compressed_bytes: u64,
    /// Decompressed bytes read (for sdists the tar stream, for wheels the entries' data).
    pub uncompressed_bytes: u64,
    /// Regular files.
    pub files: u64,
    /// Sum of regular file sizes as the archive declares them.
    pub unpacked_bytes: u64,
    pub metadata: Option<CoreMetadata>,
    pub metadata_error: Option<String>,
    pub pth_exec: Vec<PthExec>,
    /// `.pth` files, executing or not (a wheel installs them into site-packages).
    pub pth_files: Vec<String>,
    pub build_scripts: Vec<BuildScriptSignal>,
    pub entry_points: Vec<EntryPoint>,
    pub secrets: Vec<Secret>,
    pub native_binaries: Vec<NativeBinary>,
    pub obfuscation: Vec<Obfuscation>,
    pub path_problems: Vec<PyPathProblem>,
    /// Files larger than `max_file_scan`: only their beginning was scanned.
    pub scan_truncated: Vec<String>,
}

impl PythonContentReport {
    /// Entry points whose name shadows a common command.
    pub fn shadowing_scripts(&self) -> impl Iterator<Item = &EntryPoint> {
        self.entry_points.iter().filter(|e| e.shadows)
    }
}

/// Python tooling names a console script must not take, on top of [`SHADOWED_COMMANDS`].
pub const PYTHON_SHADOWED_COMMANDS: &[&str] = &[
    "python2",
    "py",
    "pipx",
    "poetry",
    "pdm",
    "hatch",
    "conda",
    "mamba",
    "twine",
    "virtualenv",
    "pyenv",
    "tox",
    "nox",
];

/// A name whose command this script would shadow. The project's own name is exempt (`pip`
/// ships a `pip` script, `uv` a `uv` binary).
fn shadows(script: &str, project: Option<&str>) -> bool {
    let lower = script.to_ascii_lowercase();
    let stem = [".exe", ".cmd", ".bat", ".ps1", ".py"]
        .iter()
        .find_map(|ext| lower.strip_suffix(ext))
        .unwrap_or(&lower);
    if project.is_some_and(|p| normalize_name(stem) == p) {
        return false;
    }
    SHADOWED_COMMANDS.contains(&stem) || PYTHON_SHADOWED_COMMANDS.contains(&stem)
}

/// PEP 503 normalisation: runs of `-`, `_`, `.` become one `-`; lowercase.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    if sep {
        out.push('-');
    }
    out
}

static VERSION_RE: LazyLock<regex::Regex> = LazyLock::new(|| {
    // PEP 440's own reference pattern (Appendix B), case-insensitive.
    regex::Regex::new(
        r"(?ix)^\s*v?
        (?:(?P<epoch>[0-9]+)!)?
        (?P<release>[0-9]+(?:\.[0-9]+)*)
        (?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
        (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
        (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
        (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
        \s*$",
    )
    .expect("static regex")
});

/// A PEP 440 version in a canonical form that compares equal exactly when `packaging.Version`
/// does (trailing `.0`s dropped, spellings unified, leading zeros gone); `None` if invalid.
pub fn normalize_version(v: &str) -> Option<String> {
    let c = VERSION_RE.captures(v)?;
    let num = |s: &str| -> String {
        let t = s.trim_start_matches('0');
        if t.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        }
    };
    let mut out = String::new();
    if let Some(e) = c.name("epoch") {
        let e = num(e.as_str());
        if e != "0" {
            out.push_str(&e);
            out.push('!');
        }
    }
    let mut release: Vec<String> = c["release"].split('.').map(num).collect();
    while release.len() > 1 && release.last().is_some_and(|p| p == "0") {
        release.pop();
    }
    out.push_str(&release.join("."));
    if let Some(l) = c.name("pre_l") {
        let l = match l.as_str().to_ascii_lowercase().as_str() {
            "alpha" | "a" => "a",
            "beta" | "b" => "b",
            _ => "rc",
        };
        out.push_str(l);
        out.push_str(&num(c.name("pre_n").map_or("0", |m| m.as_str())));
    }
    if c.name("post").is_some() {
        let n = c
            .name("post_n1")
            .or_else(|| c.name("post_n2"))
            .map_or("0", |m| m.as_str());
        out.push_str(".post");
        out.push_str(&num(n));
    }
    if c.name("dev").is_some() {
        out.push_str(".dev");
        out.push_str(&num(c.name("dev_n").map_or("0", |m| m.as_str())));
    }
    if let Some(l) = c.name("local") {
        let parts: Vec<String> = l
            .as_str()
            .split(['-', '_', '.'])
            .map(|p| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    num(p)
                } else {
                    p.to_ascii_lowercase()
                }
            })
            .collect();
        out.push('+');
        out.push_str(&parts.join("."));
    }
    Some(out)
}

/// The distribution kind a filename announces.
pub fn dist_kind(filename: &str) -> DistKind {
    if filename.ends_with(".whl") {
        DistKind::Wheel
    } else if filename.ends_with(".tar.gz") || filename.ends_with(".zip") {
        DistKind::Sdist
    } else {
        DistKind::Unknown
    }
}

/// Parse a wheel or sdist filename as `packaging.utils.parse_wheel_filename` /
/// `parse_sdist_filename` do (the checks pypi-attestations applies to a subject name).
pub fn parse_dist_filename(filename: &str) -> Result<DistFilename, String> {
    let shown: String = filename.chars().take(200).collect();
    if let Some(stem) = filename.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() != 5 && parts.len() != 6 {
            return Err(format!(
                "invalid wheel filename {shown:?}: wrong number of parts"
            ));
        }
        let name = parts[0];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            || name.contains("__")
        {
            return Err(format!(
                "invalid wheel filename {shown:?}: bad project name"
            ));
        }
        let version = parts[1];
        if normalize_version(version).is_none() {
            return Err(format!(
                "invalid wheel filename {shown:?}: invalid version {version:?}"
            ));
        }
        let build = if parts.len() == 6 {
            let b = parts[2];
            if !b.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!(
                    "invalid wheel filename {shown:?}: build number must start with a digit"
                ));
            }
            Some(b.to_string())
        } else {
            None
        };
        let n = parts.len();
        let (py, abi, plat) = (parts[n - 3], parts[n - 2], parts[n - 1]);
        if [py, abi, plat].iter().any(|t| t.is_empty()) {
            return Err(format!("invalid wheel filename {shown:?}: empty tag"));
        }
        // Compressed tag sets (`py2.py3-none-any`) expand to every combination; cap the
        // product so a hostile name cannot ask for millions.
        let (pys, abis, plats): (Vec<&str>, Vec<&str>, Vec<&str>) = (
            py.split('.').collect(),
            abi.split('.').collect(),
            plat.split('.').collect(),
        );
        if pys
            .len()
            .saturating_mul(abis.len())
            .saturating_mul(plats.len())
            > 4096
        {
            return Err(format!("invalid wheel filename {shown:?}: too many tags"));
        }
        let mut tags = BTreeSet::new();
        for p in &pys {
            for a in &abis {
                for l in &plats {
                    tags.insert(format!("{p}-{a}-{l}").to_ascii_lowercase());
                }
            }
        }
        return Ok(DistFilename {
            name: name.to_string(),
            normalized_name: normalize_name(name),
            version: version.to_string(),
            build,
            tags: tags.into_iter().collect(),
        });
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))
        .ok_or_else(|| {
            format!("{shown:?} is not a wheel (.whl) or sdist (.tar.gz, .zip) filename")
        })?;
    let Some((name, version)) = stem.rsplit_once('-') else {
        return Err(format!("invalid sdist filename {shown:?}: no version"));
    };
    if normalize_version(version).is_none() {
        return Err(format!(
            "invalid sdist filename {shown:?}: invalid version {version:?}"
        ));
    }
    if name.is_empty() {
        return Err(format!("invalid sdist filename {shown:?}: no project name"));
    }
    Ok(DistFilename {
        name: name.to_string(),
        normalized_name: normalize_name(name),
        version: version.to_string(),
        build: None,
        tags: Vec::new(),
    })
}

/// Analyse a wheel or sdist in memory. `filename` decides the format (`.whl` is a zip,
/// `.tar.gz` a gzipped tar, `.zip` a legacy sdist). Never panics and never fails.
pub fn analyze_dist(filename: &str, bytes: &[u8], limits: &Limits) -> PythonContentReport {
    // Defence in depth, as for npm tarballs: one hostile file must not take down a whole scan.
    match std::panic::catch_unwind(|| analyze_inner(filename, bytes, limits)) {
        Ok(report) => report,
        Err(_) => PythonContentReport {
            complete: false,
            compressed_bytes: bytes.len() as u64,
            kind: dist_kind(filename),
            errors: vec!["internal error: distribution analysis panicked".to_string()],
            ..PythonContentReport::default()
        },
    }
}

fn analyze_inner(filename: &str, bytes: &[u8], limits: &Limits) -> PythonContentReport {
    let kind = dist_kind(filename);
    let mut report = PythonContentReport {
        kind,
        compressed_bytes: bytes.len() as u64,
        ..PythonContentReport::default()
    };
    match parse_dist_filename(filename) {
        Ok(f) => report.filename = Some(f),
        Err(e) => report.filename_error = Some(e),
    }
    if kind == DistKind::Unknown {
        report
            .errors
            .push("not a wheel or sdist (.whl, .tar.gz, .zip); content not analysed".into());
        return report;
    }
    if report.compressed_bytes > limits.max_compressed {
        report.errors.push(format!(
            "compressed size {} bytes exceeds the limit of {} bytes; not decompressed",
            report.compressed_bytes, limits.max_compressed
        ));
        return report;
    }
    let mut walk = PyWalk::default();
    if filename.ends_with(".tar.gz") {
        walk_sdist_tar(bytes, limits, &mut walk, &mut report);
    } else {
        walk_zip(bytes, limits, &mut walk, &mut report);
    }
    finish(&mut report, walk);
    report
}

/// What the walk keeps for the passes at the end: a few small files, and per-file signals
/// (never whole contents) for the build-script check.
#[derive(Default)]
struct PyWalk {
    /// Regular files, by raw path.
    seen: HashSet<String>,
    roots: BTreeSet<String>,
    /// Files whose content is kept: core metadata, entry points, pyproject.toml.
    kept: BTreeMap<String, Vec<u8>>,
    /// Build-time signals of every `.py` file, by path; which of them count is decided once
    /// pyproject.toml has been read.
    py_signals: BTreeMap<String, Vec<(String, u64)>>,
}

/// Files worth keeping whole (they are small and their meaning depends on where they are).
fn keep(path: &str) -> bool {
    let base = basename(path);
    matches!(
        base,
        "METADATA" | "PKG-INFO" | "entry_points.txt" | "pyproject.toml" | "WHEEL"
    )
}

const MAX_KEPT: usize = 1024 * 1024;

/// Everything done for one regular file's scanned bytes, whatever the archive format.
fn visit_file(path: &str, data: &[u8], walk: &mut PyWalk, report: &mut PythonContentReport) {
    report.files += 1;
    secrets::scan_file(path, data, &mut report.secrets);
    pypi_secrets(path, data, &mut report.secrets);
    if let Some(mut native) = scan::native_kind(path, data) {
        native.node_addon = false;
        report.native_binaries.push(native);
    } else if matches!(extension(path).as_str(), "so" | "pyd" | "dylib") {
        report.native_binaries.push(NativeBinary {
            file: path.to_string(),
            kind: "python-extension".to_string(),
            node_addon: false,
        });
    }
    scan::obfuscation(path, data, &mut report.obfuscation);
    if extension(path) == "py" {
        python_obfuscation(path, data, &mut report.obfuscation);
        let signals = build_signals(data);
        if !signals.is_empty() {
            walk.py_signals.insert(path.to_string(), signals);
        }
    }
    if extension(path) == "pth" {
        report.pth_files.push(path.to_string());
        pth_exec(path, data, &mut report.pth_exec);
    }
    if keep(path) && data.len() <= MAX_KEPT {
        walk.kept.insert(path.to_string(), data.to_vec());
    }
}

fn path_problem(
    report: &mut PythonContentReport,
    kind: PyPathProblemKind,
    path: &str,
    detail: Option<String>,
) {
    report.path_problems.push(PyPathProblem {
        kind,
        path: path.to_string(),
        detail,
    });
}

/// Checks shared by zip and tar entry names.
fn check_name(raw: &[u8], report: &mut PythonContentReport) -> String {
    let name = String::from_utf8_lossy(raw).into_owned();
    if std::str::from_utf8(raw).is_err() {
        path_problem(report, PyPathProblemKind::NonUtf8, &name, None);
    }
    let split = archive::split_path(&name);
    if split.absolute {
        path_problem(report, PyPathProblemKind::Absolute, &name, None);
    }
    if split.parent_dir {
        path_problem(report, PyPathProblemKind::ParentDir, &name, None);
    }
    name
}

fn walk_sdist_tar(
    bytes: &[u8],
    limits: &Limits,
    walk: &mut PyWalk,
    report: &mut PythonContentReport,
) {
    let mut oversized = 0usize;
    let outcome = archive::walk(bytes, limits, |entry| {
        oversized += entry.oversized.len();
        let name = check_name(entry.raw_path, report);
        let split = archive::split_path(&name);
        if let Some(root) = &split.root {
            walk.roots.insert(root.clone());
        }
        match entry.kind {
            archive::Kind::Directory => {}
            archive::Kind::Symlink | archive::Kind::Hardlink => {
                let target = entry
                    .link
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .unwrap_or_default();
                let escapes = archive::link_escapes(&split.rel, &target, entry.kind);
                let kind = if entry.kind == archive::Kind::Symlink {
                    PyPathProblemKind::Symlink
                } else {
                    PyPathProblemKind::Hardlink
                };
                let detail = if escapes {
                    format!("-> {target} (outside the distribution)")
                } else {
                    format!("-> {target}")
                };
                path_problem(report, kind, &name, Some(detail));
            }
            archive::Kind::Special(what) => {
                path_problem(
                    report,
                    PyPathProblemKind::Special,
                    &name,
                    Some(what.to_string()),
                );
            }
            archive::Kind::File => {
                let path = split_join(&split);
                if !walk.seen.insert(path.clone()) {
                    path_problem(report, PyPathProblemKind::Duplicate, &name, None);
                }
                report.unpacked_bytes = report.unpacked_bytes.saturating_add(entry.size);
                if entry.truncated {
                    report.scan_truncated.push(path.clone());
                }
                visit_file(&path, entry.data, walk, report);
            }
        }
    });
    report.uncompressed_bytes = outcome.tar_bytes;
    report.complete = outcome.error.is_none();
    if let Some(e) = outcome.error {
        report.errors.push(e);
    }
    let oversized = oversized + outcome.orphan_oversized.len();
    if oversized > 0 {
        report.complete = false;
        report.errors.push(format!(
            "{oversized} tar header record(s) over {} bytes skipped unread; the names they \
             carried are unknown",
            archive::MAX_HEADER_RECORD
        ));
    }
    if outcome.trailing_nonzero > 0 {
        report.errors.push(format!(
            "{} non-zero bytes after the tar end-of-archive marker",
            outcome.trailing_nonzero
        ));
    }
    if walk.roots.len() > 1 {
        path_problem(
            report,
            PyPathProblemKind::MultipleRoots,
            "",
            Some(
                walk.roots
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        );
    }
}

/// The normalised in-archive path (root kept, `.`/empty components and separators unified).
fn split_join(split: &archive::SplitPath) -> String {
    match &split.root {
        Some(root) if split.rel.is_empty() => root.clone(),
        Some(root) => format!("{root}/{}", split.rel),
        None => split.rel.clone(),
    }
}

fn walk_zip(bytes: &[u8], limits: &Limits, walk: &mut PyWalk, report: &mut PythonContentReport) {
    let mut zip = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            report
                .errors
                .push(format!("not a readable zip archive: {e}"));
            return;
        }
    };
    let mut complete = true;
    let budget = limits.uncompressed_budget(bytes.len() as u64);
    let mut remaining = budget;
    let count = zip.len();
    if count > limits.max_files {
        complete = false;
        report.errors.push(format!(
            "{count} zip entries, more than {} (max_files); only the first {} read",
            limits.max_files, limits.max_files
        ));
    }
    // The zip crate keys entries by name, so a repeated name hides the earlier copies from it;
    // the central directory read directly still lists them.
    if let Some(names) = central_directory_names(bytes, limits.max_files) {
        let mut seen_names = HashSet::new();
        for raw in names {
            if !seen_names.insert(raw.clone()) {
                let shown = String::from_utf8_lossy(&raw).into_owned();
                path_problem(
                    report,
                    PyPathProblemKind::Duplicate,
                    &shown,
                    Some("an earlier entry has the same name; only the last copy was read".into()),
                );
            }
        }
    }
    // Declared sizes first: a bomb announces itself here before a byte is inflated.
    let mut declared = 0u64;
    for i in 0..count.min(limits.max_files) {
        if let Ok(f) = zip.by_index_raw(i) {
            declared = declared.saturating_add(f.size());
        }
    }
    report.unpacked_bytes = declared;
    if declared > budget {
        report.errors.push(format!(
            "zip entries declare {declared} bytes uncompressed, over the {budget}-byte budget \
             (the lower of max_uncompressed {} and max_ratio {} × {} compressed bytes, at least \
             {})",
            limits.max_uncompressed,
            limits.max_ratio,
            bytes.len(),
            super::RATIO_FLOOR
        ));
    }
    let mut data = Vec::new();
    for i in 0..count.min(limits.max_files) {
        let (name, size, is_dir, symlink, encrypted, method) = match zip.by_index_raw(i) {
            Ok(f) => (
                f.name_raw().to_vec(),
                f.size(),
                f.is_dir(),
                f.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000),
                f.encrypted(),
                f.compression(),
            ),
            Err(e) => {
                complete = false;
                report.errors.push(format!("zip entry {}: {e}", i + 1));
                continue;
            }
        };
        let shown = check_name(&name, report);
        if name.contains(&b'\\') {
            path_problem(report, PyPathProblemKind::Backslash, &shown, None);
        }
        let path = split_join(&archive::split_path(&shown));
        if is_dir {
            continue;
        }
        walk.seen.insert(path.clone());
        if symlink {
            path_problem(report, PyPathProblemKind::Symlink, &shown, None);
            continue;
        }
        if encrypted {
            complete = false;
            path_problem(report, PyPathProblemKind::Encrypted, &shown, None);
            continue;
        }
        if !matches!(
            method,
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ) {
            complete = false;
            path_problem(
                report,
                PyPathProblemKind::UnsupportedCompression,
                &shown,
                Some(format!("{method:?}")),
            );
            continue;
        }
        if remaining == 0 {
            complete = false;
            report.errors.push(format!(
                "uncompressed size exceeds {budget} bytes; analysis stopped at entry {}",
                i + 1
            ));
            break;
        }
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                complete = false;
                report.errors.push(format!("zip entry {shown}: {e}"));
                continue;
            }
        };
        data.clear();
        // One byte past the budget tells "exactly at it" from "over it".
        let scan_cap = limits.max_file_scan.min(remaining);
        let read = (&mut file).take(scan_cap).read_to_end(&mut data);
        let mut actual = data.len() as u64;
        let mut failed = read.err().map(|e| e.to_string());
        if failed.is_none() {
            let rest = remaining - actual;
            match std::io::copy(
                &mut (&mut file).take(rest.saturating_add(1)),
                &mut std::io::sink(),
            ) {
                Ok(n) => actual += n,
                Err(e) => failed = Some(e.to_string()),
            }
        }
        drop(file);
        report.uncompressed_bytes = report.uncompressed_bytes.saturating_add(actual);
        let over = actual > remaining;
        remaining = remaining.saturating_sub(actual);
        if actual > limits.max_file_scan {
            report.scan_truncated.push(path.clone());
        }
        visit_file(&path, &data, walk, report);
        if let Some(e) = failed {
            complete = false;
            report.errors.push(format!("zip entry {shown}: {e}"));
        } else if actual != size && !over {
            path_problem(
                report,
                PyPathProblemKind::SizeMismatch,
                &shown,
                Some(format!("declares {size} bytes, holds {actual}")),
            );
        }
        if over {
            complete = false;
            report.errors.push(format!(
                "uncompressed size exceeds {budget} bytes (the lower of max_uncompressed {} and \
                 max_ratio {} × {} compressed bytes, at least {}); analysis stopped",
                limits.max_uncompressed,
                limits.max_ratio,
                bytes.len(),
                super::RATIO_FLOOR
            ));
            break;
        }
    }
    report.complete = complete;
}

/// The raw entry names of the central directory the end record points at, in order (at most
/// `max` of them); `None` for zip64 or anything that does not parse, where the zip crate's own
/// reading is all there is.
fn central_directory_names(bytes: &[u8], max: usize) -> Option<Vec<Vec<u8>>> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let tail_start = bytes.len().saturating_sub(22 + 65_535);
    let at = tail_start + bytes[tail_start..].windows(4).rposition(|w| w == EOCD)?;
    let u16_at = |i: usize| -> Option<usize> {
        Some(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?) as usize)
    };
    let u32_at = |i: usize| -> Option<usize> {
        Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?) as usize)
    };
    let total = u16_at(at + 10)?;
    let offset = u32_at(at + 16)?;
    if total == 0xFFFF || offset == 0xFFFF_FFFF {
        return None;
    }
    let mut names = Vec::new();
    let mut pos = offset;
    for _ in 0..total.min(max) {
        if bytes.get(pos..pos + 4)? != b"PK\x01\x02" {
            return None;
        }
        let name_len = u16_at(pos + 28)?;
        let extra_len = u16_at(pos + 30)?;
        let comment_len = u16_at(pos + 32)?;
        names.push(bytes.get(pos + 46..pos + 46 + name_len)?.to_vec());
        pos += 46 + name_len + extra_len + comment_len;
    }
    Some(names)
}

static PYPI_TOKEN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?-u)\b{}", crate::secrets::PYPI_TOKEN)).expect("static regex")
});

/// PyPI API tokens anywhere, and literal passwords in `.pypirc`.
fn pypi_secrets(path: &str, data: &[u8], out: &mut Vec<Secret>) {
    let in_tests = {
        let lower = path.to_ascii_lowercase();
        lower.split('/').any(|p| {
            matches!(
                p,
                "test" | "tests" | "testing" | "fixtures" | "examples" | "docs" | "testdata"
            )
        })
    };
    let conf = |c: Confidence| {
        if !in_tests {
            c
        } else if c == Confidence::High {
            Confidence::Medium
        } else {
            Confidence::Low
        }
    };
    let mut token_lines = HashSet::new();
    let mut pos = (0usize, 1u64);
    for m in PYPI_TOKEN_RE.find_iter(data) {
        let line = line_at(data, pos, m.start());
        pos = (m.start(), line);
        let text = String::from_utf8_lossy(m.as_bytes());
        // The macaroon body is base64 of a binary structure: a typed placeholder has none of
        // that randomness.
        if entropy(&m.as_bytes()[5..]) < 4.0 {
            continue;
        }
        token_lines.insert(line);
        out.push(Secret {
            file: path.to_string(),
            kind: "pypi-token".to_string(),
            evidence: format!("{path}:{line}: pypi-token {}", redact(&text)),
            line,
            confidence: conf(Confidence::High),
        });
    }
    if basename(path) != ".pypirc" || text_is_binary(data) {
        return;
    }
    let text = String::from_utf8_lossy(data);
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let t = line.trim();
        if t.starts_with('#') || t.starts_with(';') || token_lines.contains(&n) {
            continue;
        }
        let Some((key, value)) = t.split_once(['=', ':']) else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("password") {
            continue;
        }
        let v = value.trim().trim_matches(['"', '\'']);
        let lower = v.to_ascii_lowercase();
        if v.is_empty()
            || v.contains("${")
            || v.starts_with('<')
            || [
                "xxx",
                "example",
                "your",
                "placeholder",
                "changeme",
                "secret",
                "token",
                "password",
            ]
            .iter()
            .any(|w| lower.contains(w))
        {
            continue;
        }
        out.push(Secret {
            file: path.to_string(),
            kind: "pypirc-password".to_string(),
            evidence: format!("{path}:{n}: pypirc-password {}", redact(v)),
            line: n,
            confidence: conf(Confidence::High),
        });
    }
}

fn text_is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8192)].contains(&0)
}

/// `site` executes a `.pth` line that starts with `import ` or `import\t` (Lib/site.py,
/// `addpackage`); every other line is a path.
fn pth_exec(path: &str, data: &[u8], out: &mut Vec<PthExec>) {
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"import ") || line.starts_with(b"import\t") {
            let text = String::from_utf8_lossy(line);
            let code: String = text.chars().take(200).collect();
            out.push(PthExec {
                file: path.to_string(),
                line: i as u64 + 1,
                code: redact_inline(&code),
            });
            if out.len() >= 1000 {
                return;
            }
        }
    }
}

/// Redact any credential-shaped run in a line shown as evidence.
fn redact_inline(text: &str) -> String {
    static ANY_TOKEN: LazyLock<regex::Regex> = LazyLock::new(|| {
        use crate::secrets::{AWS_KEY_ID, GITHUB_PAT, GITHUB_TOKEN, NPM_TOKEN, PYPI_TOKEN};
        regex::Regex::new(&format!(
            "{NPM_TOKEN}|{GITHUB_TOKEN}|{GITHUB_PAT}|{AWS_KEY_ID}|{PYPI_TOKEN}"
        ))
        .expect("static regex")
    });
    ANY_TOKEN
        .replace_all(text, |c: &regex::Captures<'_>| redact(&c[0]))
        .into_owned()
}

static BUILD_SIGNAL_RES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    let re = |s: &str| Regex::new(s).expect("static regex");
    vec![
        (
            "fetch",
            re(
                r"(?m)(?:^\s*(?:import|from)\s+(?:urllib|urllib2|urllib3|requests|httpx|aiohttp|http\.client|socket|ftplib|pycurl)\b|\b(?:urlopen|urlretrieve|create_connection)\s*\(|\brequests\.(?:get|post|request)\s*\(|\b(?:curl|wget)\s+(?:-\S+\s+)*https?://|__import__\s*\(\s*['\x22](?:urllib|requests|socket|http))",
            ),
        ),
        (
            "decode",
            re(
                r"\b(?:b64decode|b32decode|b16decode|a85decode|b85decode|decodebytes|unhexlify|a2b_base64)\s*\(|\b(?:zlib|lzma|bz2|gzip)\.decompress\s*\(|\bmarshal\.loads\s*\(|\bcodecs\.decode\s*\(|\bbytes\.fromhex\s*\(",
            ),
        ),
        (
            "exec",
            re(
                r"(?m)(?:^|[^.\w])(?:exec|eval)\s*\(\s*(?:open\s*\(|compile\s*\(\s*open\s*\()|(?:^|[^.\w])(?:exec|eval)\s*\(|(?:^|[^.\w])__import__\s*\(",
            ),
        ),
        (
            "subprocess",
            re(
                r"\bsubprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)\s*\(|\bos\.(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?)\s*\(",
            ),
        ),
    ]
});

/// Build-time signals of one Python file: which kinds occur, with the first line of each.
/// `exec(open(...).read())` of a local file (the common way to read `__version__`) is reported
/// as `exec-file`, not `exec`.
fn build_signals(data: &[u8]) -> Vec<(String, u64)> {
    static EXEC_FILE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:exec|eval)\s*\(\s*(?:open\s*\(|compile\s*\(\s*open\s*\()")
            .expect("static regex")
    });
    let mut out = Vec::new();
    for (name, re) in BUILD_SIGNAL_RES.iter() {
        let mut found: Option<(String, usize)> = None;
        // A real exec/eval outranks an exec of a local file; the number of matches looked at
        // is capped so a file of a million `exec(` costs no more than a few.
        for m in re.find_iter(data).take(256) {
            if *name == "exec" && EXEC_FILE.is_match(m.as_bytes()) {
                found.get_or_insert(("exec-file".to_string(), m.start()));
                continue;
            }
            found = Some((name.to_string(), m.start()));
            break;
        }
        if let Some((signal, at)) = found {
            out.push((signal, line_at(data, (0, 1), at)));
        }
    }
    out
}

/// Python-specific obfuscation: `exec` of a decoded blob in one expression, and PyArmor.
fn python_obfuscation(path: &str, data: &[u8], out: &mut Vec<Obfuscation>) {
    static EXEC_DECODED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?:^|[^.\w])(?:exec|eval)\s*\(\s*(?:[\w.]+\.)?(?:loads|decompress|b64decode|b32decode|b16decode|a85decode|b85decode|unhexlify|fromhex|decodebytes)\s*\(",
        )
        .expect("static regex")
    });
    if let Some(m) = EXEC_DECODED.find(data) {
        out.push(Obfuscation {
            file: path.to_string(),
            signal: "exec-decoded".to_string(),
            detail: format!(
                "executes decoded or decompressed data (line {})",
                line_at(data, (0, 1), m.start())
            ),
            confidence: Confidence::High,
        });
    }
    if memfind(data, b"__pyarmor__") || memfind(data, b"pyarmor_runtime") {
        out.push(Obfuscation {
            file: path.to_string(),
            signal: "pyarmor".to_string(),
            detail: "PyArmor-protected code: not reviewable".to_string(),
            confidence: Confidence::Medium,
        });
    }
    let long = data
        .split(|&b| b == b'\n')
        .filter(|l| l.len() > 5_000)
        .count();
    if long > 0 {
        out.push(Obfuscation {
            file: path.to_string(),
            signal: "long-lines".to_string(),
            detail: format!("{long} line(s) over 5000 characters in Python source"),
            confidence: Confidence::Medium,
        });
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Parse core metadata (RFC 822 style headers, PEP 566 multiple-use fields).
pub fn parse_core_metadata(file: &str, data: &[u8]) -> Result<CoreMetadata, String> {
    let text = String::from_utf8_lossy(data);
    let mut meta = CoreMetadata {
        file: file.to_string(),
        ..CoreMetadata::default()
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break; // The body (description) follows.
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(format!("{file}: malformed header line {:?}", cut(line)));
        };
        fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    for (k, v) in fields {
        match k.as_str() {
            "metadata-version" => meta.metadata_version = Some(v),
            "name" => meta.name = Some(v),
            "version" => meta.version = Some(v),
            "requires-dist" => meta.requires_dist.push(v),
            "requires-python" => meta.requires_python = Some(v),
            "summary" => meta.summary = Some(v),
            "home-page" | "project-url" if !v.is_empty() => meta.project_urls.push(v),
            _ => {}
        }
    }
    if meta.name.is_none() || meta.version.is_none() {
        return Err(format!("{file}: no Name or Version field"));
    }
    Ok(meta)
}

fn cut(s: &str) -> String {
    s.chars().take(80).collect()
}

/// `entry_points.txt` (an INI file): the script groups.
fn parse_entry_points(data: &[u8], project: Option<&str>, out: &mut Vec<EntryPoint>) {
    let text = String::from_utf8_lossy(data);
    let mut group = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            group = t[1..t.len() - 1].trim().to_string();
            continue;
        }
        if group != "console_scripts" && group != "gui_scripts" {
            continue;
        }
        if let Some((name, target)) = t.split_once('=') {
            push_entry_point(out, &group, name.trim(), target.trim(), project);
        }
    }
}

fn push_entry_point(
    out: &mut Vec<EntryPoint>,
    group: &str,
    name: &str,
    target: &str,
    project: Option<&str>,
) {
    if out.len() >= 10_000 || name.is_empty() {
        return;
    }
    out.push(EntryPoint {
        group: group.to_string(),
        name: cut(name),
        target: cut(target),
        shadows: shadows(name, project),
    });
}

/// pyproject.toml: `[project.scripts]`, `[project.gui-scripts]`, and the in-tree build backend
/// (`backend-path` + `build-backend`) whose files run at build time.
fn read_pyproject(
    data: &[u8],
    root: &str,
    project: Option<&str>,
    entry_points: &mut Vec<EntryPoint>,
) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(data).map_err(|_| "pyproject.toml is not UTF-8".to_string())?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("pyproject.toml: {}", cut(&e.to_string())))?;
    for (table, group) in [
        ("scripts", "console_scripts"),
        ("gui-scripts", "gui_scripts"),
    ] {
        if let Some(scripts) = doc
            .get("project")
            .and_then(|p| p.get(table))
            .and_then(|s| s.as_table())
        {
            for (name, target) in scripts {
                push_entry_point(
                    entry_points,
                    group,
                    name,
                    target.as_str().unwrap_or_default(),
                    project,
                );
            }
        }
    }
    let mut backend_files = Vec::new();
    let bs = doc.get("build-system");
    let backend = bs
        .and_then(|b| b.get("build-backend"))
        .and_then(|b| b.as_str());
    let paths: Vec<&str> = bs
        .and_then(|b| b.get("backend-path"))
        .and_then(|p| p.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).take(16).collect())
        .unwrap_or_default();
    if let Some(backend) = backend {
        let module = backend.split(':').next().unwrap_or_default().trim();
        let rel = module.replace('.', "/");
        for dir in &paths {
            let dir = dir.trim_matches('/').trim_start_matches("./");
            let base = if dir.is_empty() || dir == "." {
                root.to_string()
            } else {
                format!("{root}/{dir}")
            };
            backend_files.push(format!("{base}/{rel}.py"));
            backend_files.push(format!("{base}/{rel}/__init__.py"));
        }
    }
    Ok(backend_files)
}

fn finish(report: &mut PythonContentReport, walk: PyWalk) {
    let PyWalk {
        kept,
        py_signals,
        roots,
        seen,
    } = walk;
    let seen: BTreeSet<String> = seen.into_iter().collect();
    let project = report.filename.as_ref().map(|f| f.normalized_name.clone());
    let project = project.as_deref();
    match report.kind {
        DistKind::Wheel => {
            // `<name>-<version>.dist-info/` at the top; the filename says which one is ours.
            let infos: BTreeSet<&str> = kept
                .keys()
                .filter_map(|k| k.split_once('/').map(|(d, _)| d))
                .filter(|d| d.ends_with(".dist-info"))
                .collect();
            if infos.len() > 1 {
                report.errors.push(format!(
                    "{} .dist-info directories: {}",
                    infos.len(),
                    infos.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            let ours = infos
                .iter()
                .find(|d| {
                    let stem = d.trim_end_matches(".dist-info");
                    stem.rsplit_once('-')
                        .is_some_and(|(n, _)| Some(normalize_name(n).as_str()) == project)
                })
                .or_else(|| infos.iter().next())
                .map(|d| d.to_string());
            match ours {
                None => {
                    report.metadata_error = Some(if report.complete {
                        "no .dist-info/METADATA in the wheel".to_string()
                    } else {
                        "no .dist-info/METADATA read before the analysis stopped".to_string()
                    })
                }
                Some(info) => {
                    match kept.get(&format!("{info}/METADATA")) {
                        Some(m) => match parse_core_metadata(&format!("{info}/METADATA"), m) {
                            Ok(meta) => report.metadata = Some(meta),
                            Err(e) => report.metadata_error = Some(e),
                        },
                        None => {
                            report.metadata_error = Some(format!(
                                "{info}/METADATA is missing or larger than {MAX_KEPT} bytes"
                            ))
                        }
                    }
                    if let Some(ep) = kept.get(&format!("{info}/entry_points.txt")) {
                        parse_entry_points(ep, project, &mut report.entry_points);
                    }
                }
            }
            // Files in `<name>.data/scripts/` are copied into the environment's bin directory
            // under their own name, like console scripts.
            for path in &seen {
                let mut parts = path.splitn(3, '/');
                if let (Some(top), Some("scripts"), Some(name)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    if top.ends_with(".data") && !name.contains('/') {
                        push_entry_point(
                            &mut report.entry_points,
                            "data-scripts",
                            name,
                            path,
                            project,
                        );
                    }
                }
            }
        }
        DistKind::Sdist => {
            let root = if roots.len() == 1 {
                roots.iter().next().cloned().unwrap_or_default()
            } else {
                String::new()
            };
            let pkg_info = format!("{root}/PKG-INFO");
            match kept.get(&pkg_info) {
                Some(m) => match parse_core_metadata(&pkg_info, m) {
                    Ok(meta) => report.metadata = Some(meta),
                    Err(e) => report.metadata_error = Some(e),
                },
                None => {
                    report.metadata_error = Some(format!(
                        "{pkg_info} is missing{}",
                        if report.complete {
                            ""
                        } else {
                            " (or not reached before the analysis stopped)"
                        }
                    ))
                }
            }
            let mut build_files = vec![format!("{root}/setup.py")];
            if let Some(pp) = kept.get(&format!("{root}/pyproject.toml")) {
                match read_pyproject(pp, &root, project, &mut report.entry_points) {
                    Ok(files) => build_files.extend(files),
                    Err(e) => report.errors.push(e),
                }
            }
            for (path, data) in &kept {
                let egg_info = path
                    .rsplit_once('/')
                    .is_some_and(|(d, b)| b == "entry_points.txt" && d.ends_with(".egg-info"));
                if egg_info {
                    parse_entry_points(data, project, &mut report.entry_points);
                }
            }
            for file in build_files {
                if let Some(signals) = py_signals.get(&file) {
                    report.build_scripts.push(BuildScriptSignal {
                        file,
                        signals: signals.iter().map(|(s, _)| s.clone()).collect(),
                        lines: signals.iter().map(|(_, l)| *l).collect(),
                    });
                }
            }
        }
        DistKind::Unknown => {}
    }
    report.entry_points.dedup();
}
