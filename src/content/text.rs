//! Small helpers shared by the scanners.

// One entropy and one redaction for every secret detector: see `crate::secrets`.
pub(crate) use crate::secrets::{entropy, redact};

pub(crate) fn distinct(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    bytes.iter().for_each(|&b| seen[b as usize] = true);
    seen.iter().filter(|&&s| s).count()
}

/// A NUL byte in the first 8 KiB: the same test git and grep use to call a file binary.
pub(crate) fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8192)].contains(&0)
}

/// 1-based line number of `offset`, counted incrementally: `from` is a previous (offset, line)
/// pair at or before `offset`, so scanning matches in order stays linear.
pub(crate) fn line_at(data: &[u8], from: (usize, u64), offset: usize) -> u64 {
    let (start, line) = from;
    let end = offset.min(data.len());
    if end <= start {
        return line;
    }
    line + data[start..end].iter().filter(|&&b| b == b'\n').count() as u64
}

pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Lowercased extension of the base name, without the dot.
pub(crate) fn extension(path: &str) -> String {
    let base = basename(path);
    match base.rfind('.') {
        Some(i) if i > 0 => base[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Names that announce minified output (`x.min.js`, `x-min.js`, `x.min.mjs`, `x.min.css`).
pub(crate) fn named_minified(path: &str) -> bool {
    let base = basename(path).to_ascii_lowercase();
    base.contains(".min.") || base.contains("-min.") || base.ends_with(".min")
}

/// True when `body` has an ascending or descending run of `run` consecutive characters
/// (`abcde`, `12345`, `EDCBA`): the mark of a typed-out placeholder, about 1e-6 likely at any
/// position of a random base62 string.
pub(crate) fn has_sequential_run(body: &[u8], run: usize) -> bool {
    let mut up = 1;
    let mut down = 1;
    for w in body.windows(2) {
        up = if w[1] == w[0].wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if w[1] == w[0].wrapping_sub(1) {
            down + 1
        } else {
            1
        };
        if up >= run || down >= run {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(redact("npm_abcdefghijklmnop"), "npm_***");
        // Under 12 characters nothing is shown (the shared rule of `crate::secrets`).
        assert_eq!(redact("hunter2"), "***");
        assert_eq!(redact("abc"), "***");
        assert!(entropy(b"aaaa") < 0.01);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert_eq!(line_at(b"a\nb\nc", (0, 1), 4), 3);
        assert_eq!(extension("lib/x.MJS"), "mjs");
        assert_eq!(extension(".env"), "");
        assert!(named_minified("dist/app.min.js"));
        assert!(!named_minified("dist/admin.js"));
        assert!(has_sequential_run(b"x12345y", 5));
        assert!(has_sequential_run(b"zyxwv", 5));
        assert!(!has_sequential_run(b"a1b2c3d4", 5));
    }
}
