//! Bounded, in-memory walk of a gzipped tar archive.
//!
//! Memory is bounded by `max_file_scan` per file (the rest of a file is read through and
//! dropped) and CPU by the uncompressed budget (`Limits::uncompressed_budget`), which stops a
//! gzip bomb after `ratio × compressed` bytes however large it claims to be. The tar crate reads
//! GNU long-name/long-link and PAX records whole, so [`HeaderGuard`] sits under it and drops any
//! such record over [`MAX_HEADER_RECORD`] before the tar crate sees it (issue K3).

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;

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
    /// Header records over the cap that described this entry and were skipped unread.
    pub oversized: &'a [Oversized],
}

pub(crate) struct Outcome {
    pub tar_bytes: u64,
    pub error: Option<String>,
    pub trailing_nonzero: u64,
    /// Oversized header records that no entry followed (the archive ended or broke after them).
    pub orphan_oversized: Vec<Oversized>,
}

/// The largest GNU long-name/long-link or PAX extended-header record that is read. A legitimate
/// record holds one path (PATH_MAX is 4096) and a few short keys. node-tar ignores such records
/// above 1 MiB (`maxMetaEntrySize`); between the two, npm would apply a name we do not know, so
/// a skipped record always makes the analysis incomplete.
pub(crate) const MAX_HEADER_RECORD: u64 = 8 * 1024;

const BLOCK: u64 = 512;

/// A header record larger than [`MAX_HEADER_RECORD`], skipped without being read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Oversized {
    /// Offset, in the stream the tar reader sees, of the header that came after the record.
    at: u64,
    /// The record's type flag (`L`, `K`, `x` or `g`).
    pub kind: u8,
    /// The size its header claims.
    pub size: u64,
}

impl Oversized {
    pub fn describe(&self) -> String {
        let what = match self.kind {
            b'L' => "GNU long-name record",
            b'K' => "GNU long-link record",
            b'x' => "PAX extended header",
            _ => "PAX global header",
        };
        format!(
            "{what} of {} bytes, over the {MAX_HEADER_RECORD}-byte cap: skipped unread, so \
             the entry's full name and attributes are unknown",
            self.size
        )
    }
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
    walk_stream(reader, budget, tgz.len() as u64, limits, &mut visit)
}

/// [`walk`] below the gunzip: `reader` yields the tar stream within `budget`, from `compressed`
/// bytes.
fn walk_stream<R: Read>(
    reader: Budget<R>,
    budget: u64,
    compressed: u64,
    limits: &Limits,
    visit: &mut impl FnMut(Entry<'_>),
) -> Outcome {
    let oversized = Rc::new(RefCell::new(Vec::new()));
    let guard = HeaderGuard::new(reader, MAX_HEADER_RECORD, Rc::clone(&oversized));
    let mut archive = tar::Archive::new(guard);
    let mut error = walk_entries(&mut archive, limits, &oversized, visit).err();
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
    let reader = reader.inner;
    if reader.exceeded {
        error = Some(format!(
            "uncompressed size exceeds {budget} bytes (the lower of max_uncompressed {} and \
             max_ratio {} × {} compressed bytes, at least {}); analysis stopped",
            limits.max_uncompressed,
            limits.max_ratio,
            compressed,
            super::RATIO_FLOOR
        ));
    }
    let orphan_oversized = oversized.take();
    Outcome {
        tar_bytes: reader.read,
        error,
        trailing_nonzero,
        orphan_oversized,
    }
}

fn walk_entries<R: Read>(
    archive: &mut tar::Archive<R>,
    limits: &Limits,
    oversized: &RefCell<Vec<Oversized>>,
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
        // Records skipped before this entry's own header described it (or a global header
        // passed over above, whose records then go with the next entry that is visited).
        let here = entry.raw_header_position();
        let mine: Vec<Oversized> = {
            let mut all = oversized.borrow_mut();
            let split = all.iter().take_while(|o| o.at <= here).count();
            all.drain(..split).collect()
        };
        visit(Entry {
            raw_path: &raw_path,
            kind,
            link: link.as_deref(),
            size,
            data: &data,
            truncated,
            oversized: &mine,
        });
    }
    Ok(())
}

/// What the block at [`HeaderGuard::next`] is, in the tar reader's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Header,
    /// GNU sparse extension blocks, then `data` bytes of the entry (padded).
    SparseExt {
        data: u64,
    },
}

/// Passes the tar stream through to the tar crate unchanged, except that a GNU long-name or
/// long-link record or a PAX extended or global header larger than `cap` is dropped, header and
/// data, before the tar crate can read it whole. It reads only 512-byte headers (and PAX records
/// within the cap) and steps over data by the sizes in them, following the tar crate's framing
/// rule for rule (PAX `size` overrides, GNU sparse extension blocks, end at the first zero
/// block); where it cannot (a header the tar crate will reject anyway) it stops looking and
/// passes everything through.
struct HeaderGuard<R> {
    inner: R,
    cap: u64,
    /// Bytes handed to the tar reader so far.
    out_pos: u64,
    /// Where, in the handed-over stream, the next block to inspect starts; `None` once the guard
    /// no longer follows the framing.
    next: Option<u64>,
    expect: Expect,
    /// `size` from a PAX extended header, for the next entry the tar crate returns.
    pax_size: Option<u64>,
    /// Inspected bytes waiting to be handed over, from `held_from`.
    held: Vec<u8>,
    held_from: usize,
    skipped: Rc<RefCell<Vec<Oversized>>>,
}

impl<R: Read> HeaderGuard<R> {
    fn new(inner: R, cap: u64, skipped: Rc<RefCell<Vec<Oversized>>>) -> Self {
        HeaderGuard {
            inner,
            cap,
            out_pos: 0,
            next: Some(0),
            expect: Expect::Header,
            pax_size: None,
            held: Vec::new(),
            held_from: 0,
            skipped,
        }
    }

    /// Reads up to `n` bytes into `held`; fewer only at the end of the stream.
    fn hold(&mut self, n: u64) -> io::Result<bool> {
        let start = self.held.len();
        let got = (&mut self.inner).take(n).read_to_end(&mut self.held)?;
        debug_assert_eq!(self.held.len(), start + got);
        Ok(got as u64 == n)
    }

    /// Inspects the block at `self.next` (== `out_pos`, nothing held) and holds what is to be
    /// handed over next; returns after dropping a record so the following header is inspected.
    fn inspect(&mut self) -> io::Result<()> {
        let at = self.out_pos;
        self.held.clear();
        self.held_from = 0;
        if !self.hold(BLOCK)? {
            self.next = None;
            return Ok(());
        }
        let mut block = [0u8; BLOCK as usize];
        block.copy_from_slice(&self.held[..BLOCK as usize]);

        if let Expect::SparseExt { data } = self.expect {
            // GnuExtSparseHeader: 21 entries of 24 bytes, then the `isextended` flag.
            if block[504] != 1 {
                self.expect = Expect::Header;
                self.next = at.checked_add(BLOCK).and_then(|n| n.checked_add(data));
            } else {
                self.next = at.checked_add(BLOCK);
            }
            return Ok(());
        }

        let mut header = tar::Header::new_old();
        header.as_mut_bytes().copy_from_slice(&block);
        if block.iter().all(|&b| b == 0) || !checksum_ok(&header) {
            // The end of the archive, or a header the tar crate refuses: it reads no further.
            self.next = None;
            return Ok(());
        }
        let Ok(header_size) = header.entry_size() else {
            self.next = None;
            return Ok(());
        };
        let entry_type = header.entry_type();
        let recognized = header.as_gnu().is_some() || header.as_ustar().is_some();
        let extension = entry_type.is_gnu_longname()
            || entry_type.is_gnu_longlink()
            || entry_type.is_pax_local_extensions()
            || entry_type.is_pax_global_extensions();
        // The tar crate reads these three whole before the entry they describe; a global header
        // it hands over as an entry of its own, but node-tar buffers it like the others.
        let chained = recognized
            && (entry_type.is_gnu_longname()
                || entry_type.is_gnu_longlink()
                || entry_type.is_pax_local_extensions());
        let record = chained || entry_type.is_pax_global_extensions();

        if record && header_size > self.cap {
            let Some(padded) = pad(header_size) else {
                self.next = None;
                return Ok(());
            };
            self.held.clear();
            let skipped = io::copy(&mut (&mut self.inner).take(padded), &mut io::sink())?;
            if skipped < padded {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the archive ends inside an oversized header record",
                ));
            }
            self.skipped.borrow_mut().push(Oversized {
                at,
                kind: header.as_old().linkflag[0],
                size: header_size,
            });
            // The tar reader never sees the record: its next header is the one that follows,
            // handed over at this same offset.
            return Ok(());
        }

        let mut size = header_size;
        if !extension {
            if let Some(pax) = self.pax_size {
                size = pax;
            }
        }
        let Some(padded) = pad(size) else {
            self.next = None;
            return Ok(());
        };
        let data_end = at.checked_add(BLOCK).and_then(|n| n.checked_add(padded));
        if recognized && entry_type.is_pax_local_extensions() {
            // Within the cap: read it now for the `size` it may set on the next entry.
            if !self.hold(padded)? {
                self.next = None;
                return Ok(());
            }
            let data = &self.held[BLOCK as usize..][..size as usize];
            self.pax_size = pax_u64(data, "size");
            self.next = data_end;
            return Ok(());
        }
        if !chained {
            // The tar crate hands this header over as an entry, with whatever PAX record preceded.
            self.pax_size = None;
        }
        let sparse_ext = !extension
            && recognized
            && entry_type.is_gnu_sparse()
            && header.as_gnu().is_some_and(|g| g.is_extended());
        if sparse_ext {
            self.expect = Expect::SparseExt { data: padded };
            self.next = at.checked_add(BLOCK);
        } else {
            self.next = data_end;
        }
        Ok(())
    }
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.held_from < self.held.len() {
                let n = buf.len().min(self.held.len() - self.held_from);
                buf[..n].copy_from_slice(&self.held[self.held_from..][..n]);
                self.held_from += n;
                self.out_pos += n as u64;
                return Ok(n);
            }
            match self.next {
                Some(next) if next == self.out_pos => {
                    self.inspect()?;
                    if self.held.is_empty() && self.next == Some(self.out_pos) {
                        // A record was dropped: inspect what follows it.
                        continue;
                    }
                    if self.held.is_empty() {
                        return Ok(0);
                    }
                }
                Some(next) if next > self.out_pos => {
                    let max = (buf.len() as u64).min(next - self.out_pos) as usize;
                    let n = self.inner.read(&mut buf[..max])?;
                    self.out_pos += n as u64;
                    return Ok(n);
                }
                _ => {
                    self.next = None;
                    let n = self.inner.read(buf)?;
                    self.out_pos += n as u64;
                    return Ok(n);
                }
            }
        }
    }
}

/// `size` rounded up to whole 512-byte blocks.
fn pad(size: u64) -> Option<u64> {
    Some(size.checked_add(BLOCK - 1)? & !(BLOCK - 1))
}

/// The tar crate's header check: the sum of all bytes with the checksum field as spaces.
fn checksum_ok(header: &tar::Header) -> bool {
    let bytes = header.as_bytes();
    let sum = bytes[..148]
        .iter()
        .chain(&bytes[156..])
        .fold(0u32, |a, &b| a + u32::from(b))
        + 8 * 32;
    header.cksum().is_ok_and(|c| c == sum)
}

/// The tar crate's reading of a numeric PAX key: the first record with that key, if it parses.
fn pax_u64(data: &[u8], key: &str) -> Option<u64> {
    for ext in tar::PaxExtensions::new(data) {
        let ext = ext.ok()?;
        if ext.key() != Ok(key) {
            continue;
        }
        return ext.value().ok()?.parse().ok();
    }
    None
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

    /// A ustar or GNU header block, checksummed.
    fn header(gnu: bool, kind: u8, name: &[u8], size: u64) -> Vec<u8> {
        let mut h = if gnu {
            tar::Header::new_gnu()
        } else {
            tar::Header::new_ustar()
        };
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    fn padded(mut data: Vec<u8>) -> Vec<u8> {
        data.resize(pad(data.len() as u64).unwrap() as usize, 0);
        data
    }

    fn file(name: &str, data: &[u8]) -> Vec<u8> {
        let mut v = header(false, b'0', name.as_bytes(), data.len() as u64);
        v.extend(padded(data.to_vec()));
        v
    }

    struct Seen {
        path: String,
        data: Vec<u8>,
        oversized: Vec<Oversized>,
    }

    fn walk_reader(reader: impl Read) -> (Vec<Seen>, Outcome) {
        let mut seen = Vec::new();
        let budget = u64::MAX / 2;
        let outcome = walk_stream(
            Budget {
                inner: reader,
                remaining: budget,
                read: 0,
                exceeded: false,
            },
            budget,
            0,
            &Limits::default(),
            &mut |e: Entry<'_>| {
                seen.push(Seen {
                    path: String::from_utf8_lossy(e.raw_path).into_owned(),
                    data: e.data.to_vec(),
                    oversized: e.oversized.to_vec(),
                })
            },
        );
        (seen, outcome)
    }

    const HUGE: u64 = 480 * 1024 * 1024;

    /// A record claiming 480 MiB, its data streamed lazily (nothing the size of it is ever
    /// allocated here): the tar crate alone would collect all of it into one Vec.
    fn huge_record_then_file(gnu: bool, kind: u8) -> impl Read {
        let head = header(gnu, kind, b"././@LongLink", HUGE);
        let tail = [file("package/index.js", b"ok"), vec![0; 1024]].concat();
        io::Cursor::new(head)
            .chain(io::repeat(0).take(pad(HUGE).unwrap()))
            .chain(io::Cursor::new(tail))
    }

    #[test]
    fn oversized_records_are_stepped_over_unread() {
        for (gnu, kind) in [(true, b'L'), (true, b'K'), (false, b'x'), (false, b'g')] {
            let (seen, outcome) = walk_reader(huge_record_then_file(gnu, kind));
            assert_eq!(outcome.error, None, "{}", kind as char);
            assert_eq!(seen.len(), 1, "{}", kind as char);
            assert_eq!(seen[0].path, "package/index.js");
            assert_eq!(seen[0].data, b"ok");
            assert_eq!(seen[0].oversized.len(), 1);
            assert_eq!(seen[0].oversized[0].kind, kind);
            assert_eq!(seen[0].oversized[0].size, HUGE);
            assert!(outcome.orphan_oversized.is_empty());
            // Every byte was still read (and counted against the budget).
            assert_eq!(outcome.tar_bytes, 512 + HUGE + 1024 + 1024);
        }
    }

    #[test]
    fn records_within_the_cap_are_applied_as_before() {
        let long = format!("package/{}/index.js", "d".repeat(300));
        let mut name = long.clone().into_bytes();
        name.push(0);
        let mut tar = header(true, b'L', b"././@LongLink", name.len() as u64);
        tar.extend(padded(name));
        tar.extend(file("package/short", b"ok"));
        let pax_path = format!("package/{}/pax.js", "p".repeat(400));
        let record = pax_record("path", &pax_path);
        tar.extend(header(false, b'x', b"PaxHeader", record.len() as u64));
        tar.extend(padded(record));
        tar.extend(file("package/truncated-name", b"pax"));
        tar.extend([0; 1024]);
        let (seen, outcome) = walk_reader(&tar[..]);
        assert_eq!(outcome.error, None);
        let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, [long.as_str(), pax_path.as_str()]);
        assert!(seen.iter().all(|s| s.oversized.is_empty()));
    }

    fn pax_record(key: &str, value: &str) -> Vec<u8> {
        let body = format!(" {key}={value}\n");
        let mut len = body.len() + 1;
        while format!("{len}{body}").len() != len {
            len += 1;
        }
        format!("{len}{body}").into_bytes()
    }

    #[test]
    fn the_guard_follows_pax_sizes_and_sparse_blocks_to_the_next_header() {
        // A PAX `size` makes the next entry 1536 bytes although its header says 0; data that
        // looks like a header must be passed over as data.
        let mut tar = Vec::new();
        let record = pax_record("size", "1536");
        tar.extend(header(false, b'x', b"PaxHeader", record.len() as u64));
        tar.extend(padded(record));
        tar.extend(header(false, b'0', b"package/a.bin", 0));
        let decoy = [header(true, b'L', b"decoy", 0), vec![0x41; 1024]].concat();
        tar.extend(&decoy);
        // A GNU sparse file with one extension block: 512 bytes stored at 0, 512 at 4096.
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..12].copy_from_slice(b"package/s.db");
        h.set_entry_type(tar::EntryType::GNUSparse);
        h.set_size(1024);
        h.set_mode(0o644);
        {
            let g = h.as_gnu_mut().unwrap();
            g.sparse[0].offset.copy_from_slice(b"00000000000\0");
            g.sparse[0].numbytes.copy_from_slice(b"00000001000\0");
            g.isextended[0] = 1;
            g.realsize.copy_from_slice(b"00000011000\0");
        }
        h.set_cksum();
        tar.extend(h.as_bytes());
        let mut ext = tar::GnuExtSparseHeader::new();
        ext.sparse[0].offset.copy_from_slice(b"00000010000\0");
        ext.sparse[0].numbytes.copy_from_slice(b"00000001000\0");
        tar.extend(ext.as_bytes());
        tar.extend(vec![0x42; 1024]);
        tar.extend(header(true, b'L', b"././@LongLink", 1 << 20));
        tar.extend(vec![b'n'; 1 << 20]);
        tar.extend(file("package/last.js", b"x"));
        tar.extend([0; 1024]);

        let (seen, outcome) = walk_reader(&tar[..]);
        assert_eq!(outcome.error, None);
        let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["package/a.bin", "package/s.db", "package/last.js"]);
        assert_eq!(seen[0].data, decoy);
        assert_eq!(seen[1].data.len(), 4608);
        assert!(seen[..2].iter().all(|s| s.oversized.is_empty()));
        assert_eq!(seen[2].oversized.len(), 1);
        assert_eq!(seen[2].oversized[0].size, 1 << 20);
    }

    #[test]
    fn a_record_with_no_entry_after_it_is_an_orphan_and_truncation_an_error() {
        let mut tar = header(true, b'L', b"././@LongLink", 100_000);
        tar.extend(vec![0; pad(100_000).unwrap() as usize]);
        tar.extend([0; 1024]);
        let (seen, outcome) = walk_reader(&tar[..]);
        assert!(seen.is_empty());
        assert_eq!(outcome.error, None);
        assert_eq!(outcome.orphan_oversized.len(), 1);

        // The stream ends inside the record: an error, never a clean end of archive.
        let (seen, outcome) = walk_reader(&tar[..50_000]);
        assert!(seen.is_empty());
        assert!(outcome.error.unwrap().contains("oversized header record"));
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
