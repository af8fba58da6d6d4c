//! Native code and obfuscated or minified code.
//!
//! Native binaries are recognised by magic number, never by name alone (a renamed ELF is still
//! an ELF): ELF `\x7fELF`; Mach-O `feedface`/`feedfacf` in both byte orders; fat Mach-O
//! `cafebabe`/`cafebabf` with fewer than 20 architectures (a Java class file shares the magic but
//! carries its version, ≥ 45, there); PE `MZ` whose `e_lfanew` points at `PE\0\0`. `.node` files
//! are addons that `require` loads whatever their content.
//!
//! Obfuscation signals, per file, with confidence:
//! * `hex-identifiers`: `_0x1a2b`-style names, javascript-obfuscator's signature, which minifiers
//!   never produce. ≥ 20 occurrences of ≥ 5 distinct names is medium, ≥ 100 high.
//! * `long-lines`: a line over 5,000 characters of code (not a single data string: under 0.5% of
//!   `;{}(),=`) in a JavaScript/TypeScript file. Low when the
//!   name says minified (`.min.js`) or the file carries a `sourceMappingURL` (ordinary build
//!   output), medium otherwise: bundled single-file servers are common and legitimate, so this
//!   says "not reviewable", not "malicious".
//! * `base64-blob` / `hex-blob`: a run of ≥ 1,024 base64 (entropy ≥ 5.0 bits/char) or hex
//!   (≥ 3.5) characters. Low for fonts, images, media and wasm, recognised by a `data:` URI or by
//!   the encoded magic number (`iVBORw0KGgo…` is a PNG), and in css/svg/html/markdown/json;
//!   skipped for inline source maps; high when a JavaScript file holding it also evaluates code
//!   (`eval(`, `new Function(`, `vm.runIn`); medium otherwise.
//!
//! `.map` files are skipped. Known false positives: bundled assets of other formats in JS
//! strings (medium), `eval` elsewhere in a bundle that also embeds data (high), test fixtures. Known false negatives: obfuscation without `_0x` names, payloads in
//! short chunks or other encodings, anything past `max_file_scan`.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::text::{entropy, extension, is_binary, named_minified};
use super::{Confidence, NativeBinary, Obfuscation};

const LONG_LINE: usize = 5_000;
const MIN_BLOB: usize = 1_024;
const CODE_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx"];
const DOC_EXTENSIONS: &[&str] = &[
    "css", "scss", "svg", "html", "htm", "md", "markdown", "json", "txt", "xml",
];

static HEX_IDENT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\b_0x[0-9a-fA-F]{4,}\b").expect("static regex"));

fn magic(data: &[u8]) -> Option<&'static str> {
    let head: [u8; 4] = data.get(..4)?.try_into().ok()?;
    match head {
        [0x7f, b'E', b'L', b'F'] => return Some("elf"),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => return Some("mach-o"),
        [0xca, 0xfe, 0xba, 0xbe | 0xbf] => {
            let n = u32::from_be_bytes(data.get(4..8)?.try_into().ok()?);
            return (1..20).contains(&n).then_some("mach-o-fat");
        }
        _ => {}
    }
    if head[..2] == *b"MZ" {
        let e = u32::from_le_bytes(data.get(0x3c..0x40)?.try_into().ok()?) as usize;
        if data.get(e..e.checked_add(4)?)? == b"PE\0\0" {
            return Some("pe");
        }
    }
    None
}

pub(crate) fn native_kind(file: &str, data: &[u8]) -> Option<NativeBinary> {
    let node_addon = extension(file) == "node";
    let kind = match (magic(data), node_addon) {
        (Some(k), _) => k,
        (None, true) => "node-addon",
        (None, false) => return None,
    };
    Some(NativeBinary {
        file: file.to_string(),
        kind: kind.to_string(),
        node_addon,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memfind(hay, needle).is_some()
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn obfuscation(file: &str, data: &[u8], out: &mut Vec<Obfuscation>) {
    let ext = extension(file);
    if ext == "map" || is_binary(data) {
        return;
    }
    let mut push = |signal: &str, detail: String, confidence| {
        out.push(Obfuscation {
            file: file.to_string(),
            signal: signal.to_string(),
            detail,
            confidence,
        })
    };

    // Hex identifiers.
    let mut count = 0usize;
    let mut names = HashSet::new();
    for m in HEX_IDENT_RE.find_iter(data) {
        count += 1;
        if names.len() < 1000 {
            names.insert(m.as_bytes());
        }
    }
    if count >= 20 && names.len() >= 5 {
        let confidence = if count >= 100 {
            Confidence::High
        } else {
            Confidence::Medium
        };
        push(
            "hex-identifiers",
            format!(
                "{count} `_0x…` identifiers ({} distinct), javascript-obfuscator style",
                names.len()
            ),
            confidence,
        );
    }

    let code = CODE_EXTENSIONS.contains(&ext.as_str());
    if code {
        let mut longest = (0usize, 0u64);
        let mut over = 0usize;
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            if line.len() > LONG_LINE && !is_data_line(line) {
                over += 1;
                if line.len() > longest.0 {
                    longest = (line.len(), i as u64 + 1);
                }
            }
        }
        if over > 0 {
            let build_output = named_minified(file) || contains(data, b"sourceMappingURL");
            let confidence = if build_output {
                Confidence::Low
            } else {
                Confidence::Medium
            };
            push(
                "long-lines",
                format!(
                    "{over} line(s) over {LONG_LINE} characters, longest {} (line {})",
                    longest.0, longest.1
                ),
                confidence,
            );
        }
    }

    if let Some(blob) = largest_blob(data) {
        let evaluates = [&b"eval("[..], b"new Function(", b"vm.runIn"]
            .iter()
            .any(|n| contains(data, n));
        let confidence = if blob.benign_data_uri || DOC_EXTENSIONS.contains(&ext.as_str()) {
            Confidence::Low
        } else if evaluates && code {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let signal = if blob.hex { "hex-blob" } else { "base64-blob" };
        push(
            signal,
            format!(
                "{} encoded characters at byte {} (entropy {:.2} bits/char){}",
                blob.len,
                blob.start,
                blob.entropy,
                if blob.count > 1 {
                    format!(", {} such runs", blob.count)
                } else {
                    String::new()
                }
            ),
            confidence,
        );
    }
}

/// A long line that is one string of data (an embedded image, a hex table) rather than code:
/// almost no code punctuation. The blob check judges those.
fn is_data_line(line: &[u8]) -> bool {
    let punctuation = line
        .iter()
        .filter(|&&b| matches!(b, b';' | b'{' | b'}' | b'(' | b')' | b',' | b'='))
        .count();
    punctuation * 200 < line.len()
}

struct Blob {
    start: usize,
    len: usize,
    hex: bool,
    entropy: f64,
    benign_data_uri: bool,
    count: usize,
}

const B64: [u8; 256] = {
    // 1 = base64 alphabet, 2 = also a hex digit.
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphanumeric() || c == b'+' || c == b'/' {
            t[i] = 1;
        }
        if c.is_ascii_hexdigit() {
            t[i] = 2;
        }
        i += 1;
    }
    t
};

/// The run is base64 of a common image, font or wasm file: its first characters encode the
/// format's magic number (`iVBORw0KGgo` is PNG's `\x89PNG\r\n\x1a\n`), as when a server embeds an
/// icon without a `data:` prefix.
fn encoded_media(run: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"iVBORw0KGgo", // PNG
        b"/9j/",        // JPEG
        b"R0lGOD",      // GIF
        b"UklGR",       // RIFF: WebP, WAV
        b"d09GRg",      // WOFF
        b"d09GMg",      // WOFF2
        b"AAEAAA",      // TrueType
        b"T1RUTw",      // OpenType (CFF)
        b"AGFzbQ",      // WebAssembly
        b"PHN2Zy",      // <svg
        b"SUQz",        // MP3 with ID3
    ];
    PREFIXES.iter().any(|p| run.starts_with(p))
}

/// The largest high-entropy encoded run, ignoring inline source maps.
fn largest_blob(data: &[u8]) -> Option<Blob> {
    let mut best: Option<Blob> = None;
    let mut count = 0;
    let mut i = 0;
    while i < data.len() {
        if B64[data[i] as usize] == 0 {
            i += 1;
            continue;
        }
        let start = i;
        let mut all_hex = true;
        while i < data.len() && B64[data[i] as usize] != 0 {
            all_hex &= B64[data[i] as usize] == 2;
            i += 1;
        }
        let len = i - start;
        if len < MIN_BLOB {
            continue;
        }
        let prefix = &data[start.saturating_sub(64)..start];
        let prefix = prefix.to_ascii_lowercase();
        if contains(&prefix, b"data:application/json") {
            continue;
        }
        let sample = &data[start..start + len.min(64 * 1024)];
        let e = entropy(sample);
        if e < if all_hex { 3.5 } else { 5.0 } {
            continue;
        }
        count += 1;
        if best.as_ref().is_none_or(|b| len > b.len) {
            let benign_data_uri = [
                &b"data:image/"[..],
                b"data:font/",
                b"data:application/font",
                b"data:application/x-font",
                b"data:application/vnd.ms-fontobject",
                b"data:application/wasm",
                b"data:audio/",
                b"data:video/",
            ]
            .iter()
            .any(|p| contains(&prefix, p))
                || encoded_media(&data[start..]);
            best = Some(Blob {
                start,
                len,
                hex: all_hex,
                entropy: e,
                benign_data_uri,
                count: 0,
            });
        }
    }
    best.map(|b| Blob { count, ..b })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics() {
        assert_eq!(magic(b"\x7fELF\x02\x01"), Some("elf"));
        assert_eq!(magic(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]), Some("mach-o"));
        assert_eq!(magic(&[0xfe, 0xed, 0xfa, 0xce]), Some("mach-o"));
        assert_eq!(
            magic(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
            Some("mach-o-fat")
        );
        // Java class file, major version 52.
        assert_eq!(magic(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]), None);
        let mut pe = vec![0u8; 0x90];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        assert_eq!(magic(&pe), Some("pe"));
        // `MZ` text without a PE header, and a lying e_lfanew.
        assert_eq!(magic(b"MZ is a magazine"), None);
        pe[0x3c] = 0xff;
        assert_eq!(magic(&pe), None);
        assert_eq!(magic(b"ab"), None);
    }
}
