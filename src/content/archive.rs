//! Bounded, in-memory walk of a gzipped tar archive.
//!
//! Memory is bounded by `max_file_scan` per file (the rest of a file is read through and
//! dropped) and CPU by the uncompressed budget (`Limits::uncompressed_budget`), which stops a
//! gzip bomb after `ratio × compressed` bytes however large it claims to be. Known gap: the tar
//! crate reads GNU long-name and PAX extension records whole, so one such record can allocate up
//! to the uncompressed budget.

use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use super::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Directory,
    Symlink,
    Hardlink,
    Special(&'static str),
}

pub(crate) struct Entry<'a> {
    pub raw_path: &'a [u8],
    pub kind: Kind,
    pub link: Option<&'a [u8]>,
    /// Size from the header.
    pub size: u64,
    /// At most `max_file_scan` bytes of the content (files only).
    pub data: &'a [u8],
    pub truncated: bool,
}

pub(crate) struct Outcome {
    pub tar_bytes: u64,
    pub error: Option<String>,
    pub trailing_nonzero: u64,
}

/// Counts decompressed bytes and fails once the budget is spent, so every consumer (tar headers,
/// file contents, skipped data, the trailer) is bounded by one number.
struct Budget<R> {
    inner: R,
    remaining: u64,
    read: u64,
    exceeded: bool,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            // One more byte tells "exactly at the budget" from "over it".
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded = true;
                    Err(io::Error::other("uncompressed size limit exceeded"))
                }
            };
        }
        let max = (buf.len() as u64).min(self.remaining) as usize;
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

/// Walk every entry, calling `visit` for each. Stops at the first error, which is returned in
/// the outcome together with how far it got.
pub(crate) fn walk(tgz: &[u8], limits: &Limits, mut visit: impl FnMut(Entry<'_>)) -> Outcome {
    let budget = limits.uncompressed_budget(tgz.len() as u64);
    // node's zlib reads concatenated gzip members as one stream, so a payload hidden in a second
    // member would be installed: read them all too.
    let reader = Budget {
        inner: MultiGzDecoder::new(tgz),
        remaining: budget,
        read: 0,
        exceeded: false,
    };
    let mut archive = tar::Archive::new(reader);
    let mut error = walk_entries(&mut archive, limits, &mut visit).err();
    let mut reader = archive.into_inner();

    // The tar reader stops at the end-of-archive block; reading on to the end of the gzip stream
    // checks its CRC and length and finds anything smuggled after the archive.
    let mut trailing_nonzero = 0u64;
    if error.is_none() {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => trailing_nonzero += buf[..n].iter().filter(|&&b| b != 0).count() as u64,
                Err(e) => {
                    error = Some(format!("gzip stream after the tar archive: {e}"));
                    break;
                }
            }
        }
    }
    if reader.exceeded {
        error = Some(format!(
            "uncompressed size exceeds {budget} bytes (the lower of max_uncompressed {} and \
             max_ratio {} × {} compressed bytes, at least {}); analysis stopped",
            limits.max_uncompressed,
            limits.max_ratio,
            tgz.len(),
            super::RATIO_FLOOR
        ));
    }
    Outcome {
        tar_bytes: reader.read,
        error,
        trailing_nonzero,
    }
}

fn walk_entries<R: Read>(
    archive: &mut tar::Archive<R>,
    limits: &Limits,
    visit: &mut impl FnMut(Entry<'_>),
) -> Result<(), String> {
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar archive: {e}"))?;
    let mut count = 0usize;
    let mut data = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("reading tar entry {}: {e}", count + 1))?;
        count += 1;
        if count > limits.max_files {
            return Err(format!(
                "more than {} entries (max_files); analysis stopped",
                limits.max_files
            ));
        }
        use tar::EntryType as T;
        let entry_type = entry.header().entry_type();
        let kind = match entry_type {
            T::Regular | T::Continuous | T::GNUSparse => Kind::File,
            T::Directory => Kind::Directory,
            T::Symlink => Kind::Symlink,
            T::Link => Kind::Hardlink,
            T::Char => Kind::Special("character device"),
            T::Block => Kind::Special("block device"),
            T::Fifo => Kind::Special("fifo"),
            // Global PAX headers carry metadata only; node-tar applies and skips them too.
            T::XGlobalHeader => continue,
            _ => Kind::Special("unknown entry type"),
        };
        let size = entry.size();
        data.clear();
        let mut truncated = false;
        if kind == Kind::File {
            (&mut entry)
                .take(limits.max_file_scan)
                .read_to_end(&mut data)
                .map_err(|e| format!("reading tar entry {count}: {e}"))?;
            truncated = size > limits.max_file_scan;
        }
        let raw_path = entry.path_bytes().into_owned();
        let link = entry.link_name_bytes().map(|l| l.into_owned());
        visit(Entry {
            raw_path: &raw_path,
            kind,
            link: link.as_deref(),
            size,
            data: &data,
            truncated,
        });
    }
    Ok(())
}

pub(crate) struct SplitPath {
    /// The first component, which npm strips whatever it is called (normally `package`).
    pub root: Option<String>,
    /// The path below the root, `/`-separated, without `.` or empty components.
    pub rel: String,
    pub absolute: bool,
    pub parent_dir: bool,
}

/// Mirrors node-tar's `strip: 1` as pacote uses it: `\` counts as a separator (node-tar
/// normalises Windows paths), a leading `/` or drive is dropped, then one component goes.
pub(crate) fn split_path(raw: &str) -> SplitPath {
    let unified = raw.replace('\\', "/");
    let bytes = unified.as_bytes();
    let drive = bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic();
    let absolute = unified.starts_with('/') || drive;
    let body = if drive { &unified[2..] } else { &unified[..] };
    let parts: Vec<&str> = body
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let parent_dir = parts.contains(&"..");
    match parts.split_first() {
        None => SplitPath {
            root: None,
            rel: String::new(),
            absolute,
            parent_dir,
        },
        // A top-level file has nothing left after stripping; keep its name so it is still
        // scanned and listed rather than silently dropped.
        Some((only, [])) => SplitPath {
            root: None,
            rel: (*only).to_string(),
            absolute,
            parent_dir,
        },
        Some((root, rest)) => SplitPath {
            root: Some((*root).to_string()),
            rel: rest.join("/"),
            absolute,
            parent_dir,
        },
    }
}

/// Whether a link at `rel` pointing at `target` resolves outside the package root, which pacote
/// refuses to extract (and which is never legitimate in a published package).
pub(crate) fn link_escapes(rel: &str, target: &str, kind: Kind) -> bool {
    let target = target.replace('\\', "/");
    if target.starts_with('/') || target.as_bytes().get(1) == Some(&b':') {
        return true;
    }
    // Hard link targets are archive paths (with the root component); symlinks are relative to
    // the link's directory.
    let mut stack: Vec<&str> = Vec::new();
    let start: Vec<&str> = match kind {
        Kind::Hardlink => Vec::new(),
        _ => {
            let mut dirs: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
            dirs.pop();
            dirs
        }
    };
    stack.extend(start);
    let mut parts = target.split('/').filter(|p| !p.is_empty() && *p != ".");
    if kind == Kind::Hardlink {
        // Drop the archive root component.
        parts.next();
    }
    for part in parts {
        if part == ".." {
            if stack.pop().is_none() {
                return true;
            }
        } else {
            stack.push(part);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_first_component_like_node_tar() {
        let s = split_path("package/lib/index.js");
        assert_eq!(s.root.as_deref(), Some("package"));
        assert_eq!(s.rel, "lib/index.js");
        let s = split_path("whatever\\x\\.\\y.js");
        assert_eq!(s.root.as_deref(), Some("whatever"));
        assert_eq!(s.rel, "x/y.js");
        let s = split_path("/etc/passwd");
        assert!(s.absolute);
        assert_eq!(s.rel, "passwd");
        assert!(split_path("package/../../x").parent_dir);
        assert!(split_path("C:/x/y").absolute);
    }

    #[test]
    fn link_escape() {
        assert!(!link_escapes("lib/a.js", "b.js", Kind::Symlink));
        assert!(!link_escapes("lib/a.js", "../index.js", Kind::Symlink));
        assert!(link_escapes("lib/a.js", "../../x", Kind::Symlink));
        assert!(link_escapes("a.js", "/etc/passwd", Kind::Symlink));
        assert!(!link_escapes("a.js", "package/b.js", Kind::Hardlink));
        assert!(link_escapes("a.js", "package/../../b.js", Kind::Hardlink));
    }

    #[test]
    fn budget_reports_overflow() {
        let mut b = Budget {
            inner: &[1u8; 10][..],
            remaining: 4,
            read: 0,
            exceeded: false,
        };
        let mut out = Vec::new();
        assert!(b.read_to_end(&mut out).is_err());
        assert!(b.exceeded);
        assert_eq!(out.len(), 4);
        let mut exact = Budget {
            inner: &[1u8; 4][..],
            remaining: 4,
            read: 0,
            exceeded: false,
        };
        assert_eq!(exact.read_to_end(&mut Vec::new()).unwrap(), 4);
        assert!(!exact.exceeded);
    }
}
