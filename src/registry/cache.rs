//! The on-disk HTTP cache under `--cache-dir`: registry documents (packuments full and
//! abbreviated, signing keys, attestations, advisories), revalidated with ETag / Last-Modified.
//!
//! Private by construction: the entry directory is 0700 and every entry 0600, written to a
//! temporary file and renamed into place so a reader never sees half an entry. An entry holds the
//! response body and its validators only: never a request header, never a credential, not even
//! the URL (which may carry userinfo) — the file is named by a SHA-256 over the request, and the
//! request includes *which* credential setting was used (its key and where it was set), so a
//! document fetched with a token is never served to an anonymous run or another configuration.
//!
//! Everything read back is untrusted: an entry whose header does not parse, names another key,
//! is larger than the body cap, or whose body does not match its recorded length and SHA-256 is a
//! miss.
//!
//! Tarballs are kept apart, content-addressed as npm's `_cacache` keeps them: the file is named
//! by the SHA-512 of its bytes (the digest of `dist.integrity`), stored only after the download
//! matched it, and hashed again on every read (a file that no longer matches its name is deleted
//! and is a miss). A tarball is therefore served to any configuration whose own packument names
//! that digest, whatever credential fetched it: the bytes are exactly what that integrity says,
//! so they cannot differ from what the configuration's own download would have had to be. Only
//! SHA-512 keys are used: a SHA-1 `shasum` can be collided, and a store shared across
//! configurations must not let one crafted tarball stand in for another's.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

/// The format of the entries. A change of layout changes the directory, so an older binary's
/// entries are simply never read.
const LAYOUT: &str = "http-v1";
const FORMAT: &str = "mcp-audit-cache/1";
/// The header line is small (a key, two digests, two validators); anything longer is hostile.
const MAX_HEADER: usize = 8 * 1024;

/// `--cache-dir` (or the default) and `--offline`.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    pub dir: PathBuf,
    /// Answer from the cache only: no request at all.
    pub offline: bool,
}

impl CacheConfig {
    /// The OS cache directory for mcp-audit: `$XDG_CACHE_HOME/mcp-audit` (else
    /// `~/.cache/mcp-audit`) on Linux, `~/Library/Caches/mcp-audit` on macOS,
    /// `%LOCALAPPDATA%\mcp-audit` on Windows. None when the OS names no cache directory.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("mcp-audit"))
    }
}

/// One request, as the cache names it. `scope` says which credential setting went with it
/// (`anonymous`, or the setting's key and where it was set) — never the credential.
pub(crate) struct Key {
    hex: String,
}

impl Key {
    pub fn new(method: &str, url: &str, accept: &str, scope: &str, body: Option<&[u8]>) -> Key {
        let mut h = Sha256::new();
        for part in [FORMAT, method, url, accept, scope] {
            h.update(part.as_bytes());
            // A separator that cannot occur in any part keeps ("a", "bc") apart from ("ab", "c").
            h.update([0u8]);
        }
        if let Some(body) = body {
            h.update(Sha256::digest(body));
        }
        Key {
            hex: hex(&h.finalize()),
        }
    }
}

/// A stored response.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    key: String,
    len: u64,
    sha256: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn entries_dir(root: &Path) -> PathBuf {
    root.join(LAYOUT)
}

/// The stored response for `key`, or None for a miss: absent, unreadable, corrupt, another key's,
/// or larger than `limit` bytes of body.
pub(crate) fn load(root: &Path, key: &Key, limit: u64) -> Option<Entry> {
    let path = entries_dir(root).join(&key.hex);
    let file = std::fs::File::open(&path).ok()?;
    let size = file.metadata().ok()?.len();
    if size > limit.saturating_add(MAX_HEADER as u64) {
        return None;
    }
    let mut raw = Vec::with_capacity(size as usize);
    // Bounded even if the file grows while it is read.
    file.take(limit.saturating_add(MAX_HEADER as u64) + 1)
        .read_to_end(&mut raw)
        .ok()?;
    let newline = raw.iter().take(MAX_HEADER).position(|b| *b == b'\n')?;
    let header: Header = serde_json::from_slice(&raw[..newline]).ok()?;
    let body = &raw[newline + 1..];
    let valid = header.format == FORMAT
        && header.key == key.hex
        && header.len == body.len() as u64
        && header.len <= limit
        && header.sha256 == hex(&Sha256::digest(body));
    if !valid {
        return None;
    }
    Some(Entry {
        etag: header.etag,
        last_modified: header.last_modified,
        body: body.to_vec(),
    })
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Stores `entry` for `key`. A failure (read-only disk, full disk) only means no cache: the
/// caller carries on with the response it has.
pub(crate) fn store(root: &Path, key: &Key, entry: &Entry) -> std::io::Result<()> {
    let dir = entries_dir(root);
    create_private_dir(&dir)?;
    let header = Header {
        format: FORMAT.into(),
        key: key.hex.clone(),
        len: entry.body.len() as u64,
        sha256: hex(&Sha256::digest(&entry.body)),
        etag: entry.etag.clone(),
        last_modified: entry.last_modified.clone(),
    };
    let mut line = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
    if line.len() >= MAX_HEADER {
        // Validators that long are not worth keeping; the entry would read back as a miss.
        return Err(std::io::Error::other("validators too long to cache"));
    }
    line.push(b'\n');
    let temp = dir.join(format!(
        ".tmp-{}-{}-{}",
        std::process::id(),
        TEMP_SEQ.fetch_add(1, Ordering::Relaxed),
        &key.hex[..16]
    ));
    let written = (|| {
        let mut f = private_file(&temp)?;
        f.write_all(&line)?;
        f.write_all(&entry.body)?;
        f.flush()?;
        drop(f);
        std::fs::rename(&temp, dir.join(&key.hex))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// The entries directory, 0700. Only the directory mcp-audit owns is tightened: `--cache-dir`
/// may name an existing shared directory (even `/tmp`), whose mode is not ours to change.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// A new file only its owner can read, failing if the name exists (no symlink is followed into).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// The tarball store's directory; a change of layout changes the name (see [`LAYOUT`]).
const TARBALLS: &str = "tarballs-v1";

/// The SHA-512 digests a version's `dist.integrity` names: the content addresses its tarball may
/// be stored and found under. None when it names no SHA-512 (sha1/sha256/sha384 only, or
/// malformed): such a tarball is not cached.
pub(crate) struct TarballKey {
    digests: Vec<[u8; 64]>,
}

impl TarballKey {
    pub fn from_integrity(integrity: &str) -> Option<TarballKey> {
        use base64::Engine;
        let mut digests = Vec::new();
        for token in integrity.split_whitespace() {
            let Some(b64) = token.strip_prefix("sha512-") else {
                continue;
            };
            // SRI options (`?…`) do not change the digest.
            let b64 = b64.split('?').next().unwrap_or_default();
            let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
                continue;
            };
            if let Ok(d) = <[u8; 64]>::try_from(raw.as_slice()) {
                if !digests.contains(&d) {
                    digests.push(d);
                }
            }
        }
        (!digests.is_empty()).then_some(TarballKey { digests })
    }
}

fn tarball_path(root: &Path, digest: &[u8; 64]) -> PathBuf {
    root.join(TARBALLS).join(format!("sha512-{}", hex(digest)))
}

/// A stored tarball found for a key, not yet read: its size is known first, so the caller can
/// reserve it in the download budget before the bytes are in memory.
pub(crate) struct CachedTarball {
    file: std::fs::File,
    path: PathBuf,
    len: u64,
    digest: [u8; 64],
}

impl CachedTarball {
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The bytes, hashed again: None when they no longer match the name (tampered, truncated,
    /// replaced, grown past `limit` while read), and then the file is deleted.
    pub fn read(self, limit: u64) -> Option<Vec<u8>> {
        let mut raw = Vec::with_capacity(self.len.min(limit) as usize);
        // Bounded even if the file grows while it is read.
        let read = self
            .file
            .take(limit.saturating_add(1))
            .read_to_end(&mut raw);
        if read.is_ok()
            && raw.len() as u64 <= limit
            && Sha512::digest(&raw).as_slice() == self.digest.as_slice()
        {
            // The modification time is the last use, which pruning goes by.
            let _ = file_ref(&self.path).map(|f| f.set_modified(std::time::SystemTime::now()));
            return Some(raw);
        }
        let _ = std::fs::remove_file(&self.path);
        None
    }
}

/// The stored file for one of `key`'s digests, if any. A file larger than `limit` is a miss
/// (kept: a later run may allow more).
pub(crate) fn find_tarball(root: &Path, key: &TarballKey, limit: u64) -> Option<CachedTarball> {
    key.digests.iter().find_map(|digest| {
        let path = tarball_path(root, digest);
        // Only a regular file: opening a FIFO put in its place would block the run.
        if !std::fs::symlink_metadata(&path).ok()?.is_file() {
            return None;
        }
        let file = std::fs::File::open(&path).ok()?;
        let meta = file.metadata().ok()?;
        (meta.is_file() && meta.len() <= limit).then(|| CachedTarball {
            file,
            path,
            len: meta.len(),
            digest: *digest,
        })
    })
}

/// [`find_tarball`] and [`CachedTarball::read`] in one.
#[cfg(test)]
pub(crate) fn load_tarball(root: &Path, key: &TarballKey, limit: u64) -> Option<Vec<u8>> {
    find_tarball(root, key, limit)?.read(limit)
}

/// Stores a downloaded tarball under its SHA-512, only when that digest is one `key` names (the
/// download matched `dist.integrity`). Ok(false): it did not match and nothing was written. A
/// write failure only means no cache.
pub(crate) fn store_tarball(root: &Path, key: &TarballKey, bytes: &[u8]) -> std::io::Result<bool> {
    let actual: [u8; 64] = Sha512::digest(bytes).into();
    if !key.digests.contains(&actual) {
        return Ok(false);
    }
    let dir = root.join(TARBALLS);
    create_private_dir(&dir)?;
    let name = format!("sha512-{}", hex(&actual));
    let temp = dir.join(format!(
        ".tmp-{}-{}-{}",
        std::process::id(),
        TEMP_SEQ.fetch_add(1, Ordering::Relaxed),
        &name[7..23]
    ));
    let written = (|| {
        let mut f = private_file(&temp)?;
        f.write_all(bytes)?;
        f.flush()?;
        drop(f);
        std::fs::rename(&temp, dir.join(&name))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    prune_tarballs(&dir, std::time::SystemTime::now());
    Ok(true)
}

/// A tarball unused this long is deleted: cargo's default for downloaded crates (its automatic
/// gc), and like cargo at most once a day, when a run stores a tarball anyway.
const TARBALL_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 3600);
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
const PRUNE_STAMP: &str = ".last-prune";

fn file_ref(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).open(path)
}

/// Deletes the tarballs in `dir` not used for [`TARBALL_MAX_AGE`], and temporary files a killed
/// run left, unless a prune ran in the last [`PRUNE_EVERY`]. Only names this module writes are
/// touched, so a `--cache-dir` shared with other files loses nothing else. Best effort.
fn prune_tarballs(dir: &Path, now: std::time::SystemTime) {
    let stamp = dir.join(PRUNE_STAMP);
    let age = |p: &Path| {
        std::fs::symlink_metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
    };
    if age(&stamp).is_some_and(|a| a < PRUNE_EVERY) {
        return;
    }
    let _ = std::fs::remove_file(&stamp);
    if private_file(&stamp).is_err() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ours = name
            .strip_prefix("sha512-")
            .is_some_and(|h| h.len() == 128 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let path = e.path();
        let stale = if ours {
            age(&path).is_some_and(|a| a > TARBALL_MAX_AGE)
        } else if name.starts_with(".tmp-") {
            age(&path).is_some_and(|a| a > PRUNE_EVERY)
        } else {
            false
        };
        if stale {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &[u8]) -> Entry {
        Entry {
            etag: Some("\"abc\"".into()),
            last_modified: None,
            body: body.to_vec(),
        }
    }

    fn only_entry_file(root: &Path) -> PathBuf {
        let files: Vec<_> = std::fs::read_dir(entries_dir(root))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files[0].clone()
    }

    #[test]
    fn round_trip_and_keys_are_apart() {
        let dir = tempfile::tempdir().unwrap();
        let anon = Key::new("GET", "http://r/x", "application/json", "anonymous", None);
        let token = Key::new(
            "GET",
            "http://r/x",
            "application/json",
            "//r/:_authToken",
            None,
        );
        store(dir.path(), &anon, &entry(b"{\"a\":1}")).unwrap();
        assert_eq!(load(dir.path(), &anon, 1024), Some(entry(b"{\"a\":1}")));
        assert_eq!(load(dir.path(), &token, 1024), None);
        // The cap applies to what is read back, too.
        assert_eq!(load(dir.path(), &anon, 3), None);
    }

    #[test]
    fn corrupt_truncated_foreign_and_huge_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::new("GET", "http://r/x", "application/json", "anonymous", None);
        let other = Key::new("GET", "http://r/y", "application/json", "anonymous", None);
        store(dir.path(), &key, &entry(b"{\"a\":1}")).unwrap();
        let path = only_entry_file(dir.path());
        let good = std::fs::read(&path).unwrap();

        // Truncated.
        std::fs::write(&path, &good[..good.len() - 2]).unwrap();
        assert_eq!(load(dir.path(), &key, 1024), None);
        // Same length, altered body.
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() = b']';
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(load(dir.path(), &key, 1024), None);
        // Another key's entry copied under this name.
        store(dir.path(), &other, &entry(b"{\"a\":1}")).unwrap();
        let foreign = std::fs::read(entries_dir(dir.path()).join(&other.hex)).unwrap();
        std::fs::write(&path, foreign).unwrap();
        assert_eq!(load(dir.path(), &key, 1024), None);
        // Garbage, an endless header, a huge file.
        std::fs::write(&path, b"\x00\xff garbage").unwrap();
        assert_eq!(load(dir.path(), &key, 1024), None);
        std::fs::write(&path, vec![b'{'; MAX_HEADER * 2]).unwrap();
        assert_eq!(load(dir.path(), &key, 1 << 20), None);
        std::fs::write(&path, vec![b' '; 64 * 1024]).unwrap();
        assert_eq!(load(dir.path(), &key, 1024), None);
        // Restored, it reads again.
        std::fs::write(&path, &good).unwrap();
        assert!(load(dir.path(), &key, 1024).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn entries_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // A pre-existing, world-readable entries directory is tightened.
        std::fs::create_dir_all(entries_dir(dir.path())).unwrap();
        std::fs::set_permissions(
            entries_dir(dir.path()),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let key = Key::new("GET", "http://r/x", "application/json", "anonymous", None);
        store(dir.path(), &key, &entry(b"{}")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&entries_dir(dir.path())), 0o700);
        assert_eq!(mode(&only_entry_file(dir.path())), 0o600);
    }

    fn sri512(bytes: &[u8]) -> String {
        use base64::Engine;
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
        )
    }

    #[test]
    fn tarballs_are_stored_only_when_they_match_and_verified_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let key = TarballKey::from_integrity(&format!("sha1-AAAA {}", sri512(b"tgz"))).unwrap();
        // Not what the integrity names: nothing is written.
        assert!(!store_tarball(dir.path(), &key, b"other").unwrap());
        assert!(!dir.path().join(TARBALLS).exists());
        assert!(store_tarball(dir.path(), &key, b"tgz").unwrap());
        assert_eq!(
            load_tarball(dir.path(), &key, 1024).as_deref(),
            Some(&b"tgz"[..])
        );
        // The size cap applies to reads; the file is kept for a run that allows more.
        assert_eq!(load_tarball(dir.path(), &key, 2), None);
        let path = tarball_path(dir.path(), &key.digests[0]);
        assert!(path.exists());
        // Tampered: a miss, and deleted.
        std::fs::write(&path, b"tgZ").unwrap();
        assert_eq!(load_tarball(dir.path(), &key, 1024), None);
        assert!(!path.exists());
        // A directory or a symlink in its place is a miss, not an error.
        std::fs::create_dir(&path).unwrap();
        assert_eq!(load_tarball(dir.path(), &key, 1024), None);
        std::fs::remove_dir(&path).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
            assert_eq!(load_tarball(dir.path(), &key, 1024), None);
            std::fs::remove_file(&path).unwrap();
        }
        // Without a SHA-512 there is no key at all.
        assert!(TarballKey::from_integrity("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=").is_none());
        assert!(TarballKey::from_integrity("sha512-not base64!").is_none());
        assert!(TarballKey::from_integrity("").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn tarballs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = TarballKey::from_integrity(&sri512(b"tgz")).unwrap();
        store_tarball(dir.path(), &key, b"tgz").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join(TARBALLS)), 0o700);
        assert_eq!(mode(&tarball_path(dir.path(), &key.digests[0])), 0o600);
    }

    #[test]
    fn unused_tarballs_are_pruned_at_most_daily_and_nothing_else_is() {
        use std::time::{Duration, SystemTime};
        let dir = tempfile::tempdir().unwrap();
        let old = TarballKey::from_integrity(&sri512(b"old")).unwrap();
        let used = TarballKey::from_integrity(&sri512(b"used")).unwrap();
        store_tarball(dir.path(), &old, b"old").unwrap();
        store_tarball(dir.path(), &used, b"used").unwrap();
        let tdir = dir.path().join(TARBALLS);
        let foreign = tdir.join("notes.txt");
        std::fs::write(&foreign, b"mine").unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(100 * 24 * 3600);
        for p in [
            tarball_path(dir.path(), &old.digests[0]),
            tarball_path(dir.path(), &used.digests[0]),
            foreign.clone(),
        ] {
            file_ref(&p).unwrap().set_modified(long_ago).unwrap();
        }
        // A read is a use.
        assert!(load_tarball(dir.path(), &used, 1024).is_some());
        // A prune ran at the first store: not again today.
        prune_tarballs(&tdir, SystemTime::now());
        assert!(tarball_path(dir.path(), &old.digests[0]).exists());
        // A day later it does.
        prune_tarballs(&tdir, SystemTime::now() + Duration::from_secs(25 * 3600));
        assert!(!tarball_path(dir.path(), &old.digests[0]).exists());
        assert!(tarball_path(dir.path(), &used.digests[0]).exists());
        assert!(foreign.exists());
    }
}
